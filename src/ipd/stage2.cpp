// Stage 2: each model x term pooled over the studies with the meta-analysis engine
// (specification sections 4 and 5), plus the bundle format of the federated mode.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "ipd/ipd_internal.hpp"
#include "spiral/formula.hpp"
#include "spiral/ipd.hpp"

namespace spiral {

using namespace ipd_detail;

namespace {

// Terms of a model in the order the studies report them (first study first).
std::vector<std::string> terms_of(const std::vector<Bundle>& bundles, std::size_t model) {
  std::vector<std::string> terms;
  for (const auto& b : bundles) {
    for (const auto& t : b.models[model].terms) {
      if (std::find(terms.begin(), terms.end(), t.term) == terms.end()) terms.push_back(t.term);
    }
  }
  return terms;
}

const TermEstimate* find_term(const ModelFit& fit, const std::string& term) {
  for (const auto& t : fit.terms) {
    if (t.term == term) return &t;
  }
  return nullptr;
}

// The studies' moderator values as the meta engine's moderator table (rows = studies).
Table moderator_table(const IpdSpec& spec, const std::vector<const Bundle*>& studies) {
  Table t("moderators");
  for (std::size_t m = 0; m < spec.moderators.size(); ++m) {
    const bool numeric = studies.front()->moderators[m].numeric;
    if (numeric) {
      std::vector<double> values;
      for (const Bundle* b : studies) values.push_back(b->moderators[m].number);
      t.add_numeric(spec.moderators[m], values);
    } else {
      std::vector<std::string> levels;
      std::vector<bool> missing;
      for (const Bundle* b : studies) {
        levels.push_back(b->moderators[m].level);
        missing.push_back(b->moderators[m].level.empty() || b->moderators[m].level == "NA");
      }
      t.add_factor_from_strings(spec.moderators[m], levels, missing);
    }
  }
  return t;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

void check_bundles(const IpdSpec& spec, const std::vector<Bundle>& bundles) {
  if (bundles.empty()) throw InputError("stage 2: no studies");
  const std::string hash = spec.hash();
  const std::size_t n_models = stage1_models(spec).size();
  std::set<std::string> seen;
  for (const auto& b : bundles) {
    if (b.spec_hash != hash)
      throw InputError("bundle of study '" + b.study + "' was made with a different spec (hash " + b.spec_hash +
                       ", this spec " + hash + ")");
    if (!seen.insert(b.study).second) throw InputError("study '" + b.study + "' is given twice");
    if (b.models.size() != n_models || b.moderators.size() != spec.moderators.size())
      throw InputError("bundle of study '" + b.study + "' does not have the spec's models and moderators");
  }
}

std::optional<MetaResult> meta_regression(const IpdSpec& spec, const MetaInput& input,
                                          const std::vector<const Bundle*>& studies, const std::string& label,
                                          Warnings& warnings) {
  if (spec.moderators.empty()) return std::nullopt;
  MetaInput with_mods = input;
  with_mods.moderators = moderator_table(spec, studies);
  MetaOptions options;
  options.method = spec.method;
  options.test = spec.test;
  options.mods = join(spec.moderators, " + ");
  try {
    MetaResult fit = fit_meta(with_mods, options);
    for (const auto& w : fit.warnings) warnings.push_back(label + ": meta-regression: " + w);
    return fit;
  } catch (const std::runtime_error& e) {  // InputError (constant moderator) or AnalysisError
    warnings.push_back(label + ": no meta-regression: " + e.what());
    return std::nullopt;
  }
}

// One model x term over the studies whose model converged and estimated the term.
std::optional<PooledTerm> pool_term(const IpdSpec& spec, const std::vector<Bundle>& bundles, std::size_t model,
                                    const std::string& term, Warnings& warnings) {
  MetaInput input;
  std::vector<const Bundle*> studies;
  for (const auto& b : bundles) {
    const ModelFit& fit = b.models[model];
    const TermEstimate* t = fit.converged ? find_term(fit, term) : nullptr;
    if (!t || is_na(t->estimate) || !(t->std_error > 0)) continue;
    input.yi.push_back(t->estimate);
    input.vi.push_back(t->std_error * t->std_error);
    input.slab.push_back(b.study);
    studies.push_back(&b);
  }
  const std::string label = "model '" + bundles.front().models[model].model + "', term '" + term + "'";
  if (studies.size() < 2) {
    warnings.push_back(label + ": fewer than 2 studies, not pooled");
    return std::nullopt;
  }
  MetaOptions options;
  options.method = spec.method;
  options.test = spec.test;
  options.egger = spec.egger;
  PooledTerm pooled{bundles.front().models[model].model, term, {}, std::nullopt};
  try {
    pooled.meta = fit_meta(input, options);
  } catch (const AnalysisError& e) {
    warnings.push_back(label + ": not pooled: " + e.what());
    return std::nullopt;
  }
  for (const auto& w : pooled.meta.warnings) warnings.push_back(label + ": " + w);
  pooled.regression = meta_regression(spec, input, studies, label, warnings);
  return pooled;
}

}  // namespace

SingularFits ipd_detail::count_singular_fits(const std::vector<Bundle>& bundles) {
  SingularFits count;
  for (const auto& b : bundles)
    for (const auto& m : b.models) {
      ++count.fits;
      count.singular += m.singular;
    }
  return count;
}

// Failed models are reported once per study; singular fits once in total.
void stage1_warnings(const std::vector<Bundle>& bundles, Warnings& warnings) {
  for (const auto& b : bundles) {
    for (const auto& w : b.warnings) warnings.push_back("study '" + b.study + "': " + w);
    for (const auto& m : b.models) {
      if (!m.converged)
        warnings.push_back("study '" + b.study + "', model '" + m.model + "' left out of stage 2: " + m.message);
    }
  }
  const SingularFits count = count_singular_fits(bundles);
  if (count.singular > 0)
    warnings.push_back(std::to_string(count.singular) + " of " + std::to_string(count.fits) +
                       " stage-1 fits are singular (a random-effect variance at zero)");
}

IpdResult run_stage2(const IpdSpec& spec, std::vector<Bundle> bundles) {
  check_bundles(spec, bundles);
  std::sort(bundles.begin(), bundles.end(), [](const Bundle& a, const Bundle& b) { return study_less(a.study, b.study); });
  IpdResult result;
  result.spec_hash = spec.hash();
  result.spiral_version = spiral_version();
  stage1_warnings(bundles, result.warnings);
  const std::size_t n_models = bundles.front().models.size();
  for (std::size_t m = 0; m < n_models; ++m) {
    for (const auto& term : terms_of(bundles, m)) {
      if (auto pooled = pool_term(spec, bundles, m, term, result.warnings)) result.pooled.push_back(std::move(*pooled));
    }
  }
  // No valid result (specification section 1: exit 1, "fewer than 2 studies left").
  if (result.pooled.empty())
    throw AnalysisError("stage 2: no term has estimates from 2 or more studies (" + std::to_string(bundles.size()) +
                        (bundles.size() == 1 ? " study" : " studies") + "), so nothing was pooled");
  result.studies = std::move(bundles);
  return result;
}

// ------------------------------------------------------------------- bundle files

Json to_json(const Bundle& b) {
  Json j;
  j["format"] = "spiral-ipd-bundle";
  j["spec_hash"] = b.spec_hash;
  j["spiral_version"] = b.spiral_version;
  j["study"] = b.study;
  j["counts"] = {{"n_patients", b.counts.n_patients}, {"n_sessions", b.counts.n_sessions},
                 {"n_obs", b.counts.n_obs}, {"n_dropped", b.counts.n_dropped},
                 {"missing_process", b.counts.missing_process}, {"missing_outcome", b.counts.missing_outcome}};
  j["moderators"] = Json::array();
  for (const auto& m : b.moderators)
    j["moderators"].push_back({{"name", m.name}, {"value", m.numeric ? json_number(m.number) : Json(m.level)}});
  j["models"] = Json::array();
  for (const auto& m : b.models) {
    Json terms = Json::array();
    for (const auto& t : m.terms)
      terms.push_back({{"term", t.term}, {"estimate", json_number(t.estimate)}, {"std_error", json_number(t.std_error)}});
    j["models"].push_back({{"model", m.model}, {"converged", m.converged}, {"singular", m.singular},
                           {"message", m.message}, {"n_patients", m.n_patients}, {"n_obs", m.n_obs},
                           {"n_dropped", m.n_dropped}, {"terms", terms}, {"warnings", m.warnings}});
    if (const auto& f = m.fit_measures)
      j["models"].back()["fit_measures"] = {{"chisq", json_number(f->chisq)}, {"chisq_df", f->chisq_df},
                                            {"chisq_p", json_number(f->chisq_p)}, {"CFI", json_number(f->CFI)},
                                            {"TLI", json_number(f->TLI)}, {"RMSEA", json_number(f->RMSEA)},
                                            {"SRMR", json_number(f->SRMR)}};
  }
  j["warnings"] = b.warnings;
  return j;
}

namespace {

double number_or_na(const Json& v) { return v.is_null() ? NA : v.get<double>(); }

ModelFit model_from_json(const Json& m, const std::string& bundle_name) {
  ModelFit fit;
  fit.model = m.at("model").get<std::string>();
  fit.converged = m.at("converged").get<bool>();
  fit.singular = m.at("singular").get<bool>();
  fit.message = m.at("message").get<std::string>();
  fit.n_patients = m.at("n_patients").get<long>();
  fit.n_obs = m.at("n_obs").get<long>();
  fit.n_dropped = m.at("n_dropped").get<long>();
  for (const auto& t : m.at("terms")) {
    fit.terms.push_back({t.at("term").get<std::string>(), number_or_na(t.at("estimate")), number_or_na(t.at("std_error"))});
    // A standard error that is no positive number comes from an edited or damaged bundle
    // (stage 2 would leave the study out of the term without a word).
    const double se = fit.terms.back().std_error;
    if (!is_na(se) && !(se > 0 && std::isfinite(se)))
      throw InputError(bundle_name + ": model '" + fit.model + "', term '" + fit.terms.back().term +
                       "': the standard error " + r_number_label(se) + " is not a positive number");
  }
  fit.warnings = m.at("warnings").get<Warnings>();
  if (m.contains("fit_measures")) {  // the panel model's (older bundles have none)
    const Json& f = m.at("fit_measures");
    fit.fit_measures = PanelFitMeasures{number_or_na(f.at("chisq")), f.at("chisq_df").get<long>(),
                                        number_or_na(f.at("chisq_p")), number_or_na(f.at("CFI")),
                                        number_or_na(f.at("TLI")), number_or_na(f.at("RMSEA")),
                                        number_or_na(f.at("SRMR"))};
  }
  return fit;
}

}  // namespace

Bundle bundle_from_json(const std::string& text, const std::string& name) {
  try {
    const Json j = Json::parse(text);
    if (j.value("format", "") != "spiral-ipd-bundle") throw InputError(name + ": not a spiral ipd bundle");
    Bundle b;
    b.spec_hash = j.at("spec_hash").get<std::string>();
    b.spiral_version = j.at("spiral_version").get<std::string>();
    b.study = j.at("study").get<std::string>();
    const Json& c = j.at("counts");
    b.counts = {c.at("n_patients").get<long>(), c.at("n_sessions").get<long>(), c.at("n_obs").get<long>(),
                c.at("n_dropped").get<long>(), c.at("missing_process").get<long>(), c.at("missing_outcome").get<long>()};
    for (const auto& m : j.at("moderators")) {
      ModeratorValue v;
      v.name = m.at("name").get<std::string>();
      const Json& value = m.at("value");
      v.numeric = !value.is_string();
      if (v.numeric) v.number = number_or_na(value);
      else v.level = value.get<std::string>();
      b.moderators.push_back(v);
    }
    for (const auto& m : j.at("models")) b.models.push_back(model_from_json(m, name));
    b.warnings = j.at("warnings").get<Warnings>();
    return b;
  } catch (const Json::exception& e) {
    throw InputError(name + ": malformed bundle: " + e.what());
  }
}

}  // namespace spiral
