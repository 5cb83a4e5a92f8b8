#include <iostream>

#include "cli.hpp"

namespace spiral::cli {

void add_output_options(CLI::App& command, OutputOptions& output, bool csv) {
  command.add_option("--format", output.format, "Output format")
      ->check(csv ? CLI::IsMember({"text", "json", "csv"}) : CLI::IsMember({"text", "json"}));
  command.add_option("--out", output.out, "Write the result to FILE (atomically) instead of stdout");
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
