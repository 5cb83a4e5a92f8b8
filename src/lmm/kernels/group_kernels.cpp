// The kernels of group_kernels.hpp, compiled twice (kernel_set.hpp). Each works through the
// groups in tiles: a tile's arrays stay in the L1 cache between the passes of Eigen's
// vectorized array expressions, each pass over kTile groups.
#include "lmm/kernels/kernel_set.hpp"
#include "lmm/group_kernels.hpp"

#include <algorithm>
#include <cmath>

namespace spiral::lmm_detail {

namespace {

constexpr long kTile = 64;

using Column = Eigen::Array<double, Eigen::Dynamic, 1>;
using In = Eigen::Map<const Column>;
using Out = Eigen::Map<Column>;

// One tile: groups [first, first + count).
struct Tile {
  const GroupFactorProblem& p;
  long first, count;

  In in(const double* array, long column) const { return In(array + column * p.groups + first, count); }
  Out out(double* array, long column) const { return Out(array + column * p.groups + first, count); }
};

// L L' = T' A T + I and W = T L^-T, per group. k = 1: L = sqrt(t^2 a + 1), W = t / L.
// k = 2, T = [t00 0; t10 t11]: with L^-1 = [1/l00 0; -l10/(l00 l11) 1/l11], W = T L^-T.
// `diagonal` receives each group's |L|.
template <int K>
bool factor_tile(const Tile& tile, double* diagonal_out) {
  const GroupFactorProblem& p = tile.p;
  Out diagonal(diagonal_out, tile.count);
  if constexpr (K == 1) {
    const double t = p.t[0];
    diagonal = t * t * tile.in(p.a11, 0) + 1;
    if (!(diagonal > 0).all()) return false;
    auto l = tile.out(p.l1, 0);
    l = diagonal.sqrt();
    diagonal = l;
    tile.out(p.w1, 0) = t / l;
  } else {
    const double t00 = p.t[0], t10 = p.t[1], t11 = p.t[3];
    const auto a00 = tile.in(p.a11, 0), a10 = tile.in(p.a11, 1), a11 = tile.in(p.a11, 3);
    auto l00 = tile.out(p.l1, 0), l10 = tile.out(p.l1, 1), l11 = tile.out(p.l1, 3);
    tile.out(p.l1, 2).setZero();
    l00 = (t00 * (t00 * a00 + t10 * a10) + t10 * (t00 * a10 + t10 * a11) + 1).sqrt();
    l10 = t11 * (t00 * a10 + t10 * a11) / l00;
    diagonal = t11 * t11 * a11 + 1 - l10.square();  // the second pivot
    if (!(diagonal > 0).all()) return false;
    l11 = diagonal.sqrt();
    auto w00 = tile.out(p.w1, 0), w10 = tile.out(p.w1, 1), w01 = tile.out(p.w1, 2), w11 = tile.out(p.w1, 3);
    w00 = 1 / l00;  // (1/l00 until w10 and w01 have used it)
    w01 = -l10 * w00 / l11;  // L^-1's (1, 0) entry
    w11 = t10 * w01 + t11 / l11;
    w10 = t10 * w00;
    w01 *= t00;
    w00 *= t00;
    diagonal = l00 * l11;
  }
  return true;
}

// R1 = W' Z1'[X y] per group, and schur -= R1'R1 (its lower triangle). For k = 2,
// R1's rows are W(:, 0)' z and W(:, 1)' z (W(r, c) in column r + 2c).
template <int K>
void project_tile(const Tile& tile) {
  const GroupFactorProblem& p = tile.p;
  const long rows = K * p.groups;  // of R1 and Z1'[X y]
  const auto z = [&](long j, int r) { return tile.in(p.z1xy + j * rows, r); };
  const auto r1 = [&](long j, int r) { return tile.in(p.r1 + j * rows, r); };
  for (long j = 0; j < p.columns; ++j) {
    if constexpr (K == 1) {
      tile.out(p.r1 + j * rows, 0) = tile.in(p.w1, 0) * z(j, 0);
    } else {
      tile.out(p.r1 + j * rows, 0) = tile.in(p.w1, 0) * z(j, 0) + tile.in(p.w1, 1) * z(j, 1);
      tile.out(p.r1 + j * rows, 1) = tile.in(p.w1, 2) * z(j, 0) + tile.in(p.w1, 3) * z(j, 1);
    }
  }
  for (long j = 0; j < p.columns; ++j)
    for (long i = j; i < p.columns; ++i) {
      if constexpr (K == 1)
        p.schur[i + j * p.columns] -= (r1(i, 0) * r1(j, 0)).sum();
      else
        p.schur[i + j * p.columns] -= (r1(i, 0) * r1(j, 0) + r1(i, 1) * r1(j, 1)).sum();
    }
}

// The sum of n terms: Eigen's vectorized sum for long runs, a plain loop for short ones
// (whose set-up would cost more than the sum).
double run_sum(const double* terms, long n) {
  if (n >= 16) return In(terms, n).sum();
  double sum = 0;
  for (long i = 0; i < n; ++i) sum += terms[i];
  return sum;
}

// Each group's L21 = lambda a21 W (one row), then m22(c, c) -= L21 L21' and
// c2.row(c) -= L21 R1 for its rest level c: the p + 2 terms of each group are computed as
// columns over the tile, then summed over each run of groups of one level (the deviance
// model orders the groups by level, so runs are long).
template <int K>
void couple_tile(const Tile& tile, double* terms_out) {
  const GroupFactorProblem& p = tile.p;
  const long rows = K * p.groups;
  const auto r1 = [&](long j, int r) { return tile.in(p.r1 + j * rows, r); };
  const auto term = [&](long j) { return Out(terms_out + j * kTile, tile.count); };  // j = columns: m22's
  if constexpr (K == 1) {
    auto l21 = tile.out(p.l21, 0);
    l21 = p.rest_lambda * tile.in(p.a21, 0) * tile.in(p.w1, 0);
    for (long j = 0; j < p.columns; ++j) term(j) = l21 * r1(j, 0);
    term(p.columns) = l21.square();
  } else {
    auto l0 = tile.out(p.l21, 0), l1 = tile.out(p.l21, 1);
    l0 = p.rest_lambda * (tile.in(p.a21, 0) * tile.in(p.w1, 0) + tile.in(p.a21, 1) * tile.in(p.w1, 1));
    l1 = p.rest_lambda * (tile.in(p.a21, 0) * tile.in(p.w1, 2) + tile.in(p.a21, 1) * tile.in(p.w1, 3));
    for (long j = 0; j < p.columns; ++j) term(j) = l0 * r1(j, 0) + l1 * r1(j, 1);
    term(p.columns) = l0.square() + l1.square();
  }
  const int* const level = p.rest_level + tile.first;
  for (long run = 0, end; run < tile.count; run = end) {
    for (end = run + 1; end < tile.count && level[end] == level[run];) ++end;
    double* const row = p.c2 + level[run];
    for (long j = 0; j < p.columns; ++j) row[j * p.ldc2] -= run_sum(terms_out + j * kTile + run, end - run);
    p.m22[level[run] * (p.ld22 + 1)] -= run_sum(terms_out + p.columns * kTile + run, end - run);
  }
}

// log|L|^2 summed over groups as 2 log of running products: every |L| is >= 1 (L L' is I
// plus a positive semi-definite matrix), so the product only grows; it is logged when large.
class LogDeterminant {
 public:
  void add(const double* diagonal, long count) {
    for (long g = 0; g < count; ++g) {
      if (diagonal[g] > 1e100) {
        sum_ += 2 * std::log(diagonal[g]);
      } else if ((product_ *= diagonal[g]) > 1e200) {
        sum_ += 2 * std::log(product_);
        product_ = 1;
      }
    }
  }
  double value() const { return sum_ + 2 * std::log(product_); }

 private:
  double sum_ = 0, product_ = 1;
};

template <int K>
bool factor(const GroupFactorProblem& p, double& log_det) {
  Column scratch((p.columns + 1) * kTile);  // (an Eigen type: no std:: template instantiated here)
  LogDeterminant determinant;
  for (long first = 0; first < p.groups; first += kTile) {
    const Tile tile{p, first, std::min(kTile, p.groups - first)};
    if (!factor_tile<K>(tile, scratch.data())) return false;
    determinant.add(scratch.data(), tile.count);
    project_tile<K>(tile);
    if (p.rest_level) couple_tile<K>(tile, scratch.data());
  }
  log_det += determinant.value();
  return true;
}

}  // namespace

const GroupKernels& SPIRAL_KERNEL_SET(group_kernels)() {
  static constexpr GroupKernels kernels{factor<1>, factor<2>};
  return kernels;
}

}  // namespace spiral::lmm_detail
