# spiral's R package against lme4 / lmerTest, in one R process on the same data frame:
# bench/data.R's lagged data, 3,000 patients x 7 sessions (median of 5 fits each).
# Usage: Rscript bench/bindings.R BENCH_DATA_DIR   (prints rows for bench/run.sh)
suppressPackageStartupMessages({ library(spiral); library(lme4); library(lmerTest) })
d <- read.csv(file.path(commandArgs(trailingOnly = TRUE)[1], "lmm_lagged.csv"))
f <- O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)
median_seconds <- function(fit) median(replicate(5, system.time(fit())[["elapsed"]]))
s <- suppressWarnings(spiral::lmm(f, d))
t_spiral <- median_seconds(function() suppressWarnings(spiral::lmm(f, d)))
t_lme4 <- median_seconds(function() suppressMessages(lme4::lmer(f, d)))
t_lmertest <- median_seconds(function() suppressMessages(summary(lmerTest::lmer(f, d))))
crit <- REMLcrit(suppressMessages(lme4::lmer(f, d)))
cat(sprintf("r_lmm_vs_lmer %.6f %.6f %.10g %.10g\n", t_spiral, t_lme4, s$criterion, crit))
cat(sprintf("r_lmm_vs_lmertest %.6f %.6f %.10g %.10g\n", t_spiral, t_lmertest, s$criterion, crit))
