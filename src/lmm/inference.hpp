// The inference options of `spiral lmm` (specification section 3.1) on a fitted model:
// lmerTest's anova() (anova.cpp) and ranova() (ranova.cpp), lme4's confint() (profile.cpp).
#pragma once
#include <vector>

#include "lmm/deviance.hpp"
#include "spiral/lmm.hpp"

namespace spiral::lmm_detail {

// What fit_lmm has at its end and the options need.
struct FittedModel {
  DevianceModel& model;
  const ModelFrame& frame;
  const std::vector<int>& kept;              // the columns of frame.x that are the fixed effects
  std::vector<double> satterthwaite_params;  // where the fit takes its Satterthwaite df
  std::vector<double> params;                // where the fit ends (theta, then phi)
};

// --anova and --confint: fills result.anova, result.random_ci and, under --confint, the CIs of
// result.fixed.
void add_inference(const FittedModel& fit, const LmmOptions& options, LmmResult& result);

// lmerTest's anova(fit): type III F tests with Satterthwaite's denominator df.
std::vector<AnovaTerm> type3_anova(const FittedModel& fit, const LmmOptions& options);

// lme4's confint(fit, method = "Wald"): fixed effects +- z SE; nothing for the variance parameters.
void wald_intervals(LmmResult& result);
// lme4's confint(fit, method = "profile"): result.random_ci and the CIs of result.fixed.
void profile_intervals(const FittedModel& fit, const LmmOptions& options, LmmResult& result);

// lmerTest's ranova(fit): the fit (result, of `frame`) against the fit with each random-effect
// term reduced, refitted over the same rows.
std::vector<RanovaTerm> ranova(const Table& table, const Formula& formula, const FrameOptions& frame_options,
                               const ModelFrame& frame, const LmmOptions& options, const LmmResult& result);

}  // namespace spiral::lmm_detail
