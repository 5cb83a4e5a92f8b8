// `spiral prep`: validation of the data against the spec and steps 1-3 of the default
// stage-1 recipe (specification section 5): window, reverse scoring, within-study
// z-standardization, patient means, within parts, lags by session number.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "common/parallel.hpp"
#include "ipd/ipd_internal.hpp"
#include "spiral/formula.hpp"
#include "spiral/ipd.hpp"

namespace spiral {

using namespace ipd_detail;

namespace ipd_detail {

namespace {

// A factor whose levels are strictly increasing in byte order (as every reader and the
// simulator make them), so distinct, and none of them "NA" (the text of a missing value): its
// ids are its levels, numbered by first appearance, without comparing any text.
bool has_distinct_sorted_levels(const Column& c) {
  return c.is_factor() && std::adjacent_find(c.levels.begin(), c.levels.end(), std::greater_equal<>()) == c.levels.end() &&
         !std::binary_search(c.levels.begin(), c.levels.end(), "NA");
}

RowIds factor_level_ids(const Column& c) {
  RowIds ids;
  ids.code.resize(c.codes.size());
  std::vector<int> code_of_level(c.levels.size(), -1);
  int missing_code = -1;
  for (std::size_t i = 0; i < ids.code.size(); ++i) {
    const int level = c.codes[i];
    int& code = level < 0 ? missing_code : code_of_level[static_cast<std::size_t>(level)];
    if (code < 0) {
      code = static_cast<int>(ids.text.size());
      ids.text.push_back(level < 0 ? "NA" : c.levels[static_cast<std::size_t>(level)]);
    }
    ids.code[i] = code;
  }
  return ids;
}

}  // namespace

RowIds row_ids(const Table& table, const std::string& column) {
  const Column& c = table.column(column);
  if (has_distinct_sorted_levels(c)) return factor_level_ids(c);
  RowIds ids;
  ids.code.resize(table.rows());
  std::unordered_map<std::string, int> code_of_text;
  const auto code_of = [&](std::string text) {
    const auto [it, added] = code_of_text.emplace(std::move(text), static_cast<int>(ids.text.size()));
    if (added) ids.text.push_back(it->first);
    return it->second;
  };
  // Each level's or value's text is formed once; values are told apart by their bits (0 and
  // -0 print differently; a missing value, NaN, has its text looked up each time).
  std::vector<int> code_of_level(c.levels.size(), -1);
  std::unordered_map<std::uint64_t, int> code_of_value;
  for (std::size_t i = 0; i < ids.code.size(); ++i) {
    if (c.missing(i)) {
      ids.code[i] = code_of(c.text(i));
    } else if (c.is_numeric()) {
      const auto [it, added] = code_of_value.emplace(std::bit_cast<std::uint64_t>(c.numbers[i]), 0);
      if (added) it->second = code_of(c.text(i));
      ids.code[i] = it->second;
    } else {
      int& code = code_of_level[static_cast<std::size_t>(c.codes[i])];
      if (code < 0) code = code_of(c.text(i));
      ids.code[i] = code;
    }
  }
  return ids;
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
  const RowIds ids = row_ids(table, study_column);
  std::unordered_map<std::string_view, std::size_t> index_of;
  for (std::size_t s = 0; s < studies.size(); ++s) index_of.emplace(studies[s], s);
  std::vector<long> study_of_code(ids.text.size(), -1);  // the index in `studies` of each id
  for (std::size_t c = 0; c < ids.text.size(); ++c) {
    const auto it = index_of.find(ids.text[c]);
    if (it != index_of.end()) study_of_code[c] = static_cast<long>(it->second);
  }
  std::vector<std::vector<std::size_t>> rows(studies.size());
  for (std::size_t i = 0; i < ids.code.size(); ++i) {
    const long s = study_of_code[static_cast<std::size_t>(ids.code[i])];
    if (s >= 0) rows[static_cast<std::size_t>(s)].push_back(i);
  }
  std::vector<Table> out(studies.size());
  detail::parallel_for(studies.size(), threads,
                       [&](std::size_t s) { out[s] = table.select_rows(rows[s], Table::Levels::DropUnused); });
  return out;
}

// R's mean() and var(): long double sums with mean's second refinement pass (summary.c, cov.c).
MeanSd mean_sd(std::span<const double> values) {
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

// (study, patient) pairs of id codes numbered in order of first appearance. A patient id of
// one study only (the usual case) is looked up by its code; the pairs of an id that recurs in
// another study, in a hash map.
class PairCodes {
 public:
  explicit PairCodes(std::size_t patient_ids) : first_study_(patient_ids, -1), first_code_(patient_ids, -1) {}

  // The pair's code: the next unused one (0, 1, ...) when the pair is new.
  int add(int study, int patient) {
    const auto p = static_cast<std::size_t>(patient);
    if (first_study_[p] < 0) {
      first_study_[p] = study;
      return first_code_[p] = size_++;
    }
    if (first_study_[p] == study) return first_code_[p];
    const auto [it, added] = others_.emplace(key(study, patient), size_);
    if (added) ++size_;
    return it->second;
  }
  // The pair's code, or -1.
  int find(int study, int patient) const {
    const auto p = static_cast<std::size_t>(patient);
    if (first_study_[p] == study) return first_code_[p];
    const auto it = others_.find(key(study, patient));
    return it == others_.end() ? -1 : it->second;
  }

 private:
  static std::uint64_t key(int study, int patient) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(study)) << 32) | static_cast<std::uint32_t>(patient);
  }
  std::vector<int> first_study_, first_code_;  // per patient id code
  std::unordered_map<std::uint64_t, int> others_;
  int size_ = 0;
};

// Each row's patient (study and patient id together) as an integer, in order of first appearance.
std::vector<int> patient_codes(const RowIds& studies, const RowIds& patients) {
  PairCodes pairs(patients.text.size());
  std::vector<int> codes(patients.code.size());
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = pairs.add(studies.code[i], patients.code[i]);
  return codes;
}

// Each patient's rows in input order (patients as patient_codes): patient p's rows are
// row[offset[p] .. offset[p + 1]). Built by counting, without a node per row.
struct RowsByPatient {
  std::vector<std::size_t> offset, row;

  explicit RowsByPatient(const std::vector<int>& patient) {
    const std::size_t n_patients = patient.empty() ? 0 : std::size_t(*std::max_element(patient.begin(), patient.end())) + 1;
    offset.assign(n_patients + 1, 0);
    for (int p : patient) ++offset[static_cast<std::size_t>(p) + 1];
    std::partial_sum(offset.begin(), offset.end(), offset.begin());
    row.resize(patient.size());
    std::vector<std::size_t> next(offset.begin(), offset.end() - 1);
    for (std::size_t i = 0; i < patient.size(); ++i) row[next[static_cast<std::size_t>(patient[i])]++] = i;
  }
  std::size_t patients() const { return offset.size() - 1; }
};

// Each patient's rows ordered by session (rows of one session in input order), their
// sessions beside them.
struct SessionIndex : RowsByPatient {
  std::vector<double> session;

  SessionIndex(const std::vector<int>& patient, const std::vector<double>& sessions) : RowsByPatient(patient) {
    for (std::size_t p = 0; p < patients(); ++p)
      std::stable_sort(row.begin() + long(offset[p]), row.begin() + long(offset[p + 1]),
                       [&](std::size_t a, std::size_t b) { return sessions[a] < sessions[b]; });
    session.resize(row.size());
    for (std::size_t j = 0; j < row.size(); ++j) session[j] = sessions[row[j]];
  }

  // The row of (patient, session), or none.
  std::optional<std::size_t> find(int patient, double s) const {
    const auto begin = session.begin() + long(offset[static_cast<std::size_t>(patient)]);
    const auto end = session.begin() + long(offset[static_cast<std::size_t>(patient) + 1]);
    const auto it = std::lower_bound(begin, end, s);
    if (it == end || *it != s) return std::nullopt;
    return row[static_cast<std::size_t>(it - session.begin())];
  }

  // The first clash in input order, (its first row, the clashing row), if two rows share a
  // patient and session.
  std::optional<std::pair<std::size_t, std::size_t>> first_duplicate() const {
    std::optional<std::pair<std::size_t, std::size_t>> first;
    for (std::size_t p = 0; p + 1 < offset.size(); ++p)
      for (std::size_t j = offset[p] + 1, run = offset[p]; j < offset[p + 1]; ++j) {  // run: the session's first row
        if (session[j] != session[j - 1]) run = j;
        else if (!first || row[j] < first->second) first = std::pair{row[run], row[j]};
      }
    return first;
  }
};

void require_unique_sessions(const IpdSpec& spec, const Table& table) {
  const Column& session = table.column(spec.session);
  const SessionIndex index(patient_codes(row_ids(table, spec.study), row_ids(table, spec.patient)), session.numbers);
  if (const auto duplicate = index.first_duplicate()) {
    const auto [first, i] = *duplicate;
    throw InputError(where(table, i) + ": duplicate row for study '" + table.column(spec.study).text(i) +
                     "', patient '" + table.column(spec.patient).text(i) + "', session " + session.text(i) +
                     " (first at " + where(table, first) + ")");
  }
}

void require_no_clash(const IpdSpec& spec, const Table& table) {
  for (const auto& name : prepared_columns(spec)) {
    if (table.has(name))
      throw InputError(table.source() + ": column '" + name + "' clashes with a column that spiral prep adds; rename it");
  }
}

// A process or outcome value of +-Inf (which the standardization would turn into NaN and
// blame on too few distinct values), named by file and line as the model frame names it.
void require_finite_values(const Table& sessions, const std::string& name) {
  const Column& column = sessions.numeric(name);
  for (std::size_t row = 0; row < column.numbers.size(); ++row)
    if (std::isinf(column.numbers[row]))
      throw InputError(where(sessions, row) + ": column '" + name + "' has the infinite value " +
                       (column.numbers[row] > 0 ? "Inf" : "-Inf"));
}

void validate_sessions(const IpdSpec& spec, const Table& sessions) {
  require_column(sessions, spec.study, "data.study");
  require_column(sessions, spec.patient, "data.patient");
  require_column(sessions, spec.session, "data.session");
  if (!spec.therapist.empty()) require_column(sessions, spec.therapist, "data.therapist");
  require_column(sessions, spec.process, "variables.process");
  require_column(sessions, spec.outcome, "variables.outcome");
  require_finite_values(sessions, spec.process);
  require_finite_values(sessions, spec.outcome);
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
    const RowIds studies = row_ids(*table, spec.study);
    const Column& c = table->column(name);
    std::vector<std::size_t> first(studies.text.size(), table->rows());  // each study's first row
    for (std::size_t i = 0; i < table->rows(); ++i) {
      const auto study = static_cast<std::size_t>(studies.code[i]);
      if (first[study] == table->rows()) first[study] = i;
      else if (c.text(i) != c.text(first[study]))
        throw InputError(where(*table, i) + ": moderator '" + name + "' is not constant within study '" +
                         studies.text[study] + "' ('" + c.text(first[study]) + "' and '" + c.text(i) + "')");
    }
  }
}

// Each code of `from` as the code of the same text in `to` (-1 where `to` lacks it).
std::vector<int> codes_in(const RowIds& from, const RowIds& to) {
  std::unordered_map<std::string_view, int> code_of;
  for (std::size_t c = 0; c < to.text.size(); ++c) code_of.emplace(to.text[c], static_cast<int>(c));
  std::vector<int> codes(from.text.size(), -1);
  for (std::size_t c = 0; c < from.text.size(); ++c) {
    const auto it = code_of.find(from.text[c]);
    if (it != code_of.end()) codes[c] = it->second;
  }
  return codes;
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
  const RowIds s_study = row_ids(sessions, spec.study), s_patient = row_ids(sessions, spec.patient);
  const RowIds p_study = row_ids(patients, spec.study), p_patient = row_ids(patients, spec.patient);
  PairCodes session_patients(s_patient.text.size());
  std::vector<std::size_t> first_session_row;  // per patient of the sessions file
  for (std::size_t i = 0; i < sessions.rows(); ++i)
    if (session_patients.add(s_study.code[i], s_patient.code[i]) == int(first_session_row.size()))
      first_session_row.push_back(i);
  const std::vector<int> study_in_sessions = codes_in(p_study, s_study);
  const std::vector<int> patient_in_sessions = codes_in(p_patient, s_patient);
  PairCodes post_patients(p_patient.text.size());
  std::vector<std::size_t> post_row;  // per patient of the patients file
  std::vector<bool> has_post_row(first_session_row.size(), false);
  for (std::size_t i = 0; i < patients.rows(); ++i) {
    const auto study = static_cast<std::size_t>(p_study.code[i]), patient = static_cast<std::size_t>(p_patient.code[i]);
    const int code = post_patients.add(p_study.code[i], p_patient.code[i]);
    if (code < int(post_row.size()))
      throw InputError(where(patients, i) + ": duplicate row for study '" + p_study.text[study] + "', patient '" +
                       p_patient.text[patient] + "' (first at " + where(patients, post_row[std::size_t(code)]) + ")");
    post_row.push_back(i);
    const int in_sessions = study_in_sessions[study] < 0 || patient_in_sessions[patient] < 0
                                ? -1
                                : session_patients.find(study_in_sessions[study], patient_in_sessions[patient]);
    if (in_sessions < 0)
      throw InputError(where(patients, i) + ": study '" + p_study.text[study] + "', patient '" + p_patient.text[patient] +
                       "' has no sessions in " + sessions.source());
    has_post_row[std::size_t(in_sessions)] = true;
  }
  // A patient of the sessions file without a row: the first in (study, patient) order.
  std::optional<std::pair<std::string, std::string>> first_missing;
  std::size_t first_missing_row = 0;
  for (std::size_t code = 0; code < first_session_row.size(); ++code) {
    if (has_post_row[code]) continue;
    const std::size_t row = first_session_row[code];
    std::pair<std::string, std::string> ids{s_study.text[static_cast<std::size_t>(s_study.code[row])],
                                            s_patient.text[static_cast<std::size_t>(s_patient.code[row])]};
    if (!first_missing || ids < *first_missing) {
      first_missing = std::move(ids);
      first_missing_row = row;
    }
  }
  if (first_missing)
    throw InputError(patients.source() + ": no row for study '" + first_missing->first + "', patient '" +
                     first_missing->second + "' of " + where(sessions, first_missing_row));
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
std::vector<double> standardize_within(const std::vector<double>& x, const RowIds& study, const std::string& variable) {
  std::vector<std::vector<std::size_t>> rows(study.text.size());
  for (std::size_t i = 0; i < x.size(); ++i) rows[static_cast<std::size_t>(study.code[i])].push_back(i);
  std::vector<std::size_t> order(rows.size());  // the studies in id order (which one a message names)
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return study.text[a] < study.text[b]; });
  std::vector<double> z(x.size(), NA);
  for (std::size_t s : order) {
    std::vector<double> values;
    for (std::size_t i : rows[s]) values.push_back(x[i]);
    const MeanSd m = mean_sd(values);
    if (!(m.sd > 0))
      throw InputError("study '" + study.text[s] + "': variable '" + variable +
                       "' has fewer than 2 distinct values in the window; it cannot be standardized");
    for (std::size_t i : rows[s]) z[i] = (x[i] - m.mean) / m.sd;
  }
  return z;
}

}  // namespace

// Each patient's values side by side (in row order), then R's mean() of each patient's run.
std::vector<double> ipd_detail::mean_per_patient(const std::vector<double>& values, const std::vector<int>& patient) {
  const RowsByPatient rows(patient);
  std::vector<double> grouped(values.size());
  for (std::size_t j = 0; j < grouped.size(); ++j) grouped[j] = values[rows.row[j]];
  std::vector<double> means(rows.patients());
  for (std::size_t p = 0; p < means.size(); ++p)
    means[p] = mean_sd(std::span<const double>(grouped).subspan(rows.offset[p], rows.offset[p + 1] - rows.offset[p])).mean;
  return means;
}

namespace {

// Step 2: the mean of each patient's non-missing values (patients as patient_codes).
std::vector<double> patient_means(const std::vector<double>& z, const std::vector<int>& patient) {
  const std::vector<double> means = ipd_detail::mean_per_patient(z, patient);
  std::vector<double> out(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) out[i] = means[static_cast<std::size_t>(patient[i])];
  return out;
}

// Step 3: the value at session t - k of the same patient (missing when that row is absent).
std::vector<double> lagged(const std::vector<double>& x, const SessionIndex& rows, const std::vector<int>& patient,
                           const std::vector<double>& session, int k) {
  std::vector<double> out(x.size(), NA);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (const auto row = rows.find(patient[i], session[i] - k)) out[i] = x[*row];
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
  return prepare_validated(spec, sessions);
}

Table ipd_detail::prepare_validated(const IpdSpec& spec, const Table& sessions) {
  const Column& session_column = sessions.column(spec.session);
  std::vector<bool> keep(sessions.rows());
  for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = in_window(spec, session_column.numbers[i]);
  Table out = sessions.subset(keep);
  if (out.rows() == 0) throw InputError(sessions.source() + ": no session in the window [window] of the spec");
  for (const auto& name : spec.reverse) {
    if (out.has(name)) out.add_numeric(name, reversed(spec, out.column(name)));
  }
  const RowIds study = row_ids(out, spec.study);
  const std::vector<int> patient = patient_codes(study, row_ids(out, spec.patient));
  const std::vector<double> session = out.column(spec.session).numbers;
  const SessionIndex rows(patient, session);

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
  std::vector<std::string> unique = row_ids(sessions, spec.study).text;
  std::sort(unique.begin(), unique.end(), study_less);
  return unique;
}

std::string prepared_to_csv(const Table& prepared) { return table_csv(prepared); }

IpdData load_data(const IpdSpec& spec) {
  IpdData data;
  ReadOptions read;
  read.value_labels = spec.value_labels;
  data.sessions = read_table(spec.source, read);
  if (spec.post) data.patients = read_table(spec.post->source, read);
  return data;
}

}  // namespace spiral
