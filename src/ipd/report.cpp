// report.html and report.docx of `spiral ipd run|stage2`: one document built from the results
// (include/spiral/document.hpp) and rendered twice, so that the page and the manuscript file
// say the same. A clinician-researcher reads it from top to bottom: what was analysed, the key
// lagged effects in words, the Method with citations, APA tables per model, forest plots (SVG
// on the page, PNG figures with APA captions in the .docx), warnings, the exact spec, the references.
#include <array>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "common/parallel.hpp"
#include "ipd/ipd_internal.hpp"
#include "spiral/document.hpp"
#include "spiral/ipd.hpp"

namespace spiral {

using namespace ipd_detail;
using doc::code;
using doc::em;
using doc::strong;
using doc::Text;

namespace {

Text& operator<<(Text& text, doc::Span span) {
  text.push_back(std::move(span));
  return text;
}
Text& operator<<(Text& text, const Text& more) {
  text.insert(text.end(), more.begin(), more.end());
  return text;
}

// How the report names a variable or term for readers: its [labels] entry, else the code.
std::string reader_name(const IpdSpec& spec, const std::string& name) {
  const auto label = spec.labels.find(name);
  return label == spec.labels.end() ? name : label->second;
}
// The process and the outcome as readers know them: [labels] process / outcome, else the
// column's own label or name.
std::string variable_name(const IpdSpec& spec, const std::string& role, const std::string& column) {
  const auto label = spec.labels.find(role);
  return label != spec.labels.end() ? label->second : reader_name(spec, column);
}
std::string process_name(const IpdSpec& spec) { return variable_name(spec, "process", spec.process); }
std::string outcome_name(const IpdSpec& spec) { return variable_name(spec, "outcome", spec.outcome); }

std::string capitalized(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
}

// A stage-1 term as readers say it: its [labels] entry, else the words for the names the
// recipe gives (Pw_lag1, Om, the RI-CLPM's process_ar ...), else the column's label or name;
// an interaction's parts joined by "×".
std::string term_name(const IpdSpec& spec, const std::string& term) {
  if (spec.labels.count(term)) return spec.labels.at(term);
  if (const auto colon = term.find(':'); colon != std::string::npos)
    return term_name(spec, term.substr(0, colon)) + " × " + term_name(spec, term.substr(colon + 1));
  const std::string P = process_name(spec), O = outcome_name(spec);
  if (term.size() > 6 && (term.rfind("Pw_lag", 0) == 0 || term.rfind("Ow_lag", 0) == 0)) {
    const std::string lag = term.substr(6);
    return capitalized(term[0] == 'P' ? P : O) + ", within-patient, " + (lag == "1" ? "previous session" : lag + " sessions before");
  }
  static const std::map<std::string, std::string> fixed{{"(Intercept)", "Intercept"}, {"intrcpt", "Intercept"}};
  if (fixed.count(term)) return fixed.at(term);
  const std::map<std::string, std::string> words{
      {"Pm", capitalized(P) + ", patient mean"}, {"Om", capitalized(O) + ", patient mean"},
      {"early_process", "Early " + P}, {"pre", "Pre-treatment " + O},
      {"process_to_outcome", capitalized(P) + " → " + O + " (cross-lagged)"},
      {"outcome_to_process", capitalized(O) + " → " + P + " (cross-lagged)"},
      {"process_ar", capitalized(P) + " autoregression"}, {"outcome_ar", capitalized(O) + " autoregression"}};
  if (words.count(term)) return words.at(term);
  if (term == spec.session) return capitalized(reader_name(spec, term));
  return reader_name(spec, term);
}
Text term_cell(const IpdSpec& spec, const std::string& term) { return {term_name(spec, term)}; }

// A stage-1 model as readers say it: "Alliance → next-session symptoms", "RI-CLPM of ..."; a
// model of the spec's own under its [labels] entry or name (the recipe's model names are not
// looked up: the RI-CLPM's terms share them).
std::string model_title(const IpdSpec& spec, const std::string& model) {
  const std::string P = process_name(spec), O = outcome_name(spec);
  if (model == panel_model_name()) return "RI-CLPM of " + P + " and " + O;
  if (model == dsem_model_name()) return "DSEM of " + P + " and " + O + " (random lagged effects)";
  if (model == post_model_name()) return "Early " + P + " → post-treatment " + O;
  for (const auto& [code_name, to_outcome] : {std::pair{"process_to_outcome", true}, {"outcome_to_process", false}}) {
    if (model.rfind(code_name, 0) != 0) continue;
    const std::string from = capitalized(to_outcome ? P : O), to = to_outcome ? O : P;
    const std::string variant = model.substr(std::string(code_name).size());
    if (variant.empty()) return from + " → next-session " + to;
    if (variant == "_cross") return from + " → next-session " + to + ", with cross-level interactions";
    if (variant == "_lag2") return from + " → " + to + " two sessions later";
  }
  return reader_name(spec, model);
}

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

// "b = −0.07, 95% CI [−0.15, 0.01], p = .082, k = 5 studies"
Text effect_in_words(const PooledTerm& p) {
  const MetaResult& m = p.meta;
  Text t{em("b"), " = " + doc::number(m.estimate) + ", 95% CI " + doc::interval(m.conf_low, m.conf_high) + ", ",
         em("p")};
  t << (m.p_value < 0.001 ? " " : " = ") + doc::p_value(m.p_value) + ", " << em("k")
    << " = " + std::to_string(m.k) + " studies";
  return t;
}

void key_findings(doc::Document& d, const IpdResult& r, const IpdSpec& spec) {
  d.blocks.push_back(doc::Begin{doc::Begin::Kind::Box, ""});
  d.blocks.push_back(doc::Paragraph{{strong("Key lagged effects"),
                                     " (pooled over studies; variables z-standardized within each study, so "
                                     "coefficients are in standard deviations):"}});
  doc::List list;
  const auto item = [&](const std::string& model, const std::string& term, Text words) {
    if (const PooledTerm* p = find_pooled(r, model, term)) list.items.push_back(words << ": " << effect_in_words(*p) << ".");
  };
  const std::string P = process_name(spec), O = outcome_name(spec);
  item("process_to_outcome", "Pw_lag1",
       {"A session with " + P + " 1 SD above the patient's own average went with a change of ", em("b"),
        " SD in " + O + " at the next session"});
  item("outcome_to_process", "Ow_lag1",
       {"A session with " + O + " 1 SD above the patient's own average went with a change of ", em("b"),
        " SD in " + P + " at the next session"});
  if (spec.post)
    item(post_model_name(), "early_process",
         {"Early " + P + " (sessions " + std::to_string(spec.post->early_first) + "–" +
          std::to_string(spec.post->early_last) + ") and post-treatment " + O + ", adjusted for pre-treatment " + O});
  item(panel_model_name(), "process_to_outcome", {"RI-CLPM cross-lagged effect of " + P + " on " + O});
  item(panel_model_name(), "outcome_to_process", {"RI-CLPM cross-lagged effect of " + O + " on " + P});
  d.blocks.push_back(std::move(list));
  d.blocks.push_back(doc::End{});
}

Text count(long n) { return {std::to_string(n)}; }

doc::Table studies_table(const IpdResult& r) {
  doc::Table t;
  t.title = "Data per Study (Sessions in the Analysis Window)";
  t.header = {{"Study"}, {"Patients"}, {"Sessions"}, {"Missing process"}, {"Missing outcome"}, {"Rows used"},
              {"Models failed"}};
  long patients = 0, sessions = 0, mp = 0, mo = 0, used = 0;
  for (const auto& b : r.studies) {
    long failed = 0;
    for (const auto& m : b.models) failed += !m.converged;
    t.rows.push_back({{b.study}, count(b.counts.n_patients), count(b.counts.n_sessions),
                      count(b.counts.missing_process), count(b.counts.missing_outcome), count(b.counts.n_obs),
                      count(failed)});
    patients += b.counts.n_patients;
    sessions += b.counts.n_sessions;
    mp += b.counts.missing_process;
    mo += b.counts.missing_outcome;
    used += b.counts.n_obs;
  }
  t.rows.push_back({{"Total"}, count(patients), count(sessions), count(mp), count(mo), count(used), {""}});
  t.note = {"Rows used = patient-sessions with every variable of the process → outcome model (the first session "
            "of each patient and sessions after a missed one have no lagged value)."};
  return t;
}

doc::Table pooled_table(const IpdResult& r, const IpdSpec& spec, const std::string& model) {
  doc::Table t;
  t.title = "Pooled Stage-1 Coefficients: " + model_title(spec, model);
  t.header = {{"Term"}, {em("k")}, {em("b")}, {em("SE")}, {"95% CI"}, {em("p")}, {"95% PI"}, {"τ²"}, {em("I"), "² (%)"},
              {em("Q"), " (", em("df"), ")"}, {em("p"), " (", em("Q"), ")"}};
  for (const auto& p : r.pooled) {
    if (p.model != model) continue;
    const MetaResult& m = p.meta;
    t.rows.push_back({term_cell(spec, p.term), count(m.k), {doc::number(m.estimate, 3)}, {doc::number(m.std_error, 3)},
                      {doc::interval(m.conf_low, m.conf_high, 3)}, {doc::p_value(m.p_value)},
                      {doc::interval(m.pi_low, m.pi_high, 3)}, {doc::number(m.tau2, 4)}, {doc::number(m.I2, 1)},
                      {doc::number(m.Q) + " (" + std::to_string(m.Q_df) + ")"}, {doc::p_value(m.Q_p)}});
  }
  t.note = {"Random-effects meta-analysis of the studies' estimates; ", em("b"), ", its CI and ", em("p"),
            std::string(" from the ") + (spec.test == "knha" ? "Knapp–Hartung t-test" : "Wald z-test") +
                ". PI = 95% prediction interval for a new study; τ² = between-study variance; ",
            em("I"), "² = share of variability due to between-study heterogeneity; ", em("Q"),
            " = Cochran's heterogeneity test, ", em("p"), " (", em("Q"), ") its ", em("p"), " value."};
  return t;
}

const TermEstimate* find_term(const ModelFit& m, const std::string& term) {
  for (const auto& e : m.terms)
    if (e.term == term) return &e;
  return nullptr;
}

// Each study's stage-1 estimates of one model: b (SE) per term, a study per row.
doc::Table stage1_table(const IpdResult& r, const IpdSpec& spec, const std::string& model) {
  std::vector<std::string> terms;
  for (const auto& p : r.pooled)
    if (p.model == model) terms.push_back(p.term);
  doc::Table t;
  t.title = "Stage-1 Estimates per Study, b (SE): " + model_title(spec, model);
  t.header = {{"Study"}};
  for (const auto& term : terms) t.header.push_back({term_name(spec, term)});
  bool missing = false, singular = false;
  for (const auto& b : r.studies) {
    std::vector<Text> row{{b.study}};
    for (const auto& m : b.models) {
      if (m.model != model) continue;
      for (const auto& term : terms) {
        const TermEstimate* e = find_term(m, term);
        if (!m.converged || !e) {
          row.push_back({"–"});
          missing = true;
          continue;
        }
        row.push_back({doc::number(e->estimate, 3) + " (" + doc::number(e->std_error, 3) + ")"});
        if (m.singular) row.back() << doc::sup("s");
        singular = singular || m.singular;
      }
    }
    if (row.size() == terms.size() + 1) t.rows.push_back(std::move(row));
  }
  // The note explains only the marks this table holds.
  if (missing) t.note << "– = the model was not fitted in this study (see Warnings). ";
  if (singular)
    t.note << doc::sup("s") << " = a singular fit (a random-effect variance estimated at zero; see Method).";
  return t;
}

doc::Table regression_table(const IpdResult& r, const IpdSpec& spec, const std::string& model) {
  doc::Table t;
  t.title = "Meta-Regression on Study-Level Moderators: " + model_title(spec, model);
  t.header = {{"Term"}, {"Coefficient"}, {em("b")}, {em("SE")}, {"95% CI"}, {em("p")}, {em("Q"), "M (", em("df"), ")"},
              {em("p"), " (", em("Q"), "M)"}};
  t.first_numeric_column = 2;
  for (const auto& p : r.pooled) {
    // A meta-regression whose every moderator was dropped (redundant) is the pooled model again.
    if (p.model != model || !p.regression || !p.regression->has_mods) continue;
    for (const auto& c : p.regression->coefficients) {
      t.rows.push_back({term_cell(spec, p.term), term_cell(spec, c.term), {doc::number(c.estimate, 3)},
                        {doc::number(c.std_error, 3)}, {doc::interval(c.conf_low, c.conf_high, 3)},
                        {doc::p_value(c.p_value)},
                        {doc::number(p.regression->QM) + " (" + std::to_string(p.regression->QM_df) + ")"},
                        {doc::p_value(p.regression->QM_p)}});
    }
  }
  t.note = {"Mixed-effects meta-regression (", em("b"), " per coefficient); ", em("Q"),
            "M = the omnibus test of the moderators, the same on every row of a term."};
  return t;
}

// The RI-CLPM's fit per study: the test against the saturated model and lavaan's indices.
doc::Table panel_fit_table(const IpdResult& r) {
  doc::Table t;
  t.title = "Fit of the RI-CLPM per Study";
  t.header = {{"Study"}, {em("N")}, {"χ²"}, {em("df")}, {em("p")}, {"CFI"}, {"TLI"}, {"RMSEA"}, {"SRMR"}};
  for (const auto& b : r.studies) {
    for (const auto& m : b.models) {
      if (m.model != panel_model_name() || !m.fit_measures) continue;
      const PanelFitMeasures& f = *m.fit_measures;
      t.rows.push_back({{b.study}, count(m.n_patients), {doc::number(f.chisq, 2)}, count(f.chisq_df),
                        {doc::p_value(f.chisq_p)}, {doc::number_no_leading_zero(f.CFI, 3)},
                        {doc::number(f.TLI, 3)}, {doc::number_no_leading_zero(f.RMSEA, 3)},
                        {doc::number_no_leading_zero(f.SRMR, 3)}});
    }
  }
  t.note = {em("N"), " = patients with an observed session; χ² = likelihood-ratio test of the model against the "
            "saturated model; CFI = comparative fit index; TLI = Tucker–Lewis index; RMSEA = root mean square error "
            "of approximation; SRMR = standardized root mean square residual (means included), each as lavaan's ",
            code("fitMeasures()"), " gives it. – = the study's RI-CLPM was not fitted or the index does not exist."};
  return t;
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

void add_table(doc::Document& d, doc::Table t) {
  if (!t.rows.empty()) d.blocks.push_back(std::move(t));
}

// The forest plot of each pooled term, in the order of result.pooled: SVG for the page, or PNG
// (without the title, which the caption holds) for the .docx.
struct Forests {
  const std::vector<std::string>& images;
  bool png = false;
};

std::string forest_title(const IpdSpec& spec, const PooledTerm& p) {
  return model_title(spec, p.model) + ": " + term_name(spec, p.term);
}

doc::Figure forest_figure(const IpdSpec& spec, const Forests& forests, std::size_t i, const PooledTerm& p) {
  if (!forests.png) return doc::Figure{with_unique_ids(forests.images[i], fmt::format("f{}-", i)), "", "", {}};
  return doc::Figure{"", forests.images[i], "Forest Plot of " + forest_title(spec, p),
                     {"Each study's stage-1 coefficient (square, its area by the study's weight in the pooled "
                      "estimate) with its 95% CI; the diamond is the random-effects pooled estimate with its 95% CI, "
                      "the dashed line through it the 95% prediction interval where that is wider; the dashed "
                      "vertical line marks zero."}};
}

// `appendix_table`: the number of the model's per-study table in the appendix ("" = none).
void model_section(doc::Document& d, const IpdResult& r, const IpdSpec& spec, const Forests& forests,
                   const std::string& model, const std::string& appendix_table) {
  d.blocks.push_back(doc::Heading{3, model_title(spec, model), "model-" + model});
  d.blocks.push_back(doc::Paragraph{{code(model_formula(spec, model))}});
  add_table(d, pooled_table(r, spec, model));
  add_table(d, regression_table(r, spec, model));
  if (model == panel_model_name()) add_table(d, panel_fit_table(r));
  if (!appendix_table.empty())
    d.blocks.push_back(doc::Paragraph{{"Each study's stage-1 estimates are in Table " + appendix_table + " (Appendix)."}});
  std::vector<doc::Block> other;
  for (std::size_t i = 0; i < r.pooled.size(); ++i) {
    const PooledTerm& p = r.pooled[i];
    if (p.model != model) continue;
    (is_key_term(model, p.term) ? d.blocks : other).push_back(forest_figure(spec, forests, i, p));
  }
  if (other.empty()) return;
  d.blocks.push_back(doc::Begin{doc::Begin::Kind::Disclosure, "Forest plots of the other terms"});
  d.blocks.insert(d.blocks.end(), other.begin(), other.end());
  d.blocks.push_back(doc::End{});
}

doc::Table panel_comparison(const IpdResult& r) {
  doc::Table t;
  t.title = "The Same Effects in the Mixed Models and in the RI-CLPM";
  t.header = {{"Effect"}, {"Mixed model ", em("b"), " [95% CI]"}, {"RI-CLPM ", em("b"), " [95% CI]"}};
  const std::vector<std::array<std::string, 4>> pairs = {
      {"process → outcome", "process_to_outcome", "Pw_lag1", "process_to_outcome"},
      {"outcome → process", "outcome_to_process", "Ow_lag1", "outcome_to_process"},
      {"process autoregression", "outcome_to_process", "Pw_lag1", "process_ar"},
      {"outcome autoregression", "process_to_outcome", "Ow_lag1", "outcome_ar"}};
  const auto cell = [](const PooledTerm* p) -> Text {
    if (!p) return {"–"};
    return {doc::number(p->meta.estimate) + " " + doc::interval(p->meta.conf_low, p->meta.conf_high)};
  };
  for (const auto& [label, model, term, panel_term] : pairs)
    t.rows.push_back({{label}, cell(find_pooled(r, model, term)), cell(find_pooled(r, panel_model_name(), panel_term))});
  t.note = {"Person-mean-centred lagged mixed models underestimate autoregressive effects in short series "
            "(Nickell bias); the random-intercept cross-lagged panel model (Hamaker et al., 2015) does not."};
  return t;
}

doc::Table failures_table(const IpdResult& r, const IpdSpec& spec) {
  doc::Table t;
  t.title = "Stage-1 Fits Left Out of Stage 2";
  t.header = {{"Study"}, {"Model"}, {"Reason"}};
  t.first_numeric_column = 3;
  for (const auto& b : r.studies) {
    for (const auto& m : b.models) {
      if (!m.converged) t.rows.push_back({{b.study}, {model_title(spec, m.model)}, {m.message}});
    }
  }
  return t;
}

void warnings_list(doc::Document& d, const IpdResult& r) {
  if (r.warnings.empty()) {
    d.blocks.push_back(doc::Paragraph{{"None."}});
    return;
  }
  doc::List list;
  for (const auto& w : r.warnings) list.items.push_back({w});
  d.blocks.push_back(std::move(list));
}

// The works the Method paragraph cites, APA 7: `key` is the in-text citation; the entry is
// `lead`, then the source in italics, then `tail`.
struct Reference {
  const char* key;
  const char* lead;
  const char* source;
  const char* tail;
};
const Reference kBates2015{"Bates et al., 2015",
                           "Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects "
                           "models using lme4. ",
                           "Journal of Statistical Software, 67", "(1), 1–48. https://doi.org/10.18637/jss.v067.i01"};
const Reference kCurranBauer2011{"Curran & Bauer, 2011",
                                 "Curran, P. J., & Bauer, D. J. (2011). The disaggregation of within-person and "
                                 "between-person effects in longitudinal models of change. ",
                                 "Annual Review of Psychology, 62",
                                 ", 583–619. https://doi.org/10.1146/annurev.psych.093008.100356"};
const Reference kDerSimonianLaird1986{"DerSimonian & Laird, 1986",
                                      "DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. ",
                                      "Controlled Clinical Trials, 7",
                                      "(3), 177–188. https://doi.org/10.1016/0197-2456(86)90046-2"};
const Reference kEndersBandalos2001{"Enders & Bandalos, 2001",
                                    "Enders, C. K., & Bandalos, D. L. (2001). The relative performance of full "
                                    "information maximum likelihood estimation for missing data in structural "
                                    "equation models. ",
                                    "Structural Equation Modeling, 8",
                                    "(3), 430–457. https://doi.org/10.1207/S15328007SEM0803_5"};
const Reference kHamaker2015{"Hamaker et al., 2015",
                             "Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the "
                             "cross-lagged panel model. ",
                             "Psychological Methods, 20", "(1), 102–116. https://doi.org/10.1037/a0038889"};
const Reference kHigginsThompson2002{"Higgins & Thompson, 2002",
                                     "Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying heterogeneity in a "
                                     "meta-analysis. ",
                                     "Statistics in Medicine, 21", "(11), 1539–1558. https://doi.org/10.1002/sim.1186"};
const Reference kKnappHartung2003{"Knapp & Hartung, 2003",
                                  "Knapp, G., & Hartung, J. (2003). Improved tests for a random effects "
                                  "meta-regression with a single covariate. ",
                                  "Statistics in Medicine, 22", "(17), 2693–2710. https://doi.org/10.1002/sim.1482"};
const Reference kKuznetsova2017{"Kuznetsova et al., 2017",
                                "Kuznetsova, A., Brockhoff, P. B., & Christensen, R. H. B. (2017). lmerTest package: "
                                "Tests in linear mixed effects models. ",
                                "Journal of Statistical Software, 82",
                                "(13), 1–26. https://doi.org/10.18637/jss.v082.i13"};
const Reference kNickell1981{"Nickell, 1981", "Nickell, S. (1981). Biases in dynamic models with fixed effects. ",
                             "Econometrica, 49", "(6), 1417–1426. https://doi.org/10.2307/1911408"};
const Reference kRiley2010{"Riley et al., 2010",
                           "Riley, R. D., Lambert, P. C., & Abo-Zaid, G. (2010). Meta-analysis of individual "
                           "participant data: Rationale, conduct, and reporting. ",
                           "BMJ, 340", ", c221. https://doi.org/10.1136/bmj.c221"};
const Reference kRosseel2012{"Rosseel, 2012",
                             "Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. ",
                             "Journal of Statistical Software, 48", "(2), 1–36. https://doi.org/10.18637/jss.v048.i02"};
const Reference kViechtbauer2005{"Viechtbauer, 2005",
                                 "Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators "
                                 "in the random-effects model. ",
                                 "Journal of Educational and Behavioral Statistics, 30",
                                 "(3), 261–293. https://doi.org/10.3102/10769986030003261"};
const Reference kViechtbauer2010{"Viechtbauer, 2010",
                                 "Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. ",
                                 "Journal of Statistical Software, 36",
                                 "(3), 1–48. https://doi.org/10.18637/jss.v036.i03"};

// Collects what the Method cites, for the reference list.
class Citations {
 public:
  std::string cite(const Reference& r) {
    cited_[r.lead] = &r;
    return r.key;
  }
  // APA: alphabetical by first author, which the entries' leads give.
  void reference_list(doc::Document& d) const {
    for (const auto& [lead, r] : cited_)
      d.blocks.push_back(doc::Paragraph{{r->lead, em(r->source), r->tail}, doc::Paragraph::Kind::Reference});
  }

 private:
  std::map<std::string, const Reference*> cited_;
};

std::string window_text(const IpdSpec& spec) {
  if (!spec.first && !spec.last) return "all sessions";
  return "sessions " + (spec.first ? std::to_string(*spec.first) : std::string("…")) + " to " +
         (spec.last ? std::to_string(*spec.last) : std::string("…"));
}

std::string tau2_estimator(const IpdSpec& spec, Citations& c) {
  static const std::map<std::string, std::string> names{
      {"REML", "restricted maximum likelihood"}, {"ML", "maximum likelihood"}, {"DL", "DerSimonian–Laird"},
      {"HE", "Hedges"}, {"HS", "Hunter–Schmidt"}, {"SJ", "Sidik–Jonkman"}, {"EB", "empirical Bayes"},
      {"PM", "Paule–Mandel"}, {"FE", "fixed-effect (no τ²)"}};
  const auto name = names.find(spec.method);
  std::string out = name == names.end() ? spec.method : name->second;
  if (spec.method == "DL") return out + " (" + c.cite(kDerSimonianLaird1986) + ")";
  return out + " (" + c.cite(kViechtbauer2005) + ")";
}

Text preparation_paragraph(const IpdSpec& spec, Citations& c) {
  const std::string P = process_name(spec), O = outcome_name(spec);
  return {strong("Preparation."),
          " The process measure, " + P + " (P), and the outcome, " + O +
              " (O), were z-standardized within each study over " + window_text(spec) +
              ". Each patient's mean over their sessions (Pm, Om) was separated from the session-to-session "
              "deviations around it (Pw = P − Pm, Ow = O − Om), so that within-patient and between-patient effects "
              "are estimated apart (" + c.cite(kCurranBauer2011) +
              "). A lagged value is the same patient's value at the previous session number" +
              (spec.lags.size() > 1 ? " (and at two sessions before)" : "") +
              "; it is missing after a missed session and at a patient's first session. Each model used the "
              "patient-sessions with every one of its variables observed (the counts per study are in the data "
              "table)."};
}

Text stage1_paragraph(const IpdSpec& spec, Citations& c) {
  const std::string P = process_name(spec), O = outcome_name(spec);
  Text t{strong("Stage 1."),
         " In each study, linear mixed models regressed " + O + " on the previous session's within-patient "
         "deviations of " + P + " and " + O + ", the patient means Pm and Om and the session number (and " + P +
             " on the same predictors), with random intercepts for patients" +
             (spec.therapist.empty() ? "" : " and for therapists") +
             (spec.random_slopes ? " and random slopes of the cross-lagged predictor over patients" : "") + "." +
             (spec.cross_level ? " Further models added the interactions of the cross-lagged predictor with Pm and "
                                 "Om (cross-level interactions)."
                               : "") +
             (spec.lags.size() > 1 ? " Lag-2 models used the values of two sessions before." : "") +
             " The models were fitted by restricted maximum likelihood as lme4's ",
         code("lmer()"), " fits them (" + c.cite(kBates2015) + ")."};
  if (spec.post)
    t << " Post-treatment " + O + " was regressed on the mean " + P + " of sessions " +
             std::to_string(spec.post->early_first) + "–" + std::to_string(spec.post->early_last) +
             " and pre-treatment " + O +
             " by ordinary least squares, all three standardized over the patients with all three observed "
             "(standardized coefficients).";
  if (spec.panel)
    t << " Because person-mean-centred lagged models are biased when series are short (" + c.cite(kNickell1981) +
             "), each study was also fitted as a random-intercept cross-lagged panel model (RI-CLPM; " +
             c.cite(kHamaker2015) +
             ") with sessions as waves and the lagged effects held equal over waves, by full-information maximum "
             "likelihood, which uses every observed session of every patient (" + c.cite(kEndersBandalos2001) +
             "); its fit per study is reported as lavaan reports it.";
  return t;
}

Text stage2_paragraph(const IpdSpec& spec, Citations& c) {
  Text t{strong("Stage 2."),
         " Each stage-1 coefficient was pooled over the studies in which its model was fitted, by a random-effects "
         "meta-analysis of the two-stage approach (" + c.cite(kRiley2010) +
             "), with the between-study variance τ² estimated by " + tau2_estimator(spec, c)};
  if (spec.test == "knha")
    t << " and the Knapp–Hartung adjustment of its standard error, test and confidence interval (" +
             c.cite(kKnappHartung2003) + ")";
  t << ". Heterogeneity is reported as τ², Cochran's " << em("Q") << " and " << em("I") << "² (" +
           c.cite(kHigginsThompson2002) + "), with 95% prediction intervals for the effect in a new study.";
  if (!spec.moderators.empty()) {
    std::string moderators;
    for (const auto& m : spec.moderators) moderators += (moderators.empty() ? "" : ", ") + reader_name(spec, m);
    t << " Meta-regressions related each coefficient to the study-level moderators (" + moderators + ").";
  }
  return t << " Stage 2 follows metafor's " << code("rma.uni()") << " (" + c.cite(kViechtbauer2010) + ").";
}

// The Method paragraphs: data preparation, stage 1, stage 2, software, with citations.
void method_text(doc::Document& d, const IpdResult& r, const IpdSpec& spec, Citations& c) {
  d.blocks.push_back(doc::Paragraph{preparation_paragraph(spec, c)});
  d.blocks.push_back(doc::Paragraph{stage1_paragraph(spec, c)});
  d.blocks.push_back(doc::Paragraph{stage2_paragraph(spec, c)});
  std::string packages = "lme4 (";
  packages += c.cite(kBates2015) + "), lmerTest (" + c.cite(kKuznetsova2017) + ")" + (spec.panel ? ", " : ", and ");
  packages += "metafor (" + c.cite(kViechtbauer2010) + ")";
  if (spec.panel) packages += ", and lavaan (" + c.cite(kRosseel2012) + ")";
  d.blocks.push_back(doc::Paragraph{{strong("Software."), " The analysis was run with " + r.spiral_version +
                                                             ", whose numbers equal those of the R packages " +
                                                             packages + " on the same data (its test suite compares them)."}});
}

// Why stage-1 fits are singular, where some are (the outcome's own patient mean in the
// model absorbs the patients' differences in level that the random intercept would hold).
void singular_fits_text(doc::Document& d, const IpdResult& r) {
  const auto [singular, fits] = count_singular_fits(r.studies);
  if (singular == 0) return;
  d.blocks.push_back(doc::Paragraph{
      {strong("Singular fits."),
       fmt::format(" {} of {} stage-1 fits are singular: a random-effect variance was estimated at zero (or a "
                   "random-effect correlation at ±1). In these models the patient's own mean of the response (Om for "
                   "the outcome model, Pm for the process model) is a predictor; it captures the patients' stable "
                   "differences in level, so that little or nothing is left for the random intercept. A variance at "
                   "zero is a valid estimate, not a failure: such a fit's fixed effects equal those of the model "
                   "without that random effect, and they are pooled as the others.",
                   singular, fits)}});
}

std::vector<std::string> model_names(const IpdResult& r) {
  std::vector<std::string> names;
  for (const auto& p : r.pooled) {
    if (names.empty() || names.back() != p.model) names.push_back(p.model);
  }
  return names;
}

doc::Document ipd_report(const IpdResult& r, const IpdSpec& spec, const Forests& forests) {
  doc::Document d;
  d.title = "IPD meta-analysis report";
  d.author = r.spiral_version;
  long patients = 0;
  for (const auto& b : r.studies) patients += b.counts.n_patients;
  d.blocks.push_back(doc::Heading{1, "Session-by-Session Process and Outcome: Two-Stage IPD Meta-Analysis", ""});
  d.blocks.push_back(doc::Paragraph{{r.spiral_version + " · spec ", code(spec.path.empty() ? "(in memory)" : spec.path),
                                     " · spec hash ", code(r.spec_hash)},
                                    doc::Paragraph::Kind::Small});
  d.blocks.push_back(doc::Paragraph{{fmt::format("{} studies, {} patients.", r.studies.size(), patients)}});
  key_findings(d, r, spec);
  d.blocks.push_back(doc::Heading{2, "Data", "data"});
  d.blocks.push_back(studies_table(r));
  Citations citations;
  d.blocks.push_back(doc::Heading{2, "Method", "method"});
  method_text(d, r, spec, citations);
  singular_fits_text(d, r);
  d.blocks.push_back(doc::Heading{2, "Results per Model", "results"});
  doc::Links links;
  for (const auto& m : model_names(r)) links.targets.emplace_back("model-" + m, model_title(spec, m));
  d.blocks.push_back(std::move(links));
  // The per-study tables go to the appendix (A1, A2 ...), so that the tables of the text
  // are numbered in the order it shows them, on the page and in the .docx alike.
  std::vector<doc::Table> appendix;
  for (const auto& m : model_names(r)) {
    doc::Table per_study = stage1_table(r, spec, m);
    std::string number;
    if (!per_study.rows.empty()) {
      number = "A";
      per_study.number = number += std::to_string(appendix.size() + 1);
      appendix.push_back(std::move(per_study));
    }
    model_section(d, r, spec, forests, m, number);
  }
  if (spec.panel) {
    d.blocks.push_back(doc::Heading{2, "Mixed Models and RI-CLPM Side by Side", "side-by-side"});
    d.blocks.push_back(panel_comparison(r));
  }
  d.blocks.push_back(doc::Heading{2, "Warnings", "warnings"});
  add_table(d, failures_table(r, spec));
  warnings_list(d, r);
  d.blocks.push_back(doc::Heading{2, "Analysis Spec", "spec"});
  d.blocks.push_back(doc::Preformatted{spec.text});
  d.blocks.push_back(doc::Heading{2, "References", "references"});
  citations.reference_list(d);
  if (!appendix.empty()) {
    d.blocks.push_back(doc::Heading{2, "Appendix: Stage-1 Estimates per Study", "appendix"});
    for (auto& t : appendix) d.blocks.push_back(std::move(t));
  }
  d.blocks.push_back(doc::Paragraph{{"Made by " + r.spiral_version +
                                     ". Stage-1 estimates per study are in stage1.csv, the pooled values with full "
                                     "precision in stage2.csv and results.json."},
                                    doc::Paragraph::Kind::Small});
  return d;
}

}  // namespace

namespace {

// Each pooled term's forest plot, titled (or not) and labelled by the coefficient, in `format`.
std::vector<std::string> forest_plots(const IpdResult& result, const IpdSpec& spec, bool png) {
  std::vector<std::string> plots(result.pooled.size());
  detail::parallel_for(plots.size(), 0, [&](std::size_t i) {  // cairo: one surface per thread
    PlotLabels labels;
    if (!png) labels.title = forest_title(spec, result.pooled[i]);
    labels.x_label = "Stage-1 coefficient of " + term_name(spec, result.pooled[i].term);
    plots[i] = png ? forest_png(result.pooled[i].meta, labels) : forest_svg(result.pooled[i].meta, labels);
  });
  return plots;
}

}  // namespace

std::vector<std::string> ipd_forest_svgs(const IpdResult& result, const IpdSpec& spec) {
  return forest_plots(result, spec, false);
}

std::string ipd_report_html(const IpdResult& r, const IpdSpec& spec, const std::vector<std::string>& forests) {
  if (forests.size() != r.pooled.size()) throw std::logic_error("ipd_report_html: one forest plot per pooled term");
  return doc::to_html(ipd_report(r, spec, Forests{forests, false}));
}

std::string ipd_report_docx(const IpdResult& r, const IpdSpec& spec) {
  const std::vector<std::string> pngs = forest_plots(r, spec, true);
  return doc::to_docx(ipd_report(r, spec, Forests{pngs, true}));
}

}  // namespace spiral
