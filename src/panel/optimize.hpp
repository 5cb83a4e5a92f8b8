// Minimisation of a smooth function with an analytic gradient: BFGS with a backtracking
// (Armijo) line search (Nocedal & Wright 2006, algorithm 6.1), then Newton steps with a
// Hessian from forward differences of the gradient, which also serves the standard errors.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Dense>

namespace spiral::panel {

// Value at x (+infinity outside the domain, e.g. a covariance matrix not positive
// definite); fills the gradient when asked.
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd* gradient)>;

// Hessian entries known in closed form: those among the parameters `indices` (e.g. the FIML
// likelihood's in its means), `block(x)` in that order. Their columns are not differenced; the
// differenced columns' rows give their cross terms.
struct ExactBlock {
  std::vector<long> indices;
  std::function<Eigen::MatrixXd(const Eigen::VectorXd& x)> block;
};

struct Minimum {
  Eigen::VectorXd x;
  double value = 0;
  Eigen::VectorXd gradient;
  Eigen::MatrixXd hessian;   // at x, by differences of the gradient
  bool converged = false;
  int iterations = 0;
  long evaluations = 0;      // calls of the objective (each with its gradient)
  std::string message;       // why it did not converge
};

// Converged when the largest absolute gradient element is below `tolerance`, or when a
// Newton step could lower the value by no more than 1e-12 of it (the gradient then is as
// small as rounding lets it be on the parameters' scales). BFGS starts
// from `start_curvature` (an approximate Hessian at x) when it is positive definite, else
// from a scaled identity.
Minimum minimize(const Objective& objective, Eigen::VectorXd x, double tolerance = 1e-9,
                 const Eigen::MatrixXd& start_curvature = Eigen::MatrixXd(), const ExactBlock& exact = {});

// BFGS alone, from the same start, to `tolerance` (no Hessian): the minimum of a cheaper
// approximation as a starting point.
Minimum descend(const Objective& objective, Eigen::VectorXd x, double tolerance,
                const Eigen::MatrixXd& start_curvature = Eigen::MatrixXd());

// Hessian by forward differences of the gradient (step 1e-6 relative), symmetrised, except
// the exact block; its error (~1e-6 relative) is far below the standard errors' tolerance.
// The gradients are computed on all cores: the objective must be safe to call from several
// threads.
Eigen::MatrixXd hessian_by_differences(const Objective& objective, const Eigen::VectorXd& x,
                                       const Eigen::VectorXd& gradient, const ExactBlock& exact = {});

}  // namespace spiral::panel
