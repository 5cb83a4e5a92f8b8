// Internals of the meta-analysis engine shared by its translation units.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "spiral/meta.hpp"

namespace spiral::meta_detail {

// The data of one rma.uni fit: effect sizes, sampling variances, model matrix.
struct Design {
  Eigen::VectorXd y, v;
  Eigen::MatrixXd x;
  std::vector<std::string> names;  // column names of x ("intrcpt", moderators)
  bool intercept = true;           // x has a column of ones (metafor's int.incl)
  int k() const { return static_cast<int>(y.size()); }
  int p() const { return static_cast<int>(x.cols()); }
  bool intercept_only() const { return p() == 1 && intercept; }
};

// An intercept-only design.
Design intercept_design(const std::vector<double>& yi, const std::vector<double>& vi);
// The design without row i (leave-one-out refits).
Design without_row(const Design& design, int row);

// Weighted least squares of y on x with weights w: the quantities of metafor's
// P = W - W X (X'WX)^-1 X'W that the estimators need (Viechtbauer 2005, eqs. 5-9).
struct WeightedFit {
  Eigen::MatrixXd xtwx_inv;  // (X'WX)^-1
  Eigen::VectorXd beta;
  Eigen::VectorXd residual;  // y - X beta
  double rss = 0;            // Y'PY = sum w (y - X beta)^2
};
WeightedFit weighted_fit(const Design& design, const Eigen::VectorXd& w);
// P itself (k × k), for the closed-form standard errors of tau².
Eigen::MatrixXd projection_matrix(const Design& design, const Eigen::VectorXd& w, const WeightedFit& fit);

// Q(tau²) = Y'P(tau²)Y, the generalized Q statistic of the Q-profile (Viechtbauer 2007).
double q_statistic(const Design& design, double tau2);

// tau² and its standard error by one of rma.uni's estimators.
struct TauEstimate {
  double tau2 = 0, se = NA;
  Warnings warnings;
};
TauEstimate estimate_tau2(const Design& design, const std::string& method);

// The full fit (coefficients, tests, heterogeneity; optionally tau² CI, R², PI).
struct FitSettings {
  std::string method = "REML", test = "z";
  double level = 95;
  bool tau2_ci = true;
  bool r2 = true;
};
MetaResult fit_design(const Design& design, const FitSettings& settings);

// Distributions (Boost.Math): upper tails and quantiles as R's p*/q* functions.
double normal_upper(double z);              // pnorm(z, lower = FALSE)
double normal_quantile_upper(double a);     // qnorm(a, lower = FALSE)
double t_upper(double t, double df);        // pt(t, df, lower = FALSE)
double t_quantile_upper(double a, double df);
double chisq_upper(double x, double df);    // pchisq(x, df, lower = FALSE)
double chisq_quantile(double a, double df); // qchisq(a, df)
double chisq_quantile_upper(double a, double df);
double f_upper(double x, double df1, double df2);

// R's uniroot() (Brent's zeroin as R_zeroin2, tol = .Machine$double.eps^0.25) on
// [lower, upper] where f changes sign. Returns NaN when it does not converge in maxiter.
double uniroot(const std::function<double(double)>& f, double lower, double upper, int maxiter,
               double tol = 1.220703125e-4);

// R's mad(): 1.4826 * median(|x - median(x)|).
double mad(const Eigen::VectorXd& x);

// "x1 + x2" or "~ x1 + x2" as the one-sided formula text of the moderators.
std::string moderator_formula(const std::string& mods);

// Diagnostics (diagnostics.cpp), each run on the design of a finished fit.
std::vector<LeaveOneOutRow> leave_one_out(const Design& design, const FitSettings& settings,
                                          const std::vector<std::string>& slab);
std::vector<InfluenceRow> influence(const Design& design, const FitSettings& settings, const MetaResult& fit);
EggerTest egger_test(const Design& design, const FitSettings& settings);
TrimFillResult trim_and_fill(const Design& design, const FitSettings& settings);

}  // namespace spiral::meta_detail
