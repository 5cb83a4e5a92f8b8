#include "panel/parameter_table.hpp"

#include <algorithm>
#include <cmath>

namespace spiral::panel {

namespace {

std::string wave_name(const std::string& prefix, const std::string& var, long wave) {
  std::string name = prefix;
  name += var;
  name += '_';
  name += std::to_string(wave);
  return name;
}

}  // namespace

std::vector<TableRow> parameter_rows(const PanelModel& model, const std::vector<std::string>& vars,
                                     const std::vector<long>& waves) {
  const int k = static_cast<int>(vars.size());
  const int n_waves = static_cast<int>(waves.size());
  std::vector<TableRow> rows;
  const auto name = [&](const std::string& prefix, int v, int t) {
    return wave_name(prefix, vars[std::size_t(v)], waves[std::size_t(t)]);
  };
  if (model.random_intercepts()) {
    for (int a = 0; a < k; ++a)
      for (int b = a; b < k; ++b)
        rows.push_back({"RI" + vars[std::size_t(a)], "~~", "RI" + vars[std::size_t(b)], model.phi_index(a, b),
                        TableRow::Kind::RandomIntercept, a, b, 0});
  }
  for (int t = 1; t < n_waves; ++t)
    for (int to = 0; to < k; ++to)
      for (int from = 0; from < k; ++from)
        rows.push_back({name("w", to, t), "~", name("w", from, t - 1), model.b_index(to, from, t),
                        TableRow::Kind::Lagged, to, from, t});
  for (int t = 0; t < n_waves; ++t)
    for (int a = 0; a < k; ++a)
      for (int b = a; b < k; ++b)
        rows.push_back({name("w", a, t), "~~", name("w", b, t), model.psi_index(t, a, b), TableRow::Kind::Within, a, b, t});
  for (int t = 0; t < n_waves; ++t)
    for (int v = 0; v < k; ++v) rows.push_back({name("", v, t), "~1", "", long(t) * k + v, TableRow::Kind::Mean, v, v, t});
  return rows;
}

bool standardized_constant(const TableRow& row) {
  return row.a == row.b && (row.kind == TableRow::Kind::RandomIntercept || (row.kind == TableRow::Kind::Within && row.wave == 0));
}

Eigen::VectorXd standardized_values(const PanelModel& model, const std::vector<TableRow>& rows,
                                    const Eigen::VectorXd& theta) {
  const Eigen::MatrixXd sigma = model.implied(theta).sigma;
  Eigen::VectorXd within_only = theta;  // the within parts' covariance: Sigma without the RIs
  if (model.random_intercepts())
    for (long j = model.phi_offset(); j < model.psi_offset(0); ++j) within_only(j) = 0;
  const Eigen::MatrixXd within = model.implied(within_only).sigma;
  const long k = model.lagged(theta).rows();
  Eigen::VectorXd out(static_cast<long>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const TableRow& r = rows[i];
    const double value = theta(r.index);
    const long ia = r.wave * k + r.a;
    switch (r.kind) {
      case TableRow::Kind::Lagged:
        out(long(i)) = value * std::sqrt(within((r.wave - 1) * k + r.b, (r.wave - 1) * k + r.b)) / std::sqrt(within(ia, ia));
        break;
      case TableRow::Kind::Mean: out(long(i)) = value / std::sqrt(sigma(ia, ia)); break;
      case TableRow::Kind::RandomIntercept:
      case TableRow::Kind::Within: {
        const bool ri = r.kind == TableRow::Kind::RandomIntercept;
        const long offset = ri ? model.phi_offset() : model.psi_offset(r.wave);
        const Eigen::MatrixXd block = model.symmetric(theta, offset);
        if (r.a == r.b) out(long(i)) = value / (ri ? block(r.a, r.a) : within(ia, ia));
        else out(long(i)) = value / std::sqrt(std::fabs(block(r.a, r.a)) * std::fabs(block(r.b, r.b)));
        break;
      }
    }
  }
  return out;
}

Eigen::MatrixXd standardized_covariance(const PanelModel& model, const std::vector<TableRow>& rows,
                                        const Eigen::VectorXd& theta, const Eigen::MatrixXd& covariance) {
  Eigen::MatrixXd jacobian(static_cast<long>(rows.size()), theta.size());
  for (long j = 0; j < theta.size(); ++j) {
    const double h = 1e-5 * std::max(1.0, std::fabs(theta(j)));
    Eigen::VectorXd up = theta, down = theta;
    up(j) += h;
    down(j) -= h;
    jacobian.col(j) = (standardized_values(model, rows, up) - standardized_values(model, rows, down)) / (2 * h);
  }
  return jacobian * covariance * jacobian.transpose();
}

}  // namespace spiral::panel
