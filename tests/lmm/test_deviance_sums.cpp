// The deviance model's short dot products (lmm_detail::dot_in_sse2_lanes) give the bits of
// Eigen's dot product, which the general path of the groups' cross-products uses: the path a
// model takes must not change its deviance.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>

#include <Eigen/Dense>

#include "lmm/deviance.hpp"

namespace spiral::lmm_detail {
namespace {

TEST(DotInSse2Lanes, SameBitsAsEigensDotForEveryLength) {
  if (Eigen::internal::packet_traits<double>::size != 2)
    GTEST_SKIP() << "this build's Eigen sums in packets of " << Eigen::internal::packet_traits<double>::size;
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> mantissa(-1, 1);
  std::uniform_int_distribution<int> exponent(-30, 30);  // magnitudes far apart: rounding shows the order
  for (Eigen::Index n = 0; n <= 41; ++n) {
    for (int draw = 0; draw < 50; ++draw) {
      Eigen::VectorXd a(n), b(n);
      for (Eigen::Index i = 0; i < n; ++i) {
        a(i) = std::ldexp(mantissa(random), exponent(random));
        b(i) = std::ldexp(mantissa(random), exponent(random));
      }
      const double expected = a.dot(b), got = dot_in_sse2_lanes(a.data(), b.data(), n);
      ASSERT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(expected))
          << "n = " << n << ": " << got << " against Eigen's " << expected;
    }
  }
}

// A plain left-to-right sum differs from it: the test above can tell the orders apart.
TEST(DotInSse2Lanes, IsNotTheLeftToRightSum) {
  const double a[] = {1e16, 1, -1e16, 1, 1, 1};
  const double ones[] = {1, 1, 1, 1, 1, 1};
  double left_to_right = 0;
  for (double v : a) left_to_right += v;
  EXPECT_EQ(left_to_right, 3.0);  // 1e16 + 1 rounds to 1e16
  EXPECT_EQ(dot_in_sse2_lanes(a, ones, 6), 4.0);  // lanes (1e16 - 1e16 + 1, 1 + 1 + 1)
}

}  // namespace
}  // namespace spiral::lmm_detail
