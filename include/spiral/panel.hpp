// `spiral panel`: the random-intercept cross-lagged panel model (RI-CLPM; Hamaker,
// Kuiper & Grasman 2015, Psychological Methods 20(1), 102-116) and the classic CLPM,
// fitted by full-information maximum likelihood from long data (specification section 7).
// Numbers as R's lavaan(model, data, missing = "ml", meanstructure = TRUE,
// int.ov.free = TRUE, auto.var = TRUE) on the wide data.
#pragma once
#include <optional>

#include <Eigen/Dense>
#include <string>
#include <vector>

#include "spiral/error.hpp"
#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral {

struct PanelOptions {
  std::string id;                  // patient column
  std::string time;                // session column: integer values are the waves
  std::vector<std::string> vars;   // k >= 2 numeric variables
  std::string model = "riclpm";    // "riclpm" | "clpm"
  std::optional<long> first, last; // wave window [first, last]; default: all observed
  double level = 95;               // confidence level in percent
  bool fit_measures = true;        // false skips chisq..RMSEA (the saturated model's EM): faster
  bool standardized = false;       // lavaan's standardizedSolution() (std.all) beside each estimate
  std::string lagged = "equal";    // "equal": B equal over waves; "free": one B per wave pair
  std::string compare;             // a saved JSON fit of the same data: likelihood-ratio test against it
  std::string se = "standard";     // "standard": observed information; "robust": lavaan's MLR sandwich
  std::string group;               // a column of the patients' groups: lavaan's multiple-group model
  std::string equal_groups = "lagged";  // "lagged": the lagged effects equal across groups; "none"
};

// The likelihood-ratio test of two nested fits of the same data (lavaan's lavTestLRT under ML:
// the difference of the chi-squares, 2 |logLik_1 - logLik_0|, on the difference of npar).
struct PanelComparison {
  std::string file;
  double other_logLik = NA;
  long other_n_parameters = 0;
  double chisq = NA;
  long chisq_df = 0;
  double p_value = NA;
};

// An estimate with its Wald z-test and confidence interval.
struct WaldEstimate {
  double estimate = NA, std_error = NA, statistic = NA, p_value = NA, conf_low = NA, conf_high = NA;
};

// A lagged effect's std.all at one wave pair (wave = the time value of its `to`).
struct StandardizedLag {
  long wave = 0;
  WaldEstimate value;
};

// One row of lavaan's parameterEstimates() for the model's syntax (README: RI<v>, w<v>_<wave>,
// <v>_<wave>), with its standardizedSolution() row under PanelOptions::standardized.
struct PanelParameter {
  std::string lhs, op, rhs;
  WaldEstimate value;
  std::optional<WaldEstimate> standardized;
  std::string group;  // with PanelOptions::group: the group's value (lavaan's row of that group)
};

// One element of the lagged matrix B: the effect of `from` at wave t-1 on `to` at wave t
// (from == to: autoregressive). Wald z-test and CI from the observed information.
struct LaggedEffect {
  std::string from, to;
  std::optional<long> wave;  // under --lagged free: the time value of `to`'s wave
  double estimate = NA, std_error = NA, statistic = NA, p_value = NA, conf_low = NA, conf_high = NA;
  std::vector<StandardizedLag> standardized;  // per wave pair, under PanelOptions::standardized
  std::string group;  // with --group --equal-groups none, in PanelResult::lagged: the group's value
};

// Variances and correlations of the random intercepts (RI-CLPM only).
struct RandomIntercepts {
  std::vector<std::string> vars;
  std::vector<double> var;
  std::vector<std::vector<double>> cor;
};

// One group of a multiple-group fit: its lagged effects (the shared ones when they are equal
// across groups, with the group's own std.all) and random intercepts.
struct PanelGroup {
  std::string group;
  long n_patients = 0;
  std::vector<LaggedEffect> lagged;
  std::optional<RandomIntercepts> random_intercepts;
};

struct PanelResult {
  std::string model;               // "riclpm" | "clpm"
  std::vector<std::string> vars;
  std::vector<long> waves;         // the time values used as waves, ascending
  long n_patients = 0;             // patients with at least one observed value
  long n_waves = 0;
  long n_dropped = 0;              // patients without any observed value in the window
  bool converged = false;
  double logLik = NA, AIC = NA, BIC = NA;
  long n_parameters = 0;           // = lavaan's npar
  // Likelihood-ratio test against the saturated (h1) model and fit indices; NA (JSON null)
  // when options.fit_measures is false.
  double chisq = NA;
  long chisq_df = 0;
  double chisq_p = NA, CFI = NA, TLI = NA, RMSEA = NA;
  double SRMR = NA;                // lavaan's fitMeasures() "srmr" (Bentler's, means included)
  double level = 95;
  std::string se = "standard";     // PanelOptions::se
  // All k x k elements, ordered by `to` then `from` (vars order): for k = 2 and
  // vars {a, b}: a->a, b->a, a->b, b->b; under lagged = "free" these for each wave pair in turn.
  std::vector<LaggedEffect> lagged;
  // With groups: under equal_groups "lagged" the shared effects (no std.all: see groups), under
  // "none" every group's (LaggedEffect::group) in turn.
  std::optional<RandomIntercepts> random_intercepts;  // nullopt for clpm and with groups (see groups)
  std::vector<PanelGroup> groups;                     // with PanelOptions::group, in byte order
  std::string equal_groups;                           // with PanelOptions::group
  std::vector<PanelParameter> parameters;             // every free parameter, lavaan's rows
  Eigen::MatrixXd lagged_vcov;                        // the sampling covariance of `lagged`'s estimates
  std::optional<PanelComparison> test;                 // with PanelOptions::compare
  Warnings warnings;
};

// Fits the model. Thread-safe (no shared state). Throws InputError for bad input
// (unknown column, fewer than 2 variables or 3 waves, constant variable, duplicate
// patient-session rows, non-integer time values) and AnalysisError when the optimizer fails.
PanelResult fit_panel(const Table& table, const PanelOptions& options);

// The element of `lagged` with these variables; InputError when there is none.
const LaggedEffect& lagged_effect(const PanelResult& result, const std::string& from, const std::string& to);

Json to_json(const PanelResult& result);
std::string to_text(const PanelResult& result);   // like lavaan's summary() for the lagged part

// The names of `lagged`'s records (rows of lagged_vcov): from->to, from->to@wave under --lagged
// free, group:from->to with --equal-groups none.
std::vector<std::string> lagged_terms(const PanelResult& result);

}  // namespace spiral
