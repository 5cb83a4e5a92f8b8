// `spiral dsem` through the CLI: the JSON of specification section 9, the same bytes on any number
// of threads, --draws, and exit code 2 with one error line for bad input.
#include <fstream>

#include "test_support.hpp"

namespace spiral {
namespace {

using test::run_spiral;

const std::string small = "--data '" + test::test_path("reference/dsem/small.csv") + "'";
const std::string columns = " --id patient --time session --vars alliance,symptoms";
const std::string quick = " --iter 300 --warmup 100";

std::string write_csv(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir("dsem-cli-" + name) + "/" + name + ".csv";
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

void expect_input_error(const std::string& arguments, const std::string& message_part) {
  const test::RunResult r = run_spiral("dsem " + arguments);
  EXPECT_EQ(r.exit_code, 2) << arguments << "\n" << r.err;
  EXPECT_EQ(r.err.rfind("spiral: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(message_part), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  return keys;
}

TEST(DsemCli, JsonHasTheContractKeys) {
  const test::RunResult r = run_spiral("dsem " + small + columns + " --between baseline" + quick + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::ordered_json::parse(r.out);
  const auto keys = keys_of(json);
  for (const char* key : {"fixed", "moderators", "random", "innovations", "diagnostics", "warnings", "n_patients"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
  EXPECT_EQ(json["n_patients"], 150);
  ASSERT_EQ(json["fixed"].size(), 6u);  // 2 means, 4 lagged effects
  EXPECT_TRUE(json["fixed"][0]["from"].is_null());
  EXPECT_EQ(json["fixed"][3]["from"], "symptoms");  // to-major: alliance<-alliance, alliance<-symptoms, ...
  EXPECT_EQ(json["fixed"][3]["to"], "alliance");
  EXPECT_EQ(keys_of(json["fixed"][2]), (std::vector<std::string>{"from", "to", "mean", "median", "sd", "conf_low",
                                                                  "conf_high", "rhat", "ess_bulk", "ess_tail"}));
  ASSERT_EQ(json["moderators"].size(), 6u);
  EXPECT_EQ(json["moderators"][0]["moderator"], "baseline");
  ASSERT_EQ(json["random"].size(), 6u);
  EXPECT_EQ(json["random"][4]["from"], "alliance");
  EXPECT_EQ(json["random"][4]["to"], "symptoms");
  EXPECT_EQ(json["innovations"].size(), 3u);
  EXPECT_EQ(keys_of(json["diagnostics"]), (std::vector<std::string>{"max_rhat", "min_ess"}));
  // 300 iterations are too few for ESS 400: the warning names parameters.
  EXPECT_NE(r.err.find("spiral: warning: bulk or tail ESS below 400"), std::string::npos) << r.err;
}

TEST(DsemCli, SameBytesOnAnyNumberOfThreads) {
  const std::string base = "dsem " + small + columns + " --random ar" + quick + " --seed 9 --format json";
  const test::RunResult one = run_spiral(base + " --threads 1");
  const test::RunResult two = run_spiral(base + " --threads 2");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, two.out);
  const test::RunResult other_seed = run_spiral("dsem " + small + columns + " --random ar" + quick + " --seed 10 --format json");
  EXPECT_NE(one.out, other_seed.out);
}

TEST(DsemCli, RandomOptionPicksTheVaryingEffects) {
  const test::RunResult r = run_spiral("dsem " + small + columns + " --random lagged" + quick + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_EQ(json["random"].size(), 4u);  // 2 means + 2 cross-lags
  EXPECT_NE(json["random"][2]["from"], json["random"][2]["to"]);
  EXPECT_EQ(json["fixed"].size(), 6u);
}

TEST(DsemCli, DrawsFileHasOneRowPerKeptDraw) {
  const std::string path = test::temp_dir("dsem-cli-draws") + "/draws.csv";
  const test::RunResult r =
      run_spiral("dsem " + small + columns + " --random none --chains 2 --iter 60 --warmup 20 --thin 2 --draws '" + path + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = test::read_text(path);
  EXPECT_EQ(text.rfind("chain,iteration,fixed:alliance,fixed:symptoms,fixed:alliance->alliance", 0), 0u) << text.substr(0, 200);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1 + 2 * 20);
  EXPECT_NE(text.find("\n2,59,"), std::string::npos);
  EXPECT_NE(r.err.find("R-hat above 1.01"), std::string::npos) << r.err;
}

TEST(DsemCli, BadInputIsAnInputError) {
  const std::string varying = write_csv("varying",
                                        "patient,session,alliance,symptoms,baseline\n"
                                        "a,1,1,2,0\na,2,2,1,0\na,3,1.5,3,1\nb,1,2,2,1\nb,2,3,1,1\nb,3,1,2,1\n");
  expect_input_error("--data '" + varying + "'" + columns + " --between baseline", "varies within patient 'a'");
  const std::string short_series = write_csv("short", "patient,session,alliance,symptoms\na,1,1,2\na,2,2,1\nb,1,2,3\nb,3,1,1\n");
  expect_input_error("--data '" + short_series + "'" + columns, "no patient has 3 sessions");
  const std::string constant = write_csv("constant",
                                         "patient,session,alliance,symptoms\na,1,1,2\na,2,1,1\na,3,1,3\nb,1,1,2\nb,2,1,1\nb,3,1,2\n");
  expect_input_error("--data '" + constant + "'" + columns, "column 'alliance' is constant");
  expect_input_error(small + columns + " --between nosuch", "unknown column 'nosuch'");
  expect_input_error(small + columns + " --iter 100 --warmup 100", "--iter 100");
  expect_input_error(small + " --id patient --time session --vars alliance", "--vars");
}

// Values whose squares overflow leave the sampler no finite precision: the analysis cannot give
// a result, exit 1 with one error line (specification section 1).
TEST(DsemCli, OverflowingValuesAreAnAnalysisError) {
  std::string text = "patient,session,alliance,symptoms\n";
  for (int i = 0; i < 30; ++i)
    for (int t = 1; t <= 4; ++t)
      text.append("p").append(std::to_string(i)).append(",").append(std::to_string(t)).append(",")
          .append(std::to_string((i * 7 + t * 3) % 5 + 1)).append("e200,")
          .append(std::to_string((i * 3 + t * 5) % 7)).append("\n");
  const std::string path = write_csv("overflow", text);
  const test::RunResult r = run_spiral("dsem --data '" + path + "'" + columns + " --random none --iter 40 --warmup 20");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("spiral: error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
}

}  // namespace
}  // namespace spiral
