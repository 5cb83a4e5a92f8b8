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

// Each patient's score, the gradient of his own FIML log-likelihood with respect to the
// parameters (rows: patients of y, NaN = missing): with S = Sigma_oo, P = S^-1, d = y_o - mu_o,
// dlogL_i/dmu_o = P d and dlogL_i = tr(G_i dSigma) with G_i = (P d d' P - P) / 2 on the observed
// block, carried to the parameters by PanelModel::gradient. Their cross-product is the "meat"
// of lavaan's MLR sandwich (first-order information; Yuan & Bentler 2000; Savalei 2010).
Eigen::MatrixXd casewise_scores(const PanelModel& model, const Eigen::MatrixXd& y, const Eigen::VectorXd& theta);

}  // namespace spiral::panel
