// `spiral meta` figures and the options of specification section 4.1 through the CLI: --transf, the
// back-transformed axis, --xlab, --ilab, meta-regression plots, PNG resolution, no partial
// output, failing diagnostics kept as warnings. Numbers: escalc_all.json (tests/reference/meta.R,
// measure_case(): rma(yi, vi, data = escalc(...)) and predict(fit, transf = exp)).
#include <cmath>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "meta_test_util.hpp"
#include "tolerances.hpp"

namespace spiral::test {
namespace {

std::string data(const std::string& file) {
  std::string quoted = "'";  // (appended: GCC 12 gives a false -Wrestrict on "'" + string)
  quoted += test_path("data/meta/" + file);
  return quoted + "'";
}

const char* const kYusufOr = " --measure OR --ai ai --n1i n1i --ci ci --n2i n2i --slab trial";

// The numbers of every tick label on an axis: the text elements centred below the plot
// (a negative one with the typographic minus, U+2212, as the report's tables print it).
std::vector<double> centred_numbers(const std::string& svg) {
  std::vector<double> values;
  const std::regex tick("text-anchor=\"middle\">((?:−)?)([0-9.]+)</text>");  // (?:) : − is 3 bytes
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tick); it != std::sregex_iterator(); ++it)
    values.push_back(((*it)[1].length() ? -1 : 1) * std::stod((*it)[2].str()));
  return values;
}

TEST(MetaTransf, JsonAndTextCarryTheBackTransformedEstimate) {
  const RunResult r = run_spiral("meta --data " + data("yusuf1985_t9.csv") + kYusufOr + " --transf exp --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto all = reference_json("meta/escalc_all.json");
  const auto& ref = all.at("OR");  // predict(rma(yi, vi, data = escalc("OR", ...)), transf = exp)
  EXPECT_EQ(j["transformed"]["transf"], "exp");
  for (const char* key : {"estimate", "conf_low", "conf_high", "pi_low", "pi_high"})
    EXPECT_TRUE(near_relative(j["transformed"][key].get<double>(), ref["transformed"][key].get<double>(), tolerance::kMetaMeasure)) << key;
  EXPECT_TRUE(near_relative(j["logLik"].get<double>(), ref["fit"]["logLik"].get<double>(), tolerance::kMetaMeasure));
  EXPECT_TRUE(near_relative(j["AICc"].get<double>(), ref["fit"]["AICc"].get<double>(), tolerance::kMetaMeasure));
  EXPECT_EQ(j["n_dropped"], 2);  // the two trials without counts
  const RunResult text = run_spiral("meta --data " + data("yusuf1985_t9.csv") + kYusufOr + " --transf exp");
  EXPECT_NE(text.out.find("Back-transformed (exp):"), std::string::npos) << text.out;
}

TEST(MetaTransf, UnknownNameIsAnInputError) {
  const RunResult r = run_spiral("meta --data " + data("yusuf1985_t9.csv") + kYusufOr + " --transf cube");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("spiral: error: --transf: unknown transformation 'cube'", 0), 0u) << r.err;
}

// An odds ratio forest is drawn on the log scale with ticks at odds ratios 0.1 .. 10 and
// labelled "Odds Ratio"; the values column shows odds ratios (pooled 0.93 [0.76, 1.14], not -0.07).
TEST(MetaPlots, OddsRatioAxisIsBackTransformedByDefault) {
  const std::string dir = temp_dir("meta-or-axis");
  const RunResult r = run_spiral("meta --data " + data("yusuf1985_t9.csv") + kYusufOr + " --forest '" + dir + "/f.svg'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string svg = read_text(dir + "/f.svg");
  EXPECT_NE(svg.find(">Odds Ratio</text>"), std::string::npos);
  const std::vector<double> ticks = centred_numbers(svg);
  ASSERT_GE(ticks.size(), 3u);
  for (double t : ticks) {
    const double mantissa = t / std::pow(10, std::floor(std::log10(t)));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 || std::fabs(mantissa - 5) < 1e-9) << t;
  }
  EXPECT_NE(std::find(ticks.begin(), ticks.end(), 1.0), ticks.end());
  EXPECT_NE(svg.find(">0.93 [0.76, 1.14]</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Weight</text>"), std::string::npos);
}

// --transf none keeps the log scale; the funnel's axis spans the studies (yusuf1985 table 9:
// log odds ratios within -2.4 .. 2.6), not the pseudo-confidence region (it spanned -10..10).
TEST(MetaPlots, FunnelAxisFitsTheStudiesWithNiceTicks) {
  const std::string dir = temp_dir("meta-funnel-axis");
  const RunResult r = run_spiral("meta --data " + data("yusuf1985_t9.csv") + kYusufOr + " --transf none --funnel '" + dir +
                                 "/f.svg' --xlab 'Log odds ratio'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string svg = read_text(dir + "/f.svg");
  EXPECT_NE(svg.find(">Log odds ratio</text>"), std::string::npos);
  const std::vector<double> ticks = centred_numbers(svg);
  ASSERT_GE(ticks.size(), 3u);
  EXPECT_GE(ticks.front(), -4);
  EXPECT_LE(ticks.back(), 4);
}

// Negative values and ticks with the typographic minus (U+2212) as in the tables, never a
// hyphen, and never a "−0.00" (a value that rounds to zero has no sign).
TEST(MetaPlots, NegativeNumbersUseTheMinusSign) {
  const std::string dir = temp_dir("meta-minus");
  const RunResult r = run_spiral("meta --data " + data("yusuf1985_t9.csv") + kYusufOr + " --transf none --forest '" + dir +
                                 "/f.svg' --funnel '" + dir + "/u.svg'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* file : {"/f.svg", "/u.svg"}) {
    const std::string svg = read_text(dir + file);
    EXPECT_FALSE(std::regex_search(svg, std::regex(">([^<]*[ \\[])?-[0-9]"))) << file << ": a hyphen for a minus";
    EXPECT_EQ(svg.find("−0.00<"), std::string::npos) << file;
    EXPECT_EQ(svg.find("−0.00]"), std::string::npos) << file;
    EXPECT_EQ(svg.find("−0.00,"), std::string::npos) << file;
    const std::vector<double> ticks = centred_numbers(svg);
    EXPECT_TRUE(std::any_of(ticks.begin(), ticks.end(), [](double t) { return t < 0; })) << file;
  }
  EXPECT_NE(read_text(dir + "/f.svg").find(">−"), std::string::npos);
}

// Back-transformed proportions (metadat's dat.pritz1997, PLO, transf = ilogit): ticks at
// pretty proportions (0.2, 0.4, 0.6, 0.8) placed at their logits, the lowest at the lowest CI
// (metafor: summary(escalc("PLO", ...), transf = transf.ilogit)$ci.lb, min 0.2001; written by
// tests/reference/report.R), then 1, 2, 5 x 10^k towards 1 in the order of the scale.
TEST(MetaPlots, BackTransformedProportionTicksArePretty) {
  const std::string dir = temp_dir("meta-plo-axis");
  const RunResult r = run_spiral("meta --data '" + test_path("reference/report/pritz1997.csv") +
                                 "' --measure PLO --xi xi --ni ni --transf ilogit --forest '" + dir + "/f.svg'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ref = reference_json("report/pritz1997.json");
  const std::vector<double> ticks = centred_numbers(read_text(dir + "/f.svg"));
  ASSERT_GE(ticks.size(), 5u);
  EXPECT_TRUE(std::is_sorted(ticks.begin(), ticks.end()));
  EXPECT_NEAR(ticks.front(), ref["ci_lb_min"].get<double>(), 0.01) << "a tick at the lowest CI";
  std::vector<double> below_09;
  for (double t : ticks)
    if (t < 0.9) below_09.push_back(t);
  EXPECT_EQ(below_09, (std::vector<double>{0.2, 0.4, 0.6, 0.8}));
  for (double t : ticks) {
    EXPECT_LE(t, ref["ci_ub_max"].get<double>());
    EXPECT_TRUE(t < 0.9 || t == 0.9 || t == 0.95 || t == 0.98 || t == 0.99) << t;
  }
}

// A narrow range gets ticks at non-integer values (0.2 steps of a correlation).
TEST(MetaPlots, CorrelationAxisHasNonIntegerTicks) {
  const std::string dir = temp_dir("meta-zcor-axis");
  const RunResult r = run_spiral("meta --data " + data("molloy2014.csv") + " --measure ZCOR --ri ri --ni ni --slab study"
                                 " --forest '" + dir + "/f.svg'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string svg = read_text(dir + "/f.svg");
  EXPECT_NE(svg.find(">Correlation Coefficient</text>"), std::string::npos);
  const std::vector<double> ticks = centred_numbers(svg);
  ASSERT_GE(ticks.size(), 3u);
  EXPECT_TRUE(std::any_of(ticks.begin(), ticks.end(), [](double t) { return t != std::round(t); }));
}

TEST(MetaPlots, ExtraColumnsAndLabels) {
  const std::string dir = temp_dir("meta-ilab");
  const RunResult r = run_spiral("meta --data " + data("yusuf1985_t9.csv") + kYusufOr +
                                 " --ilab ai,ci --xlab 'OR (log scale)' --forest '" + dir + "/f.svg'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string svg = read_text(dir + "/f.svg");
  EXPECT_NE(svg.find(">ai</text>"), std::string::npos);
  EXPECT_NE(svg.find(">ci</text>"), std::string::npos);
  EXPECT_NE(svg.find(">74</text>"), std::string::npos);  // MIAMI's events
  EXPECT_NE(svg.find(">OR (log scale)</text>"), std::string::npos);
  const RunResult bad = run_spiral("meta --data " + data("yusuf1985_t9.csv") + kYusufOr + " --ilab nope --forest '" + dir + "/g.svg'");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--ilab"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/g.svg"));
}

// With moderators the forest draws each study's fitted value (a grey diamond) and the funnel
// the residuals; both are written.
TEST(MetaPlots, MetaRegressionForestAndResidualFunnel) {
  const std::string dir = temp_dir("meta-mods-plots");
  const RunResult r = run_spiral("meta --data " + data("bcg.csv") + " --yi yi --vi vi --slab study --mods ablat --forest '" + dir +
                                 "/f.svg' --funnel '" + dir + "/u.svg'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string forest = read_text(dir + "/f.svg"), funnel = read_text(dir + "/u.svg");
  std::size_t grey = 0;
  for (std::size_t at = forest.find("<polygon"); at != std::string::npos; at = forest.find("<polygon", at + 1))
    if (forest.compare(forest.find('>', at) - 15, 15, "fill=\"#808080\"/") == 0) ++grey;
  EXPECT_EQ(grey, 13u);
  EXPECT_NE(funnel.find(">Residual Value</text>"), std::string::npos);
}

// PNG at 300 dpi with the resolution recorded: pHYs = 11811 pixels per metre in x and y.
TEST(MetaPlots, PngRecords300Dpi) {
  const std::string dir = temp_dir("meta-png");
  const RunResult r = run_spiral("meta --data " + data("bcg.csv") + " --yi yi --vi vi --forest '" + dir + "/f.png'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string png = read_text(dir + "/f.png");
  const std::string phys = std::string("pHYs\0\0\x2e\x23\0\0\x2e\x23\x01", 13);
  EXPECT_EQ(png.find(phys), 37u);  // right after IHDR
}

// Every figure is drawn before any is written: a funnel that cannot be drawn leaves no forest.
TEST(MetaPlots, NoPartialOutput) {
  const std::string dir = temp_dir("meta-partial");
  const RunResult r = run_spiral("meta --data " + data("bcg.csv") + " --yi yi --vi vi --forest '" + dir + "/f.svg' --funnel '" +
                                 dir + "/u.gif'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir + "/f.svg"));
}

// regtest() with 2 studies cannot be fitted: a warning, "egger": null, the fit kept (exit 0).
TEST(MetaCliDiagnostics, EggerWithTwoStudiesKeepsTheFit) {
  const std::string dir = temp_dir("meta-egger2");
  std::ofstream(dir + "/two.csv") << "yi,vi\n0.1,0.02\n0.4,0.05\n";
  const RunResult r = run_spiral("meta --data '" + dir + "/two.csv' --yi yi --vi vi --egger --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["egger"].is_null());
  EXPECT_TRUE(j["estimate"].is_number());
  EXPECT_NE(r.err.find("spiral: warning: --egger: "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace spiral::test
