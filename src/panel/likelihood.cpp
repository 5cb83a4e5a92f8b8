#include "panel/likelihood.hpp"

#include <limits>
#include <optional>

#include "panel/fiml.hpp"

namespace spiral::panel {

Objective likelihood_objective(const PanelModel& model, const std::vector<Pattern>& patterns, double n) {
  return [&model, &patterns, n](const Eigen::VectorXd& theta, Eigen::VectorXd* gradient) {
    const PanelModel::Moments m = model.implied(theta);
    const FimlValue value = fiml_loglik(patterns, m.mu, m.sigma, gradient != nullptr);
    if (!value.ok) return std::numeric_limits<double>::infinity();
    if (gradient) *gradient = -model.gradient(theta, value.d_mu, value.d_sigma) / n;
    return -value.loglik / n;
  };
}

ExactBlock closed_form_hessian(const PanelModel& model, const std::vector<Pattern>& patterns, double n) {
  ExactBlock exact;
  for (long j = 0; j < model.n_means(); ++j) exact.indices.push_back(j);
  const std::vector<long> linear = model.linear_covariances(Eigen::VectorXd::Zero(model.n_parameters())).parameters;
  exact.indices.insert(exact.indices.end(), linear.begin(), linear.end());
  exact.block = [&model, &patterns, n](const Eigen::VectorXd& theta) -> Eigen::MatrixXd {
    const PanelModel::Moments m = model.implied(theta);
    const PanelModel::LinearCovariances at = model.linear_covariances(theta);
    return -fiml_hessian(patterns, m.mu, m.sigma, at.vectors, at.directions) / n;  // in exact.indices' order
  };
  return exact;
}

Eigen::VectorXd starting_values(const PanelModel& model, const Eigen::MatrixXd& y) {
  const Eigen::VectorXd simple = model.start(y);
  const std::optional<Pattern> pairwise = pairwise_moments(y);
  if (!pairwise) return simple;
  const std::vector<Pattern> one{*pairwise};
  // From a scaled identity: the complete-data information at the simple values costs more
  // than the extra pairwise evaluations (power: 1.484G against 1.472G instructions). Only roughly
  // (largest |gradient| of -logL / N below 0.1): the pairwise optimum is not the FIML one, and
  // the FIML steps from a rough start cost less than the pairwise steps to a precise one
  // (power analysis: 1.632G -> 1.585G instructions per replication against 1e-6).
  const Minimum fit = descend(likelihood_objective(model, one, pairwise->n), simple, 1e-1);
  return fit.converged ? fit.x : simple;
}

}  // namespace spiral::panel
