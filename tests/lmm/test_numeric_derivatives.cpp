// The central differences behind the convergence check, the Newton polish and the
// Satterthwaite df (src/lmm/numeric_derivatives.hpp) against analytic derivatives.
#include <gtest/gtest.h>

#include <cmath>

#include "lmm/numeric_derivatives.hpp"

namespace spiral::lmm_detail {
namespace {

// f(x) = exp(x0) sin(x1) + x0^2 x1 x2 + 1e5 (the size of a large deviance, whose last digits
// are rounding), with the vector (x0 x1, x2^3).
ValueAndVector test_function(const std::vector<double>& x) {
  Eigen::VectorXd v(2);
  v << x[0] * x[1], x[2] * x[2] * x[2];
  return {std::exp(x[0]) * std::sin(x[1]) + x[0] * x[0] * x[1] * x[2] + 1e5, v};
}

TEST(CentralDifferences, GradientHessianAndJacobianMatchTheAnalyticOnes) {
  // Steps of 1e-3 |x| (lme4's 1e-4 would leave errors of ~1e-16 1e5 / 1e-8 = 2e-3 in the
  // Hessian); a negative parameter.
  const std::vector<double> x{0.3, 1.3, -2.0};
  const double e = std::exp(x[0]), s = std::sin(x[1]), c = std::cos(x[1]);
  Eigen::Vector3d gradient(e * s + 2 * x[0] * x[1] * x[2], e * c + x[0] * x[0] * x[2], x[0] * x[0] * x[1]);
  Eigen::Matrix3d hessian;
  hessian << e * s + 2 * x[1] * x[2], e * c + 2 * x[0] * x[2], 2 * x[0] * x[1],
             e * c + 2 * x[0] * x[2], -e * s, x[0] * x[0],
             2 * x[0] * x[1], x[0] * x[0], 0;
  Eigen::Matrix<double, 2, 3> jacobian;
  jacobian << x[1], x[0], 0, 0, 0, 3 * x[2] * x[2];

  const Differences d = central_differences(test_function, x);
  EXPECT_EQ(d.at.first, test_function(x).first);
  EXPECT_LT((d.gradient - gradient).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_LT((d.hessian - hessian).cwiseAbs().maxCoeff(), 1e-4);
  EXPECT_LT((d.jacobian - jacobian).cwiseAbs().maxCoeff(), 1e-5);
  EXPECT_EQ(d.hessian, d.hessian.transpose());
}

TEST(CentralDifferences, StepsStayOnTheirSideOfZeroFromTheSmallestNonSingularTheta) {
  // |x| is smooth only away from 0: a step past zero would give a second difference of
  // order 1 / h instead of 0.
  const auto absolute = [](const std::vector<double>& x) {
    return ValueAndVector(std::fabs(x[0]) + std::fabs(x[1]), Eigen::VectorXd::Zero(1));
  };
  const Differences d = central_differences(absolute, {1e-4, 0.5});
  EXPECT_NEAR(d.gradient(0), 1, 1e-9);
  EXPECT_NEAR(d.hessian(0, 0), 0, 1e-6);
  EXPECT_NEAR(d.hessian(0, 1), 0, 1e-6);
}

// The restart point after a failed gradient test: only a parameter bounded by 0 whose own
// Newton step crosses 0 goes onto the bound (theta = (1.06e-4, 0.5, -0.3, 0.2), the near-
// singular therapist fit's first component; the third is unbounded, the fourth steps inward).
TEST(GradientCheck, RestartPutsOnTheBoundWhereTheNewtonStepCrossesIt) {
  Differences d;
  d.gradient = Eigen::Vector4d(0.0052, 0.001, 5.0, -0.01);
  d.hessian = Eigen::Vector4d(2.0, 10.0, 1.0, 3.0).asDiagonal();
  const std::vector<double> lower{0, 0, -HUGE_VAL, 0};
  const std::vector<double> from = onto_bounds_newton_crosses(lower, d, {1.06e-4, 0.5, -0.3, 0.2});
  EXPECT_EQ(from, (std::vector<double>{0, 0.5, -0.3, 0.2}));
  d.hessian(0, 0) = -2.0;  // no curvature to take a Newton step with: left where it is
  EXPECT_EQ(onto_bounds_newton_crosses(lower, d, {1.06e-4, 0.5, -0.3, 0.2})[0], 1.06e-4);
}

// lme4's gradient test, as the singular fits' stall check applies it per parameter: values
// from the power analysis's fits, where the raw gradient (0.04) alone restarted BOBYQA for a
// criterion gain of ~1e-8, while a scaled gradient of 0.0054 (a gain of 1.5e-5) is a stall.
TEST(GradientCheck, FailsOnTheSmallerOfTheRawAndTheScaledGradient) {
  EXPECT_FALSE(fails_gradient_check(0.044, 2513.44));  // scaled 0.00088
  EXPECT_TRUE(fails_gradient_check(0.054, 100.0));     // scaled 0.0054
  EXPECT_FALSE(fails_gradient_check(-0.0019, 1e-6));   // the raw gradient is small
  EXPECT_TRUE(fails_gradient_check(-0.0021, 1e-6));
  EXPECT_TRUE(fails_gradient_check(0.01, -5.0));       // no curvature: the raw gradient alone
  EXPECT_FALSE(fails_gradient_check(0.001, 0.0));
  EXPECT_FALSE(fails_gradient_check(std::nan(""), 1.0));  // not finite beside the point: no stall to mend
}

}  // namespace
}  // namespace spiral::lmm_detail
