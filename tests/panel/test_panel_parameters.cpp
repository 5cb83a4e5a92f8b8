// The full parameter table and the standardized solution (specification section 7.1) against
// lavaan 0.6-14: tests/reference/panel.R section `parameters` writes, for the RI-CLPM on
// missing2.csv and the CLPM on missing3.csv, every free row of parameterEstimates(fit) with
// standardizedSolution(fit) (std.all, delta-method SEs) beside it; each file's "call" says so.
#include <cmath>

#include "panel_reference.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

using test::PanelReferenceCase;

class ParameterTable : public ::testing::TestWithParam<PanelReferenceCase> {};

void expect_near_or_both_null(double actual, const nlohmann::json& expected, double tolerance, const std::string& what) {
  if (expected.is_null()) {
    EXPECT_FALSE(std::isfinite(actual)) << what;
    return;
  }
  EXPECT_NEAR(actual, expected.get<double>(), tolerance) << what;
}

TEST_P(ParameterTable, EveryFreeRowAndItsStdAllEqualLavaans) {
  const auto reference = test::panel_reference(GetParam());
  SCOPED_TRACE(reference["call"].get<std::string>());
  PanelOptions options = test::panel_reference_options(reference);
  options.standardized = true;
  const PanelResult r = test::fit_panel_reference(GetParam(), options);
  auto by_key = test::parameters_by_key(r);
  ASSERT_EQ(r.parameters.size(), reference["parameters"].size());
  for (const auto& expected : reference["parameters"]) {
    const std::string key = test::parameter_key(expected);
    SCOPED_TRACE(key);
    ASSERT_TRUE(by_key.count(key));
    const PanelParameter& p = *by_key[key];
    const double se = expected["se"].get<double>();
    EXPECT_NEAR(p.value.estimate, expected["est"].get<double>(), test::tolerance::kPanelEstimateTarget);
    EXPECT_NEAR(p.value.std_error, se, test::tolerance::kPanelStandardErrorTarget * se);
    EXPECT_NEAR(p.value.conf_low, expected["ci.lower"].get<double>(), test::tolerance::kPanelStandardErrorTarget * se * 2);
    ASSERT_TRUE(p.standardized.has_value());
    const WaldEstimate& s = *p.standardized;
    const double std_se = expected["std_se"].get<double>();
    EXPECT_NEAR(s.estimate, expected["std_est"].get<double>(), test::tolerance::kPanelEstimateTarget);
    EXPECT_NEAR(s.std_error, std_se, std::max(test::tolerance::kPanelStandardErrorTarget * std_se, 1e-9));
    expect_near_or_both_null(s.statistic, expected["std_z"], 1e-3 * std::max(1.0, std::fabs(s.statistic)), "z");
    expect_near_or_both_null(s.p_value, expected["std_pvalue"], 1e-5, "p");
  }
  // the lagged records carry the same std.all per wave pair
  for (const LaggedEffect& e : r.lagged) {
    ASSERT_EQ(e.standardized.size(), std::size_t(r.n_waves - 1));
    const std::string key = "w" + e.to + "_" + std::to_string(e.standardized[0].wave) + " ~ w" + e.from + "_" +
                            std::to_string(r.waves[0]);
    EXPECT_EQ(e.standardized[0].value.estimate, by_key[key]->standardized->estimate) << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Panel, ParameterTable,
                         ::testing::Values(PanelReferenceCase{"parameters_riclpm_missing2", "missing2.csv"},
                                           PanelReferenceCase{"parameters_clpm_missing3", "missing3.csv"}));

TEST(ParameterTable, StandardizedIsOnlyComputedWhenAsked) {
  PanelOptions options;
  options.id = "patient";
  options.time = "session";
  options.vars = {"alliance", "symptoms"};
  options.fit_measures = false;
  const PanelResult r = fit_panel(read_table(test::test_path("data/panel/missing2.csv")), options);
  EXPECT_EQ(r.parameters.size(), 62u);  // parameterEstimates(fit)'s free rows (parameters_riclpm_missing2.json)
  for (const PanelParameter& p : r.parameters) EXPECT_FALSE(p.standardized.has_value()) << p.lhs << p.op << p.rhs;
  for (const LaggedEffect& e : r.lagged) EXPECT_TRUE(e.standardized.empty());
}

}  // namespace
}  // namespace spiral
