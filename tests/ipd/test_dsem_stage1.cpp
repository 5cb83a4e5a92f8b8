// The stage-1 model `dsem` of `spiral ipd` ([model] dsem = true, specification sections 5 and 9):
// the spec's [model] dsem and [dsem] keys, the terms every study's bundle holds, stage 1 equal to
// `spiral dsem` on the study's P and O, stage 2 pooling them, and agreement with the same model
// in Stan on one study (tests/reference/dsem.R ipd_study: rstan::sampling on Lund's P and O of
// tests/reference/ipd/prepared.csv, moderator baseline; posterior 1.4.0's mean, sd, mcse_mean).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "spiral/dsem.hpp"
#include "spiral/ipd.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

// tests/data/ipd with the default models and dsem (baseline as moderator, few draws: the test checks
// the pipeline, not the posterior).
std::string dsem_spec_text(const std::string& settings) {
  return "[data]\nsource = \"sessions.csv\"\n[variables]\nprocess = \"alliance\"\noutcome = \"symptoms\"\n"
         "[window]\nfirst = 1\nlast = 7\n[model]\ncross_level = false\ndsem = true\n[dsem]\n" +
         settings + "\n[meta]\nmethod = \"REML\"\ntest = \"knha\"\n";
}

IpdSpec dsem_spec(const std::string& settings) {
  return parse_spec(dsem_spec_text(settings), "dsem.toml", test::test_path("data/ipd"));
}

const std::vector<std::string> kTerms = {
    "process_to_outcome", "outcome_to_process", "process_ar", "outcome_ar",
    "sd_process_to_outcome", "sd_outcome_to_process", "sd_process_ar", "sd_outcome_ar",
    "process_to_outcome:baseline", "outcome_to_process:baseline", "process_ar:baseline", "outcome_ar:baseline"};

const ModelFit& dsem_fit(const Bundle& b) {
  for (const auto& m : b.models)
    if (m.model == "dsem") return m;
  throw std::runtime_error("no dsem model in study " + b.study);
}

TEST(IpdDsem, EveryStudyHasTheTermsAndStageTwoPoolsThem) {
  const IpdSpec spec = dsem_spec("between = [\"baseline\"]\nchains = 4\niter = 1000\nwarmup = 500\nseed = 3");
  const IpdData data = load_data(spec);
  const IpdResult r = run_ipd(spec, data.sessions, nullptr, 2);
  ASSERT_EQ(r.studies.size(), 5u);
  for (const auto& b : r.studies) {
    const ModelFit& fit = dsem_fit(b);
    ASSERT_EQ(fit.terms.size(), kTerms.size()) << b.study << " " << fit.message;
    for (std::size_t j = 0; j < kTerms.size(); ++j) {
      EXPECT_EQ(fit.terms[j].term, kTerms[j]);
      EXPECT_TRUE(std::isfinite(fit.terms[j].estimate)) << b.study << " " << kTerms[j];
      EXPECT_GT(fit.terms[j].std_error, 0) << b.study << " " << kTerms[j];
    }
    EXPECT_GT(fit.n_patients, 0);
    EXPECT_LE(fit.n_patients, b.counts.n_patients);  // patients without a value or a baseline are dropped
  }
  // Every term of a model that has not mixed in some study is pooled over the others (>= 2 here).
  for (const auto& term : kTerms) {
    const PooledTerm* pooled = nullptr;
    for (const auto& p : r.pooled)
      if (p.model == "dsem" && p.term == term) pooled = &p;
    ASSERT_NE(pooled, nullptr) << term << ": " << (r.warnings.empty() ? "" : r.warnings.front());
    EXPECT_GE(pooled->meta.k, 2) << term;
    EXPECT_TRUE(std::isfinite(pooled->meta.estimate)) << term;
  }
  // The same seed gives the same numbers.
  const IpdResult again = run_ipd(spec, data.sessions, nullptr, 1);
  EXPECT_EQ(to_json(again).dump(), to_json(r).dump());
}

// A study's stage-1 dsem is `spiral dsem` on that study's prepared P and O (the posterior mean
// the estimate, the posterior SD the standard error), and it agrees with Stan's posterior.
TEST(IpdDsem, StageOneIsSpiralDsemOnPAndOAndAgreesWithStan) {
  const std::string reference = "dsem/ipd_Lund.json";
  if (!std::filesystem::exists(test::test_path("reference/" + reference)))
    GTEST_SKIP() << "tests/reference/" << reference << " not written yet: Rscript tests/reference/dsem.R ipd_study";
  const IpdSpec spec = dsem_spec("between = [\"baseline\"]\nchains = 4\niter = 6000\nwarmup = 1000\nseed = 5");
  const IpdData data = load_data(spec);
  const Bundle b = run_stage1(spec, data.sessions, nullptr, "Lund");
  const ModelFit& fit = dsem_fit(b);
  ASSERT_TRUE(fit.converged) << fit.message;

  DsemOptions options;
  options.id = "patient";
  options.time = "session";
  options.vars = {"P", "O"};
  options.between = {"baseline"};
  options.first = 1;
  options.last = 7;
  options.iter = 6000;
  options.warmup = 1000;
  options.seed = 5;
  std::vector<std::size_t> rows;  // the study's rows, prepared as stage 1 prepares them
  for (std::size_t i = 0; i < data.sessions.rows(); ++i)
    if (data.sessions.column("study").text(i) == "Lund") rows.push_back(i);
  const Table lund = prepare(spec, data.sessions.select_rows(rows, Table::Levels::DropUnused));
  const DsemResult direct = fit_dsem(lund, options);
  // Stan names P alliance and O symptoms; the bundle's term of each parameter.
  const std::map<std::string, std::string> stan_name = {
      {"process_to_outcome", "fixed:alliance->symptoms"}, {"outcome_to_process", "fixed:symptoms->alliance"},
      {"process_ar", "fixed:alliance->alliance"}, {"outcome_ar", "fixed:symptoms->symptoms"},
      {"sd_process_to_outcome", "sd:alliance->symptoms"}, {"sd_outcome_to_process", "sd:symptoms->alliance"},
      {"sd_process_ar", "sd:alliance->alliance"}, {"sd_outcome_ar", "sd:symptoms->symptoms"},
      {"process_to_outcome:baseline", "moderator:baseline:alliance->symptoms"},
      {"outcome_to_process:baseline", "moderator:baseline:symptoms->alliance"},
      {"process_ar:baseline", "moderator:baseline:alliance->alliance"},
      {"outcome_ar:baseline", "moderator:baseline:symptoms->symptoms"}};
  std::map<std::string, const DsemSummary*> by_draw_name;
  for (const auto* list : {&direct.fixed, &direct.moderators, &direct.random_sd})
    for (const auto& s : *list) by_draw_name[s.name] = &s;
  std::map<std::string, nlohmann::json> stan;
  for (const auto& p : test::reference_json(reference)["parameters"]) stan[p["parameter"]] = p;
  ASSERT_EQ(fit.terms.size(), stan_name.size());
  for (const auto& t : fit.terms) {
    std::string spiral_name = stan_name.at(t.term);
    for (const char* v : {"alliance", "symptoms"}) {  // spiral's draws are named by P and O
      const std::string from = v, to = from == "alliance" ? "P" : "O";
      for (std::size_t at; (at = spiral_name.find(from)) != std::string::npos;) spiral_name.replace(at, from.size(), to);
    }
    const DsemSummary& s = *by_draw_name.at(spiral_name);
    EXPECT_EQ(t.estimate, s.mean) << t.term;
    EXPECT_EQ(t.std_error, s.sd) << t.term;
    // Within 4 combined Monte Carlo SEs of Stan's mean (spiral's MCSE: sd / sqrt(bulk ESS)), SD within 10%.
    const nlohmann::json& p = stan.at(stan_name.at(t.term));
    const double mcse = s.sd / std::sqrt(s.ess_bulk);
    const double combined = std::sqrt(mcse * mcse + std::pow(p["mcse_mean"].get<double>(), 2));
    EXPECT_NEAR(s.mean, p["mean"].get<double>(), 4 * combined) << t.term;
    EXPECT_TRUE(test::near_relative(s.sd, p["sd"].get<double>(), 0.10)) << t.term << " sd " << s.sd << " Stan " << p["sd"];
  }
}

// A [dsem] between column that is not in the sessions file or varies within a patient is an input
// error before any study is fitted (specification section 1: exit 2).
TEST(IpdDsem, BadModeratorsAreInputErrors) {
  const IpdSpec missing = dsem_spec("between = [\"nosuch\"]\niter = 40\nwarmup = 20");
  const IpdData data = load_data(missing);
  try {
    run_ipd(missing, data.sessions, nullptr, 1);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("[dsem] between: no column 'nosuch'"), std::string::npos) << e.what();
  }
  const IpdSpec varying = dsem_spec("between = [\"session\"]\niter = 40\nwarmup = 20");
  try {
    run_stage1(varying, data.sessions, nullptr, "Lund");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("[dsem] between column 'session' varies within patient"), std::string::npos) << e.what();
  }
}

// Through the CLI: `spiral ipd run` with dsem writes its rows; a bad [model] dsem value is exit 2.
TEST(IpdDsem, CliRunAndBadValue) {
  const std::string dir = test::temp_dir("ipd-dsem-cli");
  const std::string spec_path = dir + "/dsem.toml";
  std::string text = dsem_spec_text("between = [\"baseline\"]\nchains = 4\niter = 1000\nwarmup = 500");  // fewer draws: no study mixes (R-hat > 1.1), none is pooled
  text.replace(text.find("sessions.csv"), 12, test::test_path("data/ipd/sessions.csv"));
  std::ofstream(spec_path) << text;
  const test::RunResult r = test::run_spiral("ipd run --spec '" + spec_path + "' --out '" + dir + "/out'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string stage2 = test::read_text(dir + "/out/stage2.csv");
  EXPECT_NE(stage2.find("dsem,process_to_outcome,"), std::string::npos) << stage2.substr(0, 400);
  EXPECT_NE(stage2.find("dsem,sd_outcome_ar,"), std::string::npos);
  EXPECT_NE(test::read_text(dir + "/out/stage1.csv").find("dsem,process_to_outcome:baseline,"), std::string::npos);

  const std::string bad_path = dir + "/bad.toml";
  std::string bad = text;
  bad.replace(bad.find("dsem = true"), 11, "dsem = \"yes\"");
  std::ofstream(bad_path) << bad;
  const test::RunResult e = test::run_spiral("ipd run --spec '" + bad_path + "' --out '" + dir + "/bad'");
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_EQ(e.err.rfind("spiral: error: ", 0), 0u) << e.err;
  EXPECT_NE(e.err.find("model.dsem: expected true or false"), std::string::npos) << e.err;
  EXPECT_EQ(e.err.find('\n'), e.err.size() - 1) << "one line: " << e.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad"));
}

}  // namespace
}  // namespace spiral
