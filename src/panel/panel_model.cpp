#include "panel/panel_model.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace spiral::panel {

PanelModel::PanelModel(int k, int waves, bool random_intercepts, bool free_lagged)
    : k_(k), waves_(waves), random_intercepts_(random_intercepts), free_lagged_(free_lagged) {
  p_ = static_cast<long>(k) * waves;
  n_vech_ = static_cast<long>(k) * (k + 1) / 2;
  b_offset_ = p_;
  phi_offset_ = b_offset_ + static_cast<long>(lag_sets()) * k * k;
  psi_offset_ = phi_offset_ + (random_intercepts ? n_vech_ : 0);
  size_ = psi_offset_ + waves * n_vech_;
}

long PanelModel::vech_index(int a, int b) const {
  if (a > b) std::swap(a, b);
  // rows 0..a-1 hold k, k-1, ..., k-a+1 elements
  return static_cast<long>(a) * k_ - static_cast<long>(a) * (a - 1) / 2 + (b - a);
}

Eigen::MatrixXd PanelModel::symmetric(const Eigen::VectorXd& theta, long offset) const {
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(k_, k_);
  add_symmetric(theta, offset, m);
  return m;
}

void PanelModel::add_symmetric(const Eigen::VectorXd& theta, long offset, Eigen::Ref<Eigen::MatrixXd> m) const {
  for (int a = 0; a < k_; ++a) {
    for (int b = a; b < k_; ++b) {
      const double value = theta(offset + vech_index(a, b));
      m(a, b) += value;
      if (b != a) m(b, a) += value;
    }
  }
}

Eigen::MatrixXd PanelModel::lagged(const Eigen::VectorXd& theta, int wave) const {
  Eigen::MatrixXd b(k_, k_);
  for (int to = 0; to < k_; ++to) {
    for (int from = 0; from < k_; ++from) b(to, from) = theta(b_index(to, from, wave));
  }
  return b;
}

// Var(w_1) = Psi_1, Var(w_t) = B_t Var(w_{t-1}) B_t' + Psi_t, Cov(w_t, w_s) = B_t Cov(w_{t-1}, w_s)
// for t > s: block column by block column, each block from its neighbour, in place. K = k
// when known at compile time (2 variables: fixed-size 2 x 2 products), else Eigen::Dynamic.
template <int K>
void PanelModel::fill_within_covariance(const Eigen::VectorXd& theta, Eigen::MatrixXd& sigma) const {
  std::vector<Eigen::Matrix<double, K, K>> bs;
  for (int t = 0; t < waves_; ++t) bs.emplace_back(lagged(theta, std::max(t, 1)));
  sigma.resize(p_, p_);
  const auto block = [&](int t, int s) { return sigma.template block<K, K>(t * k_, s * k_, k_, k_); };
  for (int s = 0; s < waves_; ++s) {
    auto var = block(s, s);
    if (s == 0) var.setZero();
    else var.noalias() = block(s, s - 1) * bs[std::size_t(s)].transpose();  // B_s Var(w_{s-1}) B_s'
    add_symmetric(theta, psi_offset(s), var);
    for (int later = s + 1; later < waves_; ++later) {
      block(later, s).noalias() = bs[std::size_t(later)] * block(later - 1, s);
      block(s, later) = block(later, s).transpose();
    }
  }
}

PanelModel::Moments PanelModel::implied(const Eigen::VectorXd& theta) const {
  Moments m;
  m.mu = theta.head(p_);
  if (k_ == 2) fill_within_covariance<2>(theta, m.sigma);
  else fill_within_covariance<Eigen::Dynamic>(theta, m.sigma);
  if (random_intercepts_) {
    const Eigen::MatrixXd phi = symmetric(theta, phi_offset_);
    for (int t = 0; t < waves_; ++t)
      for (int s = 0; s < waves_; ++s) m.sigma.block(t * k_, s * k_, k_, k_) += phi;
  }
  return m;
}

void PanelModel::add_symmetric_gradient(const Eigen::Ref<const Eigen::MatrixXd>& h, long offset,
                                        Eigen::VectorXd& grad) const {
  for (int a = 0; a < k_; ++a) {
    for (int b = a; b < k_; ++b) grad(offset + vech_index(a, b)) = a == b ? h(a, a) : h(a, b) + h(b, a);
  }
}

Eigen::VectorXd PanelModel::gradient(const Eigen::VectorXd& theta, const Eigen::VectorXd& d_mu,
                                     const Eigen::MatrixXd& g) const {
  return k_ == 2 ? gradient<2>(theta, d_mu, g) : gradient<Eigen::Dynamic>(theta, d_mu, g);
}

// With A = (I - L (x) B)^-1 (block (t, s) = B_t ... B_s+1, t >= s) and X = G A, by recursions
// over blocks instead of products of p x p matrices: X_rs = G_rs + X_r,s+1 B_s+1; the diagonal
// blocks of A'GA (Y_tt with Y_ts = X_ts + B_t+1' Y_t+1,s); dlogL/dB_t = 2 (A'G Sigma_w)_t,t-1 =
// 2 sum_u X_ut' Sigma_w,u,t-1 (A'G = X' as G is symmetric), summed over t when B is equal.
template <int K>
Eigen::VectorXd PanelModel::gradient(const Eigen::VectorXd& theta, const Eigen::VectorXd& d_mu,
                                     const Eigen::MatrixXd& g) const {
  using Square = Eigen::Matrix<double, K, K>;
  Eigen::VectorXd grad(size_);
  grad.head(p_) = d_mu;
  std::vector<Square> bs;
  for (int t = 0; t < waves_; ++t) bs.emplace_back(lagged(theta, std::max(t, 1)));
  Eigen::MatrixXd x = g;
  for (int s = waves_ - 2; s >= 0; --s)
    x.template middleCols<K>(s * k_, k_).noalias() += x.template middleCols<K>((s + 1) * k_, k_) * bs[std::size_t(s + 1)];
  const auto x_block = [&](int r, int s) { return x.template block<K, K>(r * k_, s * k_, k_, k_); };

  Square y(k_, k_), b_y(k_, k_);
  for (int s = 0; s < waves_; ++s) {
    y = x_block(waves_ - 1, s);
    for (int t = waves_ - 2; t >= s; --t) {
      b_y.noalias() = bs[std::size_t(t + 1)].transpose() * y;
      y = x_block(t, s) + b_y;
    }
    add_symmetric_gradient(y, psi_offset(s), grad);
  }

  Eigen::MatrixXd within;
  fill_within_covariance<K>(theta, within);
  grad.segment(b_offset_, long(lag_sets()) * k_ * k_).setZero();
  for (int t = 1; t < waves_; ++t) {
    const Square lag = x.template middleCols<K>(t * k_, k_).transpose() * within.template middleCols<K>((t - 1) * k_, k_);
    for (int to = 0; to < k_; ++to)
      for (int from = 0; from < k_; ++from) grad(b_index(to, from, t)) += 2 * lag(to, from);
  }

  if (random_intercepts_) {
    Square jgj = Square::Zero(k_, k_);
    for (int t = 0; t < waves_; ++t) {
      for (int s = 0; s < waves_; ++s) jgj += g.template block<K, K>(t * k_, s * k_, k_, k_);
    }
    add_symmetric_gradient(jgj, phi_offset_, grad);
  }
  return grad;
}

PanelModel::LinearCovariances PanelModel::linear_covariances(const Eigen::VectorXd& theta) const {
  LinearCovariances linear;
  const long ri_columns = random_intercepts_ ? k_ : 0;
  linear.vectors = Eigen::MatrixXd::Zero(p_, ri_columns + p_);
  for (int a = 0; a < ri_columns; ++a)
    for (int t = 0; t < waves_; ++t) linear.vectors(t * k_ + a, a) = 1;  // J = 1_T (x) I_k
  for (int s = 0; s < waves_; ++s) {  // A's block column s: I, B_s+1, B_s+2 B_s+1, ... from block row s down
    auto column = linear.vectors.middleCols(ri_columns + s * k_, k_);
    column.block(s * k_, 0, k_, k_).setIdentity();
    for (int t = s + 1; t < waves_; ++t)
      column.block(t * k_, 0, k_, k_) = lagged(theta, t) * column.block((t - 1) * k_, 0, k_, k_);
  }
  const auto add = [&](long parameter, long first_column, int a, int c) {
    linear.parameters.push_back(parameter);
    linear.directions.push_back({first_column + a, first_column + c, a == c ? 0.5 : 1.0});
  };
  if (random_intercepts_) {
    for (int a = 0; a < k_; ++a)
      for (int c = a; c < k_; ++c) add(phi_index(a, c), 0, a, c);
  }
  for (int t = 0; t < waves_; ++t)
    for (int a = 0; a < k_; ++a)
      for (int c = a; c < k_; ++c) add(psi_index(t, a, c), ri_columns + t * k_, a, c);
  return linear;
}

Eigen::MatrixXd PanelModel::complete_data_information(const Eigen::VectorXd& theta) const {
  const Eigen::MatrixXd sigma = implied(theta).sigma;
  const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
  Eigen::MatrixXd information = Eigen::MatrixXd::Zero(size_, size_);
  if (llt.info() != Eigen::Success) return information;
  const Eigen::MatrixXd k = llt.solve(Eigen::MatrixXd::Identity(p_, p_));
  information.topLeftCorner(p_, p_) = k;
  // The covariance parameters in which Sigma is linear, dSigma_a = s (y_u y_v' + y_v y_u'):
  // 1/2 tr(K dSigma_a K dSigma_b) from M = Y'KY (direction_trace).
  const LinearCovariances linear = linear_covariances(theta);
  const Eigen::MatrixXd ky = k * linear.vectors;
  const Eigen::MatrixXd m = linear.vectors.transpose() * ky;
  const auto n_linear = static_cast<long>(linear.parameters.size());
  for (long i = 0; i < n_linear; ++i) {
    const RankTwoDirection& a = linear.directions[std::size_t(i)];
    for (long j = 0; j <= i; ++j)
      information(linear.parameters[std::size_t(i)], linear.parameters[std::size_t(j)]) =
          0.5 * direction_trace(m, a, linear.directions[std::size_t(j)]);
  }
  // The lagged effects: dSigma by forward differences; with the linear ones
  // 1/2 tr(K dSigma_b K dSigma_a) = s (K y_u)' dSigma_b (K y_v).
  std::vector<Eigen::MatrixXd> d_sigma, k_d_sigma;
  std::vector<long> lag_indices;
  for (long index = b_offset_; index < phi_offset_; ++index) {
    {
      const double h = 1e-6 * std::max(1.0, std::fabs(theta(index)));
      Eigen::VectorXd shifted = theta;
      shifted(index) += h;
      d_sigma.push_back((implied(shifted).sigma - sigma) / h);
      k_d_sigma.push_back(k * d_sigma.back());
      lag_indices.push_back(index);
      for (std::size_t other = 0; other < d_sigma.size(); ++other)  // tr(x z)
        information(index, lag_indices[other]) =
            0.5 * k_d_sigma.back().cwiseProduct(k_d_sigma[other].transpose()).sum();
      for (long i = 0; i < n_linear; ++i) {
        const RankTwoDirection& a = linear.directions[std::size_t(i)];
        information(linear.parameters[std::size_t(i)], index) = a.scale * ky.col(a.u).dot(d_sigma.back() * ky.col(a.v));
      }
    }
  }
  return information.selfadjointView<Eigen::Lower>();  // (the linear parameters follow the lagged ones)
}

Eigen::VectorXd PanelModel::start(const Eigen::MatrixXd& y, double within_share, double autoregression) const {
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(size_);
  Eigen::VectorXd variance(p_);
  for (long j = 0; j < p_; ++j) {
    const Eigen::ArrayXd column = y.col(j).array();
    const auto observed = column == column;
    const double n = static_cast<double>(observed.count());
    theta(j) = observed.select(column, 0.0).sum() / n;
    const double var = observed.select((column - theta(j)).square(), 0.0).sum() / n;
    variance(j) = var > 0 ? var : 1;
  }
  if (!random_intercepts_) within_share = 1;
  for (int v = 0; v < k_; ++v) {
    double mean_variance = 0;
    for (int t = 0; t < waves_; ++t) mean_variance += variance(t * k_ + v) / waves_;
    if (random_intercepts_) theta(phi_index(v, v)) = (1 - within_share) * mean_variance;
    for (int t = 1; t <= lag_sets(); ++t) theta(b_index(v, v, t)) = autoregression;
    for (int t = 0; t < waves_; ++t)
      theta(psi_index(t, v, v)) = within_share * variance(t * k_ + v) * (t == 0 ? 1 : 1 - autoregression * autoregression);
  }
  return theta;
}

Eigen::VectorXd PanelModel::parameter_scales(const Eigen::VectorXd& scale) const {
  Eigen::VectorXd factor(size_);
  for (int t = 0; t < waves_; ++t)
    for (int v = 0; v < k_; ++v) factor(t * k_ + v) = scale(v);
  for (int t = 1; t <= lag_sets(); ++t)
    for (int to = 0; to < k_; ++to)
      for (int from = 0; from < k_; ++from) factor(b_index(to, from, t)) = scale(to) / scale(from);
  for (int a = 0; a < k_; ++a) {
    for (int b = a; b < k_; ++b) {
      if (random_intercepts_) factor(phi_index(a, b)) = scale(a) * scale(b);
      for (int t = 0; t < waves_; ++t) factor(psi_index(t, a, b)) = scale(a) * scale(b);
    }
  }
  return factor;
}

}  // namespace spiral::panel
