// Fits compared with lme4 / lmerTest / nlme values written by tests/reference/lmm.R.
// Each reference file names the R call in the script: describe_fit(lmer(<formula>, REML))
// with summary()'s Satterthwaite df unless the file says residual / no df.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <thread>

#include "spiral/lmm.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

using test::near_relative;
using test::reference_json;
using test::test_path;

// Tolerances: docs/tolerances.md, tests/support/tolerances.hpp.
using test::tolerance::kLmmCriterion, test::tolerance::kLmmEstimate, test::tolerance::kLmmStandardError,
    test::tolerance::kLmmDf, test::tolerance::kLmmVarianceComponent;

Table read_lmm_data(const std::string& name) { return read_table(test_path("data/lmm/" + name)); }

LmmResult fit(const std::string& data, const std::string& formula, bool reml = true,
              DfMethod df = DfMethod::Satterthwaite) {
  LmmOptions options;
  options.formula = formula;
  options.reml = reml;
  options.df = df;
  return fit_lmm(read_lmm_data(data), options);
}

// An estimate near zero is compared on the scale of its standard error.
::testing::AssertionResult near_estimate(double a, double b, double scale, double tol) {
  if (std::fabs(a - b) <= tol * std::max(std::fabs(b), scale)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " vs reference " << b;
}

// The criterion and the fixed effects (well determined even on a flat ridge of the criterion).
void expect_fixed_part_matches(const LmmResult& r, const nlohmann::json& ref) {
  EXPECT_EQ(r.method, ref["method"].get<std::string>());
  EXPECT_EQ(r.n_obs, ref["n_obs"].get<long>());
  EXPECT_TRUE(near_relative(r.criterion, ref["criterion"], kLmmCriterion));
  EXPECT_TRUE(near_relative(r.logLik, ref["logLik"], kLmmCriterion));
  EXPECT_TRUE(near_relative(r.AIC, ref["AIC"], kLmmCriterion));
  EXPECT_TRUE(near_relative(r.BIC, ref["BIC"], kLmmCriterion));
  EXPECT_EQ(r.df_model, ref["df_model"].get<long>());
  EXPECT_TRUE(near_relative(r.sigma, ref["sigma"], kLmmEstimate));
  ASSERT_EQ(r.fixed.size(), ref["fixed"].size());
  for (std::size_t i = 0; i < r.fixed.size(); ++i) {
    const auto& f = r.fixed[i];
    const auto& e = ref["fixed"][i];
    SCOPED_TRACE(f.term);
    EXPECT_EQ(f.term, e["term"].get<std::string>());
    EXPECT_TRUE(near_estimate(f.estimate, e["estimate"], e["std_error"], kLmmEstimate));
    EXPECT_TRUE(near_relative(f.std_error, e["std_error"], kLmmStandardError));
    if (e["df"].is_null()) EXPECT_TRUE(std::isnan(f.df));
    else EXPECT_TRUE(near_relative(f.df, e["df"], kLmmDf));
    EXPECT_TRUE(near_estimate(f.statistic, e["statistic"], 1, kLmmStandardError));
    EXPECT_TRUE(near_estimate(f.p_value, e["p_value"], 1e-8, 2e-2));
    EXPECT_TRUE(near_estimate(f.conf_low, e["conf_low"], e["std_error"], kLmmStandardError));
    EXPECT_TRUE(near_estimate(f.conf_high, e["conf_high"], e["std_error"], kLmmStandardError));
  }
}

void expect_matches(const LmmResult& r, const nlohmann::json& ref) {
  expect_fixed_part_matches(r, ref);
  EXPECT_EQ(r.singular, ref["singular"].get<bool>());
  ASSERT_EQ(r.theta.size(), ref["theta"].size());
  for (std::size_t i = 0; i < r.theta.size(); ++i)
    EXPECT_TRUE(near_estimate(r.theta[i], ref["theta"][i], 1e-2, kLmmVarianceComponent)) << "theta " << i;
  ASSERT_EQ(r.groups.size(), ref["groups"].size());
  for (std::size_t g = 0; g < r.groups.size(); ++g) {
    EXPECT_EQ(r.groups[g].name, ref["groups"][g]["name"].get<std::string>());
    EXPECT_EQ(r.groups[g].levels, ref["groups"][g]["levels"].get<long>());
  }
  ASSERT_EQ(r.random.size(), ref["random"].size());
  for (std::size_t j = 0; j < r.random.size(); ++j) {
    const auto& b = r.random[j];
    const auto& e = ref["random"][j];
    EXPECT_EQ(b.group, e["group"].get<std::string>());
    EXPECT_EQ(b.terms, e["terms"].get<std::vector<std::string>>());
    for (std::size_t i = 0; i < b.sd.size(); ++i) {
      EXPECT_TRUE(near_estimate(b.sd[i], e["sd"][i], 1e-2 * r.sigma, kLmmVarianceComponent)) << b.group << " sd " << i;
      for (std::size_t k = 0; k < b.sd.size(); ++k)
        EXPECT_NEAR(b.cor[i][k], e["cor"][i][k].get<double>(), 1e-3) << b.group << " cor " << i << "," << k;
    }
  }
}

TEST(LmmFit, SleepstudyCorrelatedSlopesReml) {
  // lmer(Reaction ~ Days + (Days | Subject), sleepstudy); summary() with Satterthwaite df.
  const LmmResult r = fit("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)");
  expect_matches(r, reference_json("lmm/sleepstudy_reml.json"));
  EXPECT_TRUE(r.converged);
  // Only the frame's note on Days (0..9, whole numbers), as any number-coded predictor gets.
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].rfind("column 'Days' holds 10 distinct whole numbers", 0), 0u) << r.warnings[0];
}

TEST(LmmFit, SleepstudyCorrelatedSlopesMl) {
  // lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE).
  expect_matches(fit("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", false),
                 reference_json("lmm/sleepstudy_ml.json"));
}

TEST(LmmFit, SleepstudyUncorrelatedSlopes) {
  // lmer(Reaction ~ Days + (Days || Subject), sleepstudy, REML = TRUE / FALSE).
  expect_matches(fit("sleepstudy.csv", "Reaction ~ Days + (Days || Subject)"),
                 reference_json("lmm/sleepstudy_uncorrelated_reml.json"));
  expect_matches(fit("sleepstudy.csv", "Reaction ~ Days + (Days || Subject)", false),
                 reference_json("lmm/sleepstudy_uncorrelated_ml.json"));
}

TEST(LmmFit, ResidualAndNoDf) {
  // Residual df n - p and z-tests (qnorm / pnorm) on the same lmer fit.
  expect_matches(fit("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", true, DfMethod::Residual),
                 reference_json("lmm/sleepstudy_residual_df.json"));
  expect_matches(fit("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", true, DfMethod::None),
                 reference_json("lmm/sleepstudy_no_df.json"));
}

TEST(LmmFit, SatterthwaiteDfAndConvergenceCheckDoNotDependOnTheUnitOfY) {
  // y in units of 1e5: the same t statistics and df as in y's own unit, and no "eigenvalue close
  // to zero" warning. lmerTest 3.1 takes its Hessian in (theta, sigma) as they are: it warns
  // "Model may not have converged with 1 eigenvalue close to zero: 6.7e-11" and gives Days df
  // 4.95e21 there (spiral did the same: 6.1e26), though lme4's fit is the same model.
  Table huge = read_lmm_data("sleepstudy.csv");
  std::vector<double> scaled = huge.numeric("Reaction").numbers;
  for (double& y : scaled) y *= 1e5;
  huge.add_numeric("huge_y", std::move(scaled));
  LmmOptions options;
  options.formula = "Reaction ~ Days + (1 | Subject)";
  const LmmResult own_unit = fit_lmm(read_lmm_data("sleepstudy.csv"), options);
  options.formula = "huge_y ~ Days + (1 | Subject)";
  const LmmResult r = fit_lmm(huge, options);
  ASSERT_EQ(r.fixed.size(), own_unit.fixed.size());
  for (std::size_t i = 0; i < r.fixed.size(); ++i) {
    EXPECT_TRUE(near_relative(r.fixed[i].df, own_unit.fixed[i].df, kLmmDf)) << r.fixed[i].term;
    EXPECT_TRUE(near_relative(r.fixed[i].statistic, own_unit.fixed[i].statistic, kLmmStandardError));
  }
  for (const std::string& w : r.warnings) EXPECT_EQ(w.find("eigenvalue"), std::string::npos) << w;
}

TEST(LmmFit, FixedEffectOfTheGroupingFactorIsWarnedNotACrash) {
  // Reaction ~ Days + factor(Subject) + (1 | Subject): the random intercept lies in the span of
  // the fixed effects, so the REML criterion is flat in its theta. lme4 warns "Hessian is
  // numerically singular: parameters are not uniquely determined"; lmerTest's df of the subject
  // effects are ~4e-9 (p = 1). spiral stopped with an internal Boost overflow error (the t
  // quantile on df ~ 0) before this test.
  LmmResult r;
  ASSERT_NO_THROW(r = fit("sleepstudy.csv", "Reaction ~ Days + factor(Subject) + (1 | Subject)"));
  EXPECT_FALSE(r.converged);
  EXPECT_NE(std::find(r.warnings.begin(), r.warnings.end(),
                      "Hessian is numerically singular: parameters are not uniquely determined"),
            r.warnings.end());
  const FixedEffect& subject = r.fixed.back();
  EXPECT_LT(subject.df, 1e-3) << subject.term;
  EXPECT_GT(subject.p_value, 0.999);
  EXPECT_FALSE(std::isfinite(subject.conf_low));
  // Days, estimated within subjects, keeps its residual-like df and a finite interval
  EXPECT_GT(r.fixed[1].df, 100);
  EXPECT_TRUE(std::isfinite(r.fixed[1].conf_low));
}

TEST(LmmFit, FactorByNumericInteractionWithRandomSlopes) {
  // lmer(y ~ group * session + (session | patient), interaction.csv simulated in lmm.R).
  expect_matches(fit("interaction.csv", "y ~ group * session + (session | patient)"),
                 reference_json("lmm/interaction_reml.json"));
}

TEST(LmmFit, CrossedPenicillin) {
  // lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin, REML = TRUE / FALSE).
  expect_matches(fit("penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
                 reference_json("lmm/penicillin_reml.json"));
  expect_matches(fit("penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)", false),
                 reference_json("lmm/penicillin_ml.json"));
}

TEST(LmmFit, CrossedLargeEnoughForTheThreadedPaths) {
  // lmer(y ~ 1 + (1 | s) + (1 | d) + (1 | dept), crossed_large.csv simulated in lmm.R): 812 rest
  // columns, factored by two threads with the AVX2 kernels where the processor has them, and
  // ~210,000 coupling entries per evaluation shared between two threads (on >= 2 cores).
  expect_matches(fit("crossed_large.csv", "y ~ 1 + (1 | s) + (1 | d) + (1 | dept)"),
                 reference_json("lmm/crossed_large_reml.json"));
}

TEST(LmmFit, NestedPastes) {
  // lmer(strength ~ 1 + (1 | batch/cask), Pastes).
  expect_matches(fit("pastes.csv", "strength ~ 1 + (1 | batch/cask)"), reference_json("lmm/pastes_reml.json"));
}

TEST(LmmFit, ThreeLevelsWithFiveLevelFactor) {
  // lmer(y ~ phase + session + (1 + session | patient) + (1 | therapist), three_level.csv).
  expect_matches(fit("three_level.csv", "y ~ phase + session + (1 + session | patient) + (1 | therapist)"),
                 reference_json("lmm/three_level_reml.json"));
}

TEST(LmmFit, SingularFitIsReported) {
  // lmer(y ~ x + (1 | g), singular.csv): isSingular() is TRUE.
  const LmmResult r = fit("singular.csv", "y ~ x + (1 | g)");
  expect_matches(r, reference_json("lmm/singular_reml.json"));
  EXPECT_TRUE(r.singular);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_EQ(r.warnings.front(), "boundary (singular) fit: see help('isSingular')");
}

TEST(LmmFit, AliasedColumnIsDroppedWithWarning) {
  // lmer(Reaction ~ Days + Days2 + (1 | Subject)) with Days2 = 2 * Days: Days2 dropped.
  const LmmResult r = fit("rank_deficient.csv", "Reaction ~ Days + Days2 + (1 | Subject)");
  expect_matches(r, reference_json("lmm/rank_deficient_reml.json"));
  // After the frame's notes on Days and Days2 (whole numbers, 10 distinct values).
  ASSERT_EQ(r.warnings.size(), 3u);
  EXPECT_EQ(r.warnings[2], "fixed-effect model matrix is rank deficient so dropping 1 column / coefficient");
}

// The conditional modes and their SDs of `formula` on `data` against a reference written
// from as.data.frame(ranef(fit, condVar = TRUE)).
LmmResult expect_ranef_matches(const std::string& data, const std::string& formula, const std::string& reference) {
  LmmOptions options;
  options.formula = formula;
  options.df = DfMethod::None;
  options.conditional_modes = true;
  const LmmResult r = fit_lmm(read_lmm_data(data), options);
  const auto ref = reference_json(reference);
  EXPECT_EQ(r.ranef.size(), ref.size());
  for (std::size_t i = 0; i < std::min(r.ranef.size(), ref.size()); ++i) {
    EXPECT_EQ(r.ranef[i].group, ref[i]["group"].get<std::string>());
    EXPECT_EQ(r.ranef[i].level, ref[i]["level"].get<std::string>());
    EXPECT_EQ(r.ranef[i].term, ref[i]["term"].get<std::string>());
    EXPECT_TRUE(near_estimate(r.ranef[i].estimate, ref[i]["estimate"], ref[i]["std_error"], kLmmEstimate)) << i;
    EXPECT_TRUE(near_relative(r.ranef[i].std_error, ref[i]["std_error"], kLmmStandardError)) << i;
  }
  return r;
}

TEST(LmmFit, ThreeRandomEffectsPerPatient) {
  // lmer(y ~ x + session + (1 + session + x | patient) [+ (1 | therapist)], three_effects.csv):
  // k = 3 takes the deviance's one-group-at-a-time path, alone and coupled to the therapists.
  expect_matches(fit("three_effects.csv", "y ~ x + session + (1 + session + x | patient)"),
                 reference_json("lmm/three_effects_reml.json"));
  expect_matches(fit("three_effects.csv", "y ~ x + session + (1 + session + x | patient) + (1 | therapist)"),
                 reference_json("lmm/three_effects_nested_reml.json"));
}

TEST(LmmFit, ConditionalModesAsRanefCondVar) {
  // as.data.frame(ranef(lmer(Reaction ~ Days + (Days | Subject)), condVar = TRUE)).
  const LmmResult r =
      expect_ranef_matches("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "lmm/sleepstudy_ranef.json");
  EXPECT_EQ(ranef_csv(r).substr(0, 38), "group,level,term,estimate,std_error\nSu");
}

TEST(LmmFit, ConditionalModesOfPatientsNestedInTherapists) {
  // as.data.frame(ranef(lmer(y ~ phase + session + (1 + session | patient) + (1 | therapist),
  // three_level.csv), condVar = TRUE)): each patient's block couples to one therapist's effect.
  expect_ranef_matches("three_level.csv", "y ~ phase + session + (1 + session | patient) + (1 | therapist)",
                       "lmm/three_level_ranef.json");
}

// Patients nested in therapists whose variance estimate is 0: the deviance skips the coupling
// wherever the therapists' Lambda is 0 (at the optimum and on BOBYQA's boundary points).
TEST(LmmFit, TherapistVarianceOnTheBoundary) {
  // lmer(y ~ x + (1 + x | patient) + (1 | therapist), zero_therapist.csv): theta's last element 0.
  const std::string formula = "y ~ x + (1 + x | patient) + (1 | therapist)";
  const LmmResult r = fit("zero_therapist.csv", formula);
  expect_matches(r, reference_json("lmm/zero_therapist_reml.json"));
  EXPECT_TRUE(r.singular);
  // as.data.frame(ranef(that fit, condVar = TRUE)): the patients' modes without coupling.
  expect_ranef_matches("zero_therapist.csv", formula, "lmm/zero_therapist_ranef.json");
}

// A nearly singular fit of the power analysis that BOBYQA, with the groups' cross-products
// summed in another order, stopped inside the region, its therapist theta at 1.1e-4 and the
// gradient test failed (converged = false, left out of the pooling); restarted with that theta
// on its bound (GradientCheck.RestartPutsOnTheBoundWhereTheNewtonStepCrossesIt) it reaches
// lme4's boundary optimum. Converged and singular, as lme4's fit.
TEST(LmmFit, FailedGradientTestNextToTheBoundaryRestartsOnIt) {
  // lmer(P ~ Ow_lag1 + Pw_lag1 + Pm + Om + session + (1 + Ow_lag1 | patient) + (1 | therapist),
  // near_singular_therapist.csv): singular, theta's last element 0.
  const LmmResult r =
      fit("near_singular_therapist.csv", "P ~ Ow_lag1 + Pw_lag1 + Pm + Om + session + (1 + Ow_lag1 | patient) + (1 | therapist)");
  expect_fixed_part_matches(r, reference_json("lmm/near_singular_therapist_reml.json"));
  EXPECT_TRUE(r.converged);
  EXPECT_TRUE(r.singular);
  EXPECT_EQ(r.theta.back(), 0);
}

TEST(LmmFit, ConditionalModesWhenPatientsAreNotInTherapistOrder) {
  // The same fit with the therapists renamed t<i> -> u<9-i>: ordered by therapist, the
  // patients' blocks are reversed inside the deviance model, and each patient's modes must
  // still come out in its own row (lme4's answer does not depend on the therapists' names).
  const std::string dir = test::temp_dir("lmm_renamed_therapists");
  std::string csv = test::read_text(test_path("data/lmm/three_level.csv"));
  for (std::size_t at = csv.find("\"t"); at != std::string::npos; at = csv.find("\"t", at + 1))
    if (std::isdigit(static_cast<unsigned char>(csv[at + 2])))
      csv.replace(at + 1, 2, "u" + std::to_string(9 - (csv[at + 2] - '0')));
  {
    std::ofstream out(dir + "/renamed.csv");
    out << csv;
  }
  LmmOptions options;
  options.formula = "y ~ phase + session + (1 + session | patient) + (1 | therapist)";
  options.df = DfMethod::None;
  options.conditional_modes = true;
  const LmmResult r = fit_lmm(read_table(dir + "/renamed.csv"), options);
  const auto ref = reference_json("lmm/three_level_ranef.json");
  ASSERT_EQ(r.ranef.size(), ref.size());
  std::size_t patients = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (ref[i]["group"] != "patient") continue;
    ++patients;
    EXPECT_EQ(r.ranef[i].level, ref[i]["level"].get<std::string>());
    EXPECT_TRUE(near_estimate(r.ranef[i].estimate, ref[i]["estimate"], ref[i]["std_error"], kLmmEstimate)) << i;
    EXPECT_TRUE(near_relative(r.ranef[i].std_error, ref[i]["std_error"], kLmmStandardError)) << i;
  }
  EXPECT_EQ(patients, 80u);  // 40 patients x (intercept, session)
}

TEST(LmmFit, LikelihoodRatioTestAsAnova) {
  // anova(lmer(Reaction ~ Days + (1 | Subject)), lmer(Reaction ~ Days + (Days | Subject))).
  const auto ref = reference_json("lmm/sleepstudy_compare.json");
  const LmmComparison c = compare_lmm(read_lmm_data("sleepstudy.csv"), "Reaction ~ Days + (Days | Subject)",
                                      "Reaction ~ Days + (1 | Subject)", LmmOptions{});
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].formula, "Reaction ~ Days + (1 | Subject)");  // ordered by npar
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(c.models[i].df_model, ref["df_model"][i].get<long>());
    EXPECT_TRUE(near_relative(c.models[i].logLik, ref["logLik"][i], kLmmCriterion));
    EXPECT_TRUE(near_relative(c.models[i].AIC, ref["AIC"][i], kLmmCriterion));
    EXPECT_TRUE(near_relative(c.models[i].BIC, ref["BIC"][i], kLmmCriterion));
    EXPECT_TRUE(near_relative(c.models[i].deviance, ref["deviance"][i], kLmmCriterion));
  }
  ASSERT_EQ(c.tests.size(), 1u);
  EXPECT_TRUE(near_relative(c.tests[0].chisq, ref["chisq"], 1e-5));
  EXPECT_EQ(c.tests[0].chisq_df, ref["chisq_df"].get<long>());
  EXPECT_TRUE(near_relative(c.tests[0].p_value, ref["p_value"], 1e-3));
}

TEST(LmmFit, IpdStageOneShapeWithDroppedRows) {
  // lmer(O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient), ipd_shape.csv):
  // the lagged columns are missing at session 1, so 100 rows are dropped. With Om (the
  // patient mean of the response) as a covariate the intercept variance is nearly zero and
  // the criterion is flat along theta: BOBYQA with lme4's settings on the same NLopt follows
  // lme4's path until rounding differences (1e-13) send both to different points of the
  // ridge, equal in criterion to 1e-10. So theta is not compared here; everything else is.
  const LmmResult r = fit("ipd_shape.csv", "O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)");
  expect_fixed_part_matches(r, reference_json("lmm/ipd_shape_reml.json"));
  EXPECT_EQ(r.n_dropped, 100);
}

TEST(LmmFit, ConcurrentFitsAgreeWithASerialFit) {
  // The IPD pipeline fits studies in parallel threads: no shared state may leak between fits.
  const Table table = read_lmm_data("ipd_shape.csv");
  LmmOptions options;
  options.formula = "O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)";
  const LmmResult serial = fit_lmm(table, options);
  std::vector<LmmResult> parallel(4);
  std::vector<std::thread> threads;
  for (auto& result : parallel) threads.emplace_back([&] { result = fit_lmm(table, options); });
  for (auto& t : threads) t.join();
  for (const auto& result : parallel) {
    EXPECT_EQ(result.criterion, serial.criterion);
    EXPECT_EQ(result.theta, serial.theta);
    EXPECT_EQ(result.fixed[1].df, serial.fixed[1].df);
  }
}

void expect_matches_nlme(const LmmResult& r, const nlohmann::json& ref) {
  ASSERT_TRUE(r.ar1_phi.has_value());
  EXPECT_TRUE(near_relative(*r.ar1_phi, ref["phi"], 1e-3));
  EXPECT_TRUE(near_relative(r.sigma, ref["sigma"], 1e-3));
  if (ref.contains("sd_intercept")) {
    EXPECT_TRUE(near_relative(r.random[0].sd[0], ref["sd_intercept"], 1e-3));
  }
  EXPECT_TRUE(near_relative(r.logLik, ref["logLik"], kLmmCriterion));
  for (std::size_t i = 0; i < r.fixed.size(); ++i) {
    EXPECT_EQ(r.fixed[i].term, ref["terms"][i].get<std::string>());
    EXPECT_TRUE(near_estimate(r.fixed[i].estimate, ref["estimate"][i], ref["std_error"][i], kLmmEstimate));
    const double se = ref["std_error"][i].get<double>() * ref["se_scale"].get<double>();
    EXPECT_TRUE(near_relative(r.fixed[i].std_error, se, kLmmStandardError));
  }
}

TEST(LmmFit, Ar1WithGapsAsNlmeCorCar1) {
  // lme(y ~ x + session, random = ~ 1 | patient, correlation = corCAR1(form = ~ session | patient)).
  LmmOptions options;
  options.formula = "y ~ x + session + (1 | patient)";
  options.ar1_time = "session";
  options.df = DfMethod::None;
  const Table table = read_lmm_data("ar1_gaps.csv");
  expect_matches_nlme(fit_lmm(table, options), reference_json("lmm/ar1_reml.json"));
  options.reml = false;
  expect_matches_nlme(fit_lmm(table, options), reference_json("lmm/ar1_ml.json"));
}

// phi in (-1, 1) as nlme's corAR1 (issue 24): it was held at 0 or above, and near 1 the
// bound and the finite differences that crossed it gave a false convergence warning.
TEST(LmmFit, Ar1NegativePhiAsNlmeCorAr1) {
  // lme(distance ~ age * Sex, random = ~ age | Subject, correlation = corAR1(form = ~ occasion | Subject)):
  // phi = -0.473 (tests/reference/lmm.R, ar1_orthodont_reml.json).
  LmmOptions options;
  options.formula = "distance ~ age * Sex + (age | Subject)";
  options.ar1_time = "occasion";
  const LmmResult r = fit_lmm(read_lmm_data("orthodont.csv"), options);
  expect_matches_nlme(r, reference_json("lmm/ar1_orthodont_reml.json"));
  EXPECT_LT(*r.ar1_phi, -0.47);
  EXPECT_TRUE(r.converged);
}

TEST(LmmFit, Ar1PhiNearOneAsNlmeCorAr1WithoutWarnings) {
  // lme(weight ~ Time * Diet, random = ~ 1 | Rat, correlation = corAR1(0.9, form = ~ Time | Rat)):
  // phi = 0.97368 over days (ar1_bodyweight_reml.json; from its default start lme stops at
  // a local optimum, phi = 0.998 with a lower logLik).
  LmmOptions options;
  options.formula = "weight ~ Time * Diet + (1 | Rat)";
  options.ar1_time = "Time";
  const LmmResult r = fit_lmm(read_lmm_data("bodyweight.csv"), options);
  expect_matches_nlme(r, reference_json("lmm/ar1_bodyweight_reml.json"));
  EXPECT_TRUE(r.converged);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
}

// The engine on a frame built by hand (the IPD pipeline's entry point): sleepstudy as
// lmer(Reaction ~ Days + (Days | Subject)) sees it.
TEST(LmmFit, HandBuiltFrameMatchesLme4) {
  const Table table = read_lmm_data("sleepstudy.csv");
  const Column& reaction = table.numeric("Reaction");
  const Column& days = table.numeric("Days");
  const Column& subject = table.column("Subject");
  const auto n = static_cast<Eigen::Index>(table.rows());
  ModelFrame frame;
  frame.response = "Reaction";
  frame.y = Eigen::Map<const Eigen::VectorXd>(reaction.numbers.data(), n);
  frame.x.resize(n, 2);
  frame.x.col(0).setOnes();
  frame.x.col(1) = Eigen::Map<const Eigen::VectorXd>(days.numbers.data(), n);
  frame.x_names = {"(Intercept)", "Days"};
  frame.x_assign = {0, 1};
  RandomBlock block;
  block.group = "Subject";
  block.terms = {"(Intercept)", "Days"};
  block.z = frame.x;
  if (subject.is_factor()) {
    block.levels = subject.levels;
    block.level_of_row = subject.codes;
  } else {  // numeric subject ids: levels in numeric order, as R's factor()
    std::vector<double> values(subject.numbers);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    for (double v : values) block.levels.push_back(r_number_label(v));
    for (double v : subject.numbers)
      block.level_of_row.push_back(int(std::lower_bound(values.begin(), values.end(), v) - values.begin()));
  }
  frame.random.push_back(block);
  LmmOptions options;
  const LmmResult r = fit_lmm(frame, options);
  expect_matches(r, reference_json("lmm/sleepstudy_reml.json"));
}

// --level is a percentage: outside (0, 100) an InputError (the R and Python packages once got
// a Boost message for 150 and reversed intervals for -5); at or below 1, likely meant as a
// proportion, a warning.
TEST(LmmFit, LevelOutsideAPercentageIsAnInputError) {
  LmmOptions options;
  options.formula = "Reaction ~ Days + (1 | Subject)";
  const Table data = read_lmm_data("sleepstudy.csv");
  for (double level : {150.0, 100.0, 0.0, -5.0, std::nan("")}) {
    options.level = level;
    try {
      fit_lmm(data, options);
      ADD_FAILURE() << "expected InputError for level " << level;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--level: expected a percentage between 0 and 100, got ", 0), 0u) << e.what();
    }
  }
  options.level = 0.95;
  const LmmResult r = fit_lmm(data, options);
  EXPECT_NE(std::find(r.warnings.begin(), r.warnings.end(),
                      "--level 0.95 is a percentage: the intervals are 0.95% intervals (95 gives 95% ones)"),
            r.warnings.end());
}

// The text's random-effect SDs in significant digits, as lme4's VarCorr print: with four
// decimals, SDs of a response in units of 1e-9 printed as 0.0000 (a singular fit, to the eye).
TEST(LmmFit, TextShowsStandardDeviationsInSignificantDigits) {
  LmmOptions options;
  options.formula = "Reaction ~ Days + (Days | Subject)";
  Table data = read_lmm_data("sleepstudy.csv");
  EXPECT_NE(to_text(fit_lmm(data, options)).find(" 25.592\n"), std::string::npos);  // the residual SD
  for (double& y : data.column("Reaction").numbers) y *= 1e-9;
  const std::string text = to_text(fit_lmm(data, options));
  EXPECT_NE(text.find(" 2.5592e-08\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("0.0000"), std::string::npos) << text;
}

// An ordered factor (from R or pandas) is coded by R's polynomial contrasts, as lme4 codes it:
// lmer(Reaction ~ block + (1 | Subject)) with block = ordered(Days %/% 2) (tests/reference/lmm.R).
TEST(LmmFit, OrderedFactorHasPolynomialContrastsAsLme4) {
  Table data = read_lmm_data("sleepstudy.csv");
  Column block;
  block.name = "block";
  block.kind = Column::Kind::Factor;
  block.ordered = true;
  block.levels = {"0", "1", "2", "3", "4"};
  for (double days : data.column("Days").numbers) block.codes.push_back(static_cast<int>(days) / 2);
  data.add(std::move(block));
  LmmOptions options;
  options.formula = "Reaction ~ block + (1 | Subject)";
  expect_matches(fit_lmm(data, options), reference_json("lmm/ordered_block.json"));
}

// Regression: the Newton polish after BOBYQA took the last theta from above lme4's singular
// tolerance (1e-4) to 1.4e-6, and the fit was reported as not singular, without its warning.
// lme4: isSingular(lmer(y ~ grp + (0 + grp | subj), polished_singular.csv)) is TRUE (theta 0).
TEST(LmmFit, SingularIsJudgedWhereTheFitEnds) {
  LmmOptions options;
  options.formula = "y ~ grp + (0 + grp | subj)";
  const LmmResult r = fit_lmm(read_lmm_data("polished_singular.csv"), options);
  EXPECT_LT(r.theta.back(), 1e-4);
  EXPECT_TRUE(r.singular);
  EXPECT_NE(std::find(r.warnings.begin(), r.warnings.end(), "boundary (singular) fit: see help('isSingular')"),
            r.warnings.end());
}

TEST(LmmFit, FormulasWithRFunctionsMatchLme4) {
  // tests/reference/lmm_formulas.R: lmerTest::lmer() of formulas with poly(), ns(), bs(),
  // scale(), factor(), I(), log(), sqrt(), offset() and %in% on sleepstudy, Orthodont and
  // BodyWeight: the same terms, estimates, SEs, df and criteria.
  const auto reference = reference_json("lmm/formulas.json");
  ASSERT_GE(reference.size(), 11u);
  for (const auto& expected : reference) {
    SCOPED_TRACE(expected["formula"].get<std::string>());
    expect_matches(fit(expected["data"], expected["formula"]), expected);
  }
}

}  // namespace
}  // namespace spiral
