// `spiral ipd` and `spiral prep`: two-stage individual-participant-data meta-analysis of
// session-by-session process data (specification section 5).
//
// The pipeline, each step callable on its own so that the CLI, the R/Python bindings and
// the power analysis (which runs everything in memory) stay thin:
//   IpdSpec spec = load_spec("analysis.toml");         // validated up front
//   IpdData data = load_data(spec);                      // sessions (+ patients for [post])
//   Table prepared = prepare(spec, data.sessions);       // steps 1-3 (`spiral prep`)
//   IpdResult r = run_ipd(spec, data.sessions, data.patients_or_null(), threads);
//   write_ipd_outputs(r, spec, "out/");                  // stage1.csv, stage2.csv, results.json, svg, html
// Federated: run_stage1(spec, sessions, patients, "site A") -> Bundle (aggregates only),
// bundle_to_json / bundle_from_json, then run_stage2(spec, bundles) = run_ipd's numbers.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "spiral/error.hpp"
#include "spiral/meta.hpp"
#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral {

// ---------------------------------------------------------------- the analysis spec

struct CustomModel {
  std::string name;
  std::string formula;  // an lmm formula over the prepared columns
};

// [post]: early process -> post-treatment outcome, one row per patient.
struct PostSpec {
  std::string source;            // resolved against the spec file's directory
  std::string pre, post;         // columns of the patients file
  long early_first = 1, early_last = 3;
};

// [dsem]: how the stage-1 model `dsem` (`spiral dsem` of specification section 9 on P and O) is
// sampled; every study with the same seed, so that a site's bundle is the run's.
struct IpdDsemSettings {
  std::string random = "all";        // lagged effects that vary across patients: lagged|ar|all|none
  std::vector<std::string> between;  // patient-level moderators (columns of the sessions file)
  int chains = 4, iter = 2000, warmup = 1000;
  std::uint64_t seed = 1;
};

struct IpdSpec {
  std::string path;              // the spec file ("" when parsed from text without a file)
  std::string text;              // the exact text, shown in the report
  // [data]
  std::string source;            // sessions SOURCE, resolved against the spec's directory
  std::string study = "study", patient = "patient", session = "session";
  std::string therapist;         // empty = no therapist level
  bool value_labels = false;     // labels = true: SPSS/Stata/SAS value labels become factor levels
  std::vector<std::string> factors;  // columns read as factors though they hold numbers
  std::vector<std::pair<std::string, std::string>> reference;  // reference level per factor column
  // [labels]: how tables, plots and text name variables and terms (default: their names)
  std::map<std::string, std::string> labels;
  // [variables]
  std::string process, outcome;
  std::vector<std::string> reverse;
  // [window]: sessions outside [first, last] are not used; unset = no bound
  std::optional<long> first, last;
  // [model]
  std::vector<int> lags = {1};   // subset of {1, 2}, must contain 1
  bool cross_level = true, random_slopes = true, panel = false;
  bool dsem = false;             // adds the DSEM of P and O as model `dsem`
  std::vector<CustomModel> custom;
  // [dsem]
  IpdDsemSettings dsem_settings;
  // [meta]
  std::string method = "REML", test = "knha";
  std::vector<std::string> moderators;  // study-level columns (sessions or patients file)
  bool egger = false;                   // Egger's regression test of each pooled term
  // [post]
  std::optional<PostSpec> post;
  // [privacy]
  long min_patients = 10;
  // [simulate] belongs to `spiral simulate`/`power`, which validate it; kept verbatim in text.
  bool has_simulate = false;

  // Hex digest of every setting that changes stage-1 numbers or their meaning (not the
  // file paths, which differ between sites), so that bundles of one analysis match.
  std::string hash() const;
};

// Reads and validates a spec. InputError "<file>: <key>: <problem>" for a TOML syntax
// error, an unknown key, a wrong type or a bad value.
IpdSpec load_spec(const std::string& path);
// The same from text; `name` is used in messages, relative paths resolve against base_dir.
IpdSpec parse_spec(const std::string& text, const std::string& name, const std::string& base_dir = ".");

// --------------------------------------------------------------------- data and prep

struct IpdData {
  Table sessions;
  std::optional<Table> patients;  // the [post] file
  const Table* patients_or_null() const { return patients ? &*patients : nullptr; }
};
// Reads [data] source and, with [post], its source. InputError as read_table.
IpdData load_data(const IpdSpec& spec);

// Checks the data against the spec: the named columns exist and are numeric where they
// must be, sessions are integers, no duplicate study-patient-session rows, the post file
// has exactly one row per patient of the sessions file, moderators are constant within
// each study. InputError naming the file, column and line. Called by prepare/run_*.
void validate_data(const IpdSpec& spec, const Table& sessions, const Table* patients);

// Names of the columns prepare() adds.
std::vector<std::string> prepared_columns(const IpdSpec& spec);

// Steps 1-3 of the default stage-1 recipe: the window's rows (input order) with every
// input column (reverse-scored variables multiplied by -1) plus P, O (z-standardized
// within study, SD with n - 1), Pm, Om (patient means), Pw, Ow (within parts) and their
// lags (value at session t - k of the same patient; missing when that session is absent).
Table prepare(const IpdSpec& spec, const Table& sessions);
// A table as CSV (`spiral prep --out`): numbers in their shortest exact form, "NA" missing.
std::string prepared_to_csv(const Table& prepared);

// ------------------------------------------------------------------------ stage 1

// A stage-1 model: its name and formula as the table of specification section 5 defines them.
struct ModelSpec {
  enum class Kind { Lmm, Post, Panel, Dsem };
  std::string name;
  Kind kind = Kind::Lmm;
  // Lmm: lme4 formula; Post: "post ~ early_process + pre"; Panel: ""; Dsem: its `spiral dsem` options
  std::string formula;
};
std::vector<ModelSpec> stage1_models(const IpdSpec& spec);

struct TermEstimate {
  std::string term;
  double estimate = NA, std_error = NA;
};

// The RI-CLPM's test against the saturated model and its fit indices in one study (the
// panel model only), as `spiral panel` computes them (lavaan's fitMeasures()).
struct PanelFitMeasures {
  double chisq = NA;
  long chisq_df = 0;
  double chisq_p = NA, CFI = NA, TLI = NA, RMSEA = NA, SRMR = NA;
};

struct ModelFit {
  std::string model;
  bool converged = false, singular = false;
  std::string message;             // why the model failed (converged == false)
  long n_patients = 0, n_obs = 0, n_dropped = 0;
  std::vector<TermEstimate> terms;
  Warnings warnings;
  std::optional<PanelFitMeasures> fit_measures;  // the panel model's, when it converged
};

struct StudyCounts {
  long n_patients = 0;             // patients with at least one session in the window
  long n_sessions = 0;             // patient-session rows in the window
  long n_obs = 0, n_dropped = 0;   // rows the first model used / dropped for missing values
  long missing_process = 0, missing_outcome = 0;
};

// A study-level moderator value: a number or a factor level.
struct ModeratorValue {
  std::string name;
  bool numeric = true;
  double number = NA;
  std::string level;
};

// Stage 1 of one study: aggregates only, never a patient-level row or identifier.
struct Bundle {
  std::string spec_hash, spiral_version, study;
  StudyCounts counts;
  std::vector<ModelFit> models;    // in stage1_models() order
  std::vector<ModeratorValue> moderators;
  Warnings warnings;
};

// Stage 1 for one study of the data (InputError when the study does not exist).
// A model that fails is kept with converged = false and its reason.
Bundle run_stage1(const IpdSpec& spec, const Table& sessions, const Table* patients, const std::string& study);
// The same, refusing a study with fewer than [privacy] min_patients patients (federated mode).
Bundle run_stage1_federated(const IpdSpec& spec, const Table& sessions, const Table* patients,
                            const std::string& study);

// Bundle files: JSON with doubles as %.17g, so that reading gives the same numbers.
Json to_json(const Bundle& bundle);
// InputError naming `name` for malformed bundles.
Bundle bundle_from_json(const std::string& text, const std::string& name);

// The studies of the data in analysis order (numeric ids numerically, others byte order).
std::vector<std::string> study_ids(const IpdSpec& spec, const Table& sessions);

// ------------------------------------------------------------------------ stage 2

struct PooledTerm {
  std::string model, term;
  MetaResult meta;                           // intercept-only random-effects model
  std::optional<MetaResult> regression;      // on the spec's moderators, when any
};

struct IpdResult {
  std::string spec_hash, spiral_version;
  std::vector<Bundle> studies;               // analysis order
  std::vector<PooledTerm> pooled;            // model order, then term order
  Warnings warnings;
};

// Pools every model x term over the studies whose model converged (spec's method and
// test; Knapp-Hartung by default). InputError for mismatched spec hashes or a study given
// twice; a model x term with fewer than 2 studies is left out with a warning.
IpdResult run_stage2(const IpdSpec& spec, std::vector<Bundle> bundles);
// What stage 1 has to say of the bundles: each one's warnings, its models left out of stage 2
// (not converged) and the count of singular fits.
void stage1_warnings(const std::vector<Bundle>& bundles, Warnings& warnings);

// Stage 1 for every study (in `threads` threads; 0 = hardware concurrency; results are
// identical to threads = 1), then stage 2.
IpdResult run_ipd(const IpdSpec& spec, const Table& sessions, const Table* patients, int threads = 0);

// stage1.csv, stage2.csv, results.json (keys of specification section 5).
std::string stage1_csv(const IpdResult& result);
std::string stage2_csv(const IpdResult& result);
Json to_json(const IpdResult& result);
std::string to_text(const IpdResult& result);
// The forest plot (SVG) of each pooled term, in the order of result.pooled, named as the
// report names models and terms (the spec's [labels]).
std::vector<std::string> ipd_forest_svgs(const IpdResult& result, const IpdSpec& spec);
// The self-contained report (inline SVG forest plots, tables, warnings, spec, version);
// `forests` are ipd_forest_svgs(result, spec), rendered once for the files and the report.
std::string ipd_report_html(const IpdResult& result, const IpdSpec& spec, const std::vector<std::string>& forests);
// The same report as a Word document for a manuscript (the tables as Word tables, the Method
// and its references; no plots): the bytes of report.docx.
std::string ipd_report_docx(const IpdResult& result, const IpdSpec& spec);
// File name of a forest plot: "forest-<model>-<term>.svg" with the term made file-safe.
std::string forest_file_name(const std::string& model, const std::string& term);

// Writes every output into DIR through a temporary directory beside it and a rename, so
// that no partial directory is left on failure; an existing DIR is replaced.
void write_ipd_outputs(const IpdResult& result, const IpdSpec& spec, const std::string& dir);
// InputError when DIR could not be written (its parent missing, or DIR a file): checked
// before the analysis runs.
void check_output_dir(const std::string& dir);

// ------------------------------------------------------------------------ one stage

struct OnestageModel {
  std::string model;
  std::string formula;  // the stage-1 formula with patients nested in studies
  Json fit;             // `spiral lmm`'s JSON of the fit, or {"error": message}
  bool ok = false;
};
struct OnestageResult {
  std::vector<OnestageModel> models;
  Warnings warnings;
};
// The mixed-model formulas once over all studies: `(… | patient)` becomes
// `(… | study:patient) + (… | study)`, therapist `(1 | study:therapist)`.
OnestageResult run_onestage(const IpdSpec& spec, const Table& sessions);
Json to_json(const OnestageResult& result);
std::string to_text(const OnestageResult& result);
// onestage.json and onestage.txt in DIR, all-or-nothing as write_ipd_outputs.
void write_onestage_outputs(const OnestageResult& result, const std::string& dir);

// "spiral X.Y.Z" of the library.
std::string spiral_version();

}  // namespace spiral
