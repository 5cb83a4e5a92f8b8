// The truth and the files of `spiral simulate`: sessions and patients CSVs, truth.json,
// and the analysis spec with its [simulate] table (specification sections 5 and 6).
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <string>

#include "spiral/error.hpp"
#include "spiral/simulate.hpp"

namespace spiral {

namespace {

// Terms of the default stage-1 models (specification section 5, step 4).
std::vector<std::string> lagged_terms(const std::string& focal, const std::string& other, int lag) {
  const std::string k = std::to_string(lag);
  return {"(Intercept)", focal + "_lag" + k, other + "_lag" + k, "Pm", "Om", "session"};
}

void add_model(std::vector<TruthEntry>& truth, const std::string& model, const std::vector<std::string>& terms,
               const std::vector<std::pair<std::string, double>>& known) {
  for (const auto& term : terms) {
    TruthEntry entry{model, term, std::nullopt};
    for (const auto& [name, value] : known) {
      if (name == term) entry.value = value;
    }
    truth.push_back(entry);
  }
}

// A double as the shortest text that reads back to the same value (std::to_chars),
// with ".0" added to whole numbers so that TOML reads a float.
std::string shortest(double x) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

std::string fixed4(double x) {
  if (is_na(x)) return "NA";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", x);
  return buffer;
}

std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// `file` as seen from the directory of `spec` (both relative to the working directory).
std::string relative_to_spec(const std::string& file, const std::string& spec) {
  namespace fs = std::filesystem;
  const fs::path target = fs::absolute(file).lexically_normal();
  const fs::path base = fs::absolute(spec).parent_path().lexically_normal();
  const fs::path relative = target.lexically_relative(base);
  return relative.empty() ? target.generic_string() : relative.generic_string();
}

}  // namespace

std::vector<TruthEntry> simulation_truth(const SimulateOptions& o) {
  std::vector<TruthEntry> truth;
  add_model(truth, "process_to_outcome", lagged_terms("Pw", "Ow", 1),
            {{"Pw_lag1", o.process_to_outcome}, {"Ow_lag1", o.outcome_ar}});
  add_model(truth, "outcome_to_process", lagged_terms("Ow", "Pw", 1),
            {{"Ow_lag1", o.outcome_to_process}, {"Pw_lag1", o.process_ar}});
  auto cross = lagged_terms("Pw", "Ow", 1);
  cross.insert(cross.end(), {"Pw_lag1:Pm", "Pw_lag1:Om"});
  add_model(truth, "process_to_outcome_cross", cross, {});
  cross = lagged_terms("Ow", "Pw", 1);
  cross.insert(cross.end(), {"Ow_lag1:Pm", "Ow_lag1:Om"});
  add_model(truth, "outcome_to_process_cross", cross, {});
  add_model(truth, "process_to_outcome_lag2", lagged_terms("Pw", "Ow", 2), {});
  add_model(truth, "outcome_to_process_lag2", lagged_terms("Ow", "Pw", 2), {});
  add_model(truth, "early_process_to_post", {"(Intercept)", "early_process", "pre"}, {});
  add_model(truth, "panel", {"process_to_outcome", "outcome_to_process", "process_ar", "outcome_ar"},
            {{"process_to_outcome", o.process_to_outcome},
             {"outcome_to_process", o.outcome_to_process},
             {"process_ar", o.process_ar},
             {"outcome_ar", o.outcome_ar}});
  return truth;
}

std::string sessions_csv(const SimulatedData& data) {
  const Table& t = data.sessions;
  const Column &study = t.column("study"), &patient = t.column("patient"), &therapist = t.column("therapist");
  const Column &session = t.column("session"), &alliance = t.column("alliance"), &symptoms = t.column("symptoms");
  std::string out = "study,patient,therapist,session,alliance,symptoms\n";
  out.reserve(t.rows() * 40);
  for (std::size_t r = 0; r < t.rows(); ++r) {
    out += study.text(r) + ',' + patient.text(r) + ',' + therapist.text(r) + ',' +
           std::to_string(static_cast<long>(session.numbers[r])) + ',' + fixed4(alliance.numbers[r]) + ',' +
           fixed4(symptoms.numbers[r]) + '\n';
  }
  return out;
}

std::string patients_csv(const SimulatedData& data) {
  const Table& t = data.patients;
  const Column &study = t.column("study"), &patient = t.column("patient");
  const Column &pre = t.column("pre_symptoms"), &post = t.column("post_symptoms");
  std::string out = "study,patient,pre_symptoms,post_symptoms\n";
  for (std::size_t r = 0; r < t.rows(); ++r) {
    out += study.text(r) + ',' + patient.text(r) + ',' + fixed4(pre.numbers[r]) + ',' + fixed4(post.numbers[r]) + '\n';
  }
  return out;
}

Json truth_json(const std::vector<TruthEntry>& truth) {
  Json out = Json::object();
  for (const auto& entry : truth) {
    out[entry.model][entry.term] = entry.value ? json_number(*entry.value) : Json(nullptr);
  }
  return out;
}

std::string analysis_spec(const SimulateOptions& o, const SimulateFiles& files) {
  const std::string spec = files.spec.empty() ? std::string("analysis.toml") : files.spec;
  std::string out;
  out += "# The analysis of data written by `spiral simulate` (spiral's docs/specification.md, section 5). The [simulate]\n";
  out += "# table holds every generating option, so that `spiral power --spec` can re-simulate.\n\n";
  out += "[data]\nsource = " + toml_string(relative_to_spec(files.sessions, spec)) + "\n";
  out += "study = \"study\"\npatient = \"patient\"\nsession = \"session\"\ntherapist = \"therapist\"\n\n";
  out += "[variables]\nprocess = \"alliance\"\noutcome = \"symptoms\"\nreverse = []\n\n";
  out += "[window]\nfirst = 1\nlast = " + std::to_string(o.sessions) + "\n\n";
  out += "[model]\nlags = [1, 2]\ncross_level = true\nrandom_slopes = true\npanel = true\n\n";
  out += "[meta]\nmethod = \"REML\"\ntest = \"knha\"\nmoderators = []\n\n";
  if (!files.patients.empty()) {
    out += "[post]\nsource = " + toml_string(relative_to_spec(files.patients, spec)) + "\n";
    out += "pre = \"pre_symptoms\"\npost = \"post_symptoms\"\nearly = [1, 3]\n\n";
  }
  out += "[simulate]\n";
  out += "studies = " + std::to_string(o.studies) + "\n";
  out += "patients = " + std::to_string(o.patients) + "\n";
  out += "sessions = " + std::to_string(o.sessions) + "\n";
  out += "seed = " + std::to_string(o.seed) + "\n";
  out += "process_to_outcome = " + shortest(o.process_to_outcome) + "\n";
  out += "outcome_to_process = " + shortest(o.outcome_to_process) + "\n";
  out += "process_ar = " + shortest(o.process_ar) + "\n";
  out += "outcome_ar = " + shortest(o.outcome_ar) + "\n";
  out += "missing = " + shortest(o.missing) + "\n";
  out += "dropout = " + shortest(o.dropout) + "\n";
  out += "slope_sd = " + shortest(o.slope_sd) + "\n";
  out += "study_sd = " + shortest(o.study_sd) + "\n";
  out += "therapists_per_study = " + std::to_string(o.therapists_per_study) + "\n";
  return out;
}

void write_simulation(const SimulateOptions& options, const SimulatedData& data, const SimulateFiles& files) {
  if (files.sessions.empty()) throw InputError("--out: the sessions file is required");
  write_file_atomic(files.sessions, sessions_csv(data));
  if (!files.patients.empty()) write_file_atomic(files.patients, patients_csv(data));
  if (!files.truth.empty()) write_file_atomic(files.truth, json_dump(truth_json(data.truth)) + "\n");
  if (!files.spec.empty()) write_file_atomic(files.spec, analysis_spec(options, files));
}

namespace {

struct Counts {
  long rows = 0, attended = 0, missed = 0, dropped_out = 0;
};

Counts count(const SimulatedData& data) {
  Counts c;
  c.rows = static_cast<long>(data.sessions.rows());
  const auto& attended = data.latent.column("attended").numbers;
  const auto& missed = data.latent.column("missed").numbers;
  const auto& session = data.latent.column("session").numbers;
  for (std::size_t r = 0; r < attended.size(); ++r) {
    c.attended += attended[r] > 0;
    c.missed += missed[r] > 0;
    // A patient dropped out when a session after the first is the first not attended.
    if (session[r] > 1 && attended[r] == 0 && attended[r - 1] > 0) ++c.dropped_out;
  }
  return c;
}

}  // namespace

Json simulation_summary_json(const SimulatedData& data, const SimulateFiles& files) {
  const Counts c = count(data);
  Json out;
  out["studies"] = data.sessions.column("study").levels.size();
  out["patients"] = data.patients.rows();
  out["therapists"] = data.sessions.column("therapist").levels.size();
  out["rows"] = c.rows;
  out["attended_sessions"] = c.attended;
  out["missed_sessions"] = c.missed;
  out["missing_share"] = json_number(c.attended > 0 ? static_cast<double>(c.missed) / c.attended : NA);
  out["dropped_out"] = c.dropped_out;
  Json written = Json::object();
  if (!files.sessions.empty()) written["sessions"] = files.sessions;
  if (!files.patients.empty()) written["patients"] = files.patients;
  if (!files.truth.empty()) written["truth"] = files.truth;
  if (!files.spec.empty()) written["spec"] = files.spec;
  out["files"] = written;
  out["truth"] = truth_json(data.truth);
  out["warnings"] = Json::array();
  return out;
}

std::string simulation_summary_text(const SimulatedData& data, const SimulateFiles& files) {
  const Counts c = count(data);
  char line[256];
  std::snprintf(line, sizeof line,
                "Simulated %zu studies, %zu patients, %ld session rows (%ld attended sessions, %.1f%% missed; "
                "%ld patients dropped out)\n",
                data.sessions.column("study").levels.size(), data.patients.rows(), c.rows, c.attended,
                c.attended > 0 ? 100.0 * static_cast<double>(c.missed) / static_cast<double>(c.attended) : 0.0,
                c.dropped_out);
  std::string out = line;
  const std::pair<const char*, const std::string*> written[] = {
      {"sessions", &files.sessions}, {"patients", &files.patients}, {"truth", &files.truth}, {"spec", &files.spec}};
  for (const auto& [what, path] : written) {
    if (!path->empty()) out += std::string("  ") + what + ": " + *path + "\n";
  }
  return out;
}

}  // namespace spiral
