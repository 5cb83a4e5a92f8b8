// The tolerances of reference tests against R, by quantity: the one table of
// docs/tolerances.md, named. A test compares with R's committed values through these
// names (with test::near_relative or the module's comparison helper) rather than bare
// literals, so that a tolerance is changed in one place, together with that table.
//
// "relative" means |spiral - R| <= tol * max(|R|, floor) as test::near_relative computes
// it (floor: the quantity's natural scale, e.g. the SE for an estimate near zero);
// "absolute" means |spiral - R| <= tol. Values marked "target" are the goals that
// the current tests do not reach yet; a test that reaches one should use it.
#pragma once

namespace spiral::test::tolerance {

// ---- data as R codes it (closed form) -----------------------------------------------------
inline constexpr double kModelFrame = 1e-12;         // relative (floor 1): model frames and matrices, R's model.matrix()
inline constexpr double kPrepColumn = 1e-10;         // absolute: prepared columns (standardized, centred, lagged) vs R

// ---- linear mixed models against lme4 / lmerTest ----------------------------------------
inline constexpr double kLmmCriterion = 1e-6;        // relative: REML criterion, deviance, logLik, AIC, BIC
inline constexpr double kLmmEstimate = 1e-4;         // relative to max(|R|, SE): fixed effects; sigma
inline constexpr double kLmmStandardError = 1e-3;    // relative: SEs; t statistics and CI bounds (scale SE)
inline constexpr double kLmmDf = 1e-2;               // relative: Satterthwaite df (current)
inline constexpr double kLmmVarianceComponent = 1e-4; // relative to max(|R|, 1e-2 scale): theta, random-effect SDs
inline constexpr double kLmmDfTarget = 1e-6;         // target: Satterthwaite df; already at lme4's theta
inline constexpr double kLmmFStatistic = 1e-6;       // target: type III F statistics and their df
inline constexpr double kLmmFitted = 1e-6;           // relative: fitted values, residuals, predictions (each
                                                     //   fit at its own optimum: theta is pinned to ~5e-7 only)
inline constexpr double kLmmFittedTarget = 1e-8;     // target: fitted values and residuals
inline constexpr double kLmmProfileCi = 1e-4;        // target: profile confidence intervals

// ---- meta-analysis against metafor -----------------------------------------------------
inline constexpr double kEscalc = 1e-10;             // relative: escalc() effect sizes yi and sampling variances vi
inline constexpr double kMetaClosedForm = 1e-6;      // relative: fits with a closed-form tau^2 (FE, DL, HE, HS, SJ)
                                                     //   and their diagnostics (influence, leave-one-out, trim and fill)
inline constexpr double kMetaIterative = 1e-4;       // relative: iterative tau^2 (REML, ML, EB, PM) and their
                                                     //   diagnostics; Q-profile tau^2 CI bounds (uniroot); Egger's test
inline constexpr double kMetaMeasure = 1e-8;         // relative: every escalc measure's REML fit, fitstats(),
                                                     //   back-transformed values

// ---- RI-CLPM against lavaan ------------------------------------------------------------
inline constexpr double kPanelLogLik = 1e-7;         // relative: logLik, AIC, BIC
inline constexpr double kPanelFitMeasure = 1e-5;     // chi-square relative; its p, CFI, TLI, RMSEA absolute
inline constexpr double kPanelEstimate = 1e-4;       // absolute: lagged effects, CI bounds, RI variances and correlations
inline constexpr double kPanelStandardError = 1e-3;  // relative: standard errors
inline constexpr double kPanelStatistic = 1e-2;      // absolute: z statistics
inline constexpr double kPanelPValue = 1e-4;         // absolute: p values
inline constexpr double kPanelBestLogLik = 1e-6;     // absolute: logLik >= lavaan's best optimum - tol (real panels)
inline constexpr double kPanelRescaled = 1e-6;       // absolute: standardized effects of a rescaled variable's fit
inline constexpr double kPanelEstimateTarget = 1e-6; // target: estimates
inline constexpr double kPanelStandardErrorTarget = 1e-4;  // target: standard errors

// ---- two-stage IPD against lme4 + lm + metafor -----------------------------------------
inline constexpr double kIpdStage1 = 2e-4;           // relative: stage-1 estimates and SEs (or 1e-3 SE near zero)
inline constexpr double kIpdStage2 = 2e-4;           // relative: pooled estimates (or 1e-3 SE near zero)
inline constexpr double kIpdNearZeroInSe = 1e-3;     // absolute in SEs: the floor of both for an estimate near zero

// ---- MCMC (dsem) against rstan and posterior -------------------------------------------
inline constexpr double kMcmcDiagnostics = 1e-9;     // relative: R-hat, bulk/tail ESS of the same stored draws
inline constexpr double kMcmcMeanZ = 4.0;            // target: |mean - Stan's mean| <= 4 * combined MCSE

// ---- the same library through R and Python ---------------------------------------------
inline constexpr double kBindingSameEngine = 1e-12;  // the bindings' numbers against the CLI's (same engine)

}  // namespace spiral::test::tolerance
