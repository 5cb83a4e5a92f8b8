// The kernels of group_kernels.hpp, compiled twice (kernel_set.hpp). The groups are taken in
// tiles of kTile: one pass over a tile, four groups at a time in Eigen's fixed-size arrays
// (one AVX register, two SSE2 ones), forms each group's L, W, R1 and coupling terms; then
// the tile's R1'R1 and the coupling sums run over the tile's arrays while they are in the
// L1 cache.
#include "lmm/kernels/kernel_set.hpp"
#include "lmm/group_kernels.hpp"

#include <algorithm>
#include <cmath>

namespace spiral::lmm_detail {

namespace {

constexpr long kTile = 64;  // a multiple of kGroupLanes

using Column = Eigen::Array<double, Eigen::Dynamic, 1>;
using In = Eigen::Map<const Column>;
using Lanes = Eigen::Array<double, kGroupLanes, 1>;

// Four groups from `first`, the tile's from `local`.
struct Quad {
  long first, local;

  Lanes load(const double* array) const { return Lanes::Map(array + first); }
  void store(double* array, const Lanes& lanes) const { Lanes::Map(array + first) = lanes; }
  void store_in_tile(double* tile_array, const Lanes& lanes) const { Lanes::Map(tile_array + local) = lanes; }
};

// A tile's scratch: each group's |L| and, for the nested coupling, its p + 2 terms
// (columns 0..p: L21 R1, column p + 1: L21 L21'), kTile apart.
struct TileScratch {
  explicit TileScratch(long columns) : diagonal(kTile), terms((columns + 1) * kTile) {}
  Column diagonal, terms;
};

// Per group, with A = Z1'Z1: L L' = T' A T + I, W = T L^-T, R1 = W' Z1'[X y] and, when the
// groups are nested in a rest term, L21 = lambda a21 W and its terms. k = 1: L = sqrt(t^2 a
// + 1), W = t / L. k = 2, T = [t00 0; t10 t11]: L^-1 = [1/l00 0; -l10/(l00 l11) 1/l11].
// False when a pivot is not positive (or NaN).
template <int K>
[[gnu::always_inline]] inline bool factor_quad(const GroupFactorProblem& p, const Quad& q, TileScratch& scratch) {
  const long m = p.groups, rows = K * m;
  const auto column = [m](double* array, long c) { return array + c * m; };
  const auto input = [m](const double* array, long c) { return array + c * m; };
  Lanes w[K * K];  // W(r, c) at r + K c
  if constexpr (K == 1) {
    const double t = p.t[0];
    const Lanes pivot = t * t * q.load(p.a11) + 1;
    if (!(pivot > 0).all()) return false;
    const Lanes l = pivot.sqrt();
    w[0] = t / l;
    q.store(p.l1, l);
    q.store_in_tile(scratch.diagonal.data(), l);
  } else {
    const double t00 = p.t[0], t10 = p.t[1], t11 = p.t[3];
    const Lanes a00 = q.load(input(p.a11, 0)), a10 = q.load(input(p.a11, 1)), a11 = q.load(input(p.a11, 3));
    const Lanes u1 = t00 * a10 + t10 * a11;  // (A T)(1, 0)
    const Lanes l00 = (t00 * (t00 * a00 + t10 * a10) + t10 * u1 + 1).sqrt();
    const Lanes l10 = t11 * u1 / l00;
    const Lanes pivot = t11 * t11 * a11 + 1 - l10.square();
    if (!(pivot > 0).all()) return false;
    const Lanes l11 = pivot.sqrt();
    const Lanes i00 = 1 / l00, i11 = 1 / l11, i10 = -l10 * i00 * i11;  // L^-1
    w[0] = t00 * i00;
    w[1] = t10 * i00;
    w[2] = t00 * i10;
    w[3] = t10 * i10 + t11 * i11;
    q.store(column(p.l1, 0), l00);
    q.store(column(p.l1, 1), l10);
    q.store(column(p.l1, 2), Lanes::Zero());
    q.store(column(p.l1, 3), l11);
    q.store_in_tile(scratch.diagonal.data(), l00 * l11);
  }
  for (int c = 0; c < K * K; ++c) q.store(column(p.w1, c), w[c]);

  Lanes l21[K];
  const bool coupled = p.coupled();
  if (p.rest_level && !coupled) {  // lambda = 0 (a singular rest term): L21 = 0, nothing to subtract
    for (int c = 0; c < K; ++c) q.store(column(p.l21, c), Lanes::Zero());
  } else if (coupled) {
    for (int c = 0; c < K; ++c) {
      l21[c] = q.load(input(p.a21, 0)) * w[K * c];
      for (int r = 1; r < K; ++r) l21[c] += q.load(input(p.a21, r)) * w[r + K * c];
      l21[c] *= p.rest_lambda;
      q.store(column(p.l21, c), l21[c]);
    }
    Lanes square = l21[0].square();
    for (int c = 1; c < K; ++c) square += l21[c].square();
    q.store_in_tile(scratch.terms.data() + p.columns * kTile, square);
  }
  for (long j = 0; j < p.columns; ++j) {
    Lanes z[K], r1[K];
    for (int r = 0; r < K; ++r) z[r] = q.load(input(p.z1xy + j * rows, r));
    for (int c = 0; c < K; ++c) {  // R1(c, j) = sum_r W(r, c) z_r
      r1[c] = w[K * c] * z[0];
      for (int r = 1; r < K; ++r) r1[c] += w[r + K * c] * z[r];
      q.store(column(p.r1 + j * rows, c), r1[c]);
    }
    if (coupled) {
      Lanes term = l21[0] * r1[0];
      for (int c = 1; c < K; ++c) term += l21[c] * r1[c];
      q.store_in_tile(scratch.terms.data() + j * kTile, term);
    }
  }
  return true;
}

// schur -= the tile's R1'R1 (its lower triangle): dot products of R1's column pieces.
template <int K>
void subtract_tile_crossproduct(const GroupFactorProblem& p, long first, long count) {
  const long rows = K * p.groups;
  const auto piece = [&](long j, int r) { return In(p.r1 + j * rows + r * p.groups + first, count); };
  for (long j = 0; j < p.columns; ++j)
    for (long i = j; i < p.columns; ++i) {
      if constexpr (K == 1)
        p.schur[i + j * p.columns] -= (piece(i, 0) * piece(j, 0)).sum();
      else
        p.schur[i + j * p.columns] -= (piece(i, 0) * piece(j, 0) + piece(i, 1) * piece(j, 1)).sum();
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

// m22(c, c) -= L21 L21' and c2.row(c) -= L21 R1 for each group's rest level c: the tile's
// terms summed over each run of groups of one level (the deviance model orders the groups
// by level, so runs are long).
void subtract_tile_coupling(const GroupFactorProblem& p, long first, long count, const TileScratch& scratch) {
  const int* const level = p.rest_level + first;
  for (long run = 0, end; run < count; run = end) {
    for (end = run + 1; end < count && level[end] == level[run];) ++end;
    double* const row = p.c2 + level[run];
    for (long j = 0; j < p.columns; ++j) row[j * p.ldc2] -= run_sum(scratch.terms.data() + j * kTile + run, end - run);
    p.m22[level[run] * (p.ld22 + 1)] -= run_sum(scratch.terms.data() + p.columns * kTile + run, end - run);
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
bool factor(const GroupFactorProblem& problem, double& log_det) {
  const GroupFactorProblem p = problem;  // a local copy: the compiler sees no store change it
  TileScratch scratch(p.columns);
  LogDeterminant determinant;
  for (long first = 0; first < p.groups; first += kTile) {
    const long count = std::min(kTile, p.groups - first);
    for (long g = first; g < first + count; g += kGroupLanes)
      if (!factor_quad<K>(p, Quad{g, g - first}, scratch)) return false;
    determinant.add(scratch.diagonal.data(), count);
    subtract_tile_crossproduct<K>(p, first, count);
    if (p.coupled()) subtract_tile_coupling(p, first, count, scratch);
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
