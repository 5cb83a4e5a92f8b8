// The commands as functions of (options, data), for the R and Python bindings (specification
// section 8). Options are a JSON object whose keys are the CLI's option names with dashes
// turned into underscores (`--process-to-outcome` -> "process_to_outcome"); a flag is a
// bool, a list option (`--vars`, `--bundles`, `--na`) an array of strings (or one string,
// split at commas like the CLI), a number a JSON number. Unknown names are an InputError
// naming them. The result is what the CLI prints: its JSON and its text table, with the
// warnings, plus the data and matrices a language face returns as objects.
#pragma once
#include <string>
#include <vector>

#include "spiral/error.hpp"
#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral::api {

// A square matrix with row/column names, row-major (e.g. vcov of the fixed effects).
struct NamedMatrix {
  std::string name;
  std::vector<std::string> names;
  std::vector<double> values;  // names.size() squared, row-major
};

struct Result {
  Json json;                   // `--format json`
  std::string text;            // `--format text`
  Warnings warnings;           // what the CLI prints as `spiral: warning: ...`
  std::vector<std::pair<std::string, Table>> tables;  // data returned as data frames (prep, ranef, stage1)
  std::vector<NamedMatrix> matrices;                   // vcov
};

// The command names run() accepts: "lmm", "meta", "panel", "describe", "prep",
// "ipd_run", "ipd_stage1", "ipd_stage2", "ipd_onestage", "simulate", "power".
std::vector<std::string> commands();

// Runs `command` with `options`. The data are `data` when given, else the SOURCE string
// options["data"] read with the reader options sep, na and labels (commands that read
// data); `data` for a command without data is an InputError. `newdata` (lmm's predict, else
// an InputError) likewise replaces options["newdata"]. Throws what the engines throw.
Result run(const std::string& command, const Json& options, const Table* data = nullptr,
           const Table* newdata = nullptr);

}  // namespace spiral::api
