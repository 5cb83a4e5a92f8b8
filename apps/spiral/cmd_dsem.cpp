#include <unistd.h>

#include <cstdio>
#include <memory>

#include "cli.hpp"
#include "spiral/dsem.hpp"

namespace spiral::cli {

namespace {

// A progress bar on stderr, redrawn when the percentage changes; only on a terminal.
std::function<void(long, long)> progress_bar() {
  if (!isatty(fileno(stderr))) return {};
  auto shown = std::make_shared<long>(-1);
  return [shown](long done, long total) {
    const long percent = total > 0 ? done * 100 / total : 100;
    if (percent == *shown) return;
    *shown = percent;
    const int width = 40;
    const int filled = static_cast<int>(percent * width / 100);
    std::fprintf(stderr, "\rsampling [%s%s] %3ld%%", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), percent);
    if (done >= total) std::fprintf(stderr, "\r%*s\r", width + 20, "");
    std::fflush(stderr);
  };
}

}  // namespace

void register_dsem(CLI::App& app) {
  struct Options {
    DataOptions data;
    OutputOptions output;
    DsemOptions dsem;
    long first = 0, last = 0;
    std::string draws;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "dsem", "Dynamic structural equation model: two-level VAR(1) with random lagged effects, by Gibbs sampling");
  add_data_options(*command, options->data);
  DsemOptions& o = options->dsem;
  command->add_option("--id", o.id, "Patient column")->required();
  command->add_option("--time", o.time, "Session column (integer occasions)")->required();
  command->add_option("--vars", o.vars, "Variables, comma-separated (2 to 4)")->required()->delimiter(',');
  command->add_option("--random", o.random, "Lagged effects that vary across patients: all (default), lagged (cross-lags), ar, none")
      ->check(CLI::IsMember({"lagged", "ar", "all", "none"}));
  command->add_option("--between", o.between, "Patient-level moderators, comma-separated")->delimiter(',');
  command->add_option("--cluster", o.cluster, "Third level (e.g. therapist): a random effect on the means");
  command->add_option("--chains", o.chains, "Chains (default 4)")->check(CLI::Range(1, 64));
  command->add_option("--iter", o.iter, "Iterations per chain, warmup included (default 4000)")->check(CLI::Range(1, 100000000));
  command->add_option("--warmup", o.warmup, "Warmup iterations per chain (default 2000)")->check(CLI::Range(0, 100000000));
  command->add_option("--thin", o.thin, "Keep every thin-th draw (default 1)")->check(CLI::Range(1, 1000000));
  command->add_option("--seed", o.seed, "Random seed (default 1)")->check(seed_value());
  command->add_option("--threads", o.threads, "Threads (default: one per core; results do not depend on it)")
      ->check(non_negative_integer());
  CLI::Option* first = command->add_option("--first", options->first, "First session of the window");
  CLI::Option* last = command->add_option("--last", options->last, "Last session of the window");
  command->add_option("--level", o.level, "Credible interval in percent (default 95)");
  command->add_flag("--standardized", o.standardized, "Add within-person standardized average lagged effects");
  command->add_option("--draws", options->draws, "Write the kept draws to FILE.csv")->check(output_path());
  add_output_options(*command, options->output, false);
  command->callback([options, first, last] {
    check_output_files({{"--out", options->output.out}, {"--draws", options->draws}}, {source_file(options->data.source)});
    if (*first) options->dsem.first = options->first;
    if (*last) options->dsem.last = options->last;
    options->dsem.progress = progress_bar();
    const DsemResult result = fit_dsem(read_data(options->data), options->dsem);
    if (!options->draws.empty()) write_file_atomic(options->draws, draws_csv(result));
    emit(options->output, {to_text(result), to_json(result), ""}, result.warnings);
  });
}

}  // namespace spiral::cli
