#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "api/api_internal.hpp"

namespace spiral::api {

std::string command_line_name(const std::string& name) {
  std::string out = "--";
  for (char c : name) out += c == '_' ? '-' : c;
  return out;
}

namespace detail {

namespace {

[[noreturn]] void expected(const std::string& name, const std::string& what, const Json& value) {
  std::string shown = json_dump(value, -1);
  shown.pop_back();  // json_dump's final newline
  throw InputError(name + ": expected " + what + ", got " + shown);
}

// The value as a whole number in [low, high]; an integer JSON value is compared exactly, so
// that a seed near 2^63 keeps its last digits.
template <class T>
T whole_number(const Json& value, const std::string& name, T low, T high) {
  const auto out_of_range = [&] {
    expected(name, "an integer from " + std::to_string(low) + " to " + std::to_string(high), value);
  };
  if (value.is_number_unsigned()) {
    const std::uint64_t x = value.get<std::uint64_t>();
    if (std::cmp_less(x, low) || std::cmp_greater(x, high)) out_of_range();
    return static_cast<T>(x);
  }
  if (value.is_number_integer()) {
    const std::int64_t x = value.get<std::int64_t>();
    if (std::cmp_less(x, low) || std::cmp_greater(x, high)) out_of_range();
    return static_cast<T>(x);
  }
  if (!value.is_number_float() || value.get<double>() != std::floor(value.get<double>())) expected(name, "an integer", value);
  const long double x = value.get<double>();
  if (x < static_cast<long double>(low) || x > static_cast<long double>(high)) out_of_range();
  return static_cast<T>(x);
}

template <class T>
T whole_number(const Json& value, const std::string& name) {
  return whole_number<T>(value, name, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
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

void read(const Json& value, const std::string& name, long& out) { out = whole_number<long>(value, name); }

void read(const Json& value, const std::string& name, int& out) { out = whole_number<int>(value, name); }

void read(const Json& value, const std::string& name, unsigned& out) { out = whole_number<unsigned>(value, name); }

void read(const Json& value, const std::string& name, std::uint64_t& out) {
  out = whole_number<std::uint64_t>(value, name);
}

void read(const Json& value, const std::string& name, std::optional<long>& out) { out = whole_number<long>(value, name); }

void read(const Json& value, const std::string& name, std::optional<std::uint64_t>& out) {
  out = whole_number<std::uint64_t>(value, name);
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

// ------------------------------------------------------------------- declarations

Spec Spec::one_of(std::vector<std::string> values) const {
  Spec s = *this;
  s.choices = std::move(values);
  return s;
}

Spec Spec::within(double low, double high) const {
  Spec s = *this;
  s.range = {low, high};
  return s;
}

Spec Spec::shows(std::string value) const {
  Spec s = *this;
  s.shown_default = std::move(value);
  return s;
}

Spec Spec::needed() const {
  Spec s = *this;
  s.required = true;
  return s;
}

Spec Spec::read_file() const {
  Spec s = *this;
  s.file = File::input;
  return s;
}

Spec Spec::written() const {
  Spec s = *this;
  s.file = File::output;
  return s;
}

Spec Spec::written_directory() const {
  Spec s = *this;
  s.file = File::directory;
  return s;
}

Spec Spec::language_only() const {
  Spec s = *this;
  s.command_line = false;
  return s;
}

namespace {

Spec declare(const std::string& name, OptionKind kind, const std::string& help) {
  Spec s;
  s.name = name;
  s.kind = kind;
  s.help = help;
  return s;
}

}  // namespace

Spec flag(const std::string& name, const std::string& help) { return declare(name, OptionKind::flag, help); }
Spec text(const std::string& name, const std::string& help) { return declare(name, OptionKind::text, help); }
Spec number(const std::string& name, const std::string& help) { return declare(name, OptionKind::number, help); }
Spec integer(const std::string& name, const std::string& help) { return declare(name, OptionKind::integer, help); }
Spec count(const std::string& name, const std::string& help) { return declare(name, OptionKind::count, help); }
Spec seed(const std::string& name, const std::string& help) { return declare(name, OptionKind::seed, help); }
Spec list(const std::string& name, const std::string& help) { return declare(name, OptionKind::list, help); }
Spec repeated(const std::string& name, const std::string& help) { return declare(name, OptionKind::repeated, help); }

// As an ostream prints it (CLI11's capture_default_str did: 0.2, 1e-05).
std::string default_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string default_text(long long value) { return std::to_string(value); }

// ------------------------------------------------------------------------ checks

void check_names(const std::string& command, const Json& options, const std::vector<OptionSpec>& specs) {
  if (!options.is_object()) return;
  std::string unknown;
  int unknowns = 0;
  for (const auto& item : options.items()) {
    const bool known = std::any_of(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.name == item.key(); });
    if (!known) unknown += (unknowns++ ? ", '" : "'") + item.key() + "'";
  }
  if (unknowns) throw InputError(command + ": unknown option" + (unknowns > 1 ? "s " : " ") + unknown);
}

void check_value(const OptionSpec& spec, const Json& value) {
  const std::string name = command_line_name(spec.name);
  if (!spec.choices.empty() && value.is_string() &&
      std::find(spec.choices.begin(), spec.choices.end(), value.get<std::string>()) == spec.choices.end()) {
    std::string allowed;
    for (const auto& c : spec.choices) allowed += (allowed.empty() ? "" : ", ") + c;
    throw InputError(name + ": '" + value.get<std::string>() + "' is not one of " + allowed);
  }
  if (spec.kind == OptionKind::count) whole_number<long>(value, name, 0, 1000000);
  if (spec.kind == OptionKind::seed) whole_number<std::uint64_t>(value, name, 0, 0x7fffffffffffffffULL);
  if (spec.range && value.is_number() &&
      !(value.get<double>() >= spec.range->first && value.get<double>() <= spec.range->second))
    expected(name, "a number from " + default_text(spec.range->first) + " to " + default_text(spec.range->second), value);
}

namespace fs = std::filesystem;

void check_output_files(const std::vector<OutputFile>& outputs, const std::vector<std::string>& inputs) {
  std::error_code ec;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [option, path] = outputs[i];
    if (path.empty()) continue;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec))
      throw InputError(path + ": directory '" + parent.string() + "' does not exist");
    if (fs::is_directory(path, ec)) throw InputError(path + ": is a directory");
    for (std::size_t j = 0; j < i; ++j)
      if (!outputs[j].path.empty() && fs::weakly_canonical(outputs[j].path, ec) == fs::weakly_canonical(path, ec))
        throw InputError(option + " " + path + ": " + outputs[j].option + " writes the same file");
    for (const auto& input : inputs)
      if (fs::exists(path, ec) && fs::exists(input, ec) && fs::equivalent(path, input, ec))
        throw InputError(option + " " + path + ": is an input of this command; writing it would overwrite it");
  }
}

void check_declared_files(const std::vector<OptionSpec>& specs, const Json& options, const std::string& result_file) {
  std::vector<OutputFile> outputs{{"--out", result_file}};
  std::vector<std::string> inputs;
  for (const auto& spec : specs) {
    const auto it = options.is_object() ? options.find(spec.name) : options.end();
    if (!options.is_object() || it == options.end()) continue;
    std::vector<std::string> paths;
    if (it->is_string()) paths.push_back(it->get<std::string>());
    else if (it->is_array())
      for (const auto& item : *it)
        if (item.is_string()) paths.push_back(item.get<std::string>());
    for (const auto& path : paths) {
      if (spec.file == OptionSpec::File::output) outputs.push_back({command_line_name(spec.name), path});
      if (spec.file == OptionSpec::File::input && !path.empty()) inputs.push_back(source_file(path));
    }
  }
  check_output_files(outputs, inputs);
}

const Table& load_table(const DataSource& source, const Table* data, Table& storage, const std::vector<std::string>& columns) {
  if (data) return *data;
  if (source.source.empty()) throw InputError("--data: required (a data frame or a SOURCE string)");
  ReadOptions options;
  if (!source.sep.empty()) {
    if (source.sep == "\\t" || source.sep == "tab") options.separator = '\t';
    else if (source.sep.size() == 1) options.separator = source.sep[0];
    else throw InputError("--sep: expected one character, got '" + source.sep + "'");
  }
  options.na_tokens = source.na;
  options.value_labels = source.labels;
  options.columns = columns;
  storage = read_table(source.source, options);
  return storage;
}

}  // namespace detail

namespace {

using Runner = Result (*)(const Json& options, const Table* data, const Table* newdata, const Face& face);

struct Command {
  detail::Declaration (*declaration)();
  Runner run;
};

// Commands without new data or a face's help.
template <Result (*run)(const Json&, const Table*)>
Result plain(const Json& options, const Table* data, const Table*, const Face&) {
  return run(options, data);
}

Result lmm(const Json& options, const Table* data, const Table* newdata, const Face&) {
  return detail::run_lmm(options, data, newdata);
}
Result dsem(const Json& options, const Table* data, const Table*, const Face& face) {
  return detail::run_dsem(options, data, face);
}
Result power(const Json& options, const Table* data, const Table*, const Face& face) {
  return detail::run_power(options, data, face);
}

const std::map<std::string, Command>& registry() {
  using namespace detail;
  static const std::map<std::string, Command> table{
      {"lmm", {lmm_declaration, lmm}},
      {"meta", {meta_declaration, plain<run_meta>}},
      {"panel", {panel_declaration, plain<run_panel>}},
      {"describe", {describe_declaration, plain<run_describe>}},
      {"dsem", {dsem_declaration, dsem}},
      {"prep", {prep_declaration, plain<run_prep>}},
      {"ipd_run", {ipd_run_declaration, plain<run_ipd_run>}},
      {"ipd_stage1", {ipd_stage1_declaration, plain<run_ipd_stage1>}},
      {"ipd_stage2", {ipd_stage2_declaration, plain<run_ipd_stage2>}},
      {"ipd_onestage", {ipd_onestage_declaration, plain<run_ipd_onestage>}},
      {"simulate", {simulate_declaration, plain<run_simulate>}},
      {"power", {power_declaration, power}},
  };
  return table;
}

const Command& find_command(const std::string& command) {
  const auto it = registry().find(command);
  if (it == registry().end()) throw InputError("unknown command '" + command + "'");
  return it->second;
}

bool option_character(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool value_character(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }

// The message (or warning) with each `--name-with-dashes` of a declared option spelled
// `name_with_underscores`, as R and Python name their arguments; `--name=VALUE` becomes the
// argument as written in a call, `name = "VALUE"`.
std::string language_spelling(const std::string& message, const std::vector<OptionSpec>& specs) {
  std::string out;
  for (std::size_t i = 0; i < message.size();) {
    const bool starts_word = i == 0 || !(option_character(message[i - 1]) || message[i - 1] == '_');
    if (starts_word && message.compare(i, 2, "--") == 0) {
      std::size_t end = i + 2;
      while (end < message.size() && option_character(message[end])) ++end;
      const std::string shown = message.substr(i, end - i);
      const auto spec = std::find_if(specs.begin(), specs.end(),
                                     [&](const OptionSpec& s) { return command_line_name(s.name) == shown; });
      if (spec != specs.end()) {
        i = end;
        out += spec->name;
        if (i < message.size() && message[i] == '=') {  // `--factor=Days` reads `factor = "Days"`
          std::size_t value_end = i + 1;
          while (value_end < message.size() && value_character(message[value_end])) ++value_end;
          out += " = \"" + message.substr(i + 1, value_end - i - 1) + '"';
          i = value_end;
        }
        continue;
      }
    }
    out += message[i++];
  }
  return out;
}

// Each command's declaration, made once.
const detail::Declaration& declared(const std::string& command) {
  static const std::map<std::string, detail::Declaration> all = [] {
    std::map<std::string, detail::Declaration> made;
    for (const auto& [name, c] : registry()) made[name] = c.declaration();
    return made;
  }();
  find_command(command);
  return all.at(command);
}

}  // namespace

void detail::parse_only(const std::string& command, const Json& options) { declared(command).parse(options); }

const std::vector<OptionSpec>& options(const std::string& command) { return declared(command).specs; }

std::vector<std::string> commands() {
  std::vector<std::string> names;
  for (const auto& [name, command] : registry()) names.push_back(name);
  return names;
}

Result run(const std::string& command, const Json& opts, const Table* data, const Table* newdata, const Face& face) {
  const Command& c = find_command(command);
  const std::vector<OptionSpec>& specs = options(command);
  try {
    if (newdata != nullptr && command != "lmm") throw InputError("newdata: only lmm predicts from new data");
    detail::check_declared_files(specs, opts, face.result_file);
    Result result = c.run(opts, data, newdata, face);
    if (face.spelling == Face::Spelling::language) {  // the warnings given, kept and printed alike
      for (auto& warning : result.warnings) warning = language_spelling(warning, specs);
      result.text = language_spelling(result.text, specs);
      if (result.json.is_object() && result.json.contains("warnings") && result.json["warnings"].is_array())
        for (auto& warning : result.json["warnings"])
          if (warning.is_string()) warning = language_spelling(warning.get<std::string>(), specs);
    }
    return result;
  } catch (const InputError& e) {
    if (face.spelling == Face::Spelling::command_line) throw;
    throw InputError(language_spelling(e.what(), specs));
  } catch (const AnalysisError& e) {
    if (face.spelling == Face::Spelling::command_line) throw;
    throw AnalysisError(language_spelling(e.what(), specs));
  }
}

}  // namespace spiral::api
