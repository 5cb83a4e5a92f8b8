// `spiral ipd onestage`: the stage-1 mixed models fitted once over all studies, patients
// nested in studies, the lagged term's intercept and slope also random across studies
// (specification section 5).
#include <algorithm>

#include <fmt/format.h>

#include "ipd/ipd_internal.hpp"
#include "spiral/formula.hpp"
#include "spiral/ipd.hpp"
#include "spiral/lmm.hpp"

namespace spiral {

using namespace ipd_detail;

namespace {

std::string terms_text(const TermList& list, bool random) {
  std::string out;
  if (random || !list.intercept) out = list.intercept ? "1" : "0";
  for (const auto& t : list.terms) out += (out.empty() ? "" : " + ") + t.label();
  return out.empty() ? "1" : out;
}

std::string formula_text(const Formula& f) {
  std::string out = f.response + " ~ " + terms_text(f.fixed, false);
  for (const auto& r : f.random) out += " + (" + terms_text(r.effects, true) + " | " + r.group_label() + ")";
  return out;
}

// `(e | patient)` -> `(e | study:patient) + (e | study)`; `(e | therapist)` -> `(e | study:therapist)`.
std::string onestage_formula(const IpdSpec& spec, const std::string& stage1_formula) {
  Formula f = parse_formula(stage1_formula);
  std::vector<RandomTerm> random;
  for (auto r : f.random) {
    const bool by_patient = r.group == std::vector<std::string>{spec.patient};
    const bool by_therapist = !spec.therapist.empty() && r.group == std::vector<std::string>{spec.therapist};
    if (by_patient || by_therapist) {
      r.group.insert(r.group.begin(), spec.study);
      r.deparsed.clear();
    }
    random.push_back(r);
    if (by_patient) {
      RandomTerm across_studies = r;
      across_studies.group = {spec.study};
      random.push_back(across_studies);
    }
  }
  f.random = random;
  return formula_text(f);
}

}  // namespace

OnestageResult run_onestage(const IpdSpec& spec, const Table& sessions) {
  IpdSpec sessions_only = spec;  // [post] and the moderators belong to two-stage pooling only
  sessions_only.post.reset();
  sessions_only.moderators.clear();
  validate_data(sessions_only, sessions, nullptr);
  const Table prepared = prepare_validated(spec, sessions);
  OnestageResult result;
  for (const auto& model : stage1_models(spec)) {
    if (model.kind != ModelSpec::Kind::Lmm) {
      result.warnings.push_back("model '" + model.name + "' has no one-stage form and is left out");
      continue;
    }
    OnestageModel m;
    m.model = model.name;
    m.formula = onestage_formula(spec, model.formula);
    LmmOptions options;
    options.frame.numeric_by_design = {spec.session};
    options.frame.factors = spec.factors;
    options.frame.reference_levels = spec.reference;
    options.formula = m.formula;
    options.df = DfMethod::None;  // Wald z: with all studies' sessions the t df are large
    try {
      const LmmResult fit = fit_lmm(prepared, options);
      m.fit = to_json(fit);
      m.ok = true;
      for (const auto& w : fit.warnings) result.warnings.push_back("model '" + model.name + "': " + w);
    } catch (const AnalysisError& e) {
      m.fit = {{"error", e.what()}};
      result.warnings.push_back("model '" + model.name + "' failed: " + e.what());
    } catch (const InputError& e) {
      m.fit = {{"error", e.what()}};
      result.warnings.push_back("model '" + model.name + "' failed: " + e.what());
    }
    result.models.push_back(std::move(m));
  }
  // No model could be fitted: no valid result (specification section 1: exit 1).
  const auto fitted = [](const OnestageModel& m) { return m.ok; };
  if (!result.models.empty() && std::none_of(result.models.begin(), result.models.end(), fitted))
    throw AnalysisError("onestage: every model failed; the first: " + result.models.front().fit["error"].get<std::string>());
  return result;
}

Json to_json(const OnestageResult& result) {
  Json j;
  j["models"] = Json::array();
  for (const auto& m : result.models)
    j["models"].push_back({{"model", m.model}, {"formula", m.formula}, {"converged", m.ok && m.fit.value("converged", false)},
                           {"fit", m.fit}});
  j["warnings"] = result.warnings;
  return j;
}

namespace {

double number_or_na(const Json& v) { return v.is_number() ? v.get<double>() : NA; }

}  // namespace

std::string to_text(const OnestageResult& result) {
  std::string out = "One-stage mixed models over all studies (Wald z tests)\n";
  for (const auto& m : result.models) {
    out += "\n" + m.model + ": " + m.formula + "\n";
    if (!m.ok) {
      out += "  failed: " + m.fit.value("error", std::string()) + "\n";
      continue;
    }
    out += fmt::format("  {:<16} {:>11} {:>10} {:>9} {:>10}\n", "term", "estimate", "std_error", "z", "p_value");
    for (const auto& f : m.fit.at("fixed"))
      out += fmt::format("  {:<16} {:>11.5f} {:>10.5f} {:>9.3f} {:>10.4g}\n", f.at("term").get<std::string>(),
                         number_or_na(f.at("estimate")), number_or_na(f.at("std_error")),
                         number_or_na(f.at("statistic")), number_or_na(f.at("p_value")));
  }
  return out;
}

}  // namespace spiral
