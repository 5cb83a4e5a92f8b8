# Methods of the result classes: print() shows the CLI's text table; accessors read the
# command's JSON (no statistics here).

print.spiral_result <- function(x, ...) {
  cat(attr(x, "text"))
  invisible(x)
}

# The summary is the CLI's text table, which is already R's summary() layout.
summary.spiral_result <- function(object, ...) object

# The main table of a result: fixed, coefficients, lagged, pooled or results.
main_table <- function(x) {
  for (name in c("fixed", "coefficients", "lagged", "pooled", "results")) {
    if (is.data.frame(x[[name]])) return(x[[name]])
  }
  stop("this result has no table of estimates", call. = FALSE)
}

named_estimates <- function(table, names) stats::setNames(table$estimate, names)

coef.spiral_lmm <- function(object, ...) named_estimates(object$fixed, object$fixed$term)
coef.spiral_meta <- function(object, ...) named_estimates(object$coefficients, object$coefficients$term)
coef.spiral_panel <- function(object, ...) {
  named_estimates(object$lagged, paste0(object$lagged$from, "->", object$lagged$to))
}

vcov_of <- function(object) attr(object, "matrices")$vcov
vcov.spiral_lmm <- function(object, ...) vcov_of(object)
vcov.spiral_meta <- function(object, ...) vcov_of(object)

# lme4-style accessors: methods of nlme's generics, which lme4 re-exports, so that loading
# lme4 beside spiral (or after it) masks nothing.
fixef.spiral_lmm <- function(object, ...) coef.spiral_lmm(object)

# Conditional modes and their conditional SDs (lme4's ranef(fit, condVar = TRUE)).
ranef.spiral_lmm <- function(object, ...) {
  modes <- attr(object, "tables")$ranef
  if (is.null(modes)) stop("no conditional modes: fit with lmm(..., ranef = TRUE)", call. = FALSE)
  modes
}

# Standard deviations and correlations of the random terms (and the residual SD).
VarCorr.spiral_lmm <- function(x, ...) {
  groups <- lapply(seq_len(nrow(x$random)), function(i) {
    terms <- x$random$terms[[i]]
    cor <- matrix(unlist(x$random$cor[[i]]), length(terms), dimnames = list(terms, terms))
    list(sd = stats::setNames(unlist(x$random$sd[[i]]), terms), cor = cor)
  })
  structure(c(stats::setNames(groups, x$random$group), list(Residual = x$sigma)), class = "list")
}

# broom-style methods, registered for the generics package when it is installed.
tidy_spiral <- function(x, ...) main_table(x)

glance_spiral <- function(x, ...) {
  scalars <- Filter(function(v) is.atomic(v) && length(v) == 1, unclass(x))
  as.data.frame(scalars, stringsAsFactors = FALSE)
}
