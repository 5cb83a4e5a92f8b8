// leave1out, influence, regtest and trimfill against metafor 3.8-1 (tests/reference/meta.R,
// diagnostics.json: diag_for(fit) = leave1out(fit), influence(fit)$inf, regtest(fit), trimfill(fit)).
#include <cmath>

#include "meta_test_util.hpp"
#include "tolerances.hpp"

// GCC 12 at -O3 reports a std::string member of an inlined MetaColumns as maybe uninitialized
// in this file (a false positive: every member has a default constructor).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace spiral::test {
namespace {

MetaOptions all_diagnostics(const std::string& method, const std::string& test) {
  MetaOptions o;
  o.method = method;
  o.test = test;
  o.leave1out = o.influence = o.egger = o.trimfill = true;
  return o;
}

void expect_records(const nlohmann::json& ref, std::size_t i, const std::vector<std::pair<const char*, double>>& values,
                    double tol) {
  for (const auto& [key, value] : values) {
    SCOPED_TRACE(std::string(key) + " of study " + std::to_string(i + 1));
    EXPECT_REF(value, ref[i], key, tol);
  }
}

void expect_diagnostics(const MetaResult& r, const nlohmann::json& ref, double tol) {
  const auto& l1 = ref.at("leave1out");
  ASSERT_TRUE(r.leave1out);
  ASSERT_EQ(r.leave1out->size(), l1.size());
  for (std::size_t i = 0; i < l1.size(); ++i) {
    const LeaveOneOutRow& row = (*r.leave1out)[i];
    expect_records(l1, i,
                   {{"estimate", row.estimate}, {"std_error", row.std_error}, {"statistic", row.statistic},
                    {"p_value", row.p_value}, {"conf_low", row.conf_low}, {"conf_high", row.conf_high}, {"Q", row.Q},
                    {"Q_p", row.Q_p}, {"I2", row.I2}, {"H2", row.H2}},
                   tol);
    if (!l1[i]["tau2"].is_null()) {
      EXPECT_TRUE(near_relative(row.tau2, l1[i]["tau2"].get<double>(), tol));
    }
  }
  const auto& inf = ref.at("influence");
  ASSERT_TRUE(r.influence);
  ASSERT_EQ(r.influence->size(), inf.size());
  for (std::size_t i = 0; i < inf.size(); ++i) {
    const InfluenceRow& row = (*r.influence)[i];
    expect_records(inf, i,
                   {{"rstudent", row.rstudent}, {"dffits", row.dffits}, {"cook_d", row.cook_d}, {"cov_r", row.cov_r},
                    {"tau2_del", row.tau2_del}, {"QE_del", row.QE_del}, {"hat", row.hat}, {"weight", row.weight}},
                   tol);
    EXPECT_EQ(row.influential, inf[i]["influential"].get<bool>()) << "study " << i + 1;
  }
  ASSERT_TRUE(r.egger);
  EXPECT_REF(r.egger->statistic, ref.at("egger"), "statistic", tol);
  EXPECT_REF(r.egger->p_value, ref.at("egger"), "p_value", tol);
  ASSERT_TRUE(r.trimfill);
  const auto& tf = ref.at("trimfill");
  EXPECT_EQ(r.trimfill->k0, tf.at("k0").get<int>());
  EXPECT_EQ(r.trimfill->side, tf.at("side").get<std::string>());
  EXPECT_REF(r.trimfill->estimate, tf, "estimate", tol);
  EXPECT_REF(r.trimfill->std_error, tf, "std_error", tol);
  EXPECT_REF(r.trimfill->conf_low, tf, "conf_low", tol);
  EXPECT_REF(r.trimfill->conf_high, tf, "conf_high", tol);
  EXPECT_REF(r.trimfill->tau2, tf, "tau2", tol);
  EXPECT_EQ(r.trimfill->filled_yi.size(), static_cast<std::size_t>(r.trimfill->k0));
}

const nlohmann::json& diagnostics() {
  static const nlohmann::json ref = reference_json("meta/diagnostics.json");
  return ref;
}

TEST(Diagnostics, BcgRemlZ) {
  expect_diagnostics(fit_meta(bcg_input(), all_diagnostics("REML", "z")), diagnostics().at("bcg_REML_z"), tolerance::kMetaIterative);
}

TEST(Diagnostics, BcgDlKnha) {
  const MetaResult r = fit_meta(bcg_input(), all_diagnostics("DL", "knha"));
  expect_diagnostics(r, diagnostics().at("bcg_DL_knha"), tolerance::kMetaClosedForm);
  EXPECT_EQ(r.egger->df, 11.0);
}

TEST(Diagnostics, HedgesGRemlNoStudiesFilled) {
  MetaColumns c;
  c.measure = "SMD";
  c.m1i = "m1i", c.sd1i = "sd1i", c.n1i = "n1i", c.m2i = "m2i", c.sd2i = "sd2i", c.n2i = "n2i";
  expect_diagnostics(fit_meta(meta_input_from_table(meta_data("normand1999.csv"), c), all_diagnostics("REML", "z")),
                     diagnostics().at("smd_REML_z"), tolerance::kMetaIterative);
}

TEST(Diagnostics, FisherZPauleMandelFillsLeft) {
  MetaColumns c;
  c.measure = "ZCOR";
  c.ri = "ri";
  c.ni = "ni";
  expect_diagnostics(fit_meta(meta_input_from_table(meta_data("molloy2014.csv"), c), all_diagnostics("PM", "z")),
                     diagnostics().at("zcor_PM_z"), tolerance::kMetaIterative);
}

MetaInput hackshaw() {
  MetaColumns c;
  c.yi = "yi";
  c.vi = "vi";
  c.slab = "author";
  return meta_input_from_table(meta_data("hackshaw1998.csv"), c);
}

TEST(Diagnostics, HackshawFixedEffects) {
  expect_diagnostics(fit_meta(hackshaw(), all_diagnostics("FE", "z")), diagnostics().at("hackshaw_FE_z"), tolerance::kMetaClosedForm);
}

TEST(Diagnostics, HackshawRemlSevenFilled) {
  expect_diagnostics(fit_meta(hackshaw(), all_diagnostics("REML", "z")), diagnostics().at("hackshaw_REML_z"), tolerance::kMetaIterative);
}

// influence(rma(yi, vi, mods = ~ ablat, data = bcg))
TEST(Diagnostics, InfluenceWithModerator) {
  MetaOptions options;
  options.mods = "ablat";
  options.influence = true;
  const MetaResult r = fit_meta(bcg_input("ablat"), options);
  const auto& inf = diagnostics().at("bcg_ablat_influence");
  ASSERT_EQ(r.influence->size(), inf.size());
  for (std::size_t i = 0; i < inf.size(); ++i) {
    const InfluenceRow& row = (*r.influence)[i];
    expect_records(inf, i,
                   {{"rstudent", row.rstudent}, {"dffits", row.dffits}, {"cook_d", row.cook_d}, {"cov_r", row.cov_r},
                    {"tau2_del", row.tau2_del}, {"QE_del", row.QE_del}, {"hat", row.hat}, {"weight", row.weight}},
                   tolerance::kMetaIterative);
    EXPECT_EQ(row.influential, inf[i]["influential"].get<bool>());
  }
}

// regtest(rma(yi, vi, mods = ~ ablat, data = bcg, test = "knha"))
TEST(Diagnostics, EggerWithModeratorKnha) {
  MetaOptions options;
  options.mods = "ablat";
  options.test = "knha";
  options.egger = true;
  const MetaResult r = fit_meta(bcg_input("ablat"), options);
  const auto& ref = diagnostics().at("bcg_ablat_knha_egger");
  EXPECT_REF(r.egger->statistic, ref, "statistic", tolerance::kMetaIterative);
  EXPECT_REF(r.egger->p_value, ref, "p_value", tolerance::kMetaIterative);
  EXPECT_EQ(r.egger->df, 10.0);
}

TEST(Diagnostics, JsonRecords) {
  const Json j = to_json(fit_meta(bcg_input(), all_diagnostics("REML", "z")));
  ASSERT_EQ(j["leave1out"].size(), 13u);
  EXPECT_EQ(j["leave1out"][0]["slab"], "Aronson 1948");
  for (const char* key : {"slab", "estimate", "std_error", "tau2", "I2", "Q"}) EXPECT_TRUE(j["leave1out"][0].contains(key));
  EXPECT_EQ(j["influence"].size(), 13u);
  EXPECT_TRUE(j["influence"][0].contains("cook_d"));
  EXPECT_EQ(j["trimfill"]["k0"], 1);
  EXPECT_EQ(j["trimfill"]["side"], "right");
  EXPECT_TRUE(j["egger"].contains("p_value"));
}

TEST(Diagnostics, LeaveOneOutWithModeratorsIsAnInputError) {
  MetaOptions options;
  options.mods = "ablat";
  options.leave1out = true;
  EXPECT_THROW(fit_meta(bcg_input("ablat"), options), InputError);
}

// Equal standard errors leave Egger's test and trim and fill no slope (metafor's regtest and
// trimfill stop): a warning naming the option and null in its place; the fit is kept (specification section 4.1).
TEST(Diagnostics, EqualStandardErrorsAreAWarningAndNull) {
  MetaInput input;
  input.yi = {0.1, 0.3, 0.2, 0.5, 0.25};
  input.vi.assign(5, 1.0 / 47);
  for (const char* option : {"--egger", "--trimfill"}) {
    MetaOptions o;
    o.egger = std::string(option) == "--egger";
    o.trimfill = !o.egger;
    const MetaResult r = fit_meta(input, o);
    EXPECT_FALSE(r.egger);
    EXPECT_FALSE(r.trimfill);
    EXPECT_FALSE(std::isnan(r.estimate));
    ASSERT_EQ(r.warnings.size(), 1u) << option;
    EXPECT_EQ(r.warnings[0],
              std::string(option) + ": the studies' standard errors are all equal, so there is no slope on them to estimate");
    const Json j = to_json(r);
    EXPECT_TRUE(j[o.egger ? "egger" : "trimfill"].is_null());
  }
}

// regtest() with k = 2 has as many coefficients as studies (metafor stops); spiral keeps the fit.
TEST(Diagnostics, EggerWithTwoStudiesIsAWarningAndNull) {
  MetaInput input;
  input.yi = {0.1, 0.4};
  input.vi = {0.02, 0.05};
  MetaOptions o;
  o.egger = true;
  const MetaResult r = fit_meta(input, o);
  EXPECT_FALSE(r.egger);
  EXPECT_EQ(r.k, 2u);
  EXPECT_FALSE(std::isnan(r.estimate));
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].rfind("--egger: ", 0), 0u) << r.warnings[0];
}

// failing_diagnostics.json: influence(rma(yi, vi, mods = ~ ablat + early, data = bcg)), where
// deleting the one "early" study empties a factor level: metafor gives NA for that row's
// deletion statistics (hat and weight remain); the rest of the rows as metafor.
MetaInput early_input() {
  MetaColumns columns;
  columns.yi = "yi";
  columns.vi = "vi";
  columns.slab = "study";
  columns.mods = "ablat + early";
  return meta_input_from_table(meta_data("bcg_early.csv"), columns);
}

TEST(Diagnostics, InfluenceRowThatEmptiesAFactorLevelIsNull) {
  MetaOptions o;
  o.mods = "ablat + early";
  o.influence = true;
  const MetaResult r = fit_meta(early_input(), o);
  const auto reference = reference_json("meta/failing_diagnostics.json");
  const auto& ref = reference.at("influence_early");
  ASSERT_TRUE(r.influence);
  ASSERT_EQ(r.influence->size(), ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    SCOPED_TRACE("study " + std::to_string(i + 1));
    const InfluenceRow& row = (*r.influence)[i];
    EXPECT_REF(row.rstudent, ref[i], "rstudent", tolerance::kMetaClosedForm);
    EXPECT_REF(row.dffits, ref[i], "dffits", tolerance::kMetaClosedForm);
    EXPECT_REF(row.cook_d, ref[i], "cook_d", tolerance::kMetaClosedForm);
    EXPECT_REF(row.cov_r, ref[i], "cov_r", tolerance::kMetaClosedForm);
    EXPECT_REF(row.tau2_del, ref[i], "tau2_del", tolerance::kMetaClosedForm);
    EXPECT_REF(row.QE_del, ref[i], "QE_del", tolerance::kMetaClosedForm);
    EXPECT_REF(row.hat, ref[i], "hat", tolerance::kMetaClosedForm);
    EXPECT_REF(row.weight, ref[i], "weight", tolerance::kMetaClosedForm);
  }
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0],
            "--influence: the model could not be refitted without study 'Aronson 1948'; its deletion diagnostics are null");
  EXPECT_TRUE(to_json(r)["influence"][0]["rstudent"].is_null());
}

}  // namespace
}  // namespace spiral::test
