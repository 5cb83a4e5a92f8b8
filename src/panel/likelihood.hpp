// The function fit_panel minimises and where it starts: -logL / N of the FIML likelihood
// (the scale lavaan optimises) as a function of the model's free parameters.
#pragma once
#include <vector>

#include "panel/optimize.hpp"
#include "panel/panel_data.hpp"
#include "panel/panel_model.hpp"

namespace spiral::panel {

// -logL / n over the patterns and its gradient; +infinity where some pattern's implied
// covariance is not positive definite. Keeps references to model and patterns.
Objective likelihood_objective(const PanelModel& model, const std::vector<Pattern>& patterns, double n);

// The Hessian entries of that objective known in closed form (fiml_hessian): among the means
// and the covariance parameters in which Sigma is linear, i.e. all but the lagged effects, whose
// columns alone are differenced (4 gradients instead of 28 for two variables and 7 waves).
ExactBlock closed_form_hessian(const PanelModel& model, const std::vector<Pattern>& patterns, double n);

// The model's simple starting values (PanelModel::start) carried to the model's fit to the
// pairwise moments of y (pairwise_moments: one complete-data likelihood per evaluation
// instead of one per missingness pattern), which lies near the FIML estimates; the simple
// values when the pairwise covariance is not positive definite or that fit fails.
Eigen::VectorXd starting_values(const PanelModel& model, const Eigen::MatrixXd& y);

}  // namespace spiral::panel
