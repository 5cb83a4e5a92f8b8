# Reference values for meta-regressions with redundant predictors (tests/meta/test_redundant.cpp):
# metafor drops the model-matrix columns that lm(yi ~ X - 1) cannot estimate, after the studies with
# a missing moderator have gone, and warns "Redundant predictors dropped from the model.". On the
# BCG trials (metadat's dat.bcg, log risk ratios as in tests/reference/meta.R):
#   constant:        rma(yi, vi, mods = ~ constant)            (a constant moderator: intercept only)
#   empty_level:     rma(yi, vi, mods = ~ ablat_sys + alloc)   (no "systematic" trial has ablat_sys)
#   empty_reference: rma(yi, vi, mods = ~ ablat_alt + alloc)   (no "alternate" trial, the reference, has
#                                                              ablat_alt: "systematic" becomes the reference)
# each with method = "REML", test = "knha". Writes tests/data/meta/bcg_redundant.csv and
# tests/reference/meta_redundant/redundant.json.  Run from the repository root.
suppressMessages({
  library(metafor)
  library(jsonlite)
})
cat("metafor", as.character(packageVersion("metafor")), "\n")
dir.create("tests/reference/meta_redundant", recursive = TRUE, showWarnings = FALSE)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg$yi <- as.numeric(bcg$yi); bcg$vi <- as.numeric(bcg$vi)
bcg$constant <- 2
bcg$ablat_sys <- ifelse(bcg$alloc == "systematic", NA, bcg$ablat)
bcg$ablat_alt <- ifelse(bcg$alloc == "alternate", NA, bcg$ablat)
write.csv(bcg[, c("trial", "yi", "vi", "alloc", "constant", "ablat_sys", "ablat_alt")],
          "tests/data/meta/bcg_redundant.csv", row.names = FALSE, na = "")

case <- function(mods) {
  warnings <- character()
  fit <- withCallingHandlers(rma(yi, vi, mods = mods, data = bcg, method = "REML", test = "knha"),
                             warning = function(w) {
                               warnings <<- c(warnings, conditionMessage(w))
                               invokeRestart("muffleWarning")
                             })
  co <- coef(summary(fit))
  list(mods = as.character(mods)[2], k = fit$k, tau2 = fit$tau2, warnings = warnings,
       QM = if (fit$int.only) NA else fit$QM,
       coefficients = data.frame(term = rownames(co), estimate = co$estimate, std_error = co$se,
                                 statistic = co$tval, p_value = co$pval, conf_low = co$ci.lb, conf_high = co$ci.ub))
}
out <- list(constant = case(~ constant), empty_level = case(~ ablat_sys + alloc),
            empty_reference = case(~ ablat_alt + alloc))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE),
           "tests/reference/meta_redundant/redundant.json")
cat("done\n")
