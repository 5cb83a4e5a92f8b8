// The analysis spec: validation with messages naming file, line and key.
#include <gtest/gtest.h>

#include "spiral/ipd.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

const char* minimal = R"(
[data]
source = "sessions.csv"
[variables]
process = "alliance"
outcome = "symptoms"
)";

std::string error_of(const std::string& text) {
  try {
    parse_spec(text, "a.toml", "/data");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(IpdSpec, DefaultsAndRelativePaths) {
  const IpdSpec spec = parse_spec(minimal, "a.toml", "/data/site");
  EXPECT_EQ(spec.source, "/data/site/sessions.csv");
  EXPECT_EQ(spec.study, "study");
  EXPECT_EQ(spec.lags, std::vector<int>{1});
  EXPECT_TRUE(spec.cross_level);
  EXPECT_EQ(spec.method, "REML");
  EXPECT_EQ(spec.test, "knha");
  EXPECT_EQ(spec.min_patients, 10);
  EXPECT_FALSE(spec.first.has_value());
  EXPECT_EQ(parse_spec(std::string(minimal) + "[post]\nsource = \"sqlite:db.sqlite?table=p\"\npre = \"a\"\npost = \"b\"\n",
                       "a.toml", "/x")
                .post->source,
            "sqlite:/x/db.sqlite?table=p");
}

TEST(IpdSpec, LoadsTheTestSpecWithEveryTable) {
  const IpdSpec spec = load_spec(test::test_path("data/ipd/analysis.toml"));
  EXPECT_EQ(spec.lags, (std::vector<int>{1, 2}));
  ASSERT_EQ(spec.custom.size(), 3u);
  EXPECT_EQ(spec.custom[1].name, "feedback");
  EXPECT_EQ(spec.moderators, std::vector<std::string>{"year"});
  ASSERT_TRUE(spec.post);
  EXPECT_EQ(spec.post->early_last, 3);
  EXPECT_EQ(*spec.last, 7);
  EXPECT_NE(spec.text.find("[privacy]"), std::string::npos);
}

TEST(IpdSpec, UnknownKeysAreErrorsNamingKeyFileAndLine) {
  EXPECT_EQ(error_of(std::string(minimal) + "[model]\nlag = [1]\n"), "a.toml:8: model.lag: unknown key");
  EXPECT_EQ(error_of(std::string(minimal) + "[modle]\n"), "a.toml:7: modle: unknown key");
}

// A name given twice: reversing the process twice undid it; two custom models of one name
// gave duplicate rows in the results and overwrote each other's plots.
TEST(IpdSpec, NamesGivenTwiceAreErrors) {
  EXPECT_EQ(error_of(std::string(minimal) + "[meta]\nmoderators = [\"year\", \"year\"]\n"),
            "a.toml:8: meta.moderators: 'year' is named twice");
  const std::string custom = "[[model.custom]]\nname = \"a\"\nformula = \"O ~ Pw_lag1 + (1 | patient)\"\n";
  EXPECT_EQ(error_of(std::string(minimal) + custom + custom), "a.toml:11: model.custom[2].name: another model is named 'a'");
  EXPECT_EQ(error_of(std::string(minimal) + "[[model.custom]]\nname = \"panel\"\nformula = \"O ~ (1 | patient)\"\n"),
            "a.toml:8: model.custom[1].name: another model is named 'panel'");
}

TEST(IpdSpec, WrongTypesAndValues) {
  EXPECT_EQ(error_of(std::string(minimal) + "[model]\ncross_level = \"yes\"\n"),
            "a.toml:8: model.cross_level: expected true or false, got a string");
  EXPECT_EQ(error_of(std::string(minimal) + "[model]\nlags = [2]\n"), "a.toml:8: model.lags: expected [1] or [1, 2]");
  EXPECT_EQ(error_of(std::string(minimal) + "[meta]\ntest = \"t\"\n"), "a.toml:8: meta.test: 't' is not one of z, knha");
  EXPECT_EQ(error_of(std::string(minimal) + "[window]\nfirst = 5\nlast = 2\n"),
            "a.toml:9: window.last: must not be smaller than window.first");
  EXPECT_EQ(error_of("[data]\nsource = 3\n"), "a.toml:2: data.source: expected a string, got an integer");
  EXPECT_NE(error_of("[data]\nsource = \"s.csv\"\n[variables]\noutcome = \"o\"\n").find("variables.process: missing"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(minimal) + "[[model.custom]]\nname = \"x\"\nformula = \"O ~ (1 |\"\n")
                .find("a.toml:9: model.custom[1].formula: "),
            std::string::npos);
  EXPECT_NE(error_of("[data\n").find("a.toml:1: "), std::string::npos);  // TOML syntax error
}

TEST(IpdSpec, LabelledDataFactorsReferenceLevelsAndNamesForReaders) {
  // Specification section 5.1: [data] labels/factors/reference, [labels], [meta] egger.
  const std::string text = R"spec(
[data]
source = "s.sav"
labels = true
factors = ["arm"]
reference = { arm = "TAU" }
[variables]
process = "alliance"
outcome = "symptoms"
[meta]
egger = true
[labels]
process = "Alliance (WAI-SR)"
Pw_lag1 = "Alliance, previous session (within)"
)spec";
  const IpdSpec spec = parse_spec(text, "a.toml", "/d");
  EXPECT_TRUE(spec.value_labels);
  EXPECT_EQ(spec.factors, std::vector<std::string>{"arm"});
  ASSERT_EQ(spec.reference.size(), 1u);
  EXPECT_EQ(spec.reference[0], (std::pair<std::string, std::string>{"arm", "TAU"}));
  EXPECT_TRUE(spec.egger);
  EXPECT_EQ(spec.labels.at("Pw_lag1"), "Alliance, previous session (within)");
  EXPECT_NE(spec.hash(), parse_spec(minimal, "a.toml", "/d").hash());
  EXPECT_EQ(error_of(std::string(minimal) + "[labels]\nprocess = 3\n"), "a.toml:8: labels.process: expected a string, got an integer");
  EXPECT_EQ(error_of(R"(
[data]
source = "s.csv"
reference = "TAU"
[variables]
process = "a"
outcome = "b"
)"),
            "a.toml:4: data.reference: expected a table, got a string");
}

TEST(IpdSpec, MissingSpecFileIsAnInputError) {
  EXPECT_THROW(load_spec("/nonexistent/analysis.toml"), InputError);
}

TEST(IpdSpec, HashIgnoresPathsButNotTheAnalysis) {
  const IpdSpec a = parse_spec(minimal, "a.toml", "/site-a");
  const IpdSpec b = parse_spec(minimal, "b.toml", "/site-b");
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(a.hash().size(), 16u);
  EXPECT_NE(a.hash(), parse_spec(std::string(minimal) + "[model]\nlags = [1, 2]\n", "a.toml", "/").hash());
  EXPECT_NE(a.hash(), parse_spec(std::string(minimal) + "[meta]\ntest = \"z\"\n", "a.toml", "/").hash());
}

}  // namespace
}  // namespace spiral
