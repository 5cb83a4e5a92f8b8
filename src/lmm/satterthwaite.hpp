// Satterthwaite degrees of freedom for single fixed effects, as lmerTest's summary().
#pragma once
#include <vector>

#include "lmm/deviance.hpp"
#include "lmm/numeric_derivatives.hpp"
#include "spiral/error.hpp"

namespace spiral::lmm_detail {

// The profiled criterion's values at the parameters (theta, then phi) and, as the vector,
// r2 followed by the diagonal of (R_X' R_X)^-1: the function satterthwaite_df differentiates.
PairFunction criterion_r2_variances(DevianceModel& model, bool reml);

// df of each fixed effect from the central differences of criterion_r2_variances at an optimum;
// c = n - p for REML, n for ML.
std::vector<double> satterthwaite_df(const Differences& d, double c, Warnings& warnings);

}  // namespace spiral::lmm_detail
