#!/bin/sh
# The AVX2 kernels' objects (src/lmm/kernels/*.cpp built with -mavx2 -mfma) may define weak
# symbols, which the linker merges with same-named ones of other objects, only inside their
# renamed Eigen namespace: any other (a std:: template, say) could replace the baseline code
# of the rest of the library with AVX2 code.
set -eu
[ $# -gt 0 ] || { echo "usage: $0 object..."; exit 1; }
for object in "$@"; do
  symbols=$(nm -C --defined-only "$object")
  weak=$(printf '%s\n' "$symbols" | awk '$2 ~ /^[WVui]$/' | grep -v -e 'spiral_eigen_avx2' -e 'DW.ref.__gxx_personality_v0' || true)
  if [ -n "$weak" ]; then
    echo "weak symbols outside the renamed Eigen namespace in $object:"
    echo "$weak"
    exit 1
  fi
done
