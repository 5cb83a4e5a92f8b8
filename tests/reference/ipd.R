# Reference values for tests/ipd: simulates a small multi-study session-by-session data set
# (tests/data/ipd/*.csv) and runs the default two-stage recipe of specification section 5 in R:
#   steps 1-3 by hand (within-study z-scores with sd(), patient means, within parts, lags
#   by session number), stage 1 lme4::lmer(REML = TRUE) fixed effects and sqrt(diag(vcov())),
#   early process -> post with lm() on complete cases standardized, stage 2 metafor::rma(yi, vi, method = "REML",
#   test = "knha") per model x term (and with mods = ~ year).
# Run from the repository root: Rscript tests/reference/ipd.R
suppressPackageStartupMessages({
  library(lme4)
  library(metafor)
  library(jsonlite)
})
set.seed(20261124)
data_dir <- "tests/data/ipd"
out_dir <- "tests/reference/ipd"
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

# ------------------------------------------------------------------ simulated data
studies <- data.frame(study = c("Bern", "Leipzig", "Ulm", "Zurich", "Lund"),
                      n = c(35, 42, 50, 31, 58), year = c(2011, 2014, 2016, 2019, 2022),
                      scale_p = c(1, 7, 0.5, 3, 10), scale_o = c(2, 1, 30, 0.8, 5),
                      effect = c(-0.20, -0.10, -0.15, -0.05, -0.12))
sessions <- list(); patients <- list()
for (s in seq_len(nrow(studies))) {
  st <- studies[s, ]
  therapist_effect <- rnorm(6, 0, 0.5)
  for (i in seq_len(st$n)) {
    ri <- rnorm(2, 0, 1)
    slope <- st$effect + rnorm(1, 0, 0.3)
    B <- matrix(c(0.3, -0.08, slope, 0.4), 2, 2, byrow = TRUE)  # w_t = B w_{t-1} + e_t, rows (P, O)
    w <- c(0, 0); rows <- NULL
    th <- sample(6, 1)
    for (t in 1:8) {
      w <- as.vector(B %*% w) + rnorm(2, 0, 1)
      p <- ri[1] + w[1]; o <- ri[2] + w[2] + therapist_effect[th] - 0.1 * t
      rows <- rbind(rows, data.frame(study = st$study, patient = i, therapist = paste0(st$study, "-T", th),
                                     session = t, alliance = 50 + st$scale_p * p,
                                     symptoms = 20 + st$scale_o * o))
    }
    baseline <- rnorm(1)
    rows$baseline <- baseline
    rows$feedback <- if (st$study == "Lund") NA else (i %% 2)
    rows$year <- st$year
    keep <- runif(8) > 0.12                     # missed sessions: the row is absent
    if (i %% 9 == 0) keep[5:8] <- FALSE         # dropouts
    keep[1] <- TRUE
    rows <- rows[keep, ]
    rows$alliance[runif(nrow(rows)) < 0.05] <- NA   # missing values in present rows
    rows$symptoms[runif(nrow(rows)) < 0.05] <- NA
    sessions[[length(sessions) + 1]] <- rows
    post <- 20 + st$scale_o * (0.5 * baseline + rnorm(1))
    patients[[length(patients) + 1]] <- data.frame(
      study = st$study, patient = i, pre_symptoms = 20 + st$scale_o * (baseline + rnorm(1, 0, 0.5)),
      post_symptoms = if (runif(1) < 0.1) NA else post)
  }
}
sessions <- do.call(rbind, sessions)
patients <- do.call(rbind, patients)
sessions <- sessions[sample(nrow(sessions)), ]      # input order is not session order
num <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
write_csv <- function(d, path) {
  for (v in names(d)) if (is.numeric(d[[v]])) d[[v]] <- num(d[[v]])
  write.csv(d, path, row.names = FALSE, quote = FALSE)
}
write_csv(sessions, file.path(data_dir, "sessions.csv"))
write_csv(patients, file.path(data_dir, "patients.csv"))
sessions <- read.csv(file.path(data_dir, "sessions.csv"))   # exactly what spiral reads
patients <- read.csv(file.path(data_dir, "patients.csv"))

# ------------------------------------------------------------------ steps 1-3 (prep)
first <- 1; last <- 7
prep_study <- function(d) {
  z <- function(x) (x - mean(x, na.rm = TRUE)) / sd(x, na.rm = TRUE)
  d$P <- z(d$alliance); d$O <- z(d$symptoms)
  pmean <- function(x) ave(x, d$patient, FUN = function(v) if (all(is.na(v))) NA else mean(v, na.rm = TRUE))
  d$Pm <- pmean(d$P); d$Om <- pmean(d$O)
  d$Pw <- d$P - d$Pm; d$Ow <- d$O - d$Om
  key <- paste(d$patient, d$session)
  for (k in 1:2) {
    at <- match(paste(d$patient, d$session - k), key)
    d[[paste0("Pw_lag", k)]] <- d$Pw[at]
    d[[paste0("Ow_lag", k)]] <- d$Ow[at]
  }
  d
}
win <- sessions[sessions$session >= first & sessions$session <= last, ]
win$row <- seq_len(nrow(win))
prepared <- do.call(rbind, lapply(split(win, win$study), prep_study))
prepared <- prepared[order(prepared$row), ]
prepared$row <- NULL
write_csv(prepared[, c("study", "patient", "session", "P", "O", "Pm", "Om", "Pw", "Ow",
                       "Pw_lag1", "Ow_lag1", "Pw_lag2", "Ow_lag2")], file.path(out_dir, "prepared.csv"))

# ------------------------------------------------------------------ stage 1
f1 <- "O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)"
f2 <- "P ~ Ow_lag1 + Pw_lag1 + Pm + Om + session + (1 + Ow_lag1 | patient)"
models <- list(
  process_to_outcome = f1,
  outcome_to_process = f2,
  process_to_outcome_cross = "O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient) + Pw_lag1:Pm + Pw_lag1:Om",
  outcome_to_process_cross = "P ~ Ow_lag1 + Pw_lag1 + Pm + Om + session + (1 + Ow_lag1 | patient) + Ow_lag1:Pm + Ow_lag1:Om",
  process_to_outcome_lag2 = gsub("_lag1", "_lag2", f1),
  outcome_to_process_lag2 = gsub("_lag1", "_lag2", f2),
  severity = "O ~ Pw_lag1 * baseline + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)",
  feedback = "O ~ Pw_lag1 * feedback + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)",
  therapist_level = "O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 | patient) + (1 | therapist)")
model_order <- c(names(models)[1:6], "early_process_to_post", names(models)[7:9])

fit_post <- function(d_win, pat) {
  early <- d_win[d_win$session >= 1 & d_win$session <= 3, ]
  m <- tapply(early$alliance, early$patient, function(v) if (all(is.na(v))) NA else mean(v, na.rm = TRUE))
  pat$early_process <- as.numeric(m[as.character(pat$patient)])
  # Specification section 5.1: each variable standardized over the patients the regression uses.
  pat <- pat[complete.cases(pat[, c("early_process", "pre_symptoms", "post_symptoms")]), ]
  z <- function(x) (x - mean(x)) / sd(x)
  pat$early_process <- z(pat$early_process); pat$pre <- z(pat$pre_symptoms); pat$post <- z(pat$post_symptoms)
  fit <- lm(post ~ early_process + pre, data = pat)
  co <- summary(fit)$coefficients[-1, ]  # the intercept is 0 by construction: not a stage-1 term
  data.frame(term = rownames(co), estimate = co[, 1], std_error = co[, 2], n_obs = nobs(fit))
}

stage1 <- list()
for (s in studies$study) {
  d <- prepared[prepared$study == s, ]
  for (name in model_order) {
    if (name == "early_process_to_post") {
      r <- fit_post(win[win$study == s, ], patients[patients$study == s, ])
      stage1[[length(stage1) + 1]] <- data.frame(study = s, model = name, r, converged = TRUE)
      next
    }
    r <- tryCatch({
      fit <- lmer(as.formula(models[[name]]), data = d, REML = TRUE)
      if (isSingular(fit) || length(fit@optinfo$conv$lme4$messages) > 0)
        message(s, " ", name, ": singular ", isSingular(fit), " ", paste(fit@optinfo$conv$lme4$messages, collapse = "; "))
      data.frame(term = names(fixef(fit)), estimate = unname(fixef(fit)),
                 std_error = unname(sqrt(diag(as.matrix(vcov(fit))))), n_obs = nobs(fit), converged = TRUE)
    }, error = function(e) data.frame(term = NA, estimate = NA, std_error = NA, n_obs = 0, converged = FALSE))
    stage1[[length(stage1) + 1]] <- data.frame(study = s, model = name, r)
  }
}
stage1 <- do.call(rbind, stage1)
rownames(stage1) <- NULL
write_csv(stage1, file.path(out_dir, "stage1.csv"))

# ------------------------------------------------------------------ stage 2
pooled <- list()
for (name in model_order) {
  s1 <- stage1[stage1$model == name & stage1$converged, ]
  for (term in unique(s1$term)) {
    t1 <- s1[s1$term == term, ]
    fit <- rma(yi = t1$estimate, vi = t1$std_error^2, method = "REML", test = "knha")
    pr <- predict(fit)
    mods <- studies$year[match(t1$study, studies$study)]
    reg <- rma(yi = t1$estimate, vi = t1$std_error^2, mods = ~ mods, method = "REML", test = "knha")
    pooled[[length(pooled) + 1]] <- data.frame(
      model = name, term = term, k = fit$k, estimate = as.numeric(fit$b), std_error = fit$se,
      statistic = fit$zval, p_value = fit$pval, conf_low = fit$ci.lb, conf_high = fit$ci.ub,
      pi_low = pr$pi.lb, pi_high = pr$pi.ub, tau2 = fit$tau2, I2 = fit$I2, Q = fit$QE, Q_p = fit$QEp,
      year_estimate = reg$b[2], year_std_error = reg$se[2], QM = reg$QM)
  }
}
pooled <- do.call(rbind, pooled)
write_csv(pooled, file.path(out_dir, "stage2.csv"))
cat("wrote", nrow(prepared), "prepared rows,", nrow(stage1), "stage-1 rows,", nrow(pooled), "pooled terms\n")
