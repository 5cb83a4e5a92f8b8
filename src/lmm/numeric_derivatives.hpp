// Numerical derivatives with Richardson extrapolation, as R's numDeriv package (Gilbert &
// Varadhan) computes them: lmerTest's Satterthwaite df are defined through numDeriv's
// hessian() with its default settings, so the same initial steps are used here (with two
// Richardson steps instead of four).
#pragma once
#include <functional>
#include <utility>
#include <vector>

#include <Eigen/Dense>

namespace spiral::lmm_detail {

using ScalarFunction = std::function<double(const std::vector<double>&)>;
using ValueAndVector = std::pair<double, Eigen::VectorXd>;
using PairFunction = std::function<ValueAndVector(const std::vector<double>&)>;

// numDeriv::hessian(func, x) of the first value of f: genD with d = 0.1, eps = 1e-4, v = 2,
// but r = 2 Richardson steps (see kRichardsonSteps); and, from the same evaluations of the
// diagonal steps, the Jacobian of the second value by Richardson-extrapolated central
// differences (error O(h^4) in those steps).
struct HessianAndJacobian {
  Eigen::MatrixXd hessian;
  Eigen::MatrixXd jacobian;
};
HessianAndJacobian richardson_hessian(const PairFunction& f, const std::vector<double>& x);

// lme4's deriv12(): central finite differences with step delta (gradient and Hessian),
// used by its convergence check.
struct Derivatives {
  Eigen::VectorXd gradient;
  Eigen::MatrixXd hessian;
};
Derivatives central_derivatives(const ScalarFunction& f, const std::vector<double>& x, double delta = 1e-4);

}  // namespace spiral::lmm_detail
