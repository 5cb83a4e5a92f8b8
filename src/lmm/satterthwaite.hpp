// Satterthwaite degrees of freedom for single fixed effects, as lmerTest's summary().
#pragma once
#include <vector>

#include "lmm/deviance.hpp"
#include "lmm/numeric_derivatives.hpp"
#include "spiral/error.hpp"

namespace spiral::lmm_detail {

// The profiled criterion's values at the parameters (theta, then phi) and, as the vector,
// r2 followed by (R_X' R_X)^-1: its diagonal, or with full_vcov all its p * p entries column
// by column (what a contrast of several fixed effects needs): the function the df differentiate.
PairFunction criterion_r2_variances(DevianceModel& model, bool reml, bool full_vcov = false);

// The derivatives satterthwaite_df needs at params: central differences of
// criterion_r2_variances at 8, 16 and 32 times the convergence check's steps, Richardson-
// extrapolated. The check's own differences left the df up to 5e-4 off lmerTest's (whose
// numDeriv derivatives are extrapolated from steps of 0.1 |x|): at small steps the
// criterion's rounding dominates. These come within 2e-7 of lmerTest's at lme4's theta
// (Orthodont, Machines, sleepstudy; tests/lmm/test_satterthwaite.cpp).
Differences satterthwaite_derivatives(DevianceModel& model, bool reml, const std::vector<double>& params,
                                      bool full_vcov = false);

// From those differences at an optimum (c = n - p for REML, n for ML): sigma and the asymptotic
// covariance of the variance parameters (theta, sigma), A = 2 H^+ of the deviance's Hessian H,
// with lmerTest's warnings about H's negative or near-zero eigenvalues.
struct VarianceParameters {
  double sigma = 0;
  Eigen::MatrixXd covariance;
};
VarianceParameters variance_parameters(const Differences& d, double c, Warnings& warnings);

// Satterthwaite's df of a contrast l'beta from u = l' (R_X' R_X)^-1 l and its gradient with
// respect to theta (Kuznetsova, Brockhoff & Christensen 2017, eqs. 5-7).
double contrast_df(const VarianceParameters& v, double u, const Eigen::VectorXd& u_gradient);

// df of each fixed effect from the central differences of criterion_r2_variances (diagonal)
// at an optimum; c = n - p for REML, n for ML.
std::vector<double> satterthwaite_df(const Differences& d, double c, Warnings& warnings);

}  // namespace spiral::lmm_detail
