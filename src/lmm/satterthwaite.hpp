// Satterthwaite degrees of freedom for single fixed effects, as lmerTest's summary().
#pragma once
#include <vector>

#include "lmm/deviance.hpp"
#include "spiral/error.hpp"

namespace spiral::lmm_detail {

// df of each fixed effect at the optimum params (theta, then phi) with residual SD sigma.
// Leaves the model evaluated at other points: re-evaluate at params afterwards.
std::vector<double> satterthwaite_df(DevianceModel& model, const std::vector<double>& params, double sigma,
                                     bool reml, Warnings& warnings);

}  // namespace spiral::lmm_detail
