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

// [model] dsem = true and its [dsem] table (specification section 9).
TEST(IpdDsemSpec, ModelDsemAndItsSettings) {
  const IpdSpec plain = parse_spec(minimal, "a.toml", "/d");
  EXPECT_FALSE(plain.dsem);
  const IpdSpec spec = parse_spec(std::string(minimal) + "[model]\ndsem = true\n", "a.toml", "/d");
  EXPECT_TRUE(spec.dsem);
  EXPECT_EQ(spec.dsem_settings.random, "all");
  EXPECT_EQ(spec.dsem_settings.chains, 4);
  EXPECT_EQ(spec.dsem_settings.iter, 2000);
  EXPECT_EQ(spec.dsem_settings.warmup, 1000);
  EXPECT_EQ(spec.dsem_settings.seed, 1u);
  const IpdSpec set = parse_spec(std::string(minimal) +
                                     "[model]\ndsem = true\n[dsem]\nrandom = \"lagged\"\nbetween = [\"baseline\", \"arm\"]\n"
                                     "chains = 2\niter = 500\nwarmup = 200\nseed = 9\n",
                                 "a.toml", "/d");
  EXPECT_EQ(set.dsem_settings.random, "lagged");
  EXPECT_EQ(set.dsem_settings.between, (std::vector<std::string>{"baseline", "arm"}));
  EXPECT_EQ(set.dsem_settings.chains, 2);
  EXPECT_EQ(set.dsem_settings.iter, 500);
  EXPECT_EQ(set.dsem_settings.warmup, 200);
  EXPECT_EQ(set.dsem_settings.seed, 9u);
  // The model and its seed change the analysis; dsem = false leaves the hash of a spec without it.
  EXPECT_NE(spec.hash(), plain.hash());
  EXPECT_NE(set.hash(), spec.hash());
  EXPECT_EQ(parse_spec(std::string(minimal) + "[model]\ndsem = false\n", "a.toml", "/d").hash(), plain.hash());
  const auto models = stage1_models(set);
  ASSERT_EQ(models.back().name, "dsem");
  EXPECT_EQ(models.back().kind, ModelSpec::Kind::Dsem);
  EXPECT_EQ(models.back().formula,
            "spiral dsem --id patient --time session --vars P,O --random lagged --between baseline,arm "
            "--chains 2 --iter 500 --warmup 200 --seed 9");
}

TEST(IpdDsemSpec, BadValuesAreErrorsNamingKeyAndLine) {
  EXPECT_EQ(error_of(std::string(minimal) + "[model]\ndsem = \"yes\"\n"), "a.toml:8: model.dsem: expected true or false, got a string");
  EXPECT_EQ(error_of(std::string(minimal) + "[model]\ndsem = 1\n"), "a.toml:8: model.dsem: expected true or false, got an integer");
  EXPECT_EQ(error_of(std::string(minimal) + "[dsem]\nseed = 2\n"), "a.toml:7: [dsem]: its settings need [model] dsem = true");
  const std::string with = std::string(minimal) + "[model]\ndsem = true\n[dsem]\n";
  EXPECT_EQ(error_of(with + "random = \"some\"\n"), "a.toml:10: dsem.random: 'some' is not one of all, lagged, ar, none");
  EXPECT_EQ(error_of(with + "chains = 0\n"), "a.toml:10: dsem.chains: expected 1 to 64, got 0");
  EXPECT_EQ(error_of(with + "iter = 100\nwarmup = 100\n"),
            "a.toml:10: dsem.iter: iter 100 leaves fewer than 4 draws per chain after warmup 100");
  EXPECT_EQ(error_of(with + "seed = -1\n"), "a.toml:10: dsem.seed: expected a whole number >= 0, got -1");
  EXPECT_EQ(error_of(with + "thin = 2\n"), "a.toml:10: dsem.thin: unknown key");
  EXPECT_EQ(error_of(with + "between = \"baseline\"\n"), "a.toml:10: dsem.between: expected an array, got a string");
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
