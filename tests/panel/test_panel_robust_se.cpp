// --se robust (specification section 7.1) against lavaan 0.6-14's estimator = "MLR" (Huber-White
// sandwich, first-order meat from the casewise scores): tests/reference/panel.R section `robust`
// writes every free row of parameterEstimates() for the RI-CLPM on missing2.csv and the CLPM on
// missing3.csv; each file's "call" says so.
#include <cmath>

#include "panel_reference.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

using test::PanelReferenceCase;

class RobustSe : public ::testing::TestWithParam<PanelReferenceCase> {};

PanelResult fit_with_se(const nlohmann::json& reference, const std::string& se) {
  PanelOptions options = test::panel_reference_options(reference);
  options.se = se;
  return test::fit_panel_reference(RobustSe::GetParam(), options);
}

TEST_P(RobustSe, EveryStandardErrorIsLavaansMlr) {
  const auto reference = test::panel_reference(GetParam());
  SCOPED_TRACE(reference["call"].get<std::string>());
  const PanelResult r = fit_with_se(reference, "robust");
  auto by_key = test::parameters_by_key(r);
  ASSERT_EQ(r.parameters.size(), reference["parameters"].size());
  for (const auto& expected : reference["parameters"]) {
    const std::string key = test::parameter_key(expected);
    SCOPED_TRACE(key);
    ASSERT_TRUE(by_key.count(key));
    const double se = expected["se"].get<double>();
    // lavaan's estimates stop ~1e-6 from the optimum (nlminb's tolerance), which moves its SEs by ~1e-5 relative
    EXPECT_NEAR(by_key[key]->value.estimate, expected["est"].get<double>(), 1e-5);
    EXPECT_NEAR(by_key[key]->value.std_error, se, test::tolerance::kPanelStandardErrorTarget * se);
  }
  // the lagged records use the same SEs
  EXPECT_EQ(r.lagged[0].std_error, by_key["walliance_2 ~ walliance_1"]->value.std_error);
  // and they differ from the observed-information ones (the test can fail)
  const PanelResult standard = fit_with_se(reference, "standard");
  EXPECT_GT(std::fabs(standard.lagged[0].std_error - r.lagged[0].std_error), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Panel, RobustSe,
                         ::testing::Values(PanelReferenceCase{"robust_riclpm_missing2", "missing2.csv"},
                                           PanelReferenceCase{"robust_clpm_missing3", "missing3.csv"}));

}  // namespace
}  // namespace spiral
