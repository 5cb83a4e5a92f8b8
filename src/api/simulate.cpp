// `spiral simulate` and `spiral power` (specification section 6), each option declared once
// for every face; simulate's files are written only when named (the language faces return
// the data instead).
#include <iterator>
#include <optional>

#include "api/api_internal.hpp"
#include "spiral/power.hpp"
#include "spiral/simulate.hpp"

namespace spiral::api::detail {

namespace {

struct SimulateCall {
  SimulateOptions simulate;
  SimulateFiles files;
};

std::vector<Option<SimulateCall>> simulate_options() {
  using S = SimulateOptions;
  using F = SimulateFiles;
  const auto s = &SimulateCall::simulate;
  const auto f = &SimulateCall::files;
  const S defaults;
  const auto whole = [&](const std::string& name, const std::string& help, int S::*field) {
    return option(integer(name, help).shows(default_text(static_cast<long long>(defaults.*field))), s, field);
  };
  const auto real = [&](const std::string& name, const std::string& help, double S::*field) {
    return option(number(name, help).shows(default_text(defaults.*field)), s, field);
  };
  return {whole("studies", "Number of studies", &S::studies),
          whole("patients", "Patients over all studies (unequal study sizes)", &S::patients),
          whole("sessions", "Sessions per patient (at least 3)", &S::sessions),
          option(seed("seed", "Random seed (same seed and options -> same bytes)")
                     .shows(default_text(static_cast<long long>(defaults.seed))),
                 s, &S::seed),
          real("process_to_outcome", "Cross-lagged effect P[t-1] -> O[t]", &S::process_to_outcome),
          real("outcome_to_process", "Cross-lagged effect O[t-1] -> P[t]", &S::outcome_to_process),
          real("process_ar", "Autoregressive effect of the process", &S::process_ar),
          real("outcome_ar", "Autoregressive effect of the outcome", &S::outcome_ar),
          real("missing", "Share of attended sessions missed (MAR), in [0, 1)", &S::missing),
          real("dropout", "Per-session dropout hazard, in [0, 1)", &S::dropout),
          real("slope_sd", "SD of patients' random cross-lagged slopes", &S::slope_sd),
          real("study_sd", "Between-study SD of the cross-lagged effects", &S::study_sd),
          whole("therapists_per_study", "Therapists per study", &S::therapists_per_study),
          // Required on the command line; R and Python get the data back instead.
          option(text("out", "Sessions file (long CSV)").needed().written(), f, &F::sessions),
          option(text("patients_out", "Per-patient file (pre/post symptoms)").written(), f, &F::patients),
          option(text("truth", "Generating values per model x term (JSON)").written(), f, &F::truth),
          option(text("spec_out", "Matching analysis spec with a [simulate] table").written(), f, &F::spec)};
}

// The truth as a table: model, term, value (NA where the generator fixes none).
Table truth_table(const std::vector<TruthEntry>& truth) {
  std::vector<std::string> model, term;
  std::vector<double> value;
  for (const auto& t : truth) {
    model.push_back(t.model);
    term.push_back(t.term);
    value.push_back(t.value.value_or(NA));
  }
  const std::vector<bool> present(model.size(), false);
  Table table("truth");
  table.add_factor_from_strings("model", model, present);
  table.add_factor_from_strings("term", term, present);
  table.add_numeric("value", std::move(value));
  return table;
}

}  // namespace

Declaration simulate_declaration() { return declaration("simulate", simulate_options); }

Result run_simulate(const Json& options, const Table* data) {
  if (data) throw InputError("simulate: takes no data");
  const SimulateCall call = parse_options("simulate", options, simulate_options());
  if (call.files.sessions.empty() && !(call.files.patients.empty() && call.files.truth.empty() && call.files.spec.empty()))
    throw InputError("--out: required when other files are written (the spec names it)");
  SimulatedData simulated = simulate(call.simulate);
  if (!call.files.sessions.empty()) write_simulation(call.simulate, simulated, call.files);
  Result out{simulation_summary_json(simulated, call.files), simulation_summary_text(simulated, call.files), {}, {}, {}, {}};
  // The tables as the files hold them (values to 4 decimals), so that an analysis of the
  // data frame equals one of the files.
  out.tables.emplace_back("sessions", read_delimited_text(sessions_csv(simulated), "sessions.csv", {}));
  out.tables.emplace_back("patients", read_delimited_text(patients_csv(simulated), "patients.csv", {}));
  out.tables.emplace_back("truth", truth_table(simulated.truth));
  return out;
}

}  // namespace spiral::api::detail

namespace spiral::api::detail {

namespace {

// `spiral power`: the spec's [simulate] table re-simulated `replications` times.
std::vector<Option<PowerOptions>> power_options() {
  using P = PowerOptions;
  const P defaults;
  const auto shown = [](int value) { return default_text(static_cast<long long>(value)); };
  return {option(text("spec", "Analysis spec with a [simulate] table (spiral simulate --spec-out)").needed().read_file(),
                 &P::spec),
          option(integer("replications", "Number of simulated data sets").shows(shown(defaults.replications)),
                 &P::replications),
          option(count("threads", "Worker threads (0 = all cores)").shows(shown(defaults.threads)), &P::threads),
          option(seed("seed", "Master seed (default: the spec's [simulate] seed)"), &P::seed)};
}

// The replications of a run: all of them in one process; in a distributed run, every
// process's share on the first process and nothing (nullopt) on the others.
std::optional<std::vector<ReplicationResult>> replications(const PowerPlan& plan, const PowerOptions& options,
                                                          const Face& face) {
  if (!face.distribute) return run_replications(plan, 0, 1, options.threads, options.progress);
  const std::vector<Json> shares = face.distribute([&](long first, long stride) {
    return to_json(run_replications(plan, first, stride, options.threads, options.progress));
  });
  if (shares.empty()) return std::nullopt;
  std::vector<ReplicationResult> all;
  for (const auto& share : shares) {
    auto part = replications_from_json(share);
    all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return all;
}

}  // namespace

Declaration power_declaration() { return declaration("power", power_options); }

Result run_power(const Json& options, const Table* data, const Face& face) {
  if (data) throw InputError("power: takes no data");
  PowerOptions power = parse_options("power", options, power_options());
  if (face.progress) power.progress = [progress = face.progress](int done, int total) { progress(done, total); };
  const PowerPlan plan = plan_power(power);
  std::optional<std::vector<ReplicationResult>> all = replications(plan, power, face);
  if (!all) return {};  // another process of the run has the result
  const PowerResult result = summarize_power(plan, std::move(*all));
  return {to_json(result), to_text(result), result.warnings, {}, {}, to_csv(result)};
}

}  // namespace spiral::api::detail
