// Full-information maximum likelihood for multivariate normal data with missing values
// (Arbuckle 1996; Enders 2010, eq. 3.3), evaluated per missingness pattern from one factor
// of the full Sigma (partitioned-inverse identities; see fiml.cpp), its gradient with
// respect to the implied moments, the saturated model (h1) by EM, and the independence
// baseline.
#pragma once
#include <vector>

#include <Eigen/Dense>

#include "panel/panel_data.hpp"

namespace spiral::panel {

// logL = sum over patterns of -n/2 [p_o log(2 pi) + log|S_oo| + tr(S_oo^-1 (C + d d'))],
// with C the pattern's covariance and d = its mean - mu_o. `ok` is false when a
// pattern's Sigma_oo is not positive definite. With want_gradient, d_mu = dlogL/dmu and
// d_sigma = G with dlogL = tr(G dSigma) for symmetric dSigma:
// G_oo = sum n/2 (S^-1 (C + d d') S^-1 - S^-1), d_mu_o = sum n S^-1 d.
struct FimlValue {
  bool ok = false;
  double loglik = 0;
  Eigen::VectorXd d_mu;
  Eigen::MatrixXd d_sigma;
};
FimlValue fiml_loglik(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu, const Eigen::MatrixXd& sigma,
                      bool want_gradient);

// sum over patterns of n S_oo^-1 placed in the (o, o) block: the Hessian of -logL with
// respect to mu, in which logL is quadratic. NaN where some Sigma_oo is not positive definite.
Eigen::MatrixXd mean_information(const std::vector<Pattern>& patterns, const Eigen::MatrixXd& sigma);

// The unrestricted FIML estimates of mu and Sigma by the EM algorithm (Little & Rubin
// 2002, section 11.2), started as lavaan does (observed means, diagonal observed variances).
struct Saturated {
  bool converged = false;
  Eigen::VectorXd mu;
  Eigen::MatrixXd sigma;
  double loglik = 0;
};
Saturated saturated_fiml(const std::vector<Pattern>& patterns, const Eigen::MatrixXd& y);

// The independence (baseline) model: free means and variances, no covariances. Its FIML
// estimates are each column's observed mean and ML variance, so logL sums univariate terms.
double independence_loglik(const Eigen::MatrixXd& y);

}  // namespace spiral::panel
