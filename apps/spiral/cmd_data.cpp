// The commands that analyse one data SOURCE: describe, lmm, meta, panel, dsem.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>

#include "cli.hpp"

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

// `spiral NAME` runs api command NAME and prints its result in one of `formats`.
void register_data_command(CLI::App& app, const std::string& name, const std::string& about,
                           const std::vector<std::string>& formats, bool progress = false) {
  CLI::App* command = app.add_subcommand(name, about);
  auto options = std::make_shared<ApiOptions>(*command, name);
  auto output = std::make_shared<OutputOptions>();
  add_output_options(*command, *options, *output, formats);
  command->callback([options, output, progress] {
    api::Face face;
    if (progress) face.progress = progress_bar();
    emit(*output, run(*options, *output, face));
  });
}

}  // namespace

void register_data_commands(CLI::App& app) {
  register_data_command(app, "describe", "Columns of a data source: type, n, missing, range or levels", {"text", "json", "csv"});
  register_data_command(app, "lmm", "Linear mixed model (lme4/lmerTest parity)", {"text", "json"});
  register_data_command(app, "meta", "Random-effects meta-analysis and meta-regression (metafor rma.uni)",
                        {"text", "json", "csv"});
  register_data_command(app, "panel", "Random-intercept cross-lagged panel model (RI-CLPM) by FIML", {"text", "json"});
  register_data_command(
      app, "dsem", "Dynamic structural equation model: two-level VAR(1) with random lagged effects, by Gibbs sampling",
      {"text", "json"}, true);
}

}  // namespace spiral::cli
