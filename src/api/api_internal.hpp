// The option tables of the api layer: one table per command declares each option once
// (api::OptionSpec: what every face shows and checks) with the field of the command's call
// struct it sets, converting the JSON value on the way. Messages name options as the
// command line spells them (`--re-form`, as the engines do); run() respells them for the
// face that called.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "spiral/api.hpp"

namespace spiral::api::detail {

// One JSON value into an option's type; InputError "--NAME: expected ..." otherwise.
void read(const Json& value, const std::string& name, std::string& out);
void read(const Json& value, const std::string& name, double& out);
void read(const Json& value, const std::string& name, bool& out);
void read(const Json& value, const std::string& name, long& out);
void read(const Json& value, const std::string& name, int& out);
void read(const Json& value, const std::string& name, unsigned& out);
void read(const Json& value, const std::string& name, std::uint64_t& out);
void read(const Json& value, const std::string& name, std::optional<long>& out);
void read(const Json& value, const std::string& name, std::optional<std::uint64_t>& out);
// An array of strings, or one string split at commas (as the CLI splits `--vars a,b`).
void read(const Json& value, const std::string& name, std::vector<std::string>& out);

// An option's declaration, written as a chain: text("model", "...").one_of({"riclpm", "clpm"}).
struct Spec : OptionSpec {
  Spec one_of(std::vector<std::string> values) const;
  Spec within(double low, double high) const;
  Spec shows(std::string value) const;  // the default --help shows
  Spec needed() const;                  // required on the command line
  Spec read_file() const;               // a file or SOURCE the command reads
  Spec written() const;                 // a file the command writes
  Spec written_directory() const;       // a directory the command writes its files to
  Spec language_only() const;           // not on the command line
};
Spec flag(const std::string& name, const std::string& help);
Spec text(const std::string& name, const std::string& help);
Spec number(const std::string& name, const std::string& help);
Spec integer(const std::string& name, const std::string& help);
Spec count(const std::string& name, const std::string& help);
Spec seed(const std::string& name, const std::string& help);
Spec list(const std::string& name, const std::string& help);
Spec repeated(const std::string& name, const std::string& help);

// The default of a field as --help shows it.
std::string default_text(double value);
std::string default_text(long long value);

template <class Call>
struct Option {
  OptionSpec spec;
  std::function<void(Call&, const Json&)> set;
};

// An option setting call.*field (or (call.*part).*field) with read(). The value's own
// reader is found by argument-dependent lookup, so a command may read a type of its own.
template <class Call, class T>
Option<Call> option(const Spec& spec, T Call::*field) {
  const std::string shown = command_line_name(spec.name);
  return {spec, [shown, field](Call& call, const Json& value) { read(value, shown, call.*field); }};
}

template <class Call, class Part, class T>
Option<Call> option(const Spec& spec, Part Call::*part, T Part::*field) {
  const std::string shown = command_line_name(spec.name);
  return {spec, [shown, part, field](Call& call, const Json& value) { read(value, shown, (call.*part).*field); }};
}

// `--data SOURCE` and the reader options of specification section 2.
struct DataSource {
  std::string source;
  std::string sep;
  std::vector<std::string> na;
  bool labels = false;
};

template <class Call>
void add_data_options(std::vector<Option<Call>>& table) {
  table.push_back(option(text("data", "Data SOURCE: file.csv|.tsv|.sav|.dta|.sas7bdat or sqlite:FILE?table=T").needed().read_file(),
                         &Call::data, &DataSource::source));
  table.push_back(option(text("sep", "Field separator of a text file (default: detected)"), &Call::data, &DataSource::sep));
  table.push_back(option(repeated("na", "Extra missing-value token (repeatable)"), &Call::data, &DataSource::na));
  table.push_back(option(flag("labels", "Value labels of SPSS/Stata/SAS files become factor levels"), &Call::data,
                         &DataSource::labels));
}

template <class Call>
std::vector<OptionSpec> specs_of(const std::vector<Option<Call>>& table) {
  std::vector<OptionSpec> specs;
  for (const auto& o : table) specs.push_back(o.spec);
  return specs;
}

// The checks every option gets from its declaration: a known name, choices, range.
void check_names(const std::string& command, const Json& options, const std::vector<OptionSpec>& specs);
void check_value(const OptionSpec& spec, const Json& value);

// Applies `options` to a default-constructed call, in the table's order; null values are
// left at their defaults.
template <class Call>
Call parse_options(const std::string& command, const Json& options, const std::vector<Option<Call>>& table) {
  if (!options.is_null() && !options.is_object()) throw InputError(command + ": options must be a JSON object");
  check_names(command, options, specs_of(table));
  Call call;
  for (const auto& o : table) {
    auto it = options.find(o.spec.name);
    if (it == options.end() || it->is_null()) continue;
    o.set(call, *it);
    check_value(o.spec, *it);
  }
  return call;
}

// An output file a command writes: its option (as the CLI spells it) and path (empty: not
// asked for).
struct OutputFile {
  std::string option, path;
};
// Before anything is read or computed: each output's directory exists and the path is not a
// directory, no two outputs name one file, and none is one of `inputs` (specification section 1:
// never a partial output file, never a modified input).
void check_output_files(const std::vector<OutputFile>& outputs, const std::vector<std::string>& inputs);
// The same for the files `options` names by its declarations (reads, writes), with the
// face's result file as `--out`.
void check_declared_files(const std::vector<OptionSpec>& specs, const Json& options, const std::string& result_file);

// The data of a command: `data` when given, else the SOURCE read with the reader options
// (only `columns` when not empty) into `storage`. InputError "--data: required" when
// neither is there.
const Table& load_table(const DataSource& source, const Table* data, Table& storage,
                        const std::vector<std::string>& columns = {});

// A command's table for the faces, and its parsing alone (tests/api: each option's kind is
// the type its field reads).
struct Declaration {
  std::vector<OptionSpec> specs;
  std::function<void(const Json& options)> parse;
};

template <class Call>
Declaration declaration(const std::string& command, std::vector<Option<Call>> (*table)()) {
  return {specs_of(table()), [command, table](const Json& options) { parse_options(command, options, table()); }};
}

// Parses `options` of `command` as run() would, and runs nothing.
void parse_only(const std::string& command, const Json& options);

// The commands (one file each, or a few to a file): their declarations and their runs.
Declaration lmm_declaration();
Declaration meta_declaration();
Declaration panel_declaration();
Declaration describe_declaration();
Declaration dsem_declaration();
Declaration prep_declaration();
Declaration ipd_run_declaration();
Declaration ipd_stage1_declaration();
Declaration ipd_stage2_declaration();
Declaration ipd_onestage_declaration();
Declaration simulate_declaration();
Declaration power_declaration();

Result run_lmm(const Json& options, const Table* data, const Table* newdata);
Result run_meta(const Json& options, const Table* data);
Result run_panel(const Json& options, const Table* data);
Result run_describe(const Json& options, const Table* data);
Result run_dsem(const Json& options, const Table* data, const Face& face);
Result run_prep(const Json& options, const Table* data);
Result run_ipd_run(const Json& options, const Table* data);
Result run_ipd_stage1(const Json& options, const Table* data);
Result run_ipd_stage2(const Json& options, const Table* data);
Result run_ipd_onestage(const Json& options, const Table* data);
Result run_simulate(const Json& options, const Table* data);
Result run_power(const Json& options, const Table* data, const Face& face);

}  // namespace spiral::api::detail
