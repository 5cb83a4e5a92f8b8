#!/bin/sh
# The AVX2 kernels' object (src/lmm/kernels/dense_kernels.cpp built with -mavx2 -mfma) may
# define weak symbols, which the linker merges with same-named ones of other objects, only
# inside its renamed Eigen namespace: any other (a std:: template, say) could replace the
# baseline code of the rest of the library with AVX2 code.
set -eu
weak=$(nm -C --defined-only "$1" | awk '$2 ~ /^[WVui]$/' | grep -v -e 'spiral_eigen_avx2' -e 'DW.ref.__gxx_personality_v0' || true)
if [ -n "$weak" ]; then
  echo "weak symbols outside the renamed Eigen namespace in $1:"
  echo "$weak"
  exit 1
fi
