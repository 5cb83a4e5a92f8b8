#!/bin/sh
# Builds the Python package's wheel and sdist offline (specification section 8.1) into
# bindings/python/dist/: bindings/python with the library's C++ sources (src/ and include/
# of this checkout, without the CLI in apps/) copied into cpp/, so that the sdist builds on
# any machine with the system libraries. The wheel links the static libraries of the CMake
# build SPIRAL_BUILD_DIR (make python-wheel builds them), which saves compiling them again.
# Usage: SPIRAL_BUILD_DIR=build scripts/python-wheel.sh
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
: "${SPIRAL_BUILD_DIR:=$REPO/build}"
SPIRAL_BUILD_DIR=$(cd "$SPIRAL_BUILD_DIR" && pwd)
export SPIRAL_BUILD_DIR
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

git -C "$REPO" ls-files -z --cached --others --exclude-standard bindings/python | (cd "$REPO" && xargs -0 cp --parents -t "$STAGE")
PKG="$STAGE/bindings/python"
mkdir -p "$PKG/cpp"
cp -R "$REPO/include" "$PKG/cpp/include"
mkdir -p "$PKG/cpp/src"
for module in $(cd "$REPO/src" && ls); do
  cp -R "$REPO/src/$module" "$PKG/cpp/src/$module"
done

OUT="$REPO/bindings/python/dist"
mkdir -p "$OUT"
# --sdist --wheel: both from the staged tree (no network: --no-isolation uses Debian's
# setuptools, wheel and pybind11).
/usr/bin/python3 -m build --no-isolation --sdist --wheel --outdir "$OUT" "$PKG"
ls "$OUT"
