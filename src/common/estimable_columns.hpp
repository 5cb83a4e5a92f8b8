// The columns of a model matrix that R's lm() and lme4 estimate: from left to right, each one
// that is (numerically) a linear combination of the kept columns before it is dropped, as R's
// qr(X, tol = 1e-7) (LINPACK dqrdc2, limited pivoting) moves it to the end (lme4's
// chkRank.drop.cols, lm()'s NA coefficients, metafor's "Redundant predictors dropped").
// Shared by lmm (fixed effects) and meta (moderators).
#pragma once
#include <vector>

#include <Eigen/Dense>

namespace spiral::detail {

inline constexpr double kRankTolerance = 1e-7;  // R's qr(tol = 1e-7)

// The kept columns in order, and an orthonormal basis of their span (Gram-Schmidt).
struct EstimableColumns {
  std::vector<int> kept;
  Eigen::MatrixXd basis;
};

// v minus its projection on the basis' first `count` columns (classical Gram-Schmidt, two
// matrix-vector products per pass). A second pass only when the first cancelled more than
// 1 - 1/sqrt(2) of v's norm (the criterion of Daniel, Gragg, Kaufman & Stewart 1976, Math.
// Comp. 30, 772-795): then "twice is enough" (Giraud et al. 2005, Numer. Math. 101, 87-100).
inline void remove_projection(const Eigen::MatrixXd& basis, Eigen::Index count, Eigen::VectorXd& v) {
  if (count == 0) return;
  const auto b = basis.leftCols(count);
  Eigen::VectorXd coefficients(count);
  for (int pass = 0; pass < 2; ++pass) {
    const double before = v.squaredNorm();
    coefficients.noalias() = b.transpose() * v;
    v.noalias() -= b * coefficients;
    if (2 * v.squaredNorm() >= before) return;
  }
}

inline EstimableColumns estimable_columns(const Eigen::MatrixXd& x) {
  EstimableColumns out;
  out.basis.resize(x.rows(), x.cols());
  Eigen::Index count = 0;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    Eigen::VectorXd v = x.col(j);
    const double norm = v.norm();
    remove_projection(out.basis, count, v);
    if (norm == 0 || v.norm() < kRankTolerance * norm) continue;
    out.basis.col(count++) = v / v.norm();
    out.kept.push_back(static_cast<int>(j));
  }
  out.basis.conservativeResize(Eigen::NoChange, count);
  return out;
}

}  // namespace spiral::detail
