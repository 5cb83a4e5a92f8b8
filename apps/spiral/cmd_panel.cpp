#include <memory>

#include "cli.hpp"
#include "spiral/panel.hpp"

namespace spiral::cli {

void register_panel(CLI::App& app) {
  struct Options {
    DataOptions data;
    OutputOptions output;
    PanelOptions panel;
    long first = 0, last = 0;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("panel", "Random-intercept cross-lagged panel model (RI-CLPM) by FIML");
  add_data_options(*command, options->data);
  command->add_option("--id", options->panel.id, "Patient column")->required();
  command->add_option("--time", options->panel.time, "Session column (integer waves)")->required();
  command->add_option("--vars", options->panel.vars, "Variables, comma-separated (at least 2)")
      ->required()
      ->delimiter(',');
  command->add_option("--model", options->panel.model, "riclpm (default) or clpm")
      ->check(CLI::IsMember({"riclpm", "clpm"}));
  CLI::Option* first = command->add_option("--first", options->first, "First session used as a wave");
  CLI::Option* last = command->add_option("--last", options->last, "Last session used as a wave");
  command->add_option("--level", options->panel.level, "Confidence level in percent (default 95)");
  command->add_option("--lagged", options->panel.lagged, "equal (default): lagged effects equal over waves; free: one per wave pair")
      ->check(CLI::IsMember({"equal", "free"}));
  command->add_option("--compare", options->panel.compare,
                      "A saved JSON fit of the same data (--format json): likelihood-ratio test against it");
  command->add_option("--se", options->panel.se, "standard (default: observed information) or robust (lavaan's MLR)")
      ->check(CLI::IsMember({"standard", "robust"}));
  command->add_flag("--standardized", options->panel.standardized,
                    "lavaan's std.all (standardizedSolution) of every parameter, with delta-method SEs");
  add_output_options(*command, options->output, false);
  command->callback([options, first, last] {
    check_output_files({{"--out", options->output.out}},
                       {source_file(options->data.source), options->panel.compare});
    if (*first) options->panel.first = options->first;
    if (*last) options->panel.last = options->last;
    const PanelResult result = fit_panel(read_data(options->data), options->panel);
    emit(options->output, {to_text(result), to_json(result), ""}, result.warnings);
  });
}

}  // namespace spiral::cli
