# The commands of the spiral CLI as R functions (specification section 8). Each takes the
# command's options as arguments named like the CLI's with dashes as underscores, calls
# the C++ library in-process and returns the command's JSON as a list whose arrays of
# records are data frames. Errors carry the CLI's message; warnings are R warnings.

#' @noRd
formula_text <- function(f) {
  if (inherits(f, "formula")) paste(deparse(f, width.cutoff = 500L), collapse = " ") else f
}

# Options as the library reads them: formulas as text, factors as text, NULLs dropped.
clean_options <- function(options) {
  options <- Filter(Negate(is.null), options)
  lapply(options, function(o) if (is.factor(o)) as.character(o) else formula_text(o))
}

spiral_call <- function(command, data, options, class) {
  if (is.character(data)) {
    options$data <- data
    data <- NULL
  } else if (!is.null(data)) {
    data <- as.data.frame(data)
  }
  raw <- .Call(spiral_run, command, clean_options(options), data)
  for (w in raw$warnings) warning(w, call. = FALSE)
  structure(raw$json, class = c(class, "spiral_result"), text = raw$text,
            tables = raw$tables, matrices = raw$matrices)
}

#' Linear mixed model (lme4 / lmerTest numbers): `spiral lmm`.
#' @param formula an lme4 formula (object or string).
#' @param data a data frame or a SOURCE string (file.csv, file.sav, sqlite:...).
#' @param ... the CLI's options: ml, df, ar1, level, compare, ranef, sep, na, labels.
lmm <- function(formula, data, ...) {
  options <- list(formula = formula, ...)
  spiral_call("lmm", data, options, if (is.null(options$compare)) "spiral_lmm" else "spiral_lmm_compare")
}

#' Random-effects meta-analysis (metafor rma.uni numbers): `spiral meta`.
#' @param ... yi, vi, sei, measure, ri, ni, m1i, ..., method, test, mods, slab, level,
#'   influence, leave1out, egger, trimfill, forest, funnel.
meta <- function(data, ...) spiral_call("meta", data, list(...), "spiral_meta")

#' RI-CLPM / CLPM by FIML (lavaan numbers): `spiral panel`.
panel <- function(data, id, time, vars, ...) {
  spiral_call("panel", data, list(id = id, time = time, vars = as.list(vars), ...), "spiral_panel")
}

#' Columns of a data frame or source: type, n, missing, range or levels.
describe <- function(data, ...) spiral_call("describe", data, list(...), "spiral_describe")

#' Steps 1-3 of the default stage-1 recipe (`spiral prep`) as a data frame.
prep <- function(spec, out = NULL) {
  attr(spiral_call("prep", NULL, list(spec = spec, out = out), "spiral_prep"), "tables")$prepared
}

#' Two-stage IPD meta-analysis (`spiral ipd run`); `out` also writes the output directory.
#' The stage-1 estimates are `attr(result, "tables")$stage1`.
ipd_run <- function(spec, out = NULL, ...) spiral_call("ipd_run", NULL, list(spec = spec, out = out, ...), "spiral_ipd")

#' The stage-1 models once over all studies (`spiral ipd onestage`); `out` also writes the directory.
ipd_onestage <- function(spec, out = NULL) spiral_call("ipd_onestage", NULL, list(spec = spec, out = out), "spiral_onestage")

#' One study's stage-1 bundle (`spiral ipd stage1`); `out` also writes the bundle file.
ipd_stage1 <- function(spec, study, out = NULL) {
  spiral_call("ipd_stage1", NULL, list(spec = spec, study = as.character(study), out = out), "spiral_bundle")
}

#' Stage 2 over bundle files (`spiral ipd stage2`).
ipd_stage2 <- function(spec, bundles, out = NULL) {
  spiral_call("ipd_stage2", NULL, list(spec = spec, bundles = as.list(as.character(bundles)), out = out), "spiral_ipd")
}

#' Simulated multi-study session data with known truth (`spiral simulate`): a list with
#' the data frames sessions, patients, truth and the CLI's summary. Files are written only
#' when named (out, patients_out, truth, spec_out).
simulate_sessions <- function(...) {
  res <- spiral_call("simulate", NULL, list(...), "spiral_simulation")
  c(attr(res, "tables"), list(summary = unclass(res)[names(res)]))
}

#' Power, bias, RMSE and CI coverage of the IPD analysis by repeated simulation
#' (`spiral power`): the spec's [simulate] table is re-simulated `replications` times.
power_analysis <- function(spec, replications = 1000, ...) {
  spiral_call("power", NULL, c(list(spec = spec, replications = replications), list(...)), "spiral_power")
}
