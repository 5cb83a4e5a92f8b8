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
  const std::string P = esc(spec.process), O = esc(spec.outcome);
  item("process_to_outcome", "Pw_lag1",
       "When a patient's " + P + " was 1 SD above their own average, their " + O +
           " at the next session differed by <em>b</em> SD");
  item("outcome_to_process", "Ow_lag1",
       "When a patient's " + O + " was 1 SD above their own average, their " + P +
           " at the next session differed by <em>b</em> SD");
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

std::string pooled_table(const IpdResult& r, const std::string& model, const std::string& test) {
  html::Table t;
  t.caption = "Pooled stage-1 coefficients";
  t.header = {"Term", "k", "b", "SE", "95% CI", "95% PI", "τ²", "I² (%)", "Q (df)", "p"};
  t.first_numeric_column = 1;
  for (const auto& p : r.pooled) {
    if (p.model != model) continue;
    const MetaResult& m = p.meta;
    t.rows.push_back({"<code>" + esc(p.term) + "</code>", std::to_string(m.k), html::number(m.estimate),
                      html::number(m.std_error), html::interval(m.conf_low, m.conf_high),
                      html::interval(m.pi_low, m.pi_high), html::number(m.tau2, 4), html::number(m.I2, 1),
                      html::number(m.Q) + " (" + std::to_string(m.Q_df) + ")", html::p_value(m.p_value)});
  }
  t.note = std::string("Random-effects meta-analysis of the studies' estimates (") +
           (test == "knha" ? "Knapp&ndash;Hartung t-test and CI" : "Wald z-test and CI") +
           "). PI = 95% prediction interval for a new study; τ² = between-study variance; "
           "I² = share of variability due to between-study heterogeneity; Q = Cochran's heterogeneity test.";
  return html::table(t);
}

std::string regression_table(const IpdResult& r, const std::string& model) {
  html::Table t;
  t.caption = "Meta-regression on study-level moderators";
  t.header = {"Term", "Coefficient", "b", "95% CI", "p", "QM (df)", "QM p"};
  t.first_numeric_column = 2;
  for (const auto& p : r.pooled) {
    if (p.model != model || !p.regression) continue;
    for (const auto& c : p.regression->coefficients) {
      if (c.term == "intrcpt") continue;
      t.rows.push_back({"<code>" + esc(p.term) + "</code>", esc(c.term), html::number(c.estimate, 3),
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
  out += pooled_table(r, model, spec.test) + regression_table(r, model);
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

std::string method_text(const IpdSpec& spec) {
  std::string window = "all sessions";
  if (spec.first || spec.last)
    window = "sessions " + (spec.first ? std::to_string(*spec.first) : std::string("&hellip;")) + " to " +
             (spec.last ? std::to_string(*spec.last) : std::string("&hellip;"));
  return "<p>Process <code>" + esc(spec.process) + "</code> (P) and outcome <code>" + esc(spec.outcome) +
         "</code> (O) were z-standardized within each study over " + window +
         ". Each patient's mean (Pm, Om) separates stable between-patient differences from session-to-session "
         "within-patient fluctuations (Pw = P &minus; Pm, Ow = O &minus; Om). Lagged values come from the same "
         "patient's previous session number; after a missed session the lag is missing. In stage 1 each study's "
         "linear mixed models were fitted by REML (lme4's method); in stage 2 each coefficient was pooled across "
         "studies by a random-effects meta-analysis (" +
         esc(spec.method) + " estimate of τ²" + (spec.test == "knha" ? ", Knapp&ndash;Hartung adjustment" : "") +
         "), weighting each study by the precision of its estimate.</p>\n";
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
  body += "<h2>Method</h2>\n" + method_text(spec);
  body += "<h2>Results per model</h2>\n<p>";
  for (const auto& m : model_names(r)) body += "<a href=\"#model-" + esc(m) + "\">" + esc(m) + "</a> &nbsp; ";
  body += "</p>\n";
  for (const auto& m : model_names(r)) body += model_section(r, spec, forests, m);
  if (spec.panel) body += "<h2>Mixed models and RI-CLPM side by side</h2>\n" + panel_comparison(r);
  body += "<h2>Warnings</h2>\n" + failures_table(r) + warnings_list(r);
  body += "<h2>Analysis spec</h2>\n<pre>" + esc(spec.text) + "</pre>\n";
  body += "<p class=\"meta\">Made by " + esc(r.spiral_version) + ". Stage-1 estimates per study are in stage1.csv, "
          "the pooled values with full precision in stage2.csv and results.json.</p>\n";
  return html::page("IPD meta-analysis report", body);
}

}  // namespace spiral
