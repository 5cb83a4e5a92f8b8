# The generics of a spiral_panel fit against lavaan 0.6-14: tests/reference/panel.R section generics
# (RI-CLPM on missing2.csv: vcov(fit) of the lagged labels, fitMeasures(fit), AIC(fit), BIC(fit)),
# section lagged_free (lavTestLRT(equal, free)) and section groups (lavaan's group = ).

fit_missing2 <- function(...) {
  suppressWarnings(panel(read_data("panel/missing2.csv"), "patient", "session", c("alliance", "symptoms"), ...))
}

test_that("vcov, AIC, BIC, logLik and fit_measures equal lavaan's", {
  ref <- reference("panel/generics_riclpm_missing2.json")
  fit <- fit_missing2()
  v <- vcov(fit)
  expect_equal(rownames(v), ref$terms)
  expect_equal(names(coef(fit)), ref$terms)
  expect_equal(unname(v), ref$vcov, tolerance = 2e-4)            # vcov(fit)[labels, labels]
  expect_equal(sqrt(diag(v)), setNames(fit$lagged$std_error, ref$terms), tolerance = 1e-12)
  expect_equal(AIC(fit), ref$AIC, tolerance = 1e-8)              # AIC(fit)
  expect_equal(BIC(fit), ref$BIC, tolerance = 1e-8)              # BIC(fit)
  ll <- logLik(fit)
  expect_equal(attr(ll, "df"), ref$fit_measures$npar)
  expect_equal(attr(ll, "nobs"), 299L)
  measures <- fit_measures(fit)                                  # fitMeasures(fit)
  expect_equal(names(measures), c("npar", "logl", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic"))
  for (name in names(ref$fit_measures)) expect_equal(measures[[name]], ref$fit_measures[[name]], tolerance = 1e-5, label = name)
})

test_that("anova(m0, m1) is lavTestLRT's test", {
  ref <- reference("panel/riclpm_missing2_free.json")         # lavTestLRT(equal, free)
  equal <- fit_missing2()
  free <- fit_missing2(lagged = "free")
  table <- anova(equal, free)
  expect_s3_class(table, "anova")
  expect_equal(names(table), c("Df", "AIC", "BIC", "Chisq", "Chisq diff", "Df diff", "Pr(>Chisq)"))
  expect_equal(rownames(table), c("free", "equal"))
  expect_equal(table[["Chisq diff"]][2], ref$lrt$chisq, tolerance = 1e-6)
  expect_equal(table[["Df diff"]][2], ref$lrt$df)
  expect_equal(table[["Pr(>Chisq)"]][2], ref$lrt$p_value, tolerance = 1e-5)
  expect_true(is.na(table[["Chisq diff"]][1]))
  expect_error(anova(equal), "one further spiral panel fit")
})

test_that("a generic without an answer is an error", {
  expect_error(fit_measures(lm(dist ~ speed, cars)), "not available")
})

test_that("groups: coefficients named by group under equal_groups = 'none'", {
  ref <- reference("panel/groups_wages_free.json")             # lavaan(..., group = "sex"), labels per group
  fit <- panel(read_data("panel/wages_long.csv"), "worker", "year", c("lwage", "wks"), group = "sex",
               equal_groups = "none")
  expect_equal(names(coef(fit))[1:2], c("female:lwage->lwage", "female:wks->lwage"))
  expect_equal(dim(vcov(fit)), c(8L, 8L))
  expect_equal(as.numeric(logLik(fit)), ref$logLik, tolerance = 1e-7)
  expect_equal(fit_measures(fit)[["df"]], ref$chisq_df)
})
