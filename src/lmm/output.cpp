#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "spiral/lmm.hpp"

namespace spiral {

namespace {

Json numbers(const std::vector<double>& values) {
  Json array = Json::array();
  for (double v : values) array.push_back(json_number(v));
  return array;
}

std::string significance_stars(double p) {
  if (!std::isfinite(p)) return "";
  if (p < 0.001) return "***";
  if (p < 0.01) return "**";
  if (p < 0.05) return "*";
  if (p < 0.1) return ".";
  return "";
}

std::string format_p(double p) {
  if (!std::isfinite(p)) return "NA";
  if (p < 2e-16) return "< 2e-16";
  return fmt::format("{:.3g}", p);
}

// The width of a table's first column: `minimum`, or the longest of `names` (poly(Time, 2)1:factor(Diet)2).
template <class Rows, class Name>
std::size_t name_width(std::size_t minimum, const Rows& rows, Name name) {
  for (const auto& row : rows) minimum = std::max(minimum, std::string(name(row)).size());
  return minimum;
}

std::string random_effects_text(const LmmResult& r) {
  std::string text = fmt::format(" {:<12} {:<14} {:>10}  {}\n", "Groups", "Name", "Std.Dev.", "Corr");
  for (const auto& block : r.random)
    for (std::size_t i = 0; i < block.terms.size(); ++i) {
      std::string cor;
      for (std::size_t j = 0; j < i; ++j) cor += fmt::format("{:6.2f} ", block.cor[i][j]);
      text += fmt::format(" {:<12} {:<14} {:>10.5g}  {}\n", i == 0 ? block.group : "", block.terms[i], block.sd[i], cor);
    }
  text += fmt::format(" {:<12} {:<14} {:>10.5g}\n", "Residual", "", r.sigma);
  text += fmt::format("Number of obs: {}, groups: ", r.n_obs);
  for (std::size_t g = 0; g < r.groups.size(); ++g)
    text += fmt::format("{} {}, {}", g ? ";" : "", r.groups[g].name, r.groups[g].levels);
  return text + "\n";
}

std::string fixed_effects_text(const LmmResult& r) {
  const bool has_df = !r.fixed.empty() && std::isfinite(r.fixed.front().df);
  const std::size_t width = name_width(20, r.fixed, [](const FixedEffect& f) { return f.term; });
  std::string text = fmt::format("{:<{}} {:>12} {:>12} {:>10} {:>10} {:>10}\n", "", width, "Estimate", "Std. Error",
                                 has_df ? "df" : "", has_df ? "t value" : "z value", has_df ? "Pr(>|t|)" : "Pr(>|z|)");
  for (const auto& f : r.fixed)
    text += fmt::format("{:<{}} {:>12.5g} {:>12.5g} {:>10} {:>10.3f} {:>10} {}\n", f.term, width, f.estimate,
                        f.std_error, has_df ? fmt::format("{:.2f}", f.df) : "", f.statistic, format_p(f.p_value),
                        significance_stars(f.p_value));
  return text;
}

// The df method, recognised from the df: none (z-tests), all n - p (residual), else Satterthwaite.
std::string tests_description(const LmmResult& r) {
  if (r.fixed.empty() || !std::isfinite(r.fixed.front().df)) return "z-tests (no df)";
  const double residual = double(r.n_obs) - double(r.fixed.size());
  for (const auto& f : r.fixed)
    if (f.df != residual) return "t-tests use Satterthwaite's method";
  return "t-tests use residual df (n - p)";
}

// How the F tests' denominator df were taken, as the t tests' (tests_description).
std::string anova_df_description(const LmmResult& r) {
  if (r.anova->empty() || !std::isfinite(r.anova->front().den_df)) return "(no denominator df: F only, --df none)";
  const std::string t_tests = tests_description(r);
  return t_tests.find("residual") != std::string::npos ? "with residual df (n - p)" : "with Satterthwaite's method";
}

// lmerTest's print of anova(fit): Sum Sq = F sigma^2 NumDF, Mean Sq = F sigma^2. A term without a
// hypothesis (aliased, no columns left) has empty cells, as R prints its NA row.
std::string anova_text(const LmmResult& r) {
  const std::size_t width = name_width(24, *r.anova, [](const AnovaTerm& a) { return a.term; });
  std::string text = "\nType III Analysis of Variance Table " + anova_df_description(r) + "\n";
  text += fmt::format("{:<{}} {:>12} {:>12} {:>6} {:>10} {:>10} {:>10}\n", "", width, "Sum Sq", "Mean Sq", "NumDF",
                      "DenDF", "F value", "Pr(>F)");
  for (const auto& a : *r.anova) {
    if (!std::isfinite(a.num_df)) {
      text += fmt::format("{}\n", a.term);
      continue;
    }
    const double mean_square = a.F * r.sigma * r.sigma;
    const std::string den_df = std::isfinite(a.den_df) ? fmt::format("{:.3f}", a.den_df) : "NA";
    text += fmt::format("{:<{}} {:>12.5g} {:>12.5g} {:>6} {:>10} {:>10.4f} {:>10} {}\n", a.term, width,
                        mean_square * a.num_df, mean_square, a.num_df, den_df, a.F, format_p(a.p_value),
                        significance_stars(a.p_value));
  }
  return text;
}

// lmerTest's print of ranova(fit).
std::string ranova_text(const LmmResult& r) {
  std::string text = "\nANOVA-like table for random-effects: Single term deletions\n";
  const std::size_t width = name_width(32, *r.ranova, [](const RanovaTerm& a) { return a.term; });
  text += fmt::format("{:<{}} {:>5} {:>12} {:>12} {:>10} {:>4} {:>10}\n", "", width, "npar", "logLik", "AIC", "LRT",
                      "Df", "Pr(>Chisq)");
  for (const auto& a : *r.ranova) {
    text += fmt::format("{:<{}} {:>5} {:>12.4f} {:>12.4f}", a.term, width, a.npar, a.logLik, a.AIC);
    if (std::isfinite(a.LRT))
      text += fmt::format(" {:>10.4f} {:>4} {:>10} {}", a.LRT, a.df, format_p(a.p_value), significance_stars(a.p_value));
    text += "\n";
  }
  return text;
}

// lme4's print of confint(fit): the bounds of every parameter the method gives.
std::string confint_text(const LmmResult& r) {
  const double tail = (100 - r.level) / 2;
  const auto random_name = [](const RandomCi& c) { return c.group + " " + c.term; };
  std::size_t width = name_width(40, r.fixed, [](const FixedEffect& f) { return f.term; });
  if (r.random_ci) width = name_width(width, *r.random_ci, random_name);
  std::string text = fmt::format("\n{} confidence intervals ({:g}%):\n{:<{}} {:>12} {:>12}\n",
                                 r.confint == "profile" ? "Profile" : "Wald", r.level, "", width,
                                 fmt::format("{:g} %", tail), fmt::format("{:g} %", 100 - tail));
  if (r.random_ci)
    for (const auto& c : *r.random_ci)
      text += fmt::format("{:<{}} {:>12.5g} {:>12.5g}\n", random_name(c), width, c.conf_low, c.conf_high);
  for (const auto& f : r.fixed)
    text += fmt::format("{:<{}} {:>12.5g} {:>12.5g}\n", f.term, width, f.conf_low, f.conf_high);
  return text;
}

}  // namespace

Json to_json(const LmmResult& r) {
  Json j;
  j["method"] = r.method;
  j["n_obs"] = r.n_obs;
  j["n_dropped"] = r.n_dropped;
  j["converged"] = r.converged;
  j["singular"] = r.singular;
  j["criterion"] = json_number(r.criterion);
  j["logLik"] = json_number(r.logLik);
  j["AIC"] = json_number(r.AIC);
  j["BIC"] = json_number(r.BIC);
  j["df_model"] = r.df_model;
  j["sigma"] = json_number(r.sigma);
  j["groups"] = Json::array();
  for (const auto& g : r.groups) j["groups"].push_back({{"name", g.name}, {"levels", g.levels}});
  j["fixed"] = Json::array();
  for (const auto& f : r.fixed)
    j["fixed"].push_back({{"term", f.term},
                          {"estimate", json_number(f.estimate)},
                          {"std_error", json_number(f.std_error)},
                          {"df", json_number(f.df)},
                          {"statistic", json_number(f.statistic)},
                          {"p_value", json_number(f.p_value)},
                          {"conf_low", json_number(f.conf_low)},
                          {"conf_high", json_number(f.conf_high)}});
  j["random"] = Json::array();
  for (const auto& b : r.random) {
    Json cor = Json::array();
    for (const auto& row : b.cor) cor.push_back(numbers(row));
    j["random"].push_back({{"group", b.group}, {"terms", b.terms}, {"sd", numbers(b.sd)}, {"cor", cor}});
  }
  j["ar1"] = r.ar1_phi ? Json{{"phi", json_number(*r.ar1_phi)}} : Json(nullptr);
  j["theta"] = numbers(r.theta);
  if (r.anova) {
    j["anova"] = Json::array();
    for (const auto& a : *r.anova)
      j["anova"].push_back({{"term", a.term},
                            {"num_df", json_number(a.num_df)},
                            {"den_df", json_number(a.den_df)},
                            {"F", json_number(a.F)},
                            {"p_value", json_number(a.p_value)}});
  }
  if (r.ranova) {
    j["ranova"] = Json::array();
    for (const auto& a : *r.ranova)
      j["ranova"].push_back({{"term", a.term},
                             {"npar", a.npar},
                             {"logLik", json_number(a.logLik)},
                             {"AIC", json_number(a.AIC)},
                             {"LRT", json_number(a.LRT)},
                             {"df", json_number(a.df)},
                             {"p_value", json_number(a.p_value)}});
  }
  if (r.random_ci) {
    j["random_ci"] = Json::array();
    for (const auto& c : *r.random_ci)
      j["random_ci"].push_back({{"group", c.group},
                                {"term", c.term},
                                {"conf_low", json_number(c.conf_low)},
                                {"conf_high", json_number(c.conf_high)}});
  }
  j["warnings"] = r.warnings;
  return j;
}

std::string to_text(const LmmResult& r) {
  std::string text = fmt::format("Linear mixed model fit by {}. {}\n", r.method == "REML" ? "REML" : "maximum likelihood",
                                 tests_description(r));
  if (!r.formula.empty()) text += "Formula: " + r.formula + "\n";
  text += "\n";
  if (r.method == "REML") text += fmt::format("REML criterion at convergence: {:.4f}\n\n", r.criterion);
  else
    text += fmt::format("{:>12} {:>12} {:>12} {:>12} {:>8}\n{:>12.4f} {:>12.4f} {:>12.4f} {:>12.4f} {:>8}\n\n", "AIC",
                        "BIC", "logLik", "deviance", "df.resid", r.AIC, r.BIC, r.logLik, r.criterion,
                        r.n_obs - r.df_model);
  text += "Random effects:\n" + random_effects_text(r);
  if (r.ar1_phi) text += fmt::format("AR(1) residual correlation: phi = {:.4f}\n", *r.ar1_phi);
  text += "\nFixed effects:\n" + fixed_effects_text(r);
  if (r.anova) text += anova_text(r);
  if (r.ranova) text += ranova_text(r);
  if (!r.confint.empty()) text += confint_text(r);
  for (const auto& w : r.warnings) text += "warning: " + w + "\n";
  return text;
}

std::string ranef_csv(const LmmResult& r) {
  std::string csv = "group,level,term,estimate,std_error\n";
  for (const auto& m : r.ranef)
    csv += csv_field(m.group) + "," + csv_field(m.level) + "," + csv_field(m.term) + "," + csv_number(m.estimate) + "," +
           csv_number(m.std_error) + "\n";
  return csv;
}

Json to_json(const LmmComparison& c) {
  Json j;
  j["models"] = Json::array();
  for (const auto& m : c.models)
    j["models"].push_back({{"formula", m.formula},
                           {"df_model", m.df_model},
                           {"AIC", json_number(m.AIC)},
                           {"BIC", json_number(m.BIC)},
                           {"logLik", json_number(m.logLik)},
                           {"deviance", json_number(m.deviance)}});
  const auto test = [](const LmmLikelihoodRatioTest& t) {
    return Json{{"chisq", json_number(t.chisq)}, {"chisq_df", t.chisq_df}, {"p_value", json_number(t.p_value)}};
  };
  if (c.tests.size() == 1) j.update(test(c.tests.front()));  // the keys of a single comparison, as before
  j["tests"] = Json::array();
  for (const auto& t : c.tests) j["tests"].push_back(test(t));
  j["warnings"] = c.warnings;
  return j;
}

std::string to_text(const LmmComparison& c) {
  std::string text = "Likelihood-ratio test (models refitted with ML)\n";
  for (std::size_t i = 0; i < c.models.size(); ++i)
    text += fmt::format("Model {}: {}\n", i + 1, c.models[i].formula);
  text += fmt::format("\n{:<8} {:>5} {:>12} {:>12} {:>12} {:>12} {:>10} {:>5} {:>10}\n", "", "npar", "AIC", "BIC",
                      "logLik", "deviance", "Chisq", "Df", "Pr(>Chisq)");
  for (std::size_t i = 0; i < c.models.size(); ++i) {
    const auto& m = c.models[i];
    text += fmt::format("{:<8} {:>5} {:>12.4f} {:>12.4f} {:>12.4f} {:>12.4f}", "Model " + std::to_string(i + 1),
                        m.df_model, m.AIC, m.BIC, m.logLik, m.deviance);
    if (i > 0) {
      const auto& t = c.tests[i - 1];
      text += fmt::format(" {:>10.4f} {:>5} {:>10} {}", t.chisq, t.chisq_df, format_p(t.p_value), significance_stars(t.p_value));
    }
    text += "\n";
  }
  for (const auto& w : c.warnings) text += "warning: " + w + "\n";
  return text;
}

}  // namespace spiral
