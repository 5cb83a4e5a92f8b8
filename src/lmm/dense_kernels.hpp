// The three level-3 steps of a right-looking blocked Cholesky factorization (Golub & Van
// Loan 2013, Matrix Computations, 4th ed., section 4.2.9) on column-major storage with
// leading dimension ld. One set is compiled for the baseline x86-64 instruction set and one
// for AVX2 + FMA (src/lmm/kernels/dense_kernels.cpp). No Eigen types here: the AVX2 build
// renames Eigen's namespace.
#pragma once

namespace spiral::lmm_detail {

struct DenseKernels {
  // The lower Cholesky factor of the n x n block at a, in its lower triangle; false when the
  // block is not positive definite.
  bool (*factor_block)(double* a, long n, long ld);
  // rows x n panel := panel L^-T, with L the factored n x n block at l.
  void (*solve_panel)(const double* l, long n, double* panel, long rows, long ld);
  // The lower triangle of the rows x rows block at c minus P P', P = the rows x n block at p.
  void (*subtract_square)(const double* p, long rows, long n, double* c, long ld);
  // The rows x cols block at c minus P Q', P = rows x n at p, Q = cols x n at q.
  void (*subtract_product)(const double* p, long rows, const double* q, long cols, long n, double* c, long ld);
};

const DenseKernels& baseline_kernels();
const DenseKernels& avx2_kernels();  // in optimised x86-64 builds only (SPIRAL_AVX2_KERNELS)
bool avx2_supported();               // built, and the processor has AVX2 and FMA

}  // namespace spiral::lmm_detail
