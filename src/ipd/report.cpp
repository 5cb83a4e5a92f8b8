// report.html of `spiral ipd run|stage2`: one self-contained page (inline style and SVG)
// that a clinician-researcher can read from top to bottom: what was analysed, the key
// lagged effects in words, APA tables per model, forest plots, warnings, the exact spec.
#include <array>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "common/parallel.hpp"
#include "ipd/ipd_internal.hpp"
#include "spiral/html.hpp"
#include "spiral/ipd.hpp"

namespace spiral {

using namespace ipd_detail;

namespace {

std::string esc(const std::string& s) { return html::escape(s); }

// How the report names a variable or term for readers: its [labels] entry, else the code.
std::string reader_name(const IpdSpec& spec, const std::string& name) {
  const auto label = spec.labels.find(name);
  return label == spec.labels.end() ? name : label->second;
}
// A term in a table: its label with the code beside it, or the code alone.
std::string term_cell(const IpdSpec& spec, const std::string& term) {
  const auto label = spec.labels.find(term);
  if (label == spec.labels.end()) return "<code>" + esc(term) + "</code>";
  return esc(label->second) + " <code class=\"code\">" + esc(term) + "</code>";
}
// The process and the outcome as readers know them: [labels] process / outcome, else the
// column's own label or name.
std::string variable_name(const IpdSpec& spec, const std::string& role, const std::string& column) {
  const auto label = spec.labels.find(role);
  return esc(label != spec.labels.end() ? label->second : reader_name(spec, column));
}
std::string process_name(const IpdSpec& spec) { return variable_name(spec, "process", spec.process); }
std::string outcome_name(const IpdSpec& spec) { return variable_name(spec, "outcome", spec.outcome); }

const PooledTerm* find_pooled(const IpdResult& r, const std::string& model, const std::string& term) {
  for (const auto& p : r.pooled) {
    if (p.model == model && p.term == term) return &p;
  }
  return nullptr;
}

std::string model_formula(const IpdSpec& spec, const std::string& model) {
  for (const auto& m : stage1_models(spec)) {
    if (m.name == model) return m.kind == ModelSpec::Kind::Panel ? "RI-CLPM of P and O (sessions as waves)" : m.formula;
  }
  return "";
}

// "b = -0.07, 95% CI [-0.15, 0.01], p = .082, k = 5 studies"
std::string effect_in_words(const PooledTerm& p) {
  const MetaResult& m = p.meta;
  const std::string p_text = m.p_value < 0.001 ? "p " + html::p_value(m.p_value) : "p = " + html::p_value(m.p_value);
  return fmt::format("<em>b</em> = {}, 95% CI {}, {}, <em>k</em> = {} studies", html::number(m.estimate),
                     html::interval(m.conf_low, m.conf_high), p_text, m.k);
}

std::string key_findings(const IpdResult& r, const IpdSpec& spec) {
  std::string out = "<div class=\"key\"><p><strong>Key lagged effects</strong> (pooled over studies; "
                    "variables z-standardized within each study, so coefficients are in standard deviations):</p><ul>";
  const auto item = [&](const std::string& model, const std::string& term, const std::string& words) {
    if (const PooledTerm* p = find_pooled(r, model, term)) out += "<li>" + words + ": " + effect_in_words(*p) + ".</li>";
  };
  const std::string P = process_name(spec), O = outcome_name(spec);
  item("process_to_outcome", "Pw_lag1",
       "A session with " + P + " 1 SD above the patient's own average went with a change of <em>b</em> SD in " + O +
           " at the next session");
  item("outcome_to_process", "Ow_lag1",
       "A session with " + O + " 1 SD above the patient's own average went with a change of <em>b</em> SD in " + P +
           " at the next session");
  item(post_model_name(), "early_process",
       "Early " + P + " (sessions " + (spec.post ? std::to_string(spec.post->early_first) + "&ndash;" +
                                                       std::to_string(spec.post->early_last)
                                                 : "") +
           ") and post-treatment " + O + ", adjusted for pre-treatment " + O);
  item(panel_model_name(), "process_to_outcome", "RI-CLPM cross-lagged effect of " + P + " on " + O);
  item(panel_model_name(), "outcome_to_process", "RI-CLPM cross-lagged effect of " + O + " on " + P);
  return out + "</ul></div>\n";
}

std::string studies_table(const IpdResult& r) {
  html::Table t;
  t.caption = "Data per study (sessions in the analysis window)";
  t.header = {"Study", "Patients", "Sessions", "Missing process", "Missing outcome", "Rows used", "Models failed"};
  long patients = 0, sessions = 0, mp = 0, mo = 0, used = 0;
  for (const auto& b : r.studies) {
    long failed = 0;
    for (const auto& m : b.models) failed += !m.converged;
    t.rows.push_back({esc(b.study), std::to_string(b.counts.n_patients), std::to_string(b.counts.n_sessions),
                      std::to_string(b.counts.missing_process), std::to_string(b.counts.missing_outcome),
                      std::to_string(b.counts.n_obs), std::to_string(failed)});
    patients += b.counts.n_patients;
    sessions += b.counts.n_sessions;
    mp += b.counts.missing_process;
    mo += b.counts.missing_outcome;
    used += b.counts.n_obs;
  }
  t.rows.push_back({"<strong>Total</strong>", std::to_string(patients), std::to_string(sessions), std::to_string(mp),
                    std::to_string(mo), std::to_string(used), ""});
  t.note = "Rows used = patient-sessions with every variable of the process &rarr; outcome model "
           "(the first session of each patient and sessions after a missed one have no lagged value).";
  return html::table(t);
}

std::string pooled_table(const IpdResult& r, const IpdSpec& spec, const std::string& model) {
  html::Table t;
  t.caption = "Pooled stage-1 coefficients";
  t.header = {"Term", "k", "b", "SE", "95% CI", "p", "95% PI", "τ²", "I² (%)", "Q (df)", "p (Q)"};
  t.first_numeric_column = 1;
  for (const auto& p : r.pooled) {
    if (p.model != model) continue;
    const MetaResult& m = p.meta;
    t.rows.push_back({term_cell(spec, p.term), std::to_string(m.k), html::number(m.estimate, 3),
                      html::number(m.std_error, 3), html::interval(m.conf_low, m.conf_high, 3),
                      html::p_value(m.p_value), html::interval(m.pi_low, m.pi_high, 3), html::number(m.tau2, 4),
                      html::number(m.I2, 1), html::number(m.Q) + " (" + std::to_string(m.Q_df) + ")",
                      html::p_value(m.Q_p)});
  }
  t.note = std::string("Random-effects meta-analysis of the studies' estimates; b, its CI and p from the ") +
           (spec.test == "knha" ? "Knapp&ndash;Hartung t-test" : "Wald z-test") +
           ". PI = 95% prediction interval for a new study; τ² = between-study variance; "
           "I² = share of variability due to between-study heterogeneity; Q = Cochran's heterogeneity test, "
           "p (Q) its p value.";
  return html::table(t);
}

// Each study's stage-1 estimates of one model: b (SE) per term, a study per row.
std::string stage1_table(const IpdResult& r, const IpdSpec& spec, const std::string& model) {
  std::vector<std::string> terms;
  for (const auto& p : r.pooled)
    if (p.model == model) terms.push_back(p.term);
  html::Table t;
  t.caption = "Stage-1 estimates per study, b (SE)";
  t.header = {"Study"};
  for (const auto& term : terms) t.header.push_back(reader_name(spec, term));
  for (const auto& b : r.studies) {
    std::vector<std::string> row{esc(b.study)};
    for (const auto& m : b.models) {
      if (m.model != model) continue;
      for (const auto& term : terms) {
        const TermEstimate* e = nullptr;
        for (const auto& candidate : m.terms) e = candidate.term == term ? &candidate : e;
        row.push_back(!m.converged || !e ? "&ndash;"
                                         : html::number(e->estimate, 3) + " (" + html::number(e->std_error, 3) + ")" +
                                               (m.singular ? "<sup>s</sup>" : ""));
      }
    }
    if (row.size() == terms.size() + 1) t.rows.push_back(std::move(row));
  }
  t.note = "&ndash; = the model was not fitted in this study (see Warnings). <sup>s</sup> = a singular fit "
           "(a random-effect variance estimated at zero; see Method).";
  return t.rows.empty() ? "" : html::table(t);
}

std::string regression_table(const IpdResult& r, const IpdSpec& spec, const std::string& model) {
  html::Table t;
  t.caption = "Meta-regression on study-level moderators";
  t.header = {"Term", "Coefficient", "b", "95% CI", "p", "QM (df)", "QM p"};
  t.first_numeric_column = 2;
  for (const auto& p : r.pooled) {
    if (p.model != model || !p.regression) continue;
    for (const auto& c : p.regression->coefficients) {
      t.rows.push_back({term_cell(spec, p.term), esc(reader_name(spec, c.term)), html::number(c.estimate, 3),
                        html::interval(c.conf_low, c.conf_high, 3), html::p_value(c.p_value),
                        html::number(p.regression->QM) + " (" + std::to_string(p.regression->QM_df) + ")",
                        html::p_value(p.regression->QM_p)});
    }
  }
  return t.rows.empty() ? "" : html::table(t);
}

// Lagged terms and the post/panel effects are the research questions; their forest plots
// are shown open, the covariates' behind a disclosure.
bool is_key_term(const std::string& model, const std::string& term) {
  if (model == panel_model_name()) return true;
  if (model == post_model_name()) return term == "early_process";
  return term.find("_lag") != std::string::npos;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
}

// Cairo names glyphs and clip paths "glyph0-1", "clip1" in every SVG: inlined side by side
// in one page they would collide, so each figure's ids get their own prefix.
std::string with_unique_ids(std::string svg, const std::string& prefix) {
  replace_all(svg, "id=\"", "id=\"" + prefix);
  replace_all(svg, "href=\"#", "href=\"#" + prefix);
  replace_all(svg, "url(#", "url(#" + prefix);
  return svg;
}

std::string forest_figure(const std::string& svg, std::size_t index) {
  std::string figure = "<figure class=\"forest\">";
  figure += with_unique_ids(svg, fmt::format("f{}-", index));
  figure += "</figure>\n";
  return figure;
}

std::string model_section(const IpdResult& r, const IpdSpec& spec, const std::vector<std::string>& forests,
                          const std::string& model) {
  std::string out = "<h3 id=\"model-" + esc(model) + "\">" + esc(model) + "</h3>\n<p><code>" +
                    esc(model_formula(spec, model)) + "</code></p>\n";
  out += pooled_table(r, spec, model) + regression_table(r, spec, model);
  const std::string per_study = stage1_table(r, spec, model);
  if (!per_study.empty()) out += "<details><summary>Stage-1 estimates per study</summary>\n" + per_study + "</details>\n";
  std::string other;
  for (std::size_t i = 0; i < r.pooled.size(); ++i) {
    const PooledTerm& p = r.pooled[i];
    if (p.model != model) continue;
    (is_key_term(model, p.term) ? out : other) += forest_figure(forests[i], i);
  }
  if (!other.empty()) out += "<details><summary>Forest plots of the other terms</summary>\n" + other + "</details>\n";
  return out;
}

std::string panel_comparison(const IpdResult& r) {
  html::Table t;
  t.caption = "The same effects in the mixed models and in the RI-CLPM";
  t.header = {"Effect", "Mixed model b [95% CI]", "RI-CLPM b [95% CI]"};
  const std::vector<std::array<std::string, 4>> pairs = {
      {"process → outcome", "process_to_outcome", "Pw_lag1", "process_to_outcome"},
      {"outcome → process", "outcome_to_process", "Ow_lag1", "outcome_to_process"},
      {"process autoregression", "outcome_to_process", "Pw_lag1", "process_ar"},
      {"outcome autoregression", "process_to_outcome", "Ow_lag1", "outcome_ar"}};
  const auto cell = [](const PooledTerm* p) {
    return p ? html::number(p->meta.estimate) + " " + html::interval(p->meta.conf_low, p->meta.conf_high) : "&ndash;";
  };
  for (const auto& [label, model, term, panel_term] : pairs)
    t.rows.push_back({esc(label), cell(find_pooled(r, model, term)), cell(find_pooled(r, panel_model_name(), panel_term))});
  t.note = "Person-mean-centred lagged mixed models underestimate autoregressive effects in short series "
           "(Nickell bias); the random-intercept cross-lagged panel model (Hamaker et al., 2015) does not.";
  return html::table(t);
}

std::string failures_table(const IpdResult& r) {
  html::Table t;
  t.caption = "Stage-1 fits left out of stage 2";
  t.header = {"Study", "Model", "Reason"};
  t.first_numeric_column = 3;
  for (const auto& b : r.studies) {
    for (const auto& m : b.models) {
      if (!m.converged) t.rows.push_back({esc(b.study), esc(m.model), esc(m.message)});
    }
  }
  return t.rows.empty() ? "" : html::table(t);
}

std::string warnings_list(const IpdResult& r) {
  if (r.warnings.empty()) return "<p>None.</p>\n";
  std::string out = "<ul class=\"warnings\">\n";
  for (const auto& w : r.warnings) out += "<li>" + esc(w) + "</li>\n";
  return out + "</ul>\n";
}

// The works the Method paragraph cites, APA 7; `key` is the in-text citation.
struct Reference {
  const char* key;
  const char* entry;
};
const Reference kBates2015{"Bates et al., 2015",
                           "Bates, D., M&auml;chler, M., Bolker, B., &amp; Walker, S. (2015). Fitting linear mixed-effects "
                           "models using lme4. <em>Journal of Statistical Software, 67</em>(1), 1&ndash;48. "
                           "https://doi.org/10.18637/jss.v067.i01"};
const Reference kCurranBauer2011{"Curran &amp; Bauer, 2011",
                                 "Curran, P. J., &amp; Bauer, D. J. (2011). The disaggregation of within-person and "
                                 "between-person effects in longitudinal models of change. <em>Annual Review of "
                                 "Psychology, 62</em>, 583&ndash;619. https://doi.org/10.1146/annurev.psych.093008.100356"};
const Reference kDerSimonianLaird1986{"DerSimonian &amp; Laird, 1986",
                                      "DerSimonian, R., &amp; Laird, N. (1986). Meta-analysis in clinical trials. "
                                      "<em>Controlled Clinical Trials, 7</em>(3), 177&ndash;188. "
                                      "https://doi.org/10.1016/0197-2456(86)90046-2"};
const Reference kEndersBandalos2001{"Enders &amp; Bandalos, 2001",
                                    "Enders, C. K., &amp; Bandalos, D. L. (2001). The relative performance of full "
                                    "information maximum likelihood estimation for missing data in structural equation "
                                    "models. <em>Structural Equation Modeling, 8</em>(3), 430&ndash;457. "
                                    "https://doi.org/10.1207/S15328007SEM0803_5"};
const Reference kHamaker2015{"Hamaker et al., 2015",
                             "Hamaker, E. L., Kuiper, R. M., &amp; Grasman, R. P. P. P. (2015). A critique of the "
                             "cross-lagged panel model. <em>Psychological Methods, 20</em>(1), 102&ndash;116. "
                             "https://doi.org/10.1037/a0038889"};
const Reference kHigginsThompson2002{"Higgins &amp; Thompson, 2002",
                                     "Higgins, J. P. T., &amp; Thompson, S. G. (2002). Quantifying heterogeneity in a "
                                     "meta-analysis. <em>Statistics in Medicine, 21</em>(11), 1539&ndash;1558. "
                                     "https://doi.org/10.1002/sim.1186"};
const Reference kKnappHartung2003{"Knapp &amp; Hartung, 2003",
                                  "Knapp, G., &amp; Hartung, J. (2003). Improved tests for a random effects "
                                  "meta-regression with a single covariate. <em>Statistics in Medicine, 22</em>(17), "
                                  "2693&ndash;2710. https://doi.org/10.1002/sim.1482"};
const Reference kNickell1981{"Nickell, 1981",
                             "Nickell, S. (1981). Biases in dynamic models with fixed effects. <em>Econometrica, "
                             "49</em>(6), 1417&ndash;1426. https://doi.org/10.2307/1911408"};
const Reference kRiley2010{"Riley et al., 2010",
                           "Riley, R. D., Lambert, P. C., &amp; Abo-Zaid, G. (2010). Meta-analysis of individual "
                           "participant data: Rationale, conduct, and reporting. <em>BMJ, 340</em>, c221. "
                           "https://doi.org/10.1136/bmj.c221"};
const Reference kViechtbauer2005{"Viechtbauer, 2005",
                                 "Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in "
                                 "the random-effects model. <em>Journal of Educational and Behavioral Statistics, "
                                 "30</em>(3), 261&ndash;293. https://doi.org/10.3102/10769986030003261"};
const Reference kViechtbauer2010{"Viechtbauer, 2010",
                                 "Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. "
                                 "<em>Journal of Statistical Software, 36</em>(3), 1&ndash;48. "
                                 "https://doi.org/10.18637/jss.v036.i03"};

// Collects what a paragraph cites, for the reference list.
class Citations {
 public:
  std::string cite(const Reference& r) {
    cited_.insert(r.entry);
    return r.key;
  }
  std::string reference_list() const {  // APA: alphabetical, which the entries' first authors give
    std::string out = "<div class=\"references\">\n";
    for (const auto& entry : cited_) out += "<p style=\"padding-left:2em;text-indent:-2em\">" + entry + "</p>\n";
    return out + "</div>\n";
  }

 private:
  std::set<std::string> cited_;
};

std::string window_text(const IpdSpec& spec) {
  if (!spec.first && !spec.last) return "all sessions";
  return "sessions " + (spec.first ? std::to_string(*spec.first) : std::string("&hellip;")) + " to " +
         (spec.last ? std::to_string(*spec.last) : std::string("&hellip;"));
}

std::string tau2_estimator(const IpdSpec& spec, Citations& c) {
  static const std::map<std::string, std::string> names{
      {"REML", "restricted maximum likelihood"}, {"ML", "maximum likelihood"}, {"DL", "DerSimonian&ndash;Laird"},
      {"HE", "Hedges"}, {"HS", "Hunter&ndash;Schmidt"}, {"SJ", "Sidik&ndash;Jonkman"}, {"EB", "empirical Bayes"},
      {"PM", "Paule&ndash;Mandel"}, {"FE", "fixed-effect (no τ²)"}};
  const auto name = names.find(spec.method);
  std::string out = name == names.end() ? esc(spec.method) : name->second;
  if (spec.method == "DL") return out + " (" + c.cite(kDerSimonianLaird1986) + ")";
  return out + " (" + c.cite(kViechtbauer2005) + ")";
}

// The Method paragraphs: data preparation, stage 1, stage 2, software, with citations.
std::string method_text(const IpdResult& r, const IpdSpec& spec, Citations& c) {
  const std::string P = process_name(spec), O = outcome_name(spec);
  std::string out = "<p><strong>Preparation.</strong> The process measure, " + P + " (P), and the outcome, " + O +
                    " (O), were z-standardized within each study over " + window_text(spec) +
                    ". Each patient's mean over their sessions (Pm, Om) was separated from the session-to-session "
                    "deviations around it (Pw = P &minus; Pm, Ow = O &minus; Om), so that within-patient and "
                    "between-patient effects are estimated apart (" + c.cite(kCurranBauer2011) +
                    "). A lagged value is the same patient's value at the previous session number" +
                    (spec.lags.size() > 1 ? " (and at two sessions before)" : "") +
                    "; it is missing after a missed session and at a patient's first session. Each model used the "
                    "patient-sessions with every one of its variables observed (the counts per study are in the "
                    "data table).</p>\n";
  out += "<p><strong>Stage 1.</strong> In each study, linear mixed models regressed " + O +
         " on the previous session's within-patient deviations of " + P + " and " + O +
         ", the patient means Pm and Om and the session number (and " + P +
         " on the same predictors), with random intercepts for patients" +
         (spec.therapist.empty() ? "" : " and for therapists") +
         (spec.random_slopes ? " and random slopes of the cross-lagged predictor over patients" : "") + "." +
         (spec.cross_level ? " Further models added the interactions of the cross-lagged predictor with Pm and Om "
                             "(cross-level interactions)."
                           : "") +
         (spec.lags.size() > 1 ? " Lag-2 models used the values of two sessions before." : "") +
         " The models were fitted by restricted maximum likelihood as lme4's <code>lmer()</code> fits them (" +
         c.cite(kBates2015) + ").";
  if (spec.post)
    out += " Post-treatment " + O + " was regressed on the mean " + P + " of sessions " +
           std::to_string(spec.post->early_first) + "&ndash;" + std::to_string(spec.post->early_last) +
           " and pre-treatment " + O + " by ordinary least squares, all three standardized over the patients with "
           "all three observed (standardized coefficients).";
  if (spec.panel)
    out += " Because person-mean-centred lagged models are biased when series are short (" + c.cite(kNickell1981) +
           "), each study was also fitted as a random-intercept cross-lagged panel model (RI-CLPM; " +
           c.cite(kHamaker2015) +
           ") with sessions as waves and the lagged effects held equal over waves, by full-information maximum "
           "likelihood, which uses every observed session of every patient (" +
           c.cite(kEndersBandalos2001) + ").";
  out += "</p>\n<p><strong>Stage 2.</strong> Each stage-1 coefficient was pooled over the studies in which its model "
         "was fitted, by a random-effects meta-analysis of the two-stage approach (" + c.cite(kRiley2010) +
         "), with the between-study variance τ² estimated by " + tau2_estimator(spec, c);
  if (spec.test == "knha")
    out += " and the Knapp&ndash;Hartung adjustment of its standard error, test and confidence interval (" +
           c.cite(kKnappHartung2003) + ")";
  out += ". Heterogeneity is reported as τ², Cochran's Q and I² (" + c.cite(kHigginsThompson2002) +
         "), with 95% prediction intervals for the effect in a new study.";
  if (!spec.moderators.empty()) {
    std::string moderators;
    for (const auto& m : spec.moderators) moderators += (moderators.empty() ? "" : ", ") + esc(reader_name(spec, m));
    out += " Meta-regressions related each coefficient to the study-level moderators (" + moderators + ").";
  }
  out += " Stage 2 follows metafor's <code>rma.uni()</code> (" + c.cite(kViechtbauer2010) + ").</p>\n";
  out += "<p><strong>Software.</strong> The analysis was run with " + esc(r.spiral_version) +
         ", whose numbers equal those of the R packages lme4, lmerTest, metafor and lavaan on the same data "
         "(its test suite compares them).</p>\n";
  return out;
}

// Why stage-1 fits are singular, where some are (the outcome's own patient mean in the
// model absorbs the patients' differences in level that the random intercept would hold).
std::string singular_fits_text(const IpdResult& r) {
  const auto [singular, fits] = count_singular_fits(r.studies);
  if (singular == 0) return "";
  return fmt::format(
      "<p><strong>Singular fits.</strong> {} of {} stage-1 fits are singular: a random-effect variance was "
      "estimated at zero (or a random-effect correlation at &plusmn;1). In these models the patient's own mean of "
      "the response (Om for the outcome model, Pm for the process model) is a predictor; it captures the patients' "
      "stable differences in level, so that little or nothing is left for the random intercept. A variance at "
      "zero is a valid estimate, not a failure: such a fit's fixed effects equal those of the model without that "
      "random effect, and they are pooled as the others.</p>\n",
      singular, fits);
}

std::vector<std::string> model_names(const IpdResult& r) {
  std::vector<std::string> names;
  for (const auto& p : r.pooled) {
    if (names.empty() || names.back() != p.model) names.push_back(p.model);
  }
  return names;
}

}  // namespace

std::vector<std::string> ipd_forest_svgs(const IpdResult& result) {
  std::vector<std::string> svgs(result.pooled.size());
  detail::parallel_for(svgs.size(), 0, [&](std::size_t i) {  // cairo: one surface per thread
    PlotLabels labels;
    labels.title = fmt::format("{}: {}", result.pooled[i].model, result.pooled[i].term);
    labels.x_label = "Stage-1 coefficient";
    svgs[i] = forest_svg(result.pooled[i].meta, labels);
  });
  return svgs;
}

std::string ipd_report_html(const IpdResult& r, const IpdSpec& spec, const std::vector<std::string>& forests) {
  if (forests.size() != r.pooled.size()) throw std::logic_error("ipd_report_html: one forest plot per pooled term");
  long patients = 0;
  for (const auto& b : r.studies) patients += b.counts.n_patients;
  std::string body = "<h1>Session-by-session process and outcome: two-stage IPD meta-analysis</h1>\n";
  body += "<p class=\"meta\">" + esc(r.spiral_version) + " &middot; spec <code>" +
          esc(spec.path.empty() ? std::string("(in memory)") : spec.path) + "</code> &middot; spec hash <code>" +
          esc(r.spec_hash) + "</code></p>\n";
  body += fmt::format("<p>{} studies, {} patients.</p>\n", r.studies.size(), patients);
  body += key_findings(r, spec);
  body += "<h2>Data</h2>\n" + studies_table(r);
  Citations citations;
  body += "<h2>Method</h2>\n" + method_text(r, spec, citations) + singular_fits_text(r);
  body += "<h2>Results per model</h2>\n<p>";
  for (const auto& m : model_names(r)) body += "<a href=\"#model-" + esc(m) + "\">" + esc(m) + "</a> &nbsp; ";
  body += "</p>\n";
  for (const auto& m : model_names(r)) body += model_section(r, spec, forests, m);
  if (spec.panel) body += "<h2>Mixed models and RI-CLPM side by side</h2>\n" + panel_comparison(r);
  body += "<h2>Warnings</h2>\n" + failures_table(r) + warnings_list(r);
  body += "<h2>Analysis spec</h2>\n<pre>" + esc(spec.text) + "</pre>\n";
  body += "<h2>References</h2>\n" + citations.reference_list();
  body += "<p class=\"meta\">Made by " + esc(r.spiral_version) + ". Stage-1 estimates per study are in stage1.csv, "
          "the pooled values with full precision in stage2.csv and results.json.</p>\n";
  return html::page("IPD meta-analysis report", body);
}

}  // namespace spiral
