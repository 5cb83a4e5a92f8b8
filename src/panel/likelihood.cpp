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

Eigen::VectorXd starting_values(const PanelModel& model, const Eigen::MatrixXd& y) {
  const Eigen::VectorXd simple = model.start(y);
  const std::optional<Pattern> pairwise = pairwise_moments(y);
  if (!pairwise) return simple;
  const std::vector<Pattern> one{*pairwise};
  // From a scaled identity: the complete-data information at the simple values (28 implied
  // moments and their products) costs more than the extra pairwise evaluations.
  const Minimum fit = descend(likelihood_objective(model, one, pairwise->n), simple, 1e-6);
  return fit.converged ? fit.x : simple;
}

}  // namespace spiral::panel
