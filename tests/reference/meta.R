# Reference values for tests/meta: metafor's rma.uni, confint, predict, escalc, leave1out,
# influence, regtest and trimfill on classic data sets (metadat: dat.bcg, dat.normand1999,
# dat.molloy2014). Writes the data sets to tests/data/meta/*.csv and the values to
# tests/reference/meta/*.json.  Run from the repository root:  Rscript tests/reference/meta.R
suppressMessages({
  library(metafor)
  library(jsonlite)
})
cat("metafor", as.character(packageVersion("metafor")), "\n")

dir.create("tests/data/meta", recursive = TRUE, showWarnings = FALSE)
dir.create("tests/reference/meta", recursive = TRUE, showWarnings = FALSE)
write_ref <- function(x, name) {
  writeLines(toJSON(x, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE),
             file.path("tests/reference/meta", name))
}

# ---- data sets --------------------------------------------------------------------------
bcg <- dat.bcg
bcg$study <- paste0(bcg$author, " ", bcg$year)
bcg_rr <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
bcg$yi <- as.numeric(bcg_rr$yi)
bcg$vi <- as.numeric(bcg_rr$vi)
bcg$sei <- sqrt(bcg$vi)
# a study with a zero cell (for the 1/2 correction) and a row with a missing count
bcg_extra <- bcg[1:2, ]
bcg_extra$trial <- c(14, 15); bcg_extra$study <- c("Zero cell 2000", "Missing 2001")
bcg_extra$tpos <- c(0, NA); bcg_extra$tneg <- c(120, 100); bcg_extra$cpos <- c(5, 3); bcg_extra$cneg <- c(115, 90)
bcg_extra$yi <- NA; bcg_extra$vi <- NA; bcg_extra$sei <- NA
bcg2x2 <- rbind(bcg, bcg_extra)
write.csv(bcg[, c("trial", "study", "year", "tpos", "tneg", "cpos", "cneg", "ablat", "alloc", "yi", "vi", "sei")],
          "tests/data/meta/bcg.csv", row.names = FALSE, na = "")
write.csv(bcg2x2[, c("trial", "study", "tpos", "tneg", "cpos", "cneg")], "tests/data/meta/bcg_2x2.csv",
          row.names = FALSE, na = "")

normand <- dat.normand1999
write.csv(normand[, c("study", "source", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")],
          "tests/data/meta/normand1999.csv", row.names = FALSE, na = "")
molloy <- dat.molloy2014
molloy$study <- paste0(molloy$authors, " ", molloy$year)
write.csv(molloy[, c("study", "ni", "ri", "controls", "design", "a_measure", "meanage", "quality")],
          "tests/data/meta/molloy2014.csv", row.names = FALSE, na = "")

# ---- rma.uni: every estimator x both tests (bcg, log risk ratios) ------------------------
# Each entry: rma(yi, vi, data = bcg, method = M, test = T), confint(fit)$random["tau^2", ],
# predict(fit) for the PI.
fit_summary <- function(fit) {
  out <- list(k = fit$k, method = fit$method, test = fit$test,
              estimate = as.numeric(fit$beta[1]), std_error = fit$se[1], statistic = fit$zval[1],
              p_value = fit$pval[1], conf_low = fit$ci.lb[1], conf_high = fit$ci.ub[1],
              tau2 = fit$tau2, tau2_se = fit$se.tau2, tau = sqrt(fit$tau2), I2 = fit$I2, H2 = fit$H2,
              Q = fit$QE, Q_df = fit$k - fit$p, Q_p = fit$QEp,
              coefficients = data.frame(term = rownames(fit$beta), estimate = as.numeric(fit$beta),
                                        std_error = fit$se, statistic = fit$zval, p_value = fit$pval,
                                        conf_low = fit$ci.lb, conf_high = fit$ci.ub),
              weights = as.numeric(weights(fit)))
  if (fit$p == 1) {
    pr <- predict(fit)
    out$pi_low <- pr$pi.lb; out$pi_high <- pr$pi.ub
  } else {
    out$QM <- fit$QM; out$QM_df <- fit$QMdf[1]; out$QM_p <- fit$QMp
    out$R2 <- if (is.null(fit$R2)) NA else fit$R2
  }
  if (fit$method != "FE") {
    ci <- confint(fit)$random
    out$tau2_conf_low <- ci["tau^2", "ci.lb"]; out$tau2_conf_high <- ci["tau^2", "ci.ub"]
  }
  out
}

methods <- c("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
rma_all <- list()
for (m in methods) for (t in c("z", "knha")) {
  fit <- suppressWarnings(rma(yi, vi, data = bcg, method = m, test = t))
  rma_all[[paste0(m, "_", t)]] <- fit_summary(fit)
}
write_ref(rma_all, "rma_bcg.json")

# Level 90 and a homogeneous subset (tau² = 0 and a Q-profile CI of [0, x]).
level90 <- fit_summary(rma(yi, vi, data = bcg, method = "REML", test = "knha", level = 90))
homog <- fit_summary(rma(yi, vi, data = bcg, subset = c(5, 11, 13), method = "REML"))
write_ref(list(level90 = level90, homogeneous = homog), "rma_extra.json")

# ---- escalc ------------------------------------------------------------------------------
es <- list()
for (m in c("OR", "RR", "RD")) {
  e <- escalc(measure = m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg2x2)
  es[[m]] <- list(yi = as.numeric(e$yi), vi = as.numeric(e$vi))
}
for (m in c("SMD", "MD")) {
  e <- escalc(measure = m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = normand)
  es[[m]] <- list(yi = as.numeric(e$yi), vi = as.numeric(e$vi))
}
for (m in c("ZCOR", "COR")) {
  e <- escalc(measure = m, ri = ri, ni = ni, data = molloy)
  es[[m]] <- list(yi = as.numeric(e$yi), vi = as.numeric(e$vi))
}
write_ref(es, "escalc.json")

# Pooled results after escalc (as `spiral meta --measure ...`): rma(yi, vi, data = escalc(...)).
pooled <- list(
  SMD_REML = fit_summary(rma(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                             data = normand)),
  ZCOR_REML_knha = fit_summary(rma(measure = "ZCOR", ri = ri, ni = ni, data = molloy, test = "knha")),
  OR_DL = fit_summary(rma(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg2x2, method = "DL")))
write_ref(pooled, "escalc_pooled.json")

# ---- meta-regression ----------------------------------------------------------------------
mods <- list(
  ablat_REML_z = fit_summary(rma(yi, vi, mods = ~ ablat, data = bcg, method = "REML")),
  ablat_REML_knha = fit_summary(rma(yi, vi, mods = ~ ablat, data = bcg, method = "REML", test = "knha")),
  alloc_REML_z = fit_summary(rma(yi, vi, mods = ~ alloc, data = bcg, method = "REML")),
  ablat_year_DL_z = fit_summary(rma(yi, vi, mods = ~ ablat + year, data = bcg, method = "DL")),
  ablat_alloc_ML_knha = fit_summary(rma(yi, vi, mods = ~ ablat + alloc, data = bcg, method = "ML", test = "knha")),
  ablat_FE_z = fit_summary(rma(yi, vi, mods = ~ ablat, data = bcg, method = "FE")))
write_ref(mods, "mods.json")

# ---- diagnostics ---------------------------------------------------------------------------
`%||%` <- function(a, b) if (all(is.na(a)) && !is.null(b)) b else a
diag_for <- function(fit) {
  l1 <- leave1out(fit)
  inf <- influence(fit)$inf
  rt <- regtest(fit)
  tf <- trimfill(fit)
  col <- function(x) if (is.null(x)) rep(NA_real_, length(l1$estimate)) else x  # FE: no tau2 column
  list(leave1out = data.frame(estimate = l1$estimate, std_error = l1$se, statistic = col(l1$zval) %||% l1$tval,
                              p_value = l1$pval, conf_low = l1$ci.lb, conf_high = l1$ci.ub, Q = l1$Q, Q_p = l1$Qp,
                              tau2 = col(l1$tau2), I2 = col(l1$I2), H2 = col(l1$H2)),
       influence = data.frame(rstudent = inf$rstudent, dffits = inf$dffits, cook_d = inf$cook.d, cov_r = inf$cov.r,
                              tau2_del = inf$tau2.del, QE_del = inf$QE.del, hat = inf$hat, weight = inf$weight,
                              influential = inf$inf == "*"),
       egger = list(statistic = rt$zval, p_value = rt$pval, df = if (is.null(rt$dfs)) NA else rt$dfs),
       trimfill = list(k0 = tf$k0, side = tf$side, estimate = as.numeric(tf$beta), std_error = tf$se,
                       conf_low = tf$ci.lb, conf_high = tf$ci.ub, tau2 = tf$tau2))
}
diagnostics <- list(
  bcg_REML_z = diag_for(rma(yi, vi, data = bcg)),
  bcg_DL_knha = diag_for(rma(yi, vi, data = bcg, method = "DL", test = "knha")),
  smd_REML_z = diag_for(rma(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                            data = normand)),
  zcor_PM_z = diag_for(rma(measure = "ZCOR", ri = ri, ni = ni, data = molloy, method = "PM")))
# trimfill on the side where studies are missing: dat.hackshaw1998 (log odds ratios)
hack <- dat.hackshaw1998
write.csv(hack[, c("study", "author", "year", "yi", "vi")], "tests/data/meta/hackshaw1998.csv", row.names = FALSE)
diagnostics$hackshaw_FE_z <- diag_for(rma(yi, vi, data = hack, method = "FE"))
diagnostics$hackshaw_REML_z <- diag_for(rma(yi, vi, data = hack))
# influence with a moderator: influence(rma(yi, vi, mods = ~ ablat, data = bcg))
inf_mods <- influence(rma(yi, vi, mods = ~ ablat, data = bcg))$inf
diagnostics$bcg_ablat_influence <- data.frame(rstudent = inf_mods$rstudent, dffits = inf_mods$dffits,
                                              cook_d = inf_mods$cook.d, cov_r = inf_mods$cov.r,
                                              tau2_del = inf_mods$tau2.del, QE_del = inf_mods$QE.del,
                                              hat = inf_mods$hat, weight = inf_mods$weight,
                                              influential = inf_mods$inf == "*")
rt_mods <- regtest(rma(yi, vi, mods = ~ ablat, data = bcg, test = "knha"))
diagnostics$bcg_ablat_knha_egger <- list(statistic = rt_mods$zval, p_value = rt_mods$pval, df = rt_mods$dfs)
write_ref(diagnostics, "diagnostics.json")

# ---- every escalc measure of specification section 4.1, its rma() fit, fitstats() and back-transform --------
# For each measure: the data file, the spiral column options (as escalc's argument names),
# escalc()'s yi and vi, the REML fit (fit_summary), fitstats() and predict(fit, transf = T)
# with the measure's natural back-transformation T.
curtis <- dat.curtis1998
write.csv(curtis[, c("id", "paper", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")], "tests/data/meta/curtis1998.csv",
          row.names = FALSE, na = "")
yusuf9 <- subset(dat.yusuf1985, table == "9")   # zero and double-zero tables, two rows without counts
write.csv(yusuf9[, c("id", "trial", "ai", "n1i", "ci", "n2i")], "tests/data/meta/yusuf1985_t9.csv", row.names = FALSE, na = "")
hart <- dat.hart1999
write.csv(hart[, c("trial", "study", "x1i", "t1i", "x2i", "t2i")], "tests/data/meta/hart1999.csv", row.names = FALSE)
niel <- dat.nielweise2008
niel$x1i[5] <- 0                                  # a zero count for escalc's 1/2 (IR, IRLN, IRR)
write.csv(niel[, c("study", "authors", "x1i", "t1i", "x2i", "t2i")], "tests/data/meta/nielweise2008.csv", row.names = FALSE)
prop <- rbind(dat.pritz1997[, c("study", "xi", "ni")],
              data.frame(study = c(15, 16), xi = c(0, 30), ni = c(40, 30)))   # no events, all events
write.csv(prop, "tests/data/meta/pritz1997.csv", row.names = FALSE)
# Pre-post (change) data in the layout of Morris (2008), as in metafor's escalc() examples.
prepost <- data.frame(study = 1:5, m1i = c(30.6, 23.5, 0.5, 53.4, 35.6), m2i = c(38.5, 26.8, 0.7, 75.9, 36.0),
                      sd1i = c(15.0, 3.1, 0.1, 14.5, 4.7), sd2i = c(11.6, 4.1, 0.1, 4.4, 4.6),
                      ni = c(20, 50, 9, 10, 14), ri = c(0.47, 0.64, 0.77, 0.89, 0.44))
write.csv(prepost, "tests/data/meta/morris2008.csv", row.names = FALSE)

natural <- list(OR = "exp", PETO = "exp", RR = "exp", IRR = "exp", ROM = "exp", CVR = "exp", VR = "exp", PLN = "exp",
                IRLN = "exp", MNLN = "exp", ROMC = "exp", ZCOR = "tanh", PLO = "ilogit", PAS = "iarcsin", IRS = "isqrt")
transf_fun <- list(exp = exp, tanh = transf.ztor, ilogit = transf.ilogit, iarcsin = transf.iarcsin, isqrt = transf.isqrt)
measure_case <- function(measure, file, data, columns) {
  args <- c(list(measure = measure, data = data), lapply(columns, as.name))
  e <- suppressWarnings(do.call(escalc, args))
  fit <- rma(yi, vi, data = e)
  out <- list(file = file, columns = columns, yi = as.numeric(e$yi), vi = as.numeric(e$vi), fit = fit_summary(fit))
  fs <- fitstats(fit)
  out$fit$logLik <- fs[1, 1]; out$fit$AIC <- fs[3, 1]; out$fit$BIC <- fs[4, 1]; out$fit$AICc <- fs[5, 1]
  if (!is.null(natural[[measure]])) {
    p <- predict(fit, transf = transf_fun[[natural[[measure]]]])
    out$transf <- natural[[measure]]
    out$transformed <- list(estimate = p$pred, conf_low = p$ci.lb, conf_high = p$ci.ub, pi_low = p$pi.lb, pi_high = p$pi.ub)
  }
  out
}
two_groups <- list(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")
cases <- list()
for (m in c("MD", "SMD", "SMDH", "ROM", "CVR")) cases[[m]] <- measure_case(m, "curtis1998.csv", curtis, two_groups)
cases$VR <- measure_case("VR", "curtis1998.csv", curtis, list(sd1i = "sd1i", n1i = "n1i", sd2i = "sd2i", n2i = "n2i"))
for (m in c("OR", "RR", "RD", "AS", "PETO"))
  cases[[m]] <- measure_case(m, "yusuf1985_t9.csv", yusuf9, list(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i"))
cases$PETO_bcg <- measure_case("PETO", "bcg_2x2.csv", bcg2x2, list(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg"))
for (m in c("IRR", "IRD", "IRSD"))
  cases[[m]] <- measure_case(m, "nielweise2008.csv", niel, list(x1i = "x1i", x2i = "x2i", t1i = "t1i", t2i = "t2i"))
cases$IRR_hart <- measure_case("IRR", "hart1999.csv", hart, list(x1i = "x1i", x2i = "x2i", t1i = "t1i", t2i = "t2i"))
for (m in c("PR", "PLN", "PLO", "PAS", "PFT")) cases[[m]] <- measure_case(m, "pritz1997.csv", prop, list(xi = "xi", ni = "ni"))
for (m in c("IR", "IRLN", "IRS", "IRFT")) cases[[m]] <- measure_case(m, "nielweise2008.csv", niel, list(xi = "x1i", ti = "t1i"))
for (m in c("MN", "MNLN")) cases[[m]] <- measure_case(m, "curtis1998.csv", curtis, list(mi = "m1i", sdi = "sd1i", ni = "n1i"))
change <- list(m1i = "m1i", m2i = "m2i", sd1i = "sd1i", sd2i = "sd2i", ni = "ni", ri = "ri")
for (m in c("MC", "SMCC", "ROMC")) cases[[m]] <- measure_case(m, "morris2008.csv", prepost, change)
cases$SMCR <- measure_case("SMCR", "morris2008.csv", prepost, list(m1i = "m1i", m2i = "m2i", sd1i = "sd1i", ni = "ni", ri = "ri"))
for (m in c("COR", "UCOR", "ZCOR")) cases[[m]] <- measure_case(m, "molloy2014.csv", molloy, list(ri = "ri", ni = "ni"))
for (name in names(cases)) cases[[name]]$measure <- sub("_.*", "", name)
write_ref(cases, "escalc_all.json")

# ---- failing diagnostics: influence when a deletion empties a factor level, Egger with k = 2 --
bcg$early <- ifelse(bcg$year < 1949, "yes", "no")   # one study at level "yes"
write.csv(bcg[, c("trial", "study", "year", "ablat", "early", "yi", "vi")], "tests/data/meta/bcg_early.csv", row.names = FALSE)
inf_early <- influence(rma(yi, vi, mods = ~ ablat + early, data = bcg))$inf
write_ref(list(influence_early = data.frame(rstudent = inf_early$rstudent, dffits = inf_early$dffits,
                                            cook_d = inf_early$cook.d, cov_r = inf_early$cov.r,
                                            tau2_del = inf_early$tau2.del, QE_del = inf_early$QE.del,
                                            hat = inf_early$hat, weight = inf_early$weight)),
          "failing_diagnostics.json")
# ---- fitted values, residuals and predict() per study ----------------------------------------
# predict(fit) (without newmods: one row per study, as fitted(fit)), residuals(fit) = yi - fitted.
predictions <- function(fit) {
  pr <- predict(fit)
  n <- fit$k
  rows <- data.frame(fitted = as.numeric(fitted(fit)), residual = as.numeric(residuals(fit)),
                     pred = rep_len(as.numeric(pr$pred), n), se = rep_len(as.numeric(pr$se), n),
                     ci_lb = rep_len(as.numeric(pr$ci.lb), n), ci_ub = rep_len(as.numeric(pr$ci.ub), n),
                     pi_lb = rep_len(as.numeric(pr$pi.lb), n), pi_ub = rep_len(as.numeric(pr$pi.ub), n))
  list(studies = rows, weight = as.numeric(weights(fit)))
}
write_ref(list(
  REML_z = predictions(rma(yi, vi, data = bcg, method = "REML")),
  ablat_REML_knha = predictions(rma(yi, vi, mods = ~ ablat, data = bcg, method = "REML", test = "knha")),
  ablat_alloc_ML_knha = predictions(rma(yi, vi, mods = ~ ablat + alloc, data = bcg, method = "ML", test = "knha")),
  ablat_FE_z = predictions(rma(yi, vi, mods = ~ ablat, data = bcg, method = "FE"))), "predict.json")
cat("done\n")
