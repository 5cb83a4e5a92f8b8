# The two-stage IPD analysis of the bundled example in R, timed in-process with the data
# loaded: stage 1 = lme4::lmer (REML) for the six mixed models of specification section 5 (with the
# therapist random intercept) and lm() for early process -> post, per study; stage 2 =
# metafor::rma(method = "REML", test = "knha") per model x term. Prints one line as
# bench/reference.R does: name, seconds, the pooled Pw_lag1 of process_to_outcome.
# Usage: Rscript bench/ipd.R PREPARED.csv PATIENTS.csv
suppressPackageStartupMessages({ library(lme4); library(metafor) })
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])              # `spiral prep` output: the recipe's steps 1-3
patients <- read.csv(args[2])
re <- "+ (1 | therapist)"
slope <- function(x) paste0("(1 + ", x, " | patient)")
formulas <- list(
  process_to_outcome = paste("O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session +", slope("Pw_lag1"), re),
  outcome_to_process = paste("P ~ Ow_lag1 + Pw_lag1 + Pm + Om + session +", slope("Ow_lag1"), re),
  process_to_outcome_cross = paste("O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + Pw_lag1:Pm + Pw_lag1:Om +",
                                   slope("Pw_lag1"), re),
  outcome_to_process_cross = paste("P ~ Ow_lag1 + Pw_lag1 + Pm + Om + session + Ow_lag1:Pm + Ow_lag1:Om +",
                                   slope("Ow_lag1"), re),
  process_to_outcome_lag2 = paste("O ~ Pw_lag2 + Ow_lag2 + Pm + Om + session +", slope("Pw_lag2"), re),
  outcome_to_process_lag2 = paste("P ~ Ow_lag2 + Pw_lag2 + Pm + Om + session +", slope("Ow_lag2"), re))

analysis <- function() {
  rows <- list()
  for (s in unique(d$study)) {
    ds <- d[d$study == s, ]
    for (m in names(formulas)) {
      fit <- suppressMessages(suppressWarnings(lmer(as.formula(formulas[[m]]), ds, REML = TRUE)))
      rows[[length(rows) + 1]] <- data.frame(study = s, model = m, term = names(fixef(fit)),
                                             yi = fixef(fit), vi = diag(as.matrix(vcov(fit))))
    }
    early <- ds[ds$session >= 1 & ds$session <= 3, ]
    ep <- tapply(early$alliance, early$patient, mean, na.rm = TRUE)
    p <- patients[patients$study == s, ]
    p$early_process <- as.numeric(ep[as.character(p$patient)])
    z <- function(x) (x - mean(x, na.rm = TRUE)) / sd(x, na.rm = TRUE)
    post <- lm(z(post_symptoms) ~ z(early_process) + z(pre_symptoms), p)
    rows[[length(rows) + 1]] <- data.frame(study = s, model = "early_process_to_post",
                                           term = c("(Intercept)", "early_process", "pre"),
                                           yi = coef(post), vi = diag(vcov(post)))
  }
  st <- do.call(rbind, rows)
  pooled <- NULL
  for (key in unique(paste(st$model, st$term))) {
    g <- st[paste(st$model, st$term) == key, ]
    r <- rma(g$yi, g$vi, method = "REML", test = "knha")
    pooled <- rbind(pooled, data.frame(key = key, estimate = as.numeric(r$beta)))
  }
  pooled
}
seconds <- system.time(pooled <- analysis())[["elapsed"]]
cat(sprintf("ipd_example %.6g %.17g\n", seconds, pooled$estimate[pooled$key == "process_to_outcome Pw_lag1"]))
