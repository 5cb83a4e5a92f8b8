#include "lmm/deviance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <utility>

#include "common/cholesky.hpp"
#include "common/parallel.hpp"
#include "lmm/dense_cholesky.hpp"
#include "lmm/group_kernels.hpp"

namespace spiral::lmm_detail {

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

double log_det2(const Eigen::MatrixXd& lower_or_upper, int count) {
  double sum = 0;
  for (int i = 0; i < count; ++i) sum += std::log(lower_or_upper(i, i));
  return 2 * sum;
}

// Rows [offset, offset + T.rows()) of m become T' times themselves (Lambda' acting on rows).
// In place: with T lower triangular, new row i = sum_{j >= i} T(j, i) row j reads only rows
// not yet overwritten when i ascends.
template <typename Rows>
void lambda_t_rows(const Eigen::MatrixXd& T, int offset, Rows&& m) {
  const Eigen::Index k = T.rows();
  for (Eigen::Index i = 0; i < k; ++i) {
    m.row(offset + i) *= T(i, i);
    for (Eigen::Index j = i + 1; j < k; ++j) m.row(offset + i) += T(j, i) * m.row(offset + j);
  }
}

// The lower Cholesky factor of a small symmetric matrix (reading its lower triangle), with
// the operations of Eigen's unblocked LLT but inlined: false when it is not positive definite.
template <typename Square>
bool lower_cholesky(const Square& m, Square& l) {
  const Eigen::Index k = m.rows();
  l.setZero(k, k);
  for (Eigen::Index j = 0; j < k; ++j) {
    double pivot = m(j, j);
    for (Eigen::Index c = 0; c < j; ++c) pivot -= l(j, c) * l(j, c);
    if (!(pivot > 0)) return false;
    l(j, j) = std::sqrt(pivot);
    for (Eigen::Index i = j + 1; i < k; ++i) {
      double value = m(i, j);
      for (Eigen::Index c = 0; c < j; ++c) value -= l(i, c) * l(j, c);
      l(i, j) = value / l(j, j);
    }
  }
  return true;
}

// The inverse of a small lower-triangular matrix by forward substitution on the identity's
// columns (Eigen's general triangular solver packs its operands: slow for 2 x 2).
template <typename Square>
Square lower_inverse(const Square& l) {
  const Eigen::Index k = l.rows();
  Square inverse = Square::Zero(k, k);
  for (Eigen::Index j = 0; j < k; ++j) {
    inverse(j, j) = 1 / l(j, j);
    for (Eigen::Index i = j + 1; i < k; ++i) {
      double sum = 0;
      for (Eigen::Index m = j; m < i; ++m) sum += l(i, m) * inverse(m, j);
      inverse(i, j) = -sum / l(i, i);
    }
  }
  return inverse;
}

// A group's k x k block of an m x (k k) per-group array (entry (r, c) in column r + c k).
template <int K, typename Matrix>
auto group_square(Matrix& groups_array, Eigen::Index group, int k) {
  using Square = std::conditional_t<std::is_const_v<Matrix>, const Eigen::Matrix<double, K, K>, Eigen::Matrix<double, K, K>>;
  return Eigen::Map<Square, 0, Eigen::InnerStride<>>(groups_array.data() + group, k, k,
                                                     Eigen::InnerStride<>(groups_array.rows()));
}

// A group's k rows of a (k m) x c per-group array (its row r is row r m + group).
template <int K, typename Matrix>
auto group_rows(Matrix& groups_array, Eigen::Index group, int k) {
  using Rows = std::conditional_t<std::is_const_v<Matrix>, const Eigen::Matrix<double, K, Eigen::Dynamic>,
                                  Eigen::Matrix<double, K, Eigen::Dynamic>>;
  using Strides = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
  return Eigen::Map<Rows, 0, Strides>(groups_array.data() + group, k, groups_array.cols(),
                                      Strides(groups_array.rows(), groups_array.rows() / k));
}

// The lower Cholesky factor of a symmetric matrix in place (its lower triangle): plain loops
// for the small ones (the Schur complement of [X y], a study's therapists), Eigen's blocked
// LLT for the others.
bool lower_cholesky(Eigen::MatrixXd& a) {
  constexpr Eigen::Index kSmall = 32;
  if (a.rows() <= kSmall) return detail::cholesky_in_place(a.data(), a.rows(), a.outerStride());
  const Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(a);
  return llt.info() == Eigen::Success;
}

const GroupKernels& best_group_kernels() {
  static const GroupKernels& best = *usable_group_kernel_sets().back();
  return best;
}

}  // namespace

std::vector<ReTerm> lme4_term_order(const std::vector<RandomBlock>& blocks) {
  std::vector<int> order(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  const auto levels = [&](int i) { return blocks[static_cast<std::size_t>(i)].levels.size(); };
  bool increases = false;
  for (std::size_t i = 1; i < blocks.size(); ++i) increases = increases || levels(int(i)) > levels(int(i - 1));
  if (increases) {  // lme4's mkReTrms: ord <- rev(order(nl))
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return levels(a) < levels(b); });
    std::reverse(order.begin(), order.end());
  }
  std::vector<ReTerm> terms;
  int offset = 0, theta_offset = 0;
  for (std::size_t t = 0; t < order.size(); ++t) {
    ReTerm term;
    term.block = &blocks[static_cast<std::size_t>(order[t])];
    term.k = static_cast<int>(term.block->terms.size());
    term.m = static_cast<int>(term.block->levels.size());
    term.theta_offset = theta_offset;
    theta_offset += term.k * (term.k + 1) / 2;
    if (t > 0) {
      term.offset = offset;
      offset += term.k * term.m;
    }
    terms.push_back(term);
  }
  return terms;
}


DevianceModel::DevianceModel(Columns xy, std::vector<ReTerm> terms, const std::vector<double>& time,
                             double sum_log_weights)
    : sum_log_weights_(sum_log_weights), xy_(std::move(xy)), terms_(std::move(terms)) {
  n_ = static_cast<int>(xy_.front().size());
  p_ = static_cast<int>(xy_.size()) - 1;
  ar1_ = !time.empty();
  for (const auto& t : terms_) n_theta_ += t.k * (t.k + 1) / 2;
  for (std::size_t j = 1; j < terms_.size(); ++j) q2_ += terms_[j].k * terms_[j].m;

  const ReTerm& first = terms_.front();
  groups_.reserve(static_cast<std::size_t>(first.m));
  for (int level = 0; level < first.m; ++level) groups_.emplace_back(&arena_);
  padded_groups_ = first.k <= 2 ? (first.m + kGroupLanes - 1) / kGroupLanes * kGroupLanes : first.m;
  std::vector<std::size_t> rows_of(groups_.size(), 0);
  for (int r = 0; r < n_; ++r) ++rows_of[static_cast<std::size_t>(first.block->level_of_row[static_cast<std::size_t>(r)])];
  for (std::size_t level = 0; level < groups_.size(); ++level) groups_[level].rows.reserve(rows_of[level]);
  for (int r = 0; r < n_; ++r) groups_[static_cast<std::size_t>(first.block->level_of_row[static_cast<std::size_t>(r)])].rows.push_back(r);
  for (std::size_t level = 0; level < groups_.size(); ++level) groups_[level].level = static_cast<int>(level);
  std::vector<std::pair<int, int>> touched;  // a group's (term, level) of the rest, in global order
  for (auto& g : groups_) {
    if (ar1_) {
      std::stable_sort(g.rows.begin(), g.rows.end(), [&](int a, int b) {
        return time[static_cast<std::size_t>(a)] < time[static_cast<std::size_t>(b)];
      });
      g.lag.assign(g.rows.size(), 0);
      for (std::size_t i = 1; i < g.rows.size(); ++i)
        g.lag[i] = time[static_cast<std::size_t>(g.rows[i])] - time[static_cast<std::size_t>(g.rows[i - 1])];
      whole_lags_ = whole_lags_ && std::all_of(g.lag.begin(), g.lag.end(), [](double l) { return l == std::round(l); });
    }
    touched.clear();
    for (int r : g.rows)
      for (std::size_t j = 1; j < terms_.size(); ++j)
        touched.emplace_back(int(j), terms_[j].block->level_of_row[static_cast<std::size_t>(r)]);
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    g.rest_blocks.reserve(touched.size());
    int local = 0;
    for (const auto& [term, level] : touched) {
      const ReTerm& t = terms_[static_cast<std::size_t>(term)];
      g.rest_blocks.emplace_back(term, local);
      for (int c = 0; c < t.k; ++c) g.rest_index.push_back(t.offset + level * t.k + c);
      local += t.k;
    }
  }
  nested_in_scalar_rest_ = first.k <= 2 && terms_.size() == 2 && terms_[1].k == 1 &&
                          std::all_of(groups_.begin(), groups_.end(), [](const Group& g) { return g.rest_index.size() == 1; });
  if (nested_in_scalar_rest_) {
    // Groups of one rest level side by side: the group kernels then add up each level's
    // coupling terms over runs of groups instead of one group at a time.
    std::vector<int> order(groups_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return groups_[std::size_t(a)].rest_index.front() < groups_[std::size_t(b)].rest_index.front();
    });
    std::vector<Group> ordered;
    ordered.reserve(groups_.size());
    for (int i : order) ordered.push_back(std::move(groups_[std::size_t(i)]));
    groups_ = std::move(ordered);
    for (const auto& g : groups_) nested_level_.push_back(g.rest_index.front());
    nested_level_.resize(std::size_t(padded_groups_), nested_level_.back());  // (the padding couples nothing)
  }
  split_coupling();
  build_crossproducts(ar1_ ? 0.2 : 0);
  if (!ar1_) xy_.clear();  // only AR(1) rebuilds the cross-products (for each phi)
}

// The threads' shares of the coupling update: rest columns cut where the count of updated
// entries (a group touching s rest rows updates s - b entries of its b-th column) is even.
// Below kCouplingPerThread entries per thread a thread costs more to start than it saves.
void DevianceModel::split_coupling() {
  constexpr double kCouplingPerThread = 100000;
  std::vector<double> per_column(static_cast<std::size_t>(q2_), 0);
  for (const auto& g : groups_)
    for (std::size_t b = 0; b < g.rest_index.size(); ++b)
      per_column[static_cast<std::size_t>(g.rest_index[b])] += double(g.rest_index.size() - b);
  const double total = std::accumulate(per_column.begin(), per_column.end(), 0.0);
  const auto team = static_cast<unsigned>(
      std::clamp(total / kCouplingPerThread, 1.0, double(detail::hardware_threads())));
  coupling_columns_.assign(1, 0);
  double cumulative = 0;
  for (int column = 0; column < q2_ && coupling_columns_.size() < team; ++column) {
    cumulative += per_column[static_cast<std::size_t>(column)];
    if (cumulative >= total * double(coupling_columns_.size()) / team) coupling_columns_.push_back(column + 1);
  }
  coupling_columns_.push_back(q2_);
}

std::vector<double> DevianceModel::lower_bounds() const {
  std::vector<double> lower;
  for (const auto& t : terms_)
    for (int c = 0; c < t.k; ++c)
      for (int r = c; r < t.k; ++r) lower.push_back(r == c ? 0 : -HUGE_VAL);
  if (ar1_) lower.push_back(whole_lags_ ? -kMaxAr1Z : 0);
  return lower;
}

std::vector<double> DevianceModel::upper_bounds() const {
  std::vector<double> upper(static_cast<std::size_t>(n_theta_), HUGE_VAL);
  if (ar1_) upper.push_back(kMaxAr1Z);
  return upper;
}

std::vector<double> DevianceModel::start() const {
  std::vector<double> s;
  for (const auto& t : terms_)
    for (int c = 0; c < t.k; ++c)
      for (int r = c; r < t.k; ++r) s.push_back(r == c ? 1 : 0);
  if (ar1_) s.push_back(std::atanh(0.2));
  return s;
}

void DevianceModel::fill_lambda_factor(int term, const std::vector<double>& params, Eigen::MatrixXd& T) const {
  const ReTerm& t = terms_[static_cast<std::size_t>(term)];
  T.setZero(t.k, t.k);
  int i = t.theta_offset;
  for (int c = 0; c < t.k; ++c)  // lower triangle, column-wise (lme4's theta order)
    for (int r = c; r < t.k; ++r) T(r, c) = params[static_cast<std::size_t>(i++)];
}

Eigen::MatrixXd DevianceModel::lambda_factor(int term, const std::vector<double>& params) const {
  Eigen::MatrixXd T;
  fill_lambda_factor(term, params, T);
  return T;
}

// Cross-products of the (AR(1)-whitened) design per group of the first term. With AR(1),
// the residual correlation of a group is phi^|t_i - t_j| (nlme corCAR1); its inverse
// Cholesky factor whitens row i as (row_i - rho_i row_{i-1}) / sqrt(1 - rho_i^2) with
// rho_i = phi^(t_i - t_{i-1}) (a Markov process), and log|C| = sum log(1 - rho_i^2).
void DevianceModel::build_crossproducts(double phi) {
  const int p1 = p_ + 1;
  const ReTerm& first = terms_.front();
  a22_.setZero(q2_, q2_);
  z2xy_.setZero(q2_, p1);
  ld_c_ = 0;
  a11_.setZero(padded_groups_, first.k * first.k);  // (zero in the padding groups)
  z1xy_.setZero(first.k * padded_groups_, p1);
  if (nested_in_scalar_rest_) nested_a21_.setZero(padded_groups_, first.k);
  // One group's rows at a time in buffers as large as the largest group (no allocation per
  // group). Without AR(1), [X y]'[X y] is one product over all rows; with it, the sum of the
  // whitened groups' products.
  std::size_t most_rows = 0, most_rest = 0;
  for (const auto& g : groups_) {
    most_rows = std::max(most_rows, g.rows.size());
    most_rest = std::max(most_rest, g.rest_index.size());
  }
  xyxy_.setZero(p1, p1);  // its lower triangle: the Schur complements use no other
  if (!ar1_) add_xy_crossproduct();
  built_phi_ = phi;
  if (!ar1_ && (q2_ == 0 || nested_in_scalar_rest_)) {
    add_group_crossproducts_by_dots(most_rows);
    return;
  }
  const auto most_rows_index = static_cast<Eigen::Index>(most_rows);
  Eigen::MatrixXd z1_rows(most_rows_index, first.k), z2_rows(most_rows_index, static_cast<Eigen::Index>(most_rest));
  Eigen::MatrixXd xy_rows(most_rows_index, p1);
  for (std::size_t position = 0; position < groups_.size(); ++position) {
    Group& g = groups_[position];
    const auto group = static_cast<Eigen::Index>(position);
    const int ng = static_cast<int>(g.rows.size());
    const int s = static_cast<int>(g.rest_index.size());
    auto z1 = z1_rows.topRows(ng);
    auto z2 = z2_rows.topLeftCorner(ng, s);
    auto xy = xy_rows.topRows(ng);
    z2.setZero();
    for (int i = 0; i < ng; ++i) {
      const auto r = static_cast<std::size_t>(g.rows[static_cast<std::size_t>(i)]);
      z1.row(i) = first.block->z.row(static_cast<Eigen::Index>(r));
      for (int j = 0; j < p1; ++j) xy(i, j) = xy_[static_cast<std::size_t>(j)](static_cast<Eigen::Index>(r));
      for (const auto& [j, offset] : g.rest_blocks) {
        const ReTerm& t = terms_[static_cast<std::size_t>(j)];
        const int level = t.block->level_of_row[r];
        // The local block of (j, level): find it among the group's blocks of term j.
        if (g.rest_index[static_cast<std::size_t>(offset)] == t.offset + level * t.k)
          z2.block(i, offset, 1, t.k) = t.block->z.row(static_cast<Eigen::Index>(r));
      }
    }
    if (ar1_) {
      for (int i = ng - 1; i >= 1; --i) {
        const double rho = std::pow(phi, g.lag[static_cast<std::size_t>(i)]);
        const double scale = 1 / std::sqrt(1 - rho * rho);
        z1.row(i) = (z1.row(i) - rho * z1.row(i - 1)) * scale;
        if (s > 0) z2.row(i) = (z2.row(i) - rho * z2.row(i - 1)) * scale;  // (a row of a 0-column matrix is UB)
        xy.row(i) = (xy.row(i) - rho * xy.row(i - 1)) * scale;
        ld_c_ += std::log1p(-rho * rho);
      }
      xyxy_.selfadjointView<Eigen::Lower>().rankUpdate(xy.transpose());
    }
    // Products of a few rows: coefficient by coefficient (lazyProduct, not GEMM), straight
    // into their destinations (no temporaries).
    group_square<Eigen::Dynamic>(a11_, group, first.k).noalias() = z1.transpose().lazyProduct(z1);
    group_rows<Eigen::Dynamic>(z1xy_, group, first.k).noalias() = z1.transpose().lazyProduct(xy);
    if (s > 0) {
      if (nested_in_scalar_rest_) {  // the group kernels' copy only (couple_groups does not run)
        nested_a21_.row(group).noalias() = z2.transpose().lazyProduct(z1);
      } else {
        g.a21.resize(s, first.k);
        g.a21.noalias() = z2.transpose().lazyProduct(z1);
      }
      for (int b = 0; b < s; ++b) {
        const int rest_b = g.rest_index[static_cast<std::size_t>(b)];
        for (int a = 0; a < s; ++a) a22_(g.rest_index[static_cast<std::size_t>(a)], rest_b) += z2.col(a).dot(z2.col(b));
        for (int j = 0; j < p1; ++j) z2xy_(rest_b, j) += z2.col(b).dot(xy.col(j));
      }
    }
  }
}

// [X y]'[X y] (its lower triangle), from rows gathered a block at a time.
void DevianceModel::add_xy_crossproduct() {
  constexpr Eigen::Index kBlockRows = 1024;
  const auto p1 = static_cast<Eigen::Index>(xy_.size());
  Eigen::MatrixXd rows(std::min<Eigen::Index>(kBlockRows, n_), p1);
  for (Eigen::Index start = 0; start < n_; start += kBlockRows) {
    const Eigen::Index m = std::min<Eigen::Index>(kBlockRows, n_ - start);
    for (Eigen::Index j = 0; j < p1; ++j) rows.col(j).head(m) = xy_[static_cast<std::size_t>(j)].segment(start, m);
    xyxy_.selfadjointView<Eigen::Lower>().rankUpdate(rows.topRows(m).transpose());
  }
}

// The groups' products when none or one rest level touches each group and there is no AR(1)
// (e.g. `(1 + x | patient) + (1 | therapist)` with patients nested in therapists): each
// group's columns gathered side by side once, then every product one dot product of them,
// summed in the order of the general path's lazy products (dot_in_sse2_lanes), so that the
// deviance does not change by a bit with the path; this one skips the general path's per-row
// rest-block search and its products' dynamic set-up.
void DevianceModel::add_group_crossproducts_by_dots(std::size_t most_rows) {
  const ReTerm& first = terms_.front();
  const ReTerm* const rest = q2_ > 0 ? &terms_[1] : nullptr;
  const int k = first.k, p1 = p_ + 1;
  std::vector<double> gathered(most_rows * static_cast<std::size_t>(k + p1 + 1));
  // (the sources' addresses in locals: the gathered columns' stores could alias them)
  const double* const z1_all = first.block->z.data();
  std::vector<const double*> xy_all;
  for (const auto& column : xy_) xy_all.push_back(column.data());
  const double* const z2_all = rest ? rest->block->z.data() : nullptr;
  const Eigen::Index ld_z1 = first.block->z.outerStride();
  for (std::size_t position = 0; position < groups_.size(); ++position) {
    const Group& g = groups_[position];
    const auto group = static_cast<Eigen::Index>(position);
    const auto ng = static_cast<Eigen::Index>(g.rows.size());
    double* const z1 = gathered.data();  // column c at z1 + c ng
    double* const xy = z1 + k * ng;      // column j at xy + j ng
    double* const z2 = xy + p1 * ng;
    for (Eigen::Index i = 0; i < ng; ++i) {
      const auto r = static_cast<Eigen::Index>(g.rows[static_cast<std::size_t>(i)]);
      for (int c = 0; c < k; ++c) z1[c * ng + i] = z1_all[r + c * ld_z1];
      for (int j = 0; j < p1; ++j) xy[j * ng + i] = xy_all[static_cast<std::size_t>(j)][r];
      if (rest) z2[i] = z2_all[r];
    }
    const auto dot = [ng](const double* a, const double* b) { return dot_in_sse2_lanes(a, b, ng); };
    for (int a = 0; a < k; ++a) {
      for (int b = 0; b < k; ++b) a11_(group, a + b * k) = dot(z1 + a * ng, z1 + b * ng);
      for (int j = 0; j < p1; ++j) z1xy_(a * padded_groups_ + group, j) = dot(z1 + a * ng, xy + j * ng);
    }
    if (!rest) continue;
    const int level = g.rest_index.front();
    for (int a = 0; a < k; ++a) nested_a21_(group, a) = dot(z2, z1 + a * ng);
    a22_(level, level) += dot(z2, z2);
    for (int j = 0; j < p1; ++j) z2xy_(level, j) += dot(z2, xy + j * ng);
  }
}

// Lambda2' m: column by column (contiguous in column-major storage), each level's k rows
// of a column become T' times themselves (lambda_t_rows on the column).
void DevianceModel::apply_rest_lambda_t(const std::vector<Eigen::MatrixXd>& T, Eigen::Ref<Eigen::MatrixXd> m) const {
  for (Eigen::Index col = 0; col < m.cols(); ++col) {
    for (std::size_t j = 1; j < terms_.size(); ++j) {
      const ReTerm& t = terms_[j];
      auto rows = m.col(col).segment(t.offset, Eigen::Index(t.k) * t.m);
      if (t.k == 1) {
        rows *= T[j](0, 0);
        continue;
      }
      for (int level = 0; level < t.m; ++level) lambda_t_rows(T[j], level * t.k, rows);
    }
  }
}

// m Lambda2 in place: each level's k columns become themselves times T (new column i =
// sum over j >= i of T(j, i) column j, which reads only columns not yet overwritten).
void DevianceModel::apply_rest_lambda(const std::vector<Eigen::MatrixXd>& T, Eigen::Ref<Eigen::MatrixXd> m) const {
  for (std::size_t j = 1; j < terms_.size(); ++j) {
    const ReTerm& t = terms_[j];
    for (int level = 0; level < t.m; ++level) {
      const Eigen::Index first = t.offset + Eigen::Index(level) * t.k;
      for (int i = 0; i < t.k; ++i) {
        m.col(first + i) *= T[j](i, i);
        for (int r = i + 1; r < t.k; ++r) m.col(first + i) += T[j](r, i) * m.col(first + r);
      }
    }
  }
}

bool DevianceModel::rest_is_scalar() const {
  return std::all_of(terms_.begin() + 1, terms_.end(), [](const ReTerm& t) { return t.k == 1; });
}

// With one random effect per level in every rest term, Lambda2 is diagonal (d) and
// Lambda2' A22 Lambda2 + I is A22 scaled by d d' plus I: one pass over the lower triangle,
// the only part the factorization reads.
void DevianceModel::scale_rest_lower(const std::vector<Eigen::MatrixXd>& T) {
  Eigen::VectorXd d(q2_);
  for (std::size_t j = 1; j < terms_.size(); ++j) d.segment(terms_[j].offset, terms_[j].m).setConstant(T[j](0, 0));
  l22_.resize(q2_, q2_);
  for (Eigen::Index col = 0; col < q2_; ++col) {
    const Eigen::Index below = q2_ - col;
    l22_.col(col).tail(below) = a22_.col(col).tail(below).cwiseProduct(d.tail(below)) * d(col);
    l22_(col, col) += 1;
  }
}

// The group kernels' problem at T for the first term's k = 1 or 2 (with the nested
// coupling when the groups are nested in the levels of a scalar rest term).
GroupFactorProblem DevianceModel::group_problem(const std::vector<Eigen::MatrixXd>& T, Eigen::MatrixXd& schur,
                                                Eigen::MatrixXd& m22, Eigen::MatrixXd& c2) {
  GroupFactorProblem p;
  p.groups = padded_groups_;
  p.columns = p_ + 1;
  p.t = T.front().data();
  p.a11 = a11_.data();
  p.z1xy = z1xy_.data();
  p.l1 = l1_.data();
  p.w1 = w1_.data();
  p.r1 = r1_.data();
  p.schur = schur.data();
  if (nested_in_scalar_rest_) {
    nested_l21_.resize(padded_groups_, terms_.front().k);
    p.rest_level = nested_level_.data();
    p.a21 = nested_a21_.data();
    p.rest_lambda = T[1](0, 0);
    p.l21 = nested_l21_.data();
    p.m22 = m22.data();
    p.ld22 = m22.outerStride();
    p.c2 = c2.data();
    p.ldc2 = c2.outerStride();
  }
  return p;
}

template <int K>
bool DevianceModel::factor_groups(const std::vector<Eigen::MatrixXd>& T, Evaluation& e, Eigen::MatrixXd& schur,
                                  Eigen::MatrixXd& m22, Eigen::MatrixXd& c2) {
  if constexpr (K == 1 || K == 2) {
    const GroupKernels& kernels = best_group_kernels();
    if (!(K == 1 ? kernels.factor_k1 : kernels.factor_k2)(group_problem(T, schur, m22, c2), e.ldL2)) return false;
    if (nested_in_scalar_rest_) return true;
  } else if (!factor_groups_one_by_one<K>(T, e, schur)) {
    return false;
  }
  if (q2_ == 0) return true;
  // The groups' coupling with the rest, its columns shared among threads.
  const auto share = [&](std::size_t t) {
    couple_groups<K>(T, m22, c2, coupling_columns_[t], coupling_columns_[t + 1], t == 0);
  };
  detail::parallel_for(coupling_columns_.size() - 1, unsigned(coupling_columns_.size() - 1), share);
  return true;
}

// The group kernels' work for any k, one group at a time (k x k blocks through strided maps).
template <int K>
bool DevianceModel::factor_groups_one_by_one(const std::vector<Eigen::MatrixXd>& T, Evaluation& e,
                                             Eigen::MatrixXd& schur) {
  using Square = Eigen::Matrix<double, K, K>;
  const int k = terms_.front().k;
  const Square T0 = T.front();
  // 1. Per group: L L' = Lambda1' A11 Lambda1 + I and W = T0 L^-T (right-multiplying by
  // Lambda1 then solving with L' is one k x k product; left multiplications by Lambda2'
  // commute with it).
  for (std::size_t level = 0; level < groups_.size(); ++level) {
    const auto group = static_cast<Eigen::Index>(level);
    Square m = T0.transpose() * group_square<K>(std::as_const(a11_), group, k) * T0;
    m.diagonal().array() += 1;
    Square l;
    if (!lower_cholesky(m, l)) return false;
    group_square<K>(l1_, group, k) = l;
    const Square w = T0 * lower_inverse(l).transpose();
    group_square<K>(w1_, group, k) = w;
    e.ldL2 += 2 * l.diagonal().array().log().sum();
    // 2. R1 = W' Z1'[X y], the group's k rows.
    group_rows<K>(r1_, group, k).noalias() = w.transpose() * group_rows<K>(std::as_const(z1xy_), group, k);
  }
  // 3. schur -= R1'R1 (its lower triangle; the row order of R1 does not matter).
  schur.selfadjointView<Eigen::Lower>().rankUpdate(r1_.transpose(), -1.0);
  return true;
}

// L21 = Lambda2' A21 W per group, then m22 -= L21 L21' (its lower triangle: rest_index
// ascends, and LLT reads no more) and c2 -= L21 R1, both only in the rest columns (rows of c2)
// [first_column, end_column): a thread's share, disjoint from the others'. Every group's L21
// is kept for the conditional modes when keep_l21.
template <int K>
void DevianceModel::couple_groups(const std::vector<Eigen::MatrixXd>& T, Eigen::MatrixXd& m22, Eigen::MatrixXd& c2,
                                  int first_column, int end_column, bool keep_l21) {
  const int k = terms_.front().k;
  Eigen::Matrix<double, Eigen::Dynamic, K> l21;  // the group's, with k fixed at compile time
  for (std::size_t level = 0; level < groups_.size(); ++level) {
    Group& g = groups_[level];
    const auto first = std::lower_bound(g.rest_index.begin(), g.rest_index.end(), first_column);
    if (!keep_l21 && (first == g.rest_index.end() || *first >= end_column)) continue;
    const auto group = static_cast<Eigen::Index>(level);
    l21.noalias() = g.a21.lazyProduct(group_square<K>(std::as_const(w1_), group, k));
    for (const auto& [j, offset] : g.rest_blocks) {
      const Eigen::MatrixXd& t = T[static_cast<std::size_t>(j)];
      if (t.rows() == 1) l21.row(offset) *= t(0, 0);
      else lambda_t_rows(t, offset, l21);
    }
    const auto r1 = group_rows<K>(std::as_const(r1_), group, k);
    const std::size_t touched = g.rest_index.size();
    for (auto b = std::size_t(first - g.rest_index.begin()); b < touched && g.rest_index[b] < end_column; ++b) {
      double* const column = m22.col(g.rest_index[b]).data();  // down each column: near addresses
      for (std::size_t a = b; a < touched; ++a)
        column[g.rest_index[a]] -= l21.row(Eigen::Index(a)).dot(l21.row(Eigen::Index(b)));
      c2.row(g.rest_index[b]).noalias() -= l21.row(Eigen::Index(b)).lazyProduct(r1);
    }
    if (keep_l21) g.l21 = l21;
  }
}

Evaluation DevianceModel::evaluate(const std::vector<double>& params) {
  Evaluation e;
  if (ar1_ && ar1_phi(params) != built_phi_) build_crossproducts(ar1_phi(params));
  e.ldC = ld_c_;
  T_.resize(terms_.size());
  for (std::size_t j = 0; j < terms_.size(); ++j) fill_lambda_factor(int(j), params, T_[j]);
  const std::vector<Eigen::MatrixXd>& T = T_;
  rest_vanishes_ = std::all_of(T.begin() + 1, T.end(), [](const Eigen::MatrixXd& t) { return t.isZero(0); });
  const int k0 = terms_.front().k;

  // The work matrices are reused from one evaluation to the next (no allocation per
  // evaluation; for crossed factors l22_ is large: a fresh one would be paged in anew every
  // time). l22_ receives Lambda2' A22 Lambda2 + I, then the groups' coupling is subtracted,
  // then it is factored in place; schur_ likewise.
  Eigen::MatrixXd& schur = schur_;
  Eigen::MatrixXd& c2 = c2_;
  schur = xyxy_;
  if (q2_ > 0) {
    if (rest_is_scalar()) {
      scale_rest_lower(T);
    } else {
      l22_ = a22_;
      apply_rest_lambda_t(T, l22_);
      apply_rest_lambda(T, l22_);
      l22_.diagonal().array() += 1;
    }
    c2 = z2xy_;
    apply_rest_lambda_t(T, c2);
  }
  l1_.resize(padded_groups_, k0 * k0);
  w1_.resize(padded_groups_, k0 * k0);
  r1_.resize(k0 * padded_groups_, p_ + 1);
  bool factored = false;
  switch (k0) {
    case 1: factored = factor_groups<1>(T, e, schur, l22_, c2); break;
    case 2: factored = factor_groups<2>(T, e, schur, l22_, c2); break;
    case 3: factored = factor_groups<3>(T, e, schur, l22_, c2); break;
    default: factored = factor_groups<Eigen::Dynamic>(T, e, schur, l22_, c2);
  }
  if (!factored) return e;
  // Only the lower triangles of the symmetric Schur complements are updated and read (LLT).
  if (q2_ > 0 && !factor_rest(c2, schur, e.ldL2)) return e;
  if (!lower_cholesky(schur)) return e;
  e.R = schur.triangularView<Eigen::Lower>().transpose();
  e.ldRX2 = log_det2(e.R, p_);
  e.r2 = e.R(p_, p_) * e.R(p_, p_);
  e.ok = std::isfinite(e.ldL2) && std::isfinite(e.r2) && e.r2 > 0;
  return e;
}

// L22 in place (its lower triangle), R2 = L22^-1 c2 and schur -= R2'R2; adds log|L22|^2.
// A small rest block (e.g. the therapists of one study) by plain loops: below a few dozen
// columns Eigen's blocked triangular solve and rank update cost several times their
// arithmetic, and the threaded factorization its set-up.
bool DevianceModel::factor_rest(const Eigen::MatrixXd& c2, Eigen::MatrixXd& schur, double& log_det) {
  // Every rest term's Lambda 0 (their variances on the boundary, as in many singular fits):
  // Lambda2' A22 Lambda2 + I = I is its own factor and c2 = Lambda2' Z2'[X y] = 0, so R2 = 0
  // leaves schur and log|L22|^2 = 0 as they are.
  if (rest_vanishes_) {
    r2_ = c2;
    return true;
  }
  constexpr int kSmallRest = 32;
  if (q2_ > kSmallRest) {
    if (!dense_cholesky(l22_)) return false;
    r2_ = l22_.triangularView<Eigen::Lower>().solve(c2);
    schur.selfadjointView<Eigen::Lower>().rankUpdate(r2_.transpose(), -1.0);
  } else {
    if (!lower_cholesky(l22_)) return false;
    r2_ = c2;
    const Eigen::Index n = q2_, ld = l22_.outerStride();
    const double* const l = l22_.data();
    for (Eigen::Index c = 0; c < r2_.cols(); ++c) {  // forward substitution, column by column
      double* const x = r2_.col(c).data();
      for (Eigen::Index i = 0; i < n; ++i) {
        double value = x[i];
        for (Eigen::Index j = 0; j < i; ++j) value -= l[i + j * ld] * x[j];
        x[i] = value / l[i + i * ld];
      }
    }
    for (Eigen::Index j = 0; j < schur.cols(); ++j)
      for (Eigen::Index i = j; i < schur.rows(); ++i) {
        const double* const a = r2_.col(i).data();
        const double* const b = r2_.col(j).data();
        double dot = 0;
        for (Eigen::Index r = 0; r < n; ++r) dot += a[r] * b[r];
        schur(i, j) -= dot;
      }
  }
  log_det += log_det2(l22_, q2_);
  return true;
}

// Bates et al. (2015) eq. 34 (ML) and eq. 41 (REML), plus log|C| of the AR(1) correlation,
// minus sum log w of prior weights (lme4's lmerResp::Laplace: ldL2 - ldW + ...).
double DevianceModel::criterion(const Evaluation& e, bool reml) const {
  if (!e.ok) return HUGE_VAL;
  const double dof = reml ? n_ - p_ : n_;
  return e.ldL2 + e.ldC - sum_log_weights_ + (reml ? e.ldRX2 : 0) + dof * (1 + std::log(kTwoPi * e.r2 / dof));
}

Eigen::VectorXd DevianceModel::beta(const Evaluation& e) const {
  if (!e.ok) return Eigen::VectorXd::Constant(p_, std::numeric_limits<double>::quiet_NaN());
  return e.R.topLeftCorner(p_, p_).triangularView<Eigen::Upper>().solve(e.R.col(p_).head(p_));
}

Eigen::MatrixXd DevianceModel::unscaled_vcov(const Evaluation& e) const {
  if (!e.ok) return Eigen::MatrixXd::Constant(p_, p_, std::numeric_limits<double>::quiet_NaN());
  const Eigen::MatrixXd rxi = e.R.topLeftCorner(p_, p_).triangularView<Eigen::Upper>().solve(
      Eigen::MatrixXd::Identity(p_, p_));
  return rxi * rxi.transpose();
}

// u solves L' u = c_u - R_ZX beta (block back-substitution); b = Lambda u. The conditional
// variance blocks of (L L')^{-1} follow from L^{-1} = [L1^-1, 0; -L2^-1 L21 L1^-1, L2^-1].
DevianceModel::Modes DevianceModel::conditional_modes(const Evaluation& e, const std::vector<double>& params) const {
  const Eigen::VectorXd b = beta(e);
  Modes modes;
  for (const auto& t : terms_) {
    modes.estimate.push_back(Eigen::MatrixXd::Zero(t.m, t.k));
    modes.variance.push_back(Eigen::MatrixXd::Zero(t.m, t.k));
  }
  std::vector<Eigen::MatrixXd> T;
  for (std::size_t j = 0; j < terms_.size(); ++j) T.push_back(lambda_factor(int(j), params));
  Eigen::VectorXd u2;
  Eigen::MatrixXd l22_inv;
  if (q2_ > 0) {
    u2 = l22_.transpose().triangularView<Eigen::Upper>().solve(r2_.col(p_) - r2_.leftCols(p_) * b);
    l22_inv = l22_.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(q2_, q2_));
    for (std::size_t j = 1; j < terms_.size(); ++j) {
      const ReTerm& t = terms_[j];
      for (int level = 0; level < t.m; ++level) {
        const int o = t.offset + level * t.k;
        modes.estimate[j].row(level) = (T[j] * u2.segment(o, t.k)).transpose();
        const Eigen::MatrixXd inv = l22_inv.middleCols(o, t.k).transpose() * l22_inv.middleCols(o, t.k);
        modes.variance[j].row(level) = (T[j] * inv * T[j].transpose()).diagonal().transpose();
      }
    }
  }
  const int k0 = terms_.front().k;
  for (std::size_t level = 0; level < groups_.size(); ++level) {
    const Group& g = groups_[level];
    const auto group = static_cast<Eigen::Index>(level);
    const Eigen::MatrixXd r1 = group_rows<Eigen::Dynamic>(r1_, group, k0);
    const Eigen::MatrixXd l = group_square<Eigen::Dynamic>(l1_, group, k0);
    const Eigen::MatrixXd l21 = nested_in_scalar_rest_ ? Eigen::MatrixXd(nested_l21_.row(group)) : g.l21;
    Eigen::VectorXd rhs = r1.col(p_) - r1.leftCols(p_) * b;
    const Eigen::MatrixXd l_inv = l.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(k0, k0));
    Eigen::MatrixXd inv = l_inv.transpose() * l_inv;
    if (!g.rest_index.empty()) {
      rhs -= l21.transpose() * u2(g.rest_index);
      const Eigen::MatrixXd w = l22_inv(Eigen::all, g.rest_index) * l21 * l_inv;
      inv += w.transpose() * w;
    }
    const Eigen::VectorXd u1 = l.transpose().triangularView<Eigen::Upper>().solve(rhs);
    modes.estimate[0].row(g.level) = (T[0] * u1).transpose();
    modes.variance[0].row(g.level) = (T[0] * inv * T[0].transpose()).diagonal().transpose();
  }
  return modes;
}

}  // namespace spiral::lmm_detail
