// --se robust (specification section 7.1) against lavaan 0.6-14's estimator = "MLR" (Huber-White
// sandwich, first-order meat from the casewise scores): tests/reference/panel.R section `robust`
// writes every free row of parameterEstimates() for the RI-CLPM on missing2.csv and the CLPM on
// missing3.csv; each file's "call" says so.
#include <cmath>
#include <map>

#include "spiral/panel.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

struct RobustCase {
  const char* reference;
  const char* data;
};

class RobustSe : public ::testing::TestWithParam<RobustCase> {};

PanelResult fit_case(const nlohmann::json& reference, const std::string& data, const std::string& se) {
  PanelOptions options;
  options.id = "patient";
  options.time = "session";
  options.vars = reference["vars"].get<std::vector<std::string>>();
  options.model = reference["model"].get<std::string>();
  options.fit_measures = false;
  options.se = se;
  return fit_panel(read_table(test::test_path("data/panel/" + data)), options);
}

TEST_P(RobustSe, EveryStandardErrorIsLavaansMlr) {
  const auto reference = test::reference_json(std::string("panel/") + GetParam().reference + ".json");
  SCOPED_TRACE(reference["call"].get<std::string>());
  const PanelResult r = fit_case(reference, GetParam().data, "robust");
  std::map<std::string, const PanelParameter*> by_key;
  for (const PanelParameter& p : r.parameters) by_key[p.lhs + " " + p.op + " " + p.rhs] = &p;
  ASSERT_EQ(r.parameters.size(), reference["parameters"].size());
  for (const auto& expected : reference["parameters"]) {
    const std::string key = expected["lhs"].get<std::string>() + " " + expected["op"].get<std::string>() + " " +
                            expected["rhs"].get<std::string>();
    SCOPED_TRACE(key);
    ASSERT_TRUE(by_key.count(key));
    const double se = expected["se"].get<double>();
    // lavaan's estimates stop ~1e-6 from the optimum (nlminb's tolerance), which moves its SEs by ~1e-5 relative
    EXPECT_NEAR(by_key[key]->value.estimate, expected["est"].get<double>(), 1e-5);
    EXPECT_NEAR(by_key[key]->value.std_error, se, test::tolerance::kPanelStandardErrorTarget * se);
  }
  // the lagged records use the same SEs
  EXPECT_EQ(r.lagged[0].std_error, by_key[r.model == "riclpm" ? "walliance_2 ~ walliance_1" : "walliance_2 ~ walliance_1"]
                                       ->value.std_error);
  // and they differ from the observed-information ones (the test can fail)
  const PanelResult standard = fit_case(reference, GetParam().data, "standard");
  EXPECT_GT(std::fabs(standard.lagged[0].std_error - r.lagged[0].std_error), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Panel, RobustSe,
                         ::testing::Values(RobustCase{"robust_riclpm_missing2", "missing2.csv"},
                                           RobustCase{"robust_clpm_missing3", "missing3.csv"}));

}  // namespace
}  // namespace spiral
