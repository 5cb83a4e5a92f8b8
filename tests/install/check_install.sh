#!/bin/sh
# Installs the build tree into a scratch prefix, builds tests/install/consumer against it with
# find_package(spiral) and checks that it reproduces lme4's REML criterion of
# lmer(Reaction ~ Days + (Days | Subject), sleepstudy) (tests/reference/lmm/sleepstudy_reml.json,
# made by tests/reference/lmm.R) to the tolerance of docs/tolerances.md (kLmmCriterion, 1e-6).
# Usage: check_install.sh BUILD_DIR TESTS_DIR CXX_COMPILER
set -eu
build=$1 tests=$2 cxx=$3
scratch=$build/install-check
rm -rf "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" > "$scratch.log"
cmake -S "$tests/install/consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$scratch/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release >> "$scratch.log"
cmake --build "$scratch/consumer" >> "$scratch.log"
got=$("$scratch/consumer/fit_sleepstudy" "$tests/data/lmm/sleepstudy.csv")
want=$(sed -n 's/.*"criterion": *\([0-9.eE+-]*\).*/\1/p' "$tests/reference/lmm/sleepstudy_reml.json")
awk -v got="$got" -v want="$want" 'BEGIN {
  d = got - want; if (d < 0) d = -d
  if (d <= 1e-6 * want) { print "REML criterion " got " (lme4 " want ")"; exit 0 }
  print "REML criterion " got ", lme4 " want; exit 1 }'
