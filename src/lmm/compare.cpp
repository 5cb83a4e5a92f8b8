#include <algorithm>
#include <cmath>

#include <boost/math/distributions/chi_squared.hpp>

#include "lmm/deviance.hpp"
#include "spiral/lmm.hpp"

namespace spiral {

namespace {

// An ML fit on the rows complete for both formulas (anova() needs the same data).
LmmComparisonModel fit_ml(const Table& table, const std::string& text, const Formula& other,
                          const LmmOptions& options, Warnings& warnings, long& n_obs) {
  const Formula formula = parse_formula(text, true);
  FrameOptions frame_options = options.frame;
  frame_options.extra_variables = other.variables();
  if (!options.ar1_time.empty()) frame_options.extra_variables.push_back(options.ar1_time);
  const ModelFrame frame = build_model_frame(formula, table, frame_options);
  const std::vector<double> time = lmm_detail::ar1_times(table, options.ar1_time, frame);
  LmmOptions ml = options;
  ml.formula = text;
  ml.reml = false;
  ml.df = DfMethod::None;
  ml.conditional_modes = false;
  const LmmResult fit = fit_lmm(frame, ml, time);
  for (const auto& w : fit.warnings) warnings.push_back(text + ": " + w);
  n_obs = fit.n_obs;
  return {text, fit.df_model, fit.AIC, fit.BIC, fit.logLik, fit.criterion};
}

}  // namespace

// R's anova() for merMod objects: models ordered by their number of parameters,
// Chisq = 2 max(0, logLik1 - logLik0) on (npar1 - npar0) degrees of freedom.
LmmComparison compare_lmm(const Table& table, const std::string& formula0, const std::string& formula1,
                          const LmmOptions& options) {
  const Formula f0 = parse_formula(formula0, true), f1 = parse_formula(formula1, true);
  if (f0.response != f1.response)  // likelihoods of different data: a test of nothing
    throw InputError("--compare: the models have different responses ('" + f0.response + "' and '" + f1.response + "')");
  LmmComparison c;
  long n0 = 0, n1 = 0;
  c.models.push_back(fit_ml(table, formula0, f1, options, c.warnings, n0));
  c.models.push_back(fit_ml(table, formula1, f0, options, c.warnings, n1));
  if (n0 != n1) throw InputError("--compare: the models were not fitted to the same number of observations");
  std::stable_sort(c.models.begin(), c.models.end(),
                   [](const auto& a, const auto& b) { return a.df_model < b.df_model; });
  c.chisq_df = c.models[1].df_model - c.models[0].df_model;
  if (c.chisq_df == 0) throw InputError("--compare: both models have the same number of parameters");
  c.chisq = 2 * std::max(0.0, c.models[1].logLik - c.models[0].logLik);
  const boost::math::chi_squared chi2(double(c.chisq_df));
  c.p_value = boost::math::cdf(boost::math::complement(chi2, c.chisq));
  return c;
}

}  // namespace spiral
