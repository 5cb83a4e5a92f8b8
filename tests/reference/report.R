# Reference data for the report module's plot tests (tests/report/test_plot_axis.cpp).
# Run from the repository root: Rscript tests/reference/report.R
# metadat's dat.pritz1997 (proportions) and metafor's per-study 95% CIs back-transformed
# with transf.ilogit, as forest(rma(yi, vi, data = escalc("PLO", ...)), transf = transf.ilogit)
# draws them: the range the forest plot's back-transformed axis has to cover.
suppressPackageStartupMessages(library(metafor))
library(jsonlite)
pritz <- metadat::dat.pritz1997[, c("study", "xi", "ni")]
write.csv(pritz, "tests/reference/report/pritz1997.csv", row.names = FALSE)
es <- escalc("PLO", xi = xi, ni = ni, data = pritz)
ci <- summary(es, transf = transf.ilogit)
fit <- rma(yi, vi, data = es)
pooled <- predict(fit, transf = transf.ilogit)
out <- list(call = "summary(escalc('PLO', xi, ni, data = dat.pritz1997), transf = transf.ilogit); predict(rma(yi, vi), transf = transf.ilogit)",
            ci_lb_min = min(ci$ci.lb), ci_ub_max = max(ci$ci.ub),
            pooled = pooled$pred, pooled_ci_lb = pooled$ci.lb, pooled_ci_ub = pooled$ci.ub)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/report/pritz1997.json")
