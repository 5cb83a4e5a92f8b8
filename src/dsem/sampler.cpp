// Gibbs blocks, each one function named after the quantity it draws. Notation: patient i,
// occasions t = 0..T-1 of the window, w_it = y_it - mu_i, w_i,-1 the pre-sample value,
// b_i = (mu_i, phi_i) with phi_i the random elements of Phi_i, m_i = Gamma' x_i + E v_c its
// prior mean (E puts the cluster effect on the means), Lambda = Psi^-1.
// Priors (Mplus's defaults, Asparouhov & Muthen 2010, "Bayesian analysis using Mplus:
// technical implementation"): flat for Gamma and the common lagged effects, IW(0, -p-1)
// (flat) for Psi, Sigma and Tau; w_i,-1 ~ N(0, diag(s0)).
// Mixing: a patient's random lagged effects are weakly identified by a short series (their
// likelihood's SD is often many times their SD across patients), so the blocks phi_i | Gamma,
// Psi and Gamma, Psi | phi_i move little per iteration (the centred parametrization's slow
// mixing; Papaspiliopoulos, Roberts & Skold 2007, Statistical Science 22, 59-73). Two group
// moves (Liu & Sabatti 2000, JASA 95, 1025-1034, generalized Gibbs; the parameter expansion of
// Liu, Rubin & Wu 1998 and Liu & Wu 1999) shift all patients' effects with Gamma and rescale
// their deviations from Gamma' x_i with Psi, each drawn from its exact conditional.
#include "dsem/sampler.hpp"

#include <cmath>

namespace spiral::dsem {
namespace {

// Per-patient state is stored one patient per row (contiguous); the sampler is compiled for
// each number of variables K (2 to 4) so that the K x K algebra has fixed sizes.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Per-patient sums of the within parts' products over t = 0..T-1:
// sxx = sum w_t-1 w_t-1', syx = sum w_t w_t-1', syy = sum w_t w_t'.
template <int K>
struct LagSums {
  Eigen::Matrix<double, K, K> sxx, syx, syy;
};

// Occasions where a patient has a missing value, with the mask of missing variables.
struct MissingCells {
  long t;
  std::vector<int> missing, observed;
};

// The likelihood of a patient's means or random lagged effects given everything else, as a
// normal kernel exp(-b' P b / 2 + g' b).
struct Likelihood {
  Mat precision;
  Vec linear;
};

// Every patient's likelihood of d effects: P in d * d rows, g in d rows, one column per patient.
struct StoredLikelihoods {
  long d = 0;
  Eigen::MatrixXd precision, linear;
  void resize(long effects, long patients) {
    d = effects;
    precision.resize(d * d, patients);
    linear.resize(d, patients);
  }
  void store(long i, const Likelihood& like) {
    precision.col(i) = Eigen::Map<const Eigen::VectorXd>(like.precision.data(), d * d);
    linear.col(i) = like.linear;
  }
  Eigen::Map<const Eigen::MatrixXd> precision_of(long i) const { return {precision.col(i).data(), d, d}; }
};

template <int K>
class Sampler {
 public:
  using KMat = Eigen::Matrix<double, K, K>;
  using KVec = Eigen::Matrix<double, K, 1>;

  Sampler(const DsemData& data, const ModelSpec& spec, const ChainSettings& settings)
      : d_(data), s_(spec), rng_(settings.seed, static_cast<std::uint64_t>(settings.chain)),
        n_(data.n()), k_(data.k()), nt_(data.occasions_count()), p_(spec.p()), r_(static_cast<long>(spec.random.size())) {
    find_missing_cells();
    between_design();
    initial_values();
  }

  void iterate() {
    psi_precision_ = inverse(psi_);
    sigma_precision_ = inverse(sigma_);
    x_gamma_.noalias() = d_.x * gamma_;
    for (long i = 0; i < n_; ++i) {
      draw_missing_values(i);
      draw_presample_values(i);
      draw_person_means(i);
      sums_[static_cast<std::size_t>(i)] = lag_sums(i);
      if (r_ > 0) draw_random_lagged_effects(i);
    }
    if (!s_.fixed.empty()) draw_fixed_lagged_effects();
    if (r_ > 0) {
      // The likelihoods stored by the draws, unless the common effects have changed them.
      if (!s_.fixed.empty())
        for (long i = 0; i < n_; ++i) lag_likelihoods_.store(i, lag_likelihood(i));
      move_effects(phi_, lag_likelihoods_, k_);
    }
    // The same moves for the means; the lag sums then follow the moved means.
    for (long i = 0; i < n_; ++i) mean_likelihoods_.store(i, mean_likelihood(i));
    move_effects(mu_, mean_likelihoods_, 0);
    for (long i = 0; i < n_; ++i) sums_[static_cast<std::size_t>(i)] = lag_sums(i);
    draw_innovation_covariance();
    sigma_precision_ = inverse(sigma_);
    draw_between_coefficients();
    draw_between_covariance();
    if (d_.n_clusters > 0) {
      psi_precision_ = inverse(psi_);
      draw_cluster_effects();
      draw_cluster_covariance();
    }
  }

  std::vector<double> parameters() const;

 private:
  const DsemData& d_;
  const ModelSpec& s_;
  Rng rng_;
  long n_, k_, nt_, p_, r_;
  std::vector<std::vector<MissingCells>> missing_;
  Eigen::MatrixXd xtx_inverse_factor_, xtx_inverse_xt_;
  Eigen::MatrixXd x_pairs_;  // n x q(q+1)/2: x_im x_il for m <= l
  // State.
  RowMatrix y_;             // observed values and the current draws of the missing ones
  RowMatrix mu_;            // n x k person means
  RowMatrix phi_;           // n x r random lagged effects
  RowMatrix w0_;            // n x k pre-sample within values
  Vec phi_fixed_;           // common lagged effects
  Eigen::MatrixXd gamma_;   // q x p between coefficients
  Eigen::MatrixXd x_gamma_; // n x p: X Gamma at the start of the sweep of the patients
  Eigen::MatrixXd v_;       // clusters x k cluster effects on the means
  Mat psi_, sigma_, tau_;
  Mat psi_precision_;
  KMat sigma_precision_;
  std::vector<LagSums<K>> sums_;
  StoredLikelihoods lag_likelihoods_, mean_likelihoods_;

  static Mat inverse(const Mat& m) { return Eigen::LLT<Mat>(m).solve(Mat::Identity(m.rows(), m.cols())); }

  KVec y_at(long i, long t) const { return y_.row(i).template segment<K>(t * K).transpose(); }
  KVec mu_of(long i) const { return mu_.row(i).transpose(); }
  KVec w_at(long i, long t) const { return t < 0 ? KVec(w0_.row(i).transpose()) : KVec(y_at(i, t) - mu_of(i)); }

  // Phi_i with the random elements, the common ones, or both.
  KMat phi_random_part(long i) const {
    KMat phi = KMat::Zero();
    for (long j = 0; j < r_; ++j) phi(s_.random[static_cast<std::size_t>(j)].first, s_.random[static_cast<std::size_t>(j)].second) = phi_(i, j);
    return phi;
  }
  KMat phi_fixed_part() const {
    KMat phi = KMat::Zero();
    for (std::size_t j = 0; j < s_.fixed.size(); ++j) phi(s_.fixed[j].first, s_.fixed[j].second) = phi_fixed_(static_cast<long>(j));
    return phi;
  }
  KMat phi_of(long i) const { return phi_random_part(i) + phi_fixed_part(); }

  // m_i = Gamma' x_i + E v_c (X Gamma computed once per sweep of the patients: x_gamma_).
  Vec prior_mean(long i) const {
    Vec m = x_gamma_.row(i).transpose();
    if (d_.n_clusters > 0) m.head(k_) += v_.row(d_.cluster[static_cast<std::size_t>(i)]).transpose();
    return m;
  }

  void find_missing_cells();
  void between_design();
  void initial_values();
  LagSums<K> lag_sums(long i) const;
  Likelihood lag_likelihood(long i) const;
  Likelihood mean_likelihood(long i) const;
  void draw_missing_values(long i);
  void draw_presample_values(long i);
  void draw_person_means(long i);
  void draw_random_lagged_effects(long i);
  void move_effects(RowMatrix& effects, const StoredLikelihoods& likelihoods, long column);
  void shift_effects(RowMatrix& effects, const StoredLikelihoods& likelihoods, long column);
  void scale_effect(RowMatrix& effects, const StoredLikelihoods& likelihoods, long column, long j, Eigen::MatrixXd& u);
  void draw_fixed_lagged_effects();
  void draw_innovation_covariance();
  void draw_between_coefficients();
  void draw_between_covariance();
  void draw_cluster_effects();
  void draw_cluster_covariance();
  Eigen::MatrixXd between_responses() const;
};

template <int K>
void Sampler<K>::find_missing_cells() {
  missing_.resize(static_cast<std::size_t>(n_));
  for (long i = 0; i < n_; ++i)
    for (long t = 0; t < nt_; ++t) {
      MissingCells cells{t, {}, {}};
      for (int v = 0; v < k_; ++v) (is_na(d_.y(i, t * k_ + v)) ? cells.missing : cells.observed).push_back(v);
      if (!cells.missing.empty()) missing_[static_cast<std::size_t>(i)].push_back(cells);
    }
}

// Gamma | B, Psi ~ matrix normal((X'X)^-1 X'B, (X'X)^-1, Psi): the factors fixed by X.
template <int K>
void Sampler<K>::between_design() {
  const Eigen::MatrixXd xtx = d_.x.transpose() * d_.x;
  const Eigen::MatrixXd xtx_inverse = xtx.llt().solve(Eigen::MatrixXd::Identity(xtx.rows(), xtx.cols()));
  xtx_inverse_factor_ = xtx_inverse.llt().matrixL();
  xtx_inverse_xt_ = xtx_inverse * d_.x.transpose();
  const long q = d_.x.cols();
  x_pairs_.resize(n_, q * (q + 1) / 2);
  for (long m = 0, ml = 0; m < q; ++m)
    for (long l = m; l < q; ++l) x_pairs_.col(ml++) = d_.x.col(m).cwiseProduct(d_.x.col(l));
}

// Start: person means of the observed values (the variable's overall mean where a patient has
// none), missing values at the person mean, lagged effects at a value drawn per chain in
// (-0.3, 0.3), Sigma = diag(s0), Psi diagonal from the means' spread.
template <int K>
void Sampler<K>::initial_values() {
  y_ = d_.y;
  mu_.resize(n_, k_);
  for (long v = 0; v < k_; ++v) {
    double all_sum = 0, all_count = 0;
    for (long i = 0; i < n_; ++i)
      for (long t = 0; t < nt_; ++t)
        if (!is_na(d_.y(i, t * k_ + v))) all_sum += d_.y(i, t * k_ + v), ++all_count;
    for (long i = 0; i < n_; ++i) {
      double sum = 0, count = 0;
      for (long t = 0; t < nt_; ++t)
        if (!is_na(d_.y(i, t * k_ + v))) sum += d_.y(i, t * k_ + v), ++count;
      mu_(i, v) = count > 0 ? sum / count : all_sum / all_count;
      for (long t = 0; t < nt_; ++t)
        if (is_na(y_(i, t * k_ + v))) y_(i, t * k_ + v) = mu_(i, v);
    }
  }
  phi_.resize(n_, r_);
  for (long j = 0; j < r_; ++j) phi_.col(j).setConstant(0.6 * rng_.uniform() - 0.3);
  phi_fixed_.resize(static_cast<long>(s_.fixed.size()));
  for (long j = 0; j < phi_fixed_.size(); ++j) phi_fixed_(j) = 0.6 * rng_.uniform() - 0.3;
  w0_ = Eigen::MatrixXd::Zero(n_, k_);
  sigma_ = d_.presample_variance.asDiagonal();
  psi_ = Mat::Identity(p_, p_) * 0.01;
  for (long v = 0; v < k_; ++v) {
    const double m = mu_.col(v).mean();
    psi_(v, v) = std::max((mu_.col(v).array() - m).square().sum() / static_cast<double>(n_ - 1), 1e-6);
  }
  v_ = Eigen::MatrixXd::Zero(d_.n_clusters, k_);
  tau_ = Mat(psi_.topLeftCorner(k_, k_)) * 0.1;
  gamma_ = xtx_inverse_xt_ * between_responses();
  sums_.resize(static_cast<std::size_t>(n_));
  lag_likelihoods_.resize(r_, n_);
  mean_likelihoods_.resize(k_, n_);
}

template <int K>
LagSums<K> Sampler<K>::lag_sums(long i) const {
  LagSums<K> s{KMat::Zero(), KMat::Zero(), KMat::Zero()};
  KVec previous = w_at(i, -1);
  for (long t = 0; t < nt_; ++t) {
    const KVec w = w_at(i, t);
    s.sxx.noalias() += previous * previous.transpose();
    s.syx.noalias() += w * previous.transpose();
    s.syy.noalias() += w * w.transpose();
    previous = w;
  }
  return s;
}

// Missing y_it | w_i,t-1, w_i,t+1, the observed values at t: w_t has precision
// Q = Sigma^-1 + Phi' Sigma^-1 Phi (no second term at the last occasion) and linear term
// h = Sigma^-1 Phi w_t-1 + Phi' Sigma^-1 w_t+1; the missing part m given the observed part o
// has precision Q_mm and linear term h_m - Q_mo w_o.
template <int K>
void Sampler<K>::draw_missing_values(long i) {
  const auto& cells = missing_[static_cast<std::size_t>(i)];
  if (cells.empty()) return;
  const KMat phi = phi_of(i);
  const KMat sp = sigma_precision_ * phi;
  const KMat q_end = sigma_precision_;
  const KMat q_middle = sigma_precision_ + phi.transpose() * sp;
  for (const auto& cell : cells) {
    const long t = cell.t;
    const bool last = t == nt_ - 1;
    const KMat& q = last ? q_end : q_middle;
    KVec h = sp * w_at(i, t - 1);
    if (!last) h.noalias() += sp.transpose() * w_at(i, t + 1);
    const KVec w = w_at(i, t);
    const long m = static_cast<long>(cell.missing.size());
    Mat qmm(m, m);
    Vec hm(m);
    for (long a = 0; a < m; ++a) {
      const int va = cell.missing[static_cast<std::size_t>(a)];
      hm(a) = h(va);
      for (int vo : cell.observed) hm(a) -= q(va, vo) * w(vo);
      for (long b = 0; b < m; ++b) qmm(a, b) = q(va, cell.missing[static_cast<std::size_t>(b)]);
    }
    const Vec drawn = draw_normal_precision(qmm, hm, rng_);
    for (long a = 0; a < m; ++a) {
      const int va = cell.missing[static_cast<std::size_t>(a)];
      y_(i, t * k_ + va) = mu_(i, va) + drawn(a);
    }
  }
}

// w_i,-1 | w_i0: prior N(0, diag(s0)), w_0 = Phi w_-1 + zeta: precision diag(s0)^-1 +
// Phi' Sigma^-1 Phi, linear term Phi' Sigma^-1 w_0.
template <int K>
void Sampler<K>::draw_presample_values(long i) {
  const KMat phi = phi_of(i);
  const KMat sp = sigma_precision_ * phi;
  Mat precision = phi.transpose() * sp;
  precision.diagonal().array() += d_.presample_variance.array().inverse();
  const Vec linear = sp.transpose() * w_at(i, 0);
  w0_.row(i) = draw_normal_precision(precision, linear, rng_).transpose();
}

// The likelihood of mu_i given phi_i, w_i,-1, y_i: data y_0 - Phi w_-1 = mu + zeta_0 and
// y_t - Phi y_t-1 = (I - Phi) mu + zeta_t for t >= 1.
template <int K>
Likelihood Sampler<K>::mean_likelihood(long i) const {
  const KMat phi = phi_of(i);
  const KMat b = KMat::Identity() - phi;
  const KMat bs = b.transpose() * sigma_precision_;
  KVec sum_now = KVec::Zero(), sum_before = KVec::Zero();
  for (long t = 1; t < nt_; ++t) {
    sum_now += y_at(i, t);
    sum_before += y_at(i, t - 1);
  }
  const KMat precision = sigma_precision_ + static_cast<double>(nt_ - 1) * bs * b;
  const KVec linear = sigma_precision_ * (y_at(i, 0) - phi * w_at(i, -1)) + bs * (sum_now - phi * sum_before);
  return {precision, linear};
}

// mu_i | phi_i, w_i,-1, y_i: the likelihood above times the prior
// N(m_mu - Lambda_mm^-1 Lambda_mr (phi_i - m_phi), Lambda_mm^-1), the conditional of b_i's normal.
template <int K>
void Sampler<K>::draw_person_means(long i) {
  const Likelihood like = mean_likelihood(i);
  const Vec m = prior_mean(i);
  const Mat precision = psi_precision_.topLeftCorner(k_, k_) + like.precision;
  Vec linear = psi_precision_.topLeftCorner(k_, k_) * m.head(k_) + like.linear;
  if (r_ > 0) linear -= psi_precision_.topRightCorner(k_, r_) * (phi_.row(i).transpose() - m.tail(r_));
  mu_.row(i) = draw_normal_precision(precision, linear, rng_).transpose();
}

// The likelihood of phi_i given mu_i, w_i: w_t - Phi_common w_t-1 = Z_t phi_i + zeta_t, Z_t's
// column j = e_to(j) w_t-1[from(j)], so P = sum Z'Sigma^-1 Z = Sigma^-1[to, to'] sxx[from, from']
// and g = sum Z'Sigma^-1 d_t = (Sigma^-1 (syx - Phi_common sxx))[to, from].
template <int K>
Likelihood Sampler<K>::lag_likelihood(long i) const {
  const LagSums<K>& s = sums_[static_cast<std::size_t>(i)];
  const KMat g = sigma_precision_ * (s.syx - phi_fixed_part() * s.sxx);
  Likelihood out{Mat(r_, r_), Vec(r_)};
  for (long a = 0; a < r_; ++a) {
    const auto [to_a, from_a] = s_.random[static_cast<std::size_t>(a)];
    out.linear(a) = g(to_a, from_a);
    for (long b = 0; b < r_; ++b) {
      const auto [to_b, from_b] = s_.random[static_cast<std::size_t>(b)];
      out.precision(a, b) = sigma_precision_(to_a, to_b) * s.sxx(from_a, from_b);
    }
  }
  return out;
}

// phi_i | mu_i, w_i: the likelihood above times the prior, the conditional of b_i's normal
// given mu_i.
template <int K>
void Sampler<K>::draw_random_lagged_effects(long i) {
  const Likelihood like = lag_likelihood(i);
  lag_likelihoods_.store(i, like);
  const Vec m = prior_mean(i);
  const Mat precision = psi_precision_.bottomRightCorner(r_, r_) + like.precision;
  const Vec linear = psi_precision_.bottomRightCorner(r_, r_) * m.tail(r_) -
                     psi_precision_.bottomLeftCorner(r_, k_) * (mu_of(i) - m.head(k_)) + like.linear;
  phi_.row(i) = draw_normal_precision(precision, linear, rng_).transpose();
}

// Shift move (the means: column 0; the random lagged effects: column k): b_i -> b_i + C' x_i for
// every patient and Gamma's columns -> + C. The between-level density and the flat prior on
// Gamma do not change and the Jacobian is 1, so C's conditional is the likelihood alone: normal
// in vec C with precision sum_i P_i (x) x_i x_i' and linear term sum_i (g_i - P_i b_i) (x) x_i.
// The precision's distinct elements sum_i P_i,ab x_im x_il (a <= b, m <= l) are one product of
// the patients' pair tables: P's pairs (n x d(d+1)/2) by x's pairs (n x q(q+1)/2, fixed).
template <int K>
void Sampler<K>::shift_effects(RowMatrix& effects, const StoredLikelihoods& likelihoods, long column) {
  const long q = d_.x.cols();
  const long d = likelihoods.d;
  Eigen::MatrixXd p_pairs(n_, d * (d + 1) / 2);
  Eigen::MatrixXd residuals(n_, d);
  for (long i = 0; i < n_; ++i) {
    const auto p_i = likelihoods.precision_of(i);
    residuals.row(i) = (likelihoods.linear.col(i) - p_i * effects.row(i).transpose()).transpose();
    for (long a = 0, at = 0; a < d; ++a)
      for (long b = a; b < d; ++b) p_pairs(i, at++) = p_i(a, b);
  }
  const Eigen::MatrixXd sums = p_pairs.transpose() * x_pairs_;
  const Eigen::MatrixXd linear_terms = residuals.transpose() * d_.x;  // d x q
  Eigen::MatrixXd precision(q * d, q * d);
  for (long a = 0, ab = 0; a < d; ++a)
    for (long b = a; b < d; ++b, ++ab)
      for (long m = 0, ml = 0; m < q; ++m)
        for (long l = m; l < q; ++l, ++ml) {
          const double value = sums(ab, ml);
          precision(a * q + m, b * q + l) = precision(b * q + l, a * q + m) = value;
          precision(a * q + l, b * q + m) = precision(b * q + m, a * q + l) = value;
        }
  const Eigen::VectorXd linear = Eigen::Map<const Eigen::VectorXd>(Eigen::MatrixXd(linear_terms.transpose()).data(), q * d);
  const Eigen::VectorXd c = draw_normal_precision(precision, linear, rng_);
  const Eigen::MatrixXd shift = Eigen::Map<const Eigen::MatrixXd>(c.data(), q, d);  // column a: effect a
  effects += d_.x * shift;
  gamma_.middleCols(column, d) += shift;
}

// The group moves on one block of effects (the random lagged effects, or the means): the shift,
// then per effect the scale move, on the deviations u = B - X Gamma (- E v).
template <int K>
void Sampler<K>::move_effects(RowMatrix& effects, const StoredLikelihoods& likelihoods, long column) {
  shift_effects(effects, likelihoods, column);
  Eigen::MatrixXd u = between_responses() - d_.x * gamma_;
  for (long j = 0; j < likelihoods.d; ++j) scale_effect(effects, likelihoods, column, j, u);
}

// Scale move for effect j (c = column + j): u_ic -> a u_ic for every patient and Psi's row and
// column c -> times a. The between density gains a^-n, the Jacobian is a^(n + p + 1) (n
// effects; Psi's p elements in that row and column, the diagonal twice) and the Haar measure of
// the scalings is da / a, so a has density a^p exp(-A a^2 / 2 + B a) on a > 0 with
// A = sum_i P_i,jj u_ic^2 and B = sum_i u_ic (g_i - P_i b_i)_j + A.
template <int K>
void Sampler<K>::scale_effect(RowMatrix& effects, const StoredLikelihoods& likelihoods, long column, long j, Eigen::MatrixXd& u) {
  const long c = column + j;
  double a_quadratic = 0, b_linear = 0;
  for (long i = 0; i < n_; ++i) {
    const auto p_i = likelihoods.precision_of(i);
    const double residual = likelihoods.linear(j, i) - p_i.row(j).dot(effects.row(i));
    a_quadratic += p_i(j, j) * u(i, c) * u(i, c);
    b_linear += u(i, c) * residual;
  }
  b_linear += a_quadratic;
  if (!(a_quadratic > 0)) return;
  const double a = draw_scale(static_cast<double>(p_), a_quadratic, b_linear, rng_);
  effects.col(j) += (a - 1) * u.col(c);
  u.col(c) *= a;
  psi_.row(c) *= a;
  psi_.col(c) *= a;
}

// The common lagged effects | everything: the same regression summed over patients, flat prior.
template <int K>
void Sampler<K>::draw_fixed_lagged_effects() {
  const long f = static_cast<long>(s_.fixed.size());
  Mat precision = Mat::Zero(f, f);
  Vec linear = Vec::Zero(f);
  for (long i = 0; i < n_; ++i) {
    const LagSums<K>& s = sums_[static_cast<std::size_t>(i)];
    const KMat g = sigma_precision_ * (s.syx - phi_random_part(i) * s.sxx);
    for (long a = 0; a < f; ++a) {
      const auto [to_a, from_a] = s_.fixed[static_cast<std::size_t>(a)];
      linear(a) += g(to_a, from_a);
      for (long b = 0; b < f; ++b) {
        const auto [to_b, from_b] = s_.fixed[static_cast<std::size_t>(b)];
        precision(a, b) += sigma_precision_(to_a, to_b) * s.sxx(from_a, from_b);
      }
    }
  }
  phi_fixed_ = draw_normal_precision(precision, linear, rng_);
}

// Sigma | innovations ~ IW(sum zeta zeta', n T - k - 1) (flat prior), with
// sum_t zeta zeta' = syy - Phi syx' - syx Phi' + Phi sxx Phi'.
template <int K>
void Sampler<K>::draw_innovation_covariance() {
  Mat scale = Mat::Zero(k_, k_);
  for (long i = 0; i < n_; ++i) {
    const LagSums<K>& s = sums_[static_cast<std::size_t>(i)];
    const KMat phi = phi_of(i);
    const KMat phi_syx = phi * s.syx.transpose();
    scale += s.syy - phi_syx - phi_syx.transpose() + phi * s.sxx * phi.transpose();
  }
  scale = (scale + scale.transpose()) / 2;
  sigma_ = draw_inverse_wishart(scale, static_cast<double>(n_ * nt_ - k_ - 1), rng_);
}

// B: n x p, row i = b_i less the cluster effect on the means.
template <int K>
Eigen::MatrixXd Sampler<K>::between_responses() const {
  Eigen::MatrixXd b(n_, p_);
  b.leftCols(k_) = mu_;
  if (d_.n_clusters > 0)
    for (long i = 0; i < n_; ++i) b.row(i).head(k_) -= v_.row(d_.cluster[static_cast<std::size_t>(i)]);
  b.rightCols(r_) = phi_;
  return b;
}

// Gamma | B, Psi ~ MN(Gamma_hat, (X'X)^-1, Psi): Gamma_hat + L_x Z L_psi' (flat prior).
template <int K>
void Sampler<K>::draw_between_coefficients() {
  const Eigen::MatrixXd gamma_hat = xtx_inverse_xt_ * between_responses();
  const Eigen::MatrixXd psi_factor = Eigen::MatrixXd(Eigen::LLT<Mat>(psi_).matrixL());
  const Eigen::MatrixXd z = standard_normal_matrix(gamma_hat.rows(), p_, rng_);
  gamma_ = gamma_hat + xtx_inverse_factor_ * z * psi_factor.transpose();
}

// Psi | B, Gamma ~ IW(U'U, n - p - 1), U = B - X Gamma (flat prior).
template <int K>
void Sampler<K>::draw_between_covariance() {
  const Eigen::MatrixXd u = between_responses() - d_.x * gamma_;
  Mat scale = u.transpose() * u;
  psi_ = draw_inverse_wishart(scale, static_cast<double>(n_ - p_ - 1), rng_);
}

// v_c | b, Gamma, Psi, Tau: e_i = b_i - Gamma' x_i = E v_c + u_i, so precision
// Tau^-1 + n_c Lambda_mm and linear term sum_{i in c} (Lambda e_i)_m.
template <int K>
void Sampler<K>::draw_cluster_effects() {
  const long c_count = d_.n_clusters;
  std::vector<Vec> linear(static_cast<std::size_t>(c_count), Vec::Zero(k_));
  std::vector<double> size(static_cast<std::size_t>(c_count), 0);
  for (long i = 0; i < n_; ++i) {
    const auto c = static_cast<std::size_t>(d_.cluster[static_cast<std::size_t>(i)]);
    Vec e(p_);
    e.head(k_) = mu_of(i);
    e.tail(r_) = phi_.row(i).transpose();
    e -= (d_.x.row(i) * gamma_).transpose();
    linear[c] += (psi_precision_ * e).head(k_);
    size[c] += 1;
  }
  const Mat tau_precision = inverse(tau_);
  for (long c = 0; c < c_count; ++c) {
    const Mat precision = tau_precision + size[static_cast<std::size_t>(c)] * Mat(psi_precision_.topLeftCorner(k_, k_));
    v_.row(c) = draw_normal_precision(precision, linear[static_cast<std::size_t>(c)], rng_).transpose();
  }
}

// Tau | v ~ IW(V'V, C - k - 1) (flat prior).
template <int K>
void Sampler<K>::draw_cluster_covariance() {
  Mat scale = v_.transpose() * v_;
  tau_ = draw_inverse_wishart(scale, static_cast<double>(d_.n_clusters - k_ - 1), rng_);
}

template <int K>
std::vector<double> Sampler<K>::parameters() const {
  std::vector<double> out;
  for (long v = 0; v < k_; ++v) out.push_back(gamma_(0, v));
  for (int to = 0; to < k_; ++to)
    for (int from = 0; from < k_; ++from) {
      for (long j = 0; j < r_; ++j)
        if (s_.random[static_cast<std::size_t>(j)] == std::pair<int, int>{to, from}) out.push_back(gamma_(0, k_ + j));
      for (std::size_t j = 0; j < s_.fixed.size(); ++j)
        if (s_.fixed[j] == std::pair<int, int>{to, from}) out.push_back(phi_fixed_(static_cast<long>(j)));
    }
  for (long m = 1; m < gamma_.rows(); ++m)
    for (long j = 0; j < p_; ++j) out.push_back(gamma_(m, j));
  for (long j = 0; j < p_; ++j) out.push_back(std::sqrt(psi_(j, j)));
  for (long v = 0; v < k_ && d_.n_clusters > 0; ++v) out.push_back(std::sqrt(tau_(v, v)));
  for (long a = 0; a < k_; ++a)
    for (long b = 0; b <= a; ++b) out.push_back(sigma_(a, b));
  return out;
}

}  // namespace

ModelSpec model_spec(long k, const std::string& random) {
  ModelSpec spec;
  spec.k = k;
  for (int to = 0; to < k; ++to)
    for (int from = 0; from < k; ++from) {
      const bool ar = to == from;
      const bool varies = random == "all" || (random == "ar" && ar) || (random == "lagged" && !ar);
      (varies ? spec.random : spec.fixed).emplace_back(to, from);
    }
  return spec;
}

std::vector<Parameter> model_parameters(const DsemData& data, const ModelSpec& spec, const std::string& cluster) {
  const auto& vars = data.vars;
  const auto var = [&](int v) { return vars[static_cast<std::size_t>(v)]; };
  const auto record = [](std::string name, std::optional<std::string> from, std::string to) {
    DsemSummary s;
    s.name = std::move(name);
    s.from = std::move(from);
    s.to = std::move(to);
    return s;
  };
  // The elements of b_i: the means, then the random lagged effects.
  std::vector<DsemSummary> effects;
  for (const auto& v : vars) effects.push_back(record(v, std::nullopt, v));
  for (const auto& [to, from] : spec.random) effects.push_back(record(var(from) + "->" + var(to), var(from), var(to)));
  std::vector<Parameter> out;
  for (const auto& v : vars) out.push_back({Part::Fixed, record("fixed:" + v, std::nullopt, v)});
  for (int to = 0; to < spec.k; ++to)
    for (int from = 0; from < spec.k; ++from)
      out.push_back({Part::Fixed, record("fixed:" + var(from) + "->" + var(to), var(from), var(to))});
  for (const auto& term : data.terms)
    for (const auto& e : effects) {
      DsemSummary s = record("moderator:" + term + ":" + e.name, e.from, e.to);
      s.moderator = term;
      out.push_back({Part::Moderator, s});
    }
  for (const auto& e : effects) {
    DsemSummary s = record("sd:" + e.name, e.from, e.to);
    s.level = "patient";
    out.push_back({Part::Random, s});
  }
  if (data.n_clusters > 0)
    for (const auto& v : vars) {
      DsemSummary s = record("sd:" + cluster + ":" + v, std::nullopt, v);
      s.level = cluster;
      out.push_back({Part::Random, s});
    }
  for (std::size_t a = 0; a < vars.size(); ++a)
    for (std::size_t b = 0; b <= a; ++b)
      out.push_back({Part::Innovation, record("innovation:" + vars[a] + "~~" + vars[b], vars[b], vars[a])});
  return out;
}

namespace {

template <int K>
std::vector<std::vector<double>> run_chain_of(const DsemData& data, const ModelSpec& spec, const ChainSettings& settings) {
  Sampler<K> sampler(data, spec, settings);
  std::vector<std::vector<double>> draws;
  for (int it = 0; it < settings.iter; ++it) {
    sampler.iterate();
    if (it >= settings.warmup && (it - settings.warmup) % settings.thin == 0) draws.push_back(sampler.parameters());
    if (settings.tick) settings.tick();
  }
  return draws;
}

}  // namespace

std::vector<std::vector<double>> run_chain(const DsemData& data, const ModelSpec& spec, const ChainSettings& settings) {
  switch (data.k()) {
    case 2: return run_chain_of<2>(data, spec, settings);
    case 3: return run_chain_of<3>(data, spec, settings);
    case 4: return run_chain_of<4>(data, spec, settings);
    default: throw InputError("--vars: dsem takes 2 to 4 variables");
  }
}

}  // namespace spiral::dsem
