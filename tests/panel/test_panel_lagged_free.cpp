// --lagged free and --compare (specification section 7.1) against lavaan 0.6-14: tests/reference/panel.R
// section `lagged_free` fits the RI-CLPM on missing2.csv with the lagged effects unlabelled (free
// over the waves) and labelled (equal), and lavTestLRT(equal, free); the file's "call" says so.
#include <cmath>
#include <cstdio>
#include <fstream>

#include "spiral/panel.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

using test::tolerance::kPanelEstimateTarget;
using test::tolerance::kPanelStandardErrorTarget;

PanelOptions missing2_options() {
  PanelOptions options;
  options.id = "patient";
  options.time = "session";
  options.vars = {"alliance", "symptoms"};
  options.fit_measures = false;
  return options;
}

Table missing2() { return read_table(test::test_path("data/panel/missing2.csv")); }

TEST(PanelLaggedFree, EqualsLavaanWithoutTheEqualityLabels) {
  const auto reference = test::reference_json("panel/riclpm_missing2_free.json");
  SCOPED_TRACE(reference["call"].get<std::string>());
  PanelOptions options = missing2_options();
  options.lagged = "free";
  options.fit_measures = true;
  const PanelResult r = fit_panel(missing2(), options);
  EXPECT_EQ(r.n_parameters, reference["n_parameters"].get<long>());
  EXPECT_NEAR(r.logLik, reference["logLik"].get<double>(), 1e-7);
  EXPECT_NEAR(r.chisq, reference["chisq"].get<double>(), 1e-6);
  EXPECT_EQ(r.chisq_df, reference["chisq_df"].get<long>());
  ASSERT_EQ(r.lagged.size(), reference["lagged"].size());
  for (std::size_t i = 0; i < r.lagged.size(); ++i) {
    const LaggedEffect& e = r.lagged[i];
    const auto& expected = reference["lagged"][i];
    SCOPED_TRACE(e.from + " -> " + e.to + " wave " + std::to_string(e.wave.value_or(-1)));
    ASSERT_TRUE(e.wave.has_value());
    EXPECT_EQ(*e.wave, expected["wave"].get<long>());
    EXPECT_EQ(e.from, expected["from"].get<std::string>());
    EXPECT_EQ(e.to, expected["to"].get<std::string>());
    EXPECT_NEAR(e.estimate, expected["estimate"].get<double>(), kPanelEstimateTarget);
    const double se = expected["std_error"].get<double>();
    EXPECT_NEAR(e.std_error, se, kPanelStandardErrorTarget * se);
    EXPECT_NEAR(e.p_value, expected["p_value"].get<double>(), 1e-5);
  }
  const Json j = to_json(r);
  EXPECT_EQ(j["lagged"][0]["wave"].get<long>(), 2);
}

// The LRT of the equal model against the free one, from either side, equals lavTestLRT(equal, free).
TEST(PanelLaggedFree, CompareWithASavedFitIsLavaansLrt) {
  const auto reference = test::reference_json("panel/riclpm_missing2_free.json");
  SCOPED_TRACE(reference["call"].get<std::string>());
  const PanelResult equal = fit_panel(missing2(), missing2_options());
  EXPECT_NEAR(equal.logLik, reference["equal_logLik"].get<double>(), 1e-7);
  const std::string saved = ::testing::TempDir() + "panel_equal_fit.json";
  std::ofstream(saved) << json_dump(to_json(equal));
  PanelOptions options = missing2_options();
  options.lagged = "free";
  options.compare = saved;
  const PanelResult free = fit_panel(missing2(), options);
  ASSERT_TRUE(free.test.has_value());
  EXPECT_NEAR(free.test->chisq, reference["lrt"]["chisq"].get<double>(), 1e-6);
  EXPECT_EQ(free.test->chisq_df, reference["lrt"]["df"].get<long>());
  EXPECT_NEAR(free.test->p_value, reference["lrt"]["p_value"].get<double>(), 1e-7);
  EXPECT_EQ(to_json(free)["test"]["chisq_df"].get<long>(), 20);
  std::remove(saved.c_str());
}

TEST(PanelLaggedFree, CompareRefusesWhatIsNotANestedFitOfTheSameData) {
  const std::string dir = ::testing::TempDir();
  PanelOptions options = missing2_options();
  options.compare = dir + "no_such_fit.json";
  EXPECT_THROW(fit_panel(missing2(), options), InputError);
  std::ofstream(dir + "not_json.json") << "logLik = 3";
  options.compare = dir + "not_json.json";
  EXPECT_THROW(fit_panel(missing2(), options), InputError);
  const PanelResult equal = fit_panel(missing2(), missing2_options());
  std::ofstream(dir + "same_model.json") << json_dump(to_json(equal));
  options.compare = dir + "same_model.json";
  EXPECT_THROW(fit_panel(missing2(), options), InputError);  // the same npar: not nested
  Json other = to_json(equal);
  other["n_patients"] = 12;
  other["n_parameters"] = 30;
  std::ofstream(dir + "other_data.json") << json_dump(other);
  options.compare = dir + "other_data.json";
  EXPECT_THROW(fit_panel(missing2(), options), InputError);
  options.compare.clear();
  options.lagged = "sometimes";
  EXPECT_THROW(fit_panel(missing2(), options), InputError);
}

}  // namespace
}  // namespace spiral
