// `spiral prep`: validation of the data against the spec and steps 1-3 of the default
// stage-1 recipe (contract section 5): window, reverse scoring, within-study
// z-standardization, patient means, within parts, lags by session number.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>

#include "common/parallel.hpp"
#include "ipd/ipd_internal.hpp"
#include "spiral/formula.hpp"
#include "spiral/ipd.hpp"

namespace spiral {

using namespace ipd_detail;

namespace ipd_detail {

std::vector<std::string> row_texts(const Table& table, const std::string& column) {
  const Column& c = table.column(column);
  std::vector<std::string> out(table.rows());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = c.text(i);
  return out;
}

bool study_less(const std::string& a, const std::string& b) {
  double x = 0, y = 0;
  const auto ra = std::from_chars(a.data(), a.data() + a.size(), x);
  const auto rb = std::from_chars(b.data(), b.data() + b.size(), y);
  const bool na = ra.ec == std::errc() && ra.ptr == a.data() + a.size();
  const bool nb = rb.ec == std::errc() && rb.ptr == b.data() + b.size();
  if (na && nb && x != y) return x < y;
  if (na != nb) return na;  // numbers first
  return a < b;
}

Table study_rows(const Table& table, const std::string& study_column, const std::string& study) {
  return rows_per_study(table, study_column, {study}).front();
}

std::vector<Table> rows_per_study(const Table& table, const std::string& study_column,
                                  const std::vector<std::string>& studies, unsigned threads) {
  const std::vector<std::string> ids = row_texts(table, study_column);
  std::unordered_map<std::string_view, std::size_t> index_of;
  for (std::size_t s = 0; s < studies.size(); ++s) index_of.emplace(studies[s], s);
  std::vector<std::vector<bool>> keep(studies.size(), std::vector<bool>(ids.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto it = index_of.find(ids[i]);
    if (it != index_of.end()) keep[it->second][i] = true;
  }
  std::vector<Table> out(studies.size());
  detail::parallel_for(studies.size(), threads, [&](std::size_t s) { out[s] = table.subset(keep[s]); });
  return out;
}

// R's mean() and var(): long double sums with mean's second refinement pass (summary.c, cov.c).
MeanSd mean_sd(const std::vector<double>& values) {
  MeanSd r;
  long double sum = 0;
  for (double v : values) {
    if (is_na(v)) continue;
    sum += v;
    ++r.n;
  }
  if (r.n == 0) return r;
  long double mean = sum / r.n, correction = 0;
  for (double v : values) {
    if (!is_na(v)) correction += v - mean;
  }
  mean += correction / r.n;
  r.mean = static_cast<double>(mean);
  if (r.n < 2) return r;
  long double ss = 0;
  for (double v : values) {
    if (!is_na(v)) ss += (v - mean) * (v - mean);
  }
  r.sd = std::sqrt(static_cast<double>(ss / (r.n - 1)));
  return r;
}

std::string table_csv(const Table& table) {
  std::string out;
  for (std::size_t c = 0; c < table.cols(); ++c) {
    if (c) out += ',';
    out += csv_field(table.columns()[c].name);
  }
  out += '\n';
  for (std::size_t row = 0; row < table.rows(); ++row) {
    for (std::size_t c = 0; c < table.cols(); ++c) {
      const Column& col = table.columns()[c];
      if (c) out += ',';
      if (col.missing(row)) {
        out += "NA";
      } else if (col.is_factor()) {
        out += csv_field(col.text(row));
      } else {
        char buffer[40];
        const auto r = std::to_chars(buffer, buffer + sizeof buffer, col.numbers[row]);
        out.append(buffer, r.ptr);
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace ipd_detail

namespace {

std::string where(const Table& table, std::size_t row) {
  const long line = table.line_of(row);
  return line > 0 ? table.source() + ":" + std::to_string(line) : table.source() + ": row " + std::to_string(row + 1);
}

void require_column(const Table& table, const std::string& name, const std::string& key) {
  if (!table.has(name)) throw InputError(table.source() + ": unknown column '" + name + "' (spec " + key + ")");
}

void require_ids(const Table& table, const std::string& name) {
  const Column& c = table.column(name);
  for (std::size_t i = 0; i < table.rows(); ++i) {
    if (c.missing(i)) throw InputError(where(table, i) + ": column '" + name + "' is missing");
  }
}

// Session numbers must be integers: lags are defined by session number.
void require_integer_sessions(const Table& table, const std::string& name) {
  const Column& c = table.numeric(name);
  for (std::size_t i = 0; i < table.rows(); ++i) {
    const double s = c.numbers[i];
    if (is_na(s)) throw InputError(where(table, i) + ": column '" + name + "' is missing");
    if (s != std::floor(s) || std::fabs(s) > 1e9)
      throw InputError(where(table, i) + ": column '" + name + "': '" + c.text(i) + "' is not an integer session number");
  }
}

std::string patient_key(const std::string& study, const std::string& patient) { return study + '\x1f' + patient; }

// Each row's patient (study and patient id together) as an integer, in order of first appearance.
std::vector<int> patient_codes(const std::vector<std::string>& studies, const std::vector<std::string>& patients) {
  std::unordered_map<std::string, int> code_of;
  std::vector<int> codes(patients.size());
  for (std::size_t i = 0; i < codes.size(); ++i)
    codes[i] = code_of.emplace(patient_key(studies[i], patients[i]), static_cast<int>(code_of.size())).first->second;
  return codes;
}

// (patient code, session) as one hash key: sessions are integers of at most 1e9 in absolute
// value (require_integer_sessions), so they fit 32 bits, as a lag k sessions back does.
std::uint64_t session_key(int code, double session) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(code)) << 32) |
         static_cast<std::uint32_t>(static_cast<std::int32_t>(session));
}

// The row of each (patient, session); `duplicate` gets the first clash (rows i, j), if any.
using SessionRows = std::unordered_map<std::uint64_t, std::size_t>;
SessionRows session_rows(const std::vector<int>& codes, const std::vector<double>& session,
                         std::pair<std::size_t, std::size_t>* duplicate = nullptr) {
  SessionRows rows;
  rows.reserve(codes.size());
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const auto [it, inserted] = rows.emplace(session_key(codes[i], session[i]), i);
    if (!inserted && duplicate) {
      *duplicate = {it->second, i};
      break;
    }
  }
  return rows;
}

void require_unique_sessions(const IpdSpec& spec, const Table& table) {
  const auto studies = row_texts(table, spec.study), patients = row_texts(table, spec.patient);
  const Column& session = table.column(spec.session);
  std::pair<std::size_t, std::size_t> duplicate{0, 0};
  session_rows(patient_codes(studies, patients), session.numbers, &duplicate);
  const auto [first, i] = duplicate;
  if (i > 0)
    throw InputError(where(table, i) + ": duplicate row for study '" + studies[i] + "', patient '" + patients[i] +
                     "', session " + session.text(i) + " (first at " + where(table, first) + ")");
}

void require_no_clash(const IpdSpec& spec, const Table& table) {
  for (const auto& name : prepared_columns(spec)) {
    if (table.has(name))
      throw InputError(table.source() + ": column '" + name + "' clashes with a column that spiral prep adds; rename it");
  }
}

void validate_sessions(const IpdSpec& spec, const Table& sessions) {
  require_column(sessions, spec.study, "data.study");
  require_column(sessions, spec.patient, "data.patient");
  require_column(sessions, spec.session, "data.session");
  if (!spec.therapist.empty()) require_column(sessions, spec.therapist, "data.therapist");
  require_column(sessions, spec.process, "variables.process");
  require_column(sessions, spec.outcome, "variables.outcome");
  sessions.numeric(spec.process);
  sessions.numeric(spec.outcome);
  require_ids(sessions, spec.study);
  require_ids(sessions, spec.patient);
  require_integer_sessions(sessions, spec.session);
  require_unique_sessions(spec, sessions);
  require_no_clash(spec, sessions);
  if (sessions.rows() == 0) throw InputError(sessions.source() + ": no rows");
}

void validate_reverse(const IpdSpec& spec, const Table& sessions, const Table* patients) {
  for (const auto& name : spec.reverse) {
    const bool in_sessions = sessions.has(name), in_patients = patients && patients->has(name);
    if (!in_sessions && !in_patients)
      throw InputError(sessions.source() + ": unknown column '" + name + "' (spec variables.reverse)");
    if (in_sessions) sessions.numeric(name);
    if (in_patients) patients->numeric(name);
  }
}

// A study-level moderator has one value per study.
void validate_moderators(const IpdSpec& spec, const Table& sessions, const Table* patients) {
  for (const auto& name : spec.moderators) {
    const Table* table = sessions.has(name) ? &sessions : (patients && patients->has(name) ? patients : nullptr);
    if (!table) throw InputError(sessions.source() + ": unknown column '" + name + "' (spec meta.moderators)");
    const auto studies = row_texts(*table, spec.study);
    const Column& c = table->column(name);
    std::map<std::string, std::size_t> first;
    for (std::size_t i = 0; i < table->rows(); ++i) {
      const auto [it, inserted] = first.emplace(studies[i], i);
      if (!inserted && c.text(i) != c.text(it->second))
        throw InputError(where(*table, i) + ": moderator '" + name + "' is not constant within study '" + studies[i] +
                         "' ('" + c.text(it->second) + "' and '" + c.text(i) + "')");
    }
  }
}

// The [post] file: one row per patient of the sessions file, and no other patients.
void validate_post(const IpdSpec& spec, const Table& sessions, const Table& patients) {
  require_column(patients, spec.study, "data.study");
  require_column(patients, spec.patient, "data.patient");
  require_column(patients, spec.post->pre, "post.pre");
  require_column(patients, spec.post->post, "post.post");
  patients.numeric(spec.post->pre);
  patients.numeric(spec.post->post);
  require_ids(patients, spec.study);
  require_ids(patients, spec.patient);
  const auto s_study = row_texts(sessions, spec.study), s_patient = row_texts(sessions, spec.patient);
  std::map<std::string, std::size_t> session_patients;
  for (std::size_t i = 0; i < sessions.rows(); ++i) {
    const bool same_patient = i > 0 && s_study[i] == s_study[i - 1] && s_patient[i] == s_patient[i - 1];
    if (!same_patient) session_patients.emplace(patient_key(s_study[i], s_patient[i]), i);  // (keeps the first row)
  }
  const auto p_study = row_texts(patients, spec.study), p_patient = row_texts(patients, spec.patient);
  std::map<std::string, std::size_t> post_patients;
  for (std::size_t i = 0; i < patients.rows(); ++i) {
    const std::string key = patient_key(p_study[i], p_patient[i]);
    const auto [it, inserted] = post_patients.emplace(key, i);
    if (!inserted)
      throw InputError(where(patients, i) + ": duplicate row for study '" + p_study[i] + "', patient '" + p_patient[i] +
                       "' (first at " + where(patients, it->second) + ")");
    if (!session_patients.count(key))
      throw InputError(where(patients, i) + ": study '" + p_study[i] + "', patient '" + p_patient[i] +
                       "' has no sessions in " + sessions.source());
  }
  for (const auto& [key, row] : session_patients) {
    if (!post_patients.count(key))
      throw InputError(patients.source() + ": no row for study '" + s_study[row] + "', patient '" + s_patient[row] +
                       "' of " + where(sessions, row));
  }
}

std::vector<double> reversed(const IpdSpec& spec, const Column& column) {
  std::vector<double> values = column.numbers;
  if (std::find(spec.reverse.begin(), spec.reverse.end(), column.name) != spec.reverse.end()) {
    for (double& v : values) v = -v;
  }
  return values;
}

bool in_window(const IpdSpec& spec, double session) {
  return (!spec.first || session >= static_cast<double>(*spec.first)) &&
         (!spec.last || session <= static_cast<double>(*spec.last));
}

// Step 1: (x - mean) / sd within each study, over the study's non-missing window values.
std::vector<double> standardize_within(const std::vector<double>& x, const std::vector<std::string>& study,
                                       const std::string& variable) {
  std::map<std::string, std::vector<std::size_t>> rows;
  for (std::size_t i = 0; i < x.size(); ++i) rows[study[i]].push_back(i);
  std::vector<double> z(x.size(), NA);
  for (const auto& [id, idx] : rows) {
    std::vector<double> values;
    for (std::size_t i : idx) values.push_back(x[i]);
    const MeanSd m = mean_sd(values);
    if (!(m.sd > 0))
      throw InputError("study '" + id + "': variable '" + variable +
                       "' has fewer than 2 distinct values in the window; it cannot be standardized");
    for (std::size_t i : idx) z[i] = (x[i] - m.mean) / m.sd;
  }
  return z;
}

// Step 2: the mean of each patient's non-missing values (patients as patient_codes).
std::vector<double> patient_means(const std::vector<double>& z, const std::vector<int>& patient) {
  const int n_patients = patient.empty() ? 0 : *std::max_element(patient.begin(), patient.end()) + 1;
  std::vector<std::vector<double>> values(static_cast<std::size_t>(n_patients));
  for (std::size_t i = 0; i < z.size(); ++i) values[static_cast<std::size_t>(patient[i])].push_back(z[i]);
  std::vector<double> means(values.size());
  for (std::size_t p = 0; p < values.size(); ++p) means[p] = mean_sd(values[p]).mean;
  std::vector<double> out(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) out[i] = means[static_cast<std::size_t>(patient[i])];
  return out;
}

// Step 3: the value at session t - k of the same patient (missing when that row is absent).
std::vector<double> lagged(const std::vector<double>& x, const SessionRows& rows, const std::vector<int>& patient,
                           const std::vector<double>& session, int k) {
  std::vector<double> out(x.size(), NA);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto it = rows.find(session_key(patient[i], session[i] - k));
    if (it != rows.end()) out[i] = x[it->second];
  }
  return out;
}

std::vector<double> difference(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] - b[i];
  return out;
}

// Custom formulas may use the prepared columns and any column of the sessions file.
void validate_custom_models(const IpdSpec& spec, const Table& sessions) {
  const auto added = prepared_columns(spec);
  for (const auto& m : spec.custom) {
    for (const auto& v : parse_formula(m.formula).variables()) {
      if (!sessions.has(v) && std::find(added.begin(), added.end(), v) == added.end())
        throw InputError(sessions.source() + ": unknown column '" + v + "' (spec model.custom '" + m.name + "')");
    }
  }
}

}  // namespace

void validate_data(const IpdSpec& spec, const Table& sessions, const Table* patients) {
  validate_sessions(spec, sessions);
  if (spec.post && !patients) throw InputError(spec.path + ": [post] is set but no patients table was given");
  if (spec.post) validate_post(spec, sessions, *patients);
  validate_reverse(spec, sessions, spec.post ? patients : nullptr);
  validate_moderators(spec, sessions, spec.post ? patients : nullptr);
  validate_custom_models(spec, sessions);
}

std::vector<std::string> prepared_columns(const IpdSpec& spec) {
  std::vector<std::string> names = {"P", "O", "Pm", "Om", "Pw", "Ow"};
  for (int k : spec.lags) {
    names.push_back("Pw_lag" + std::to_string(k));
    names.push_back("Ow_lag" + std::to_string(k));
  }
  return names;
}

Table prepare(const IpdSpec& spec, const Table& sessions) {
  validate_sessions(spec, sessions);
  validate_reverse(spec, sessions, nullptr);
  const Column& session_column = sessions.column(spec.session);
  std::vector<bool> keep(sessions.rows());
  for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = in_window(spec, session_column.numbers[i]);
  Table out = sessions.subset(keep);
  if (out.rows() == 0) throw InputError(sessions.source() + ": no session in the window [window] of the spec");
  for (const auto& name : spec.reverse) {
    if (out.has(name)) out.add_numeric(name, reversed(spec, out.column(name)));
  }
  const auto study = row_texts(out, spec.study);
  const std::vector<int> patient = patient_codes(study, row_texts(out, spec.patient));
  const std::vector<double> session = out.column(spec.session).numbers;
  const SessionRows rows = session_rows(patient, session);

  const auto P = standardize_within(out.column(spec.process).numbers, study, spec.process);
  const auto O = standardize_within(out.column(spec.outcome).numbers, study, spec.outcome);
  const auto Pm = patient_means(P, patient), Om = patient_means(O, patient);
  const auto Pw = difference(P, Pm), Ow = difference(O, Om);
  out.add_numeric("P", P);
  out.add_numeric("O", O);
  out.add_numeric("Pm", Pm);
  out.add_numeric("Om", Om);
  out.add_numeric("Pw", Pw);
  out.add_numeric("Ow", Ow);
  for (int k : spec.lags) {
    out.add_numeric("Pw_lag" + std::to_string(k), lagged(Pw, rows, patient, session, k));
    out.add_numeric("Ow_lag" + std::to_string(k), lagged(Ow, rows, patient, session, k));
  }
  return out;
}

std::vector<std::string> study_ids(const IpdSpec& spec, const Table& sessions) {
  const auto ids = row_texts(sessions, spec.study);
  const std::set<std::string> distinct(ids.begin(), ids.end());
  std::vector<std::string> unique(distinct.begin(), distinct.end());
  std::sort(unique.begin(), unique.end(), study_less);
  return unique;
}

std::string prepared_to_csv(const Table& prepared) { return table_csv(prepared); }

IpdData load_data(const IpdSpec& spec) {
  IpdData data;
  data.sessions = read_table(spec.source);
  if (spec.post) data.patients = read_table(spec.post->source);
  return data;
}

}  // namespace spiral
