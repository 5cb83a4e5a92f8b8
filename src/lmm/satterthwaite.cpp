#include "lmm/satterthwaite.hpp"

#include <cmath>
#include <cstdio>

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
std::vector<double> satterthwaite_df(DevianceModel& model, const std::vector<double>& params, double sigma,
                                     bool reml, Warnings& warnings) {
  std::vector<double> varpar = params;
  varpar.push_back(sigma);
  const auto split = [](const std::vector<double>& v) {
    return std::make_pair(std::vector<double>(v.begin(), v.end() - 1), v.back());
  };
  const ScalarFunction deviance = [&](const std::vector<double>& v) {
    const auto [p, s] = split(v);
    return model.deviance_at_sigma(model.evaluate(p), s, reml);
  };
  const VectorFunction covariance = [&](const std::vector<double>& v) {
    const auto [p, s] = split(v);
    const Eigen::MatrixXd vcov = s * s * model.unscaled_vcov(model.evaluate(p));
    return Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(vcov.data(), vcov.size()));
  };
  const Eigen::MatrixXd A = varpar_covariance(richardson_hessian(deviance, varpar), warnings);
  const Eigen::MatrixXd jacobian = richardson_jacobian(covariance, varpar);
  const Eigen::MatrixXd vcov = sigma * sigma * model.unscaled_vcov(model.evaluate(params));
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
