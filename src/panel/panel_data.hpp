// Long data -> the wide matrix of the panel models (one row per patient, one column per
// variable x wave) and its missingness patterns, the unit of FIML (Arbuckle 1996).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "spiral/panel.hpp"

namespace spiral::panel {

// Column j of `y` is variable j % k at wave j / k (wave-major order).
struct WideData {
  std::vector<std::string> vars;
  std::vector<long> waves;
  Eigen::MatrixXd y;      // patients with an observed value x (k * waves); NaN = missing
  long n_dropped = 0;     // patients without any observed value in the window (or group)
  std::vector<std::string> groups;  // with PanelOptions::group: its values in byte order
  std::vector<int> group;           // each row's group (index into groups); empty without groups
  Warnings warnings;

  // The rows of group g (all rows without groups).
  std::vector<long> rows_of(int g) const;
};

// Validates the options against the table and reshapes (specification section 7).
// InputError for unknown columns, fewer than 2 variables or 3 waves, non-integer or
// duplicate sessions, constant variables and waves without any observation.
WideData wide_from_long(const Table& table, const PanelOptions& options);

// The patients sharing one set of observed columns, summarised by their number, the
// mean and the (biased, divisor n) covariance of their observed values, with a factor
// F of that covariance (C = F F', at most min(n, observed) columns) for the FIML gradient.
struct Pattern {
  std::vector<int> observed, missing;
  double n = 0;
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
  Eigen::MatrixXd cov_factor;
};
std::vector<Pattern> missing_patterns(const Eigen::MatrixXd& y);

// Every column as one pattern of all the patients: the available-case means and the
// pairwise-complete covariances (divisor: the pair's count); nullopt when that covariance is
// not positive definite. A model fitted to it costs one complete-data likelihood per
// evaluation instead of one per pattern, and lands near the FIML estimates.
std::optional<Pattern> pairwise_moments(const Eigen::MatrixXd& y);

// The wide data with each variable centred and scaled by the mean and standard deviation of
// all its observed values (every wave alike), on which the models are fitted: the fit then
// does not depend on the variables' units (specification section 7.1), and the optimizer works on
// parameters of comparable size. A model's estimates in the data's units follow by the
// linear map PanelModel::parameter_scales; logL in the data's units is the standardized
// one minus log_jacobian = sum over variables of (observed values) x log(scale).
struct Standardized {
  Eigen::MatrixXd y;
  Eigen::VectorXd center, scale;  // per variable
  double log_jacobian = 0;
};
Standardized standardize(const Eigen::MatrixXd& y, int k);

}  // namespace spiral::panel
