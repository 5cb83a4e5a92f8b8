// The blocked, threaded Cholesky factorization of the rest block (src/lmm/dense_cholesky.hpp)
// against Eigen's LLT, for every kernel set this processor runs and 1 to 3 threads (which
// must give the same bits).
#include <gtest/gtest.h>

#include <vector>

#include "lmm/dense_cholesky.hpp"

namespace spiral::lmm_detail {
namespace {

constexpr double kUpperSentinel = 42.0;

Eigen::MatrixXd random_spd(Eigen::Index n, unsigned seed) {
  std::srand(seed);
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(n, n + 3);
  Eigen::MatrixXd spd = a * a.transpose() / double(n);
  spd.diagonal().array() += 0.1;
  return spd;
}

TEST(DenseCholesky, EqualsEigenLltAndTheSameBitsOnAnyNumberOfThreads) {
  for (const Eigen::Index n : {1, 7, 127, 128, 129, 300, 700}) {
    const Eigen::MatrixXd spd = random_spd(n, unsigned(n));
    const Eigen::MatrixXd expected = spd.llt().matrixL();
    for (const DenseKernels* kernels : usable_kernel_sets()) {
      Eigen::MatrixXd on_one_thread;
      for (unsigned threads : {1u, 2u, 3u}) {
        Eigen::MatrixXd a = spd;
        a.triangularView<Eigen::StrictlyUpper>().setConstant(kUpperSentinel);
        ASSERT_TRUE(dense_cholesky(a, threads, kernels)) << "n = " << n << ", threads = " << threads;
        const Eigen::MatrixXd lower = a.triangularView<Eigen::Lower>();
        EXPECT_LE((lower - expected).cwiseAbs().maxCoeff(), 1e-12 * expected.cwiseAbs().maxCoeff())
            << "n = " << n << ", threads = " << threads;
        if (threads == 1) on_one_thread = lower;
        EXPECT_EQ(lower, on_one_thread) << "not the same bits as on one thread: n = " << n << ", threads = " << threads;
        const Eigen::MatrixXd upper = a.triangularView<Eigen::StrictlyUpper>();
        const Eigen::MatrixXd untouched =
            Eigen::MatrixXd::Constant(n, n, kUpperSentinel).triangularView<Eigen::StrictlyUpper>();
        EXPECT_EQ(upper, untouched) << "the strict upper triangle was written, n = " << n;
      }
    }
  }
}

TEST(DenseCholesky, ReportsAMatrixThatIsNotPositiveDefiniteOnEveryTeamSize) {
  for (const Eigen::Index bad : {0, 5, 200, 399}) {  // the first pivot that fails, in the first to the last block
    Eigen::MatrixXd a = random_spd(400, 11);
    a(bad, bad) -= 1e3;
    for (const DenseKernels* kernels : usable_kernel_sets())
      for (unsigned threads : {1u, 2u, 3u}) {
        Eigen::MatrixXd copy = a;
        EXPECT_FALSE(dense_cholesky(copy, threads, kernels)) << "pivot " << bad << ", threads = " << threads;
      }
  }
}

TEST(DenseCholesky, FactorsABlockOfALargerMatrixInPlace) {
  const Eigen::MatrixXd spd = random_spd(260, 3);
  Eigen::MatrixXd storage = Eigen::MatrixXd::Zero(300, 300);
  storage.block(20, 30, 260, 260) = spd;
  ASSERT_TRUE(dense_cholesky(storage.block(20, 30, 260, 260), 2));
  const Eigen::MatrixXd lower = storage.block(20, 30, 260, 260).triangularView<Eigen::Lower>();
  const Eigen::MatrixXd expected = spd.llt().matrixL();
  EXPECT_LE((lower - expected).cwiseAbs().maxCoeff(), 1e-12 * expected.cwiseAbs().maxCoeff());
  EXPECT_EQ(storage.topRows(20).cwiseAbs().maxCoeff(), 0);
  EXPECT_EQ(storage.leftCols(30).cwiseAbs().maxCoeff(), 0);
}

}  // namespace
}  // namespace spiral::lmm_detail
