#include <algorithm>
#include <cmath>

#include <boost/math/distributions/chi_squared.hpp>

#include "lmm/deviance.hpp"
#include "spiral/lmm.hpp"

namespace spiral {

namespace {

// An ML fit on the rows complete for every formula (anova() needs the same data).
LmmComparisonModel fit_ml(const Table& table, const std::string& text, const std::vector<std::string>& all_variables,
                          const LmmOptions& options, Warnings& warnings, long& n_obs) {
  const Formula formula = parse_formula(text, true);
  FrameOptions frame_options = options.frame;
  frame_options.extra_variables.insert(frame_options.extra_variables.end(), all_variables.begin(), all_variables.end());
  if (!options.ar1_time.empty()) frame_options.extra_variables.push_back(options.ar1_time);
  const ModelFrame frame = build_model_frame(formula, table, frame_options);
  const std::vector<double> time = lmm_detail::ar1_times(table, options.ar1_time, frame);
  LmmOptions ml = options;
  ml.formula = text;
  ml.reml = false;
  ml.df = DfMethod::None;
  ml.conditional_modes = ml.anova = ml.ranova = false;
  ml.confint.clear();
  const LmmResult fit = fit_lmm(frame, ml, time);
  for (const auto& w : fit.warnings) warnings.push_back(text + ": " + w);
  n_obs = fit.n_obs;
  return {text, fit.df_model, fit.AIC, fit.BIC, fit.logLik, fit.criterion};
}

}  // namespace

// R's anova() for merMod objects: models ordered by their number of parameters, each tested
// against the one before it: Chisq = 2 max(0, logLik_i - logLik_i-1) on (npar_i - npar_i-1) df.
LmmComparison compare_lmm(const Table& table, const std::vector<std::string>& formulas, const LmmOptions& options) {
  if (formulas.size() < 2) throw InputError("--compare: at least two models are needed");
  std::vector<std::string> variables;
  std::string response;
  for (const auto& text : formulas) {
    const Formula f = parse_formula(text, true);
    if (response.empty()) response = f.response;
    if (f.response != response)  // likelihoods of different data: a test of nothing
      throw InputError("--compare: the models have different responses ('" + response + "' and '" + f.response + "')");
    const std::vector<std::string> v = f.variables();
    for (const auto& name : v)  // each fit reads every formula's columns: name the formula at fault
      if (!table.has(name)) {
        std::string message = "--compare: ";  // appended: GCC 12's false -Wrestrict
        message += table.source() + " has no column '" + name + "' (formula '" + text + "')";
        throw InputError(message);
      }
    variables.insert(variables.end(), v.begin(), v.end());
  }
  LmmComparison c;
  std::vector<long> n_obs(formulas.size());
  for (std::size_t i = 0; i < formulas.size(); ++i)
    c.models.push_back(fit_ml(table, formulas[i], variables, options, c.warnings, n_obs[i]));
  if (std::adjacent_find(n_obs.begin(), n_obs.end(), std::not_equal_to<>()) != n_obs.end())
    throw InputError("--compare: the models were not fitted to the same number of observations");
  std::stable_sort(c.models.begin(), c.models.end(),
                   [](const auto& a, const auto& b) { return a.df_model < b.df_model; });
  for (std::size_t i = 1; i < c.models.size(); ++i) {
    LmmLikelihoodRatioTest t;
    t.chisq_df = c.models[i].df_model - c.models[i - 1].df_model;
    if (t.chisq_df == 0)
      throw InputError("--compare: '" + c.models[i - 1].formula + "' and '" + c.models[i].formula +
                       "' have the same number of parameters");
    t.chisq = 2 * std::max(0.0, c.models[i].logLik - c.models[i - 1].logLik);
    const boost::math::chi_squared chi2(double(t.chisq_df));
    t.p_value = boost::math::cdf(boost::math::complement(chi2, t.chisq));
    c.tests.push_back(t);
  }
  return c;
}

}  // namespace spiral
