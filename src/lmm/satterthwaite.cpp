#include "lmm/satterthwaite.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include "lmm/numeric_derivatives.hpp"

namespace spiral::lmm_detail {

namespace {

constexpr double kEigenTolerance = 1e-8;  // lmerTest's as_lmerModLT(tol = 1e-8)

std::string eigenvalue_list(const std::vector<double>& values) {
  std::string text;
  for (double v : values) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%s%1.1e", text.empty() ? "" : " ", v);
    text += buffer;
  }
  return text;
}

// 2 H^+ (Moore-Penrose inverse over the positive eigenvalues), with lmerTest's warnings.
Eigen::MatrixXd varpar_covariance(const Eigen::MatrixXd& hessian, Warnings& warnings) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(hessian);
  std::vector<double> negative, zero;
  Eigen::MatrixXd inverse = Eigen::MatrixXd::Zero(hessian.rows(), hessian.cols());
  for (Eigen::Index i = 0; i < hessian.rows(); ++i) {
    const double value = eig.eigenvalues()(i);
    if (value < -kEigenTolerance) negative.push_back(value);
    else if (value < kEigenTolerance) zero.push_back(value);
    else inverse += eig.eigenvectors().col(i) * eig.eigenvectors().col(i).transpose() / value;
  }
  const auto plural = [](std::size_t n) { return n > 1 ? "eigenvalues" : "eigenvalue"; };
  if (!negative.empty())
    warnings.push_back("Model failed to converge with " + std::to_string(negative.size()) + " negative " +
                       plural(negative.size()) + ": " + eigenvalue_list(negative));
  if (!zero.empty())
    warnings.push_back("Model may not have converged with " + std::to_string(zero.size()) + " " +
                       plural(zero.size()) + " close to zero: " + eigenvalue_list(zero));
  return 2 * inverse;
}

}  // namespace

// Kuznetsova, Brockhoff & Christensen (2017), eqs. 5-7: for the contrast e_i,
// df_i = 2 Var(beta_i)^2 / (g_i' A g_i), where A = 2 H^-1 is the asymptotic covariance of
// the variance parameters (theta, sigma) from the Hessian H of the deviance, and g_i the
// gradient of Var(beta_i) = sigma^2 [(R_X' R_X)^-1]_ii with respect to them.
// lmerTest differentiates numerically in (theta, sigma); sigma enters in closed form, so only
// theta is differentiated here: the deviance is D = a(theta) + r2(theta) / sigma^2 +
// c log(2 pi sigma^2) with c = n (ML) or n - p (REML), hence
// H_theta,sigma = -2 (d r2 / d theta) / sigma^3, H_sigma,sigma = 6 r2 / sigma^4 - 2 c / sigma^2
// and d Var(beta) / d sigma = 2 Var(beta) / sigma. The theta derivatives of r2 and of
// (R_X' R_X)^-1 come from the same evaluations as the Hessian's diagonal.
std::vector<double> satterthwaite_df(DevianceModel& model, const std::vector<double>& params, double sigma,
                                     bool reml, Warnings& warnings) {
  const PairFunction deviance_r2_vcov = [&](const std::vector<double>& p) {
    const Evaluation e = model.evaluate(p);
    const Eigen::MatrixXd u = model.unscaled_vcov(e);
    Eigen::VectorXd r2_and_u(u.size() + 1);
    r2_and_u(0) = e.ok ? e.r2 : std::numeric_limits<double>::quiet_NaN();
    r2_and_u.tail(u.size()) = Eigen::Map<const Eigen::VectorXd>(u.data(), u.size());
    return ValueAndVector(model.deviance_at_sigma(e, sigma, reml), std::move(r2_and_u));
  };
  const Eigen::Index t = static_cast<Eigen::Index>(params.size());
  const HessianAndJacobian theta_part = richardson_hessian(deviance_r2_vcov, params);

  const Evaluation at = model.evaluate(params);
  const double c = reml ? model.n_obs() - model.n_fixed() : model.n_obs();
  Eigen::MatrixXd hessian(t + 1, t + 1);
  hessian.topLeftCorner(t, t) = theta_part.hessian;
  hessian.col(t).head(t) = -2 * theta_part.jacobian.row(0).transpose() / (sigma * sigma * sigma);
  hessian.row(t).head(t) = hessian.col(t).head(t).transpose();
  hessian(t, t) = 6 * at.r2 / std::pow(sigma, 4) - 2 * c / (sigma * sigma);
  const Eigen::MatrixXd A = varpar_covariance(hessian, warnings);

  const Eigen::MatrixXd vcov = sigma * sigma * model.unscaled_vcov(at);
  Eigen::MatrixXd jacobian(vcov.size(), t + 1);
  jacobian.leftCols(t) = sigma * sigma * theta_part.jacobian.bottomRows(vcov.size());
  jacobian.col(t) = Eigen::Map<const Eigen::VectorXd>(vcov.data(), vcov.size()) * (2 / sigma);
  const Eigen::Index p = vcov.rows();
  std::vector<double> df;
  for (Eigen::Index i = 0; i < p; ++i) {
    const Eigen::VectorXd gradient = jacobian.row(i * p + i).transpose();
    const double denominator = gradient.dot(A * gradient);
    df.push_back(2 * vcov(i, i) * vcov(i, i) / denominator);
  }
  return df;
}

}  // namespace spiral::lmm_detail
