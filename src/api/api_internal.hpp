// The option tables of the api layer: one table per command maps each option name to a
// field of the command's call struct, converting the JSON value on the way.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "spiral/api.hpp"

namespace spiral::api::detail {

// One JSON value into an option's type; InputError "NAME: expected ..." otherwise.
void read(const Json& value, const std::string& name, std::string& out);
void read(const Json& value, const std::string& name, double& out);
void read(const Json& value, const std::string& name, bool& out);
void read(const Json& value, const std::string& name, long& out);
void read(const Json& value, const std::string& name, int& out);
void read(const Json& value, const std::string& name, std::uint64_t& out);
void read(const Json& value, const std::string& name, std::optional<long>& out);
// An array of strings, or one string split at commas (as the CLI splits `--vars a,b`).
void read(const Json& value, const std::string& name, std::vector<std::string>& out);

// A text option restricted to `choices` (CLI11's IsMember).
void check_choice(const std::string& name, const std::string& value, std::initializer_list<const char*> choices);

template <class Call>
struct Option {
  std::string name;
  std::function<void(Call&, const Json&)> set;
};

template <class Call, class T>
Option<Call> option(const std::string& name, T Call::*field) {
  return {name, [name, field](Call& call, const Json& value) { read(value, name, call.*field); }};
}

template <class Call, class Part, class T>
Option<Call> option(const std::string& name, Part Call::*part, T Part::*field) {
  return {name, [name, part, field](Call& call, const Json& value) { read(value, name, (call.*part).*field); }};
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
  table.push_back(option("data", &Call::data, &DataSource::source));
  table.push_back(option("sep", &Call::data, &DataSource::sep));
  table.push_back(option("na", &Call::data, &DataSource::na));
  table.push_back(option("labels", &Call::data, &DataSource::labels));
}

// InputError "COMMAND: unknown option(s) 'a', 'b'" for keys that are not in `names`.
void check_names(const std::string& command, const Json& options, const std::vector<std::string>& names);

// Applies `options` to a default-constructed call, in the table's order; null values are
// left at their defaults.
template <class Call>
Call parse_options(const std::string& command, const Json& options, const std::vector<Option<Call>>& table) {
  if (!options.is_null() && !options.is_object()) throw InputError(command + ": options must be a JSON object");
  std::vector<std::string> names;
  for (const auto& o : table) names.push_back(o.name);
  check_names(command, options, names);
  Call call;
  for (const auto& o : table) {
    auto it = options.find(o.name);
    if (it != options.end() && !it->is_null()) o.set(call, *it);
  }
  return call;
}

// The data of a command: `data` when given, else the SOURCE read with the reader options
// into `storage`. InputError "data: required" when neither is there.
const Table& load_table(const DataSource& source, const Table* data, Table& storage);

// The commands (one file each).
Result run_lmm(const Json& options, const Table* data, const Table* newdata = nullptr);
Result run_meta(const Json& options, const Table* data);
Result run_panel(const Json& options, const Table* data);
Result run_describe(const Json& options, const Table* data);
Result run_prep(const Json& options, const Table* data);
Result run_ipd_run(const Json& options, const Table* data);
Result run_ipd_stage1(const Json& options, const Table* data);
Result run_ipd_stage2(const Json& options, const Table* data);
Result run_ipd_onestage(const Json& options, const Table* data);
Result run_simulate(const Json& options, const Table* data);
Result run_power(const Json& options, const Table* data);

}  // namespace spiral::api::detail
