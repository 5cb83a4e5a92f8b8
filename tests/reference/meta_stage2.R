# Reference values for the coefficient rows of stage2.csv (tests/ipd/test_outputs.cpp): stage 2
# of the two-stage recipe (specification section 5) on R's own stage-1 estimates of the ipd test
# data (tests/reference/ipd/stage1.csv, written by tests/reference/ipd.R), with study-level
# moderators chosen here (tests/reference/meta_stage2/moderators.csv). Per model x term over the
# studies whose model converged:
#   rma(yi = estimate, sei = std_error, method = "REML", test = "knha")             -> "pooled"
#   rma(yi = estimate, sei = std_error, mods = MODS, method = "REML", test = "knha") -> "meta_regression"
# each row one coefficient of coef(summary(fit)), with the fit's QM and whether metafor warned
# "Redundant predictors dropped from the model." (a factor level without a complete study); a
# meta-regression that rma() refuses (more coefficients than studies) is one row with NA coefficient.
# MODS: ~ year + setting; ~ year_lund + site (Lund, alone at site C, has no year: C's column is
# dropped); ~ year_bern + site_bern (Bern, alone at the reference level A, has no year: the
# last level's column is dropped, so C becomes the reference).
# Run from the repository root: Rscript tests/reference/meta_stage2.R
suppressPackageStartupMessages(library(metafor))
cat("metafor", as.character(packageVersion("metafor")), "\n")
out_dir <- "tests/reference/meta_stage2"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

stage1 <- read.csv("tests/reference/ipd/stage1.csv")
moderators <- data.frame(study = c("Bern", "Leipzig", "Ulm", "Zurich", "Lund"),
                         year = c(2011, 2014, 2016, 2019, 2022),
                         setting = c("outpatient", "inpatient", "outpatient", "inpatient", "outpatient"),
                         year_lund = c(2011, 2014, 2016, 2019, NA),
                         site = c("A", "B", "A", "B", "C"),
                         year_bern = c(NA, 2014, 2016, 2019, 2022),
                         site_bern = c("A", "B", "C", "B", "C"))
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
write_csv <- function(d, path) {
  for (v in names(d)) if (is.numeric(d[[v]])) d[[v]] <- num(d[[v]])
  write.csv(d, path, row.names = FALSE, quote = FALSE)
}
write_csv(moderators, file.path(out_dir, "moderators.csv"))

# The fit and whether it warned that redundant predictors were dropped.
fit_with_warnings <- function(d, mods = NULL) {
  redundant <- FALSE
  fit <- withCallingHandlers(
    if (is.null(mods)) rma(yi = d$estimate, sei = d$std_error, method = "REML", test = "knha")
    else rma(yi = d$estimate, sei = d$std_error, mods = mods, data = d, method = "REML", test = "knha"),
    warning = function(w) {
    if (grepl("Redundant predictors dropped", conditionMessage(w))) redundant <<- TRUE
    invokeRestart("muffleWarning")
  })
  list(fit = fit, redundant = redundant)
}

coefficient_rows <- function(set, model, term, analysis, result) {
  fit <- result$fit
  co <- coef(summary(fit))
  data.frame(set = set, model = model, term = term, analysis = analysis, coefficient = rownames(co), k = fit$k,
             estimate = co$estimate, std_error = co$se, statistic = co$tval, p_value = co$pval,
             conf_low = co$ci.lb, conf_high = co$ci.ub, tau2 = fit$tau2,
             QM = if (analysis == "pooled") NA else fit$QM, redundant = result$redundant)
}

# A meta-regression rma() refuses (more coefficients than studies left): one row without a coefficient.
no_fit_row <- function(set, model, term) {
  data.frame(set = set, model = model, term = term, analysis = "meta_regression", coefficient = NA, k = NA,
             estimate = NA, std_error = NA, statistic = NA, p_value = NA, conf_low = NA, conf_high = NA, tau2 = NA,
             QM = NA, redundant = NA)
}

mods_sets <- list(year_setting = ~ year + setting, empty_level = ~ year_lund + site, empty_reference = ~ year_bern + site_bern)
rows <- list()
s1 <- stage1[stage1$converged, ]
for (model in unique(s1$model)) {
  for (term in unique(s1$term[s1$model == model])) {
    d <- merge(s1[s1$model == model & s1$term == term, ], moderators, by = "study", sort = FALSE)
    d <- d[match(intersect(moderators$study, d$study), d$study), ]   # the studies in moderators.csv's order
    pooled <- fit_with_warnings(d)
    rows[[length(rows) + 1]] <- coefficient_rows("none", model, term, "pooled", pooled)
    for (set in names(mods_sets)) {
      reg <- tryCatch(fit_with_warnings(d, mods_sets[[set]]), error = function(e) NULL)
      rows[[length(rows) + 1]] <- if (is.null(reg)) no_fit_row(set, model, term) else
        coefficient_rows(set, model, term, "meta_regression", reg)
    }
  }
}
rows <- do.call(rbind, rows)
write_csv(rows, file.path(out_dir, "coefficients.csv"))
cat("wrote", nrow(rows), "coefficient rows\n")
