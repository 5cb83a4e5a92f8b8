# Reference values for the R package's generics (bindings/r/tests/testthat/test-generics.R):
# what lme4 / lmerTest / broom.mixed / metafor return for the same fits.
# Run from the repository root:  Rscript tests/reference/rpkg.R
# Writes tests/reference/rpkg/*.json and the data sets the tests fit (*.csv), so that the
# tests need neither R's packages nor this checkout (the source package carries them).
suppressPackageStartupMessages({
  library(lmerTest)   # lmer() with Satterthwaite df in summary()
  library(metafor)
  library(broom.mixed)
  library(jsonlite)
})
ref_dir <- "tests/reference/rpkg"
dir.create(ref_dir, showWarnings = FALSE, recursive = TRUE)
write_ref <- function(x, name) write_json(x, file.path(ref_dir, name), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
write_data <- function(d, name) {
  path <- file.path(ref_dir, name)
  write.csv(d, path, row.names = FALSE)
  read.csv(path, stringsAsFactors = TRUE)
}

# The intervals lmerTest's summary() table implies: Wald with Satterthwaite's df.
satterthwaite_ci <- function(fit, level) {
  co <- summary(fit)$coefficients
  q <- qt((1 + level) / 2, co[, "df"])
  list(term = rownames(co), low = unname(co[, "Estimate"] - q * co[, "Std. Error"]),
       high = unname(co[, "Estimate"] + q * co[, "Std. Error"]))
}

# ranef(fit, condVar = TRUE) per grouping factor: the modes by term, and their conditional SDs.
ranef_list <- function(fit) {
  re <- ranef(fit, condVar = TRUE)
  lapply(re, function(frame) {
    post <- attr(frame, "postVar")
    list(levels = rownames(frame), terms = names(frame),
         estimate = lapply(names(frame), function(t) frame[[t]]),
         condsd = lapply(seq_along(frame), function(j) sqrt(post[j, j, ])))
  })
}

# Every lme4 generic the package answers, for one REML fit.
generics_of <- function(fit) {
  ll <- logLik(fit)
  tidy_rp <- as.data.frame(broom.mixed::tidy(fit, effects = "ran_pars"))
  list(fixef = as.list(fixef(fit)), logLik = as.numeric(ll), df = attr(ll, "df"), AIC = AIC(fit), BIC = BIC(fit),
       nobs = nobs(fit), sigma = sigma(fit), REMLcrit = REMLcrit(fit), isSingular = isSingular(fit),
       theta = unname(getME(fit, "theta")), lower = unname(getME(fit, "lower")),
       confint95 = satterthwaite_ci(fit, 0.95), confint90 = satterthwaite_ci(fit, 0.90),
       ranef = ranef_list(fit),
       coef = lapply(coef(fit), function(frame) list(levels = rownames(frame), terms = names(frame),
                                                      values = lapply(names(frame), function(t) frame[[t]]))),
       varcorr = as.list(as.data.frame(VarCorr(fit))),
       tidy_ran_pars = list(group = tidy_rp$group, term = tidy_rp$term, estimate = tidy_rp$estimate),
       tidy_fixed_names = names(broom.mixed::tidy(fit, effects = "fixed", conf.int = TRUE)))
}

sleep <- write_data(sleepstudy, "sleepstudy.csv")
m1 <- lmer(Reaction ~ Days + (Days | Subject), sleep)
m0 <- lmer(Reaction ~ Days + (1 | Subject), sleep)
write_ref(generics_of(m1), "sleepstudy.json")
a <- suppressMessages(anova(m0, m1))  # refits with ML, as spiral's compare
write_ref(list(chisq = a$Chisq[2], df = a$Df[2], p_value = a$`Pr(>Chisq)`[2], logLik = a$logLik), "sleepstudy_anova.json")

# fitted(), residuals(), predict() on the model's rows and on new data (re.form NULL / NA, a
# subject the fit never saw: allow.new.levels = TRUE), anova(m1) (lmerTest type III) and the
# sequential LRTs of anova(m00, m0, m1) (ML refits).
m00 <- lmer(Reaction ~ 1 + (1 | Subject), sleep)
new_rows <- data.frame(Days = c(0, 4.5, 9), Subject = c(308L, 372L, 999L))   # Subject is read as a number
type3 <- anova(m1)
seq_lrt <- suppressMessages(anova(m00, m0, m1))
write_ref(list(fitted = unname(fitted(m1)), residuals = unname(residuals(m1)),
               predict_fixed = unname(predict(m1, re.form = NA)),
               newdata = list(Days = new_rows$Days, Subject = new_rows$Subject),
               predict_new_full = unname(predict(m1, newdata = new_rows, allow.new.levels = TRUE)),
               predict_new_population = unname(predict(m1, newdata = new_rows, re.form = NA)),
               anova = list(term = rownames(type3), num_df = type3$NumDF, den_df = type3$DenDF, F = type3$`F value`,
                            p_value = type3$`Pr(>F)`),
               lrt = list(chisq = seq_lrt$Chisq[-1], df = seq_lrt$Df[-1], p_value = seq_lrt$`Pr(>Chisq)`[-1])),
          "sleepstudy_predict.json")

ortho <- write_data(as.data.frame(nlme::Orthodont), "orthodont.csv")
ortho$Subject <- factor(ortho$Subject, levels = unique(ortho$Subject))
m2 <- lmer(distance ~ age + Sex + (age | Subject), ortho)
write_ref(generics_of(m2), "orthodont.json")

# A 5-arm feedback trial: the arm is a factor (4 contrasts), as haven::as_factor makes a
# labelled SPSS column; the test gives spiral the arm as a haven_labelled column.
set.seed(25)
arms <- c("control", "feedback weekly", "feedback monthly", "alert", "alert + tools")
trial <- data.frame(therapist = rep(sprintf("T%02d", 1:20), each = 15), arm_code = rep(1:5, times = 60))
effect <- c(0, -1.5, -0.8, -1.1, -2.0)
trial$outcome <- round(20 + effect[trial$arm_code] + rep(rnorm(20, 0, 1.5), each = 15) + rnorm(300, 0, 3), 4)
trial <- write_data(trial, "five_arm.csv")
trial$arm <- factor(trial$arm_code, levels = 1:5, labels = arms)
m3 <- lmer(outcome ~ arm + (1 | therapist), trial)
write_ref(list(labels = arms, terms = names(fixef(m3)), fixef = unname(fixef(m3)), confint95 = satterthwaite_ci(m3, 0.95)),
          "five_arm.json")

# metafor's BCG data (dat.bcg), log risk ratios, a Knapp-Hartung meta-regression on
# absolute latitude and the intercept-only REML model with its Q-profile tau^2 interval.
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg <- write_data(data.frame(trial = bcg$trial, yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), ablat = bcg$ablat), "bcg.csv")
knha <- rma(yi, vi, mods = ~ ablat, data = bcg, test = "knha")
ci_knha <- confint(knha, fixed = TRUE)
plain <- rma(yi, vi, data = bcg)
ci_plain <- confint(plain)
# fitted(), residuals(), predict() (per study with moderators, one row without), logLik(), AIC(), BIC().
per_study <- function(fit) {
  pr <- as.data.frame(predict(fit))
  list(fitted = unname(fitted(fit)), residuals = unname(residuals(fit)),
       predict = lapply(pr[, c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub")], unname),
       logLik = as.numeric(logLik(fit)), logLik_df = attr(logLik(fit), "df"), AIC = AIC(fit), BIC = BIC(fit))
}
write_ref(list(knha = c(list(coef = unname(coef(knha)), ci_lb = unname(knha$ci.lb), ci_ub = unname(knha$ci.ub),
                             tau2 = unname(ci_knha$random["tau^2", ]), nobs = nobs(knha)), per_study(knha)),
               plain = c(list(coef = unname(coef(plain)), ci_lb = plain$ci.lb, ci_ub = plain$ci.ub,
                              tau2 = unname(ci_plain$random["tau^2", ]), tau = unname(ci_plain$random["tau", ])),
                         per_study(plain)),
               # anova(): the moderator test of one fit (F under Knapp-Hartung), the LRT of two ML fits
               # leave1out() and influence()$inf of the fit without moderators
               leave1out = local({
                 l <- as.data.frame(leave1out(plain))
                 list(estimate = l$estimate, se = l$se, pval = l$pval, tau2 = l$tau2, Q = l$Q)
               }),
               influence = local({
                 inf <- influence(plain)$inf
                 list(rstudent = inf$rstudent, cook.d = inf$cook.d, hat = inf$hat, tau2.del = inf$tau2.del,
                      inf = inf$inf == "*")
               }),
               anova_knha = list(QM = anova(knha)$QM, QMdf = anova(knha)$QMdf, QMp = anova(knha)$QMp),
               anova_ml = local({
                 a <- anova(rma(yi, vi, mods = ~ ablat, data = bcg, method = "ML"), rma(yi, vi, data = bcg, method = "ML"))
                 list(LRT = a$LRT, pval = a$pval, df = unname(c(a$parms.f, a$parms.r)),
                      logLik = unname(c(a$fit.stats.f["ll"], a$fit.stats.r["ll"])), QE = c(a$QE.f, a$QE.r),
                      tau2 = c(a$tau2.f, a$tau2.r))
               })),
          "bcg.json")

# confint(m1, method = "profile"): lme4's profile intervals of the SDs, the correlation,
# sigma and the fixed effects, with lme4's row names (oldNames = TRUE and FALSE), at 95% and 90%.
profile_ci <- function(fit, level, old_names) {
  ci <- suppressMessages(confint(fit, method = "profile", level = level, oldNames = old_names))
  list(names = rownames(ci), low = unname(ci[, 1]), high = unname(ci[, 2]))
}
m_split <- lmer(Reaction ~ Days + (1 | Subject) + (0 + Days | Subject), sleep)
write_ref(list(correlated = list(formula = "Reaction ~ Days + (Days | Subject)", level95 = profile_ci(m1, 0.95, TRUE),
                                 level90_new_names = profile_ci(m1, 0.90, FALSE)),
               uncorrelated = list(formula = "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
                                   level95_new_names = profile_ci(m_split, 0.95, FALSE))),
          "sleepstudy_profile.json")
