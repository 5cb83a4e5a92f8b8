// Specification section 1 through the CLI: exit codes, the one-line `spiral: error:` message,
// --format/--out, and `spiral describe` (section 2) end to end.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "test_support.hpp"

using spiral::test::run_spiral;
using spiral::test::test_path;

namespace {

std::string sessions() { return test_path("data/readers/sessions.csv"); }

// One line on stderr that starts "spiral: error: " and contains `names`; exit code 2.
void expect_input_error(const spiral::test::RunResult& r, const std::string& names) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("spiral: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(names), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

}  // namespace

TEST(Cli, VersionAndHelp) {
  auto v = run_spiral("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("spiral ", 0), 0u);
  auto h = run_spiral("--help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("describe"), std::string::npos);
  EXPECT_EQ(run_spiral("describe --help").exit_code, 0);
}

TEST(Cli, UsageErrorsExitTwo) {
  expect_input_error(run_spiral(""), "subcommand");
  expect_input_error(run_spiral("frobnicate"), "frobnicate");
  expect_input_error(run_spiral("describe --data '" + sessions() + "' --bogus"), "--bogus");
  expect_input_error(run_spiral("describe"), "--data");
  expect_input_error(run_spiral("describe --data '" + sessions() + "' --format yaml"), "yaml");
  expect_input_error(run_spiral("describe --data '" + sessions() + "' --sep ab"), "--sep");
}

TEST(Cli, BadDataSourcesExitTwo) {
  const std::string dir = spiral::test::temp_dir("bad-sources");
  expect_input_error(run_spiral("describe --data '" + dir + "/absent.csv'"), "absent.csv: no such file");
  expect_input_error(run_spiral("describe --data '" + dir + "'"), "is a directory");
  std::ofstream(dir + "/empty.csv").close();
  expect_input_error(run_spiral("describe --data '" + dir + "/empty.csv'"), "empty.csv: file is empty");
  std::ofstream(dir + "/header.csv") << "a,b\n";
  expect_input_error(run_spiral("describe --data '" + dir + "/header.csv'"), "header.csv: no data rows");
  std::ofstream(dir + "/ragged.csv") << "a,b\n1,2\n1,2,3\n";
  expect_input_error(run_spiral("describe --data '" + dir + "/ragged.csv'"), "ragged.csv:3:");
  std::ofstream(dir + "/garbage.sav", std::ios::binary) << std::string("\x7f\x45\x4c\x46\x00\x01\x02", 7);
  expect_input_error(run_spiral("describe --data '" + dir + "/garbage.sav'"), "garbage.sav");
  std::ofstream(dir + "/garbage.csv", std::ios::binary) << std::string("\x7f\x45\x4c\x46\x00\x01\x02", 7);
  expect_input_error(run_spiral("describe --data '" + dir + "/garbage.csv'"), "NUL");
  std::ofstream(dir + "/latin1.csv", std::ios::binary) << "name\nJ\xF6rg\n";
  expect_input_error(run_spiral("describe --data '" + dir + "/latin1.csv'"), "latin1.csv:2: invalid UTF-8");
  std::ofstream(dir + "/dupe.csv") << "a,a\n1,2\n";
  expect_input_error(run_spiral("describe --data '" + dir + "/dupe.csv'"), "duplicate column name 'a'");
  expect_input_error(run_spiral("describe --data 'sqlite:" + dir + "/dupe.csv?table=x'"), "dupe.csv");
  expect_input_error(run_spiral("describe --data 'sqlite:" + test_path("data/readers/sessions.sqlite") + "?table=absent'"),
                     "absent");
  std::ofstream(dir + "/long.csv") << "a\n" << std::string(5'000'000, '7') << "\n";
  auto r = run_spiral("describe --data '" + dir + "/long.csv' --format json");
  EXPECT_EQ(r.exit_code, 0) << r.err;  // an extremely long line is just a (huge) number
}

TEST(Cli, DescribeFormats) {
  auto text = run_spiral("describe --data '" + sessions() + "'");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("FB (3), TAU (3)"), std::string::npos) << text.out;
  auto json = run_spiral("describe --data '" + sessions() + "' --format json");
  ASSERT_EQ(json.exit_code, 0);
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["rows"], 6);
  EXPECT_EQ(j["columns"][2]["name"], "alliance");
  EXPECT_EQ(j["columns"][2]["missing"], 1);
  EXPECT_DOUBLE_EQ(j["columns"][2]["mean"].get<double>(), (4.5 + 5.25 + 3 + 6 + 5.5) / 5);
  EXPECT_TRUE(j["warnings"].is_array());
  auto csv = run_spiral("describe --data '" + sessions() + "' --format csv");
  EXPECT_EQ(csv.out.rfind("column,type,n,missing", 0), 0u);
}

TEST(Cli, OutIsAtomicAndNeverPartial) {
  const std::string dir = spiral::test::temp_dir("out");
  auto ok = run_spiral("describe --data '" + sessions() + "' --format json --out '" + dir + "/d.json'");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(ok.out.empty());
  EXPECT_EQ(nlohmann::json::parse(spiral::test::read_text(dir + "/d.json"))["rows"], 6);
  expect_input_error(run_spiral("describe --data '" + sessions() + "' --out '" + dir + "/missing/d.txt'"),
                     "does not exist");
  // A failing run leaves no file behind, and no temporary file either.
  run_spiral("describe --data '" + dir + "/absent.csv' --out '" + dir + "/e.txt'");
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);
}

// Every output is checked before anything is read or written: an output that is an input
// (it overwrote the data or the spec), two outputs naming one file (one silently replaced
// the other), and an unwritable output after a writable one (the first was left behind).
TEST(Cli, OutputsAreCheckedBeforeAnythingIsWritten) {
  namespace fs = std::filesystem;
  const std::string dir = spiral::test::temp_dir("outputs");
  const std::string data = dir + "/sleepstudy.csv", spec = dir + "/analysis.toml";
  fs::copy_file(test_path("data/lmm/sleepstudy.csv"), data);
  for (const char* f : {"analysis.toml", "sessions.csv", "patients.csv"})
    fs::copy_file(test_path(std::string("data/ipd/") + f), dir + "/" + f);
  const std::string original = spiral::test::read_text(data), original_spec = spiral::test::read_text(spec);
  const std::string lmm = "lmm --data '" + data + "' --formula 'Reaction ~ Days + (1 | Subject)'";

  expect_input_error(run_spiral(lmm + " --out '" + data + "'"), "--out " + data + ": is an input of this command");
  expect_input_error(run_spiral(lmm + " --ranef '" + data + "'"), "--ranef");
  expect_input_error(run_spiral("prep --spec '" + spec + "' --out '" + dir + "/sessions.csv'"), "is an input");
  expect_input_error(run_spiral("power --spec '" + spec + "' --replications 1 --out '" + spec + "'"), "is an input");
  expect_input_error(run_spiral("ipd stage1 --spec '" + spec + "' --study Bern --out '" + spec + "'"), "is an input");
  EXPECT_EQ(spiral::test::read_text(data), original);
  EXPECT_EQ(spiral::test::read_text(spec), original_spec);

  expect_input_error(run_spiral(lmm + " --out '" + dir + "/same.csv' --ranef '" + dir + "/same.csv'"),
                     "--ranef " + dir + "/same.csv: --out writes the same file");
  expect_input_error(run_spiral("simulate --studies 2 --patients 40 --sessions 4 --out '" + dir +
                                "/s.csv' --patients-out '" + dir + "/./s.csv'"),
                     "--out writes the same file");
  expect_input_error(run_spiral("simulate --studies 2 --patients 40 --sessions 4 --out '" + dir +
                                "/s.csv' --spec-out '" + dir + "/missing/a.toml'"),
                     "does not exist");
  expect_input_error(run_spiral(lmm + " --ranef '" + dir + "/re.csv' --out '" + dir + "/missing/x.txt'"),
                     "does not exist");
  expect_input_error(run_spiral("meta --data '" + test_path("data/meta/bcg.csv") + "' --yi yi --vi vi --forest '" +
                                dir + "/f.svg' --out '" + dir + "/missing/x.json'"),
                     "does not exist");
  for (const char* absent : {"s.csv", "re.csv", "f.svg", "same.csv"}) EXPECT_FALSE(fs::exists(dir + "/" + absent)) << absent;

  // An empty output name fell back to stdout without a word.
  expect_input_error(run_spiral(lmm + " --out ''"), "--out: empty file name");
  expect_input_error(run_spiral(lmm + " --ranef ''"), "--ranef: empty file name");
  expect_input_error(run_spiral("ipd run --spec '" + spec + "' --out ''"), "--out: empty file name");
}
