// Stage 1 + stage 2 against R (tests/reference/ipd.R: lme4::lmer(REML = TRUE) fixef and
// sqrt(diag(vcov())), lm() for early process -> post, metafor::rma(method = "REML",
// test = "knha") and rma(mods = ~ year)), and the federated mode against `ipd run`.
#include <cmath>
#include <functional>
#include <set>

#include <gtest/gtest.h>

#include "spiral/ipd.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

using test::near_relative;

struct Fixture {
  IpdSpec spec;
  IpdData data;
  IpdResult result;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    x.spec = load_spec(test::test_path("data/ipd/analysis.toml"));
    x.data = load_data(x.spec);
    x.result = run_ipd(x.spec, x.data.sessions, x.data.patients_or_null(), 2);
    return x;
  }();
  return f;
}

const PooledTerm* find(const IpdResult& r, const std::string& model, const std::string& term) {
  for (const auto& p : r.pooled) {
    if (p.model == model && p.term == term) return &p;
  }
  return nullptr;
}

// Every stage-1 fit at kIpdStage1. (Bern/feedback is a singular fit on which spiral's lmm once
// stopped on the boundary at REML criterion 278.537 where lme4 reaches 278.463: lme4's
// restart_edge step was missing. Later, with the deviance's rounding changed by the group
// kernels, BOBYQA stopped inside at 278.479, where the Hessian is not positive definite:
// the restart from such a point. Kept here as the regression test of both fixes.)
double stage1_tolerance(const std::string&, const std::string&) { return test::tolerance::kIpdStage1; }

TEST(IpdPipeline, StageOneEqualsLme4) {
  const Table ref = read_table(test::test_path("reference/ipd/stage1.csv"));
  const auto& studies = fixture().result.studies;
  long compared = 0;
  for (std::size_t i = 0; i < ref.rows(); ++i) {
    const std::string study = ref.column("study").text(i), model = ref.column("model").text(i);
    const std::string term = ref.column("term").text(i);
    const Bundle* b = nullptr;
    for (const auto& s : studies) b = s.study == study ? &s : b;
    ASSERT_NE(b, nullptr) << study;
    const ModelFit* fit = nullptr;
    for (const auto& m : b->models) fit = m.model == model ? &m : fit;
    ASSERT_NE(fit, nullptr) << model;
    if (ref.column("converged").text(i) == "FALSE") {
      EXPECT_FALSE(fit->converged) << study << " " << model;
      EXPECT_FALSE(fit->message.empty());
      continue;
    }
    const TermEstimate* t = nullptr;
    for (const auto& e : fit->terms) t = e.term == term ? &e : t;
    ASSERT_NE(t, nullptr) << study << " " << model << " " << term;
    const double tol = stage1_tolerance(study, model);
    // Estimates near zero (Pm, Om on the flat ridge of singular fits: ~1e-5 with SE ~1e-2)
    // are compared on the scale of their standard error.
    const double estimate = ref.column("estimate").numbers[i], se = ref.column("std_error").numbers[i];
    EXPECT_TRUE(near_relative(t->estimate, estimate, tol) || std::fabs(t->estimate - estimate) <= test::tolerance::kIpdNearZeroInSe * se)
        << study << " " << model << " " << term << ": " << t->estimate << " vs " << estimate;
    EXPECT_TRUE(near_relative(t->std_error, ref.column("std_error").numbers[i], tol)) << study << " " << model << " " << term;
    EXPECT_EQ(fit->n_obs, static_cast<long>(ref.column("n_obs").numbers[i])) << study << " " << model;
    ++compared;
  }
  EXPECT_GT(compared, 300);
}

TEST(IpdPipeline, EveryPooledModelTermEqualsMetafor) {
  const Table ref = read_table(test::test_path("reference/ipd/stage2.csv"));
  const IpdResult& r = fixture().result;
  ASSERT_EQ(r.pooled.size(), ref.rows());
  for (std::size_t i = 0; i < ref.rows(); ++i) {
    const std::string model = ref.column("model").text(i), term = ref.column("term").text(i);
    const PooledTerm* p = find(r, model, term);
    ASSERT_NE(p, nullptr) << model << " " << term;
    const auto col = [&](const char* name) { return ref.column(name).numbers[i]; };
    const MetaResult& m = p->meta;
    const std::string what = model + " / " + term;
    const double tol = test::tolerance::kIpdStage2;
    EXPECT_EQ(static_cast<double>(m.k), col("k")) << what;
    // As in stage 1, an estimate near zero is compared on the scale of its standard error
    // (the singular fits' flat ridge moves stage-1 estimates by ~1e-6 between optimizer paths).
    EXPECT_TRUE(near_relative(m.estimate, col("estimate"), tol) ||
                std::fabs(m.estimate - col("estimate")) <= test::tolerance::kIpdNearZeroInSe * col("std_error"))
        << what << ": " << m.estimate << " vs " << col("estimate");
    EXPECT_TRUE(near_relative(m.std_error, col("std_error"), tol)) << what;
    EXPECT_TRUE(near_relative(m.p_value, col("p_value"), tol)) << what;
    // So are interval limits near zero (feedback / Pw_lag1: conf_high 0.0097, its SE 0.034).
    const auto near_limit = [&](double value, const char* name) {
      return near_relative(value, col(name), tol) || std::fabs(value - col(name)) <= test::tolerance::kIpdNearZeroInSe * col("std_error");
    };
    EXPECT_TRUE(near_limit(m.conf_low, "conf_low")) << what << ": " << m.conf_low << " vs " << col("conf_low");
    EXPECT_TRUE(near_limit(m.conf_high, "conf_high")) << what << ": " << m.conf_high << " vs " << col("conf_high");
    EXPECT_TRUE(near_limit(m.pi_low, "pi_low")) << what << ": " << m.pi_low << " vs " << col("pi_low");
    EXPECT_TRUE(near_limit(m.pi_high, "pi_high")) << what << ": " << m.pi_high << " vs " << col("pi_high");
    EXPECT_TRUE(near_relative(m.Q, col("Q"), tol)) << what;
    EXPECT_NEAR(m.tau2, col("tau2"), tol * std::max(col("tau2"), 1e-4)) << what;
    EXPECT_NEAR(m.I2, col("I2"), tol * std::max(col("I2"), 1.0)) << what;
    ASSERT_TRUE(p->regression) << what;
    ASSERT_EQ(p->regression->coefficients.size(), 2u);
    // The year slope is near zero for several terms: compared relative to its standard error.
    EXPECT_NEAR(p->regression->coefficients[1].estimate, col("year_estimate"),
                tol * std::max(std::fabs(col("year_estimate")), col("year_std_error")))
        << what;
    EXPECT_TRUE(near_relative(p->regression->coefficients[1].std_error, col("year_std_error"), tol)) << what;
  }
}

TEST(IpdPipeline, FailedStudyModelIsKeptAndLeftOutWithAWarning) {
  const IpdResult& r = fixture().result;
  const PooledTerm* p = find(r, "feedback", "Pw_lag1");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->meta.k, 4u);
  EXPECT_EQ(find(r, "process_to_outcome", "Pw_lag1")->meta.k, 5u);
  bool warned = false;
  for (const auto& w : r.warnings) warned = warned || w.find("study 'Lund', model 'feedback' left out of stage 2") == 0;
  EXPECT_TRUE(warned);
  EXPECT_NE(stage1_csv(r).find("Lund,feedback,NA,NA,NA,"), std::string::npos);
}

TEST(IpdPipeline, ThreadsGiveTheSameNumbersAsASerialRun) {
  const Fixture& f = fixture();
  const IpdResult serial = run_ipd(f.spec, f.data.sessions, f.data.patients_or_null(), 1);
  EXPECT_EQ(json_dump(to_json(serial)), json_dump(to_json(f.result)));
  EXPECT_EQ(stage1_csv(serial), stage1_csv(f.result));
}

TEST(IpdPipeline, FederatedStagesGiveExactlyTheRunResult) {
  const Fixture& f = fixture();
  std::vector<Bundle> bundles;
  for (const auto& study : study_ids(f.spec, f.data.sessions)) {
    const Bundle b = run_stage1_federated(f.spec, f.data.sessions, f.data.patients_or_null(), study);
    bundles.push_back(bundle_from_json(json_dump(to_json(b)), study + ".json"));  // through the file format
  }
  std::swap(bundles.front(), bundles.back());  // order of the files does not matter
  const IpdResult federated = run_stage2(f.spec, bundles);
  EXPECT_EQ(json_dump(to_json(federated)), json_dump(to_json(f.result)));
  EXPECT_EQ(stage1_csv(federated), stage1_csv(f.result));
  EXPECT_EQ(stage2_csv(federated), stage2_csv(f.result));
}

// Every string and array of a JSON value, depth first.
void visit(const Json& j, const std::function<void(const Json&)>& f) {
  f(j);
  if (j.is_structured()) {
    for (const auto& e : j) visit(e, f);
  }
}

TEST(IpdPipeline, BundlesHoldNoPatientLevelData) {
  const Fixture& f = fixture();
  const Bundle b = run_stage1_federated(f.spec, f.data.sessions, f.data.patients_or_null(), "Ulm");
  const Json j = to_json(b);
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"format", "spec_hash", "spiral_version", "study", "counts", "moderators",
                                         "models", "warnings"}));
  std::set<std::string> therapists;
  const Column& t = f.data.sessions.column("therapist");
  for (std::size_t i = 0; i < t.size(); ++i) therapists.insert(t.text(i));
  visit(j, [&](const Json& v) {
    if (v.is_array()) {
      EXPECT_LT(v.size(), 20u);  // nothing per patient (Ulm has 50) or per session
    }
    if (v.is_string()) {
      EXPECT_EQ(therapists.count(v.get<std::string>()), 0u) << v;
    }
  });
  EXPECT_EQ(b.counts.n_patients, 50);
}

TEST(IpdPipeline, FederatedRefusalsAndMismatches) {
  const Fixture& f = fixture();
  IpdSpec strict = f.spec;
  strict.min_patients = 40;
  EXPECT_THROW(run_stage1_federated(strict, f.data.sessions, f.data.patients_or_null(), "Zurich"), InputError);
  EXPECT_THROW(run_stage1(f.spec, f.data.sessions, f.data.patients_or_null(), "Paris"), InputError);
  IpdSpec other = f.spec;
  other.test = "z";
  EXPECT_THROW(run_stage2(other, f.result.studies), InputError);
  std::vector<Bundle> twice = {f.result.studies[0], f.result.studies[0]};
  EXPECT_THROW(run_stage2(f.spec, twice), InputError);
}

TEST(IpdPipeline, OnestageNestsPatientsInStudies) {
  const Fixture& f = fixture();
  IpdSpec spec = f.spec;
  spec.cross_level = false;
  spec.lags = {1};
  spec.custom.clear();
  spec.post.reset();
  spec.moderators.clear();
  const OnestageResult r = run_onestage(spec, f.data.sessions);
  ASSERT_EQ(r.models.size(), 2u);
  EXPECT_EQ(r.models[0].formula,
            "O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | study:patient) + (1 + Pw_lag1 | study)");
  EXPECT_TRUE(r.models[0].ok) << r.models[0].fit.dump();
  EXPECT_EQ(r.models[0].fit.at("groups").size(), 2u);
}

// One study: (1 + Pw_lag1 | study) has one level, so every model fails, which is no valid
// result (an AnalysisError, exit 1), not an empty result with exit 0.
TEST(IpdPipeline, OnestageWithEveryModelFailedIsAnAnalysisError) {
  const Fixture& f = fixture();
  const Column& study = f.data.sessions.column(f.spec.study);
  std::vector<bool> first_study(f.data.sessions.rows());
  for (std::size_t r = 0; r < first_study.size(); ++r) first_study[r] = study.text(r) == study.text(0);
  IpdSpec spec = f.spec;
  spec.custom.clear();
  try {
    run_onestage(spec, f.data.sessions.subset(first_study, Table::Levels::DropUnused));
    ADD_FAILURE() << "expected AnalysisError";
  } catch (const AnalysisError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("onestage: every model failed; the first: ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace spiral

namespace spiral {
namespace {

// [model] panel = true: the RI-CLPM of P and O per study, its four lagged terms pooled.
// The data were generated (tests/reference/ipd.R) with autoregressive effects 0.3 (process)
// and 0.4 (outcome); the panel model is unbiased for them, unlike person-mean centring.
TEST(IpdPipeline, PanelModelPoolsItsFourLaggedTerms) {
  IpdSpec spec = load_spec(test::test_path("data/ipd/analysis.toml"));
  spec.panel = true;
  spec.custom.clear();
  const IpdData data = load_data(spec);
  const IpdResult r = run_ipd(spec, data.sessions, data.patients_or_null(), 2);
  std::vector<std::string> terms;
  for (const auto& p : r.pooled) {
    if (p.model == "panel") terms.push_back(p.term);
  }
  EXPECT_EQ(terms, (std::vector<std::string>{"process_to_outcome", "outcome_to_process", "process_ar", "outcome_ar"}));
  EXPECT_NEAR(find(r, "panel", "process_ar")->meta.estimate, 0.3, 0.1);
  EXPECT_NEAR(find(r, "panel", "outcome_ar")->meta.estimate, 0.4, 0.1);
  EXPECT_EQ(find(r, "panel", "process_ar")->meta.k, 5u);
  const std::string html = ipd_report_html(r, spec, ipd_forest_svgs(r, spec));
  EXPECT_NE(html.find("The Same Effects in the Mixed Models and in the RI-CLPM"), std::string::npos);
}

// The report for a manuscript (specification section 5.1): terms and variables by their
// [labels], a Method paragraph citing each method it describes and only those, the singular
// fits explained, every meta-regression coefficient, no "nan" anywhere.
TEST(IpdReport, NamesByLabelsCitesItsMethodsAndExplainsSingularFits) {
  IpdSpec spec = fixture().spec;
  spec.labels = {{"process", "Alliance (WAI-SR)"}, {"Pw_lag1", "Alliance, previous session (within)"}};
  const IpdResult& r = fixture().result;
  const std::string html = ipd_report_html(r, spec, ipd_forest_svgs(r, spec));
  const auto has = [&](const std::string& text) { return html.find(text) != std::string::npos; };
  EXPECT_TRUE(has("The process measure, Alliance (WAI-SR) (P)"));
  EXPECT_TRUE(has("<td>Alliance, previous session (within)</td>"));
  EXPECT_TRUE(has("<h2 id=\"references\">References</h2>"));
  EXPECT_TRUE(has("(Bates et al., 2015)") && has("Fitting linear mixed-effects models using lme4"));
  EXPECT_EQ(has("(Knapp &amp; Hartung, 2003)"), spec.test == "knha");
  EXPECT_FALSE(has("DerSimonian")) << "cited only for the DL estimator";
  EXPECT_FALSE(has("Hamaker, E. L.")) << "cited only with [model] panel";
  long singular = 0;  // as the stage-2 warning counts them
  for (const auto& b : r.studies)
    for (const auto& m : b.models) singular += m.singular;
  EXPECT_EQ(has("<strong>Singular fits.</strong> " + std::to_string(singular) + " of "), singular > 0);
  EXPECT_TRUE(has("Stage-1 Estimates per Study, b (SE): Alliance (WAI-SR) → next-session symptoms"));
  for (const char* printed_nan : {">nan", "-nan", " nan", "nan<", "NaN"}) EXPECT_FALSE(has(printed_nan)) << printed_nan;
  for (const auto& p : r.pooled) {
    if (!p.regression) continue;
    for (const auto& c : p.regression->coefficients)  // by name, metafor's intrcpt as the Intercept
      EXPECT_TRUE(has(c.term == "intrcpt" ? std::string(">Intercept<") : ">" + c.term + "<")) << c.term;
  }
}

}  // namespace
}  // namespace spiral
