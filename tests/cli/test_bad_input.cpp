// Issue 8's bad-input suite across commands: each case asserts the exit code, the single
// `spiral: error:` line and what it names. (Reader-level cases are in test_general.cpp.)
#include <fstream>

#include <gtest/gtest.h>

#include "test_support.hpp"

using spiral::test::run_spiral;
using spiral::test::temp_dir;
using spiral::test::test_path;

namespace {

struct Case {
  std::string name;
  std::string arguments;  // {dir} is replaced by the case's temp directory
  std::string names;      // a substring the error line must contain
  int exit_code = 2;
};

std::string replace_dir(std::string s, const std::string& dir) {
  for (std::size_t at; (at = s.find("{dir}")) != std::string::npos;) s.replace(at, 5, dir);
  return s;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// Files every case may use.
std::string make_files() {
  const std::string dir = temp_dir("bad-input");
  write(dir + "/ok.csv", "y,x,g,t\n1,2,a,1\n2,3,a,2\n3,1,b,1\n4,5,b,2\n5,4,c,1\n6,6,c,2\n");
  write(dir + "/text_y.csv", "y,x,g\n1,2,a\n2,3,a\nthree,1,b\n4,5,b\n");
  write(dir + "/inf.csv", "y,x,g\n1,2,a\n2,Inf,a\n3,1,b\n4,5,b\n");
  write(dir + "/allna.csv", "y,x,g\n1,NA,a\n2,NA,a\n3,NA,b\n4,NA,b\n");
  write(dir + "/one_group.csv", "y,x,g\n1,2,a\n2,3,a\n3,1,a\n4,5,a\n");
  write(dir + "/meta_neg.csv", "yi,vi\n0.1,0.01\n0.2,-0.02\n0.3,0.01\n");
  write(dir + "/meta_one.csv", "yi,vi\n0.1,0.01\n");
  write(dir + "/panel_dup.csv", "id,t,a,b\n1,1,1,2\n1,1,2,3\n1,2,3,4\n1,3,2,2\n2,1,1,1\n2,2,3,1\n2,3,2,5\n");
  write(dir + "/panel_frac.csv", "id,t,a,b\n1,1,1,2\n1,1.5,2,3\n1,2,3,4\n1,3,2,2\n2,1,1,1\n2,2,3,1\n2,3,2,5\n");
  write(dir + "/panel_two_waves.csv", "id,t,a,b\n1,1,1,2\n1,2,2,3\n2,1,3,4\n2,2,2,2\n");
  write(dir + "/broken.toml", "[data\nsource = \"x.csv\"\n");
  write(dir + "/unknown_key.toml",
        "[data]\nsource = \"ok.csv\"\nstudy = \"g\"\npatient = \"g\"\nsession = \"t\"\n"
        "[variables]\nprocess = \"x\"\noutcome = \"y\"\nproces = \"x\"\n");
  write(dir + "/missing_column.toml",
        "[data]\nsource = \"ok.csv\"\nstudy = \"g\"\npatient = \"g\"\nsession = \"t\"\n"
        "[variables]\nprocess = \"alliance\"\noutcome = \"y\"\n");
  write(dir + "/dup_sessions.csv", "study,patient,session,a,s\n1,1,1,2,3\n1,1,1,3,4\n1,1,2,2,2\n");
  write(dir + "/dup_sessions.toml",
        "[data]\nsource = \"dup_sessions.csv\"\nstudy = \"study\"\npatient = \"patient\"\nsession = \"session\"\n"
        "[variables]\nprocess = \"a\"\noutcome = \"s\"\n");
  write(dir + "/valid.csv", "study,patient,session,a,s\n1,1,1,2,3\n1,1,2,3,4\n1,2,1,2,2\n1,2,2,4,1\n");
  write(dir + "/valid.toml",
        "[data]\nsource = \"valid.csv\"\nstudy = \"study\"\npatient = \"patient\"\nsession = \"session\"\n"
        "[variables]\nprocess = \"a\"\noutcome = \"s\"\n");
  return dir;
}

std::string nested_formula(int depth) {
  return "y ~ " + std::string(static_cast<std::size_t>(depth), '(') + "x" + std::string(static_cast<std::size_t>(depth), ')');
}

}  // namespace

TEST(BadInput, EveryCommandAnswersWithOneErrorLine) {
  const std::string dir = make_files();
  const std::vector<Case> cases = {
      {"text in a numeric response", "lmm --data {dir}/text_y.csv --formula 'y ~ x + (1|g)'", "'three'"},
      {"Inf in a used variable", "lmm --data {dir}/inf.csv --formula 'y ~ x + (1|g)'", "Inf"},
      {"all-missing variable", "lmm --data {dir}/allna.csv --formula 'y ~ x + (1|g)'", "x"},
      {"unknown column in formula", "lmm --data {dir}/ok.csv --formula 'y ~ z + (1|g)'", "'z'"},
      {"unbalanced parentheses", "lmm --data {dir}/ok.csv --formula 'y ~ (x + (1|g)'", "formula"},
      {"empty bar side", "lmm --data {dir}/ok.csv --formula 'y ~ x + ( | g)'", "formula"},
      {"deeply nested parentheses", "lmm --data {dir}/ok.csv --formula '" + nested_formula(20000) + "'", "formula"},
      {"grouping factor with one level", "lmm --data {dir}/one_group.csv --formula 'y ~ x + (1|g)'", "g"},
      {"no random term", "lmm --data {dir}/ok.csv --formula 'y ~ x'", "random"},
      {"lmm unknown df method", "lmm --data {dir}/ok.csv --formula 'y ~ x + (1|g)' --df kenward", "--df"},
      {"lmm unknown ar1 column", "lmm --data {dir}/ok.csv --formula 'y ~ x + (1|g)' --ar1 time", "time"},
      {"meta bad method name", "meta --data {dir}/meta_neg.csv --yi yi --vi vi --method XYZ", "XYZ"},
      {"meta negative variance", "meta --data {dir}/meta_neg.csv --yi yi --vi vi", "meta_neg.csv line 3"},
      {"meta unknown column", "meta --data {dir}/meta_neg.csv --yi effect --vi vi", "effect"},
      {"meta one study", "meta --data {dir}/meta_one.csv --yi yi --vi vi", "", 1},
      {"meta unknown measure", "meta --data {dir}/meta_neg.csv --measure XX --ri yi --ni vi", "XX"},
      {"panel duplicate patient-session", "panel --data {dir}/panel_dup.csv --id id --time t --vars a,b",
       "panel_dup.csv:3: patient '1' has two rows"},
      {"panel non-integer session", "panel --data {dir}/panel_frac.csv --id id --time t --vars a,b", "1.5"},
      {"panel fewer than 3 waves", "panel --data {dir}/panel_two_waves.csv --id id --time t --vars a,b", "wave"},
      {"panel one variable", "panel --data {dir}/panel_dup.csv --id id --time t --vars a", "--vars"},
      {"ipd broken TOML", "ipd run --spec {dir}/broken.toml --out {dir}/out1", "broken.toml"},
      {"ipd unknown spec key", "ipd run --spec {dir}/unknown_key.toml --out {dir}/out2", "proces"},
      {"ipd spec names a missing column", "ipd run --spec {dir}/missing_column.toml --out {dir}/out3", "alliance"},
      {"ipd duplicate patient-session rows", "ipd run --spec {dir}/dup_sessions.toml --out {dir}/out4", "duplicate"},
      {"ipd missing spec", "ipd run --spec {dir}/absent.toml --out {dir}/out5", "absent.toml"},
      {"prep output directory missing", "prep --spec {dir}/valid.toml --out {dir}/no/such/dir/p.csv", "does not exist"},
      {"simulate negative patients", "simulate --studies 2 --patients -5 --sessions 7 --out {dir}/s.csv", "--patients"},
      {"simulate too few sessions", "simulate --studies 2 --patients 50 --sessions 2 --out {dir}/s.csv", "--sessions"},
      {"simulate missing rate 1", "simulate --studies 2 --patients 50 --sessions 7 --missing 1 --out {dir}/s.csv",
       "--missing"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = run_spiral(replace_dir(c.arguments, dir));
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_EQ(r.err.rfind("spiral: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << r.err;
  }
  // No partial output directory is ever left behind.
  for (const char* out : {"out1", "out2", "out3", "out4", "out5"}) {
    EXPECT_FALSE(std::ifstream(dir + "/" + out + "/results.json").good()) << out;
  }
}

TEST(BadInput, MessyButValidFilesWork) {
  const std::string dir = temp_dir("messy");
  write(dir + "/messy.csv",
        "\xEF\xBB\xBFy;x;g;note\r\n1,5;2;a;\"x; y\"\r\n2;3;a;\"two\r\nlines\"\r\n3;1;b;\r\n4;5;b;.\r\n5;4;c;NA\r\n6;6;c;ok\r\n\r\n\r\n");
  auto r = run_spiral("describe --data '" + dir + "/messy.csv' --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rows"], 6);
  EXPECT_EQ(j["columns"][0]["type"], "factor");  // "1,5" is not a number with `.` decimals
  EXPECT_EQ(j["columns"][1]["type"], "numeric");
  EXPECT_EQ(j["columns"][3]["missing"], 3);
}
