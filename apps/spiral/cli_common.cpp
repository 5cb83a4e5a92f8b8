#include <algorithm>
#include <charconv>
#include <iostream>

#include "cli.hpp"

namespace spiral::cli {

namespace {

// The text as a whole number in [0, max]; false when it is not one.
bool whole_number_up_to(const std::string& text, unsigned long long max) {
  unsigned long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && value <= max;
}

}  // namespace

CLI::Validator non_negative_integer() {
  return CLI::Validator(
      [](std::string& text) { return whole_number_up_to(text, 1000000) ? "" : "expected a whole number >= 0, got " + text; },
      "INT>=0");
}

CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& text) {
        return whole_number_up_to(text, 0x7fffffffffffffffULL) ? ""
                                                               : "expected a whole number from 0 to 9223372036854775807, got " + text;
      },
      "0..2^63-1");
}

CLI::Validator output_path() {
  return CLI::Validator([](std::string& text) { return text.empty() ? std::string("empty file name") : std::string(); },
                        "PATH");
}

// ------------------------------------------------------------------- api options

using Kind = api::OptionKind;

ApiOptions::ApiOptions(CLI::App& subcommand, std::string command) : command_(std::move(command)) {
  for (const api::OptionSpec& spec : api::options(command_)) {
    if (!spec.command_line) continue;
    Value& v = values_.emplace_back();
    v.spec = &spec;
    const std::string name = api::command_line_name(spec.name);
    switch (spec.kind) {
      case Kind::flag: v.option = subcommand.add_flag(name, v.flag, spec.help); break;
      case Kind::text: v.option = subcommand.add_option(name, v.text, spec.help); break;
      case Kind::number: v.option = subcommand.add_option(name, v.number, spec.help); break;
      case Kind::integer: v.option = subcommand.add_option(name, v.integer, spec.help); break;
      case Kind::count: v.option = subcommand.add_option(name, v.count, spec.help)->check(non_negative_integer()); break;
      case Kind::seed: v.option = subcommand.add_option(name, v.seed, spec.help)->check(seed_value()); break;
      case Kind::list: v.option = subcommand.add_option(name, v.values, spec.help)->delimiter(','); break;
      case Kind::repeated: v.option = subcommand.add_option(name, v.values, spec.help); break;
    }
    if (!spec.choices.empty()) v.option->check(CLI::IsMember(spec.choices));
    if (spec.range && spec.kind == Kind::integer)
      v.option->check(CLI::Range(static_cast<long>(spec.range->first), static_cast<long>(spec.range->second)));
    else if (spec.range) v.option->check(CLI::Range(spec.range->first, spec.range->second));
    if (spec.file == api::OptionSpec::File::output || spec.file == api::OptionSpec::File::directory)
      v.option->check(output_path());
    if (!spec.shown_default.empty()) v.option->default_str(spec.shown_default);
    if (spec.required) v.option->required();
  }
}

Json ApiOptions::json() const {
  Json out = Json::object();
  for (const Value& v : values_) {
    if (v.option->count() == 0) continue;
    Json& value = out[v.spec->name];
    switch (v.spec->kind) {
      case Kind::flag: value = v.flag; break;
      case Kind::text: value = v.text; break;
      case Kind::number: value = v.number; break;
      case Kind::integer: value = v.integer; break;
      case Kind::count: value = v.count; break;
      case Kind::seed: value = v.seed; break;
      case Kind::list:
      case Kind::repeated: value = v.values; break;
    }
  }
  return out;
}

std::string ApiOptions::text(const std::string& name) const {
  for (const Value& v : values_)
    if (v.spec->name == name) return v.text;
  return {};
}

void add_output_options(CLI::App& subcommand, const ApiOptions& options, OutputOptions& output,
                        const std::vector<std::string>& formats, const std::string& help) {
  if (formats.size() > 1)
    subcommand.add_option("--format", output.format, help)->check(CLI::IsMember(formats))->default_str(formats.front());
  else output.format = formats.front();
  const auto& table = api::options(options.command());
  const bool writes_its_own_out =
      std::any_of(table.begin(), table.end(), [](const api::OptionSpec& s) { return s.name == "out"; });
  if (!writes_its_own_out)
    subcommand.add_option("--out", output.out, "Write the result to FILE (atomically) instead of stdout")->check(output_path());
}

api::Result run(const ApiOptions& options, const OutputOptions& output, api::Face face) {
  face.spelling = api::Face::Spelling::command_line;
  face.result_file = output.out;
  return api::run(options.command(), options.json(), nullptr, nullptr, face);
}

void print_warnings(const Warnings& warnings) {
  for (const auto& w : warnings) std::cerr << "spiral: warning: " << w << '\n';
}

void emit(const OutputOptions& output, const api::Result& result) {
  std::string content;
  if (output.format == "json") content = json_dump(result.json);
  else if (output.format == "csv") {
    if (result.csv.empty()) throw InputError("--format csv: this command has no CSV output");
    content = result.csv;
  } else content = result.text;
  print_warnings(result.warnings);
  if (output.out.empty()) std::cout << content << std::flush;
  else write_file_atomic(output.out, content);
}

}  // namespace spiral::cli
