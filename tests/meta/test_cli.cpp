// `spiral meta` through the CLI: specification section 4's JSON keys, exit codes for bad input,
// and the figures.
#include <filesystem>
#include <fstream>

#include "meta_test_util.hpp"
#include "tolerances.hpp"

namespace spiral::test {
namespace {

std::string data(const std::string& file) {
  std::string quoted(1, '\'');
  quoted += test_path("data/meta/" + file);
  quoted += '\'';
  return quoted;
}

const char* const kBcg = " --yi yi --vi vi --slab study";

TEST(MetaCli, JsonHasEveryContractKeyAndMetaforsNumbers) {
  const RunResult r = run_spiral("meta --data " + data("bcg.csv") + kBcg + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"k", "n_dropped", "method", "test", "estimate", "std_error", "statistic", "p_value", "conf_low",
                          "conf_high", "pi_low", "pi_high", "tau2", "tau2_se", "tau2_conf_low", "tau2_conf_high", "tau",
                          "I2", "H2", "Q", "Q_df", "Q_p", "coefficients", "QM", "QM_df", "QM_p", "R2", "egger",
                          "trimfill", "leave1out", "warnings"})
    EXPECT_TRUE(j.contains(key)) << key;
  // rma_bcg.json REML_z: rma(yi, vi, data = bcg)
  const auto ref = reference_json("meta/rma_bcg.json").at("REML_z");
  EXPECT_TRUE(near_relative(j["estimate"].get<double>(), ref["estimate"].get<double>(), tolerance::kMetaClosedForm));
  EXPECT_TRUE(near_relative(j["tau2_conf_high"].get<double>(), ref["tau2_conf_high"].get<double>(), tolerance::kMetaIterative));
  EXPECT_EQ(j["method"], "REML");
  EXPECT_EQ(j["k"], 13);
  EXPECT_EQ(j["n_dropped"], 0);
}

TEST(MetaCli, MeasureModsDiagnosticsAndKnha) {
  const RunResult r = run_spiral("meta --data " + data("bcg_2x2.csv") +
                                 " --measure RR --ai tpos --bi tneg --ci cpos --di cneg --slab study --test knha"
                                 " --egger --trimfill --leave1out --influence --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_dropped"], 1);
  EXPECT_EQ(j["k"], 14);
  EXPECT_EQ(j["test"], "knha");
  EXPECT_EQ(j["leave1out"].size(), 14u);
  EXPECT_EQ(j["influence"].size(), 14u);
  EXPECT_TRUE(j["egger"]["statistic"].is_number());
  EXPECT_TRUE(j["trimfill"]["k0"].is_number_integer());
  EXPECT_NE(r.err.find("spiral: warning: 1 row(s) with missing values dropped"), std::string::npos) << r.err;
  ASSERT_EQ(j["warnings"].size(), 1u);
}

TEST(MetaCli, ModeratorsGiveQmAndR2) {
  const RunResult r = run_spiral("meta --data " + data("bcg.csv") + kBcg + " --mods 'ablat + alloc' --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["coefficients"].size(), 4u);
  EXPECT_EQ(j["coefficients"][0]["term"], "intrcpt");
  EXPECT_EQ(j["coefficients"][2]["term"], "allocrandom");
  EXPECT_EQ(j["QM_df"], 3);
  EXPECT_TRUE(j["R2"].is_number());
  EXPECT_TRUE(j["estimate"].is_null());
}

TEST(MetaCli, TextAndCsv) {
  RunResult r = run_spiral("meta --data " + data("bcg.csv") + kBcg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Random-Effects Model (k = 13; tau^2 estimator: REML)"), std::string::npos) << r.out;
  r = run_spiral("meta --data " + data("bcg.csv") + kBcg + " --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("term,estimate,std_error,statistic,p_value,conf_low,conf_high\nintrcpt,", 0), 0u) << r.out;
}

struct BadInput {
  const char* name;
  std::string arguments;
  int exit_code;
  const char* message;
};

class MetaCliErrors : public ::testing::TestWithParam<BadInput> {};

TEST_P(MetaCliErrors, ExitCodeAndOneLineMessage) {
  const BadInput c = GetParam();
  const RunResult r = run_spiral("meta " + c.arguments);
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  EXPECT_EQ(r.err.rfind("spiral: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Bad, MetaCliErrors,
    ::testing::Values(BadInput{"MissingColumn", "--data " + data("bcg.csv") + " --yi yi --vi variance", 2, "variance"},
                      BadInput{"NoVariance", "--data " + data("bcg.csv") + " --yi yi", 2, "--vi or --sei"},
                      BadInput{"IncompleteMeasure", "--data " + data("normand1999.csv") + " --measure SMD --m1i m1i", 2, "--sd1i"},
                      BadInput{"UnknownModerator", "--data " + data("bcg.csv") + " --yi yi --vi vi --mods latitude", 2, "latitude"},
                      BadInput{"NonNumeric", "--data " + data("bcg.csv") + " --yi study --vi vi", 2, "study"},
                      BadInput{"UnknownMethod", "--data " + data("bcg.csv") + " --yi yi --vi vi --method XX", 2, "method"},
                      BadInput{"BadPlotExtension", "--data " + data("bcg.csv") + " --yi yi --vi vi --forest plot.gif", 2, ".svg"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MetaCliErrors, NegativeVarianceConstantModeratorAndOneStudy) {  // a constant moderator is dropped as metafor does
  const std::string dir = temp_dir("meta-bad");
  std::ofstream(dir + "/neg.csv") << "yi,vi\n0.1,0.02\n0.3,-0.01\n0.2,0.03\n";
  RunResult r = run_spiral("meta --data '" + dir + "/neg.csv' --yi yi --vi vi");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
  std::ofstream(dir + "/constant.csv") << "yi,vi,x\n0.1,0.02,1\n0.3,0.01,1\n0.2,0.03,1\n";
  r = run_spiral("meta --data '" + dir + "/constant.csv' --yi yi --vi vi --mods x");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("spiral: warning: Redundant predictors dropped from the model."), std::string::npos) << r.err;
  std::ofstream(dir + "/one.csv") << "yi,vi\n0.1,0.02\n0.3,\n";
  r = run_spiral("meta --data '" + dir + "/one.csv' --yi yi --vi vi --format json");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("at least 2 studies"), std::string::npos) << r.err;
}

TEST(MetaCliPlots, ForestAndFunnelInEveryFormat) {
  const std::string dir = temp_dir("meta-plots");
  for (const char* ext : {"svg", "pdf", "png"}) {
    const std::string forest = dir + "/forest." + ext, funnel = dir + "/funnel." + ext;
    const RunResult r = run_spiral("meta --data " + data("bcg.csv") + kBcg + " --trimfill --forest '" + forest +
                                   "' --funnel '" + funnel + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string forest_bytes = read_text(forest), funnel_bytes = read_text(funnel);
    EXPECT_GT(forest_bytes.size(), 1000u);
    EXPECT_GT(funnel_bytes.size(), 1000u);
    const std::string magic = std::string(ext) == "svg" ? "<?xml" : std::string(ext) == "pdf" ? "%PDF" : "\x89PNG";
    EXPECT_EQ(forest_bytes.rfind(magic, 0), 0u) << ext;
    EXPECT_EQ(funnel_bytes.rfind(magic, 0), 0u) << ext;
  }
}

// Text is SVG text (selectable, editable), not cairo's glyph outlines, so a plot is small.
TEST(MetaPlots, SvgTextIsTextAndSmall) {
  const std::string svg = forest_svg(fit_meta(bcg_input(), {}));
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find(">Aronson 1948</text>"), std::string::npos);
  EXPECT_NE(svg.find(">RE Model (Q = 152.23, df = 12, p &lt; .001; I\u00b2 = 92.2%)</text>"), std::string::npos);
  EXPECT_EQ(svg.find("<symbol"), std::string::npos);
  EXPECT_LT(svg.size(), 20000u);
  const std::string funnel = funnel_svg(fit_meta(bcg_input(), {}));
  EXPECT_NE(funnel.find(">Standard Error</text>"), std::string::npos);
  EXPECT_LT(funnel.size(), 8000u);
}

TEST(MetaPlots, SvgBytesDoNotDependOnEarlierPlots) {
  const std::string first = forest_svg(fit_meta(bcg_input(), {}));
  const std::string funnel = funnel_svg(fit_meta(bcg_input(), {}));
  const std::string again = forest_svg(fit_meta(bcg_input(), {}));
  EXPECT_EQ(first, again);
  EXPECT_NE(funnel.find("id=\"clip1\""), std::string::npos);
}

}  // namespace
}  // namespace spiral::test
