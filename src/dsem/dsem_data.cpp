#include "dsem/dsem_data.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "common/confidence_level.hpp"

namespace spiral::dsem {
namespace {

std::string where(const Table& table, std::size_t row) {
  const long line = table.line_of(row);
  return line > 0 ? table.source() + ":" + std::to_string(line) : table.source() + " row " + std::to_string(row + 1);
}

void check_options(const Table& table, const DsemOptions& options) {
  if (options.vars.size() < 2 || options.vars.size() > 4) throw InputError("--vars: dsem takes 2 to 4 variables");
  if (std::set<std::string>(options.vars.begin(), options.vars.end()).size() != options.vars.size())
    throw InputError("--vars: a variable is named twice");
  if (options.first && options.last && *options.first > *options.last)
    throw InputError("--first " + std::to_string(*options.first) + " is after --last " + std::to_string(*options.last));
  table.column(options.id);
  table.numeric(options.time);
  for (const auto& v : options.vars) table.numeric(v);
  for (const auto& b : options.between) {
    table.column(b);
    if (b == options.id || std::find(options.vars.begin(), options.vars.end(), b) != options.vars.end())
      throw InputError("--between: '" + b + "' is the patient column or one of --vars");
  }
  if (!options.cluster.empty()) table.column(options.cluster);
}

// Per row: the patient's index in order of first appearance (-1: no id or no time), and the
// session as an integer (InputError naming the first non-integer one).
struct RowKeys {
  std::vector<long> patient, session;
  std::vector<std::string> ids;
  std::vector<std::size_t> first_row;  // each patient's first row
};

RowKeys row_keys(const Table& table, const DsemOptions& options) {
  const Column& id = table.column(options.id);
  const Column& time = table.numeric(options.time);
  RowKeys keys;
  keys.patient.assign(table.rows(), -1);
  keys.session.assign(table.rows(), 0);
  std::map<std::string, long> index;
  for (std::size_t r = 0; r < table.rows(); ++r) {
    const double t = time.numbers[r];
    if (id.missing(r) || is_na(t)) continue;
    if (!std::isfinite(t) || t != std::floor(t) || std::fabs(t) > 1e15)
      throw InputError(where(table, r) + ": column '" + options.time + "' must hold integer sessions, found '" +
                       time.text(r) + "'");
    const auto [it, added] = index.try_emplace(id.text(r), static_cast<long>(keys.ids.size()));
    if (added) {
      keys.ids.push_back(id.text(r));
      keys.first_row.push_back(r);
    }
    keys.patient[r] = it->second;
    keys.session[r] = static_cast<long>(t);
  }
  return keys;
}

// The value a patient-level column takes for each patient (text; "" = missing), or InputError
// naming the first row where it differs from the patient's earlier rows.
std::vector<std::string> patient_values(const Table& table, const RowKeys& keys, const std::string& name,
                                        const std::string& option) {
  const Column& column = table.column(name);
  std::vector<std::string> value(keys.ids.size());
  std::vector<bool> seen(keys.ids.size(), false);
  for (std::size_t r = 0; r < table.rows(); ++r) {
    const long i = keys.patient[r];
    if (i < 0 || column.missing(r)) continue;
    const auto p = static_cast<std::size_t>(i);
    if (column.is_numeric() && !std::isfinite(column.numbers[r]))
      throw InputError(where(table, r) + ": column '" + name + "' holds an infinite value");
    const std::string text = column.text(r);
    if (seen[p] && text != value[p])
      throw InputError(where(table, r) + ": " + option + " column '" + name + "' varies within patient '" +
                       keys.ids[p] + "' ('" + value[p] + "', then '" + text + "'); it must be constant within a patient");
    value[p] = text;
    seen[p] = true;
  }
  return value;
}

// The window: --first/--last or every observed session.
std::vector<long> window(const RowKeys& keys, const DsemOptions& options) {
  long lo = std::numeric_limits<long>::max(), hi = std::numeric_limits<long>::min();
  for (std::size_t r = 0; r < keys.patient.size(); ++r) {
    if (keys.patient[r] < 0) continue;
    lo = std::min(lo, keys.session[r]);
    hi = std::max(hi, keys.session[r]);
  }
  if (options.first) lo = *options.first;
  if (options.last) hi = *options.last;
  if (hi < lo) throw InputError("--time '" + options.time + "': no session in the window");
  if (hi - lo + 1 > 10000) throw InputError("--time '" + options.time + "': more than 10000 sessions in the window");
  std::vector<long> occasions;
  for (long t = lo; t <= hi; ++t) occasions.push_back(t);
  return occasions;
}

// Patients x (occasions * k) values; InputError for a repeated session or an infinite value.
Eigen::MatrixXd occasion_matrix(const Table& table, const RowKeys& keys, const DsemOptions& options,
                                const std::vector<long>& occasions) {
  const long k = static_cast<long>(options.vars.size());
  const long nt = static_cast<long>(occasions.size());
  Eigen::MatrixXd y = Eigen::MatrixXd::Constant(static_cast<long>(keys.ids.size()), nt * k, NA);
  std::vector<char> filled(keys.ids.size() * static_cast<std::size_t>(nt), 0);
  std::vector<const Column*> columns;
  for (const auto& v : options.vars) columns.push_back(&table.numeric(v));
  for (std::size_t r = 0; r < table.rows(); ++r) {
    const long i = keys.patient[r];
    const long t = keys.session[r] - occasions.front();
    if (i < 0 || t < 0 || t >= nt) continue;
    char& seen = filled[static_cast<std::size_t>(i * nt + t)];
    if (seen)
      throw InputError(where(table, r) + ": patient '" + keys.ids[static_cast<std::size_t>(i)] + "' has two rows for " +
                       options.time + " " + std::to_string(keys.session[r]));
    seen = 1;
    for (long v = 0; v < k; ++v) {
      const double value = columns[static_cast<std::size_t>(v)]->numbers[r];
      if (!is_na(value) && !std::isfinite(value))
        throw InputError(where(table, r) + ": column '" + options.vars[static_cast<std::size_t>(v)] +
                         "' holds an infinite value");
      y(i, t * k + v) = value;
    }
  }
  return y;
}

long observed_occasions(const Eigen::MatrixXd& y, long i, long k) {
  long count = 0;
  for (long t = 0; t < y.cols() / k; ++t)
    if ((y.row(i).segment(t * k, k).array() == y.row(i).segment(t * k, k).array()).any()) ++count;
  return count;
}

void check_variables_vary(const DsemData& data) {
  const long k = data.k();
  for (long v = 0; v < k; ++v) {
    double first = NA;
    bool varies = false;
    for (long i = 0; i < data.y.rows() && !varies; ++i)
      for (long t = 0; t < data.occasions_count(); ++t) {
        const double value = data.y(i, t * k + v);
        if (is_na(value)) continue;
        if (is_na(first)) first = value;
        else if (value != first) varies = true;
      }
    if (!varies)
      throw InputError("column '" + data.vars[static_cast<std::size_t>(v)] + "' is constant in the window");
  }
}

// The pre-sample values' prior variances: per variable, the pooled within-patient variance
// (squared deviations from each patient's mean of its observed values, divided by the
// observed values less one per patient with any).
Eigen::VectorXd pooled_within_variance(const DsemData& data) {
  const long k = data.k();
  Eigen::VectorXd s0(k);
  for (long v = 0; v < k; ++v) {
    double ss = 0, df = 0;
    for (long i = 0; i < data.n(); ++i) {
      double sum = 0, count = 0;
      for (long t = 0; t < data.occasions_count(); ++t)
        if (!is_na(data.y(i, t * k + v))) sum += data.y(i, t * k + v), ++count;
      if (count == 0) continue;
      const double mean = sum / count;
      for (long t = 0; t < data.occasions_count(); ++t)
        if (!is_na(data.y(i, t * k + v))) ss += (data.y(i, t * k + v) - mean) * (data.y(i, t * k + v) - mean);
      df += count - 1;
    }
    if (!(df > 0 && ss > 0))
      throw InputError("column '" + data.vars[static_cast<std::size_t>(v)] + "' does not vary within any patient");
    s0(v) = ss / df;
  }
  return s0;
}

// The between regression's design: intercept, numeric moderators as they are, factors by
// treatment contrasts (levels of the kept patients in byte order, the first the reference;
// terms named column + level as R names them).
void add_moderators(DsemData& data, const Table& table, const std::vector<std::vector<std::string>>& values,
                    const DsemOptions& options) {
  const long n = data.n();
  std::vector<Eigen::VectorXd> columns{Eigen::VectorXd::Ones(n)};
  for (std::size_t m = 0; m < options.between.size(); ++m) {
    const std::string& name = options.between[m];
    const Column& column = table.column(name);
    if (column.is_numeric()) {
      Eigen::VectorXd c(n);
      for (long i = 0; i < n; ++i) c(i) = std::stod(values[m][static_cast<std::size_t>(i)]);
      if ((c.array() == c(0)).all()) throw InputError("--between column '" + name + "' is constant over the patients");
      columns.push_back(c);
      data.terms.push_back(name);
      continue;
    }
    std::set<std::string> levels(values[m].begin(), values[m].end());
    if (levels.size() < 2) throw InputError("--between column '" + name + "' has a single level over the patients");
    for (auto level = std::next(levels.begin()); level != levels.end(); ++level) {
      Eigen::VectorXd c(n);
      for (long i = 0; i < n; ++i) c(i) = values[m][static_cast<std::size_t>(i)] == *level ? 1.0 : 0.0;
      columns.push_back(c);
      data.terms.push_back(name + *level);
    }
  }
  data.x.resize(n, static_cast<long>(columns.size()));
  for (std::size_t j = 0; j < columns.size(); ++j) data.x.col(static_cast<long>(j)) = columns[j];
  Eigen::FullPivLU<Eigen::MatrixXd> lu(data.x);
  if (lu.rank() < data.x.cols()) throw InputError("--between: the moderators are collinear over the patients");
}

}  // namespace

DsemData dsem_data(const Table& table, const DsemOptions& options, long random_lagged_effects) {
  check_options(table, options);
  DsemData data;
  detail::check_confidence_level(options.level, data.warnings);
  data.vars = options.vars;
  const long k = data.k();
  const RowKeys keys = row_keys(table, options);
  if (keys.ids.empty()) throw InputError("--id '" + options.id + "': no row has a patient and a session");
  data.occasions = window(keys, options);
  const Eigen::MatrixXd all_y = occasion_matrix(table, keys, options, data.occasions);

  std::vector<std::vector<std::string>> between;
  for (const auto& b : options.between) between.push_back(patient_values(table, keys, b, "--between"));
  std::vector<std::string> clusters;
  if (!options.cluster.empty()) clusters = patient_values(table, keys, options.cluster, "--cluster");

  // Patients kept: any observed value in the window, every moderator and the cluster known.
  std::vector<long> kept;
  long without_values = 0, without_moderators = 0;
  bool three_sessions = false;
  for (long i = 0; i < static_cast<long>(keys.ids.size()); ++i) {
    const auto p = static_cast<std::size_t>(i);
    const long observed = observed_occasions(all_y, i, k);
    if (observed == 0) {
      ++without_values;
      continue;
    }
    bool known = clusters.empty() || !clusters[p].empty();
    for (const auto& values : between) known = known && !values[p].empty();
    if (!known) {
      ++without_moderators;
      continue;
    }
    three_sessions = three_sessions || observed >= 3;
    kept.push_back(i);
  }
  if (!three_sessions)
    throw InputError("--time '" + options.time + "': no patient has 3 sessions with observed values in the window");
  data.y = all_y(kept, Eigen::all);
  for (long i : kept) data.patients.push_back(keys.ids[static_cast<std::size_t>(i)]);
  data.n_dropped = without_values + without_moderators;
  if (without_values > 0)
    data.warnings.push_back(std::to_string(without_values) + " patients without any observed value in the window were dropped");
  if (without_moderators > 0)
    data.warnings.push_back(std::to_string(without_moderators) + " patients with a missing --between or --cluster value were dropped");
  data.n_observed = (data.y.array() == data.y.array()).count();
  data.n_missing = data.y.size() - data.n_observed;
  check_variables_vary(data);
  data.presample_variance = pooled_within_variance(data);

  std::vector<std::vector<std::string>> kept_between;
  for (const auto& values : between) {
    std::vector<std::string> v;
    for (long i : kept) v.push_back(values[static_cast<std::size_t>(i)]);
    kept_between.push_back(v);
  }
  add_moderators(data, table, kept_between, options);
  const long p = k + random_lagged_effects;
  if (data.n() <= data.x.cols() + 2 * p)
    throw InputError("too few patients (" + std::to_string(data.n()) + ") for " + std::to_string(p) +
                     " random effects and " + std::to_string(data.x.cols()) + " between-level coefficients each");
  if (!clusters.empty()) {
    std::map<std::string, int> index;
    for (long i : kept) index.try_emplace(clusters[static_cast<std::size_t>(i)], 0);
    int next = 0;
    for (auto& [name, c] : index) c = next++;
    for (long i : kept) data.cluster.push_back(index[clusters[static_cast<std::size_t>(i)]]);
    data.n_clusters = next;
    if (data.n_clusters <= 2 * k)
      throw InputError("--cluster '" + options.cluster + "': " + std::to_string(data.n_clusters) +
                       " clusters are too few for the cluster covariance of " + std::to_string(k) + " means (need more than " +
                       std::to_string(2 * k) + ")");
  }
  return data;
}

}  // namespace spiral::dsem
