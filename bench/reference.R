# Times the R reference packages on the benchmark data, in-process with the data already
# loaded, and prints one line per benchmark: name, median seconds, and the value both
# programs must agree on (REML criterion, tau^2, logLik).
# Usage: Rscript bench/reference.R DATA_DIR
suppressPackageStartupMessages({
  library(lme4); library(metafor); library(lavaan)
})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
median_time <- function(reps, f) {
  times <- vapply(seq_len(reps), function(i) system.time(f())[["elapsed"]], 0)
  median(times)
}
report <- function(name, seconds, value) cat(sprintf("%s %.6g %.17g\n", name, seconds, value))

d <- read.csv(file.path(dir, "lmm_lagged.csv"))
f <- O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)
fit <- NULL
report("lmm_lagged", median_time(5, function() fit <<- lmer(f, d)), REMLcrit(fit))

d <- read.csv(file.path(dir, "lmm_nonsingular.csv"))
f <- y ~ Pw_lag1 + Ow_lag1 + session + (1 + Pw_lag1 | patient)
report("lmm_nonsingular", median_time(5, function() fit <<- lmer(f, d)), REMLcrit(fit))

ie <- read.csv(file.path(dir, "insteval.csv"))
ie$s <- factor(ie$s); ie$d <- factor(ie$d); ie$dept <- factor(ie$dept)
report("lmm_insteval", median_time(3, function() fit <<- lmer(y ~ 1 + (1 | s) + (1 | d) + (1 | dept), ie)),
       REMLcrit(fit))

m <- read.csv(file.path(dir, "meta17.csv"))
reps <- 200
t <- system.time(for (i in seq_len(reps)) {
  r <- rma(yi, vi, data = m, method = "REML", test = "knha")
  ci <- confint(r)
})[["elapsed"]] / reps
report("meta_per_call", t, r$tau2)

p <- read.csv(file.path(dir, "panel300.csv"))
wide <- reshape(p, idvar = "patient", timevar = "session", direction = "wide", sep = "")
model <- paste(
  "RIa =~ 1*alliance1 + 1*alliance2 + 1*alliance3 + 1*alliance4 + 1*alliance5 + 1*alliance6 + 1*alliance7",
  "RIs =~ 1*symptoms1 + 1*symptoms2 + 1*symptoms3 + 1*symptoms4 + 1*symptoms5 + 1*symptoms6 + 1*symptoms7",
  paste0("wa", 1:7, " =~ 1*alliance", 1:7, collapse = "\n"),
  paste0("ws", 1:7, " =~ 1*symptoms", 1:7, collapse = "\n"),
  paste0("wa", 2:7, " ~ a*wa", 1:6, " + b*ws", 1:6, collapse = "\n"),
  paste0("ws", 2:7, " ~ c*wa", 1:6, " + d*ws", 1:6, collapse = "\n"),
  "wa1 ~~ ws1",
  paste0("wa", 2:7, " ~~ ws", 2:7, collapse = "\n"),
  "RIa ~~ RIs",
  "RIa ~~ 0*wa1\nRIa ~~ 0*ws1\nRIs ~~ 0*wa1\nRIs ~~ 0*ws1",
  paste0("alliance", 1:7, " ~~ 0*alliance", 1:7, collapse = "\n"),
  paste0("symptoms", 1:7, " ~~ 0*symptoms", 1:7, collapse = "\n"),
  sep = "\n")
fit <- NULL
report("panel300", median_time(3, function() fit <<- lavaan(model, data = wide, missing = "ml",
       meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE)), as.numeric(logLik(fit)))
