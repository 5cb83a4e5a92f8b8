# broom's tidy() and glance() with broom.mixed's column names (specification section 8.1),
# registered for the generics package's generics when it is installed (see zzz.R).

# The library's column names as broom's.
broom_names <- function(table) {
  renamed <- c(std_error = "std.error", p_value = "p.value", conf_low = "conf.low", conf_high = "conf.high")
  hit <- names(table) %in% names(renamed)
  names(table)[hit] <- renamed[names(table)[hit]]
  table
}

# Keeps or drops conf.low/conf.high; intervals at another level than the fit's come from
# confint().
with_conf_int <- function(table, conf.int, conf.level, object, intervals = NULL) {
  if (!conf.int) return(table[setdiff(names(table), c("conf.low", "conf.high"))])
  if (!isTRUE(all.equal(conf.level * 100, fit_level(object)))) {
    if (is.null(intervals)) stop("tidy(): conf.level must be the fit's level (", fit_level(object) / 100, ")", call. = FALSE)
    ci <- intervals(conf.level)
    table$conf.low <- ci[, 1]
    table$conf.high <- ci[, 2]
  }
  table
}

# One row data frame of scalars, as glance() returns.
one_row <- function(...) as.data.frame(list(...), stringsAsFactors = FALSE, optional = TRUE)

#' broom's tidy(), glance() for spiral results
#'
#' `tidy()` returns the main table of a result with broom.mixed's column names (`effect,
#' group, term, estimate, std.error, statistic, df, p.value, conf.low, conf.high`); for
#' [lmm()] the random-effect parameters too (`effects = "ran_pars"`: `sd__` and `cor__`
#' rows as `broom.mixed::tidy()` of an lmer fit) and the conditional modes on request
#' (`"ran_vals"`). `glance()` returns one row of fit statistics. These are methods of
#' `generics::tidy()` and `generics::glance()`, which broom re-exports.
#'
#' @param x a result of [lmm()], [meta()], [panel()], [ipd_run()], ...
#' @param effects for [lmm()] fits: any of `"fixed"`, `"ran_pars"`, `"ran_vals"`.
#' @param conf.int whether to include the confidence intervals.
#' @param conf.level their level.
#' @param ... unused.
#' @return A data frame.
#' @examples
#' fit <- lmm(distance ~ age + (age | Subject), nlme::Orthodont)
#' if (requireNamespace("generics", quietly = TRUE)) {
#'   print(generics::tidy(fit, conf.int = TRUE))
#'   print(generics::glance(fit))
#' }
#' @name spiral-tidiers
NULL

#' @rdname spiral-tidiers
#' @exportS3Method generics::tidy
tidy.spiral_lmm <- function(x, effects = c("ran_pars", "fixed"), conf.int = FALSE, conf.level = 0.95, ...) {
  unknown <- setdiff(effects, c("fixed", "ran_pars", "ran_vals"))
  if (length(unknown) > 0L) stop("effects: unknown '", unknown[1], "' (fixed, ran_pars, ran_vals)", call. = FALSE)
  parts <- list()
  if ("fixed" %in% effects) {
    fixed <- broom_names(x$fixed)
    fixed <- fixed[c(setdiff(names(fixed), c("df", "p.value", "conf.low", "conf.high")), "df", "p.value", "conf.low", "conf.high")]
    fixed <- with_conf_int(fixed, conf.int, conf.level, x, function(l) confint.spiral_lmm(x, level = l))
    parts$fixed <- cbind(effect = "fixed", group = NA_character_, fixed, stringsAsFactors = FALSE)
  }
  if ("ran_pars" %in% effects) parts$ran_pars <- random_parameters(x)
  if ("ran_vals" %in% effects) parts$ran_vals <- random_values(x)
  columns <- unique(unlist(lapply(parts, names)))
  rows <- lapply(parts, function(p) {
    p[setdiff(columns, names(p))] <- NA
    p[columns]
  })
  out <- do.call(rbind, unname(rows))
  rownames(out) <- NULL
  if (identical(effects, "fixed")) out$group <- NULL  # as broom.mixed: no group column for fixed effects alone
  out
}

# broom.mixed's ran_pars rows: per group the lower triangle of the SD/correlation matrix
# column by column (sd__A, cor__A.B, ..., sd__B, ...), then sd__Observation.
random_parameters <- function(x) {
  rows <- lapply(seq_len(nrow(x$random)), function(i) {
    terms <- x$random$terms[[i]]
    k <- length(terms)
    cells <- which(lower.tri(diag(k), diag = TRUE), arr.ind = TRUE)  # column-major
    cor <- matrix(unlist(x$random$cor[[i]]), k)
    sd <- unlist(x$random$sd[[i]])
    diagonal <- cells[, "row"] == cells[, "col"]
    data.frame(effect = "ran_pars", group = x$random$group[i],
               term = ifelse(diagonal, paste0("sd__", terms[cells[, "row"]]),
                             paste0("cor__", terms[cells[, "col"]], ".", terms[cells[, "row"]])),
               estimate = ifelse(diagonal, sd[cells[, "row"]], cor[cells]), stringsAsFactors = FALSE)
  })
  residual <- data.frame(effect = "ran_pars", group = "Residual", term = "sd__Observation", estimate = x$sigma)
  do.call(rbind, c(rows, list(residual)))
}

# broom.mixed's ran_vals rows: the conditional modes and their conditional SDs.
random_values <- function(x) {
  modes <- attr(x, "tables")$ranef
  if (is.null(modes)) modes <- attr(refit(x, ranef = TRUE), "tables")$ranef
  data.frame(effect = "ran_vals", group = as.character(modes$group), level = as.character(modes$level),
             term = as.character(modes$term), estimate = modes$estimate, std.error = modes$std_error,
             stringsAsFactors = FALSE)
}

#' @rdname spiral-tidiers
#' @exportS3Method generics::glance
glance.spiral_lmm <- function(x, ...) {
  one_row(nobs = as.integer(x$n_obs), sigma = x$sigma, logLik = x$logLik, AIC = x$AIC, BIC = x$BIC,
          REMLcrit = if (x$method == "REML") x$criterion else NA_real_,
          deviance = if (x$method == "ML") x$criterion else NA_real_,
          converged = x$converged, singular = x$singular)
}

#' @rdname spiral-tidiers
#' @param data,newdata for `augment()` of an [lmm()] fit: the model's own rows (NULL; lme4's model
#'   frame with `.fitted`, `.resid` and `.fixed`, as broom.mixed's `augment()`) or new rows
#'   (`newdata`: its columns with `.fitted`, lme4's `predict(fit, newdata)`).
#' @exportS3Method generics::augment
augment.spiral_lmm <- function(x, data = NULL, newdata = NULL, ...) {
  if (!is.null(data)) stop("augment(): data = is not available; the fit's own rows come with augment(fit)", call. = FALSE)
  no_further_arguments("augment", ...)
  if (is.null(newdata)) return(model_rows(x))
  cbind(as.data.frame(newdata), .fitted = predict.spiral_lmm(x, newdata = newdata))
}

#' @rdname spiral-tidiers
#' @exportS3Method generics::tidy
tidy.spiral_meta <- function(x, conf.int = FALSE, conf.level = 0.95, ...) {
  table <- broom_names(x$coefficients)
  table$term[table$term == "intrcpt"] <- "intercept"  # as broom's tidy() of an rma fit
  table <- with_conf_int(table, conf.int, conf.level, x, function(l) confint.spiral_meta(x, level = l)$fixed[, 2:3])
  cbind(table[1], type = "summary", table[-1], stringsAsFactors = FALSE)
}

#' @rdname spiral-tidiers
#' @exportS3Method generics::glance
glance.spiral_meta <- function(x, ...) {
  # as broom's glance() of an rma fit: nobs is k (metafor's nobs() is k less the coefficients under REML)
  one_row(nobs = as.integer(x$k), df.residual = as.integer(x$k - nrow(x$coefficients)),
          method = x$method, tau.squared = x$tau2, tau.squared.se = x$tau2_se,
          i.squared = x$I2, h.squared = x$H2, cochran.qe = x$Q, p.value.cochran.qe = x$Q_p,
          cochran.qm = x$QM, p.value.cochran.qm = x$QM_p)
}

#' @rdname spiral-tidiers
#' @exportS3Method generics::tidy
tidy.spiral_panel <- function(x, conf.int = FALSE, conf.level = 0.95, ...) {
  table <- broom_names(x$lagged)
  table <- cbind(term = paste0(table$from, "->", table$to), table, stringsAsFactors = FALSE)
  with_conf_int(table, conf.int, conf.level, x, function(l) confint.spiral_panel(x, level = l))
}

#' @rdname spiral-tidiers
#' @exportS3Method generics::glance
glance.spiral_panel <- function(x, ...) {
  one_row(nobs = as.integer(x$n_patients), logLik = x$logLik, AIC = x$AIC, BIC = x$BIC, chisq = x$chisq,
          chisq.df = x$chisq_df, p.value = x$chisq_p, CFI = x$CFI, TLI = x$TLI, RMSEA = x$RMSEA,
          converged = x$converged)
}

#' @rdname spiral-tidiers
#' @exportS3Method generics::tidy
tidy.spiral_result <- function(x, ...) {
  for (name in c("pooled", "results", "coefficients", "lagged", "fixed")) {
    if (is.data.frame(x[[name]])) return(broom_names(x[[name]]))
  }
  stop("tidy(): a ", class(x)[1], " result has no table of estimates", call. = FALSE)
}

#' @rdname spiral-tidiers
#' @exportS3Method generics::glance
glance.spiral_result <- function(x, ...) {
  scalars <- Filter(function(v) (is.atomic(v) && length(v) == 1L), unclass(x))
  as.data.frame(scalars, stringsAsFactors = FALSE, optional = TRUE)
}
