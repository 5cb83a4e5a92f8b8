# The optimum of lme4's profiled criterion to the gradient's accuracy, for reference values that
# depend on theta to more digits than the criterion pins it to (sourced by lmm_predict.R and
# lmm_inference.R). Even bobyqa with xtol_abs = 1e-12 and ftol_abs = 1e-14 stops where the
# criterion, flat at its minimum (a change of H dtheta^2 / 2), no longer changes in its last digits:
# theta within ~5e-7 of the optimum. Newton's method on the gradient finds its zero instead:
# gradient by five-point central differences, (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / (12 h)
# (error O(h^4); Fornberg 1988, Math. Comp. 51, 699-706), h = 2e-3 max(|theta|, 0.1) but
# never reaching below the lower bound, and numDeriv's Richardson Hessian.

five_point_gradient <- function(f, x, lower) {
  vapply(seq_along(x), function(i) {
    h <- min(2e-3 * max(abs(x[i]), 0.1), (x[i] - lower[i]) / 2)
    at <- function(s) { y <- x; y[i] <- y[i] + s * h; f(y) }
    (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h)
  }, numeric(1))
}

# theta from `start` (a fit's) by Newton steps until the largest relative step is below 1e-11;
# devfun is lmer(..., devFunOnly = TRUE) of the same model.
newton_optimum <- function(devfun, start, lower) {
  theta <- start
  for (iteration in 1:10) {
    g <- five_point_gradient(devfun, theta, lower)
    H <- numDeriv::hessian(devfun, theta)
    step <- solve(H, g)
    theta <- theta - step
    stopifnot(all(theta >= lower))
    if (max(abs(step) / pmax(abs(theta), 1)) < 1e-11) return(theta)
  }
  stop("newton_optimum: no convergence")
}

# A fit (an lmer call with its data, through fit_with(...), which passes its arguments to lmer)
# at the optimum of its criterion: lme4's fit with tight tolerances, polished by newton_optimum,
# refitted at that theta without optimizing (lmerControl(optimizer = NULL)).
at_optimum <- function(fit_with, tight_control) {
  fit <- fit_with(control = tight_control)
  if (isSingular(fit)) return(fit)
  theta <- newton_optimum(fit_with(devFunOnly = TRUE), getME(fit, "theta"), getME(fit, "lower"))
  fit_with(start = list(theta = theta), control = lmerControl(optimizer = NULL, check.conv.singular = "ignore"))
}
