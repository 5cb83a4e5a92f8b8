// `spiral lmm`: linear mixed models fitted as lme4's lmer() (specification section 3).
// The profiled-deviance method of Bates, Mächler, Bolker & Walker (2015, J Stat Softw
// 67(1)): the REML criterion / ML deviance profiled over beta and sigma and minimised over
// the relative covariance factor parameters theta with BOBYQA; Satterthwaite df as
// lmerTest (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw 82(13)); optional
// AR(1) residual correlation within the innermost grouping factor (nlme corCAR1).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "spiral/error.hpp"
#include "spiral/formula.hpp"
#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral {

enum class DfMethod { Satterthwaite, Residual, None };

struct LmmOptions {
  std::string formula;               // lme4 formula (ignored by the ModelFrame overload)
  bool reml = true;                  // false: maximum likelihood (--ml)
  DfMethod df = DfMethod::Satterthwaite;  // None skips all Satterthwaite work (fast path)
  std::string ar1_time;              // --ar1 TIMECOL; empty = independent residuals
  double level = 95;                 // confidence level of the fixed-effect CIs, percent
  bool conditional_modes = false;    // fill LmmResult::ranef (as ranef(condVar = TRUE))
  bool anova = false;                // fill LmmResult::anova (--anova)
  bool ranova = false;               // fill LmmResult::ranova (--ranova; the Table overload only)
  std::string confint;               // --confint: "" (t-based CIs), "wald" or "profile"
  bool keep_predictor = false;       // fill LmmResult::predictor (--augment, --predict)
  // How the data enter the model frame: --factor, --ref, --weights, the number-coded warning
  // (its extra_variables and row_filter are set by the fit).
  FrameOptions frame;
};

struct FixedEffect {
  std::string term;
  double estimate = NA, std_error = NA;
  double df = NA;                    // NaN with DfMethod::None (z-test)
  double statistic = NA, p_value = NA, conf_low = NA, conf_high = NA;
};

struct GroupSize {
  std::string name;                  // "Subject", "a:b"
  long levels = 0;
};

// Standard deviations and correlations of one random term, as VarCorr() prints them.
struct RandomEffectSd {
  std::string group;
  std::vector<std::string> terms;
  std::vector<double> sd;
  std::vector<std::vector<double>> cor;  // terms.size() square, 1 on the diagonal
};

// One conditional mode (BLUP) with its conditional SD, as ranef(fit, condVar = TRUE).
struct ConditionalMode {
  std::string group, level, term;
  double estimate = NA, std_error = NA;
};

// One row of lmerTest's anova(): the type III F test of a fixed-effect term (Satterthwaite df).
struct AnovaTerm {
  std::string term;
  double num_df = NA, den_df = NA, F = NA, p_value = NA;
};

// One row of lmerTest's ranova(): the model with one random-effect term reduced ("<none>": the fit).
struct RanovaTerm {
  std::string term;
  long npar = 0;
  double logLik = NA, AIC = NA, LRT = NA, df = NA, p_value = NA;
};

// A profile confidence interval of an SD, correlation or sigma, named as broom.mixed names them.
struct RandomCi {
  std::string group, term;           // "Subject", "sd__(Intercept)"; "Residual", "sd__Observation"
  double conf_low = NA, conf_high = NA;
};

struct LmmPredictor;  // spiral/lmm_predict.hpp

struct LmmResult {
  std::string formula;
  std::string method;                // "REML" | "ML"
  long n_obs = 0, n_dropped = 0;
  bool converged = false, singular = false;
  double criterion = NA;             // REML criterion or deviance, as lme4 prints
  double logLik = NA, AIC = NA, BIC = NA;
  long df_model = 0;                 // fixed effects + variance parameters + sigma (+ phi)
  double sigma = NA;
  std::vector<GroupSize> groups;     // in lme4's order (decreasing number of levels)
  std::vector<FixedEffect> fixed;    // estimable columns only (aliased ones dropped)
  std::vector<RandomEffectSd> random;  // in lme4's order
  std::optional<double> ar1_phi;     // with --ar1
  std::vector<double> theta;         // lme4's order
  Eigen::MatrixXd vcov;              // covariance of the fixed effects (vcov(fit)), fixed order
  std::vector<ConditionalMode> ranef;  // only with LmmOptions::conditional_modes
  std::optional<std::vector<AnovaTerm>> anova;    // with LmmOptions::anova
  std::optional<std::vector<RanovaTerm>> ranova;  // with LmmOptions::ranova
  std::string confint;                            // LmmOptions::confint: how `fixed` CIs were made
  std::optional<std::vector<RandomCi>> random_ci; // with confint "profile"
  std::shared_ptr<LmmPredictor> predictor;  // only with LmmOptions::keep_predictor
  double level = 95;
  Warnings warnings;                 // frame warnings, dropped columns, singular, convergence
};

// Parses options.formula, builds the model frame (dropping rows with missing values,
// counted in n_dropped) and fits. Thread-safe: no shared mutable state.
// InputError: bad formula/columns, factor response, Inf, a grouping factor with one level,
// at least as many random effects as observations. AnalysisError: optimizer failure.
LmmResult fit_lmm(const Table& table, const LmmOptions& options);
// The same, freeing the table once the model frame is built (unless options.ranova refits
// from it): a caller that reads the data only for this fit keeps one copy less at its peak.
LmmResult fit_lmm(Table&& table, const LmmOptions& options);
// For callers that built the frame themselves. `time` holds the AR(1) time value per model
// row when options.ar1_time is set (otherwise ignored; may be empty).
LmmResult fit_lmm(const ModelFrame& frame, const LmmOptions& options, const std::vector<double>& time = {});

Json to_json(const LmmResult& result);
std::string to_text(const LmmResult& result);       // like lmerTest's summary()
// Columns group, level, term, estimate, std_error (needs options.conditional_modes).
std::string ranef_csv(const LmmResult& result);

// Likelihood-ratio tests of nested models refitted with ML, as R's anova(m0, m1, m2, ...).
struct LmmComparisonModel {
  std::string formula;
  long df_model = 0;
  double AIC = NA, BIC = NA, logLik = NA, deviance = NA;
};
struct LmmLikelihoodRatioTest {
  double chisq = NA;
  long chisq_df = 0;
  double p_value = NA;
};
struct LmmComparison {
  std::vector<LmmComparisonModel> models;  // ordered by df_model, as anova() orders them
  std::vector<LmmLikelihoodRatioTest> tests;  // one per consecutive pair of models
  Warnings warnings;
};
// Every fit uses options (ar1_time, data) but with ML; the rows used are those complete for
// all formulas, so the likelihoods are comparable. InputError when the formulas have different
// responses, the models use different numbers of rows, or two have the same number of parameters.
LmmComparison compare_lmm(const Table& table, const std::vector<std::string>& formulas, const LmmOptions& options);
inline LmmComparison compare_lmm(const Table& table, const std::string& formula0, const std::string& formula1,
                                 const LmmOptions& options) {
  return compare_lmm(table, std::vector<std::string>{formula0, formula1}, options);
}
Json to_json(const LmmComparison& comparison);
std::string to_text(const LmmComparison& comparison);

}  // namespace spiral
