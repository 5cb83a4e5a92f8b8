#include "panel/panel_data.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "common/confidence_level.hpp"

namespace spiral::panel {
namespace {

std::string where(const Table& table, std::size_t row) {
  const long line = table.line_of(row);
  return line > 0 ? table.source() + ":" + std::to_string(line) : table.source() + " row " + std::to_string(row + 1);
}

void check_options(const Table& table, const PanelOptions& options) {
  if (options.model != "riclpm" && options.model != "clpm") {
    throw InputError("--model: expected 'riclpm' or 'clpm', got '" + options.model + "'");
  }
  if (options.vars.size() < 2) throw InputError("--vars: the panel models need at least 2 variables");
  const std::set<std::string> distinct(options.vars.begin(), options.vars.end());
  if (distinct.size() != options.vars.size()) throw InputError("--vars: a variable is named twice");
  if (options.first && options.last && *options.first > *options.last) {
    throw InputError("--first " + std::to_string(*options.first) + " is after --last " + std::to_string(*options.last));
  }
  table.column(options.id);
  table.numeric(options.time);
  for (const auto& v : options.vars) table.numeric(v);
  if (!options.group.empty()) table.column(options.group);
  if (options.equal_groups != "lagged" && options.equal_groups != "none")
    throw InputError("--equal-groups: expected 'lagged' or 'none', got '" + options.equal_groups + "'");
}

// Time values as integers; InputError naming the first non-integer value.
std::vector<long> integer_times(const Table& table, const std::string& name) {
  const Column& time = table.numeric(name);
  std::vector<long> times(table.rows(), 0);
  for (std::size_t r = 0; r < table.rows(); ++r) {
    const double t = time.numbers[r];
    if (is_na(t)) continue;
    if (!std::isfinite(t) || t != std::floor(t) || std::fabs(t) > 1e15) {
      throw InputError(where(table, r) + ": column '" + name + "' must hold integer sessions, found '" +
                       time.text(r) + "'");
    }
    times[r] = static_cast<long>(t);
  }
  return times;
}

// A patient with two rows for one session: an error naming the first row (in input order)
// that repeats an earlier one. By sorting (patient, session, row) rather than a map of them.
void check_one_row_per_session(const Table& table, const std::vector<long>& row_patient, const std::vector<long>& times,
                               const PanelOptions& options) {
  std::vector<std::array<long, 3>> keys;  // patient, session, row
  keys.reserve(table.rows());
  for (std::size_t r = 0; r < table.rows(); ++r)
    if (row_patient[r] >= 0) keys.push_back({row_patient[r], times[r], static_cast<long>(r)});
  std::sort(keys.begin(), keys.end());
  long repeat = -1;
  for (std::size_t i = 1; i < keys.size(); ++i) {
    const bool same = keys[i][0] == keys[i - 1][0] && keys[i][1] == keys[i - 1][1];
    if (same && (repeat < 0 || keys[i][2] < repeat)) repeat = keys[i][2];
  }
  if (repeat < 0) return;
  const auto r = static_cast<std::size_t>(repeat);
  throw InputError(where(table, r) + ": patient '" + table.column(options.id).text(r) + "' has two rows for " +
                   options.time + " " + std::to_string(times[r]));
}

// Each patient's group (-1: none), the group column's values in byte order into wide.groups.
// A patient whose rows name two groups is an input error (the groups are of patients).
std::vector<int> patient_groups(const Table& table, const std::vector<long>& row_patient, long patients,
                                const PanelOptions& options, WideData& wide) {
  const Column& column = table.column(options.group);
  std::vector<std::string> value(static_cast<std::size_t>(patients));
  std::vector<std::size_t> first_row(static_cast<std::size_t>(patients));
  std::set<std::string> distinct;
  for (std::size_t r = 0; r < table.rows(); ++r) {
    const long patient = row_patient[r];
    if (patient < 0 || column.missing(r)) continue;
    const std::string text = column.text(r);
    std::string& known = value[std::size_t(patient)];
    if (known.empty()) {
      known = text;
      first_row[std::size_t(patient)] = r;
      distinct.insert(text);
    } else if (known != text) {
      throw InputError(where(table, r) + ": --group '" + options.group + "': patient '" +
                       table.column(options.id).text(r) + "' is in group '" + text + "' here and in '" + known +
                       "' at " + where(table, first_row[std::size_t(patient)]) + "; a patient's group must not change");
    }
  }
  if (distinct.size() < 2)
    throw InputError("--group '" + options.group + "': a multiple-group model needs at least 2 groups, found " +
                     std::to_string(distinct.size()));
  wide.groups.assign(distinct.begin(), distinct.end());
  std::vector<int> group(static_cast<std::size_t>(patients), -1);
  for (long i = 0; i < patients; ++i) {
    const std::string& v = value[std::size_t(i)];
    if (!v.empty()) group[std::size_t(i)] = static_cast<int>(std::distance(distinct.begin(), distinct.find(v)));
  }
  return group;
}

// Each group's own variances at every wave need an observed value there.
void check_groups_observed(const WideData& wide, const PanelOptions& options) {
  const std::size_t k = wide.vars.size();
  for (int g = 0; g < static_cast<int>(wide.groups.size()); ++g) {
    const Eigen::MatrixXd y = wide.y(wide.rows_of(g), Eigen::all);
    for (long j = 0; j < y.cols(); ++j) {
      if ((y.col(j).array() == y.col(j).array()).count() > 0) continue;
      throw InputError("--group '" + options.group + "': group '" + wide.groups[std::size_t(g)] + "' has no observed '" +
                       wide.vars[std::size_t(j) % k] + "' at " + options.time + " " +
                       std::to_string(wide.waves[std::size_t(j) / k]) + "; every group needs data at every wave");
    }
  }
}

}  // namespace

WideData wide_from_long(const Table& table, const PanelOptions& options) {
  check_options(table, options);
  WideData wide;
  spiral::detail::check_confidence_level(options.level, wide.warnings);
  const Column& id = table.column(options.id);
  const Column& time = table.numeric(options.time);
  const std::vector<long> times = integer_times(table, options.time);
  wide.vars = options.vars;

  // Patients in order of first appearance (told apart by factor code when the id is a
  // factor, else by text); waves = the distinct time values in [first, last], ascending
  // (specification section 7.1: 1970, 1971, ... or 10, 20, ...).
  std::vector<long> row_patient(table.rows(), -1);
  std::vector<long> patient_of_code(id.is_numeric() ? 0 : id.levels.size(), -1);
  std::map<std::string, long> patient_of_text;
  long patients = 0;
  const long lo = options.first.value_or(std::numeric_limits<long>::min());
  const long hi = options.last.value_or(std::numeric_limits<long>::max());
  std::set<long> distinct_times;
  long skipped = 0;
  for (std::size_t r = 0; r < table.rows(); ++r) {
    if (id.missing(r) || is_na(time.numbers[r])) {
      ++skipped;
      continue;
    }
    long& patient = id.is_numeric() ? patient_of_text.try_emplace(id.text(r), -1).first->second
                                    : patient_of_code[static_cast<std::size_t>(id.codes[r])];
    if (patient < 0) patient = patients++;
    row_patient[r] = patient;
    if (times[r] >= lo && times[r] <= hi) distinct_times.insert(times[r]);
  }
  if (skipped > 0) {
    wide.warnings.push_back(std::to_string(skipped) + " rows without " + options.id + " or " + options.time +
                            " were not used");
  }
  if (distinct_times.size() < 3) {
    throw InputError("--time '" + options.time + "': the panel models need at least 3 waves, found " +
                     std::to_string(distinct_times.size()));
  }
  if (distinct_times.size() > 1000) throw InputError("--time '" + options.time + "': more than 1000 waves");
  wide.waves.assign(distinct_times.begin(), distinct_times.end());
  std::map<long, std::size_t> wave_of_time;
  for (std::size_t w = 0; w < wide.waves.size(); ++w) wave_of_time[wide.waves[w]] = w;

  const std::size_t k = options.vars.size();
  const std::size_t p = k * wide.waves.size();
  Eigen::MatrixXd all = Eigen::MatrixXd::Constant(patients, static_cast<long>(p), NA);
  std::vector<const Column*> values;
  for (const auto& v : options.vars) values.push_back(&table.numeric(v));
  check_one_row_per_session(table, row_patient, times, options);
  for (std::size_t r = 0; r < table.rows(); ++r) {
    const long patient = row_patient[r];
    if (patient < 0 || times[r] < lo || times[r] > hi) continue;  // no id or time, or outside the window
    const std::size_t wave = wave_of_time.at(times[r]);
    for (std::size_t v = 0; v < k; ++v) {
      const double x = values[v]->numbers[r];
      if (!is_na(x) && !std::isfinite(x)) {
        throw InputError(where(table, r) + ": column '" + options.vars[v] + "' holds an infinite value");
      }
      all(patient, static_cast<long>(wave * k + v)) = x;
    }
  }

  // Variables must vary and every wave must be observed (else its variances are not identified).
  for (std::size_t v = 0; v < k; ++v) {
    double first_value = NA;
    bool varies = false;
    for (std::size_t w = 0; w < wide.waves.size(); ++w) {
      const auto column = all.col(static_cast<long>(w * k + v));
      const long observed = (column.array() == column.array()).count();
      if (observed == 0) {
        throw InputError("column '" + options.vars[v] + "' has no observed value at " + options.time + " " +
                         std::to_string(wide.waves[w]) + "; every wave needs data");
      }
      for (long i = 0; i < column.size(); ++i) {
        if (is_na(column(i))) continue;
        if (is_na(first_value)) first_value = column(i);
        else if (column(i) != first_value) varies = true;
      }
    }
    if (!varies) throw InputError("column '" + options.vars[v] + "' is constant in the window");
  }

  const std::vector<int> group = options.group.empty() ? std::vector<int>()
                                                       : patient_groups(table, row_patient, patients, options, wide);
  std::vector<long> kept;
  long without_group = 0;
  for (long i = 0; i < all.rows(); ++i) {
    if (!(all.row(i).array() == all.row(i).array()).any()) continue;
    if (!group.empty() && group[std::size_t(i)] < 0) {
      ++without_group;
      continue;
    }
    kept.push_back(i);
    if (!group.empty()) wide.group.push_back(group[std::size_t(i)]);
  }
  wide.n_dropped = all.rows() - static_cast<long>(kept.size());
  wide.y = all(kept, Eigen::all);
  if (wide.n_dropped > without_group) {
    wide.warnings.push_back(std::to_string(wide.n_dropped - without_group) +
                            " patients without any observed value were dropped");
  }
  if (without_group > 0) {
    wide.warnings.push_back(std::to_string(without_group) + " patients without a value of " + options.group +
                            " were dropped");
  }
  if (!group.empty()) check_groups_observed(wide, options);
  return wide;
}

std::vector<long> WideData::rows_of(int g) const {
  std::vector<long> rows;
  for (long i = 0; i < y.rows(); ++i)
    if (group.empty() || group[std::size_t(i)] == g) rows.push_back(i);
  return rows;
}

namespace {

// F with C = F F': the centred rows / sqrt(n) when there are fewer patients than columns
// (a single patient has none), else P' L D^(1/2) from C's pivoted LDL' factorization
// (P C P' = L D L', semi-definite C allowed: D >= 0 up to rounding).
Eigen::MatrixXd covariance_factor(const Eigen::MatrixXd& centred, const Eigen::MatrixXd& cov, double n) {
  if (centred.rows() == 1) return Eigen::MatrixXd(cov.rows(), 0);
  if (centred.rows() <= centred.cols()) return centred.transpose() / std::sqrt(n);
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(cov);
  const Eigen::MatrixXd l_root_d =
      Eigen::MatrixXd(ldlt.matrixL()) * ldlt.vectorD().cwiseMax(0.0).cwiseSqrt().asDiagonal();
  return ldlt.transpositionsP().transpose() * l_root_d;
}

}  // namespace

std::vector<Pattern> missing_patterns(const Eigen::MatrixXd& y) {
  std::map<std::vector<int>, std::vector<long>> groups;
  for (long i = 0; i < y.rows(); ++i) {
    std::vector<int> observed;
    for (long j = 0; j < y.cols(); ++j) {
      if (!is_na(y(i, j))) observed.push_back(static_cast<int>(j));
    }
    if (!observed.empty()) groups[observed].push_back(i);
  }
  std::vector<Pattern> patterns;
  for (const auto& [observed, rows] : groups) {
    Pattern pattern;
    pattern.observed = observed;
    for (int j = 0, next = 0; j < static_cast<int>(y.cols()); ++j) {
      if (next < static_cast<int>(observed.size()) && observed[static_cast<std::size_t>(next)] == j) ++next;
      else pattern.missing.push_back(j);
    }
    pattern.n = static_cast<double>(rows.size());
    const Eigen::MatrixXd values = y(rows, observed);
    pattern.mean = values.colwise().mean().transpose();
    const Eigen::MatrixXd centred = values.rowwise() - pattern.mean.transpose();
    pattern.cov = centred.transpose() * centred / pattern.n;
    pattern.cov_factor = covariance_factor(centred, pattern.cov, pattern.n);
    patterns.push_back(std::move(pattern));
  }
  return patterns;
}

std::optional<Pattern> pairwise_moments(const Eigen::MatrixXd& y) {
  const long n = y.rows(), p = y.cols();
  const Eigen::ArrayXXd observed = (y.array() == y.array()).cast<double>();
  Pattern all;
  all.n = static_cast<double>(n);
  all.mean = observed.select(y.array(), 0.0).colwise().sum().transpose() / observed.colwise().sum().transpose();
  // Per pair (a, b) over the rows observing both: sum (y_a - m_a)(y_b - m_b) / count with m
  // the pair's own means, i.e. (S_ab - S_a S_b / count) / count from the sums below, taken
  // about the available-case means (no cancellation when a mean is large against its spread).
  const Eigen::MatrixXd values = observed.select(y.array().rowwise() - all.mean.transpose().array(), 0.0).matrix();
  const Eigen::MatrixXd count = observed.matrix().transpose() * observed.matrix();
  const Eigen::MatrixXd sum_a = values.transpose() * observed.matrix();  // (a, b): sum of y_a where b is observed
  const Eigen::MatrixXd products = values.transpose() * values;
  all.cov.resize(p, p);
  for (long a = 0; a < p; ++a)
    for (long b = 0; b < p; ++b) {
      const double c = count(a, b);
      all.cov(a, b) = c > 0 ? (products(a, b) - sum_a(a, b) * sum_a(b, a) / c) / c : NA;
    }
  const Eigen::LLT<Eigen::MatrixXd> llt(all.cov);
  if (!all.cov.allFinite() || llt.info() != Eigen::Success) return std::nullopt;
  for (int j = 0; j < static_cast<int>(p); ++j) all.observed.push_back(j);
  all.cov_factor = llt.matrixL();
  return all;
}

Standardized standardize(const Eigen::MatrixXd& y, int k) {
  Standardized z;
  z.y = y;
  z.center.resize(k);
  z.scale.resize(k);
  for (int v = 0; v < k; ++v) {
    double sum = 0, count = 0;
    for (long j = v; j < y.cols(); j += k)
      for (long i = 0; i < y.rows(); ++i)
        if (!is_na(y(i, j))) sum += y(i, j), ++count;
    const double mean = sum / count;
    double squares = 0;
    for (long j = v; j < y.cols(); j += k)
      for (long i = 0; i < y.rows(); ++i)
        if (!is_na(y(i, j))) squares += (y(i, j) - mean) * (y(i, j) - mean);
    const double sd = std::sqrt(squares / count);
    z.center(v) = mean;
    z.scale(v) = sd > 0 ? sd : 1;
    for (long j = v; j < y.cols(); j += k) z.y.col(j) = (y.col(j).array() - mean) / z.scale(v);
    z.log_jacobian += count * std::log(z.scale(v));
  }
  return z;
}

}  // namespace spiral::panel
