# Methods of the result classes (specification section 8.1): print() shows the CLI's text table;
# the generics of lme4, lmerTest and metafor read the command's JSON. No statistics here
# beyond a t or normal quantile for an interval at another level than the fit's.

#' Print a spiral result
#'
#' Shows the CLI's text table, laid out as R's `summary()` of the lme4 / metafor / lavaan
#' counterpart.
#' @param x,object a result of [lmm()], [meta()], [panel()], [ipd_run()], ...
#' @param ... unused.
#' @return `x`, invisibly (`summary()` returns `object`).
#' @examples
#' fit <- lmm(distance ~ age + (1 | Subject), nlme::Orthodont)
#' print(fit)
#' summary(fit)
#' @export
print.spiral_result <- function(x, ...) {
  cat(text_without_warnings(x))
  invisible(x)
}

# The text table without its "warning: ..." lines: they were R warnings when the result was
# made, and a result printed at top level would show each a second time.
text_without_warnings <- function(x) {
  lines <- strsplit(attr(x, "text"), "\n", fixed = TRUE)[[1]]
  shown <- paste0("warning: ", unlist(x$warnings))
  paste0(paste(lines[!lines %in% shown], collapse = "\n"), "\n")
}

#' @rdname print.spiral_result
#' @export
summary.spiral_result <- function(object, ...) object

# The error of a generic that has no answer for a result (never NULL).
no_answer <- function(generic, object, why) {
  stop(generic, "(): not available for a ", class(object)[1], " result: ", why, call. = FALSE)
}

named_estimates <- function(table, names) stats::setNames(table$estimate, names)

# An argument of lme4's or metafor's method whose other values spiral does not compute: an
# error rather than an answer to a different question.
only <- function(generic, arg, value, supported) {
  if (!identical(value, supported)) {
    stop(generic, "(): ", arg, " = ", paste(deparse(value), collapse = " "), " is not available; only ", arg, " = ",
         deparse(supported), call. = FALSE)
  }
}
no_further_arguments <- function(generic, ...) {
  extra <- names(list(...))
  if (length(list(...)) > 0L) stop(generic, "(): unused argument(s) ", paste(extra, collapse = ", "), call. = FALSE)
}

vcov_of <- function(object) attr(object, "matrices")$vcov

# Evaluates `refit`, a refit of `fits` that a generic makes (anova, ranef, fitted, predict),
# without repeating the warnings those fits gave when they were made (also when a
# comparison prefixes them with the model's formula); new warnings pass.
without_repeated_warnings <- function(refit, fits) {
  known <- unique(as.character(unlist(lapply(fits, function(f) f$warnings))))
  if (length(known) == 0L) return(refit)
  withCallingHandlers(refit, warning = function(w) {
    message <- conditionMessage(w)
    if (message %in% known || any(endsWith(message, paste0(": ", known)))) invokeRestart("muffleWarning")
  })
}

# update() of a fit for a generic's extra output: the fit's own warnings are not repeated.
refit <- function(object, ...) without_repeated_warnings(update.spiral_lmm(object, ...), list(object))

# ------------------------------------------------------------------------------ lmm

#' lme4's generics for a linear mixed model
#'
#' The methods a `merMod` fitted by `lme4::lmer()` (with lmerTest) answers, with the same
#' numbers. `confint()` gives the intervals the summary prints (Wald with Satterthwaite's
#' t); `anova()` of one fit gives lmerTest's type III F tests with Satterthwaite's df, of
#' several fits the likelihood-ratio tests of `anova(m0, m1, ...)` (ML refits);
#' `update()` refits with a changed formula or options; `ranef()` returns lme4's list of data
#' frames, one per grouping factor, with the conditional SDs as attribute `"condsd"`;
#' `fitted()` and `residuals()` are lme4's (conditional modes included), `predict()` lme4's
#' with `re.form = NULL` or `NA`, on the model's rows or on `newdata`.
#'
#' @param object,x,fitted a `spiral_lmm` result of [lmm()].
#' @param parm the terms (names or indices); all by default.
#' @param level the confidence level (a proportion).
#' @param method "Wald" (the summary's intervals) or "profile" (lme4's profile intervals of the
#'   random-effect SDs and correlations, sigma and the fixed effects; refits the model).
#' @param oldNames for `method = "profile"`: lme4's row names `.sig01`, ..., `.sigma` (TRUE, as
#'   lme4's default) or `sd_(Intercept)|Subject`, ..., `sigma` (FALSE).
#' @param formula. changes to the formula, as in [stats::update.formula()].
#' @param condVar whether to attach the conditional SDs (attribute `"condsd"`).
#' @param type,scaled,allow.new.levels,ddf the lme4/lmerTest arguments; only their defaults are
#'   available (`type = "response"` and `scaled = FALSE` for residuals, `allow.new.levels = TRUE`,
#'   `type = 3` and `ddf = "Satterthwaite"` for `anova()`): other values are errors.
#' @param sigma unused (an argument of nlme's generic).
#' @param name what `getME()` returns: `"theta"` or `"lower"` (for `lme4::isSingular()`).
#' @param ... further fits (`anova()`), options to change (`update()`), unused otherwise.
#' @return As the lme4 method.
#' @examples
#' fit <- lmm(distance ~ age + (age | Subject), nlme::Orthodont)
#' confint(fit)
#' confint(fit, method = "profile", oldNames = FALSE)
#' logLik(fit)
#' c(AIC(fit), BIC(fit), nobs(fit), sigma(fit))
#' VarCorr(fit)
#' ranef(fit)$Subject[1:3, ]
#' fit0 <- update(fit, . ~ . - age)
#' anova(fit0, fit)
#' anova(fit)
#' head(fitted(fit))
#' predict(fit, newdata = nlme::Orthodont[1:3, ], re.form = NA)
#' @name lmm-methods
NULL

#' @rdname lmm-methods
#' @export
coef.spiral_lmm <- function(object, ...) {
  no_further_arguments("coef", ...)
  fixed <- fixef.spiral_lmm(object)
  per_group <- lapply(ranef.spiral_lmm(object, condVar = FALSE), function(modes) {
    # as lme4's coef(): each level's coefficients, the fixed effects plus that level's modes
    coefficients <- as.data.frame(matrix(fixed, nrow(modes), length(fixed), byrow = TRUE,
                                         dimnames = list(rownames(modes), names(fixed))), check.names = FALSE)
    for (term in names(modes)) {
      if (is.null(coefficients[[term]])) coefficients[[term]] <- 0
      coefficients[[term]] <- coefficients[[term]] + modes[[term]]
    }
    coefficients
  })
  structure(per_group, class = "coef.mer")
}

#' @rdname lmm-methods
#' @export
vcov.spiral_lmm <- function(object, ...) vcov_of(object)

#' @rdname lmm-methods
#' @importFrom nlme fixef
#' @export
fixef.spiral_lmm <- function(object, ...) named_estimates(object$fixed, object$fixed$term)

# The intervals of a table with columns term, estimate, std_error, df, conf_low, conf_high
# at the fit's level `fit_level` (percent): the table's own at that level, else Wald with the
# table's df (t) or, without df, the normal quantile. As confint.default names its columns.
table_confint <- function(table, fit_level, parm, level) {
  terms <- table$term
  if (missing(parm)) parm <- terms
  if (is.numeric(parm)) parm <- terms[parm]
  unknown <- setdiff(parm, terms)
  if (length(unknown) > 0L) stop("parm: no term ", paste0("'", unknown, "'", collapse = ", "), call. = FALSE)
  rows <- match(parm, terms)
  if (isTRUE(all.equal(level * 100, fit_level))) {
    bounds <- cbind(table$conf_low[rows], table$conf_high[rows])
  } else {
    df <- if (is.null(table$df)) rep(NA_real_, nrow(table)) else table$df
    q <- ifelse(is.na(df[rows]), stats::qnorm((1 + level) / 2), stats::qt((1 + level) / 2, df[rows]))
    bounds <- table$estimate[rows] + outer(q * table$std_error[rows], c(-1, 1))
  }
  percent <- paste(format(100 * c(1 - level, 1 + level) / 2, trim = TRUE, scientific = FALSE, digits = 3), "%")
  matrix(bounds, ncol = 2L, dimnames = list(parm, percent))
}

#' @rdname lmm-methods
#' @export
confint.spiral_lmm <- function(object, parm, level = 0.95, method = c("Wald", "profile"), oldNames = TRUE, ...) {
  if (!is.character(method) || !all(method %in% c("Wald", "profile"))) {
    no_answer("confint", object, paste0("method = '", paste(method, collapse = "', '"), "' is not available; use \"Wald\" or \"profile\""))
  }
  no_further_arguments("confint", ...)
  if (match.arg(method) == "profile") return(profile_confint(object, parm, level, oldNames))
  # a fit made with confint = "profile" holds profile intervals in its table: the summary's are a refit away
  if (identical(attr(object, "call_args")$options$confint, "profile")) object <- refit(object, confint = NULL)
  table_confint(object$fixed, fit_level(object), parm, level)
}

# lme4's confint(fit, method = "profile"): the profile intervals of the random-effect SDs and
# correlations, sigma and the fixed effects (the engine's --confint profile, refitted at
# `level` unless the fit has them), rows named as lme4 names them (oldNames: .sig01, .sigma).
profile_confint <- function(object, parm, level, old_names) {
  has_them <- !is.null(object$random_ci) && isTRUE(all.equal(level * 100, fit_level(object)))
  fit <- if (has_them) object else refit(object, confint = "profile", level = level * 100)
  names <- c(lme4_parameter_names(fit, old_names), fit$fixed$term)
  bounds <- rbind(cbind(fit$random_ci$conf_low, fit$random_ci$conf_high), cbind(fit$fixed$conf_low, fit$fixed$conf_high))
  if (length(names) != nrow(bounds)) no_answer("confint", object, "the profile of this model's parameters has no lme4 names")
  table <- data.frame(term = names, conf_low = bounds[, 1], conf_high = bounds[, 2])
  table_confint(table, level * 100, parm, level)
}

# The names of lme4's confint() rows of the variance parameters: per random term the lower
# triangle column by column (sd_ on the diagonal, cor_<row>.<column> below), then sigma.
lme4_parameter_names <- function(object, old_names) {
  names <- unlist(lapply(seq_len(nrow(object$random)), function(r) {
    terms <- object$random$terms[[r]]
    group <- object$random$group[[r]]
    unlist(lapply(seq_along(terms), function(j) {
      vapply(j:length(terms), function(i) {
        if (i == j) paste0("sd_", terms[j], "|", group) else paste0("cor_", terms[i], ".", terms[j], "|", group)
      }, "")
    }))
  }))
  if (old_names) c(sprintf(".sig%02d", seq_along(names)), ".sigma") else c(names, "sigma")
}

# The confidence level (percent) the result's tables were computed at.
fit_level <- function(object) {
  level <- attr(object, "call_args")$options$level
  if (is.null(level)) 95 else level
}

#' @rdname lmm-methods
#' @export
sigma.spiral_lmm <- function(object, ...) object$sigma

#' @rdname lmm-methods
#' @export
nobs.spiral_lmm <- function(object, ...) as.integer(object$n_obs)

#' @rdname lmm-methods
#' @export
logLik.spiral_lmm <- function(object, ...) {
  structure(object$logLik, df = object$df_model, nobs = object$n_obs, class = "logLik")
}

#' @rdname lmm-methods
#' @export
deviance.spiral_lmm <- function(object, ...) object$criterion

#' @rdname lmm-methods
#' @export
formula.spiral_lmm <- function(x, ...) {
  f <- attr(x, "call_args")$options$formula
  if (is.character(f)) stats::as.formula(f, env = globalenv()) else f
}

#' @rdname lmm-methods
#' @export
update.spiral_lmm <- function(object, formula., data, ...) {
  args <- attr(object, "call_args")
  formula <- if (missing(formula.)) formula.spiral_lmm(object) else stats::update.formula(formula.spiral_lmm(object), formula.)
  options <- utils::modifyList(args$options, c(list(formula = formula), list(...)))
  do.call(lmm, c(list(data = if (missing(data)) args$data else data), options))
}

#' @rdname lmm-methods
#' @export
anova.spiral_lmm <- function(object, ..., type = 3, ddf = "Satterthwaite") {
  only("anova", "type", type, 3)
  only("anova", "ddf", ddf, "Satterthwaite")
  others <- Filter(function(o) inherits(o, "spiral_lmm"), list(...))
  if (length(others) < length(list(...))) stop("anova(): every further argument must be a spiral lmm fit", call. = FALSE)
  args <- attr(object, "call_args")
  if (length(others) == 0L) return(type3_table(refit(object, anova = TRUE)$anova, object$sigma))
  for (other in others) {
    if (!identical(args$data, attr(other, "call_args")$data)) stop("anova(): the fits have different data", call. = FALSE)
  }
  compare <- lapply(others, formula.spiral_lmm)
  options <- args$options
  options$formula <- formula.spiral_lmm(object)
  options$compare <- if (length(compare) == 1L) compare[[1]] else compare
  without_repeated_warnings(do.call(lmm, c(list(data = args$data), options)), c(list(object), others))
}

# lmerTest's anova() table of type III F tests with Satterthwaite's df (the engine's records).
type3_table <- function(records, sigma) {
  mean_square <- records$F * sigma^2  # lmerTest's print: Mean Sq = F sigma^2, Sum Sq = NumDF Mean Sq
  out <- data.frame(`Sum Sq` = mean_square * records$num_df, `Mean Sq` = mean_square, NumDF = records$num_df,
                    DenDF = records$den_df, `F value` = records$F, `Pr(>F)` = records$p_value,
                    row.names = records$term, check.names = FALSE)
  structure(out, heading = "Type III Analysis of Variance Table with Satterthwaite's method",
            class = c("anova", "data.frame"))
}

#' @rdname lmm-methods
#' @importFrom nlme ranef
#' @export
ranef.spiral_lmm <- function(object, condVar = TRUE, ...) {
  modes <- attr(object, "tables")$ranef
  if (is.null(modes)) modes <- attr(refit(object, ranef = TRUE), "tables")$ranef
  groups <- unique(as.character(modes$group))
  out <- lapply(groups, function(g) {
    rows <- modes[modes$group == g, ]
    wide <- function(column) {
      levels <- unique(as.character(rows$level))
      terms <- unique(as.character(rows$term))
      values <- matrix(NA_real_, length(levels), length(terms), dimnames = list(levels, terms))
      values[cbind(match(rows$level, levels), match(rows$term, terms))] <- rows[[column]]
      as.data.frame(values, check.names = FALSE)
    }
    frame <- wide("estimate")
    if (condVar) attr(frame, "condsd") <- wide("std_error")
    frame
  })
  stats::setNames(out, groups)
}

#' @rdname lmm-methods
#' @importFrom nlme VarCorr
#' @export
VarCorr.spiral_lmm <- function(x, sigma = 1, ...) {
  groups <- lapply(seq_len(nrow(x$random)), function(i) {
    terms <- x$random$terms[[i]]
    cor <- matrix(unlist(x$random$cor[[i]]), length(terms), dimnames = list(terms, terms))
    list(sd = stats::setNames(unlist(x$random$sd[[i]]), terms), cor = cor)
  })
  structure(c(stats::setNames(groups, x$random$group), list(Residual = x$sigma)), class = "VarCorr.spiral_lmm")
}

#' @rdname lmm-methods
#' @param row.names,optional unused (arguments of the generic).
#' @param order `"cov.last"` (lme4's default: per group the variances, then the covariances)
#'   or `"lower.tri"` (the lower triangle column by column).
#' @export
as.data.frame.VarCorr.spiral_lmm <- function(x, row.names = NULL, optional = FALSE, order = c("cov.last", "lower.tri"), ...) {
  order <- match.arg(order)
  groups <- setdiff(names(x), "Residual")
  rows <- lapply(groups, function(g) {
    sd <- x[[g]]$sd
    cor <- x[[g]]$cor
    terms <- names(sd)
    cells <- which(lower.tri(cor, diag = TRUE), arr.ind = TRUE)  # column by column
    if (order == "cov.last") cells <- cells[order(cells[, "row"] != cells[, "col"]), , drop = FALSE]
    diagonal <- cells[, "row"] == cells[, "col"]
    i <- cells[, "row"]
    j <- cells[, "col"]
    data.frame(grp = g, var1 = terms[j], var2 = ifelse(diagonal, NA_character_, terms[i]),
               vcov = ifelse(diagonal, sd[i]^2, cor[cbind(i, j)] * sd[i] * sd[j]),
               sdcor = ifelse(diagonal, sd[i], cor[cbind(i, j)]), stringsAsFactors = FALSE)
  })
  residual <- data.frame(grp = "Residual", var1 = NA_character_, var2 = NA_character_, vcov = x$Residual^2,
                         sdcor = x$Residual, stringsAsFactors = FALSE)
  do.call(rbind, c(rows, list(residual)))
}

#' @rdname lmm-methods
#' @export
print.VarCorr.spiral_lmm <- function(x, ...) {
  table <- as.data.frame.VarCorr.spiral_lmm(x, order = "lower.tri")
  variances <- table[is.na(table$var2), ]
  # each term's correlations with the terms before it in its group, as lme4 prints them
  correlations <- vapply(seq_len(nrow(variances)), function(r) {
    g <- variances$grp[r]
    if (g == "Residual") return("")
    k <- match(variances$var1[r], names(x[[g]]$sd))
    if (k == 1L) "" else paste(sprintf("%.3f", x[[g]]$cor[k, seq_len(k - 1L)]), collapse = " ")
  }, "")
  shown <- data.frame(Groups = ifelse(duplicated(variances$grp), "", variances$grp),
                      Name = ifelse(is.na(variances$var1), "", variances$var1),
                      `Std.Dev.` = format(variances$sdcor, digits = 5),
                      check.names = FALSE)
  if (any(correlations != "")) shown$Corr <- correlations
  print(shown, row.names = FALSE, right = FALSE)
  invisible(x)
}

# The model's rows with .fitted, .resid and .fixed (the engine's augment table; refits once).
model_rows <- function(object) {
  rows <- attr(object, "tables")$augment
  if (is.null(rows)) rows <- attr(refit(object, augment = TRUE), "tables")$augment
  rows
}

#' @rdname lmm-methods
#' @export
fitted.spiral_lmm <- function(object, ...) {
  no_further_arguments("fitted", ...)
  model_rows(object)$.fitted
}

#' @rdname lmm-methods
#' @export
residuals.spiral_lmm <- function(object, type = "response", scaled = FALSE, ...) {
  only("residuals", "type", type, "response")
  only("residuals", "scaled", scaled, FALSE)
  no_further_arguments("residuals", ...)
  model_rows(object)$.resid
}

#' @rdname lmm-methods
#' @param newdata a data frame or SOURCE string of new rows; NULL: the model's own rows.
#' @param re.form NULL (every random term: conditional modes; a level the fit never saw gets
#'   the population prediction, with a warning, as `allow.new.levels = TRUE`) or NA (the fixed
#'   effects alone).
#' @export
predict.spiral_lmm <- function(object, newdata = NULL, re.form = NULL, allow.new.levels = TRUE, ...) {
  only("predict", "allow.new.levels", allow.new.levels, TRUE)
  no_further_arguments("predict", ...)
  population <- identical(re.form, NA)
  if (!is.null(re.form) && !population) stop_arg("re.form", "expected NULL or NA, got ", what_is(re.form))
  if (is.null(newdata)) {
    rows <- model_rows(object)
    return(if (population) rows$.fixed else rows$.fitted)
  }
  rows <- refit(object, newdata = newdata, predict = TRUE, re_form = if (population) "NA" else "full")
  attr(rows, "tables")$predict$.fitted
}

# The lower bounds of theta in lme4's order: 0 for a diagonal element of a relative
# covariance factor, -Inf below the diagonal (lme4's getME(fit, "lower")).
theta_lower <- function(object) {
  unlist(lapply(object$random$terms, function(terms) {
    k <- length(terms)
    diagonal <- outer(seq_len(k), seq_len(k), "==")[lower.tri(diag(k), diag = TRUE)]
    ifelse(diagonal, 0, -Inf)
  }))
}

#' @rdname lmm-methods
#' @exportS3Method lme4::getME
getME.spiral_lmm <- function(object, name, ...) {
  switch(name,
    theta = stats::setNames(unlist(object$theta), NULL),
    lower = theta_lower(object),
    no_answer("getME", object, paste0("'", name, "' is not available; ask for \"theta\" or \"lower\""))
  )
}

# ----------------------------------------------------------------------------- meta

#' metafor's generics for a meta-analysis
#'
#' `coef()`, `vcov()` and `nobs()` (k, less the coefficients under REML) as for `metafor::rma.uni()`;
#' `fitted()`, `residuals()` and `predict()` (fitted values with their confidence and prediction
#' intervals, one row per study, or one row without moderators), and `logLik()` (with
#' `AIC()` and `BIC()` from it, as `metafor::fitstats()`). `confint()` gives the
#' intervals of the coefficients the summary prints (Knapp-Hartung with `test = "knha"`)
#' as `$fixed`, and the Q-profile interval of tau^2 (and of tau) as `$random`, as
#' `confint(rma_fit, fixed = TRUE)` does.
#'
#' @param object a `spiral_meta` result of [meta()].
#' @param type metafor's residual type: only `"response"` (observed minus fitted) is available.
#' @param parm the coefficients (names or indices); all by default.
#' @param level the confidence level (a proportion) of the coefficients' intervals; the
#'   tau^2 interval is the fit's (`meta(..., level = )`).
#' @param ... unused.
#' @return As the metafor method; `confint()` a list with the matrices `fixed` (estimate,
#'   ci.lb, ci.ub) and `random` (rows tau^2 and tau).
#' @examples
#' bcg <- data.frame(yi = c(-0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621),
#'                   vi = c(0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223))
#' res <- meta(bcg, yi = "yi", vi = "vi")
#' coef(res)
#' confint(res)
#' @name meta-methods
NULL

#' @rdname meta-methods
#' @export
coef.spiral_meta <- function(object, ...) named_estimates(object$coefficients, object$coefficients$term)

#' @rdname meta-methods
#' @export
vcov.spiral_meta <- function(object, ...) vcov_of(object)

#' @rdname meta-methods
#' @export
nobs.spiral_meta <- function(object, ...) {
  # metafor's nobs.rma: k, less the number of coefficients under REML
  as.integer(object$k - if (identical(object$method, "REML")) nrow(object$coefficients) else 0L)
}

#' @rdname meta-methods
#' @export
confint.spiral_meta <- function(object, parm, level = 0.95, ...) {
  table <- object$coefficients
  table$df <- if (identical(object$test, "knha")) rep(object$k - nrow(table), nrow(table)) else NULL
  wald <- table_confint(table, fit_level(object), parm, level)
  fixed <- cbind(estimate = coef.spiral_meta(object)[rownames(wald)], ci.lb = wald[, 1], ci.ub = wald[, 2])
  tau2 <- c(object$tau2, object$tau2_conf_low, object$tau2_conf_high)
  random <- rbind("tau^2" = tau2, tau = sqrt(tau2))
  colnames(random) <- c("estimate", "ci.lb", "ci.ub")
  structure(list(fixed = fixed, random = random), class = "spiral_confint")
}

#' @rdname meta-methods
#' @param x a `confint()` result.
#' @export
print.spiral_confint <- function(x, ...) {
  for (part in names(x)) {
    print(x[[part]])
    cat("\n")
  }
  invisible(x)
}

per_study <- function(object, column) stats::setNames(object$studies[[column]], study_labels(object))

# The studies' labels, made unique (two studies by the same authors) as names and row names need.
study_labels <- function(object) make.unique(as.character(object$studies$slab))

#' @rdname meta-methods
#' @export
fitted.spiral_meta <- function(object, ...) {
  no_further_arguments("fitted", ...)
  per_study(object, "fitted")
}

#' @rdname meta-methods
#' @export
residuals.spiral_meta <- function(object, type = "response", ...) {
  only("residuals", "type", type, "response")
  no_further_arguments("residuals", ...)
  per_study(object, "residual")
}

#' @rdname meta-methods
#' @param newmods,transf new moderator values and a back-transformation: not available (errors).
#' @export
predict.spiral_meta <- function(object, newmods = NULL, transf = NULL, ...) {
  if (!is.null(newmods)) no_answer("predict", object, "predictions for new moderator values are not available yet")
  if (!is.null(transf)) no_answer("predict", object, "transf is not available; meta(..., transf = ) back-transforms the pooled estimate")
  no_further_arguments("predict", ...)
  s <- object$studies
  out <- data.frame(pred = s$fitted, se = s$fitted_se, ci.lb = s$fitted_conf_low, ci.ub = s$fitted_conf_high,
                    row.names = study_labels(object))
  if (!identical(object$method, "FE")) {
    out$pi.lb <- s$pi_low
    out$pi.ub <- s$pi_high
  }
  if (nrow(object$coefficients) > 1L) return(out)
  out <- out[1L, , drop = FALSE]   # without moderators every study's fitted value is the pooled one
  rownames(out) <- NULL
  out
}

#' @rdname meta-methods
#' @export
logLik.spiral_meta <- function(object, ...) {
  # metafor's logLik.rma: df = the coefficients, and tau^2 unless the model is fixed-effect
  parms <- nrow(object$coefficients) + if (identical(object$method, "FE")) 0L else 1L
  structure(object$logLik, df = parms, nobs = nobs.spiral_meta(object), class = "logLik")
}

#' @rdname meta-methods
#' @param object2 a second `spiral_meta` fit of the same studies: the likelihood-ratio test of the
#'   nested models, as metafor's `anova(full, reduced)` (fit both with `method = "ML"`; REML fits
#'   with different moderators give metafor's warning).
#' @export
anova.spiral_meta <- function(object, object2 = NULL, ...) {
  no_further_arguments("anova", ...)
  if (is.null(object2)) return(moderator_test(object))
  if (!inherits(object2, "spiral_meta")) stop("anova(): object2 must be a spiral meta fit", call. = FALSE)
  if (object$k != object2$k) stop("anova(): the fits have different numbers of studies (", object$k, ", ", object2$k, ")", call. = FALSE)
  parameters <- function(fit) attr(logLik.spiral_meta(fit), "df")
  fits <- list(object, object2)
  if (parameters(object) < parameters(object2)) fits <- rev(fits)
  if (parameters(fits[[1]]) == parameters(fits[[2]])) stop("anova(): the models have the same number of parameters", call. = FALSE)
  if (identical(object$method, "REML") && !identical(object$coefficients$term, object2$coefficients$term))
    warning("REML comparisons not meaningful for models with different fixed effects (fit both with method = \"ML\")", call. = FALSE)
  stats_of <- function(fit) c(df = parameters(fit), AIC = fit$AIC, BIC = fit$BIC, AICc = fit$AICc, logLik = fit$logLik)
  table <- as.data.frame(rbind(Full = stats_of(fits[[1]]), Reduced = stats_of(fits[[2]])))
  table$LRT <- c(NA, 2 * (fits[[1]]$logLik - fits[[2]]$logLik))
  table$pval <- c(NA, stats::pchisq(table$LRT[2], table$df[1] - table$df[2], lower.tail = FALSE))
  table$QE <- c(fits[[1]]$Q, fits[[2]]$Q)
  table$`tau^2` <- c(fits[[1]]$tau2, fits[[2]]$tau2)
  table
}

# metafor's anova() of one fit: the omnibus test of the moderators (QM; an F test under Knapp-Hartung).
moderator_test <- function(object) {
  if (is.null(object$QM) || is.na(object$QM)) no_answer("anova", object, "the model has no moderators to test")
  df <- unlist(object$QM_df)
  if (identical(attr(object, "call_args")$options$test, "knha")) df <- c(df, object$k - nrow(object$coefficients))
  structure(list(QM = object$QM, QMdf = df, QMp = object$QM_p), class = "spiral_meta_anova")
}

#' @export
print.spiral_meta_anova <- function(x, ...) {
  df <- x$QMdf[!is.na(x$QMdf)]
  statistic <- if (length(df) == 2L) sprintf("F(df1 = %d, df2 = %d)", df[1], df[2]) else sprintf("QM(df = %d)", df[1])
  cat("\nTest of Moderators:\n", statistic, " = ", format(x$QM, digits = 6), ", p-val = ", format.pval(x$QMp, digits = 4), "\n\n", sep = "")
  invisible(x)
}

# metafor's names of the leave-one-out and influence columns.
metafor_columns <- function(table, names) {
  hit <- names(table) %in% names(names)
  names(table)[hit] <- names[names(table)[hit]]
  table
}

# The result's per-study diagnostics table `name`, refitting with the option that computes it.
per_study_table <- function(object, name) {
  table <- object[[name]]
  if (!is.data.frame(table)) table <- without_repeated_warnings(refit_meta(object, name), list(object))[[name]]
  if (!is.data.frame(table)) no_answer(name, object, "the fit has no per-study diagnostics (fewer than 3 studies?)")
  rownames(table) <- make.unique(as.character(table$slab))
  table$slab <- NULL
  table
}

refit_meta <- function(object, option) {
  args <- attr(object, "call_args")
  do.call(meta, c(list(data = args$data), utils::modifyList(args$options, stats::setNames(list(TRUE), option))))
}

#' @rdname meta-methods
#' @export
leave1out <- function(x, ...) {
  if (!inherits(x, "spiral_meta") && requireNamespace("metafor", quietly = TRUE)) return(metafor::leave1out(x, ...))
  UseMethod("leave1out")
}

#' @rdname meta-methods
#' @param x a `spiral_meta` result (for `leave1out()`).
#' @export
#' @rawNamespace S3method(metafor::leave1out, spiral_meta)
leave1out.spiral_meta <- function(x, ...) {
  no_further_arguments("leave1out", ...)
  statistic <- if (identical(x$test, "knha")) "tval" else "zval"
  metafor_columns(per_study_table(x, "leave1out"),
                  c(std_error = "se", statistic = statistic, p_value = "pval", conf_low = "ci.lb", conf_high = "ci.ub",
                    Q_p = "Qp"))
}

#' @rdname meta-methods
#' @param model a `spiral_meta` result (for `influence()`).
#' @export
influence.spiral_meta <- function(model, ...) {
  no_further_arguments("influence", ...)
  metafor_columns(per_study_table(model, "influence"),
                  c(cook_d = "cook.d", cov_r = "cov.r", tau2_del = "tau2.del", QE_del = "QE.del", influential = "inf"))
}

# ---------------------------------------------------------------------------- panel

#' lavaan-style generics for a panel model
#'
#' `coef()` gives the lagged effects (`from->to`; `from->to@wave` under `lagged = "free"`,
#' `group:from->to` with `equal_groups = "none"`), `vcov()` their sampling covariance (as
#' lavaan's `vcov()` of the labelled effects; the robust one under `se = "robust"`), `logLik()`
#' the FIML log-likelihood with `df` (lavaan's npar) and `nobs` (with `AIC()` and `BIC()` from
#' it), `nobs()` the number of persons, `confint()` the intervals the summary prints, `anova(m0,
#' m1)` the likelihood-ratio test of two nested fits of the same data (lavaan's `lavTestLRT()`,
#' computed by the library's `compare` option) and `fit_measures()` lavaan's `fitMeasures()`
#' (npar, logl, chisq, df, pvalue, cfi, tli, rmsea, srmr, aic, bic).
#'
#' @param object a `spiral_panel` result of [panel()].
#' @param parm,level as [stats::confint()].
#' @param ... unused; for `anova()` the one further fit.
#' @return As the stats generic; `fit_measures()` a named numeric vector; `anova()` a data frame
#'   of class `anova` with lavTestLRT's columns.
#' @examples
#' set.seed(1)
#' long <- data.frame(id = rep(1:150, each = 4), wave = rep(1:4, 150))
#' long$x <- rep(rnorm(150), each = 4) + rnorm(600)
#' long$y <- rnorm(600)
#' fit <- panel(long, id = "id", time = "wave", vars = c("x", "y"))
#' logLik(fit)
#' confint(fit)
#' vcov(fit)
#' fit_measures(fit)
#' fit_free <- panel(long, id = "id", time = "wave", vars = c("x", "y"), lagged = "free")
#' anova(fit, fit_free)
#' @name panel-methods
NULL

lagged_names <- function(object) {
  table <- object$lagged
  names <- paste0(table$from, "->", table$to)
  if (!is.null(table$wave)) names <- paste0(names, "@", table$wave)
  if (!is.null(table$group)) names <- paste0(table$group, ":", names)
  names
}

#' @rdname panel-methods
#' @export
vcov.spiral_panel <- function(object, ...) vcov_of(object)

#' @rdname panel-methods
#' @export
fit_measures <- function(object, ...) UseMethod("fit_measures")

#' @rdname panel-methods
#' @export
fit_measures.default <- function(object, ...) no_answer("fit_measures", object, "only panel fits have lavaan's fit measures")

#' @rdname panel-methods
#' @export
fit_measures.spiral_panel <- function(object, ...) {
  value <- value_or_na
  c(npar = value(object$n_parameters), logl = value(object$logLik), chisq = value(object$chisq),
    df = value(object$chisq_df), pvalue = value(object$chisq_p), cfi = value(object$CFI), tli = value(object$TLI),
    rmsea = value(object$RMSEA), srmr = value(object$SRMR), aic = value(object$AIC), bic = value(object$BIC))
}

#' @rdname panel-methods
#' @export
anova.spiral_panel <- function(object, ...) {
  others <- list(...)
  if (length(others) != 1L || !inherits(others[[1L]], "spiral_panel"))
    stop("anova(): give one further spiral panel fit of the same data: anova(m0, m1)", call. = FALSE)
  other <- others[[1L]]
  labels <- c(deparse(substitute(object)), deparse(substitute(...)))
  # the other fit as the `compare` option reads a saved fit (spiral panel --format json)
  saved <- tempfile(fileext = ".json")
  on.exit(unlink(saved))
  writeLines(sprintf('{"logLik": %.17g, "n_parameters": %d, "n_patients": %d, "n_waves": %d, "lagged": [%s]}',
                     other$logLik, as.integer(other$n_parameters), as.integer(other$n_patients),
                     as.integer(other$n_waves), paste0('{"from": "', unique(other$lagged$from), '"}', collapse = ", ")),
             saved)
  args <- attr(object, "call_args")
  options <- args$options
  options$compare <- saved
  test <- without_repeated_warnings(do.call(panel, c(list(data = args$data), options)), list(object, other))$test
  fits <- list(object, other)
  out <- data.frame(Df = sapply(fits, function(f) as.integer(f$chisq_df)), AIC = sapply(fits, function(f) f$AIC),
                    BIC = sapply(fits, function(f) f$BIC), Chisq = sapply(fits, function(f) value_or_na(f$chisq)),
                    `Chisq diff` = NA_real_, `Df diff` = NA_integer_, `Pr(>Chisq)` = NA_real_,
                    row.names = labels, check.names = FALSE)
  out <- out[order(-sapply(fits, function(f) f$n_parameters)), ]  # lavTestLRT: the larger model first
  out[2L, c("Chisq diff", "Df diff", "Pr(>Chisq)")] <- list(test$chisq, as.integer(test$chisq_df), test$p_value)
  structure(out, heading = "Chi-Squared Difference Test", class = c("anova", "data.frame"))
}

value_or_na <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

#' @rdname panel-methods
#' @export
coef.spiral_panel <- function(object, ...) named_estimates(object$lagged, lagged_names(object))

#' @rdname panel-methods
#' @export
logLik.spiral_panel <- function(object, ...) {
  structure(object$logLik, df = object$n_parameters, nobs = object$n_patients, class = "logLik")
}

#' @rdname panel-methods
#' @export
nobs.spiral_panel <- function(object, ...) as.integer(object$n_patients)

#' @rdname panel-methods
#' @export
confint.spiral_panel <- function(object, parm, level = 0.95, ...) {
  table <- object$lagged
  table$term <- lagged_names(object)
  table_confint(table, fit_level(object), parm, level)
}
