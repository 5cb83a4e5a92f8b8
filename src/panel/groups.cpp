#include "panel/groups.hpp"

#include <cmath>
#include <limits>
#include <numeric>

namespace spiral::panel {

GroupedModel::GroupedModel(const PanelModel& model, std::vector<double> weights, bool equal_lagged)
    : model_(model), weights_(std::move(weights)) {
  const long local = model.n_parameters();
  const long lagged_first = model.b_index(0, 0, 1), lagged_end = model.phi_offset();
  for (std::size_t g = 0; g < weights_.size(); ++g) {
    std::vector<long> index(static_cast<std::size_t>(local));
    for (long j = 0; j < local; ++j) {
      const bool shared = g > 0 && equal_lagged && j >= lagged_first && j < lagged_end;
      index[std::size_t(j)] = shared ? index_[0][std::size_t(j)] : size_++;
    }
    index_.push_back(std::move(index));
  }
}

Eigen::VectorXd GroupedModel::combine(const std::vector<Eigen::VectorXd>& per_group) const {
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(size_), weight = Eigen::VectorXd::Zero(size_);
  for (int g = 0; g < groups(); ++g) {
    for (std::size_t j = 0; j < index(g).size(); ++j) {
      sum(index(g)[j]) += weights_[std::size_t(g)] * per_group[std::size_t(g)](long(j));
      weight(index(g)[j]) += weights_[std::size_t(g)];
    }
  }
  return sum.cwiseQuotient(weight);
}

Eigen::VectorXd GroupedModel::spread(const Eigen::VectorXd& local) const {
  Eigen::VectorXd grouped(size_);
  for (int g = 0; g < groups(); ++g) grouped(index(g)) = local;
  return grouped;
}

Eigen::MatrixXd GroupedModel::add_matrices(const std::vector<Eigen::MatrixXd>& per_group) const {
  if (groups() == 1) return per_group[0];
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(size_, size_);
  for (int g = 0; g < groups(); ++g) {
    const Eigen::MatrixXd& m = per_group[std::size_t(g)];
    if (m.rows() != model_.n_parameters()) return Eigen::MatrixXd();  // a group without one: none
    for (std::size_t a = 0; a < index(g).size(); ++a)
      for (std::size_t b = 0; b < index(g).size(); ++b)
        sum(index(g)[a], index(g)[b]) += weights_[std::size_t(g)] * m(long(a), long(b));
  }
  return sum;
}

Objective GroupedModel::objective(std::vector<Objective> per_group) const {
  if (groups() == 1) return per_group[0];
  return [this, per_group = std::move(per_group)](const Eigen::VectorXd& theta, Eigen::VectorXd* gradient) {
    double value = 0;
    if (gradient) *gradient = Eigen::VectorXd::Zero(size_);
    Eigen::VectorXd local_gradient;
    for (int g = 0; g < groups(); ++g) {
      const double w = weights_[std::size_t(g)];
      value += w * per_group[std::size_t(g)](local(theta, g), gradient ? &local_gradient : nullptr);
      if (!std::isfinite(value)) return std::numeric_limits<double>::infinity();
      if (gradient)
        for (std::size_t j = 0; j < index(g).size(); ++j) (*gradient)(index(g)[j]) += w * local_gradient(long(j));
    }
    return value;
  };
}

// The closed-form entries (means and the covariance parameters in which Sigma is linear) are
// never shared between groups, and two groups' parameters have no cross term: block-diagonal.
ExactBlock GroupedModel::exact(std::vector<ExactBlock> per_group) const {
  if (groups() == 1) return per_group[0];
  ExactBlock grouped;
  std::vector<long> starts;
  for (int g = 0; g < groups(); ++g) {
    starts.push_back(static_cast<long>(grouped.indices.size()));
    for (long j : per_group[std::size_t(g)].indices) grouped.indices.push_back(index(g)[std::size_t(j)]);
  }
  const long total = static_cast<long>(grouped.indices.size());
  grouped.block = [this, per_group = std::move(per_group), starts, total](const Eigen::VectorXd& theta) {
    Eigen::MatrixXd block = Eigen::MatrixXd::Zero(total, total);
    for (int g = 0; g < groups(); ++g) {
      const long m = static_cast<long>(per_group[std::size_t(g)].indices.size());
      block.block(starts[std::size_t(g)], starts[std::size_t(g)], m, m) =
          weights_[std::size_t(g)] * per_group[std::size_t(g)].block(local(theta, g));
    }
    return block;
  };
  return grouped;
}

}  // namespace spiral::panel
