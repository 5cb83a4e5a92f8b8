// rma.uni against metafor 3.8-1 (values from tests/reference/meta.R).
#include <cmath>

#include "meta_test_util.hpp"
#include "tolerances.hpp"

namespace spiral::test {
namespace {

bool is_iterative(const std::string& method) {
  return method == "ML" || method == "REML" || method == "EB" || method == "PM";
}

// rma_bcg.json: rma(yi, vi, data = dat.bcg RR, method = M, test = T) + confint() + predict()
// for every estimator and both tests.
class EveryEstimator : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(EveryEstimator, MatchesMetafor) {
  const auto& [method, test] = GetParam();
  const auto ref = reference_json("meta/rma_bcg.json").at(method + "_" + test);
  MetaOptions options;
  options.method = method;
  options.test = test;
  const MetaResult r = fit_meta(bcg_input(), options);
  EXPECT_EQ(r.method, method);
  EXPECT_EQ(r.test, test);
  expect_fit_matches(r, ref, is_iterative(method) ? tolerance::kMetaIterative : tolerance::kMetaClosedForm);
  if (test == "knha") {
    EXPECT_EQ(r.df, 12.0);
  } else {
    EXPECT_TRUE(std::isnan(r.df));
  }
}

INSTANTIATE_TEST_SUITE_P(Bcg, EveryEstimator,
                         ::testing::Combine(::testing::Values("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"),
                                            ::testing::Values("z", "knha")),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

// rma_extra.json: rma(yi, vi, data = bcg, method = "REML", test = "knha", level = 90)
TEST(Rma, Level90) {
  MetaOptions options;
  options.test = "knha";
  options.level = 90;
  expect_fit_matches(fit_meta(bcg_input(), options), reference_json("meta/rma_extra.json").at("level90"), tolerance::kMetaIterative);
}

// rma_extra.json: rma(yi, vi, data = bcg, subset = c(5, 11, 13)): tau² = 0, CI [0, x].
TEST(Rma, HomogeneousSubset) {
  MetaInput input = bcg_input();
  MetaInput subset;
  for (std::size_t i : {4, 10, 12}) {
    subset.yi.push_back(input.yi[i]);
    subset.vi.push_back(input.vi[i]);
  }
  const MetaResult r = fit_meta(subset, {});
  EXPECT_EQ(r.tau2, 0.0);
  expect_fit_matches(r, reference_json("meta/rma_extra.json").at("homogeneous"), tolerance::kMetaIterative);
}

TEST(Rma, InterceptOnlyRepeatsFirstCoefficientInJson) {
  const Json j = to_json(fit_meta(bcg_input(), {}));
  for (const char* key : {"k", "n_dropped", "method", "test", "estimate", "std_error", "statistic", "p_value", "conf_low",
                          "conf_high", "pi_low", "pi_high", "tau2", "tau2_se", "tau2_conf_low", "tau2_conf_high", "tau",
                          "I2", "H2", "Q", "Q_df", "Q_p", "coefficients", "QM", "QM_df", "QM_p", "R2", "egger",
                          "trimfill", "leave1out", "warnings"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["coefficients"][0]["term"], "intrcpt");
  EXPECT_EQ(j["estimate"], j["coefficients"][0]["estimate"]);
  EXPECT_TRUE(j["QM"].is_null());
  EXPECT_TRUE(j["egger"].is_null());
  EXPECT_FALSE(j.contains("influence"));
}

TEST(Rma, TextLooksLikePrintRmaUni) {
  const std::string text = to_text(fit_meta(bcg_input(), {}));
  EXPECT_NE(text.find("Random-Effects Model (k = 13; tau^2 estimator: REML)"), std::string::npos) << text;
  EXPECT_NE(text.find("Q(df = 12) = 152.2330, p-val < .0001"), std::string::npos) << text;
  EXPECT_NE(text.find("-0.7145"), std::string::npos) << text;
}

TEST(Rma, FewerThanTwoStudiesIsAnAnalysisError) {
  MetaInput one;
  one.yi = {0.3};
  one.vi = {0.01};
  EXPECT_THROW(fit_meta(one, {}), AnalysisError);
  MetaOptions fe;
  fe.method = "FE";
  EXPECT_NO_THROW(fit_meta(one, fe));
}

// Paule-Mandel has no solution when Q(tau2) stays above k - p up to metafor's tau2.max
// (max(100, 10 mad(yi)^2), here 100: mad is 0); the message quotes that bound as a number.
TEST(Rma, PauleMandelWithoutSolutionNamesItsBound) {
  MetaInput input;
  input.yi = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1e6};
  input.vi.assign(input.yi.size(), 0.01);
  MetaOptions pm;
  pm.method = "PM";
  try {
    fit_meta(input, pm);
    ADD_FAILURE() << "expected AnalysisError";
  } catch (const AnalysisError& e) {
    EXPECT_EQ(std::string(e.what()), "method PM: Q(tau2) stays above k - p up to tau2 = 100; the Paule-Mandel "
                                     "estimator does not exist for these data");
  }
}

// Effect sizes whose squares overflow gave every estimate as null (NaN), exit 0.
TEST(Rma, OverflowingEffectSizesAreAnAnalysisError) {
  MetaInput input;
  input.yi = {1e300, 0.3, 0.1};
  input.vi = {0.1, 0.2, 0.1};
  EXPECT_THROW(fit_meta(input, {}), AnalysisError);
}

TEST(Rma, NonPositiveVarianceIsAnInputError) {
  MetaInput input;
  input.yi = {0.1, 0.2, 0.3};
  input.vi = {0.01, 0.0, 0.02};
  EXPECT_THROW(fit_meta(input, {}), InputError);
  // The message quotes the variance as R prints it (it once said "(-0.000000)" for -1e-09).
  input.vi = {0.01, -1e-9, 0.02};
  try {
    fit_meta(input, {});
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "meta: sampling variance of study 2 is not positive (-1e-09)");
  }
}

TEST(Rma, UnknownMethodOrTestIsAnInputError) {
  MetaOptions options;
  options.method = "XX";
  EXPECT_THROW(fit_meta(bcg_input(), options), InputError);
  options.method = "REML";
  options.test = "t";
  EXPECT_THROW(fit_meta(bcg_input(), options), InputError);
}

// --level as lmm and panel check it (common/confidence_level.hpp).
TEST(Rma, LevelOutsideAPercentageIsAnInputErrorAndAProportionWarns) {
  MetaOptions options;
  options.level = -1;
  EXPECT_THROW(fit_meta(bcg_input(), options), InputError);
  options.level = 0.95;
  const MetaResult r = fit_meta(bcg_input(), options);
  EXPECT_NE(std::find(r.warnings.begin(), r.warnings.end(),
                      "--level 0.95 is a percentage: the intervals are 0.95% intervals (95 gives 95% ones)"),
            r.warnings.end());
}

}  // namespace
}  // namespace spiral::test
