#include <memory>

#include "cli.hpp"
#include "spiral/simulate.hpp"

namespace spiral::cli {

namespace {

void register_simulate_command(CLI::App& app) {
  struct Options {
    SimulateOptions simulate;
    SimulateFiles files;
    OutputOptions output;  // the summary printed on stdout (--out names the sessions file)
  };
  auto options = std::make_shared<Options>();
  SimulateOptions& s = options->simulate;
  CLI::App* command = app.add_subcommand(
      "simulate", "Simulate multi-study session-by-session data (bivariate VAR(1), random intercepts) with known truth");
  command->add_option("--studies", s.studies, "Number of studies")->capture_default_str();
  command->add_option("--patients", s.patients, "Patients over all studies (unequal study sizes)")->capture_default_str();
  command->add_option("--sessions", s.sessions, "Sessions per patient (at least 3)")->capture_default_str();
  command->add_option("--seed", s.seed, "Random seed (same seed and options -> same bytes)")->capture_default_str();
  command->add_option("--process-to-outcome", s.process_to_outcome, "Cross-lagged effect P[t-1] -> O[t]")
      ->capture_default_str();
  command->add_option("--outcome-to-process", s.outcome_to_process, "Cross-lagged effect O[t-1] -> P[t]")
      ->capture_default_str();
  command->add_option("--process-ar", s.process_ar, "Autoregressive effect of the process")->capture_default_str();
  command->add_option("--outcome-ar", s.outcome_ar, "Autoregressive effect of the outcome")->capture_default_str();
  command->add_option("--missing", s.missing, "Share of attended sessions missed (MAR), in [0, 1)")
      ->capture_default_str();
  command->add_option("--dropout", s.dropout, "Per-session dropout hazard, in [0, 1)")->capture_default_str();
  command->add_option("--slope-sd", s.slope_sd, "SD of patients' random cross-lagged slopes")->capture_default_str();
  command->add_option("--study-sd", s.study_sd, "Between-study SD of the cross-lagged effects")->capture_default_str();
  command->add_option("--therapists-per-study", s.therapists_per_study, "Therapists per study")->capture_default_str();
  command->add_option("--out", options->files.sessions, "Sessions file (long CSV)")->required();
  command->add_option("--patients-out", options->files.patients, "Per-patient file (pre/post symptoms)");
  command->add_option("--truth", options->files.truth, "Generating values per model x term (JSON)");
  command->add_option("--spec-out", options->files.spec, "Matching analysis spec with a [simulate] table");
  command->add_option("--format", options->output.format, "Format of the summary on stdout")
      ->check(CLI::IsMember({"text", "json"}));
  command->callback([options] {
    const SimulatedData data = simulate(options->simulate);
    write_simulation(options->simulate, data, options->files);
    emit(options->output,
         {simulation_summary_text(data, options->files), simulation_summary_json(data, options->files), ""}, {});
  });
}

}  // namespace

void register_simulate(CLI::App& app) { register_simulate_command(app); }

}  // namespace spiral::cli
