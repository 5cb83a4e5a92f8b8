// `spiral panel` through the CLI: JSON keys of specification section 7, text output, and
// exit code 2 with a one-line error for bad input.
#include <fstream>

#include "test_support.hpp"

namespace spiral {
namespace {

using test::run_spiral;

const std::string missing2 = "--data '" + test::test_path("data/panel/missing2.csv") + "'";
const std::string columns = " --id patient --time session";

std::string write_csv(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir("panel-cli-" + name) + "/" + name + ".csv";
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

void expect_input_error(const std::string& arguments, const std::string& message_part) {
  const test::RunResult r = run_spiral("panel " + arguments);
  EXPECT_EQ(r.exit_code, 2) << arguments << "\n" << r.err;
  EXPECT_EQ(r.err.rfind("spiral: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(message_part), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
}

TEST(PanelCli, JsonHasTheContractKeys) {
  const test::RunResult r = run_spiral("panel " + missing2 + columns + " --vars alliance,symptoms --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"model", "n_patients", "n_waves", "n_dropped", "converged", "logLik", "AIC",
                                            "BIC", "n_parameters", "chisq", "chisq_df", "chisq_p", "CFI", "TLI",
                                            "RMSEA", "SRMR", "lagged", "random_intercepts", "parameters",
                                            "warnings"}));
  ASSERT_EQ(json["lagged"].size(), 4u);
  std::vector<std::string> lagged_keys;
  for (const auto& item : json["lagged"][0].items()) lagged_keys.push_back(item.key());
  EXPECT_EQ(lagged_keys, (std::vector<std::string>{"from", "to", "estimate", "std_error", "statistic", "p_value",
                                                   "conf_low", "conf_high"}));
  EXPECT_EQ(json["random_intercepts"]["vars"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"alliance", "symptoms"}));
  EXPECT_EQ(json["n_dropped"], 1);
  // fitMeasures(fit)["logl"], reference('riclpm_missing2') in tests/reference/panel.R
  const auto reference = test::reference_json("panel/riclpm_missing2.json");
  EXPECT_TRUE(test::near_relative(json["logLik"].get<double>(), reference["logLik"].get<double>(), 1e-7));
  EXPECT_FALSE(json["warnings"].empty());
  EXPECT_NE(r.err.find("spiral: warning: 1 patients without any observed value were dropped"), std::string::npos);
}

TEST(PanelCli, ClpmHasNoRandomIntercepts) {
  const test::RunResult r =
      run_spiral("panel " + missing2 + columns + " --vars alliance,symptoms --model clpm --first 2 --last 6 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_TRUE(json["random_intercepts"].is_null());
  EXPECT_EQ(json["n_waves"], 5);
}

TEST(PanelCli, TextShowsTheLaggedEffects) {
  const test::RunResult r = run_spiral("panel " + missing2 + columns + " --vars alliance,symptoms");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Lagged effects"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  symptoms ~\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Random intercepts"), std::string::npos) << r.out;
}

// The section 7.1 options reach the library from the command line and give the contract's JSON:
// std.all per wave pair, "wave" under --lagged free, the "test" block of --compare, robust SEs
// (their values: test_panel_parameters.cpp, test_panel_lagged_free.cpp, test_panel_robust_se.cpp).
TEST(PanelCli, SectionSevenOneOptionsGiveTheirJson) {
  const std::string saved = write_csv("equal_fit.json", "");
  const test::RunResult equal = run_spiral("panel " + missing2 + columns +
                                           " --vars alliance,symptoms --standardized --se robust --format json --out '" +
                                           saved + "'");
  ASSERT_EQ(equal.exit_code, 0) << equal.err;
  std::ifstream in(saved);
  const auto fit = nlohmann::json::parse(in);
  EXPECT_EQ(fit["lagged"][0]["standardized"].size(), 6u);
  EXPECT_EQ(fit["lagged"][0]["standardized"][0]["wave"].get<long>(), 2);
  EXPECT_TRUE(fit["parameters"][0].contains("standardized"));
  const test::RunResult free = run_spiral("panel " + missing2 + columns +
                                          " --vars alliance,symptoms --lagged free --format json --compare '" + saved + "'");
  ASSERT_EQ(free.exit_code, 0) << free.err;
  const auto json = nlohmann::json::parse(free.out);
  EXPECT_EQ(json["lagged"].size(), 24u);
  EXPECT_EQ(json["lagged"][23]["wave"].get<long>(), 7);
  EXPECT_EQ(json["test"]["chisq_df"].get<long>(), 20);
  EXPECT_GT(json["test"]["chisq"].get<double>(), 0);
  EXPECT_NE(fit["lagged"][0]["std_error"], json["lagged"][0]["std_error"]);
  // A saved fit of other waves (or other variables) of the same patients is refused: the LRT
  // would compare unrelated models.
  expect_input_error(missing2 + columns + " --vars alliance,symptoms --lagged free --first 2 --compare '" + saved + "'",
                     "is a fit of 7 waves, this one of 6: not the same data");
  expect_input_error(missing2 + " --id patient --time session --vars alliance,symptoms --lagged free --compare '" +
                         write_csv("other_fit.json", R"({"logLik": 1, "n_parameters": 3, "n_patients": 200, "n_waves": 7,
                             "lagged": [{"from": "a", "to": "b"}]})") + "'",
                     "is a fit of the variables [\"a\"]");
  // a fit of other values of the same shape (another window, rescaled data): its saturated
  // model's logLik (logLik + chisq / 2) differs from this data's
  nlohmann::json other = fit;
  other["chisq"] = fit["chisq"].get<double>() + 2;
  expect_input_error(missing2 + columns + " --vars alliance,symptoms --lagged free --compare '" +
                         write_csv("edited_fit.json", other.dump()) + "'",
                     "is a fit of other data: its saturated model's logLik is");
  // the same saturated model but a smaller model with the higher logLik: a warning, not a p value of 1 in silence
  nlohmann::json higher = fit;
  higher["logLik"] = fit["logLik"].get<double>() + 1000;
  higher["chisq"] = fit["chisq"].get<double>() - 2000;
  const test::RunResult odd = run_spiral("panel " + missing2 + columns + " --vars alliance,symptoms --lagged free --compare '" +
                                         write_csv("higher_fit.json", higher.dump()) + "'");
  EXPECT_EQ(odd.exit_code, 0) << odd.err;
  EXPECT_NE(odd.err.find("the model with more parameters has the lower logLik"), std::string::npos) << odd.err;
}

TEST(PanelCli, BadOptionsAreInputErrors) {
  expect_input_error(missing2 + columns + " --vars alliance", "at least 2 variables");
  expect_input_error(missing2 + columns + " --vars alliance,nosuch", "unknown column 'nosuch'");
  expect_input_error(missing2 + " --id nosuch --time session --vars alliance,symptoms", "unknown column 'nosuch'");
  expect_input_error(missing2 + columns + " --vars alliance,symptoms --first 1 --last 2", "at least 3 waves");
  expect_input_error(missing2 + columns + " --vars alliance,symptoms --model var", "--model");
  expect_input_error(missing2 + columns + " --vars alliance,symptoms --lagged sometimes", "--lagged");
  expect_input_error(missing2 + columns + " --vars alliance,symptoms --compare /nonexistent/fit.json", "--compare");
}

TEST(PanelCli, BadDataAreInputErrors) {
  const std::string header = "patient,session,a,b\n";
  const std::string good = "p1,1,1,2\np1,2,2,1\np1,3,3,5\np2,1,2,2\np2,2,1,4\np2,3,5,3\n";
  const std::string duplicate = write_csv("duplicate", header + good + "p2,3,4,4\n");
  expect_input_error("--data '" + duplicate + "'" + columns + " --vars a,b", "patient 'p2' has two rows for session 3");
  // Two repeats: the error names the first repeating row in input order (line 8, p1's), not
  // the first patient's (p2, seen first, repeated on line 9).
  const std::string two_repeats = write_csv(
      "two_repeats", header + "p2,1,1,2\np1,1,2,1\np1,2,3,5\np2,2,2,2\np1,3,1,4\np2,3,5,3\np1,2,4,4\np2,1,4,4\n");
  expect_input_error("--data '" + two_repeats + "'" + columns + " --vars a,b",
                     ".csv:8: patient 'p1' has two rows for session 2");
  const std::string fractional = write_csv("fractional", header + good + "p3,1.5,4,4\n");
  expect_input_error("--data '" + fractional + "'" + columns + " --vars a,b", "integer sessions, found '1.5'");
  const std::string constant = write_csv("constant", "patient,session,a,b\np1,1,1,2\np1,2,1,1\np1,3,1,5\np2,1,1,3\n");
  expect_input_error("--data '" + constant + "'" + columns + " --vars a,b", "column 'a' is constant");
  const std::string two_waves = write_csv("two", "patient,session,a,b\np1,1,1,2\np1,2,2,1\np2,1,3,3\n");
  expect_input_error("--data '" + two_waves + "'" + columns + " --vars a,b", "at least 3 waves");
}

// The command of issue 28 that ended "the optimizer failed: " with no reason (exit 1) while
// lavaan converges (reference produc_unemp_lgsp_1970.json of panel.R section real: lavaan's
// best logLik, which spiral reaches).
TEST(PanelCli, ProducWindowThatFailedWithoutAReasonFits) {
  const auto reference = test::reference_json("panel/produc_unemp_lgsp_1970.json");
  const test::RunResult r = run_spiral("panel --data '" + test::test_path("data/panel/produc_long.csv") +
                                       "' --id state --time year --vars unemp,lgsp --first 1970 --last 1974 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_GE(json["logLik"].get<double>(), reference["logLik"].get<double>() - 1e-6);
}

// A fit that fails names its reason after "the optimizer failed: " (specification section 7.1), on the
// study lavaan cannot fit either (riclpm_nonconvergent.json: converged = FALSE).
TEST(PanelCli, AFailedFitSaysWhy) {
  EXPECT_FALSE(test::reference_json("panel/riclpm_nonconvergent.json")["converged"].get<bool>());
  const test::RunResult r = run_spiral("panel --data '" + test::test_path("data/panel/nonconvergent.csv") + "'" +
                                       columns + " --vars alliance,symptoms");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::string lead = "spiral: error: panel: the optimizer failed: ";
  ASSERT_EQ(r.err.rfind(lead, 0), 0u) << r.err;
  EXPECT_GT(r.err.size(), lead.size() + 10) << r.err;
}

}  // namespace
}  // namespace spiral
