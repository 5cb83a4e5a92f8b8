#!/bin/sh
# Installs the Debian 12 packages spiral needs, and only those that are missing.
# Usage: scripts/install-deps.sh [build|test|r|python|reference|package|all]   (default: build)
#   build      compilers' libraries for the C++ library, CLI, tests and benchmarks
#   test       + what the tests use beyond the build: LibreOffice Writer (report.docx opens and
#              converts to PDF), unzip (the tests read report.docx's XML)
#   r          + what `make r` needs (R, Rcpp)
#   python     + what `make python` needs (pybind11, numpy, pandas, pip)
#   reference  + the R packages that produce reference values and side-by-side benchmarks
#   package    + what `make r-package` and `make python-wheel` need (roxygen2, knitr, rmarkdown, python3-build),
#              and R CMD check --as-cran of the tarball (qpdf; checkbashisms from devscripts)
set -eu

BUILD="cmake make g++ pkg-config libeigen3-dev libnlopt-cxx-dev libboost-dev \
libcli11-dev nlohmann-json3-dev libfmt-dev libtomlplusplus-dev libreadstat-dev libsqlite3-dev \
libcairo2-dev libzip-dev libgtest-dev libbenchmark-dev libopenmpi-dev openmpi-bin clang libclang-rt-14-dev"
R_PKGS="r-base-core r-base-dev r-cran-rcpp r-cran-testthat r-cran-jsonlite r-cran-generics r-cran-nlme"
PY_PKGS="python3 python3-dev python3-pybind11 python3-numpy python3-pandas python3-pytest python3-setuptools python3-pip python3-wheel"
PACKAGE_PKGS="r-cran-roxygen2 r-cran-knitr r-cran-rmarkdown pandoc qpdf devscripts python3-build python3-venv"
TEST_PKGS="libreoffice-writer unzip"
REF_PKGS="r-base-core r-cran-lme4 r-cran-lmertest r-cran-nlme r-cran-metafor r-cran-lavaan r-cran-haven r-cran-rsqlite r-cran-jsonlite python3-statsmodels time"

case "${1:-build}" in
  build) want="$BUILD" ;;
  test) want="$BUILD $TEST_PKGS" ;;
  r) want="$BUILD $R_PKGS" ;;
  python) want="$BUILD $PY_PKGS" ;;
  reference) want="$BUILD $REF_PKGS" ;;
  package) want="$BUILD $R_PKGS $PY_PKGS $PACKAGE_PKGS" ;;
  all) want="$BUILD $TEST_PKGS $R_PKGS $PY_PKGS $REF_PKGS $PACKAGE_PKGS" ;;
  *) echo "usage: $0 [build|test|r|python|reference|package|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
