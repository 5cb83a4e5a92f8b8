// The sampler's random draws: moments of the multivariate normal in precision form and of
// the inverse Wishart (E X = S / (nu - p - 1); Anderson 2003, 7.7), and one stream per seed.
#include <cmath>
#include <tuple>

#include "dsem/random.hpp"
#include "test_support.hpp"

namespace spiral::dsem {
namespace {

// x ~ N(P^-1 h, P^-1) by draw_normal_precision: 200000 draws' mean and covariance against the
// exact ones (Eigen's inverse).
void expect_normal_moments(const Mat& precision, const Vec& linear) {
  const Mat covariance = precision.inverse();
  const Vec mean = covariance * linear;
  const long d = precision.rows();
  Rng rng(7, 0);
  const int n = 200000;
  Vec sum = Vec::Zero(d);
  Mat cross = Mat::Zero(d, d);
  for (int i = 0; i < n; ++i) {
    const Vec x = draw_normal_precision(precision, linear, rng);
    sum += x;
    cross += (x - mean) * (x - mean).transpose();
  }
  for (long a = 0; a < d; ++a) {
    EXPECT_NEAR(sum(a) / n, mean(a), 4 * std::sqrt(covariance(a, a) / n)) << d << " " << a;
    for (long b = 0; b < d; ++b)
      EXPECT_NEAR(cross(a, b) / n, covariance(a, b), 0.02 * std::sqrt(covariance(a, a) * covariance(b, b))) << d << " " << a << "," << b;
  }
}

TEST(DsemRandom, NormalFromPrecisionHasItsMeanAndCovariance) {
  Mat precision(2, 2);
  precision << 4, 1, 1, 2;
  Vec linear(2);
  linear << 1, -2;
  expect_normal_moments(precision, linear);
}

// The order of the random lagged effects' block with 2 variables (--random all), correlated.
TEST(DsemRandom, NormalFromPrecisionOfOrderFour) {
  Mat precision(4, 4);
  precision << 5, 1, 0.5, -1, 1, 3, 0.2, 0.4, 0.5, 0.2, 2, 0.3, -1, 0.4, 0.3, 4;
  Vec linear(4);
  linear << 1, -2, 0.5, 3;
  expect_normal_moments(precision, linear);
}

// The scale moves' factor: density a^p exp(-A a^2 / 2 + B a) on a > 0; its mean and second
// moment by the trapezoid rule on a fine grid, against 100000 draws (a skewed case with p = 6,
// and one where B < 0 puts the mode near 0).
TEST(DsemRandom, ScaleFactorHasTheMomentsOfItsDensity) {
  for (const auto& [power, quadratic, linear] : {std::tuple{6.0, 4.0, 1.0}, std::tuple{2.0, 1.0, -3.0}}) {
    double mass = 0, first = 0, second = 0;
    const double step = 1e-4;
    for (double a = step; a < 20; a += step) {
      const double f = std::exp(power * std::log(a) - quadratic * a * a / 2 + linear * a);
      mass += f, first += a * f, second += a * a * f;
    }
    const double mean = first / mass, variance = second / mass - mean * mean;
    Rng rng(3, 1);
    const int n = 100000;
    double sum = 0, squares = 0;
    for (int i = 0; i < n; ++i) {
      const double a = draw_scale(power, quadratic, linear, rng);
      ASSERT_GT(a, 0);
      sum += a, squares += a * a;
    }
    EXPECT_NEAR(sum / n, mean, 4 * std::sqrt(variance / n)) << power << " " << quadratic << " " << linear;
    EXPECT_NEAR(squares / n - (sum / n) * (sum / n), variance, 0.03 * variance) << power << " " << quadratic << " " << linear;
  }
}

TEST(DsemRandom, InverseWishartHasItsMean) {
  Mat scale(3, 3);
  scale << 2, 0.5, 0.1, 0.5, 1, -0.3, 0.1, -0.3, 1.5;
  const double df = 20;
  Rng rng(11, 3);
  Mat sum = Mat::Zero(3, 3);
  const int n = 100000;
  for (int i = 0; i < n; ++i) sum += draw_inverse_wishart(scale, df, rng);
  const Mat expected = scale / (df - 3 - 1);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) EXPECT_NEAR(sum(a, b) / n, expected(a, b), 0.003) << a << "," << b;
}

TEST(DsemRandom, GammaHasItsMeanAndVariance) {
  Rng rng(3, 1);
  for (double shape : {0.5, 1.0, 7.5}) {
    double sum = 0, ss = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
      const double x = rng.gamma(shape);
      sum += x;
      ss += x * x;
    }
    const double mean = sum / n;
    EXPECT_NEAR(mean, shape, 4 * std::sqrt(shape / n)) << shape;
    EXPECT_NEAR(ss / n - mean * mean, shape, 0.05 * shape) << shape;
  }
}

TEST(DsemRandom, StreamsDifferByChainAndRepeatBySeed) {
  Rng a(1, 0), b(1, 0), c(1, 1);
  const auto first = a.next();
  EXPECT_EQ(first, b.next());
  EXPECT_NE(first, c.next());
}

}  // namespace
}  // namespace spiral::dsem
