// src/api: the one front door of every face (issue 25). Each command's options are declared
// once (api::options), the command line is built from that table, unknown options and
// values of the wrong type are errors naming the option in the face's spelling, and every
// command runs through api::run. The numbers compared come from the committed R scripts
// named at each test.
#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "api/api_internal.hpp"
#include "spiral/api.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace {

namespace api = spiral::api;
using spiral::InputError;
using spiral::Json;
using spiral::test::near_relative;
using spiral::test::reference_json;
using spiral::test::run_spiral;
using spiral::test::temp_dir;
using spiral::test::test_path;
namespace tolerance = spiral::test::tolerance;

// The message of the InputError that `call` throws ("" when it throws none).
template <class F>
std::string input_error(F call) {
  try {
    call();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string data(const std::string& relative) { return test_path("data/" + relative); }

// The command line of api command `command`: "ipd_run" -> "ipd run".
std::string command_line(const std::string& command) {
  return command.rfind("ipd_", 0) == 0 ? "ipd " + command.substr(4) : command;
}

// A value of an option's kind that its field must accept.
Json sample(const api::OptionSpec& spec) {
  using Kind = api::OptionKind;
  switch (spec.kind) {
    case Kind::flag: return true;
    case Kind::text: return spec.choices.empty() ? "x" : spec.choices.back();
    case Kind::number: return spec.range ? spec.range->second - 0.5 : 1.5;
    case Kind::integer: return spec.range ? static_cast<long>(spec.range->second) : 3L;
    case Kind::count: return 2;
    case Kind::seed: return std::uint64_t{9223372036854775807ULL};
    case Kind::list:
    case Kind::repeated: return Json::array({"a", "b"});
  }
  return nullptr;
}

TEST(Api, EveryOptionIsDeclaredOnceWithHelp) {
  EXPECT_EQ(api::commands().size(), 12u);
  for (const auto& command : api::commands()) {
    SCOPED_TRACE(command);
    std::set<std::string> names;
    for (const auto& spec : api::options(command)) {
      EXPECT_TRUE(names.insert(spec.name).second) << spec.name << " declared twice";
      EXPECT_EQ(spec.name.find('-'), std::string::npos) << spec.name;
      EXPECT_FALSE(spec.help.empty()) << spec.name;
      if (!spec.choices.empty()) {
        EXPECT_EQ(spec.kind, api::OptionKind::text) << spec.name;
      }
    }
  }
  EXPECT_EQ(api::command_line_name("process_to_outcome"), "--process-to-outcome");
  EXPECT_NE(input_error([] { api::options("lme"); }).find("unknown command 'lme'"), std::string::npos);
}

// Every option `spiral <command> --help` lists is an api option of that command (or the
// command line's own --format and --out), and every api option is on the command line.
TEST(Api, TheCommandLineIsBuiltFromTheTable) {
  for (const auto& command : api::commands()) {
    SCOPED_TRACE(command);
    const auto help = run_spiral(command_line(command) + " --help");
    ASSERT_EQ(help.exit_code, 0) << help.err;
    std::set<std::string> shown;
    const std::regex option_line(R"(^\s+(--[a-z0-9-]+))");
    std::istringstream lines(help.out);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (std::regex_search(line, m, option_line)) shown.insert(m[1]);
    }
    std::set<std::string> declared;
    for (const auto& spec : api::options(command))
      if (spec.command_line) declared.insert(api::command_line_name(spec.name));
    for (const auto& option : shown) {
      if (option != "--format" && option != "--out") {
        EXPECT_TRUE(declared.count(option)) << option << " is not in the api";
      }
    }
    for (const auto& option : declared) EXPECT_TRUE(shown.count(option)) << option << " is not on the command line";
  }
}

TEST(Api, UnknownOptionsAreErrorsNamingThem) {
  const std::string message = input_error([] { api::run("meta", {{"yi", "yi"}, {"bogus", 1}, {"vi ", "vi"}}); });
  EXPECT_EQ(message, "meta: unknown options 'bogus', 'vi '");
  EXPECT_EQ(input_error([] { api::run("describe", Json::array({1})); }), "describe: options must be a JSON object");
  EXPECT_NE(input_error([] { api::run("lmx", Json::object()); }).find("unknown command 'lmx'"), std::string::npos);
}

// Each option's declared kind is the type its field reads: a value of that kind parses.
TEST(Api, EachKindIsTheTypeItsFieldReads) {
  for (const auto& command : api::commands())
    for (const auto& spec : api::options(command)) {
      SCOPED_TRACE(command + " " + spec.name);
      const Json value = sample(spec);
      EXPECT_NO_THROW(api::detail::parse_only(command, {{spec.name, value}}));
    }
}

TEST(Api, TypesChoicesAndRangesAreChecked) {
  const auto message = [](const std::string& command, const Json& options) {
    return input_error([&] { api::run(command, options); });
  };
  EXPECT_EQ(message("lmm", {{"formula", 1}}), "formula: expected a string, got 1");
  EXPECT_EQ(message("meta", {{"level", "95"}}), "level: expected a number, got \"95\"");
  EXPECT_EQ(message("meta", {{"egger", 1}}), "egger: expected TRUE/FALSE, got 1");
  EXPECT_EQ(message("panel", {{"vars", Json::array({1, 2})}}), "vars: expected a list of strings, got [1,2]");
  EXPECT_EQ(message("dsem", {{"chains", 2.5}}), "chains: expected an integer, got 2.5");
  EXPECT_EQ(message("dsem", {{"chains", 65}}), "chains: expected a number from 1 to 64, got 65");
  EXPECT_EQ(message("dsem", {{"threads", -1}}), "threads: expected an integer from 0 to 4294967295, got -1");
  EXPECT_EQ(message("meta", {{"level", 120}}), "level: expected a number from 0 to 100, got 120");
  EXPECT_EQ(message("meta", {{"method", "XYZ"}}), "method: 'XYZ' is not one of REML, ML, DL, HE, HS, SJ, PM, EB, FE");
  EXPECT_EQ(message("simulate", {{"seed", -1}}), "seed: expected an integer from 0 to 18446744073709551615, got -1");
  EXPECT_EQ(message("power", {{"seed", 9223372036854775808ULL}}),
            "seed: expected an integer from 0 to 9223372036854775807, got 9223372036854775808");
  // A list may be one string split at commas; a repeated option's string is one value.
  EXPECT_NE(message("lmm", {{"formula", "y ~ x + (1 | g)"}, {"factor", "a,b"}}).find("data: required"), std::string::npos);
}

// Messages name options as the face that called spells them: `re_form` to R and Python,
// `--re-form` on the command line, also in the engines' messages.
TEST(Api, MessagesNameOptionsInTheFacesSpelling) {
  const Json lmm{{"data", data("lmm/sleepstudy.csv")}, {"formula", "Reaction ~ Days + (1 | Subject)"}, {"re_form", "NA"}};
  EXPECT_EQ(input_error([&] { api::run("lmm", lmm); }), "re_form: applies to predict (with newdata) only");
  api::Face cli;
  cli.spelling = api::Face::Spelling::command_line;
  EXPECT_EQ(input_error([&] { api::run("lmm", lmm, nullptr, nullptr, cli); }),
            "--re-form: applies to --predict (with --newdata) only");
  const Json panel{{"data", data("panel/missing2.csv")}, {"id", "patient"}, {"time", "session"}, {"vars", "alliance"}};
  const std::string language = input_error([&] { api::run("panel", panel); });
  const std::string command_line = input_error([&] { api::run("panel", panel, nullptr, nullptr, cli); });
  EXPECT_EQ(language.rfind("vars: ", 0), 0u) << language;
  EXPECT_EQ(command_line.rfind("--vars: ", 0), 0u) << command_line;
  EXPECT_EQ(command_line.substr(2), language);
  // The face's result file is checked with the command's own outputs before anything runs.
  const std::string dir = temp_dir("api-outputs");
  cli.result_file = dir + "/same.csv";
  Json ranef = lmm;
  ranef.erase("re_form");
  ranef["ranef"] = dir + "/same.csv";
  EXPECT_EQ(input_error([&] { api::run("lmm", ranef, nullptr, nullptr, cli); }),
            "--ranef " + dir + "/same.csv: --out writes the same file");
}

// ---------------------------------------------------------------- every command runs

// lme4: lmer(Reaction ~ Days + (Days | Subject), sleepstudy) (tests/reference/lmm.R).
TEST(ApiRun, LmmAndDescribe) {
  const Json reference = reference_json("lmm/sleepstudy_reml.json");
  const api::Result r =
      api::run("lmm", {{"data", data("lmm/sleepstudy.csv")}, {"formula", "Reaction ~ Days + (Days | Subject)"}, {"ranef", true}});
  EXPECT_TRUE(near_relative(r.json.at("criterion").get<double>(), reference.at("criterion").get<double>(), tolerance::kLmmCriterion));
  ASSERT_EQ(r.matrices.size(), 1u);
  EXPECT_EQ(r.matrices[0].names, (std::vector<std::string>{"(Intercept)", "Days"}));
  ASSERT_EQ(r.tables.size(), 1u);
  EXPECT_EQ(r.tables[0].first, "ranef");
  EXPECT_EQ(r.tables[0].second.rows(), 36u);  // 18 subjects x 2 terms
  // Warnings too name options as arguments: Days enters as a slope unless `factor` names it.
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find(", factor = \"Days\" makes it a factor"), std::string::npos) << r.warnings[0];
  // and the result keeps them as they were given (R's refits leave out the warnings a fit gave
  // by comparing them with these; they said --factor, so every refit repeated them)
  EXPECT_EQ(r.json.at("warnings").at(0).get<std::string>(), r.warnings[0]);
  // and so does the text table's warning line (R's print() leaves out the lines of the warnings given)
  EXPECT_NE(r.text.find("warning: " + r.warnings[0]), std::string::npos) << r.text;
  const api::Result d = api::run("describe", {{"data", data("lmm/sleepstudy.csv")}});
  EXPECT_EQ(d.json.at("rows"), 180);
  EXPECT_FALSE(d.csv.empty());
}

// metafor: rma(yi, vi, data = dat.bcg, method = "REML") (tests/reference/meta.R, rma_bcg.json REML_z).
TEST(ApiRun, Meta) {
  const Json reference = reference_json("meta/rma_bcg.json").at("REML_z");
  const api::Result r = api::run("meta", {{"data", data("meta/bcg.csv")}, {"yi", "yi"}, {"vi", "vi"}});
  EXPECT_TRUE(near_relative(r.json.at("estimate").get<double>(), reference.at("estimate").get<double>(), tolerance::kMetaIterative));
  EXPECT_TRUE(near_relative(r.json.at("tau2").get<double>(), reference.at("tau2").get<double>(), tolerance::kMetaIterative));
  EXPECT_FALSE(r.csv.empty());
}

// lavaan's RI-CLPM on missing2.csv (tests/reference/panel.R section parameters): the random
// intercept variance of alliance.
TEST(ApiRun, Panel) {
  const Json reference = reference_json("panel/parameters_riclpm_missing2.json").at("parameters").at(0);
  ASSERT_EQ(reference.at("lhs"), "RIalliance");
  const api::Result r = api::run(
      "panel", {{"data", data("panel/missing2.csv")}, {"id", "patient"}, {"time", "session"}, {"vars", "alliance,symptoms"}});
  const Json& ri = r.json.at("parameters").at(0);
  ASSERT_EQ(ri.at("lhs"), "RIalliance");
  ASSERT_EQ(ri.at("rhs"), "RIalliance");
  EXPECT_NEAR(ri.at("estimate").get<double>(), reference.at("est").get<double>(), tolerance::kPanelEstimate);
}

// dsem through run(): a short chain (no numbers against Stan here: tests/dsem does that); the
// face's progress is called and --draws is written.
TEST(ApiRun, Dsem) {
  const std::string dir = temp_dir("api-dsem");
  api::Face face;
  long calls = 0;
  face.progress = [&calls](long, long) { ++calls; };
  const api::Result r = api::run("dsem",
                                 {{"data", test_path("reference/dsem/small.csv")}, {"id", "patient"}, {"time", "session"},
                                  {"vars", Json::array({"alliance", "symptoms"})}, {"chains", 1}, {"iter", 40}, {"warmup", 20},
                                  {"threads", 1}, {"draws", dir + "/draws.csv"}},
                                 nullptr, nullptr, face);
  long lagged = 0;  // the means have no `from`
  for (const auto& f : r.json.at("fixed")) lagged += !f.at("from").is_null();
  EXPECT_EQ(lagged, 4);  // 2 autoregressions, 2 cross-lags
  EXPECT_GT(calls, 0);
  EXPECT_TRUE(std::filesystem::exists(dir + "/draws.csv"));
}

// The spec commands: prep, ipd stage1/stage2/run/onestage on tests/data/ipd. stage2's pooled
// cross-lag is metafor's rma(method = "REML", test = "knha") of tests/reference/ipd.R (stage2.csv).
TEST(ApiRun, SpecCommands) {
  const std::string spec = data("ipd/analysis.toml");
  const std::string dir = temp_dir("api-ipd");
  const api::Result prep = api::run("prep", {{"spec", spec}});
  ASSERT_EQ(prep.tables.size(), 1u);
  EXPECT_GT(prep.tables[0].second.rows(), 0u);
  // As many rows as R's preparation (tests/reference/ipd.R, prepared.csv), and the CSV the CLI prints.
  const std::string reference = spiral::test::read_text(test_path("reference/ipd/prepared.csv"));
  EXPECT_EQ(prep.tables[0].second.rows() + 1, static_cast<std::size_t>(std::count(reference.begin(), reference.end(), '\n')));
  EXPECT_EQ(prep.csv, run_spiral("prep --spec '" + spec + "'").out);
  const api::Result stage1 = api::run("ipd_stage1", {{"spec", spec}, {"study", "Ulm"}, {"out", dir + "/ulm.json"}});
  EXPECT_EQ(stage1.json.at("study"), "Ulm");
  EXPECT_TRUE(std::filesystem::exists(dir + "/ulm.json"));
  const api::Result run = api::run("ipd_run", {{"spec", spec}, {"threads", 1}});
  double pooled = 0;
  for (const auto& p : run.json.at("pooled"))
    if (p.at("model") == "process_to_outcome" && p.at("term") == "(Intercept)") pooled = p.at("estimate").get<double>();
  EXPECT_TRUE(near_relative(pooled, 0.26804668772149692, tolerance::kMetaIterative));  // stage2.csv, first row
  EXPECT_NE(input_error([&] { api::run("ipd_stage2", {{"spec", spec}, {"bundles", "nowhere.json"}}); }).find("nowhere.json"),
            std::string::npos);
  EXPECT_NE(input_error([&] { api::run("ipd_onestage", {{"spec", spec}, {"out", spec}}); }).find("analysis.toml"),
            std::string::npos);
}

// simulate returns its data without files; power re-simulates the [simulate] table of the
// spec simulate wrote.
TEST(ApiRun, SimulateAndPower) {
  const std::string dir = temp_dir("api-sim");
  const api::Result s = api::run("simulate", {{"studies", 2}, {"patients", 40}, {"sessions", 4}, {"process_to_outcome", -0.2},
                                              {"out", dir + "/s.csv"}, {"spec_out", dir + "/spec.toml"}});
  ASSERT_EQ(s.tables.size(), 3u);
  EXPECT_EQ(s.tables[0].first, "sessions");
  EXPECT_GT(s.tables[0].second.rows(), 0u);
  EXPECT_EQ(input_error([&] { api::run("simulate", {{"truth", dir + "/t.json"}}); }),
            "out: required when other files are written (the spec names it)");
  const api::Result p = api::run("power", {{"spec", dir + "/spec.toml"}, {"replications", 2}, {"threads", 1}});
  EXPECT_EQ(p.json.at("replications"), 2);
  EXPECT_FALSE(p.csv.empty());
}

}  // namespace
