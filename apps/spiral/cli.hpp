// The CLI face: each command is a CLI11 subcommand whose options are built from the api's
// table of that command (spiral/api.hpp); its callback calls api::run, the entry point R and
// Python call too, and hands the result to emit(). No statistics here; the CLI's own
// concerns are --format, the result's --out, printing, exit codes and MPI.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "spiral/api.hpp"
#include "spiral/error.hpp"
#include "spiral/report.hpp"

namespace spiral::cli {

// Checks of option values as typed, before CLI11 converts them (which would wrap a negative
// seed around to 2^64 - 5): a whole number >= 0 (--threads), and a seed in 0 .. 2^63 - 1.
CLI::Validator non_negative_integer();
CLI::Validator seed_value();
// An output path: not empty (`--out ""` fell back to stdout without a word).
CLI::Validator output_path();

// The options of one api command on a subcommand, `--name-with-dashes` for each entry of
// api::options(command), with the entry's type, help, choices, range, default and required.
class ApiOptions {
 public:
  ApiOptions(CLI::App& subcommand, std::string command);
  const std::string& command() const { return command_; }
  // The options given on the command line, keyed by their api names.
  Json json() const;
  // The value of a text option as given ("" when not given).
  std::string text(const std::string& name) const;

  // Where CLI11 stores one option's value, in the C++ type of its kind.
  struct Value {
    const api::OptionSpec* spec = nullptr;
    CLI::Option* option = nullptr;
    bool flag = false;
    std::string text;
    double number = 0;
    long integer = 0;
    int count = 0;
    std::uint64_t seed = 0;
    std::vector<std::string> values;
  };

 private:
  std::string command_;
  std::deque<Value> values_;  // CLI11 holds references into these
};

// --format and the result's --out.
struct OutputOptions {
  std::string format = "text";
  std::string out;
};
// --format with these choices (help: `help`), and --out unless the api command writes its
// own `out`.
void add_output_options(CLI::App& subcommand, const ApiOptions& options, OutputOptions& output,
                        const std::vector<std::string>& formats, const std::string& help = "Output format");

// api::run of the options given, with the command line's spelling and --out.
api::Result run(const ApiOptions& options, const OutputOptions& output, api::Face face = {});

// Prints the warnings to stderr and the chosen format of `result` to stdout or, atomically,
// to --out.
void emit(const OutputOptions& output, const api::Result& result);
void print_warnings(const Warnings& warnings);

// Registration of the commands.
void register_data_commands(CLI::App& app);  // describe, lmm, meta, panel, dsem
void register_ipd(CLI::App& app);            // ipd run|stage1|stage2|onestage, prep
void register_simulate(CLI::App& app);       // simulate, power

}  // namespace spiral::cli
