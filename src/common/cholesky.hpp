// The lower Cholesky factor of a small symmetric matrix in place, by plain loops: below a few
// dozen columns Eigen's LLT costs several times its arithmetic (the mixed models' Schur
// complement and rest block at every deviance evaluation, the FIML likelihood's pattern blocks).
#pragma once
#include <cmath>

namespace spiral::detail {

// Column-major n x n with leading dimension ld; reads and writes the lower triangle only,
// right-looking so that every inner loop runs down a column. False when a pivot is not
// positive (or NaN): the matrix is not positive definite.
inline bool cholesky_in_place(double* l, long n, long ld) {
  for (long j = 0; j < n; ++j) {
    double* const column = l + j * ld;
    if (!(column[j] > 0)) return false;
    column[j] = std::sqrt(column[j]);
    for (long i = j + 1; i < n; ++i) column[i] /= column[j];
    for (long c = j + 1; c < n; ++c) {
      double* const target = l + c * ld;
      for (long i = c; i < n; ++i) target[i] -= column[i] * column[c];
    }
  }
  return true;
}

}  // namespace spiral::detail
