#!/bin/sh
# Builds the Python package's wheel and sdist offline (specification section 8.1) into
# bindings/python/dist/: bindings/python with the library's C++ sources (src/ and include/
# of this checkout as committed, without the CLI in apps/) copied into cpp/, so that the sdist builds on
# any machine with the system libraries. The wheel links the static libraries of the CMake
# build SPIRAL_BUILD_DIR (make python-wheel builds them), which saves compiling them again.
# Usage: SPIRAL_BUILD_DIR=build scripts/python-wheel.sh
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
: "${SPIRAL_BUILD_DIR:=$REPO/build}"
SPIRAL_BUILD_DIR=$(cd "$SPIRAL_BUILD_DIR" && pwd)
# the wheel compiles against the headers of the checkout whose build it links (setup.py's
# default, two levels above the staged copy, has none)
SPIRAL_REPO=$REPO
export SPIRAL_BUILD_DIR SPIRAL_REPO
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

git -C "$REPO" ls-files -z --cached --others --exclude-standard bindings/python | (cd "$REPO" && xargs -0 cp --parents -t "$STAGE")
PKG="$STAGE/bindings/python"
# The library as committed (HEAD): others' work in progress in the work tree stays out.
mkdir -p "$PKG/cpp"
git -C "$REPO" archive HEAD include src | tar -x -C "$PKG/cpp"

OUT="$REPO/bindings/python/dist"
mkdir -p "$OUT"
# --sdist --wheel: both from the staged tree (no network: --no-isolation uses Debian's
# setuptools, wheel and pybind11).
/usr/bin/python3 -m build --no-isolation --sdist --wheel --outdir "$OUT" "$PKG"
ls "$OUT"
