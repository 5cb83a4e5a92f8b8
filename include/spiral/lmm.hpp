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
  std::shared_ptr<LmmPredictor> predictor;  // only with LmmOptions::keep_predictor
  double level = 95;
  Warnings warnings;                 // frame warnings, dropped columns, singular, convergence
};

// Parses options.formula, builds the model frame (dropping rows with missing values,
// counted in n_dropped) and fits. Thread-safe: no shared mutable state.
// InputError: bad formula/columns, factor response, Inf, a grouping factor with one level,
// at least as many random effects as observations. AnalysisError: optimizer failure.
LmmResult fit_lmm(const Table& table, const LmmOptions& options);
// For callers that built the frame themselves. `time` holds the AR(1) time value per model
// row when options.ar1_time is set (otherwise ignored; may be empty).
LmmResult fit_lmm(const ModelFrame& frame, const LmmOptions& options, const std::vector<double>& time = {});

Json to_json(const LmmResult& result);
std::string to_text(const LmmResult& result);       // like lmerTest's summary()
// Columns group, level, term, estimate, std_error (needs options.conditional_modes).
std::string ranef_csv(const LmmResult& result);

// Likelihood-ratio test of two nested models refitted with ML, as R's anova(m0, m1).
struct LmmComparisonModel {
  std::string formula;
  long df_model = 0;
  double AIC = NA, BIC = NA, logLik = NA, deviance = NA;
};
struct LmmComparison {
  std::vector<LmmComparisonModel> models;  // ordered by df_model, as anova() orders them
  double chisq = NA;
  long chisq_df = 0;
  double p_value = NA;
  Warnings warnings;
};
// Both fits use options (ar1_time, data) but with ML; the rows used are those complete for
// both formulas, so the likelihoods are comparable. InputError when the models use
// different rows count or the same number of parameters.
LmmComparison compare_lmm(const Table& table, const std::string& formula0, const std::string& formula1,
                          const LmmOptions& options);
Json to_json(const LmmComparison& comparison);
std::string to_text(const LmmComparison& comparison);

}  // namespace spiral
