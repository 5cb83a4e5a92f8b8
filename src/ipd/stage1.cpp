// Stage 1: every model of the table of specification section 5, step 4, fitted in one study.
// Only aggregates leave this file: estimates, standard errors, counts, moderators.
#include <algorithm>
#include <map>
#include <unordered_map>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "common/parallel.hpp"
#include "ipd/ipd_internal.hpp"
#include "spiral/dsem.hpp"
#include "spiral/ipd.hpp"
#include "spiral/lmm.hpp"
#include "spiral/panel.hpp"

namespace spiral {

using namespace ipd_detail;

namespace {

// The default formulas, built from parts so that lag 2, random_slopes and the therapist
// level change them exactly as specification section 5 says.
std::string lagged_formula(const IpdSpec& spec, bool to_outcome, int lag, bool cross) {
  const std::string k = std::to_string(lag);
  const std::string focal = (to_outcome ? "Pw_lag" : "Ow_lag") + k;   // the cross-lagged term
  const std::string ar = (to_outcome ? "Ow_lag" : "Pw_lag") + k;      // the autoregressive term
  std::string f = std::string(to_outcome ? "O" : "P") + " ~ " + focal + " + " + ar + " + Pm + Om + " + spec.session;
  f += spec.random_slopes ? " + (1 + " + focal + " | " + spec.patient + ")" : " + (1 | " + spec.patient + ")";
  if (!spec.therapist.empty()) f += " + (1 | " + spec.therapist + ")";
  if (cross) f += " + " + focal + ":Pm + " + focal + ":Om";
  return f;
}

// The options of `spiral dsem` that fit the stage-1 model `dsem` (P and O of each study,
// therapists as its third level), as the spec's [dsem] sets the sampler.
DsemOptions dsem_options(const IpdSpec& spec) {
  DsemOptions o;
  o.id = spec.patient;
  o.time = spec.session;
  o.vars = {"P", "O"};
  o.random = spec.dsem_settings.random;
  o.between = spec.dsem_settings.between;
  o.cluster = spec.therapist;
  o.chains = spec.dsem_settings.chains;
  o.iter = spec.dsem_settings.iter;
  o.warmup = spec.dsem_settings.warmup;
  o.seed = spec.dsem_settings.seed;
  o.first = spec.first;
  o.last = spec.last;
  o.threads = 1;  // the studies already run on threads
  return o;
}

// The same options as a command line, for stage1.csv's readers and the report.
std::string dsem_command(const IpdSpec& spec) {
  const DsemOptions o = dsem_options(spec);
  std::string c = "spiral dsem --id ";
  c.append(o.id).append(" --time ").append(o.time).append(" --vars P,O --random ").append(o.random);
  if (!o.between.empty()) {
    c += " --between ";
    for (std::size_t i = 0; i < o.between.size(); ++i) c.append(i ? "," : "").append(o.between[i]);
  }
  if (!o.cluster.empty()) c.append(" --cluster ").append(o.cluster);
  if (o.first) c.append(" --first ").append(std::to_string(*o.first));
  if (o.last) c.append(" --last ").append(std::to_string(*o.last));
  c.append(" --chains ").append(std::to_string(o.chains)).append(" --iter ").append(std::to_string(o.iter));
  c.append(" --warmup ").append(std::to_string(o.warmup)).append(" --seed ").append(std::to_string(o.seed));
  return c;
}

}  // namespace

std::vector<ModelSpec> stage1_models(const IpdSpec& spec) {
  std::vector<ModelSpec> models;
  const auto lmm = [&](std::string name, std::string formula) {
    models.push_back({std::move(name), ModelSpec::Kind::Lmm, std::move(formula)});
  };
  lmm("process_to_outcome", lagged_formula(spec, true, 1, false));
  lmm("outcome_to_process", lagged_formula(spec, false, 1, false));
  if (spec.cross_level) {
    lmm("process_to_outcome_cross", lagged_formula(spec, true, 1, true));
    lmm("outcome_to_process_cross", lagged_formula(spec, false, 1, true));
  }
  if (std::count(spec.lags.begin(), spec.lags.end(), 2)) {
    lmm("process_to_outcome_lag2", lagged_formula(spec, true, 2, false));
    lmm("outcome_to_process_lag2", lagged_formula(spec, false, 2, false));
  }
  if (spec.post) models.push_back({post_model_name(), ModelSpec::Kind::Post, post_formula()});
  if (spec.panel) models.push_back({panel_model_name(), ModelSpec::Kind::Panel, ""});
  if (spec.dsem) models.push_back({dsem_model_name(), ModelSpec::Kind::Dsem, dsem_command(spec)});
  for (const auto& m : spec.custom) lmm(m.name, m.formula);
  return models;
}

namespace {

long count_missing(const Column& c) {
  long n = 0;
  for (std::size_t i = 0; i < c.size(); ++i) n += c.missing(i);
  return n;
}

ModelFit fit_lmm_model(const IpdSpec& spec, const ModelSpec& model, const Table& data) {
  ModelFit fit;
  fit.model = model.name;
  LmmOptions options;
  options.frame.numeric_by_design = {spec.session};
  options.frame.factors = spec.factors;
  options.frame.reference_levels = spec.reference;
  options.formula = model.formula;
  options.df = DfMethod::None;  // stage 1 needs only estimates and standard errors
  const LmmResult r = fit_lmm(data, options);
  fit.converged = r.converged;
  fit.singular = r.singular;
  fit.n_obs = r.n_obs;
  fit.n_dropped = r.n_dropped;
  for (const auto& g : r.groups) {
    if (g.name == spec.patient) fit.n_patients = g.levels;
  }
  for (const auto& f : r.fixed) fit.terms.push_back({f.term, f.estimate, f.std_error});
  fit.warnings = r.warnings;
  if (!r.converged) fit.message = "the optimizer did not converge";
  return fit;
}

// Each patient's mean raw process over sessions early_first..early_last of the window, by
// patient id (patients without such a session have none).
std::unordered_map<std::string, double> early_process_means(const IpdSpec& spec, const Table& data) {
  const RowIds patients = row_ids(data, spec.patient);
  const Column& session = data.column(spec.session);
  const Column& process = data.column(spec.process);
  std::vector<double> early(data.rows(), NA);
  for (std::size_t i = 0; i < data.rows(); ++i) {
    const double s = session.numbers[i];
    if (s >= static_cast<double>(spec.post->early_first) && s <= static_cast<double>(spec.post->early_last))
      early[i] = process.numbers[i];
  }
  const std::vector<double> per_patient = mean_per_patient(early, patients.code);
  std::unordered_map<std::string, double> means;
  for (std::size_t p = 0; p < per_patient.size(); ++p)
    if (!is_na(per_patient[p])) means.emplace(patients.text[p], per_patient[p]);
  return means;
}

std::vector<double> standardized(std::vector<double> x) {
  const MeanSd m = mean_sd(x);
  for (double& v : x) v = (x.size() > 1 && m.sd > 0) ? (v - m.mean) / m.sd : NA;
  return x;
}

std::vector<double> reverse_scored(const IpdSpec& spec, const Column& c) {
  std::vector<double> values = c.numbers;
  if (std::count(spec.reverse.begin(), spec.reverse.end(), c.name)) {
    for (double& v : values) v = -v;
  }
  return values;
}

// Early process -> post outcome: OLS `post ~ early_process + pre` over the study's patients
// that have all three, each variable z-standardized over those patients (R's lm() on
// scale()d columns of the complete cases: intercept 0 and the standardized betas SPSS
// reports; Wald SEs).
ModelFit fit_post_model(const IpdSpec& spec, const Table& data, const Table& patients) {
  ModelFit fit;
  fit.model = post_model_name();
  const auto early_means = early_process_means(spec, data);
  const RowIds ids = row_ids(patients, spec.patient);
  std::vector<double> early(ids.code.size(), NA);
  for (std::size_t i = 0; i < ids.code.size(); ++i) {
    const auto it = early_means.find(ids.text[static_cast<std::size_t>(ids.code[i])]);
    if (it != early_means.end()) early[i] = it->second;
  }
  const std::vector<double> pre_raw = reverse_scored(spec, patients.numeric(spec.post->pre));
  const std::vector<double> post_raw = reverse_scored(spec, patients.numeric(spec.post->post));
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < ids.code.size(); ++i) {
    if (!is_na(early[i]) && !is_na(pre_raw[i]) && !is_na(post_raw[i])) rows.push_back(i);
  }
  const auto complete_cases = [&rows](const std::vector<double>& x) {
    std::vector<double> out;
    for (std::size_t i : rows) out.push_back(x[i]);
    return standardized(std::move(out));
  };
  const std::vector<double> e = complete_cases(early), pre = complete_cases(pre_raw), post = complete_cases(post_raw);
  const long n = static_cast<long>(rows.size()), p = 3;
  fit.n_obs = fit.n_patients = n;
  fit.n_dropped = static_cast<long>(ids.code.size()) - n;
  if (n <= p) throw AnalysisError("fewer than 4 patients with early process, pre and post values");
  Eigen::MatrixXd x(n, p);
  Eigen::VectorXd y(n);
  for (long r = 0; r < n; ++r) {
    const auto i = static_cast<std::size_t>(r);
    x.row(r) << 1.0, e[i], pre[i];
    y(r) = post[i];
  }
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(x);
  if (qr.rank() < p) throw AnalysisError("early process and pre are collinear");
  const Eigen::VectorXd beta = qr.solve(y);
  const double sigma2 = (y - x * beta).squaredNorm() / static_cast<double>(n - p);
  const Eigen::MatrixXd cov = sigma2 * (x.transpose() * x).inverse();
  // The intercept is 0 by construction (every variable centred over these patients): only the
  // standardized slopes are stage-1 terms.
  const char* names[] = {"(Intercept)", "early_process", "pre"};
  for (long j = 1; j < p; ++j) fit.terms.push_back({names[j], beta(j), std::sqrt(cov(j, j))});
  fit.converged = true;
  return fit;
}

// The stage-1 term of the lagged effect from -> to of P and O (the panel and dsem models), in
// the order the terms are listed.
const std::vector<std::pair<std::pair<std::string, std::string>, std::string>>& lagged_terms() {
  static const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> terms = {
      {{"P", "O"}, "process_to_outcome"}, {{"O", "P"}, "outcome_to_process"},
      {{"P", "P"}, "process_ar"}, {{"O", "O"}, "outcome_ar"}};
  return terms;
}

// The RI-CLPM of P and O (specification section 7) with the window's sessions as waves.
ModelFit fit_panel_model(const IpdSpec& spec, const Table& data) {
  ModelFit fit;
  fit.model = panel_model_name();
  PanelOptions options;
  options.id = spec.patient;
  options.time = spec.session;
  options.vars = {"P", "O"};
  options.first = spec.first;
  options.last = spec.last;
  const PanelResult r = fit_panel(data, options);  // with the fit measures the report shows
  fit.converged = r.converged;
  fit.n_patients = r.n_patients;
  fit.n_obs = static_cast<long>(data.rows());
  fit.n_dropped = r.n_dropped;
  for (const auto& [from_to, term] : lagged_terms()) {
    for (const auto& l : r.lagged) {
      if (std::pair{l.from, l.to} == from_to) fit.terms.push_back({term, l.estimate, l.std_error});
    }
  }
  fit.warnings = r.warnings;
  if (r.converged) fit.fit_measures = PanelFitMeasures{r.chisq, r.chisq_df, r.chisq_p, r.CFI, r.TLI, r.RMSEA, r.SRMR};
  if (!r.converged) fit.message = "the optimizer did not converge";
  return fit;
}

// Chains whose largest R-hat exceeds this have not mixed: the study's dsem is left out of stage 2
// (Gelman & Rubin's 1.1; R-hat above 1.01, the contract's warning, only warns).
constexpr double kDsemUnmixedRhat = 1.1;
// How `spiral dsem`'s warning of R-hat above 1.01 begins (dsem.cpp), and the stage-1 one too.
constexpr const char* kDsemRhatWarning = "R-hat above 1.01";

// The record of the lagged effect from -> to in `list` with that moderator ("" for none).
const DsemSummary* find_lagged(const std::vector<DsemSummary>& list, const std::pair<std::string, std::string>& from_to,
                               const std::string& moderator) {
  for (const auto& s : list)
    if (s.from && s.moderator == moderator && std::pair{*s.from, s.to} == from_to) return &s;
  return nullptr;
}

// The DSEM of P and O (specification section 9): the average lagged effects (process_to_outcome,
// outcome_to_process, process_ar, outcome_ar), their SDs across patients (sd_process_to_outcome,
// ...) and each moderator's effect on each random lagged effect (process_to_outcome:baseline, ...),
// each with its posterior mean as the estimate and its posterior SD as the standard error.
ModelFit fit_dsem_model(const IpdSpec& spec, const Table& data) {
  ModelFit fit;
  fit.model = dsem_model_name();
  const DsemResult r = fit_dsem(data, dsem_options(spec));
  fit.n_patients = r.n_patients;
  fit.n_obs = static_cast<long>(data.rows());
  fit.n_dropped = r.n_dropped;
  std::vector<std::pair<std::string, const DsemSummary*>> records;
  const auto add = [&](const std::vector<DsemSummary>& list, const std::string& prefix, const std::string& moderator) {
    for (const auto& [from_to, term] : lagged_terms())
      if (const DsemSummary* s = find_lagged(list, from_to, moderator))
        records.emplace_back(moderator.empty() ? prefix + term : prefix + term + std::string(":") + moderator, s);
  };
  add(r.fixed, "", "");
  add(r.random_sd, "sd_", "");
  std::vector<std::string> moderators;  // the terms in order of appearance
  for (const auto& m : r.moderators)
    if (std::find(moderators.begin(), moderators.end(), m.moderator) == moderators.end()) moderators.push_back(m.moderator);
  for (const auto& name : moderators) add(r.moderators, "", name);
  std::string unmixed;
  double max_rhat = 0;
  for (const auto& [term, s] : records) {
    fit.terms.push_back({term, s->mean, s->sd});
    if (s->rhat > 1.01) unmixed.append(unmixed.empty() ? "" : ", ").append(term);
    max_rhat = std::max(max_rhat, s->rhat);
  }
  // The sampler's warnings, its R-hat one in the stage-1 terms' names and the spec's words.
  for (const auto& w : r.warnings)
    if (w.rfind(kDsemRhatWarning, 0) != 0) fit.warnings.push_back(w);
  if (!unmixed.empty())
    fit.warnings.push_back(std::string(kDsemRhatWarning).append(" (the chains have not mixed; raise [dsem] iter): ").append(unmixed));
  fit.converged = max_rhat <= kDsemUnmixedRhat;
  if (!fit.converged)
    fit.message = fmt::format("the chains have not mixed (largest R-hat of its terms {:.3f} > 1.1; raise [dsem] iter)", max_rhat);
  return fit;
}

ModelFit fit_model(const IpdSpec& spec, const ModelSpec& model, const Table& data, const Table* patients) {
  try {
    switch (model.kind) {
      case ModelSpec::Kind::Lmm: return fit_lmm_model(spec, model, data);
      case ModelSpec::Kind::Post: return fit_post_model(spec, data, *patients);
      case ModelSpec::Kind::Panel: return fit_panel_model(spec, data);
      case ModelSpec::Kind::Dsem: return fit_dsem_model(spec, data);
    }
  } catch (const InputError& e) {  // data of this study the model cannot use (e.g. no complete rows)
    return ModelFit{model.name, false, false, e.what(), 0, 0, 0, {}, {}, {}};
  } catch (const AnalysisError& e) {
    return ModelFit{model.name, false, false, e.what(), 0, 0, 0, {}, {}, {}};
  }
  return {};
}

std::vector<ModeratorValue> moderator_values(const IpdSpec& spec, const Table& data, const Table* patients) {
  std::vector<ModeratorValue> out;
  for (const auto& name : spec.moderators) {
    const Table& t = data.has(name) ? data : *patients;
    const Column& c = t.column(name);
    ModeratorValue v;
    v.name = name;
    v.numeric = c.is_numeric();
    if (t.rows() > 0 && v.numeric) v.number = c.numbers[0];
    if (t.rows() > 0 && !v.numeric) v.level = c.text(0);
    out.push_back(v);
  }
  return out;
}

// Stage 1 of one study from its prepared rows (and its rows of the [post] file).
Bundle stage1_of_study(const IpdSpec& spec, const std::string& study, const Table& data, const Table* patients) {
  Bundle b;
  b.spec_hash = spec.hash();
  b.spiral_version = spiral_version();
  b.study = study;
  b.counts.n_patients = static_cast<long>(row_ids(data, spec.patient).text.size());
  b.counts.n_sessions = static_cast<long>(data.rows());
  b.counts.missing_process = count_missing(data.column(spec.process));
  b.counts.missing_outcome = count_missing(data.column(spec.outcome));
  for (const auto& model : stage1_models(spec)) b.models.push_back(fit_model(spec, model, data, patients));
  for (const auto& m : b.models)  // a stage-1 dsem that has not mixed is said in the run's warnings
    if (m.model == dsem_model_name())
      for (const auto& w : m.warnings)
        if (w.rfind(kDsemRhatWarning, 0) == 0) b.warnings.push_back(std::string("model 'dsem': ").append(w));
  b.counts.n_obs = b.models.front().n_obs;
  b.counts.n_dropped = b.counts.n_sessions - b.counts.n_obs;
  b.moderators = moderator_values(spec, data, patients);
  return b;
}

// [dsem] between: columns of the sessions file, each constant within every patient of a study
// (InputError naming the first row where it is not), checked before any study is fitted.
void check_dsem_moderators(const IpdSpec& spec, const Table& sessions) {
  if (!spec.dsem || spec.dsem_settings.between.empty()) return;
  const RowIds studies = row_ids(sessions, spec.study), patients = row_ids(sessions, spec.patient);
  for (const auto& name : spec.dsem_settings.between) {
    if (!sessions.has(name))
      throw InputError(sessions.source() + ": [dsem] between: no column '" + name + "' in the sessions file");
    const Column& c = sessions.column(name);
    std::map<std::pair<int, int>, std::size_t> first;  // (study, patient) -> its first row with a value
    for (std::size_t i = 0; i < sessions.rows(); ++i) {
      if (c.missing(i)) continue;
      const auto [it, added] = first.try_emplace({studies.code[i], patients.code[i]}, i);
      if (added || c.text(i) == c.text(it->second)) continue;
      const long line = sessions.line_of(i);
      const std::string where = line > 0 ? std::string(":").append(std::to_string(line)) : std::string(" row ").append(std::to_string(i + 1));
      throw InputError(sessions.source() + where + ": [dsem] between column '" +
                       name + "' varies within patient '" + patients.text[static_cast<std::size_t>(patients.code[i])] +
                       "' ('" + c.text(it->second) + "', then '" + c.text(i) + "'); it must be constant within a patient");
    }
  }
}

Table study_patients(const IpdSpec& spec, const Table* patients, const std::string& study) {
  return patients ? study_rows(*patients, spec.study, study) : Table();
}

}  // namespace

Bundle run_stage1(const IpdSpec& spec, const Table& sessions, const Table* patients, const std::string& study) {
  validate_data(spec, sessions, patients);
  check_dsem_moderators(spec, sessions);
  const auto ids = study_ids(spec, sessions);
  if (!std::count(ids.begin(), ids.end(), study))
    throw InputError(sessions.source() + ": study '" + study + "' does not exist in column '" + spec.study + "'");
  const Table prepared = prepare_validated(spec, study_rows(sessions, spec.study, study));
  const Table post = study_patients(spec, patients, study);
  return stage1_of_study(spec, study, prepared, patients ? &post : nullptr);
}

Bundle run_stage1_federated(const IpdSpec& spec, const Table& sessions, const Table* patients,
                            const std::string& study) {
  Bundle b = run_stage1(spec, sessions, patients, study);
  if (b.counts.n_patients < spec.min_patients)
    throw InputError("study '" + study + "' has " + std::to_string(b.counts.n_patients) +
                     " patients, fewer than [privacy] min_patients = " + std::to_string(spec.min_patients) +
                     "; no bundle is written");
  return b;
}

IpdResult run_ipd(const IpdSpec& spec, const Table& sessions, const Table* patients, int threads) {
  validate_data(spec, sessions, patients);
  check_dsem_moderators(spec, sessions);
  const Table prepared = prepare_validated(spec, sessions);
  const std::vector<std::string> ids = study_ids(spec, sessions);
  const unsigned workers = threads > 0 ? unsigned(threads) : 0u;
  const std::vector<Table> study_tables = rows_per_study(prepared, spec.study, ids, workers);
  const std::vector<Table> post_tables =
      patients ? rows_per_study(*patients, spec.study, ids, workers) : std::vector<Table>(ids.size());
  std::vector<Bundle> bundles(ids.size());
  // The first failing study in analysis order is the error.
  detail::parallel_for(ids.size(), workers, [&](std::size_t i) {
    bundles[i] = stage1_of_study(spec, ids[i], study_tables[i], patients ? &post_tables[i] : nullptr);
  });
  return run_stage2(spec, std::move(bundles));
}

}  // namespace spiral
