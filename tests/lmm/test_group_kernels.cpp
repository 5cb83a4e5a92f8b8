// The per-group kernels of the deviance (src/lmm/group_kernels.hpp), every set this
// processor runs, against the same quantities formed group by group with Eigen's LLT:
// L, W = T L^-T, R1 = W' Z1'[X y], schur - R1'R1, log|L|^2 and the nested coupling.
#include <gtest/gtest.h>

#include <cmath>

#include <Eigen/Dense>

#include "lmm/group_kernels.hpp"

namespace spiral::lmm_detail {
namespace {

constexpr long kGroups = 152;  // three tiles of the kernels, the last one partial
constexpr long kPadding = 2;   // the last groups: padding (no rows, inputs 0)
constexpr long kColumns = 5;
constexpr int kLevels = 7;  // of the rest term the groups are nested in
constexpr double kRestLambda = 0.7;

// One problem's inputs and outputs, in the kernels' layout (columns over the groups).
struct Problem {
  int k;
  Eigen::MatrixXd t, a11, z1xy, a21, schur, m22, c2;
  std::vector<int> level;
  Eigen::MatrixXd l1, w1, r1, l21;
  double rest_lambda = kRestLambda;
  double log_det = 0;

  // Levels of the rest term: interleaved (every group's neighbours in other levels) or in
  // runs (as the deviance model orders them: quads of one level, and quads across levels).
  Problem(int k_, bool levels_in_runs) : k(k_) {
    std::srand(unsigned(17 + k));
    t = Eigen::MatrixXd::Random(k, k).triangularView<Eigen::Lower>();
    a11.resize(kGroups, k * k);
    z1xy.resize(k * kGroups, kColumns);
    a21 = Eigen::MatrixXd::Random(kGroups, k);
    for (long g = 0; g < kGroups; ++g) {
      const Eigen::Index n_rows = g < kGroups - kPadding ? 6 : 0;
      const Eigen::MatrixXd z1 = Eigen::MatrixXd::Random(n_rows, k), xy = Eigen::MatrixXd::Random(n_rows, kColumns);
      a11.row(g) = (z1.transpose() * z1).reshaped().transpose();
      for (int r = 0; r < k; ++r) z1xy.row(r * kGroups + g) = (z1.transpose() * xy).row(r);
      level.push_back(levels_in_runs ? int(g * kLevels / kGroups) : int(g * 5 % kLevels));
      if (n_rows == 0) a21.row(g).setZero();
    }
    const Eigen::MatrixXd s = Eigen::MatrixXd::Random(kColumns, kColumns);
    schur = s * s.transpose();
    m22 = Eigen::MatrixXd::Random(kLevels, kLevels);
    c2 = Eigen::MatrixXd::Random(kLevels, kColumns);
    l1.resize(kGroups, k * k);
    w1.resize(kGroups, k * k);
    r1.resize(k * kGroups, kColumns);
    l21.resize(kGroups, k);
  }

  GroupFactorProblem view(bool nested) {
    GroupFactorProblem p;
    p.groups = kGroups;
    p.columns = kColumns;
    p.t = t.data();
    p.a11 = a11.data();
    p.z1xy = z1xy.data();
    p.l1 = l1.data();
    p.w1 = w1.data();
    p.r1 = r1.data();
    p.schur = schur.data();
    if (nested) {
      p.rest_level = level.data();
      p.a21 = a21.data();
      p.rest_lambda = rest_lambda;
      p.l21 = l21.data();
      p.m22 = m22.data();
      p.ld22 = m22.outerStride();
      p.c2 = c2.data();
      p.ldc2 = c2.outerStride();
    }
    return p;
  }

  bool run(const GroupKernels& kernels, bool nested) {
    return (k == 1 ? kernels.factor_k1 : kernels.factor_k2)(view(nested), log_det);
  }
};

// The kernels' outputs formed group by group from the inputs of `before`.
Problem expected_after(const Problem& before, bool nested) {
  Problem e = before;
  const int k = before.k;
  for (long g = 0; g < kGroups; ++g) {
    const Eigen::MatrixXd a = before.a11.row(g).reshaped(k, k);
    const Eigen::MatrixXd m = before.t.transpose() * a * before.t + Eigen::MatrixXd::Identity(k, k);
    const Eigen::MatrixXd l = m.llt().matrixL();
    const Eigen::MatrixXd w = before.t * l.transpose().inverse();
    Eigen::MatrixXd z(k, kColumns);
    for (int r = 0; r < k; ++r) z.row(r) = before.z1xy.row(r * kGroups + g);
    const Eigen::MatrixXd r1 = w.transpose() * z;
    e.l1.row(g) = l.reshaped().transpose();
    e.w1.row(g) = w.reshaped().transpose();
    for (int r = 0; r < k; ++r) e.r1.row(r * kGroups + g) = r1.row(r);
    e.schur -= r1.transpose() * r1;
    e.log_det += 2 * std::log(l.determinant());
    if (nested) {
      const Eigen::RowVectorXd l21 = before.rest_lambda * before.a21.row(g) * w;
      const int c = before.level[static_cast<std::size_t>(g)];
      e.l21.row(g) = l21;
      e.m22(c, c) -= l21.squaredNorm();
      e.c2.row(c) -= l21 * r1;
    }
  }
  return e;
}

void expect_near(const Eigen::MatrixXd& actual, const Eigen::MatrixXd& expected, const char* what) {
  EXPECT_LE((actual - expected).cwiseAbs().maxCoeff(), 1e-12 * (1 + expected.cwiseAbs().maxCoeff())) << what;
}

TEST(GroupKernels, EqualTheFactorsFormedGroupByGroup) {
  for (const GroupKernels* kernels : usable_group_kernel_sets())
    for (int k : {1, 2})
      for (int layout : {0, 1, 2}) {  // not nested; nested, levels interleaved; nested, levels in runs
        const bool nested = layout > 0;
        SCOPED_TRACE(::testing::Message() << "k = " << k << ", layout " << layout);
        Problem p(k, layout == 2);
        const Problem expected = expected_after(p, nested);
        ASSERT_TRUE(p.run(*kernels, nested));
        expect_near(p.l1.leftCols(1), expected.l1.leftCols(1), "L(0, 0)");
        if (k == 2) expect_near(p.l1.rightCols(3), expected.l1.rightCols(3), "L");  // (0, 1) is not read
        expect_near(p.w1, expected.w1, "W");
        expect_near(p.r1, expected.r1, "R1");
        expect_near(p.schur.triangularView<Eigen::Lower>(), expected.schur.triangularView<Eigen::Lower>(), "schur");
        EXPECT_NEAR(p.log_det, expected.log_det, 1e-12 * std::abs(expected.log_det));
        if (nested) {
          expect_near(p.l21, expected.l21, "L21");
          expect_near(p.m22, expected.m22, "m22");
          expect_near(p.c2, expected.c2, "c2");
        } else {
          EXPECT_EQ(p.c2, expected.c2) << "c2 changed without a nested rest term";
        }
      }
}

// A rest term whose Lambda is 0 (its variance on the boundary): L21 = 0 is written over
// whatever the array held, and m22 and c2 are left exactly as they were.
TEST(GroupKernels, LeaveTheRestUntouchedWhenItsLambdaIsZero) {
  for (const GroupKernels* kernels : usable_group_kernel_sets())
    for (int k : {1, 2}) {
      SCOPED_TRACE(::testing::Message() << "k = " << k);
      Problem p(k, true);
      p.rest_lambda = 0;
      p.l21.setConstant(std::nan(""));
      const Problem before = p;
      const Problem expected = expected_after(p, true);
      ASSERT_TRUE(p.run(*kernels, true));
      EXPECT_EQ(p.l21, Eigen::MatrixXd::Zero(kGroups, k));
      EXPECT_EQ(p.m22, before.m22);
      EXPECT_EQ(p.c2, before.c2);
      expect_near(p.r1, expected.r1, "R1");
      expect_near(p.schur.triangularView<Eigen::Lower>(), expected.schur.triangularView<Eigen::Lower>(), "schur");
    }
}

TEST(GroupKernels, ReportAGroupWhoseBlockIsNotPositiveDefinite) {
  for (const GroupKernels* kernels : usable_group_kernel_sets())
    for (int k : {1, 2})
      for (long bad : {0L, 70L, kGroups - 1}) {  // in the first, second and last tile
        Problem p(k, false);
        p.t.setIdentity();
        p.a11.row(bad).setZero();
        p.a11(bad, k * k - 1) = -2;  // T'AT + I has a pivot of -1
        EXPECT_FALSE(p.run(*kernels, false)) << "k = " << k << ", group " << bad;
        p.a11(bad, k * k - 1) = std::nan("");
        EXPECT_FALSE(p.run(*kernels, false)) << "NaN: k = " << k << ", group " << bad;
      }
}

}  // namespace
}  // namespace spiral::lmm_detail
