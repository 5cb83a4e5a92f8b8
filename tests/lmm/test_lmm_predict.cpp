// Prior weights, fitted values, residuals and predictions against lme4 (tests/reference/lmm_predict.R,
// which fits with lmerTest::lmer(formula, data, REML, weights = w) at the criterion's optimum):
// predict_weights.json (describe_fit of the weighted fits), predict_augment.json
// (broom.mixed::augment()'s .fitted/.resid/.fixed = fitted(), residuals(type = "response"),
// predict(re.form = NA)) and predict_newdata.json (predict(fit, newdata, re.form = NULL or NA,
// allow.new.levels = TRUE)).
#include <cmath>
#include <string>

#include "spiral/lmm.hpp"
#include "spiral/lmm_predict.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

using test::near_relative;
using test::reference_json;
using test::test_path;
namespace tolerance = test::tolerance;

// Fitted values and predictions against lme4's, both at the optimum of the criterion located by
// Newton steps on its gradient (spiral's polish; lmm_predict.R's at_optimum): to
// tolerance::kLmmFittedTarget. (At optima located by the criterion's values alone, theta agreed to
// ~5e-7 only and the fitted values to 8e-8.)
constexpr double kFittedAtOptimum = tolerance::kLmmFittedTarget;

Table read_lmm_data(const std::string& name) { return read_table(test_path("data/lmm/" + name)); }

// The fit a reference case describes: its data, formula, weights ("" = none) and method.
LmmResult fit_case(const nlohmann::json& c, const Table& data) {
  LmmOptions options;
  options.formula = c["formula"];
  options.frame.weights = c["weights"];
  options.reml = !c["ml"].get<bool>();
  options.keep_predictor = true;
  return fit_lmm(data, options);
}

// |a - b| <= tol * max(|b|, scale): a value near zero on the scale of the values it is made of.
::testing::AssertionResult near_on_scale(double a, double b, double scale, double tol) {
  if (std::fabs(a - b) <= tol * std::max(std::fabs(b), scale)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " vs reference " << b << " (scale " << scale << ")";
}

double column_value(const Table& t, const std::string& name, std::size_t row) { return t.column(name).numbers[row]; }

TEST(LmmPredict, WeightedFitsMatchLme4) {
  // predict_weights.json: lmer(formula, weights = w) on sleepstudy (REML and ML, 3 responses
  // missing), Orthodont, Penicillin (crossed) and Pastes (nested): criterion with lme4's
  // -sum(log w), sigma, estimates, SEs, lmerTest's Satterthwaite df and theta.
  const auto reference = reference_json("lmm/predict_weights.json");
  ASSERT_EQ(reference.size(), 6u);
  for (const auto& expected : reference) {
    SCOPED_TRACE(expected["formula"].get<std::string>() + " " + expected["method"].get<std::string>());
    const LmmResult r = fit_case(expected, read_lmm_data(expected["data"]));
    EXPECT_EQ(r.n_obs, expected["n_obs"].get<long>());
    EXPECT_TRUE(near_relative(r.criterion, expected["criterion"], tolerance::kLmmCriterion));
    EXPECT_TRUE(near_relative(r.logLik, expected["logLik"], tolerance::kLmmCriterion));
    EXPECT_TRUE(near_relative(r.AIC, expected["AIC"], tolerance::kLmmCriterion));
    EXPECT_TRUE(near_relative(r.sigma, expected["sigma"], tolerance::kLmmEstimate));
    ASSERT_EQ(r.fixed.size(), expected["fixed"].size());
    for (std::size_t i = 0; i < r.fixed.size(); ++i) {
      const auto& e = expected["fixed"][i];
      SCOPED_TRACE(r.fixed[i].term);
      EXPECT_EQ(r.fixed[i].term, e["term"].get<std::string>());
      EXPECT_TRUE(near_on_scale(r.fixed[i].estimate, e["estimate"], e["std_error"], tolerance::kLmmEstimate));
      EXPECT_TRUE(near_relative(r.fixed[i].std_error, e["std_error"], tolerance::kLmmStandardError));
      EXPECT_TRUE(near_relative(r.fixed[i].df, e["df"], tolerance::kLmmDf));
    }
    ASSERT_EQ(r.theta.size(), expected["theta"].size());
    for (std::size_t i = 0; i < r.theta.size(); ++i)
      EXPECT_TRUE(near_on_scale(r.theta[i], expected["theta"][i], 1e-2, tolerance::kLmmVarianceComponent));
  }
}

TEST(LmmPredict, WeightsWithAr1MatchNlme) {
  // predict_ar1_weights.json: nlme::lme(distance ~ age * Sex, random = ~ 1 | Subject,
  // weights = varFixed(~ 1/w), correlation = corAR1(form = ~ occasion | Subject), REML) on
  // Orthodont: the residual covariance sigma^2 W^-1/2 C W^-1/2 (nlme's phi is negative here).
  const auto expected = reference_json("lmm/predict_ar1_weights.json");
  LmmOptions options;
  options.formula = expected["formula"];
  options.frame.weights = expected["weights"];
  options.ar1_time = expected["ar1"];
  const LmmResult r = fit_lmm(read_lmm_data(expected["data"]), options);
  EXPECT_TRUE(near_relative(r.logLik, expected["logLik"], tolerance::kLmmCriterion));
  EXPECT_TRUE(near_relative(r.sigma, expected["sigma"], tolerance::kLmmEstimate));
  ASSERT_TRUE(r.ar1_phi.has_value());
  EXPECT_TRUE(near_on_scale(*r.ar1_phi, expected["phi"], 1e-2, tolerance::kLmmVarianceComponent));
  ASSERT_EQ(r.fixed.size(), expected["fixed"].size());
  for (std::size_t i = 0; i < r.fixed.size(); ++i) {
    EXPECT_TRUE(near_on_scale(r.fixed[i].estimate, expected["fixed"][i], expected["std_error"][i],
                              tolerance::kLmmEstimate));
    EXPECT_TRUE(near_relative(r.fixed[i].std_error, expected["std_error"][i], tolerance::kLmmStandardError));
  }
}

TEST(LmmPredict, AugmentMatchesLme4FittedAndResiduals) {
  // predict_augment.json: fitted(), residuals(type = "response") and predict(re.form = NA) of
  // fits with weights, an offset, poly(), I(), factor(), ns() and log() on sleepstudy,
  // Orthodont, Oxboys, cake and BodyWeight; only the complete rows.
  const auto reference = reference_json("lmm/predict_augment.json");
  ASSERT_EQ(reference.size(), 6u);
  for (const auto& expected : reference) {
    SCOPED_TRACE(expected["formula"].get<std::string>());
    const Table data = read_lmm_data(expected["data"]);
    const Table augmented = augment_lmm(fit_case(expected, data), data);
    const auto n = expected["n_obs"].get<std::size_t>();
    ASSERT_EQ(augmented.rows(), n);
    const auto& names = augmented.columns();
    ASSERT_GE(names.size(), 3u);
    EXPECT_EQ(names[names.size() - 3].name, ".fitted");
    EXPECT_EQ(names[names.size() - 2].name, ".resid");
    EXPECT_EQ(names[names.size() - 1].name, ".fixed");
    for (std::size_t row = 0; row < n; ++row) {
      const double fitted = column_value(augmented, ".fitted", row);
      EXPECT_TRUE(near_relative(fitted, expected["fitted"][row], kFittedAtOptimum)) << "row " << row;
      EXPECT_TRUE(near_on_scale(column_value(augmented, ".resid", row), expected["resid"][row], std::fabs(fitted),
                                kFittedAtOptimum))
          << "row " << row;
      EXPECT_TRUE(near_relative(column_value(augmented, ".fixed", row), expected["fixed"][row], kFittedAtOptimum))
          << "row " << row;
    }
  }
}

TEST(LmmPredict, AugmentKeepsTheColumnsTheModelReadAndItsRows) {
  // Rows 5, 40 and 99 of sleepstudy_weights.csv miss the response: not in the table.
  const Table data = read_lmm_data("sleepstudy_weights.csv");
  LmmOptions options;
  options.formula = "Reaction ~ Days + (Days | Subject)";
  options.frame.weights = "w";
  options.keep_predictor = true;
  const Table augmented = augment_lmm(fit_lmm(data, options), data);
  std::vector<std::string> names;
  for (const auto& c : augmented.columns()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Reaction", "Days", "Subject", "w", ".fitted", ".resid", ".fixed"}));
  ASSERT_EQ(augmented.rows(), 177u);
  EXPECT_EQ(column_value(augmented, "Days", 4), 5);  // table row 6 (row 5 dropped)
  EXPECT_EQ(augmented.line_of(4), 7);
}

TEST(LmmPredict, PredictionsMatchLme4WithTheFitsRecipe) {
  // predict_newdata.json: new days, ages and times (poly(), ns() and scale-free I() coded as in
  // the fit), factor(temp) levels, a subject the fit never saw and a row missing its age.
  const auto reference = reference_json("lmm/predict_newdata.json");
  ASSERT_EQ(reference.size(), 12u);
  for (const auto& expected : reference) {
    SCOPED_TRACE(expected["formula"].get<std::string>() + " re.form " + expected["re_form"].get<std::string>());
    const LmmResult fit = fit_case(expected, read_lmm_data(expected["data"]));
    const Table newdata = read_lmm_data(expected["newdata"]);
    const LmmPrediction p = predict_lmm(fit, newdata, parse_re_form(expected["re_form"], "re_form"));
    ASSERT_EQ(p.table.rows(), expected["fitted"].size());
    EXPECT_EQ(p.table.cols(), newdata.cols() + 1);
    for (std::size_t row = 0; row < p.table.rows(); ++row) {
      const double value = column_value(p.table, ".fitted", row);
      if (expected["fitted"][row].is_null()) EXPECT_TRUE(std::isnan(value)) << "row " << row;
      else EXPECT_TRUE(near_relative(value, expected["fitted"][row], kFittedAtOptimum)) << "row " << row;
    }
  }
}

TEST(LmmPredict, NewGroupLevelsGetThePopulationPredictionAndOneWarning) {
  const Table data = read_lmm_data("sleepstudy_weights.csv");
  LmmOptions options;
  options.formula = "Reaction ~ Days + (Days | Subject)";
  options.keep_predictor = true;
  const LmmResult fit = fit_lmm(data, options);
  const Table newdata = read_lmm_data("predict_sleepstudy.csv");  // subject 999: rows 9-12
  const LmmPrediction full = predict_lmm(fit, newdata, ReForm::Full);
  const LmmPrediction population = predict_lmm(fit, newdata, ReForm::Population);
  ASSERT_EQ(full.warnings.size(), 1u);
  EXPECT_EQ(full.warnings[0].rfind("4 rows of the new data with a grouping level the fit never saw", 0), 0u)
      << full.warnings[0];
  EXPECT_TRUE(population.warnings.empty());
  for (std::size_t row = 0; row < 12; ++row) {
    const double a = column_value(full.table, ".fitted", row), b = column_value(population.table, ".fitted", row);
    if (row >= 8) EXPECT_EQ(a, b) << row;
    else EXPECT_NE(a, b) << row;
  }
}

TEST(LmmPredict, NewDataMustGiveTheModelsColumnsAndFittedLevels) {
  const Table data = read_lmm_data("cake.csv");
  LmmOptions options;
  options.formula = "angle ~ recipe + factor(temp) + (1 | replicate)";
  options.keep_predictor = true;
  const LmmResult fit = fit_lmm(data, options);
  const auto newdata = [](const std::string& csv) { return read_delimited_text(csv, "new.csv", {}); };
  EXPECT_THROW(predict_lmm(fit, newdata("replicate,recipe,temp\n1,A,230\n"), ReForm::Full), InputError);
  EXPECT_THROW(predict_lmm(fit, newdata("replicate,recipe,temp\n1,D,175\n"), ReForm::Full), InputError);
  EXPECT_THROW(predict_lmm(fit, newdata("replicate,temp\n1,175\n"), ReForm::Population), InputError);
  EXPECT_THROW(predict_lmm(fit, newdata("recipe,temp\nA,175\n"), ReForm::Full), InputError);
  // Without random effects the grouping column is not needed (re.form = NA).
  EXPECT_NO_THROW(predict_lmm(fit, newdata("recipe,temp\nA,175\n"), ReForm::Population));
  EXPECT_THROW(parse_re_form("NULL", "--re-form"), InputError);
}

TEST(LmmPredict, AugmentNeedsTheKeptPredictor) {
  const Table data = read_lmm_data("sleepstudy.csv");
  LmmOptions options;
  options.formula = "Reaction ~ Days + (1 | Subject)";
  EXPECT_THROW(augment_lmm(fit_lmm(data, options), data), InputError);
}

}  // namespace
}  // namespace spiral
