// `spiral lmm` on the command line: JSON keys of specification section 3, exit codes, files.
#include <algorithm>
#include <fstream>

#include "spiral/lmm.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

using test::run_spiral;
using test::test_path;

std::string data_option(const std::string& name) { return "--data '" + test_path("data/lmm/" + name) + "'"; }

std::string write_csv(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir("lmm-cli-data") + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(LmmCli, JsonHasTheContractKeysInOrder) {
  const auto r = run_spiral("lmm " + data_option("sleepstudy.csv") +
                            " --formula 'Reaction ~ Days + (Days | Subject)' --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  const std::vector<std::string> expected{"method", "n_obs",    "n_dropped", "converged", "singular", "criterion",
                                          "logLik", "AIC",      "BIC",       "df_model",  "sigma",    "groups",
                                          "fixed",  "random",   "ar1",       "theta",     "warnings"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(j["method"], "REML");
  EXPECT_EQ(j["n_obs"], 180);
  EXPECT_TRUE(j["ar1"].is_null());
  const auto& fixed = j["fixed"][1];
  EXPECT_EQ(fixed["term"], "Days");
  for (const char* key : {"estimate", "std_error", "df", "statistic", "p_value", "conf_low", "conf_high"})
    EXPECT_TRUE(fixed[key].is_number()) << key;
  EXPECT_EQ(j["random"][0]["terms"], nlohmann::ordered_json({"(Intercept)", "Days"}));
  EXPECT_EQ(j["theta"].size(), 3u);
  // Only the frame's note on Days (0..9, whole numbers), on stderr and in the JSON.
  EXPECT_EQ(r.err.rfind("spiral: warning: column 'Days' holds 10 distinct whole numbers", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(j["warnings"].size(), 1u);
}

TEST(LmmCli, DfNoneGivesNullDfAndTextTable) {
  const auto json = run_spiral("lmm " + data_option("sleepstudy.csv") +
                               " --formula 'Reaction ~ Days + (Days | Subject)' --ml --df none --format json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["method"], "ML");
  EXPECT_TRUE(j["fixed"][0]["df"].is_null());
  const auto text = run_spiral("lmm " + data_option("sleepstudy.csv") + " --formula 'Reaction ~ Days + (Days | Subject)'");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("REML criterion at convergence: 1743.6"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("t-tests use Satterthwaite's method"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Days"), std::string::npos);
}

TEST(LmmCli, CompareAndRanefFile) {
  const auto c = run_spiral("lmm " + data_option("sleepstudy.csv") +
                            " --formula 'Reaction ~ Days + (1 | Subject)' --compare 'Reaction ~ Days + (Days | Subject)'"
                            " --format json");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const auto j = nlohmann::json::parse(c.out);
  EXPECT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["chisq_df"], 2);
  for (const char* key : {"formula", "df_model", "AIC", "BIC", "logLik", "deviance"})
    EXPECT_TRUE(j["models"][0].contains(key)) << key;

  const std::string ranef = test::temp_dir("lmm-ranef") + "/ranef.csv";
  const auto r = run_spiral("lmm " + data_option("sleepstudy.csv") +
                            " --formula 'Reaction ~ Days + (Days | Subject)' --df none --ranef '" + ranef + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = test::read_text(ranef);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "group,level,term,estimate,std_error");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 36);
}

TEST(LmmCli, Ar1ReportsPhi) {
  const auto r = run_spiral("lmm " + data_option("ar1_gaps.csv") +
                            " --formula 'y ~ x + session + (1 | patient)' --ar1 session --df none --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["ar1"].is_object());
  EXPECT_GT(j["ar1"]["phi"].get<double>(), 0.1);
  EXPECT_EQ(j["df_model"], 6);
}

void expect_input_error(const std::string& arguments, const std::string& fragment) {
  const auto r = run_spiral("lmm " + arguments);
  EXPECT_EQ(r.exit_code, 2) << arguments << "\n" << r.err;
  EXPECT_EQ(r.err.rfind("spiral: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(LmmCli, BadInputExitsWithTwo) {
  // A factor response.
  expect_input_error(data_option("pastes.csv") + " --formula 'batch ~ 1 + (1 | cask)'", "batch");
  // A grouping factor with a single level.
  const std::string one = write_csv("one_level.csv", "y,x,g\n1,1,a\n2,2,a\n3,1,a\n4,5,a\n");
  expect_input_error("--data '" + one + "' --formula 'y ~ x + (1 | g)'", "level");
  // As many random effects as observations.
  const std::string many = write_csv("many.csv", "y,x,g\n1,1,a\n2,2,a\n3,1,b\n4,5,b\n");
  expect_input_error("--data '" + many + "' --formula 'y ~ 1 + (x | g)'", "random effects");
  // Inf in a used variable.
  const std::string inf = write_csv("inf.csv", "y,x,g\n1,Inf,a\n2,2,a\n3,1,b\n4,5,b\n5,1,c\n6,2,c\n");
  expect_input_error("--data '" + inf + "' --formula 'y ~ x + (1 | g)'", "x");
  // Bad option values.
  expect_input_error(data_option("sleepstudy.csv") + " --formula 'Reaction ~ Days + (1 | Subject)' --df kenward",
                     "--df");
  // No random term.
  expect_input_error(data_option("sleepstudy.csv") + " --formula 'Reaction ~ Days'", "random");
  // Duplicate AR(1) times within a group.
  const std::string dup = write_csv("dup.csv", "y,t,g\n1,1,a\n2,1,a\n3,1,b\n4,2,b\n5,1,c\n6,2,c\n");
  expect_input_error("--data '" + dup + "' --formula 'y ~ 1 + (1 | g)' --ar1 t", "--ar1");
  // AR(1) with crossed factors ran within one of them without a word.
  const std::string crossed = write_csv("crossed_ar1.csv", "y,t,a,b\n1,1,p,x\n2,2,p,y\n3,1,q,x\n4,2,q,y\n5,1,r,x\n6,2,r,y\n");
  expect_input_error("--data '" + crossed + "' --formula 'y ~ 1 + (1 | a) + (1 | b)' --ar1 t",
                     "--ar1: grouping factor 'a' is not nested in 'b'");
  // A likelihood-ratio test of models of different responses (it printed Chisq 0, p = 1).
  expect_input_error(data_option("sleepstudy.csv") + " --formula 'Reaction ~ Days + (1 | Subject)'" +
                         " --compare 'Days ~ 1 + (1 | Subject)'",
                     "--compare: the models have different responses ('Reaction' and 'Days')");
  // A compared formula naming a column the data lack: the error names that formula (it named
  // none, from the first model's fit, which reads every formula's columns).
  expect_input_error(data_option("sleepstudy.csv") + " --formula 'Reaction ~ Days + (1 | Subject)'" +
                         " --compare 'Reaction ~ Days + Dys + (1 | Subject)'",
                     "--compare: " + test_path("data/lmm/sleepstudy.csv") +
                         " has no column 'Dys' (formula 'Reaction ~ Days + Dys + (1 | Subject)')");
  // Level 100 gave Boost's internal error (exit 1).
  expect_input_error(data_option("sleepstudy.csv") + " --formula 'Reaction ~ Days + (1 | Subject)' --level 100", "--level");
}

TEST(LmmCli, ConstantResponseIsAnAnalysisFailure) {
  // No residual variance: the profiled deviance is -Inf (lme4: REML criterion -Inf); exit 1.
  const std::string constant = write_csv("constant.csv", "y,x,g\n1,1,a\n1,2,a\n1,1,b\n1,5,b\n1,1,c\n1,2,c\n");
  const auto r = run_spiral("lmm --data '" + constant + "' --formula 'y ~ x + (1 | g)'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("spiral: error: lmm: the fixed effects fit the response exactly"), std::string::npos) << r.err;
}

TEST(LmmCli, FactorAndReferenceLevelOptions) {
  // R: lmer(weight ~ factor(Time) + relevel(Diet, "d2") + (1 | Rat), BodyWeight): the terms
  // Time8 ... and Dietd1, Dietd3; no number-coded warning for a column read as a factor.
  const auto r = run_spiral("lmm " + data_option("bodyweight.csv") +
                            " --formula 'weight ~ Time + Diet + (1 | Rat)' --factor Time --ref Diet=d2 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> terms;
  for (const auto& f : j["fixed"]) terms.push_back(f["term"]);
  EXPECT_EQ(terms, (std::vector<std::string>{"(Intercept)", "Time8", "Time15", "Time22", "Time29", "Time36", "Time43",
                                             "Time44", "Time50", "Time57", "Time64", "Dietd1", "Dietd3"}));
  EXPECT_EQ(r.err.find("distinct whole numbers"), std::string::npos) << r.err;
  const auto bad = run_spiral("lmm " + data_option("bodyweight.csv") + " --formula 'weight ~ Diet + (1 | Rat)' --ref Diet=d9");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "spiral: error: --ref Diet=d9: column 'Diet' has no level 'd9' (its levels: d1, d2, d3)\n");
  const auto malformed = run_spiral("lmm " + data_option("bodyweight.csv") + " --formula 'weight ~ Diet + (1 | Rat)' --ref Diet");
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_EQ(malformed.err, "spiral: error: --ref: expected COLUMN=LEVEL, got 'Diet'\n");
}


TEST(LmmCli, WeightsAugmentAndPredictWriteTheirFiles) {
  // The numbers are tested against lme4 in test_lmm_predict.cpp; here the files and warnings.
  const std::string dir = test::temp_dir("lmm-cli-predict");
  const auto r = run_spiral("lmm " + data_option("sleepstudy_weights.csv") +
                            " --formula 'Reaction ~ Days + (Days | Subject)' --weights w --augment '" + dir +
                            "/augment.csv' --newdata '" + test_path("data/lmm/predict_sleepstudy.csv") + "' --predict '" +
                            dir + "/predict.csv' --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_obs"], 177);
  EXPECT_EQ(j["n_dropped"], 3);
  const std::string augment = test::read_text(dir + "/augment.csv");
  EXPECT_EQ(augment.substr(0, augment.find('\n')), "Reaction,Days,Subject,w,.fitted,.resid,.fixed");
  EXPECT_EQ(std::count(augment.begin(), augment.end(), '\n'), 178);
  const std::string predict = test::read_text(dir + "/predict.csv");
  EXPECT_EQ(predict.substr(0, predict.find('\n')), "Subject,Days,.fitted");
  EXPECT_EQ(std::count(predict.begin(), predict.end(), '\n'), 13);
  EXPECT_NE(r.err.find("spiral: warning: 3 rows with missing values dropped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("spiral: warning: 4 rows of the new data with a grouping level the fit never saw"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(j["warnings"].size(), 3u);  // dropped rows, Days' number coding, the new subject
}

TEST(LmmCli, PopulationPredictionsNeedNoGroupingColumn) {
  const std::string dir = test::temp_dir("lmm-cli-predict-na");
  const std::string newdata = write_csv("days.csv", "Days\n0\n10\n");
  const auto r = run_spiral("lmm " + data_option("sleepstudy.csv") + " --formula 'Reaction ~ Days + (Days | Subject)'" +
                            " --newdata '" + newdata + "' --predict '" + dir + "/p.csv' --re-form NA");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string predict = test::read_text(dir + "/p.csv");
  // lme4: fixef(fm1) = 251.405104848485, 10.467285959596 (sleepstudy_reml.json).
  EXPECT_EQ(predict.substr(0, 13), "Days,.fitted\n");
  const auto fixed = test::reference_json("lmm/sleepstudy_reml.json")["fixed"];
  const double intercept = fixed[0]["estimate"], slope = fixed[1]["estimate"];
  const auto values = read_table(dir + "/p.csv").column(".fitted").numbers;
  ASSERT_EQ(values.size(), 2u);
  EXPECT_NEAR(values[0], intercept, 1e-4 * intercept);
  EXPECT_NEAR(values[1], intercept + 10 * slope, 1e-4 * intercept);
}

TEST(LmmCli, BadWeightsAndNewDataAreInputErrors) {
  const std::string formula = " --formula 'Reaction ~ Days + (1 | Subject)'";
  const std::string negative = write_csv("negative.csv", "Reaction,Days,Subject,w\n1,0,a,1\n2,1,a,-1\n3,0,b,1\n5,1,b,2\n4,2,c,1\n");
  expect_input_error("--data '" + negative + "'" + formula + " --weights w", "weight 'w' is -1");
  const std::string zero = write_csv("zero.csv", "Reaction,Days,Subject,w\n1,0,a,1\n2,1,a,0\n3,0,b,1\n5,1,b,2\n4,2,c,1\n");
  expect_input_error("--data '" + zero + "'" + formula + " --weights w", "weight 'w' is 0");
  const std::string missing = write_csv("missing.csv", "Reaction,Days,Subject,w\n1,0,a,1\n2,1,a,NA\n3,0,b,1\n5,1,b,2\n4,2,c,1\n");
  expect_input_error("--data '" + missing + "'" + formula + " --weights w", "weight 'w' is missing");
  expect_input_error(data_option("sleepstudy.csv") + formula + " --weights nosuch", "nosuch");
  const std::string out = test::temp_dir("lmm-cli-predict-errors") + "/p.csv";
  const std::string no_days = write_csv("no_days.csv", "Subject\n308\n");
  expect_input_error(data_option("sleepstudy.csv") + formula + " --newdata '" + no_days + "' --predict '" + out + "'",
                     "Days");
  expect_input_error(data_option("cake.csv") + " --formula 'angle ~ factor(temp) + (1 | replicate)' --newdata '" +
                         write_csv("hot.csv", "replicate,temp\n1,230\n") + "' --predict '" + out + "'",
                     "230");
  expect_input_error(data_option("sleepstudy.csv") + formula + " --predict '" + out + "'", "--predict: needs --newdata");
  expect_input_error(data_option("sleepstudy.csv") + formula + " --newdata '" + no_days + "'", "--newdata: needs --predict");
  expect_input_error(data_option("sleepstudy.csv") + formula + " --newdata '" + no_days + "' --predict '" + out +
                         "' --re-form NULL",
                     "--re-form");
}

}  // namespace
}  // namespace spiral
