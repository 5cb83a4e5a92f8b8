// `spiral meta`: random-effects meta-analysis and meta-regression with metafor's rma.uni
// numbers (specification section 4), escalc effect sizes, diagnostics and figures.
//
// Thread safety: every function here is reentrant (no shared state), so stage 2 of an IPD
// analysis and power simulations may call fit_meta from many threads at once.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "spiral/error.hpp"
#include "spiral/plot.hpp"
#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral {

struct MetaOptions {
  std::string method = "REML";  // FE, DL, HE, HS, SJ, ML, REML, EB, PM
  std::string test = "z";       // "z" or "knha" (Knapp-Hartung, t with k - p df)
  std::string mods;             // one-sided formula text over MetaInput::moderators ("x1 + x2" or "~ x1 + x2"); empty = none
  double level = 95;            // percent, for the coefficient CIs, PI and tau² CI
  bool influence = false;       // influence.rma.uni diagnostics
  bool leave1out = false;       // leave1out.rma.uni
  bool egger = false;           // regtest(model = "rma", predictor = "sei")
  bool trimfill = false;        // trimfill(estimator = "L0")
  std::string transf;           // back-transformation of estimate, CI and PI (metafor transf.* name); empty = none
  // Skip the Q-profile tau² CI (the slowest part of a fit) when the caller needs only the
  // estimates, e.g. inside a simulation. The tau2_conf_* fields are NaN then.
  bool tau2_ci = true;
};

struct MetaInput {
  std::vector<double> yi, vi;     // effect sizes and their sampling variances (vi > 0)
  std::vector<std::string> slab;  // study labels; empty = "Study 1", "Study 2", ...
  Table moderators;               // rows = studies, read by options.mods; may be empty
  std::string measure = "GEN";    // escalc measure (axis label of the plots)
  std::vector<std::vector<std::string>> ilab;  // extra forest-plot columns: one vector (a value per study) each
  std::vector<std::string> ilab_names;         // their headers
  std::size_t n_dropped = 0;      // rows dropped for missing values before fitting
  Warnings warnings;              // from building the input (e.g. dropped rows)
  // Per study: the raw data's sample sizes (--ni) and person-times (--ti) when the measure has
  // them (empty otherwise), for the back-transformations ipft.hm and iirft.
  std::vector<double> ni, ti;
};

// What transf.ipft.hm and transf.iirft need besides the value: the harmonic mean of the
// studies' sample sizes and of their person-times (NaN = not given).
struct TransfSizes {
  double ni = NA, ti = NA;
};

// Which columns of a data table hold the studies (specification section 4's options).
struct MetaColumns {
  std::string yi, vi, sei;        // precomputed effect sizes: yi with vi or sei
  std::string measure;            // or raw data + escalc measure (specification section 4.1; escalc_measures())
  std::string ri, ni;                                  // COR UCOR ZCOR; ni also PR.. MN.. MC..
  std::string m1i, sd1i, n1i, m2i, sd2i, n2i;          // MD SMD SMDH ROM CVR VR; m1i.. also MC SMCC SMCR ROMC
  std::string ai, bi, ci, di;                          // OR RR RD AS PETO (n1i/n2i instead of bi/di)
  std::string x1i, x2i, t1i, t2i;                      // IRR IRD IRSD
  std::string xi, ti;                                  // PR PLN PLO PAS PFT (xi, ni); IR IRLN IRS IRFT (xi, ti)
  std::string mi, sdi;                                 // MN MNLN
  std::string slab;
  std::vector<std::string> ilab;  // columns shown beside the studies in the forest plot
  std::string mods;               // the moderator formula: its variables are carried over
};

// escalc() for one measure on raw columns given as vectors (NaN = missing). Each output
// has one entry per input row; a row with a missing input gives NaN yi and vi, and so does
// one whose yi or vi escalc would set to NA (infinite, NaN, negative vi).
// Zero cells as escalc's defaults: add = 1/2 to every cell of a study with a zero cell
// (to = "only0"), except for AS, PAS, PFT, IRSD, IRS and IRFT (add = 0).
struct EffectSizes {
  std::vector<double> yi, vi;
};
struct EscalcData {
  std::vector<double> ri, ni;
  std::vector<double> m1i, sd1i, n1i, m2i, sd2i, n2i;
  std::vector<double> ai, bi, ci, di;
  std::vector<double> x1i, x2i, t1i, t2i;
  std::vector<double> xi, ti, mi, sdi;
};
EffectSizes escalc(const std::string& measure, const EscalcData& data);
// The measures escalc() computes, in the order of specification section 4.1.
const std::vector<std::string>& escalc_measures();

// Builds the input from a table: reads yi/vi (or sei) or computes them with escalc, the
// labels and the moderator variables; drops (and counts) rows with a missing value in any
// used column. InputError for missing columns, non-numeric values, vi <= 0, a bad measure.
MetaInput meta_input_from_table(const Table& table, const MetaColumns& columns);

struct MetaCoefficient {
  std::string term;  // "intrcpt" or the model-matrix name of a moderator ("x1", "groupB")
  double estimate = NA, std_error = NA, statistic = NA, p_value = NA, conf_low = NA, conf_high = NA;
};

// One study's fitted value x_i' b with metafor predict.rma's intervals: the CI of the fitted
// value and the prediction interval fitted ± crit sqrt(SE² + tau²), crit from t(k - p) under
// knha, else normal (Viechtbauer 2010, J Stat Softw 36(3), section 3.4).
struct MetaFittedValue {
  double estimate = NA, std_error = NA, conf_low = NA, conf_high = NA, pi_low = NA, pi_high = NA;
};

struct LeaveOneOutRow {  // leave1out.rma.uni: the model refitted without study `slab`
  std::string slab;
  double estimate = NA, std_error = NA, statistic = NA, p_value = NA, conf_low = NA, conf_high = NA;
  double Q = NA, Q_p = NA, tau2 = NA, I2 = NA, H2 = NA;
};

struct InfluenceRow {  // influence.rma.uni
  std::string slab;
  double rstudent = NA, dffits = NA, cook_d = NA, cov_r = NA, tau2_del = NA, QE_del = NA, hat = NA, weight = NA;
  bool influential = false;  // metafor's "*" mark
};

struct EggerTest {  // regtest(model = "rma", predictor = "sei")
  double statistic = NA, p_value = NA;
  double df = NA;           // t df under knha, NaN under z
  double limit_estimate = NA, limit_low = NA, limit_high = NA;  // estimate as sei -> 0
};

struct TrimFillResult {  // trimfill(estimator = "L0")
  int k0 = 0;
  std::string side;         // "left" | "right": where studies were imputed
  double estimate = NA, std_error = NA, conf_low = NA, conf_high = NA, p_value = NA;
  double tau2 = NA;
  std::vector<double> filled_yi, filled_vi;  // the imputed studies
};

struct MetaResult {
  // Data the model used (after dropping rows).
  std::size_t k = 0, n_dropped = 0, p = 1;
  std::string method, test, measure = "GEN";
  double level = 95;
  std::vector<std::string> slab;
  std::vector<double> yi, vi;
  std::vector<double> weights;  // percent weights (intercept-only: w_i / sum w)

  // First coefficient (the pooled effect of an intercept-only model).
  double estimate = NA, std_error = NA, statistic = NA, p_value = NA, conf_low = NA, conf_high = NA;
  double pi_low = NA, pi_high = NA;            // predict.rma prediction interval (intercept-only models)
  double tau2 = NA, tau2_se = NA, tau2_conf_low = NA, tau2_conf_high = NA, tau = NA;
  double I2 = NA, H2 = NA, Q = NA, Q_p = NA;   // residual with moderators (QE)
  int Q_df = 0;
  double df = NA;                              // t df under knha (k - p), NaN under z
  std::vector<MetaCoefficient> coefficients;
  Eigen::MatrixXd vcov;                        // of the coefficients

  bool has_mods = false;
  double QM = NA, QM_p = NA, R2 = NA;          // omnibus moderator test (F under knha), pseudo-R² (percent)
  int QM_df = 0;                               // numerator df
  double QM_df2 = NA;                          // denominator df of the F test under knha

  // fitstats(): ML or REML (as the method) log-likelihood and information criteria.
  double logLik = NA, AIC = NA, BIC = NA, AICc = NA;
  std::vector<MetaFittedValue> fitted;         // per study, as predict.rma without newmods (fitted(), forest plot)

  // --transf: the function's name and the back-transformed estimate, CI and PI.
  std::string transf;
  TransfSizes transf_sizes;  // of the fitted studies, for ipft.hm and iirft (also the plots' natural ones)
  double transf_estimate = NA, transf_conf_low = NA, transf_conf_high = NA, transf_pi_low = NA, transf_pi_high = NA;
  std::vector<std::vector<std::string>> ilab;  // extra forest columns (rows as slab)
  std::vector<std::string> ilab_names;

  std::optional<EggerTest> egger;
  std::optional<TrimFillResult> trimfill;
  std::optional<std::vector<LeaveOneOutRow>> leave1out;
  std::optional<std::vector<InfluenceRow>> influence;
  Warnings warnings;
};

// rma.uni. InputError for bad options or input (vi <= 0, unknown moderator, a constant
// moderator); AnalysisError when a random-effects model has fewer than 2 studies, or
// when an iterative tau² estimator does not converge.
MetaResult fit_meta(const MetaInput& input, const MetaOptions& options);

// The same with a ready model matrix (columns = coefficients, names = their terms),
// for callers that build the design themselves; options.mods must be empty.
MetaResult fit_meta_matrix(const std::vector<double>& yi, const std::vector<double>& vi,
                           const Eigen::MatrixXd& x, const std::vector<std::string>& names,
                           const MetaOptions& options);

// Specification section 4's JSON, and text like print.rma.uni.
Json to_json(const MetaResult& result);
std::string to_text(const MetaResult& result);
// One row per coefficient (term, estimate, std_error, statistic, p_value, conf_low, conf_high).
std::string to_csv(const MetaResult& result);

// Axis label of an escalc measure ("Standardized Mean Difference", "Log Odds Ratio", ...).
std::string measure_label(const std::string& measure);

// metafor's transf.* functions by name ("exp", "tanh" = "ztor", "ilogit", "iarcsin", "isqrt",
// "logit", "arcsin", "rtoz" = "atanh", "log", "sqrt"; "ipft.hm" at the harmonic mean of the
// sample sizes, "iirft" at the harmonic mean of the person-times, from `sizes`); InputError for
// an unknown name or sizes that a transformation needs and that are not given.
double apply_transf(const std::string& name, double x, const TransfSizes& sizes = {});
// The inverse of a transformation (positions a back-transformed tick on the model's scale).
double inverse_transf(const std::string& name, double x, const TransfSizes& sizes = {});
// 1 / mean(1 / x) over the values that are not missing (NaN when none are).
double harmonic_mean(const std::vector<double>& values);
// The back-transformation a plot uses by default for a measure ("exp" for OR, "tanh" for
// ZCOR, "ipft.hm" for PFT, ...); empty when the measure is shown on its own scale.
std::string natural_transf(const std::string& measure);
// Axis label of a measure after a back-transformation ("Odds Ratio", "Correlation Coefficient").
std::string transformed_label(const std::string& measure, const std::string& transf);

// Figures (see spiral/plot.hpp): .svg, .pdf or .png chosen by the extension. The effect axis
// is back-transformed by result.transf, or else by the measure's natural transformation
// (natural_transf); with moderators the forest adds the fitted values and the funnel shows
// the residuals. write_meta_plots renders every figure asked for (an empty path: none)
// before it writes any, so that a failing figure leaves no partial output.
void write_meta_plots(const MetaResult& result, const std::string& forest_path, const std::string& funnel_path,
                      const PlotLabels& labels = {});
std::string forest_svg(const MetaResult& result, const PlotLabels& labels = {});
// The forest plot as PNG bytes (300 dpi, resolution tag), e.g. for a Word document.
std::string forest_png(const MetaResult& result, const PlotLabels& labels = {});
std::string funnel_svg(const MetaResult& result, const PlotLabels& labels = {});

}  // namespace spiral
