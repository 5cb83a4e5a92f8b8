# The commands of the spiral CLI as R functions (specification section 8). Each takes the
# command's options as arguments named like the CLI's with dashes as underscores, calls
# the C++ library in-process and returns the command's JSON as a list whose arrays of
# records are data frames. Errors carry the CLI's message; warnings are R warnings.

#' @useDynLib spiral, .registration = TRUE
#' @importFrom Rcpp evalCpp
NULL

# Options as the library reads them: formulas as text, factors as text, NULLs dropped.
clean_options <- function(options) {
  options <- Filter(Negate(is.null), options)
  for (name in intersect(names(options), c("formula", "mods"))) {
    options[[name]] <- formula_text(options[[name]], name)
  }
  if (!is.null(options$compare)) {  # one formula, or a list of them (anova of several fits)
    compare <- options$compare
    options$compare <- if (is.list(compare)) lapply(compare, formula_text, "compare") else formula_text(compare, "compare")
  }
  lapply(options, function(o) if (is.factor(o)) as.character(o) else o)
}

# A list option as the library reads it: one string may hold the CLI's comma-separated list
# ("alliance,symptoms"), a longer vector is a list.
list_option <- function(x) if (is.character(x) && length(x) == 1L) x else as.list(x)

# Runs `command`; the result keeps its arguments (attribute "call_args": data and options)
# for update(), anova() and intervals at the fit's level.
spiral_call <- function(command, data, options, class) {
  # what predict() and fitted() ask for is not part of the fit update() repeats
  call_args <- list(data = data, options = options[setdiff(names(options), c("newdata", "predict", "re_form", "augment"))])
  newdata <- NULL
  if (is.data.frame(options$newdata)) {
    newdata <- as_spiral_data(options$newdata, character(), "newdata")
    options$newdata <- NULL
  }
  options <- clean_options(options)
  if (is.character(data) && length(data) == 1L) {
    options$data <- data
    data <- NULL
  } else if (!is.null(data)) {
    data <- as_spiral_data(data, referenced_names(options))
  }
  raw <- .Call(spiral_run, command, options, data, newdata)
  for (w in raw$warnings) warning(w, call. = FALSE)
  structure(raw$json, class = c(class, "spiral_result"), text = raw$text,
            tables = raw$tables, matrices = raw$matrices, call_args = call_args)
}

#' Linear mixed model with lme4 / lmerTest numbers (`spiral lmm`)
#'
#' Fits a linear mixed model as `lme4::lmer()` does (REML by default), with lmerTest's
#' Satterthwaite degrees of freedom in the summary.
#'
#' @param formula an lme4 formula, as a formula object or one string.
#' @param data a data frame, or a SOURCE string (`"file.csv"`, `"file.sav"`,
#'   `"sqlite:db.sqlite?table=t"`). Factor level order is kept; haven-labelled columns
#'   become factors with their labels.
#' @param ... the CLI's options: `ml = TRUE` (maximum likelihood), `df = "satterthwaite"`,
#'   `"residual"` or `"none"`, `ar1` (time column for AR(1) residuals), `level` (95),
#'   `compare` (a second formula: likelihood-ratio test), `ranef = TRUE` (conditional
#'   modes), `weights` (prior weights: a column name, `~column` or a numeric vector with one
#'   weight per row, as `lmer(weights = )`), `sep`, `na`, `labels` (for a SOURCE). lme4's
#'   `REML = FALSE` is accepted for `ml = TRUE`.
#' @return An object of class `spiral_lmm`: the command's JSON as a list (`fixed` and
#'   `random` are data frames) that answers lme4's generics: [fixef()], [ranef()],
#'   [VarCorr()], `coef()`, `vcov()`, `confint()`, `logLik()`, `AIC()`, `BIC()`, `nobs()`,
#'   `sigma()`, `formula()`, `update()`, `anova()` and `lme4::isSingular()`. With `compare`,
#'   an object of class `spiral_lmm_compare`.
#' @examples
#' fit <- lmm(distance ~ age + Sex + (1 | Subject), nlme::Orthodont)
#' fit
#' fixef(fit)
#' confint(fit)
#' @export
lmm <- function(formula, data, ...) {
  if (missing(formula)) stop_arg("formula", "required")
  if (missing(data)) stop_arg("data", "required")
  options <- lme4_arguments(list(formula = formula, ...))
  if (!is.null(options$weights) && !is.character(options$weights)) {
    data <- with_weights_column(data, options$weights)
    options$weights <- ".weights"
  }
  spiral_call("lmm", data, options, if (is.null(options$compare)) "spiral_lmm" else "spiral_lmm_compare")
}

# lmer()'s REML = FALSE is the CLI's ml = TRUE; weights = ~w names the column w.
lme4_arguments <- function(options) {
  if (!is.null(options$REML)) {
    if (!is.logical(options$REML) || length(options$REML) != 1L || is.na(options$REML))
      stop_arg("REML", "expected TRUE or FALSE, got ", what_is(options$REML))
    if (!is.null(options$ml)) stop_arg("REML", "give REML or ml, not both")
    if (!options$REML) options$ml <- TRUE
    options$REML <- NULL
  }
  w <- options$weights
  if (inherits(w, "formula")) {
    if (length(w) != 2L || !is.name(w[[2L]])) stop_arg("weights", "expected a column name, ~column or a numeric vector, got ", formula_text(w, "weights"))
    options$weights <- as.character(w[[2L]])
  }
  options
}

# lmer(weights = w) with w a vector: a column `.weights` beside the data frame's columns.
with_weights_column <- function(data, weights) {
  if (!is.data.frame(data)) stop_arg("weights", "a vector of weights needs data as a data frame; name a column of the SOURCE instead")
  if (!is.numeric(weights) || length(weights) != nrow(data))
    stop_arg("weights", "expected a column name, ~column or a numeric vector of ", nrow(data), " weights (one per row), got ",
             if (is.numeric(weights)) paste(length(weights), "numbers") else what_is(weights))
  data$.weights <- as.numeric(weights)
  data
}

#' Random-effects meta-analysis with metafor numbers (`spiral meta`)
#'
#' Fits the model of `metafor::rma.uni()`: effect sizes and their variances given, or
#' computed from raw columns as `metafor::escalc()` does.
#'
#' @param data a data frame or a SOURCE string.
#' @param ... the CLI's options, naming columns of `data`: `yi`, `vi` or `sei`; or `measure`
#'   with its raw columns (`ri`, `ni`; `m1i`, `sd1i`, `n1i`, `m2i`, `sd2i`, `n2i`; `ai`,
#'   `bi`, `ci`, `di`); `method` ("REML", "ML", "DL", ...), `test` ("z" or "knha"), `mods`
#'   (a formula or string), `slab`, `level`, `influence`, `leave1out`, `egger`, `trimfill`,
#'   `forest`, `funnel` (files for the plots).
#' @return An object of class `spiral_meta`: `coefficients` is a data frame; `coef()`,
#'   `vcov()`, `confint()` (with the tau^2 interval), `nobs()` and `broom::tidy()` answer.
#' @examples
#' bcg <- data.frame(
#'   yi = c(-0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621, 0.012, -0.469, -1.371,
#'          -0.339, 0.446, -0.017),
#'   vi = c(0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073, 0.012, 0.533,
#'          0.071),
#'   ablat = c(44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33))
#' res <- meta(bcg, yi = "yi", vi = "vi", mods = ~ ablat, test = "knha")
#' res
#' confint(res)
#' @export
meta <- function(data, ...) {
  if (missing(data)) stop_arg("data", "required")
  spiral_call("meta", data, list(...), "spiral_meta")
}

#' RI-CLPM / CLPM by full-information maximum likelihood with lavaan numbers (`spiral panel`)
#'
#' @param data a data frame in long form (one row per person and wave) or a SOURCE string.
#' @param id,time the columns naming the person and the wave.
#' @param vars the two variables (a character vector).
#' @param ... the CLI's options: `model` ("riclpm" or "clpm"), `first`, `last`, `level`.
#' @return An object of class `spiral_panel`; `lagged` is a data frame.
#' @examples
#' set.seed(1)
#' n <- 200
#' long <- data.frame(id = rep(seq_len(n), each = 4), wave = rep(1:4, n))
#' trait <- rep(rnorm(n), each = 4)
#' long$x <- trait + rnorm(4 * n)
#' long$y <- 0.5 * trait + rnorm(4 * n)
#' fit <- panel(long, id = "id", time = "wave", vars = c("x", "y"))
#' coef(fit)
#' @export
panel <- function(data, id, time, vars, ...) {
  spiral_call("panel", data, list(id = id, time = time, vars = list_option(vars), ...), "spiral_panel")
}

#' Lagged effects that differ between patients: dynamic structural equation model (`spiral dsem`)
#'
#' The two-level vector autoregression of DSEM (Asparouhov, Hamaker & Muthen 2018), sampled by
#' a Gibbs sampler: latent person means, random lagged effects regressed on patient-level
#' moderators, missed sessions as missing occasions.
#'
#' @param data a data frame in long form (one row per patient and session) or a SOURCE string.
#' @param id,time the columns naming the patient and the session (integer occasions).
#' @param vars the 2 to 4 variables (a character vector).
#' @param ... the CLI's options: `random` ("all", "lagged", "ar", "none"), `between` (moderator
#'   columns, constant within a patient), `cluster` (a third level), `chains`, `iter` (warmup
#'   included), `warmup`, `thin`, `seed`, `threads`, `first`, `last`, `level`, `standardized`,
#'   `draws` (a CSV file to write the draws to).
#' @return An object of class `spiral_dsem`: the command's JSON as a list (`fixed`,
#'   `moderators`, `random`, `innovations` are data frames of posterior summaries) with
#'   `posterior` (every parameter's summary, one row each, named as the draws' columns) and
#'   `draws` (a data frame: `chain`, `iteration`, one column per parameter). `print()` shows the
#'   CLI's table, `summary()` returns `posterior`, `coef()` the posterior means.
#' @examples
#' set.seed(1)
#' n <- 60; sessions <- 6
#' long <- data.frame(patient = rep(seq_len(n), each = sessions), session = rep(seq_len(sessions), n))
#' long$alliance <- rep(rnorm(n), each = sessions) + rnorm(n * sessions)
#' long$symptoms <- rep(rnorm(n), each = sessions) + rnorm(n * sessions)
#' fit <- dsem(long, id = "patient", time = "session", vars = c("alliance", "symptoms"),
#'             random = "none", chains = 2, iter = 400, warmup = 200)
#' coef(fit)
#' head(fit$draws)
#' @export
dsem <- function(data, id, time, vars, ...) {
  if (missing(data)) stop_arg("data", "required")
  fit <- spiral_call("dsem", data, list(id = id, time = time, vars = list_option(vars), ...), "spiral_dsem")
  tables <- attr(fit, "tables")
  posterior <- tables$posterior
  posterior$parameter <- as.character(posterior$parameter)
  fit$posterior <- posterior
  fit$draws <- tables$draws
  fit
}

#' Posterior summaries of a DSEM fit
#'
#' `summary()` gives every parameter's posterior mean, median, SD, credible interval (the
#' fit's `level`), R-hat and bulk and tail ESS (as `posterior::summarise_draws()` lays them
#' out); `coef()` the posterior means, named as the draws' columns (`fixed:alliance->symptoms`,
#' `moderator:baseline:alliance->symptoms`, `sd:alliance->symptoms`, `innovation:symptoms~~alliance`).
#'
#' @param object a `spiral_dsem` result of [dsem()].
#' @param ... unused.
#' @return A data frame (`summary`), a named numeric vector (`coef`).
#' @examples
#' set.seed(1)
#' long <- data.frame(patient = rep(1:40, each = 5), session = rep(1:5, 40))
#' long$a <- rnorm(200); long$b <- rnorm(200)
#' fit <- dsem(long, id = "patient", time = "session", vars = c("a", "b"), random = "none",
#'             chains = 2, iter = 300, warmup = 100)
#' summary(fit)
#' @name dsem-methods
NULL

#' @rdname dsem-methods
#' @export
summary.spiral_dsem <- function(object, ...) object$posterior

#' @rdname dsem-methods
#' @export
coef.spiral_dsem <- function(object, ...) stats::setNames(object$posterior$mean, object$posterior$parameter)

#' Describe the columns of a data frame or a data file (`spiral describe`)
#'
#' @param data a data frame or a SOURCE string.
#' @param ... reader options for a SOURCE: `sep`, `na`, `labels`.
#' @return An object of class `spiral_describe` with the type, n, missing values and range
#'   or levels of every column.
#' @examples
#' describe(nlme::Orthodont)
#' @export
describe <- function(data, ...) spiral_call("describe", data, list(...), "spiral_describe")

#' Steps 1-3 of the default stage-1 recipe (`spiral prep`)
#'
#' Standardizes process and outcome within study, splits them into patient means and
#' within-patient parts and adds their lags, as the analysis spec says.
#'
#' @param spec the analysis spec: a TOML file, its text, or a list of its tables
#'   (`list(data = list(source = "sessions.csv", ...), variables = list(...), ...)`; wrap
#'   a one-element array in `I()`). Relative paths in text or a list are relative to the
#'   working directory.
#' @param data a data frame that stands in for the spec's `[data] source`.
#' @param out a CSV file to write the prepared data to as well.
#' @return The prepared data as a data frame.
#' @examples
#' sessions <- data.frame(study = "A", patient = rep(1:12, each = 4), session = rep(1:4, 12))
#' set.seed(2)
#' sessions$alliance <- rnorm(48)
#' sessions$symptoms <- rnorm(48)
#' spec <- list(
#'   data = list(source = "unused.csv", study = "study", patient = "patient", session = "session"),
#'   variables = list(process = "alliance", outcome = "symptoms"),
#'   model = list(lags = I(1)))
#' head(prep(spec, data = sessions))
#' @export
prep <- function(spec, data = NULL, out = NULL) {
  options <- c(spec_options(spec), list(out = out))
  attr(spiral_call("prep", data, options, "spiral_prep"), "tables")$prepared
}

#' Two-stage IPD meta-analysis (`spiral ipd run` and its parts)
#'
#' `ipd_run()` fits the stage-1 models in every study and pools them (stage 2);
#' `ipd_stage1()` fits one study and returns its bundle (aggregates only); `ipd_stage2()`
#' pools bundle files; `ipd_onestage()` fits the stage-1 models once over all studies.
#'
#' @inheritParams prep
#' @param out an output directory (`ipd_run`, `ipd_stage2`, `ipd_onestage`) or bundle file
#'   (`ipd_stage1`) to write as well.
#' @param study the study whose bundle `ipd_stage1()` computes.
#' @param bundles the bundle files `ipd_stage2()` pools.
#' @param ... `threads` for `ipd_run()`.
#' @return An object of class `spiral_ipd` (`pooled` is a data frame; the stage-1
#'   estimates are `attr(result, "tables")$stage1`), `spiral_bundle` or `spiral_onestage`.
#' @examples
#' dir <- tempfile()
#' dir.create(dir)
#' spec <- file.path(dir, "analysis.toml")
#' sim <- simulate_sessions(studies = 3, patients = 90, sessions = 5, seed = 1,
#'                          therapists_per_study = 3, out = file.path(dir, "sessions.csv"),
#'                          patients_out = file.path(dir, "patients.csv"), spec_out = spec)
#' res <- suppressWarnings(ipd_run(spec))
#' res$pooled[1:3, ]
#' # the same in parts: a bundle of aggregates per study, then stage 2 over the bundles
#' bundles <- file.path(dir, paste0(c("S01", "S02", "S03"), ".json"))
#' for (i in 1:3) suppressWarnings(ipd_stage1(spec, study = sprintf("S%02d", i), out = bundles[i]))
#' parts <- suppressWarnings(ipd_stage2(spec, bundles))
#' all.equal(parts$pooled$estimate, res$pooled$estimate)
#' one <- suppressWarnings(ipd_onestage(spec))   # one model over all studies
#' one
#' @export
ipd_run <- function(spec, out = NULL, ...) {
  spiral_call("ipd_run", NULL, c(spec_options(spec), list(out = out, ...)), "spiral_ipd")
}

#' @rdname ipd_run
#' @export
ipd_onestage <- function(spec, out = NULL) {
  spiral_call("ipd_onestage", NULL, c(spec_options(spec), list(out = out)), "spiral_onestage")
}

#' @rdname ipd_run
#' @export
ipd_stage1 <- function(spec, study, out = NULL) {
  spiral_call("ipd_stage1", NULL, c(spec_options(spec), list(study = as.character(study), out = out)), "spiral_bundle")
}

#' @rdname ipd_run
#' @export
ipd_stage2 <- function(spec, bundles, out = NULL) {
  options <- c(spec_options(spec), list(bundles = as.list(as.character(bundles)), out = out))
  spiral_call("ipd_stage2", NULL, options, "spiral_ipd")
}

#' Simulated multi-study session data with known truth (`spiral simulate`)
#'
#' @param ... the CLI's options (`studies`, `patients`, `sessions`, `seed`,
#'   `process_to_outcome`, ...); files are written only when named (`out`,
#'   `patients_out`, `truth`, `spec_out`).
#' @return A list with the data frames `sessions`, `patients` and `truth` and the CLI's
#'   `summary`.
#' @examples
#' sim <- simulate_sessions(studies = 2, patients = 40, sessions = 5, seed = 1)
#' head(sim$sessions)
#' @export
simulate_sessions <- function(...) {
  res <- spiral_call("simulate", NULL, list(...), "spiral_simulation")
  c(attr(res, "tables"), list(summary = unclass(res)[names(res)]))
}

#' Power, bias, RMSE and CI coverage of the IPD analysis by repeated simulation (`spiral power`)
#'
#' @param spec an analysis spec with a `[simulate]` table (file, TOML text or list).
#' @param replications the number of simulated data sets.
#' @param ... the CLI's options (`threads`, `seed`, ...).
#' @return An object of class `spiral_power`; `results` is a data frame.
#' @examples
#' dir <- tempfile()
#' dir.create(dir)
#' spec <- file.path(dir, "analysis.toml")
#' sim <- simulate_sessions(studies = 3, patients = 90, sessions = 5, seed = 1,
#'                          therapists_per_study = 3, out = file.path(dir, "sessions.csv"),
#'                          patients_out = file.path(dir, "patients.csv"), spec_out = spec)
#' pw <- suppressWarnings(power_analysis(spec, replications = 2, threads = 1))
#' pw$results
#' @export
power_analysis <- function(spec, replications = 1000, ...) {
  options <- spec_options(spec)
  if (!is.null(options$spec_text)) {  # `spiral power` reads a file: the text goes into one
    options <- list(spec = tempfile(fileext = ".toml"))
    writeLines(spec_options(spec)$spec_text, options$spec)
    on.exit(unlink(options$spec))
  }
  options <- c(options, list(replications = replications), list(...))
  spiral_call("power", NULL, options, "spiral_power")
}

#' @importFrom stats coef vcov confint sigma nobs logLik deviance formula update anova fitted residuals predict
NULL
