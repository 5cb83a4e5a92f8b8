// stage2.csv's rows, one per model x term x coefficient (specification section 5.1), against
// metafor (tests/reference/meta_stage2.R -> meta_stage2/coefficients.csv): stage 2 run on R's own
// stage-1 estimates of the ipd test data (tests/reference/ipd/stage1.csv, lme4 by
// tests/reference/ipd.R), so that only stage 2 is compared. Each R row is one coefficient of
// coef(summary(rma(yi = estimate, sei = std_error, [mods = MODS,] method = "REML", test = "knha"))).
#include <map>

#include <gtest/gtest.h>

#include "spiral/ipd.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

using test::near_relative;

const Table& r_stage1() {
  static const Table t = read_table(test::test_path("reference/ipd/stage1.csv"));
  return t;
}
const Table& r_moderators() {
  static const Table t = read_table(test::test_path("reference/meta_stage2/moderators.csv"));
  return t;
}
const Table& r_coefficients() {
  static const Table t = read_table(test::test_path("reference/meta_stage2/coefficients.csv"));
  return t;
}

// The bundle of `study` holding R's stage-1 estimates and the moderators of `spec`.
Bundle r_bundle(const IpdSpec& spec, std::size_t study_row) {
  const Table& s1 = r_stage1();
  const Table& mods = r_moderators();
  Bundle b;
  b.spec_hash = spec.hash();
  b.study = mods.column("study").text(study_row);
  for (const ModelSpec& m : stage1_models(spec)) {
    ModelFit fit;
    fit.model = m.name;
    for (std::size_t i = 0; i < s1.rows(); ++i) {
      if (s1.column("study").text(i) != b.study || s1.column("model").text(i) != m.name) continue;
      fit.converged = s1.column("converged").text(i) == "TRUE";
      if (fit.converged)
        fit.terms.push_back({s1.column("term").text(i), s1.column("estimate").numbers[i], s1.column("std_error").numbers[i]});
    }
    b.models.push_back(fit);
  }
  for (const auto& name : spec.moderators) {
    const Column& c = mods.column(name);
    ModeratorValue v{name, c.is_numeric(), c.is_numeric() ? c.numbers[study_row] : NA, c.is_numeric() ? "" : c.text(study_row)};
    b.moderators.push_back(v);
  }
  return b;
}

IpdResult stage2_on_r_stage1(const std::vector<std::string>& moderators) {
  IpdSpec spec = load_spec(test::test_path("data/ipd/analysis.toml"));
  spec.moderators = moderators;
  std::vector<Bundle> bundles;
  for (std::size_t i = 0; i < r_moderators().rows(); ++i) bundles.push_back(r_bundle(spec, i));
  return run_stage2(spec, bundles);
}

// stage2.csv's rows by (model, term, analysis, coefficient).
using Key = std::tuple<std::string, std::string, std::string, std::string>;
std::map<Key, std::size_t> rows_of(const Table& csv) {
  std::map<Key, std::size_t> rows;
  for (std::size_t i = 0; i < csv.rows(); ++i)
    rows[{csv.column("model").text(i), csv.column("term").text(i), csv.column("analysis").text(i),
          csv.column("coefficient").text(i)}] = i;
  return rows;
}

// Every R row of `set` has its row in stage2.csv with the same numbers; a meta-regression R
// could not fit has none; and stage2.csv has no row R does not have.
void expect_rows_equal_metafor(const std::string& set, const std::vector<std::string>& moderators) {
  SCOPED_TRACE(set);
  const IpdResult result = stage2_on_r_stage1(moderators);
  const Table csv = read_delimited_text(stage2_csv(result), "stage2.csv", {});
  const std::map<Key, std::size_t> rows = rows_of(csv);
  const Table& ref = r_coefficients();
  const double tol = test::tolerance::kMetaMeasure;
  std::size_t compared = 0, regression_rows = 0;
  for (std::size_t i = 0; i < ref.rows(); ++i) {
    if (ref.column("set").text(i) != set && ref.column("set").text(i) != "none") continue;
    const std::string model = ref.column("model").text(i), term = ref.column("term").text(i);
    const std::string analysis = ref.column("analysis").text(i), coefficient = ref.column("coefficient").text(i);
    const std::string what = model + " / " + term + " / " + analysis + " / " + coefficient;
    if (ref.column("coefficient").missing(i)) {  // rma() refused: more coefficients than studies
      for (const auto& [key, row] : rows)
        EXPECT_FALSE(std::get<0>(key) == model && std::get<1>(key) == term && std::get<2>(key) == analysis) << what;
      continue;
    }
    const auto found = rows.find({model, term, analysis, coefficient});
    ASSERT_NE(found, rows.end()) << what;
    const std::size_t row = found->second;
    // relative to the quantity's natural scale where it is near zero (an estimate of 1e-4 agrees
    // to ~1e-12 absolute): an estimate's SE, 1 for a statistic or p value; tau^2 (REML's
    // iterations: a few 1e-6 agree to ~2e-12) to the table's tolerance of an iterative tau^2
    const double se = ref.column("std_error").numbers[i];
    const std::map<std::string, double> floors = {{"estimate", se}, {"std_error", 0}, {"conf_low", se}, {"conf_high", se},
                                                  {"tau2", 0}, {"statistic", 1}, {"p_value", 1}, {"QM", 1}, {"k", 0}};
    for (const auto& [column, floor] : floors) {
      const double expected = ref.column(column).numbers[i], actual = csv.column(column).numbers[row];
      const double within = column == "tau2" ? test::tolerance::kMetaIterative : tol;
      if (is_na(expected)) EXPECT_TRUE(is_na(actual)) << what << " " << column;
      else EXPECT_LE(std::fabs(actual - expected), within * std::max(std::fabs(expected), floor))
          << what << " " << column << ": " << actual << " vs " << expected;
    }
    regression_rows += analysis == "meta_regression";
    ++compared;
  }
  EXPECT_EQ(compared, csv.rows());
  EXPECT_GT(regression_rows, 100u);
}

TEST(Stage2Csv, PooledAndMetaRegressionCoefficientsEqualMetafor) {
  expect_rows_equal_metafor("year_setting", {"year", "setting"});
}

// A factor level whose only study has no value of another moderator: its column is dropped
// with metafor's warning, which the meta-regression's JSON carries.
TEST(Stage2Csv, EmptyFactorLevelIsDroppedWithMetaforsWarning) {
  expect_rows_equal_metafor("empty_level", {"year_lund", "site"});
  const IpdResult result = stage2_on_r_stage1({"year_lund", "site"});
  const Json j = to_json(result);
  const Json& regression = j.at("pooled").at(0).at("meta_regression");
  EXPECT_NE(regression.at("warnings").dump().find("Redundant predictors dropped from the model."), std::string::npos)
      << regression.at("warnings").dump();
  // and the run's warnings (stderr, the report) name it with its model and term
  EXPECT_NE(Json(result.warnings).dump().find(": meta-regression: Redundant predictors dropped from the model."),
            std::string::npos) << Json(result.warnings).dump();
  // R warned for these fits and only these (feedback has no Lund, so no level without a study).
  const Table& ref = r_coefficients();
  for (std::size_t i = 0; i < ref.rows(); ++i) {
    if (ref.column("set").text(i) != "empty_level" || ref.column("coefficient").text(i) != "intrcpt") continue;
    for (const auto& p : result.pooled) {
      if (p.model != ref.column("model").text(i) || p.term != ref.column("term").text(i)) continue;
      ASSERT_TRUE(p.regression);
      bool warned = false;
      for (const auto& w : p.regression->warnings) warned = warned || w == "Redundant predictors dropped from the model.";
      EXPECT_EQ(warned, ref.column("redundant").text(i) == "TRUE") << p.model << " / " << p.term;
    }
  }
}

// The reference level without a study: the last level with one becomes the reference.
TEST(Stage2Csv, EmptyReferenceLevelMakesTheLastLevelTheReference) {
  expect_rows_equal_metafor("empty_reference", {"year_bern", "site_bern"});
}

// results.json holds the same coefficients (section 4's "coefficients" of "meta_regression").
TEST(Stage2Csv, ResultsJsonHoldsEveryCoefficient) {
  const IpdResult result = stage2_on_r_stage1({"year", "setting"});
  const Json j = to_json(result);
  ASSERT_EQ(j.at("pooled").size(), result.pooled.size());
  for (std::size_t i = 0; i < result.pooled.size(); ++i) {
    const Json& entry = j.at("pooled").at(i);
    const MetaResult& m = *result.pooled[i].regression;
    ASSERT_EQ(entry.at("meta_regression").at("coefficients").size(), m.coefficients.size());
    EXPECT_EQ(entry.at("meta_regression").at("coefficients").at(2).at("term"), "settingoutpatient");
    EXPECT_EQ(entry.at("coefficients").at(0).at("term"), "intrcpt");
  }
}

}  // namespace
}  // namespace spiral
