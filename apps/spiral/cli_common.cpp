#include <charconv>
#include <filesystem>
#include <iostream>

#include "cli.hpp"

namespace spiral::cli {

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

void add_output_options(CLI::App& command, OutputOptions& output, bool csv) {
  command.add_option("--format", output.format, "Output format")
      ->check(csv ? CLI::IsMember({"text", "json", "csv"}) : CLI::IsMember({"text", "json"}));
  command.add_option("--out", output.out, "Write the result to FILE (atomically) instead of stdout")
      ->check(output_path());
}

void add_data_options(CLI::App& command, DataOptions& data, bool required) {
  auto* opt = command.add_option("--data", data.source, "Data SOURCE: file.csv|.tsv|.sav|.dta|.sas7bdat or sqlite:FILE?table=T");
  if (required) opt->required();
  command.add_option("--sep", data.sep, "Field separator of a text file (default: detected)");
  command.add_option("--na", data.na, "Extra missing-value token (repeatable)");
  command.add_flag("--labels", data.labels, "Value labels of SPSS/Stata/SAS files become factor levels");
}

ReadOptions DataOptions::read_options() const {
  ReadOptions options;
  if (!sep.empty()) {
    if (sep == "\\t" || sep == "tab") options.separator = '\t';
    else if (sep.size() == 1) options.separator = sep[0];
    else throw InputError("--sep: expected one character, got '" + sep + "'");
  }
  options.na_tokens = na;
  options.value_labels = labels;
  return options;
}

Table read_data(const DataOptions& data, const std::vector<std::string>& columns) {
  ReadOptions options = data.read_options();
  options.columns = columns;
  return read_table(data.source, options);
}

void emit(const OutputOptions& output, const Rendered& result, const Warnings& warnings) {
  std::string content;
  if (output.format == "json") content = json_dump(result.json);
  else if (output.format == "csv") {
    if (result.csv.empty()) throw InputError("--format csv: this command has no CSV output");
    content = result.csv;
  } else content = result.text;
  for (const auto& w : warnings) std::cerr << "spiral: warning: " << w << '\n';
  if (output.out.empty()) std::cout << content << std::flush;
  else write_file_atomic(output.out, content);
}

}  // namespace spiral::cli
