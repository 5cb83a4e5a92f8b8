// SPSS (.sav/.zsav/.por), Stata (.dta) and SAS (.sas7bdat) through ReadStat.
// User-defined missing values are missing; with ReadOptions::value_labels, numeric
// variables that carry value labels become factors whose levels are the labels.
#include <cmath>
#include <filesystem>
#include <map>

#include <readstat.h>

#include "data_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/table.hpp"

namespace spiral {
namespace {

struct VariableData {
  std::string name;
  bool is_string = false;
  std::string label_set;
  std::vector<double> numbers;
  std::vector<std::string> strings;
  std::vector<bool> missing;
};

struct ParseState {
  std::vector<VariableData> variables;
  std::map<std::string, std::map<double, std::string>> numeric_labels;  // label set -> value -> label
  std::string error;
};

// ReadStat hands out C strings that a damaged file can leave null; the handlers stop the
// parse with a reason instead (no exception may cross ReadStat's C frames).
int abort_parse(ParseState* state, std::string reason) {
  state->error = std::move(reason);
  return READSTAT_HANDLER_ABORT;
}

int on_variable(int index, readstat_variable_t* variable, const char* label_set, void* ctx) {
  auto* state = static_cast<ParseState*>(ctx);
  const char* name = readstat_variable_get_name(variable);
  if (name == nullptr || *name == '\0') return abort_parse(state, "variable " + std::to_string(index + 1) + " has no name");
  if (static_cast<std::size_t>(index) != state->variables.size()) return abort_parse(state, "variables out of order");
  VariableData v;
  v.name = name;
  v.is_string = readstat_variable_get_type_class(variable) == READSTAT_TYPE_CLASS_STRING;
  if (label_set) v.label_set = label_set;
  state->variables.push_back(std::move(v));
  return READSTAT_HANDLER_OK;
}

int on_value(int obs_index, readstat_variable_t* variable, readstat_value_t value, void* ctx) {
  auto* state = static_cast<ParseState*>(ctx);
  const int index = readstat_variable_get_index(variable);
  if (index < 0 || static_cast<std::size_t>(index) >= state->variables.size()) {
    return abort_parse(state, "a value of an undeclared variable");
  }
  VariableData& v = state->variables[static_cast<std::size_t>(index)];
  (void)obs_index;
  const bool missing = readstat_value_is_system_missing(value) || readstat_value_is_tagged_missing(value) ||
                       readstat_value_is_defined_missing(value, variable);
  v.missing.push_back(missing);
  if (v.is_string) {
    const char* s = missing ? nullptr : readstat_string_value(value);
    v.strings.emplace_back(s ? s : "");
    if (!missing && (s == nullptr || *s == '\0')) v.missing.back() = true;
  } else {
    v.numbers.push_back(missing ? NA : readstat_double_value(value));
  }
  return READSTAT_HANDLER_OK;
}

int on_value_label(const char* set, readstat_value_t value, const char* label, void* ctx) {
  auto* state = static_cast<ParseState*>(ctx);
  if (set == nullptr || label == nullptr) return abort_parse(state, "a value label without a name or text");
  if (readstat_value_type_class(value) == READSTAT_TYPE_CLASS_NUMERIC && !readstat_value_is_system_missing(value)) {
    state->numeric_labels[set][readstat_double_value(value)] = label;
  }
  return READSTAT_HANDLER_OK;
}

std::string number_text(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.15g", x);
  return buffer;
}

Column labelled_factor(const VariableData& v, const std::map<double, std::string>& labels) {
  std::vector<std::string> text(v.numbers.size());
  for (std::size_t i = 0; i < v.numbers.size(); ++i) {
    if (v.missing[i]) continue;
    auto it = labels.find(v.numbers[i]);
    text[i] = it != labels.end() ? it->second : number_text(v.numbers[i]);
  }
  Table t;
  t.add_factor_from_strings(v.name, text, v.missing);
  return t.columns().front();
}

}  // namespace

Table read_readstat(const std::string& path, const ReadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file");
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a directory, not a file");
  if (fs::file_size(path, ec) == 0) throw InputError(path + ": file is empty");

  ParseState state;
  readstat_parser_t* parser = readstat_parser_init();
  readstat_set_variable_handler(parser, on_variable);
  readstat_set_value_handler(parser, on_value);
  readstat_set_value_label_handler(parser, on_value_label);

  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  readstat_error_t error = READSTAT_OK;
  if (ext == ".sav" || ext == ".zsav") error = readstat_parse_sav(parser, path.c_str(), &state);
  else if (ext == ".por") error = readstat_parse_por(parser, path.c_str(), &state);
  else if (ext == ".dta") error = readstat_parse_dta(parser, path.c_str(), &state);
  else error = readstat_parse_sas7bdat(parser, path.c_str(), &state);
  readstat_parser_free(parser);
  if (!state.error.empty()) throw InputError(path + ": cannot read: " + state.error);
  if (error != READSTAT_OK) throw InputError(path + ": cannot read: " + readstat_error_message(error));
  if (state.variables.empty()) throw InputError(path + ": no variables");

  Table table(path);
  for (VariableData& v : state.variables) {
    const std::size_t n = v.missing.size();
    if (n != state.variables.front().missing.size()) throw InputError(path + ": variables of unequal length");
    if (table.has(v.name)) throw InputError(path + ": duplicate column name '" + v.name + "'");
    if (v.is_string) {
      // A string variable whose values all parse as numbers is numeric, as for text files.
      std::vector<double> numbers(n, NA);
      bool numeric = true;
      Column probe;
      for (std::size_t i = 0; i < n && numeric; ++i) {
        if (v.missing[i] || detail::is_na_token(v.strings[i], options.na_tokens)) {
          v.missing[i] = true;
          continue;
        }
        numeric = detail::parse_number(v.strings[i], numbers[i]);
        if (!numeric) {
          probe.first_non_number = v.strings[i];
          probe.first_non_number_line = static_cast<long>(i) + 1;
        }
      }
      if (numeric) {
        table.add_numeric(v.name, std::move(numbers));
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          if (!v.missing[i] && detail::is_na_token(v.strings[i], options.na_tokens)) v.missing[i] = true;
        }
        table.add_factor_from_strings(v.name, v.strings, v.missing);
        table.column(v.name).first_non_number = probe.first_non_number;
        table.column(v.name).first_non_number_line = 0;
      }
      continue;
    }
    auto labels = state.numeric_labels.find(v.label_set);
    if (options.value_labels && !v.label_set.empty() && labels != state.numeric_labels.end()) {
      Column c = labelled_factor(v, labels->second);
      c.first_non_number = c.levels.empty() ? "" : c.levels.front();
      table.add(std::move(c));
    } else {
      table.add_numeric(v.name, std::move(v.numbers));
    }
  }
  if (table.rows() == 0) throw InputError(path + ": no data rows");
  return table;
}

}  // namespace spiral
