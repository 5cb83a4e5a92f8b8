# Writes the benchmark data sets into the directory given as the first argument.
#   lmm_lagged.csv  3,000 patients x 7 sessions, the seeds' lagged model's columns
#   lmm_nonsingular.csv  the same with an outcome y of patient intercepts and lagged slopes
#   insteval.csv    lme4's InstEval (73,421 rows)
#   meta17.csv      17 studies' yi / vi
#   panel300.csv    300 patients x 7 sessions, bivariate VAR(1) with random intercepts, 15% missing
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "bench-data"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
set.seed(20261124)

# Bivariate VAR(1) around patient means: x[t] = B x[t-1] + e.
simulate_var <- function(n, waves, B = matrix(c(0.3, -0.1, -0.08, 0.4), 2, byrow = TRUE)) {
  rows <- vector("list", n)
  for (i in seq_len(n)) {
    ri <- rnorm(2, 0, 0.7)
    w <- matrix(0, waves, 2)
    w[1, ] <- rnorm(2)
    for (t in 2:waves) w[t, ] <- B %*% w[t - 1, ] + rnorm(2, 0, 0.9)
    rows[[i]] <- data.frame(patient = i, session = seq_len(waves),
                            alliance = ri[1] + w[, 1], symptoms = ri[2] + w[, 2])
  }
  do.call(rbind, rows)
}

# Person-mean-centred lags as specification section 5's prep (one study).
prep <- function(d) {
  d$P <- as.numeric(scale(d$alliance)); d$O <- as.numeric(scale(d$symptoms))
  d$Pm <- ave(d$P, d$patient, FUN = function(v) mean(v, na.rm = TRUE))
  d$Om <- ave(d$O, d$patient, FUN = function(v) mean(v, na.rm = TRUE))
  d$Pw <- d$P - d$Pm; d$Ow <- d$O - d$Om
  key <- paste(d$patient, d$session)
  prev <- match(paste(d$patient, d$session - 1), key)
  d$Pw_lag1 <- d$Pw[prev]; d$Ow_lag1 <- d$Ow[prev]
  d
}

lagged <- prep(simulate_var(3000, 7))
write.csv(lagged, file.path(out, "lmm_lagged.csv"), row.names = FALSE, na = "")

# The same design with an outcome whose patient intercepts (SD 0.5) and lagged slopes (SD 0.1)
# no fixed effect absorbs: a non-singular fit, where the optimizer runs its full course.
u <- cbind(rnorm(3000, 0, 0.5), rnorm(3000, 0, 0.1))[lagged$patient, ]
lagged$y <- 0.2 * lagged$Pw_lag1 - 0.1 * lagged$Ow_lag1 + 0.05 * lagged$session +
  u[, 1] + u[, 2] * lagged$Pw_lag1 + rnorm(nrow(lagged))
write.csv(lagged, file.path(out, "lmm_nonsingular.csv"), row.names = FALSE, na = "")

data("InstEval", package = "lme4")
write.csv(InstEval, file.path(out, "insteval.csv"), row.names = FALSE)

meta <- data.frame(study = paste("Study", 1:17), yi = rnorm(17, -0.1, 0.08), vi = runif(17, 0.002, 0.02))
write.csv(meta, file.path(out, "meta17.csv"), row.names = FALSE)

panel <- simulate_var(300, 7)
miss <- runif(nrow(panel)) < 0.15
panel$alliance[miss] <- NA
panel$symptoms[runif(nrow(panel)) < 0.15] <- NA
write.csv(panel, file.path(out, "panel300.csv"), row.names = FALSE, na = "")
