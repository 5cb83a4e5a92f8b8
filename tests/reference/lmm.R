# Reference values for tests/lmm: lme4 / lmerTest / nlme fits written as JSON.
# Run from the repository root:  Rscript tests/reference/lmm.R
# Writes the data sets to tests/data/lmm/*.csv (the tests read them through spiral's reader)
# and the values to tests/reference/lmm/*.json.
suppressPackageStartupMessages({
  library(lmerTest)   # lmer() with Satterthwaite df in summary()
  library(nlme)
  library(jsonlite)
})
data_dir <- "tests/data/lmm"
ref_dir <- "tests/reference/lmm"
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
dir.create(ref_dir, showWarnings = FALSE, recursive = TRUE)

# Writes a data set and reads it back, so that R fits exactly the numbers spiral reads.
write_data <- function(d, name) {
  path <- file.path(data_dir, name)
  write.csv(d, path, row.names = FALSE, quote = TRUE)
  read.csv(path, stringsAsFactors = TRUE)
}
write_ref <- function(x, name) write_json(x, file.path(ref_dir, name), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")

# Everything spiral's `lmm --format json` reports, from an lmerTest fit.
describe_fit <- function(fit, formula, df = c("satterthwaite", "residual", "none")) {
  df <- match.arg(df)
  co <- summary(fit)$coefficients
  est <- setNames(co[, "Estimate"], rownames(co)); se <- co[, "Std. Error"]
  dfs <- switch(df, satterthwaite = co[, "df"], residual = rep(nobs(fit) - length(est), length(est)),
                none = rep(NA_real_, length(est)))
  q <- if (df == "none") rep(qnorm(0.975), length(est)) else qt(0.975, dfs)
  p <- if (df == "none") 2 * pnorm(-abs(est / se)) else 2 * pt(-abs(est / se), dfs)
  vc <- VarCorr(fit)
  random <- lapply(names(vc), function(g) {
    m <- vc[[g]]
    list(group = sub("\\.[0-9]+$", "", g), terms = I(colnames(m)), sd = I(unname(attr(m, "stddev"))),
         cor = unname(if (ncol(m) > 1) attr(m, "correlation") else matrix(1, 1, 1)))
  })
  ll <- logLik(fit)
  list(formula = formula, method = if (isREML(fit)) "REML" else "ML", n_obs = nobs(fit),
       singular = isSingular(fit),
       criterion = if (isREML(fit)) unname(fit@devcomp$cmp["REML"]) else unname(deviance(fit)),
       logLik = as.numeric(ll), AIC = AIC(fit), BIC = BIC(fit), df_model = attr(ll, "df"),
       sigma = sigma(fit), theta = I(unname(getME(fit, "theta"))),
       groups = lapply(names(getME(fit, "flist")), function(g)
         list(name = g, levels = nlevels(getME(fit, "flist")[[g]]))),
       fixed = lapply(seq_along(est), function(i)
         list(term = names(est)[i], estimate = unname(est[i]), std_error = unname(se[i]),
              df = unname(dfs[i]), statistic = unname(est[i] / se[i]), p_value = unname(p[i]),
              conf_low = unname(est[i] - q[i] * se[i]), conf_high = unname(est[i] + q[i] * se[i]))),
       random = random)
}

fit_and_write <- function(formula, data, name, REML = TRUE, df = "satterthwaite", control = lmerControl()) {
  fit <- lmer(as.formula(formula), data = data, REML = REML, control = control)
  write_ref(describe_fit(fit, formula, df), name)
  invisible(fit)
}

# sleepstudy: correlated and uncorrelated random slopes, REML and ML.
data(sleepstudy, package = "lme4")
sleepstudy <- write_data(sleepstudy, "sleepstudy.csv")
fm1 <- fit_and_write("Reaction ~ Days + (Days | Subject)", sleepstudy, "sleepstudy_reml.json")
fit_and_write("Reaction ~ Days + (Days | Subject)", sleepstudy, "sleepstudy_ml.json", REML = FALSE)
fit_and_write("Reaction ~ Days + (Days || Subject)", sleepstudy, "sleepstudy_uncorrelated_reml.json")
fit_and_write("Reaction ~ Days + (Days || Subject)", sleepstudy, "sleepstudy_uncorrelated_ml.json", REML = FALSE)
fit_and_write("Reaction ~ Days + (Days | Subject)", sleepstudy, "sleepstudy_residual_df.json", df = "residual")
fit_and_write("Reaction ~ Days + (Days | Subject)", sleepstudy, "sleepstudy_no_df.json", df = "none")

# ranef(condVar = TRUE) of fm1, as a long table.
re <- as.data.frame(ranef(fm1, condVar = TRUE))
write_ref(data.frame(group = as.character(re$grpvar), level = as.character(re$grp), term = as.character(re$term),
                     estimate = re$condval, std_error = re$condsd), "sleepstudy_ranef.json")

# Likelihood-ratio test: anova() refits both models with ML.
fm0 <- lmer(Reaction ~ Days + (1 | Subject), sleepstudy)
a <- anova(fm0, lmer(Reaction ~ Days + (Days | Subject), sleepstudy))
write_ref(list(formulas = c("Reaction ~ Days + (1 | Subject)", "Reaction ~ Days + (Days | Subject)"),
               df_model = a$npar, AIC = a$AIC, BIC = a$BIC, logLik = a$logLik, deviance = a$deviance,
               chisq = a$Chisq[2], chisq_df = a$Df[2], p_value = a[["Pr(>Chisq)"]][2]), "sleepstudy_compare.json")

# Factor x numeric interaction with random slopes (simulated).
set.seed(20240501)
n_pat <- 30; n_ses <- 6
inter <- expand.grid(session = 1:n_ses, patient = sprintf("p%02d", 1:n_pat))
inter$group <- ifelse(as.integer(factor(inter$patient)) %% 2 == 0, "treat", "control")
u0 <- rnorm(n_pat, 0, 1.0); u1 <- rnorm(n_pat, 0, 0.3)
pid <- as.integer(factor(inter$patient))
inter$y <- 10 + 0.5 * (inter$group == "treat") - 0.4 * inter$session - 0.3 * (inter$group == "treat") * inter$session +
  u0[pid] + u1[pid] * inter$session + rnorm(nrow(inter), 0, 1)
inter <- inter[, c("patient", "group", "session", "y")]
inter <- write_data(inter, "interaction.csv")
fit_and_write("y ~ group * session + (session | patient)", inter, "interaction_reml.json")

# Crossed random effects: Penicillin.
data(Penicillin, package = "lme4")
Penicillin <- write_data(Penicillin, "penicillin.csv")
fit_and_write("diameter ~ 1 + (1 | plate) + (1 | sample)", Penicillin, "penicillin_reml.json")
fit_and_write("diameter ~ 1 + (1 | plate) + (1 | sample)", Penicillin, "penicillin_ml.json", REML = FALSE)

# Nested random effects: Pastes.
data(Pastes, package = "lme4")
Pastes <- write_data(Pastes[, c("strength", "batch", "cask")], "pastes.csv")
fit_and_write("strength ~ 1 + (1 | batch/cask)", Pastes, "pastes_reml.json")

# Three levels: sessions in patients in therapists, with a 5-level factor (simulated).
set.seed(20240502)
n_ther <- 8; per_ther <- 5; n_ses <- 6
three <- expand.grid(session = 1:n_ses, patient = 1:(n_ther * per_ther))
three$therapist <- sprintf("t%d", (three$patient - 1) %/% per_ther + 1)
three$patient <- sprintf("p%02d", three$patient)
three$phase <- factor(sample(c("a", "b", "c", "d", "e"), nrow(three), replace = TRUE))
t_eff <- rnorm(n_ther, 0, 0.7); p_eff <- rnorm(n_ther * per_ther, 0, 1); p_slope <- rnorm(n_ther * per_ther, 0, 0.2)
tid <- as.integer(factor(three$therapist)); pid <- as.integer(factor(three$patient))
three$y <- 5 + c(a = 0, b = 0.3, c = -0.2, d = 0.5, e = 0.1)[as.character(three$phase)] - 0.2 * three$session +
  t_eff[tid] + p_eff[pid] + p_slope[pid] * three$session + rnorm(nrow(three), 0, 0.8)
three <- three[, c("therapist", "patient", "session", "phase", "y")]
three <- write_data(three, "three_level.csv")
fm3 <- fit_and_write("y ~ phase + session + (1 + session | patient) + (1 | therapist)", three, "three_level_reml.json")
# Its ranef(condVar = TRUE): the patients' modes and variances depend on their coupling to
# their therapist's effect.
re3 <- as.data.frame(ranef(fm3, condVar = TRUE))
write_ref(data.frame(group = as.character(re3$grpvar), level = as.character(re3$grp), term = as.character(re3$term),
                     estimate = re3$condval, std_error = re3$condsd), "three_level_ranef.json")

# A singular fit: no between-group variance in the generating model.
set.seed(20240503)
sing <- data.frame(g = rep(sprintf("g%d", 1:6), each = 5), x = rnorm(30))
sing$y <- 1 + 0.5 * sing$x + rnorm(30)
fit <- lmer(y ~ x + (1 | g), sing)
if (!isSingular(fit)) { # make it singular for sure: remove the group means of the noise
  sing$y <- sing$y - ave(sing$y - 0.5 * sing$x, sing$g) + mean(sing$y - 0.5 * sing$x)
}
sing <- write_data(sing, "singular.csv")
sfit <- fit_and_write("y ~ x + (1 | g)", sing, "singular_reml.json")
stopifnot(isSingular(sfit))

# Rank-deficient fixed effects: x2 = 2 * Days is aliased and dropped.
rank <- sleepstudy; rank$Days2 <- 2 * rank$Days
rank <- write_data(rank, "rank_deficient.csv")
fit_and_write("Reaction ~ Days + Days2 + (1 | Subject)", rank, "rank_deficient_reml.json")

# AR(1) residuals within patient with gaps in the session numbers, against nlme corCAR1.
set.seed(20240504)
n_pat <- 40; n_ses <- 8; phi <- 0.5
ar <- do.call(rbind, lapply(1:n_pat, function(i) {
  e <- numeric(n_ses); e[1] <- rnorm(1)
  for (t in 2:n_ses) e[t] <- phi * e[t - 1] + sqrt(1 - phi^2) * rnorm(1)
  d <- data.frame(patient = sprintf("p%02d", i), session = 1:n_ses, x = rnorm(n_ses))
  d$y <- 2 + 0.3 * d$x - 0.1 * d$session + rnorm(1, 0, 0.8) + e
  d[sort(sample(n_ses, sample(5:n_ses, 1))), ]   # gaps: sessions missing at random
}))
ar <- write_data(ar, "ar1_gaps.csv")
ar_ref <- function(method, name) {
  fit <- lme(y ~ x + session, random = ~ 1 | patient, data = ar, method = method,
             correlation = corCAR1(form = ~ session | patient))
  tt <- summary(fit)$tTable
  # nlme's ML standard errors use sigma^2 N / (N - p); lme4's (and spiral's) use the ML
  # sigma^2: se_scale = sqrt((N - p) / N) converts (1 for REML).
  se_scale <- if (method == "ML") sqrt((nrow(ar) - nrow(tt)) / nrow(ar)) else 1
  write_ref(list(method = method, se_scale = se_scale, logLik = as.numeric(logLik(fit)), sigma = fit$sigma,
                 phi = unname(coef(fit$modelStruct$corStruct, unconstrained = FALSE)),
                 sd_intercept = sqrt(as.numeric(getVarCov(fit))),
                 estimate = unname(tt[, "Value"]), std_error = unname(tt[, "Std.Error"]),
                 terms = rownames(tt)), name)
}
ar_ref("REML", "ar1_reml.json")
ar_ref("ML", "ar1_ml.json")

# The IPD stage-1 model shape (specification section 5) on simulated person-mean-centred data;
# the lagged columns are missing at session 1, so those rows are dropped.
set.seed(20240505)
n_pat <- 100; n_ses <- 7
ipd <- expand.grid(session = 1:n_ses, patient = sprintf("p%03d", 1:n_pat))
pid <- as.integer(factor(ipd$patient))
P <- rnorm(n_pat)[pid] + rnorm(nrow(ipd)); O <- rnorm(n_pat)[pid] + rnorm(nrow(ipd))
ipd$Pm <- ave(P, pid); ipd$Om <- ave(O, pid)
lag1 <- function(v) ave(v, pid, FUN = function(z) c(NA, head(z, -1)))
ipd$Pw_lag1 <- lag1(P - ipd$Pm); ipd$Ow_lag1 <- lag1(O - ipd$Om)
ipd$O <- O - 0.1 * ifelse(is.na(ipd$Pw_lag1), 0, ipd$Pw_lag1) * (1 + rnorm(n_pat, 0, 0.3)[pid])
ipd <- ipd[, c("patient", "session", "O", "Pm", "Om", "Pw_lag1", "Ow_lag1")]
ipd <- write_data(ipd, "ipd_shape.csv")
fit_and_write("O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)", ipd, "ipd_shape_reml.json")

# Crossed factors large enough for the threaded paths (simulated, InstEval-like): each of
# 1,000 students rates 20 of 800 lecturers in 12 departments. On two or more cores the
# 812-column rest block is factored by two threads and the students' coupling with it
# (about 210,000 entries per evaluation) is shared between two threads.
set.seed(20261124)
n_s <- 1000; n_d <- 800; per <- 20
crossed <- data.frame(s = rep(sprintf("s%04d", 1:n_s), each = per),
                      d = as.vector(replicate(n_s, sample(n_d, per))))
dept_of <- sample(12, n_d, replace = TRUE)
crossed$dept <- sprintf("dept%02d", dept_of[crossed$d])
crossed$y <- round(3 + rnorm(n_s, 0, 0.3)[as.integer(factor(crossed$s))] + rnorm(n_d, 0, 0.45)[crossed$d] +
                   rnorm(12, 0, 0.1)[dept_of[crossed$d]] + rnorm(nrow(crossed), 0, 1.2), 3)
crossed$d <- sprintf("d%03d", crossed$d)
crossed <- write_data(crossed[, c("s", "d", "dept", "y")], "crossed_large.csv")
fit_and_write("y ~ 1 + (1 | s) + (1 | d) + (1 | dept)", crossed, "crossed_large_reml.json")

# Three random effects per patient (intercept, session, x): the deviance's path that takes
# one group at a time (k >= 3), alone and with the patients nested in therapists whose
# order interleaves theirs (simulated).
set.seed(20261128)
n_ther <- 10; per_ther <- 8; n_ses <- 7
k3 <- expand.grid(session = 1:n_ses, patient = 1:(n_ther * per_ther))
k3$therapist <- sprintf("t%02d", (k3$patient - 1) %% n_ther + 1)
k3$patient <- sprintf("p%03d", k3$patient)
k3$x <- round(rnorm(nrow(k3)), 4)
pid <- as.integer(factor(k3$patient)); tid <- as.integer(factor(k3$therapist))
b <- cbind(rnorm(80, 0, 1), rnorm(80, 0, 0.25), rnorm(80, 0, 0.4))
k3$y <- round(2 + 0.5 * k3$x - 0.15 * k3$session + b[pid, 1] + b[pid, 2] * k3$session + b[pid, 3] * k3$x +
              rnorm(n_ther, 0, 0.5)[tid] + rnorm(nrow(k3), 0, 0.7), 4)
k3 <- write_data(k3[, c("therapist", "patient", "session", "x", "y")], "three_effects.csv")
# Their criterion is flat: lme4's default stop (ftol_abs = 1e-8) leaves theta up to 1e-4 off
# the optimum that spiral's Newton polish reaches, so the reference is lme4 run to the optimum.
tight <- lmerControl(optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12))
fit_and_write("y ~ x + session + (1 + session + x | patient)", k3, "three_effects_reml.json", control = tight)
fit_and_write("y ~ x + session + (1 + session + x | patient) + (1 | therapist)", k3, "three_effects_nested_reml.json",
              control = tight)

# Patients nested in therapists whose variance estimate is 0 (no therapist effect generated,
# the therapists' means of the random parts removed): at the optimum, and wherever BOBYQA tries the
# boundary, the rest term's Lambda is 0 and the deviance skips the coupling (simulated).
set.seed(20261125)
n_ther <- 6; per_ther <- 6; n_ses <- 7
z <- expand.grid(session = 1:n_ses, patient = 1:(n_ther * per_ther))
z$therapist <- sprintf("t%d", (z$patient - 1) %/% per_ther + 1)
z$patient <- sprintf("p%02d", z$patient)
z$x <- round(rnorm(nrow(z)), 4)
pid <- as.integer(factor(z$patient))
random <- rnorm(n_ther * per_ther, 0, 0.6)[pid] + rnorm(n_ther * per_ther, 0, 0.3)[pid] * z$x + rnorm(nrow(z), 0, 0.8)
z$y <- round(1 + 0.4 * z$x + random - ave(random, z$therapist), 4)
z <- write_data(z[, c("therapist", "patient", "session", "x", "y")], "zero_therapist.csv")
zfit <- fit_and_write("y ~ x + (1 + x | patient) + (1 | therapist)", z, "zero_therapist_reml.json")
stopifnot(getME(zfit, "theta")[["therapist.(Intercept)"]] == 0)
rez <- as.data.frame(ranef(zfit, condVar = TRUE))
write_ref(data.frame(group = as.character(rez$grpvar), level = as.character(rez$grp), term = as.character(rez$term),
                     estimate = rez$condval, std_error = rez$condsd), "zero_therapist_ranef.json")

# A nearly singular fit of the power analysis (`spiral power --spec examples/analysis.toml`,
# replication 1, study S10, outcome_to_process, as `spiral prep` makes it; its complete rows). The
# data were written by spiral, not by this script, and are read as they are: BOBYQA once stopped
# there with the therapist theta at 1.1e-4 and a failed gradient test, where lme4 ends on the bound.
ns <- read.csv(file.path(data_dir, "near_singular_therapist.csv"), stringsAsFactors = TRUE)
nsfit <- fit_and_write("P ~ Ow_lag1 + Pw_lag1 + Pm + Om + session + (1 + Ow_lag1 | patient) + (1 | therapist)", ns,
                       "near_singular_therapist_reml.json")
stopifnot(isSingular(nsfit))

cat("wrote", length(list.files(ref_dir)), "reference files\n")

# An ordered factor is coded by polynomial contrasts (contr.poly: block.L, .Q, .C, ^4). The
# test builds the same column from sleepstudy.csv (Days %/% 2, levels "0".."4", ordered).
ordered_sleep <- sleepstudy
ordered_sleep$block <- ordered(ordered_sleep$Days %/% 2)
fit_and_write("Reaction ~ block + (1 | Subject)", ordered_sleep, "ordered_block.json")

# AR(1) with phi in (-1, 1), against nlme corAR1 (issue 24). Orthodont over occasions
# 0..3 ((age - 8) / 2): nlme's phi is negative. BodyWeight weight ~ Time * Diet, a random
# intercept per rat, AR(1) over days (lags 7 and one of 1): phi near 1. From nlme's default
# start (phi = 0) lme stops at phi = 0.998, logLik -576.04, a local optimum; from phi = 0.9 it
# reaches phi = 0.974, logLik -575.48, the optimum spiral finds. Diet is written as text
# (d1, d2, d3) so that the CSV reads it as a factor.
data(Orthodont, package = "nlme"); data(BodyWeight, package = "nlme")
orth <- data.frame(Subject = as.character(Orthodont$Subject), Sex = as.character(Orthodont$Sex),
                   age = Orthodont$age, occasion = (Orthodont$age - 8) / 2, distance = Orthodont$distance)
orth <- write_data(orth, "orthodont.csv")
bw <- data.frame(Rat = paste0("r", as.character(BodyWeight$Rat)), Diet = paste0("d", BodyWeight$Diet),
                 Time = BodyWeight$Time, weight = BodyWeight$weight)
bw <- write_data(bw, "bodyweight.csv")
nlme_ar1_ref <- function(fixed, random, form, data, method, name, start = 0) {
  fit <- lme(fixed, random = random, data = data, method = method, correlation = corAR1(start, form = form))
  tt <- summary(fit)$tTable
  se_scale <- if (method == "ML") sqrt((nrow(data) - nrow(tt)) / nrow(data)) else 1
  write_ref(list(call = paste(deparse(fit$call), collapse = " "), method = method, se_scale = se_scale,
                 logLik = as.numeric(logLik(fit)), sigma = fit$sigma,
                 phi = unname(coef(fit$modelStruct$corStruct, unconstrained = FALSE)),
                 estimate = unname(tt[, "Value"]), std_error = unname(tt[, "Std.Error"]),
                 terms = rownames(tt)), name)
}
nlme_ar1_ref(distance ~ age * Sex, ~ age | Subject, ~ occasion | Subject, orth, "REML", "ar1_orthodont_reml.json")
nlme_ar1_ref(weight ~ Time * Diet, ~ 1 | Rat, ~ Time | Rat, bw, "REML", "ar1_bodyweight_reml.json", start = 0.9)

# Satterthwaite df of lmerTest's summary() with lme4's theta, so that spiral's df can be
# computed at the same theta (issue 24: to 1e-6 relative).
satterthwaite_ref <- function(formula, data, name) {
  fit <- lmer(as.formula(formula), data = data)
  co <- summary(fit)$coefficients
  write_ref(list(formula = formula, theta = I(unname(getME(fit, "theta"))), terms = rownames(co),
                 df = unname(co[, "df"])), name)
}
mach <- data.frame(Worker = paste0("w", as.character(Machines$Worker)), Machine = as.character(Machines$Machine),
                   score = Machines$score)
mach <- write_data(mach, "machines.csv")
satterthwaite_ref("distance ~ age * Sex + (age | Subject)", orth, "satterthwaite_orthodont.json")
satterthwaite_ref("score ~ Machine + (1 | Worker) + (1 | Worker:Machine)", mach, "satterthwaite_machines.json")
satterthwaite_ref("Reaction ~ Days + (Days | Subject)", read.csv(file.path(data_dir, "sleepstudy.csv"), stringsAsFactors = TRUE),
                  "satterthwaite_sleepstudy.json")
