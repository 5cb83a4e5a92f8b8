#include <memory>

#include "cli.hpp"
#include "spiral/describe.hpp"

namespace spiral::cli {

void register_describe(CLI::App& app) {
  struct Options {
    DataOptions data;
    OutputOptions output;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("describe", "Columns of a data source: type, n, missing, range or levels");
  add_data_options(*command, options->data);
  add_output_options(*command, options->output);
  command->callback([options] {
    check_output_files({{"--out", options->output.out}}, {source_file(options->data.source)});
    const Description d = describe(read_data(options->data));
    emit(options->output, {to_text(d), to_json(d), to_csv(d)}, {});
  });
}

}  // namespace spiral::cli
