// The commands as functions of (options, data): the one entry point of every face (the
// command line in apps/spiral, the R and Python bindings; specification section 8).
// Every option of a command is declared once, in its table (options()): its name, kind,
// help, choices or range, and whether it names a file the command reads or writes. R and
// Python pass the options as a JSON object keyed by `name` ("process_to_outcome"); the
// command line builds `--name-with-dashes` from the same table. A flag is a bool, a list
// option (`vars`, `bundles`, `na`) an array of strings (a list option may also be one
// string split at commas), a number a JSON number. Unknown names are an InputError naming
// them. The result is what the CLI prints: its JSON, its text table and CSV, with the
// warnings, plus the data and matrices a language face returns as objects.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spiral/error.hpp"
#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral::api {

// What an option takes. On the command line a flag stands alone and the others take a
// value; a list's values are split at commas (`--vars a,b`), a repeated option is given
// once per value (`--ref g=b --ref arm=control`).
enum class OptionKind {
  flag,      // TRUE/FALSE
  text,      // a string
  number,    // a real number
  integer,   // a whole number
  count,     // a whole number from 0 to 1,000,000 (threads)
  seed,      // a whole number from 0 to 2^63 - 1
  list,      // strings; one string is split at commas
  repeated,  // strings; one string is one value
};

// One option of a command, declared once for every face.
struct OptionSpec {
  std::string name;                                // R/Python spelling: "process_to_outcome"
  OptionKind kind = OptionKind::text;
  std::string help;                                // one line, as the CLI's --help shows it
  std::vector<std::string> choices;                // the values a text option allows (empty: any)
  std::optional<std::pair<double, double>> range;  // the interval a number allows
  std::string shown_default;                       // the default --help shows (empty: none)
  bool required = false;  // the command line needs it (R and Python may pass data as a data frame)
  // A file the option names: one the command reads (or a SOURCE), never written; one it
  // writes, which may not be an input or another output's file; a directory it fills.
  enum class File { none, input, output, directory };
  File file = File::none;
  bool command_line = true;  // false: R and Python only (a spec given as text)
};

// The option table of `command` (one of commands()); InputError for another name.
const std::vector<OptionSpec>& options(const std::string& command);

// `name` as the command line spells it: "re_form" -> "--re-form".
std::string command_line_name(const std::string& name);

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
  std::string csv;             // `--format csv` (empty: the command has no CSV form)
};

// The command names run() accepts: "lmm", "meta", "panel", "describe", "dsem", "prep",
// "ipd_run", "ipd_stage1", "ipd_stage2", "ipd_onestage", "simulate", "power".
std::vector<std::string> commands();

// How a face calls: the spelling its messages use for option names, and what only a
// face can provide.
struct Face {
  enum class Spelling { language, command_line };
  Spelling spelling = Spelling::language;  // `re_form: ...` or `--re-form: ...`
  // The file the face writes the result to (the CLI's --out of a command without an `out`
  // option): checked with the command's own output files before anything is read.
  std::string result_file;
  // Progress of long runs (dsem's iterations, power's replications): (done, total).
  std::function<void(long, long)> progress;
  // Power's replications over several processes (MPI): calls share(first, stride) on each
  // process and returns every share's JSON in process order on the first process, nothing
  // on the others (whose Result is then empty). Empty: one process runs them all.
  using Share = std::function<Json(long first, long stride)>;
  std::function<std::vector<Json>(const Share& share)> distribute;
};

// Runs `command` with `options`. The data are `data` when given, else the SOURCE string
// options["data"] read with the reader options sep, na and labels (commands that read
// data); `data` for a command without data is an InputError. `newdata` (lmm's predict, else
// an InputError) likewise replaces options["newdata"]. Throws what the engines throw, with
// option names in the face's spelling.
Result run(const std::string& command, const Json& options, const Table* data = nullptr,
           const Table* newdata = nullptr, const Face& face = {});

}  // namespace spiral::api
