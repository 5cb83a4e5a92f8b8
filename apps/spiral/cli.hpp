// The CLI face: each command registers a CLI11 subcommand whose callback calls the
// library and hands the result to emit(). No statistics here.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "spiral/error.hpp"
#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral::cli {

// --format and --out, shared by every command that prints a result.
struct OutputOptions {
  std::string format = "text";
  std::string out;
};
void add_output_options(CLI::App& command, OutputOptions& output, bool csv = true);

// --data and the reader options of specification section 2.
struct DataOptions {
  std::string source;
  std::string sep;
  std::vector<std::string> na;
  bool labels = false;
  ReadOptions read_options() const;
};
void add_data_options(CLI::App& command, DataOptions& data, bool required = true);
// `columns`: only these are kept (ReadOptions::columns; empty = all).
Table read_data(const DataOptions& data, const std::vector<std::string>& columns = {});

// Checks of option values as typed, before CLI11 converts them (which would wrap a negative
// seed around to 2^64 - 5): a whole number >= 0 (--threads), and a seed in 0 .. 2^63 - 1.
CLI::Validator non_negative_integer();
CLI::Validator seed_value();
// An output path: not empty (`--out ""` fell back to stdout without a word).
CLI::Validator output_path();

// An output file a command writes: its option and path (empty: not asked for).
struct OutputFile {
  std::string option, path;
};
// Before anything is read or computed: each output's directory exists and the path is not a
// directory, no two outputs name one file, and none is one of `inputs` (specification section 1:
// never a partial output file, never a modified input).
void check_output_files(const std::vector<OutputFile>& outputs, const std::vector<std::string>& inputs);

// The result of a command in each format; emit() prints warnings to stderr and
// writes the chosen format to stdout or, atomically, to --out.
struct Rendered {
  std::string text;
  Json json;
  std::string csv;  // empty when the command has no CSV form
};
void emit(const OutputOptions& output, const Rendered& result, const Warnings& warnings);

// Registration of the commands (one file each in apps/spiral/).
void register_describe(CLI::App& app);
void register_lmm(CLI::App& app);
void register_meta(CLI::App& app);
void register_panel(CLI::App& app);
void register_dsem(CLI::App& app);
void register_ipd(CLI::App& app);
void register_simulate(CLI::App& app);

}  // namespace spiral::cli
