// `spiral ipd` and `spiral prep` from the command line: outputs, federated mode, and bad
// input giving `spiral: error:` with exit 2 and no partial output directory.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace spiral {
namespace {

namespace fs = std::filesystem;
using test::run_spiral;

std::string spec_path() { return test::test_path("data/ipd/analysis.toml"); }

// A spec beside the test data with one line changed or appended.
std::string spec_variant(const std::string& name, const std::string& from, const std::string& to) {
  std::string text = test::read_text(spec_path());
  if (!from.empty()) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  } else {
    text += to;
  }
  const std::string dir = test::temp_dir("spec-" + name);
  for (const char* f : {"sessions.csv", "patients.csv"}) fs::copy_file(test::test_path(std::string("data/ipd/") + f), dir + "/" + f);
  const std::string path = dir + "/analysis.toml";
  std::ofstream(path) << text;
  return path;
}

// Nothing named DIR nor a hidden staging directory beside it.
void expect_no_output(const std::string& dir) {
  EXPECT_FALSE(fs::exists(dir)) << dir;
  std::string staging_prefix = ".";
  staging_prefix += fs::path(dir).filename().string();
  for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path()))
    EXPECT_EQ(e.path().filename().string().find(staging_prefix), std::string::npos) << e.path();
}

void expect_input_error(const std::string& args, const std::string& dir, const std::string& message_part) {
  const auto r = run_spiral(args);
  EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
  EXPECT_EQ(r.err.rfind("spiral: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(message_part), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  if (!dir.empty()) expect_no_output(dir);
}

TEST(IpdCli, RunWritesEveryOutput) {
  const std::string dir = test::temp_dir("cli-run") + "/out";
  const auto r = run_spiral("ipd run --spec '" + spec_path() + "' --out '" + dir + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("spiral: warning: study 'Lund', model 'feedback' left out of stage 2"), std::string::npos);
  const auto results = nlohmann::json::parse(test::read_text(dir + "/results.json"));
  EXPECT_EQ(results.at("pooled").size(), 64u);  // as tests/reference/ipd/stage2.csv (the post model has no intercept term)
  EXPECT_EQ(results.at("studies").size(), 5u);
  EXPECT_EQ(results.at("pooled")[1].at("term"), "Pw_lag1");
  EXPECT_TRUE(results.at("pooled")[1].contains("tau2_conf_low"));
  EXPECT_TRUE(fs::exists(dir + "/stage1.csv"));
  EXPECT_TRUE(fs::exists(dir + "/stage2.csv"));
  EXPECT_TRUE(fs::exists(dir + "/forest-process_to_outcome-Pw_lag1.svg"));
  EXPECT_TRUE(fs::exists(dir + "/forest-process_to_outcome_cross-Pw_lag1_x_Pm.svg"));
  const std::string html = test::read_text(dir + "/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("id=\"glyph"), std::string::npos);  // inline SVG ids made unique per figure
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_NE(html.find("moderators = [&quot;year&quot;]"), std::string::npos);  // the exact spec
  EXPECT_NE(html.find("spiral 0."), std::string::npos);
  const std::string docx = test::read_text(dir + "/report.docx");  // always beside report.html
  EXPECT_EQ(docx.substr(0, 4), std::string("PK\x03\x04", 4)) << "a zip archive";
}

TEST(IpdCli, FederatedStage1AndStage2EqualRun) {
  const std::string dir = test::temp_dir("cli-fed");
  ASSERT_EQ(run_spiral("ipd run --spec '" + spec_path() + "' --threads 1 --out '" + dir + "/run'").exit_code, 0);
  std::string bundles;
  for (const char* study : {"Bern", "Leipzig", "Lund", "Ulm", "Zurich"}) {
    const std::string b = dir + "/" + study + ".json";
    const auto r = run_spiral("ipd stage1 --spec '" + spec_path() + "' --study " + study + " --out '" + b + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    bundles += " '" + b + "'";
  }
  const auto r = run_spiral("ipd stage2 --spec '" + spec_path() + "' --bundles" + bundles + " --out '" + dir + "/fed'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"results.json", "stage1.csv", "stage2.csv"})
    EXPECT_EQ(test::read_text(dir + "/fed/" + f), test::read_text(dir + "/run/" + f)) << f;
}

// One study left: nothing can be pooled, which is no valid result (specification section 1: exit 1).
TEST(IpdCli, Stage2OfOneStudyIsExitOneWithoutOutput) {
  const std::string dir = test::temp_dir("cli-one");
  const std::string bundle = dir + "/Bern.json";
  ASSERT_EQ(run_spiral("ipd stage1 --spec '" + spec_path() + "' --study Bern --out '" + bundle + "'").exit_code, 0);
  const auto r = run_spiral("ipd stage2 --spec '" + spec_path() + "' --bundles '" + bundle + "' --out '" + dir + "/out'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("spiral: error: stage 2: no term has estimates from 2 or more studies (1 study), so nothing "
                       "was pooled\n"),
            std::string::npos)
      << r.err;
  expect_no_output(dir + "/out");
}

// A site sees what stage 1 found in its study (it printed nothing; only the bundle held it).
TEST(IpdCli, Stage1WarnsAsRunDoes) {
  const std::string bundle = test::temp_dir("cli-stage1-warn") + "/Lund.json";
  const auto r = run_spiral("ipd stage1 --spec '" + spec_path() + "' --study Lund --out '" + bundle + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("spiral: warning: study 'Lund', model 'feedback' left out of stage 2: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stage-1 fits are singular"), std::string::npos) << r.err;
}

TEST(IpdCli, Stage1RefusesSmallStudiesAndUnknownStudies) {
  const std::string dir = test::temp_dir("cli-small");
  expect_input_error("ipd stage1 --spec '" + spec_variant("priv", "min_patients = 10", "min_patients = 40") +
                         "' --study Zurich --out '" + dir + "/z.json'",
                     "", "fewer than [privacy] min_patients = 40");
  EXPECT_FALSE(fs::exists(dir + "/z.json"));
  expect_input_error("ipd stage1 --spec '" + spec_path() + "' --study Paris --out '" + dir + "/p.json'", "",
                     "study 'Paris' does not exist");
}

TEST(IpdCli, Stage2RejectsBundlesOfAnotherSpec) {
  const std::string dir = test::temp_dir("cli-hash");
  const std::string other = spec_variant("hash", "test = \"knha\"", "test = \"z\"");
  ASSERT_EQ(run_spiral("ipd stage1 --spec '" + other + "' --study Ulm --out '" + dir + "/u.json'").exit_code, 0);
  ASSERT_EQ(run_spiral("ipd stage1 --spec '" + spec_path() + "' --study Bern --out '" + dir + "/b.json'").exit_code, 0);
  expect_input_error("ipd stage2 --spec '" + spec_path() + "' --bundles '" + dir + "/b.json' '" + dir +
                         "/u.json' --out '" + dir + "/out'",
                     dir + "/out", "u.json: made with a different spec");
}

// A bundle edited or damaged to a standard error that is no positive number: stage 2 left
// that study out of the term without a word.
TEST(IpdCli, Stage2RejectsABundleWithANonPositiveStandardError) {
  const std::string dir = test::temp_dir("cli-damaged");
  ASSERT_EQ(run_spiral("ipd stage1 --spec '" + spec_path() + "' --study Bern --out '" + dir + "/b.json'").exit_code, 0);
  ASSERT_EQ(run_spiral("ipd stage1 --spec '" + spec_path() + "' --study Ulm --out '" + dir + "/u.json'").exit_code, 0);
  auto bundle = nlohmann::json::parse(test::read_text(dir + "/b.json"));
  bundle["models"][0]["terms"][1]["std_error"] = -1;
  std::ofstream(dir + "/b.json") << bundle.dump();
  expect_input_error("ipd stage2 --spec '" + spec_path() + "' --bundles '" + dir + "/b.json' '" + dir +
                         "/u.json' --out '" + dir + "/out'",
                     dir + "/out", "b.json: model 'process_to_outcome', term 'Pw_lag1': the standard error -1 is not a positive number");
}

TEST(IpdCli, BadInputIsExitTwoWithoutOutput) {
  const std::string dir = test::temp_dir("cli-bad") + "/out";
  const std::string run = "ipd run --out '" + dir + "' --spec ";
  expect_input_error(run + "'" + spec_variant("unknown-key", "panel = false", "panels = false") + "'", dir,
                     "model.panels: unknown key");
  expect_input_error(run + "'" + spec_variant("type", "panel = false", "panel = 1") + "'", dir,
                     "model.panel: expected true or false");
  expect_input_error(run + "'" + spec_variant("file", "\"sessions.csv\"", "\"nope.csv\"") + "'", dir, "nope.csv");
  expect_input_error(run + "'" + spec_variant("column", "\"alliance\"", "\"aliance\"") + "'", dir,
                     "unknown column 'aliance' (spec variables.process)");
  expect_input_error(run + "'" + spec_variant("custom", "Pw_lag1 * feedback", "Pw_lag1 * fedback") + "'", dir,
                     "unknown column 'fedback' (spec model.custom 'feedback')");
  expect_input_error(run + "/nonexistent/analysis.toml", dir, "/nonexistent/analysis.toml");
  expect_input_error(run + "'" + test::temp_dir("cli-spec-dir") + "'", dir, "is a directory, not a spec file");

  const std::string dup = spec_variant("dup", "", "");
  std::ofstream(fs::path(dup).parent_path() / "sessions.csv", std::ios::app) << "Ulm,22,Ulm-T2,7,1,2,0,0,2016\n";
  expect_input_error(run + "'" + dup + "'", dir, "duplicate row for study 'Ulm', patient '22', session 7");

  // An infinite process value was blamed on "fewer than 2 distinct values" in its study.
  const std::string inf = spec_variant("inf", "", "");
  std::ofstream(fs::path(inf).parent_path() / "sessions.csv", std::ios::app) << "Ulm,22,Ulm-T2,8,Inf,2,0,0,2016\n";
  expect_input_error(run + "'" + inf + "'", dir, "sessions.csv:1487: column 'alliance' has the infinite value Inf");

  const std::string post = spec_variant("post", "", "");
  std::ofstream(fs::path(post).parent_path() / "patients.csv", std::ios::app) << "Ulm,999,1,2\n";
  expect_input_error(run + "'" + post + "'", dir, "study 'Ulm', patient '999' has no sessions");

  expect_input_error("ipd run --spec '" + spec_path() + "' --out /nonexistent/dir/out", "", "does not exist");
  // CLI11's own range check printed its upper bound with 309 digits.
  expect_input_error("ipd run --spec '" + spec_path() + "' --threads -1", "", "--threads: expected a whole number >= 0, got -1");
}

// "--out results/" names the directory results, whether it exists yet or is replaced.
TEST(IpdCli, OutWithTrailingSlashNamesTheDirectory) {
  const std::string parent = test::temp_dir("cli-slash");
  for (int run = 0; run < 2; ++run) {
    const auto r = run_spiral("ipd run --spec '" + spec_path() + "' --out '" + parent + "/results/'");
    ASSERT_EQ(r.exit_code, 0) << "run " << run << ": " << r.err;
    EXPECT_TRUE(fs::exists(parent + "/results/results.json")) << run;
  }
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(parent)) entries.push_back(e.path().filename().string());
  EXPECT_EQ(entries, std::vector<std::string>{"results"});  // no staging or old directory left beside it
}

// The output directory is replaced as a whole, so one that holds anything spiral did not
// write is refused before the analysis: `--out` on the directory of the data once deleted
// the data and the spec.
TEST(IpdCli, OutDirectoryWithOtherFilesIsRefusedAndKept) {
  const std::string dir = test::temp_dir("cli-keep");
  std::ofstream(dir + "/notes.txt") << "mine\n";
  const auto r = run_spiral("ipd run --spec '" + spec_path() + "' --out '" + dir + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("holds 'notes.txt', which spiral did not write"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_text(dir + "/notes.txt"), "mine\n");
  const auto onestage = run_spiral("ipd onestage --spec '" + spec_path() + "' --out '" + dir + "'");
  EXPECT_EQ(onestage.exit_code, 2) << onestage.err;
  EXPECT_TRUE(fs::exists(dir + "/notes.txt"));
}

TEST(IpdCli, OnestageWritesItsDirectory) {
  const std::string dir = test::temp_dir("cli-onestage") + "/out";
  const auto r = run_spiral("ipd onestage --spec '" + spec_path() + "' --out '" + dir + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(test::read_text(dir + "/onestage.json"));
  ASSERT_EQ(j.at("models").size(), 9u);  // the mixed models; early_process_to_post has no one-stage form
  EXPECT_EQ(j.at("models")[0].at("formula"),
            "O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | study:patient) + (1 + Pw_lag1 | study)");
  EXPECT_NE(r.err.find("model 'early_process_to_post' has no one-stage form"), std::string::npos);
}

TEST(IpdCli, PrepWritesThePreparedColumns) {
  const std::string out = test::temp_dir("cli-prep") + "/prepared.csv";
  const auto r = run_spiral("prep --spec '" + spec_path() + "' --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = test::read_text(out);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "study,patient,therapist,session,alliance,symptoms,baseline,feedback,year,P,O,Pm,Om,Pw,Ow,Pw_lag1,Ow_lag1,"
            "Pw_lag2,Ow_lag2");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1307);
}

}  // namespace
}  // namespace spiral
