# lme4 / lmerTest / broom.mixed / metafor generics on spiral's results, against the values
# tests/reference/rpkg.R wrote (each test names the R call that made its numbers).

lower_bounds <- function(x) ifelse(is.na(x), -Inf, x)  # JSON null is lme4's -Inf
row_of <- function(x, j) if (is.matrix(x)) x[j, ] else x[[j]]  # jsonlite makes equal-length arrays a matrix

check_lmm_generics <- function(fit, ref) {
  # fixef(), logLik(), AIC(), BIC(), nobs(), sigma(), REMLcrit() of lmer(); lme4's tolerances
  expect_equal(fixef(fit), unlist(ref$fixef), tolerance = 1e-5)
  ll <- logLik(fit)
  expect_s3_class(ll, "logLik")
  expect_equal(as.numeric(ll), ref$logLik, tolerance = 1e-6)
  expect_equal(attr(ll, "df"), ref$df)
  expect_equal(AIC(fit), ref$AIC, tolerance = 1e-6)
  expect_equal(BIC(fit), ref$BIC, tolerance = 1e-6)
  expect_identical(nobs(fit), as.integer(ref$nobs))
  expect_equal(sigma(fit), ref$sigma, tolerance = 1e-5)
  expect_equal(deviance(fit), ref$REMLcrit, tolerance = 1e-6)
  # getME(fit, "lower") as lme4's; isSingular() is lme4's own function on them
  expect_equal(lme4::getME(fit, "lower"), lower_bounds(ref$lower))
  expect_equal(lme4::getME(fit, "theta"), ref$theta, tolerance = 1e-4)
  expect_identical(lme4::isSingular(fit), ref$isSingular)
  expect_identical(fit$singular, ref$isSingular)
  expect_type(fit$converged, "logical")
  # confint(): the summary's intervals, Wald with Satterthwaite's t (lmerTest summary() df)
  ci <- confint(fit)
  expect_equal(dimnames(ci), list(ref$confint95$term, c("2.5 %", "97.5 %")))
  expect_equal(unname(ci[, 1]), ref$confint95$low, tolerance = 1e-4)
  expect_equal(unname(ci[, 2]), ref$confint95$high, tolerance = 1e-4)
  expect_equal(unname(ci[, 1]), fit$fixed$conf_low)
  ci90 <- confint(fit, level = 0.90)
  expect_equal(colnames(ci90), c("5 %", "95 %"))
  expect_equal(unname(ci90[, 1]), ref$confint90$low, tolerance = 1e-4)
  expect_equal(unname(ci90[, 2]), ref$confint90$high, tolerance = 1e-4)
  # ranef(fit, condVar = TRUE): one data frame per grouping factor, conditional SDs from postVar
  re <- ranef(fit)
  expect_equal(names(re), names(ref$ranef))
  for (g in names(re)) {
    expect_equal(rownames(re[[g]]), ref$ranef[[g]]$levels)
    expect_equal(names(re[[g]]), ref$ranef[[g]]$terms)
    for (j in seq_along(re[[g]])) {
      expect_equal(re[[g]][[j]], row_of(ref$ranef[[g]]$estimate, j), tolerance = 1e-4)
      expect_equal(attr(re[[g]], "condsd")[[j]], row_of(ref$ranef[[g]]$condsd, j), tolerance = 1e-4)
    }
  }
  # coef(fit): lme4's list per grouping factor, each level's fixed effects plus its modes
  co <- coef(fit)
  expect_equal(names(co), names(ref$coef))
  for (g in names(co)) {
    expect_equal(rownames(co[[g]]), ref$coef[[g]]$levels)
    expect_equal(names(co[[g]]), ref$coef[[g]]$terms)
    for (j in seq_along(co[[g]])) expect_equal(co[[g]][[j]], row_of(ref$coef[[g]]$values, j), tolerance = 1e-4)
  }
  # as.data.frame(VarCorr(fit)): lme4's grp, var1, var2, vcov, sdcor rows
  vc <- as.data.frame(VarCorr(fit))
  expect_equal(names(vc), c("grp", "var1", "var2", "vcov", "sdcor"))
  expect_equal(vc$grp, ref$varcorr$grp)
  expect_equal(vc$var1, ref$varcorr$var1)
  expect_equal(vc$var2, ref$varcorr$var2)
  expect_equal(vc$sdcor, ref$varcorr$sdcor, tolerance = 1e-4)
  expect_equal(vc$vcov, ref$varcorr$vcov, tolerance = 1e-3)
  expect_output(print(VarCorr(fit)), "Groups +Name +Std.Dev.")
  # broom.mixed::tidy(fit, effects = "ran_pars") rows and column names
  skip_if_not_installed("generics")
  rp <- generics::tidy(fit, effects = "ran_pars")
  expect_equal(rp$group, ref$tidy_ran_pars$group)
  expect_equal(rp$term, ref$tidy_ran_pars$term)
  expect_equal(rp$estimate, ref$tidy_ran_pars$estimate, tolerance = 1e-3)
  fixed <- generics::tidy(fit, effects = "fixed", conf.int = TRUE)
  expect_equal(names(fixed), ref$tidy_fixed_names)
}

test_that("lmm answers lme4's generics with lme4's numbers (sleepstudy: lmer(Reaction ~ Days + (Days | Subject)))", {
  fit <- lmm(Reaction ~ Days + (Days | Subject), rpkg_data("sleepstudy.csv"))
  check_lmm_generics(fit, rpkg_reference("sleepstudy.json"))
})

test_that("lmm answers lme4's generics with lme4's numbers (Orthodont: lmer(distance ~ age + Sex + (age | Subject)))", {
  d <- rpkg_data("orthodont.csv")
  d$Subject <- factor(d$Subject, levels = unique(d$Subject))
  fit <- suppressWarnings(lmm(distance ~ age + Sex + (age | Subject), d))
  check_lmm_generics(fit, rpkg_reference("orthodont.json"))
})

test_that("formula, update and anova of two fits as lme4's anova(m0, m1) (ML refits)", {
  d <- rpkg_data("sleepstudy.csv")
  m1 <- lmm(Reaction ~ Days + (Days | Subject), d)
  expect_equal(formula(m1), Reaction ~ Days + (Days | Subject), ignore_attr = TRUE)
  m0 <- update(m1, . ~ . - (Days | Subject) + (1 | Subject))
  expect_equal(deparse(formula(m0)), "Reaction ~ Days + (1 | Subject)")
  a <- anova(m0, m1)
  ref <- rpkg_reference("sleepstudy_anova.json")
  expect_equal(a$chisq, ref$chisq, tolerance = 1e-5)
  expect_equal(a$chisq_df, ref$df)
  expect_equal(a$p_value, ref$p_value, tolerance = 1e-5)
  expect_equal(a$models$logLik, ref$logLik, tolerance = 1e-6)
  ml <- update(m1, ml = TRUE)
  expect_equal(ml$method, "ML")
})

test_that("fitted, residuals, predict, anova of one and of three fits as lme4/lmerTest (sleepstudy_predict.json)", {
  d <- rpkg_data("sleepstudy.csv")
  ref <- rpkg_reference("sleepstudy_predict.json")
  m1 <- lmm(Reaction ~ Days + (Days | Subject), d)
  expect_equal(fitted(m1), ref$fitted, tolerance = 1e-6)
  # residuals on the response's scale (differences of numbers near 300; lme4's default stop)
  expect_lt(max(abs(residuals(m1) - ref$residuals)), 1e-6 * max(abs(ref$fitted)))
  expect_equal(predict(m1, re.form = NA), ref$predict_fixed, tolerance = 1e-6)
  new_rows <- data.frame(Days = ref$newdata$Days, Subject = ref$newdata$Subject)
  expect_warning(full <- predict(m1, newdata = new_rows), "never saw|new level|not in the fit")
  expect_equal(full, ref$predict_new_full, tolerance = 1e-6)
  expect_equal(predict(m1, newdata = new_rows, re.form = NA), ref$predict_new_population, tolerance = 1e-6)
  expect_error(predict(m1, re.form = ~ (1 | Subject)), "^re.form: ")
  expect_error(residuals(m1, type = "pearson"), "type = \"pearson\" is not available")
  expect_error(predict(m1, new_rows, allow.new.levels = FALSE), "allow.new.levels")
  expect_error(anova(m1, ddf = "Kenward-Roger"), "ddf")
  expect_error(predict(m1, newdata = data.frame(Days = 1)), "^newdata: unknown column 'Subject'")
  type3 <- anova(m1)   # lmerTest's anova(): type III, Satterthwaite
  expect_s3_class(type3, "anova")
  expect_equal(rownames(type3), ref$anova$term)
  expect_equal(type3[["F value"]], ref$anova$F, tolerance = 1e-6)
  expect_equal(type3$DenDF, ref$anova$den_df, tolerance = 1e-5)
  expect_equal(names(type3), c("Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"))
  expect_equal(type3[["Mean Sq"]], type3[["F value"]] * sigma(m1)^2)  # lmerTest's print
  # update(fit, data = ): a refit on other rows (lme4 users refit on a subset so)
  subset <- droplevels(d[d$Days > 0, ])
  expect_identical(nobs(suppressWarnings(update(m1, data = subset))), nrow(subset))
  # broom.mixed's augment(): the model's rows with .fitted, .resid, .fixed
  skip_if_not_installed("generics")
  rows <- generics::augment(m1)
  expect_equal(names(rows), c("Reaction", "Days", "Subject", ".fitted", ".resid", ".fixed"))
  expect_equal(rows$.fitted, ref$fitted, tolerance = 1e-6)
  expect_equal(rows$.fixed, ref$predict_fixed, tolerance = 1e-6)
  expect_equal(generics::augment(m1, newdata = d[1:2, ])$.fitted, ref$fitted[1:2], tolerance = 1e-6)
  m0 <- update(m1, . ~ . - (Days | Subject) + (1 | Subject))
  m00 <- update(m1, . ~ 1 + (1 | Subject))
  lrt <- anova(m00, m0, m1)
  expect_equal(lrt$tests$chisq, ref$lrt$chisq, tolerance = 1e-5)
  expect_equal(lrt$tests$chisq_df, ref$lrt$df)
})

test_that("generics without an answer are errors, never NULL", {
  fit <- lmm(Reaction ~ Days + (1 | Subject), rpkg_data("sleepstudy.csv"))
  expect_error(confint(fit, method = "boot"), "boot")
  expect_error(lme4::getME(fit, "Zt"), "Zt")
})

test_that("a haven-labelled arm is a factor with its labels (lmer(outcome ~ arm + (1 | therapist)), arm a factor)", {
  skip_if_not_installed("haven")
  d <- rpkg_data("five_arm.csv")
  ref <- rpkg_reference("five_arm.json")
  d$arm <- haven::labelled(d$arm_code, labels = stats::setNames(1:5, ref$labels))
  fit <- lmm(outcome ~ arm + (1 | therapist), d)
  expect_equal(names(fixef(fit)), ref$terms)
  expect_equal(unname(fixef(fit)), ref$fixef, tolerance = 1e-5)
  expect_equal(unname(confint(fit)[, 1]), ref$confint95$low, tolerance = 1e-4)
  # a label no row uses is no level
  d$arm <- haven::labelled(d$arm_code, labels = stats::setNames(1:6, c(ref$labels, "unused")))
  expect_equal(names(fixef(lmm(outcome ~ arm + (1 | therapist), d))), ref$terms)
})

test_that("meta: coef, confint with Knapp-Hartung and the tau^2 interval as metafor's confint(rma)", {
  bcg <- rpkg_data("bcg.csv")
  ref <- rpkg_reference("bcg.json")
  # rma(yi, vi, mods = ~ ablat, test = "knha"); confint(., fixed = TRUE)
  res <- meta(bcg, yi = "yi", vi = "vi", mods = ~ablat, test = "knha")
  expect_equal(unname(coef(res)), ref$knha$coef, tolerance = 1e-5)
  ci <- confint(res)
  expect_equal(unname(ci$fixed[, "ci.lb"]), ref$knha$ci_lb, tolerance = 1e-5)
  expect_equal(unname(ci$fixed[, "ci.ub"]), ref$knha$ci_ub, tolerance = 1e-5)
  expect_equal(unname(ci$random["tau^2", ]), ref$knha$tau2, tolerance = 1e-4)
  expect_equal(unname(confint(res, level = 0.95)$fixed[, "ci.lb"]), ref$knha$ci_lb, tolerance = 1e-5)
  expect_identical(nobs(res), as.integer(ref$knha$nobs))
  # rma(yi, vi); confint(.)
  plain <- meta(bcg, yi = "yi", vi = "vi")
  ci <- confint(plain)
  expect_equal(unname(ci$fixed[, "ci.lb"]), ref$plain$ci_lb, tolerance = 1e-5)
  expect_equal(unname(ci$random["tau^2", ]), ref$plain$tau2, tolerance = 1e-4)
  expect_equal(unname(ci$random["tau", ]), ref$plain$tau, tolerance = 1e-4)
  # fitted(), residuals(), predict(), logLik(), AIC(), BIC() of both fits (metafor's, bcg.json)
  for (case in list(list(fit = res, ref = ref$knha), list(fit = plain, ref = ref$plain))) {
    expect_equal(unname(fitted(case$fit)), case$ref$fitted, tolerance = 1e-5)
    expect_equal(unname(residuals(case$fit)), case$ref$residuals, tolerance = 1e-5)
    pred <- predict(case$fit)
    expect_equal(nrow(pred), length(case$ref$predict$pred))
    for (column in c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub"))
      expect_equal(pred[[column]], case$ref$predict[[column]], tolerance = 1e-5, info = column)
    expect_equal(as.numeric(logLik(case$fit)), case$ref$logLik, tolerance = 1e-6)
    expect_identical(attr(logLik(case$fit), "df"), as.integer(case$ref$logLik_df))
    expect_equal(AIC(case$fit), case$ref$AIC, tolerance = 1e-6)
    expect_equal(BIC(case$fit), case$ref$BIC, tolerance = 1e-6)
  }
  # anova(): metafor's test of the moderators (F(1, 11) under Knapp-Hartung) and the LRT of two ML fits
  a <- anova(res)
  expect_equal(a$QM, ref$anova_knha$QM, tolerance = 1e-6)
  expect_equal(a$QMdf, ref$anova_knha$QMdf)
  expect_equal(a$QMp, ref$anova_knha$QMp, tolerance = 1e-6)
  expect_output(print(a), "F\\(df1 = 1, df2 = 11\\)")
  full <- meta(bcg, yi = "yi", vi = "vi", mods = ~ablat, method = "ML")
  lrt <- anova(meta(bcg, yi = "yi", vi = "vi", method = "ML"), full)  # either order, as metafor
  expect_equal(rownames(lrt), c("Full", "Reduced"))
  expect_equal(lrt$df, ref$anova_ml$df)
  expect_equal(lrt$logLik, ref$anova_ml$logLik, tolerance = 1e-6)
  expect_equal(lrt$LRT[2], ref$anova_ml$LRT, tolerance = 1e-6)
  expect_equal(lrt$pval[2], ref$anova_ml$pval, tolerance = 1e-6)
  expect_equal(lrt$QE, ref$anova_ml$QE, tolerance = 1e-6)
  expect_equal(lrt$`tau^2`, ref$anova_ml$tau2, tolerance = 1e-5)
  expect_warning(anova(res, plain), "REML comparisons not meaningful")
  expect_error(anova(plain), "^anova\\(\\): not available .* no moderators")
  # leave1out() and influence() (metafor's columns, studies as row names; refits once)
  l1o <- leave1out(plain)
  expect_equal(names(l1o)[1:6], c("estimate", "se", "zval", "pval", "ci.lb", "ci.ub"))
  for (column in c("estimate", "se", "pval", "tau2", "Q"))
    expect_equal(l1o[[column]], ref$leave1out[[column]], tolerance = 1e-5, info = column)
  inf <- influence(plain)
  for (column in c("rstudent", "cook.d", "hat", "tau2.del"))
    expect_equal(inf[[column]], ref$influence[[column]], tolerance = 1e-5, info = column)
  expect_identical(inf$inf, ref$influence$inf)
  expect_equal(rownames(inf), rownames(l1o))
  expect_error(predict(res, newmods = 30), "new moderator values")
  # arguments of metafor's and lme4's methods whose other values spiral does not compute
  expect_error(residuals(res, type = "rstandard"), "^residuals\\(\\): type = \"rstandard\" is not available")
  expect_error(predict(res, transf = exp), "transf")
  expect_error(predict(res, foo = 1), "unused argument")
  skip_if_not_installed("generics")
  tidied <- generics::tidy(res, conf.int = TRUE)
  expect_equal(names(tidied), c("term", "type", "estimate", "std.error", "statistic", "p.value", "conf.low", "conf.high"))
  expect_equal(tidied$conf.low, ref$knha$ci_lb, tolerance = 1e-5)
  expect_equal(tidied$term, c("intercept", "ablat"))  # broom's tidy() of an rma fit
  glanced <- generics::glance(res)
  expect_identical(glanced$nobs, 13L)  # broom's glance(): k, where nobs() is k - p under REML
  expect_identical(glanced$df.residual, 11L)
  # two studies with one label (dat.bcg's author): predictions get unique row names
  twice <- meta(cbind(bcg, slab = c("A", "A", LETTERS[2:12])), yi = "yi", vi = "vi", mods = ~ablat, slab = "slab")
  expect_equal(rownames(predict(twice))[1:3], c("A", "A.1", "B"))
  expect_equal(names(fitted(twice))[1:2], c("A", "A.1"))
})

test_that("each warning is shown once", {
  d <- rpkg_data("sleepstudy.csv")
  d$Reaction[1:3] <- NA
  warnings <- testthat::capture_warnings(lmm(Reaction ~ Days + (1 | Subject), d))
  expect_equal(length(warnings), length(unique(warnings)))
  expect_gte(length(warnings), 1)
})

test_that("prep takes a data frame and a spec as TOML text or a list", {
  sessions <- data.frame(study = "A", patient = rep(1:12, each = 4), session = rep(1:4, 12))
  sessions$alliance <- sin(seq_len(48))
  sessions$symptoms <- cos(seq_len(48))
  spec <- list(data = list(source = "unused.csv", study = "study", patient = "patient", session = "session"),
               variables = list(process = "alliance", outcome = "symptoms"), model = list(lags = I(1)))
  a <- prep(spec, data = sessions)
  expect_equal(nrow(a), 48)
  expect_true(all(c("Pw", "Ow", "Pw_lag1") %in% names(a)))
  text <- paste("[data]", 'source = "unused.csv"', 'study = "study"', 'patient = "patient"', 'session = "session"',
                "[variables]", 'process = "alliance"', 'outcome = "symptoms"', "[model]", "lags = [1]", sep = "\n")
  expect_equal(prep(text, data = sessions), a)
  expect_error(prep(42), "^spec: ")
})

test_that("bad input names the argument", {
  d <- rpkg_data("sleepstudy.csv")
  expect_error(lmm(list(1), d), "^formula: expected a formula or one string, got list")
  expect_error(meta(rpkg_data("bcg.csv"), yi = "yi", vi = "vi", mods = list("ablat")), "^mods: ")
  expect_error(lmm(Reaction ~ Days + (1 | Subject), d[0, ]), "^data: the data frame has no rows")
  d$Subject <- factor(d$Subject, levels = c(levels(factor(d$Subject)), "999"))
  expect_error(lmm(Reaction ~ Days + (1 | Subject), d), "^data: factor 'Subject' has unused levels \\('999'\\)")
  skip_if_not_installed("haven")
  trial <- rpkg_data("five_arm.csv")
  trial$arm <- haven::labelled(trial$arm_code, labels = c(control = 1, feedback = 2))
  expect_error(lmm(outcome ~ arm + (1 | therapist), trial), "^data: labelled column 'arm' has values without a label \\(3, 4, 5\\)")
})

test_that("the refits of fitted, anova, ranef and predict do not repeat the fit's warnings; new ones pass", {
  d <- rpkg_data("sleepstudy.csv")
  d$Reaction[1] <- NA
  given <- capture_warnings(m1 <- lmm(Reaction ~ Days + (Days | Subject), d))
  expect_match(given, "1 rows? with missing values dropped", all = FALSE)
  expect_identical(capture_warnings(fitted(m1)), character())
  expect_identical(capture_warnings(anova(m1)), character())
  expect_identical(capture_warnings(ranef(m1)), character())
  m0 <- suppressWarnings(update(m1, . ~ . - (Days | Subject) + (1 | Subject)))
  expect_identical(capture_warnings(anova(m0, m1)), character())
  new_rows <- data.frame(Days = c(1, 2), Subject = c("308", "new subject"))
  expect_match(capture_warnings(predict(m1, newdata = new_rows)), "never saw|new level|not in the fit")
})

test_that("confint(method = \"profile\") as lme4's confint(method = \"profile\") (sleepstudy_profile.json)", {
  d <- rpkg_data("sleepstudy.csv")
  ref <- rpkg_reference("sleepstudy_profile.json")
  m1 <- suppressWarnings(lmm(Reaction ~ Days + (Days | Subject), d))
  # kLmmProfileCi (docs/tolerances.md): 1e-4 relative to the bound or, if larger, the interval's
  # width (as tests/lmm/test_lmm_inference.cpp: a correlation's bound can be near 0)
  expect_bounds <- function(got, low, high) {
    scale <- pmax(abs(c(low, high)), rep(high - low, 2))
    expect_true(all(abs(c(got[, 1], got[, 2]) - c(low, high)) <= 1e-4 * scale))
  }
  check_profile <- function(ci, expected, percent) {
    expect_equal(dimnames(ci), list(expected$names, percent))
    expect_bounds(ci, expected$low, expected$high)
  }
  # confint(m1, method = "profile") and confint(m1, method = "profile", level = 0.9, oldNames = FALSE)
  check_profile(confint(m1, method = "profile"), ref$correlated$level95, c("2.5 %", "97.5 %"))
  check_profile(confint(m1, method = "profile", level = 0.9, oldNames = FALSE), ref$correlated$level90_new_names, c("5 %", "95 %"))
  sigma_ci <- confint(m1, parm = "sigma", method = "profile", oldNames = FALSE)
  expect_equal(rownames(sigma_ci), "sigma")
  expect_bounds(sigma_ci, ref$correlated$level95$low[4], ref$correlated$level95$high[4])
  # confint(lmer(Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)), method = "profile", oldNames = FALSE)
  split <- suppressWarnings(lmm(Reaction ~ Days + (1 | Subject) + (0 + Days | Subject), d))
  check_profile(confint(split, method = "profile", oldNames = FALSE), ref$uncorrelated$level95_new_names, c("2.5 %", "97.5 %"))
  # a fit made with confint = "profile" holds the profile intervals; confint() stays the summary's (sleepstudy.json)
  profiled <- suppressWarnings(lmm(Reaction ~ Days + (Days | Subject), d, confint = "profile"))
  check_profile(confint(profiled, method = "profile"), ref$correlated$level95, c("2.5 %", "97.5 %"))
  wald <- confint(profiled)
  expect_equal(unname(wald[, 1]), rpkg_reference("sleepstudy.json")$confint95$low, tolerance = 1e-4)
  expect_error(confint(m1, method = "boot"), "method = 'boot' is not available")
})
