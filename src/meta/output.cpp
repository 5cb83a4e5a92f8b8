// The faces of a meta-analysis result: specification section 4's JSON, a text summary in the
// layout of metafor's print.rma.uni, and the coefficient table as CSV.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <fmt/format.h>

#include "meta/meta_internal.hpp"

namespace spiral {

namespace {

Json coefficient_json(const MetaCoefficient& c) {
  return Json{{"term", c.term},
              {"estimate", json_number(c.estimate)},
              {"std_error", json_number(c.std_error)},
              {"statistic", json_number(c.statistic)},
              {"p_value", json_number(c.p_value)},
              {"conf_low", json_number(c.conf_low)},
              {"conf_high", json_number(c.conf_high)}};
}

Json leave1out_json(const std::vector<LeaveOneOutRow>& rows) {
  Json out = Json::array();
  for (const auto& r : rows)
    out.push_back({{"slab", r.slab},
                   {"estimate", json_number(r.estimate)},
                   {"std_error", json_number(r.std_error)},
                   {"statistic", json_number(r.statistic)},
                   {"p_value", json_number(r.p_value)},
                   {"conf_low", json_number(r.conf_low)},
                   {"conf_high", json_number(r.conf_high)},
                   {"tau2", json_number(r.tau2)},
                   {"I2", json_number(r.I2)},
                   {"H2", json_number(r.H2)},
                   {"Q", json_number(r.Q)},
                   {"Q_p", json_number(r.Q_p)}});
  return out;
}

Json influence_json(const std::vector<InfluenceRow>& rows) {
  Json out = Json::array();
  for (const auto& r : rows)
    out.push_back({{"slab", r.slab},
                   {"rstudent", json_number(r.rstudent)},
                   {"dffits", json_number(r.dffits)},
                   {"cook_d", json_number(r.cook_d)},
                   {"cov_r", json_number(r.cov_r)},
                   {"tau2_del", json_number(r.tau2_del)},
                   {"QE_del", json_number(r.QE_del)},
                   {"hat", json_number(r.hat)},
                   {"weight", json_number(r.weight)},
                   {"influential", r.influential}});
  return out;
}

// --transf: the back-transformed pooled values (null without --transf or for a meta-regression).
Json transformed_json(const MetaResult& r) {
  if (r.transf.empty() || r.has_mods) return nullptr;
  return Json{{"transf", r.transf},
              {"estimate", json_number(r.transf_estimate)},
              {"conf_low", json_number(r.transf_conf_low)},
              {"conf_high", json_number(r.transf_conf_high)},
              {"pi_low", json_number(r.transf_pi_low)},
              {"pi_high", json_number(r.transf_pi_high)}};
}

// metafor's p-value display: "<.0001" below 1e-4.
std::string format_p(double p) {
  if (std::isnan(p)) return "NA";
  if (p < 1e-4) return "<.0001";
  return fmt::format("{:.4f}", p);
}

std::string stars(double p) {
  if (std::isnan(p)) return "";
  return p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : p < 0.1 ? "." : "";
}

std::string number(double x, int digits = 4) { return std::isnan(x) ? "NA" : fmt::format("{:.{}f}", x, digits); }

// Width of a label column: the longest label plus two spaces, at least `minimum`.
template <class Rows, class Label>
std::size_t label_width(const Rows& rows, Label label, std::size_t minimum) {
  std::size_t width = minimum;
  for (const auto& row : rows) width = std::max(width, label(row).size() + 2);
  return width;
}

std::string model_title(const MetaResult& r) {
  const std::string kind = r.method == "FE" ? "Fixed-Effects Model" : r.has_mods ? "Mixed-Effects Model" : "Random-Effects Model";
  std::string title = fmt::format("{} (k = {}", kind, r.k);
  if (r.method != "FE") title += "; tau^2 estimator: " + r.method;
  return title + ")";
}

void write_heterogeneity(std::ostringstream& out, const MetaResult& r) {
  if (r.method != "FE") {
    const std::string what = r.has_mods ? "residual" : "total";
    out << fmt::format("tau^2 (estimated amount of {} heterogeneity): {} (SE = {})\n", what, number(r.tau2), number(r.tau2_se));
    if (!std::isnan(r.tau2_conf_low))
      out << fmt::format("tau^2 {}% CI (Q-profile):                   [{}, {}]\n", r.level, number(r.tau2_conf_low),
                         number(r.tau2_conf_high));
    out << fmt::format("tau (square root of estimated tau^2 value):  {}\n", number(r.tau));
  }
  out << fmt::format("I^2 ({} heterogeneity / unaccounted variability): {}%\n", r.has_mods ? "residual" : "total",
                     number(r.I2, 2));
  out << fmt::format("H^2 (unaccounted variability / sampling variability): {}\n", number(r.H2, 2));
  if (r.has_mods && !std::isnan(r.R2)) out << fmt::format("R^2 (amount of heterogeneity accounted for): {}%\n", number(r.R2, 2));
  out << "\n"
      << (r.has_mods ? "Test for Residual Heterogeneity:\n" : "Test for Heterogeneity:\n")
      << fmt::format("Q{}(df = {}) = {}, p-val {}\n\n", r.has_mods ? "E" : "", r.Q_df, number(r.Q),
                     r.Q_p < 1e-4 ? "< .0001" : "= " + format_p(r.Q_p));
}

void write_coefficients(std::ostringstream& out, const MetaResult& r) {
  const bool knha = r.test == "knha";
  if (r.has_mods) {
    if (knha)
      out << fmt::format("Test of Moderators (coefficients 2:{}):\nF(df1 = {}, df2 = {}) = {}, p-val {}\n\n", r.p, r.QM_df,
                         r.QM_df2, number(r.QM), r.QM_p < 1e-4 ? "< .0001" : "= " + format_p(r.QM_p));
    else
      out << fmt::format("Test of Moderators (coefficients 2:{}):\nQM(df = {}) = {}, p-val {}\n\n", r.p, r.QM_df,
                         number(r.QM), r.QM_p < 1e-4 ? "< .0001" : "= " + format_p(r.QM_p));
  }
  const std::size_t w = label_width(r.coefficients, [](const MetaCoefficient& c) { return c.term; }, 12);
  out << "Model Results:\n\n";
  out << fmt::format("{:<{}}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}\n", "", w, "estimate", "se", knha ? "tval" : "zval",
                     "pval", "ci.lb", "ci.ub");
  for (const auto& c : r.coefficients)
    out << fmt::format("{:<{}}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10} {}\n", c.term, w, number(c.estimate), number(c.std_error),
                       number(c.statistic), format_p(c.p_value), number(c.conf_low), number(c.conf_high), stars(c.p_value));
  out << "\n---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n";
  if (knha) out << fmt::format("Knapp-Hartung adjustment: t and F tests with {} df\n", r.df);
  if (!r.has_mods && !std::isnan(r.pi_low))
    out << fmt::format("\n{}% prediction interval: [{}, {}]\n", r.level, number(r.pi_low), number(r.pi_high));
  if (!r.transf.empty() && !r.has_mods) {  // as predict(fit, transf = ...)
    out << fmt::format("\nBack-transformed ({}):\n{:>10}{:>10}{:>10}{:>10}{:>10}\n{:>10}{:>10}{:>10}{:>10}{:>10}\n", r.transf,
                       "pred", "ci.lb", "ci.ub", "pi.lb", "pi.ub", number(r.transf_estimate), number(r.transf_conf_low),
                       number(r.transf_conf_high), number(r.transf_pi_low), number(r.transf_pi_high));
  }
}

// fitstats(): the log-likelihood and information criteria of the fit.
void write_fit_statistics(std::ostringstream& out, const MetaResult& r) {
  out << fmt::format("{:>10}{:>10}{:>10}{:>10}{:>10}\n{:>10}{:>10}{:>10}{:>10}{:>10}\n\n",
                     "", "logLik", "AIC", "BIC", "AICc", r.method == "REML" ? "REML" : "ML", number(r.logLik),
                     number(r.AIC), number(r.BIC), number(r.AICc));
}

void write_diagnostics(std::ostringstream& out, const MetaResult& r) {
  if (r.egger)
    out << fmt::format("\nRegression test for funnel plot asymmetry (predictor: sei):\n{} = {}, p = {}\n",
                       r.test == "knha" ? fmt::format("t(df = {})", r.egger->df) : std::string("z"),
                       number(r.egger->statistic), format_p(r.egger->p_value));
  if (r.trimfill)
    out << fmt::format("\nTrim and fill (L0): {} studies imputed on the {} side; estimate {} (SE = {}), {}% CI [{}, {}]\n",
                       r.trimfill->k0, r.trimfill->side, number(r.trimfill->estimate), number(r.trimfill->std_error),
                       r.level, number(r.trimfill->conf_low), number(r.trimfill->conf_high));
  const std::size_t w = label_width(r.slab, [](const std::string& s) { return s; }, 20);
  if (r.leave1out) {
    out << "\nLeave-one-out:\n"
        << fmt::format("{:<{}}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}\n", "", w, "estimate", "se", "ci.lb", "ci.ub", "Q",
                       "tau2", "I2");
    for (const auto& row : *r.leave1out)
      out << fmt::format("{:<{}}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}{:>10}\n", row.slab, w, number(row.estimate),
                         number(row.std_error), number(row.conf_low), number(row.conf_high), number(row.Q, 2),
                         number(row.tau2), number(row.I2, 2));
  }
  if (r.influence) {
    out << "\nInfluence diagnostics:\n"
        << fmt::format("{:<{}}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}\n", "", w, "rstudent", "dffits", "cook.d", "cov.r",
                       "tau2.del", "QE.del", "hat", "weight");
    for (const auto& row : *r.influence)
      out << fmt::format("{:<{}}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9} {}\n", row.slab, w, number(row.rstudent),
                         number(row.dffits), number(row.cook_d), number(row.cov_r), number(row.tau2_del),
                         number(row.QE_del, 2), number(row.hat), number(row.weight, 2), row.influential ? "*" : "");
  }
}

// Per study: the data, the weight (percent), the fitted value with predict.rma's intervals and
// the residual yi - fitted (metafor's weights(), fitted(), predict(), residuals()).
Json studies_json(const MetaResult& r) {
  Json studies = Json::array();
  for (std::size_t i = 0; i < r.k; ++i) {
    const MetaFittedValue& f = r.fitted[i];
    studies.push_back({{"slab", r.slab[i]},
                       {"yi", json_number(r.yi[i])},
                       {"vi", json_number(r.vi[i])},
                       {"weight", json_number(r.weights[i])},
                       {"fitted", json_number(f.estimate)},
                       {"fitted_se", json_number(f.std_error)},
                       {"fitted_conf_low", json_number(f.conf_low)},
                       {"fitted_conf_high", json_number(f.conf_high)},
                       {"pi_low", json_number(f.pi_low)},
                       {"pi_high", json_number(f.pi_high)},
                       {"residual", json_number(r.yi[i] - f.estimate)}});
  }
  return studies;
}

}  // namespace

Json to_json(const MetaResult& r) {
  Json j;
  j["k"] = r.k;
  j["n_dropped"] = r.n_dropped;
  j["method"] = r.method;
  j["test"] = r.test;
  for (const char* key : {"estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"}) j[key] = nullptr;
  if (!r.has_mods) {
    j["estimate"] = json_number(r.estimate);
    j["std_error"] = json_number(r.std_error);
    j["statistic"] = json_number(r.statistic);
    j["p_value"] = json_number(r.p_value);
    j["conf_low"] = json_number(r.conf_low);
    j["conf_high"] = json_number(r.conf_high);
  }
  j["pi_low"] = json_number(r.pi_low);
  j["pi_high"] = json_number(r.pi_high);
  j["tau2"] = json_number(r.tau2);
  j["tau2_se"] = json_number(r.tau2_se);
  j["tau2_conf_low"] = json_number(r.tau2_conf_low);
  j["tau2_conf_high"] = json_number(r.tau2_conf_high);
  j["tau"] = json_number(r.tau);
  j["I2"] = json_number(r.I2);
  j["H2"] = json_number(r.H2);
  j["Q"] = json_number(r.Q);
  j["Q_df"] = r.Q_df;
  j["Q_p"] = json_number(r.Q_p);
  j["logLik"] = json_number(r.logLik);
  j["AIC"] = json_number(r.AIC);
  j["BIC"] = json_number(r.BIC);
  j["AICc"] = json_number(r.AICc);
  j["transformed"] = transformed_json(r);
  j["studies"] = studies_json(r);
  j["coefficients"] = Json::array();
  for (const auto& c : r.coefficients) j["coefficients"].push_back(coefficient_json(c));
  j["QM"] = r.has_mods ? json_number(r.QM) : Json(nullptr);
  j["QM_df"] = r.has_mods ? Json(r.QM_df) : Json(nullptr);
  j["QM_p"] = r.has_mods ? json_number(r.QM_p) : Json(nullptr);
  j["R2"] = r.has_mods ? json_number(r.R2) : Json(nullptr);
  j["egger"] = r.egger ? Json{{"statistic", json_number(r.egger->statistic)}, {"p_value", json_number(r.egger->p_value)}}
                       : Json(nullptr);
  j["trimfill"] = r.trimfill ? Json{{"k0", r.trimfill->k0},
                                    {"side", r.trimfill->side},
                                    {"estimate", json_number(r.trimfill->estimate)},
                                    {"std_error", json_number(r.trimfill->std_error)}}
                             : Json(nullptr);
  j["leave1out"] = r.leave1out ? leave1out_json(*r.leave1out) : Json(nullptr);
  if (r.influence) j["influence"] = influence_json(*r.influence);
  j["warnings"] = r.warnings;
  return j;
}

std::string to_text(const MetaResult& r) {
  std::ostringstream out;
  out << "\n" << model_title(r) << "\n\n";
  write_fit_statistics(out, r);
  write_heterogeneity(out, r);
  write_coefficients(out, r);
  write_diagnostics(out, r);
  if (r.n_dropped > 0) out << fmt::format("\n{} row(s) dropped for missing values\n", r.n_dropped);
  return out.str();
}

std::string to_csv(const MetaResult& r) {
  std::string out = "term,estimate,std_error,statistic,p_value,conf_low,conf_high\n";
  for (const auto& c : r.coefficients)
    out += csv_field(c.term) + "," + csv_number(c.estimate) + "," + csv_number(c.std_error) + "," +
           csv_number(c.statistic) + "," + csv_number(c.p_value) + "," + csv_number(c.conf_low) + "," +
           csv_number(c.conf_high) + "\n";
  return out;
}

}  // namespace spiral
