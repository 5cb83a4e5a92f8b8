// `spiral simulate` (specification section 6) with the options of apps/spiral/cmd_simulate.cpp;
// the files are written only when named (the language faces return the data instead).
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
  return {option("studies", s, &S::studies),
          option("patients", s, &S::patients),
          option("sessions", s, &S::sessions),
          option("seed", s, &S::seed),
          option("process_to_outcome", s, &S::process_to_outcome),
          option("outcome_to_process", s, &S::outcome_to_process),
          option("process_ar", s, &S::process_ar),
          option("outcome_ar", s, &S::outcome_ar),
          option("missing", s, &S::missing),
          option("dropout", s, &S::dropout),
          option("slope_sd", s, &S::slope_sd),
          option("study_sd", s, &S::study_sd),
          option("therapists_per_study", s, &S::therapists_per_study),
          option("out", f, &F::sessions),
          option("patients_out", f, &F::patients),
          option("truth", f, &F::truth),
          option("spec_out", f, &F::spec)};
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

Result run_simulate(const Json& options, const Table* data) {
  if (data) throw InputError("simulate: takes no data");
  const SimulateCall call = parse_options("simulate", options, simulate_options());
  if (call.files.sessions.empty() && !(call.files.patients.empty() && call.files.truth.empty() && call.files.spec.empty()))
    throw InputError("out: required when other files are written (the spec names it)");
  SimulatedData simulated = simulate(call.simulate);
  if (!call.files.sessions.empty()) write_simulation(call.simulate, simulated, call.files);
  Result out{simulation_summary_json(simulated, call.files), simulation_summary_text(simulated, call.files), {}, {}, {}};
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
struct PowerCall {
  PowerOptions power;
  std::uint64_t seed = 0;
};

std::vector<Option<PowerCall>> power_options() {
  return {option("spec", &PowerCall::power, &PowerOptions::spec),
          option("replications", &PowerCall::power, &PowerOptions::replications),
          option("threads", &PowerCall::power, &PowerOptions::threads),
          option("seed", &PowerCall::seed)};
}

}  // namespace

Result run_power(const Json& options, const Table* data) {
  if (data) throw InputError("power: takes no data");
  PowerCall call = parse_options("power", options, power_options());
  if (options.contains("seed")) call.power.seed = call.seed;
  const PowerResult result = spiral::run_power(call.power);
  return Result{to_json(result), to_text(result), result.warnings, {}, {}};
}

}  // namespace spiral::api::detail
