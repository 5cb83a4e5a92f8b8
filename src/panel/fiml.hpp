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

// A direction in which Sigma moves by scale (y_u y_v' + y_v y_u'), y_u and y_v columns u
// and v of a matrix of vectors (scale 1/2 with u = v: y_u y_u').
struct RankTwoDirection {
  long u = 0, v = 0;
  double scale = 1;
};

// tr(D_a K D_b K) for two such directions, from M = Y'KY (K symmetric, Y the vectors):
// 2 s_a s_b (M(u_a, u_b) M(v_a, v_b) + M(u_a, v_b) M(v_a, u_b)).
inline double direction_trace(const Eigen::MatrixXd& m, const RankTwoDirection& a, const RankTwoDirection& b) {
  return 2 * a.scale * b.scale * (m(a.u, b.u) * m(a.v, b.v) + m(a.u, b.v) * m(a.v, b.u));
}

// The Hessian of logL at (mu, Sigma) with respect to mu and to the coefficients t of
// Sigma + sum_i t_i D_i, D_i the directions (columns of `vectors`): (p + d) x (p + d), the means
// first. Per pattern, with S = Sigma_oo, P = S^-1, d = its mean - mu_o, Q = C + d d' and W W' =
// P Q P (matrix calculus, Magnus & Neudecker 1999, ch. 9 and 15):
//   d2 logL / dmu dmu'  = -n P,    d2 logL / dmu dt_i = -n P D_i P d,
//   d2 logL / dt_i dt_j = n/2 [tr(D_i P D_j P) - 2 tr(D_i P D_j W W')],
// whose traces follow from the q x q matrices Y'PY and (W'Y)'(W'Y) of the pattern's rows of the
// vectors: O(p_o^2 q) per pattern instead of a gradient per direction. NaN where some Sigma_oo
// is not positive definite.
Eigen::MatrixXd fiml_hessian(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu,
                             const Eigen::MatrixXd& sigma, const Eigen::MatrixXd& vectors,
                             const std::vector<RankTwoDirection>& directions);

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
