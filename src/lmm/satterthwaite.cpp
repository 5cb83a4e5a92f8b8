#include "lmm/satterthwaite.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

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

// 2 H^+ (Moore-Penrose inverse over the positive eigenvalues), with lmerTest's warnings. The
// caller passes H in scale-free parameters, so that the eigenvalue tolerance means the same in
// any unit of y.
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

PairFunction criterion_r2_variances(DevianceModel& model, bool reml, bool full_vcov) {
  return [&model, reml, full_vcov](const std::vector<double>& params) {
    const Evaluation e = model.evaluate(params);
    const Eigen::MatrixXd unscaled = model.unscaled_vcov(e);
    const Eigen::Index entries = full_vcov ? unscaled.size() : unscaled.rows();
    Eigen::VectorXd r2_and_variances(entries + 1);
    r2_and_variances(0) = e.ok ? e.r2 : std::numeric_limits<double>::quiet_NaN();
    if (full_vcov) r2_and_variances.tail(entries) = unscaled.reshaped();
    else r2_and_variances.tail(entries) = unscaled.diagonal();
    return ValueAndVector(model.criterion(e, reml), std::move(r2_and_variances));
  };
}

Differences satterthwaite_derivatives(DevianceModel& model, bool reml, const std::vector<double>& params,
                                      bool full_vcov) {
  const PairFunction f = criterion_r2_variances(model, reml, full_vcov);
  return richardson({central_differences(f, params, 8), central_differences(f, params, 16),
                     central_differences(f, params, 32)});
}

// Kuznetsova, Brockhoff & Christensen (2017), eqs. 5-7: for a contrast l,
// df = 2 Var(l'beta)^2 / (g' A g), where A = 2 H^-1 is the asymptotic covariance of
// the variance parameters (theta, sigma) from the Hessian H of the deviance, and g the
// gradient of Var(l'beta) = sigma^2 l'(R_X' R_X)^-1 l with respect to them.
// lmerTest differentiates the deviance D numerically in (theta, sigma) at sigma-hat; here the
// differences of the profiled criterion serve. With D = a(theta) + r2(theta) / sigma^2 +
// c log(2 pi sigma^2) (c = n for ML, n - p for REML) and the profiled criterion
// P = a + c log r2 + const, at sigma^2 = r2 / c the theta block is
// H_theta,theta = Hessian(P) + c (d r2 / d theta)(d r2 / d theta)' / r2^2 (the second
// derivatives of r2 cancel), H_theta,sigma = -2 (d r2 / d theta) / sigma^3 and
// H_sigma,sigma = 6 r2 / sigma^4 - 2 c / sigma^2; d Var / d sigma = 2 Var / sigma.
VarianceParameters variance_parameters(const Differences& d, double c, Warnings& warnings) {
  const Eigen::Index t = d.gradient.size();
  const double r2 = d.at.second(0), sigma = std::sqrt(r2 / c);
  const Eigen::VectorXd r2_gradient = d.jacobian.row(0).transpose();
  Eigen::MatrixXd hessian(t + 1, t + 1);
  hessian.topLeftCorner(t, t) = d.hessian + c * r2_gradient * r2_gradient.transpose() / (r2 * r2);
  hessian.col(t).head(t) = -2 * r2_gradient / (sigma * sigma * sigma);
  hessian.row(t).head(t) = hessian.col(t).head(t).transpose();
  hessian(t, t) = 6 * r2 / std::pow(sigma, 4) - 2 * c / (sigma * sigma);
  // lmerTest takes H in (theta, sigma) as they are, so its eigenvalue check and its df depend
  // on the unit of y (y in units of 1e5 gives a "close to zero" warning and df of 1e21). Here
  // H is taken in (theta, sigma / sigma-hat), whose covariance is scaled back: the same A when
  // H is well conditioned, and free of y's unit when it is not.
  Eigen::VectorXd scale = Eigen::VectorXd::Ones(t + 1);
  scale(t) = sigma;
  const Eigen::MatrixXd scale_free = scale.asDiagonal() * hessian * scale.asDiagonal();
  return {sigma, scale.asDiagonal() * varpar_covariance(scale_free, warnings) * scale.asDiagonal()};
}

double contrast_df(const VarianceParameters& v, double u, const Eigen::VectorXd& u_gradient) {
  const Eigen::Index t = u_gradient.size();
  const double variance = v.sigma * v.sigma * u;
  Eigen::VectorXd gradient(t + 1);  // of Var(l'beta) in (theta, sigma)
  gradient.head(t) = v.sigma * v.sigma * u_gradient;
  gradient(t) = 2 * variance / v.sigma;
  return 2 * variance * variance / gradient.dot(v.covariance * gradient);
}

std::vector<double> satterthwaite_df(const Differences& d, double c, Warnings& warnings) {
  const VarianceParameters v = variance_parameters(d, c, warnings);
  std::vector<double> df;
  for (Eigen::Index i = 1; i < d.at.second.size(); ++i)
    df.push_back(contrast_df(v, d.at.second(i), d.jacobian.row(i).transpose()));
  return df;
}

}  // namespace spiral::lmm_detail
