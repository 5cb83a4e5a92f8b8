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
cat("done\n")
