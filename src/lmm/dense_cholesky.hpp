// The lower Cholesky factor of a large dense symmetric matrix in place, blocked and shared
// among threads: the rest block of crossed random effects (InstEval's 1,142 lecturers and
// departments) is factored at every evaluation of the deviance.
#pragma once
#include <vector>

#include <Eigen/Dense>

#include "lmm/dense_kernels.hpp"

namespace spiral::lmm_detail {

// The kernel sets this build and processor can run: the baseline one, then the AVX2 one if any.
std::vector<const DenseKernels*> usable_kernel_sets();

// Factors the lower triangle of a (the strict upper triangle is neither read nor written)
// on up to `threads` threads (0: as many as pay for a matrix of this size) with the given
// kernels (null: AVX2 + FMA when the processor has them). False when a is not positive
// definite.
bool dense_cholesky(Eigen::Ref<Eigen::MatrixXd> a, unsigned threads = 0, const DenseKernels* kernels = nullptr);

}  // namespace spiral::lmm_detail
