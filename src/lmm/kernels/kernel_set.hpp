// Included first by every file of src/lmm/kernels/, which are compiled twice: for the
// baseline instruction set and, with SPIRAL_KERNELS_AVX2, with -mavx2 -mfma. In the AVX2 build
// Eigen is renamed, so that its template instantiations (with AVX code) cannot stand in for
// the baseline ones of the rest of the library when the linker merges identical symbols.
// SPIRAL_KERNEL_SET(name) names a set's entry point: baseline_name or avx2_name.
#pragma once
#ifdef SPIRAL_KERNELS_AVX2
#define Eigen spiral_eigen_avx2
#define SPIRAL_KERNEL_SET(name) avx2_##name
#else
#define SPIRAL_KERNEL_SET(name) baseline_##name
#endif
#include <Eigen/Dense>
