# Reference values for the back-transformations that need the studies' sizes (tests/meta/test_transf.cpp):
# metafor's transf.ipft.hm (the double-arcsine proportions of --measure PFT, at the harmonic mean of the
# sample sizes) and transf.iirft (the Freeman-Tukey incidence rates of --measure IRFT, at the harmonic
# mean of the person-times). For each case: escalc(), rma(yi, vi, data = e) (REML) and
#   predict(fit, transf = transf.ipft.hm, targs = list(ni = ni))       (PFT)
#   predict(fit, transf = transf.iirft, targs = 1 / mean(1 / ti))      (IRFT)
# and the functions themselves on a grid of values (beyond the transforms of 0 and 1 too).
# Writes tests/data/meta/debruin2009.csv and tests/reference/meta_transf/transf.json.
# Run from the repository root: Rscript tests/reference/meta_transf.R
suppressMessages({
  library(metafor)
  library(jsonlite)
})
cat("metafor", as.character(packageVersion("metafor")), "\n")
dir.create("tests/reference/meta_transf", recursive = TRUE, showWarnings = FALSE)

debruin <- dat.debruin2009
debruin$study <- paste(debruin$author, debruin$year)
write.csv(debruin[, c("study", "xi", "ni")], "tests/data/meta/debruin2009.csv", row.names = FALSE)
pritz <- read.csv("tests/data/meta/pritz1997.csv")      # written by tests/reference/meta.R
niel <- read.csv("tests/data/meta/nielweise2008.csv")   # written by tests/reference/meta.R
hart <- read.csv("tests/data/meta/hart1999.csv")        # written by tests/reference/meta.R

harmonic <- function(x) 1 / mean(1 / x)
transformed <- function(p) list(estimate = p$pred, conf_low = p$ci.lb, conf_high = p$ci.ub, pi_low = p$pi.lb,
                                pi_high = p$pi.ub)
pft_case <- function(file, data) {
  e <- escalc(measure = "PFT", xi = xi, ni = ni, data = data)
  fit <- rma(yi, vi, data = e)
  list(file = file, measure = "PFT", transf = "ipft.hm", columns = list(xi = "xi", ni = "ni"),
       harmonic_mean = harmonic(data$ni), estimate = as.numeric(fit$beta),
       transformed = transformed(predict(fit, transf = transf.ipft.hm, targs = list(ni = data$ni))))
}
irft_case <- function(file, data) {
  e <- escalc(measure = "IRFT", xi = x1i, ti = t1i, data = data)
  fit <- rma(yi, vi, data = e)
  list(file = file, measure = "IRFT", transf = "iirft", columns = list(xi = "x1i", ti = "t1i"),
       harmonic_mean = harmonic(data$t1i), estimate = as.numeric(fit$beta),
       transformed = transformed(predict(fit, transf = transf.iirft, targs = harmonic(data$t1i))))
}
cases <- list(PFT_pritz = pft_case("pritz1997.csv", pritz), PFT_debruin = pft_case("debruin2009.csv", debruin),
              IRFT_niel = irft_case("nielweise2008.csv", niel), IRFT_hart = irft_case("hart1999.csv", hart))

# The functions on a grid: x from below the transform of 0 to above that of 1.
n <- 37.5
x_pft <- seq(0, 1.65, by = 0.05)
t <- 250
x_irft <- c(0, 0.01, 0.02, 0.0316, 0.04, seq(0.05, 1, by = 0.05))
grid <- list(ipft.hm = list(size = n, x = x_pft, y = transf.ipft.hm(x_pft, targs = list(ni = n)),
                            inverse = transf.pft(seq(0, 1, by = 0.1), n), inverse_at = seq(0, 1, by = 0.1)),
             iirft = list(size = t, x = x_irft, y = transf.iirft(x_irft, t),
                          inverse = transf.irft(seq(0, 0.5, by = 0.05), t), inverse_at = seq(0, 0.5, by = 0.05)))
writeLines(toJSON(list(cases = cases, grid = grid), digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE),
           "tests/reference/meta_transf/transf.json")
cat("done\n")
