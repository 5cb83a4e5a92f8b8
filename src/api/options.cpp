#include <algorithm>
#include <cmath>
#include <map>

#include "api/api_internal.hpp"

namespace spiral::api {
namespace detail {

namespace {

[[noreturn]] void expected(const std::string& name, const std::string& what, const Json& value) {
  std::string shown = json_dump(value, -1);
  shown.pop_back();  // json_dump's final newline
  throw InputError(name + ": expected " + what + ", got " + shown);
}

double integral(const Json& value, const std::string& name) {
  if (!value.is_number() || value.get<double>() != std::floor(value.get<double>())) expected(name, "an integer", value);
  return value.get<double>();
}

}  // namespace

void read(const Json& value, const std::string& name, std::string& out) {
  if (!value.is_string()) expected(name, "a string", value);
  out = value.get<std::string>();
}

void read(const Json& value, const std::string& name, double& out) {
  if (!value.is_number()) expected(name, "a number", value);
  out = value.get<double>();
}

void read(const Json& value, const std::string& name, bool& out) {
  if (!value.is_boolean()) expected(name, "TRUE/FALSE", value);
  out = value.get<bool>();
}

void read(const Json& value, const std::string& name, long& out) { out = static_cast<long>(integral(value, name)); }

void read(const Json& value, const std::string& name, int& out) { out = static_cast<int>(integral(value, name)); }

void read(const Json& value, const std::string& name, std::uint64_t& out) {
  const double x = integral(value, name);
  if (x < 0) expected(name, "a non-negative integer", value);
  out = static_cast<std::uint64_t>(x);
}

void read(const Json& value, const std::string& name, std::optional<long>& out) {
  long x = 0;
  read(value, name, x);
  out = x;
}

void read(const Json& value, const std::string& name, std::vector<std::string>& out) {
  out.clear();
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    for (std::size_t start = 0; start <= text.size();) {
      const std::size_t comma = std::min(text.find(',', start), text.size());
      out.push_back(text.substr(start, comma - start));
      start = comma + 1;
    }
    return;
  }
  if (!value.is_array()) expected(name, "a list of strings", value);
  for (const auto& item : value) {
    if (!item.is_string()) expected(name, "a list of strings", value);
    out.push_back(item.get<std::string>());
  }
}

void check_choice(const std::string& name, const std::string& value, std::initializer_list<const char*> choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  std::string list;
  for (const char* c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
  throw InputError(name + ": '" + value + "' is not one of " + list);
}

void check_names(const std::string& command, const Json& options, const std::vector<std::string>& names) {
  if (!options.is_object()) return;
  std::string unknown;
  int count = 0;
  for (const auto& item : options.items()) {
    if (std::find(names.begin(), names.end(), item.key()) != names.end()) continue;
    unknown += (count++ ? ", '" : "'") + item.key() + "'";
  }
  if (count) throw InputError(command + ": unknown option" + (count > 1 ? "s " : " ") + unknown);
}

const Table& load_table(const DataSource& source, const Table* data, Table& storage) {
  if (data) return *data;
  if (source.source.empty()) throw InputError("data: required (a data frame or a SOURCE string)");
  ReadOptions options;
  if (!source.sep.empty()) {
    if (source.sep == "\\t" || source.sep == "tab") options.separator = '\t';
    else if (source.sep.size() == 1) options.separator = source.sep[0];
    else throw InputError("sep: expected one character, got '" + source.sep + "'");
  }
  options.na_tokens = source.na;
  options.value_labels = source.labels;
  storage = read_table(source.source, options);
  return storage;
}

}  // namespace detail

namespace {

using Runner = Result (*)(const Json&, const Table*);

Result run_lmm(const Json& options, const Table* data) { return detail::run_lmm(options, data); }

const std::map<std::string, Runner>& runners() {
  static const std::map<std::string, Runner> table{
      {"lmm", run_lmm},
      {"meta", detail::run_meta},
      {"panel", detail::run_panel},
      {"describe", detail::run_describe},
      {"prep", detail::run_prep},
      {"ipd_run", detail::run_ipd_run},
      {"ipd_stage1", detail::run_ipd_stage1},
      {"ipd_stage2", detail::run_ipd_stage2},
      {"ipd_onestage", detail::run_ipd_onestage},
      {"simulate", detail::run_simulate},
      {"power", detail::run_power},
  };
  return table;
}

}  // namespace

std::vector<std::string> commands() {
  std::vector<std::string> names;
  for (const auto& [name, runner] : runners()) names.push_back(name);
  return names;
}

Result run(const std::string& command, const Json& options, const Table* data, const Table* newdata) {
  const auto it = runners().find(command);
  if (it == runners().end()) throw InputError("unknown command '" + command + "'");
  if (newdata == nullptr) return it->second(options, data);
  if (command != "lmm") throw InputError("newdata: only lmm predicts from new data");
  return detail::run_lmm(options, data, newdata);
}

}  // namespace spiral::api
