# The R face against the committed lme4 / metafor / lavaan values (docs/tolerances.md).

test_that("lmm on a data frame gives lme4's numbers", {
  fit <- lmm(Reaction ~ Days + (Days | Subject), read_data("lmm/sleepstudy.csv"))
  ref <- reference("lmm/sleepstudy_reml.json")
  expect_s3_class(fit, "spiral_lmm")
  expect_equal(fit$criterion, ref$criterion, tolerance = 1e-6)
  expect_s3_class(fit$fixed, "data.frame")
  expect_equal(fit$fixed$term, ref$fixed$term)
  expect_equal(fit$fixed$estimate, ref$fixed$estimate, tolerance = 1e-4)
  expect_equal(fit$fixed$std_error, ref$fixed$std_error, tolerance = 1e-3)
  expect_equal(unname(fixef(fit)), ref$fixed$estimate, tolerance = 1e-4)
  expect_equal(names(coef(fit)), "Subject")  # lme4: a list per grouping factor
  expect_equal(names(fixef(fit)), c("(Intercept)", "Days"))
  expect_equal(sqrt(diag(vcov(fit))), stats::setNames(fit$fixed$std_error, fit$fixed$term))
  vc <- VarCorr(fit)
  expect_equal(unname(vc$Subject$sd), ref$random$sd[[1]], tolerance = 1e-3)
  expect_equal(vc$Residual, ref$sigma, tolerance = 1e-4)
})

test_that("fixef, ranef and VarCorr are nlme's generics, which lme4 re-exports: neither masks the other", {
  expect_identical(spiral::fixef, nlme::fixef)
  expect_identical(spiral::ranef, nlme::ranef)
  expect_identical(spiral::VarCorr, nlme::VarCorr)
})

test_that("a logical predictor is coded as model.matrix() codes it (term xTRUE, as lme4 names it)", {
  d <- read_data("lmm/sleepstudy.csv")
  d$late <- d$Days >= 5
  d$late[3] <- NA
  fit <- suppressWarnings(lmm(Reaction ~ late + (1 | Subject), d))
  expect_equal(fit$fixed$term, c("(Intercept)", "lateTRUE"))
  expect_equal(fit$n_obs, 179)
})

test_that("an ordered factor has polynomial contrasts, as lme4 codes it", {
  d <- read_data("lmm/sleepstudy.csv")
  d$block <- ordered(d$Days %/% 2)
  fit <- lmm(Reaction ~ block + (1 | Subject), d)
  ref <- reference("lmm/ordered_block.json")
  expect_equal(fit$fixed$term, ref$fixed$term)
  expect_equal(fit$fixed$estimate, ref$fixed$estimate, tolerance = 1e-6)
})

test_that("a formula string, a SOURCE string and a data frame agree", {
  a <- lmm("Reaction ~ Days + (1 | Subject)", data_path("lmm/sleepstudy.csv"))
  b <- lmm(Reaction ~ Days + (1 | Subject), read_data("lmm/sleepstudy.csv"))
  expect_equal(a$criterion, b$criterion, tolerance = 1e-12)
})

test_that("lmm compare, ranef and print", {
  d <- read_data("lmm/sleepstudy.csv")
  cmp <- lmm(Reaction ~ Days + (1 | Subject), d, compare = "Reaction ~ Days + (Days | Subject)")
  ref <- reference("lmm/sleepstudy_compare.json")
  expect_equal(cmp$chisq, ref$chisq, tolerance = 1e-5)
  expect_s3_class(cmp$models, "data.frame")
  fit <- lmm(Reaction ~ Days + (Days | Subject), d, ranef = TRUE)
  modes <- ranef(fit)
  expect_equal(names(modes), "Subject")
  expect_equal(names(modes$Subject), c("(Intercept)", "Days"))
  expect_equal(nrow(modes$Subject), 18)
  expect_output(print(fit), "Days")
  expect_equal(ranef(lmm(Reaction ~ Days + (Days | Subject), d)), modes)  # refits for the modes
})

test_that("meta gives metafor's numbers", {
  res <- meta(read_data("meta/bcg.csv"), yi = "yi", vi = "vi", method = "REML", test = "z", slab = "study")
  ref <- reference("meta/rma_bcg.json")$REML_z
  expect_s3_class(res, "spiral_meta")
  for (key in c("estimate", "std_error", "tau2", "I2", "Q")) expect_equal(res[[key]], ref[[key]], tolerance = 1e-5)
  expect_s3_class(res$coefficients, "data.frame")
  expect_equal(dimnames(vcov(res))[[1]], "intrcpt")
  l1o <- meta(read_data("meta/bcg.csv"), yi = "yi", sei = "sei", leave1out = TRUE, slab = "study")
  expect_s3_class(l1o$leave1out, "data.frame")
  expect_equal(nrow(l1o$leave1out), 13)
})

test_that("meta takes mods as a formula", {
  res <- meta(read_data("meta/bcg.csv"), yi = "yi", vi = "vi", mods = ~ ablat)
  expect_equal(res$coefficients$term, c("intrcpt", "ablat"))
})

test_that("panel gives lavaan's numbers", {
  expect_warning(res <- panel(read_data("panel/missing2.csv"), "patient", "session", c("alliance", "symptoms")),
                 "dropped")
  ref <- reference("panel/riclpm_missing2.json")
  expect_s3_class(res, "spiral_panel")
  expect_equal(res$logLik, ref$logLik, tolerance = 1e-6)
  expect_s3_class(res$lagged, "data.frame")
  expect_equal(nrow(res$lagged), 4)
  expect_equal(names(coef(res))[2], "symptoms->alliance")
})

test_that("a list argument may be one string with the CLI's commas", {
  d <- read_data("panel/missing2.csv")
  by_vector <- suppressWarnings(panel(d, "patient", "session", c("alliance", "symptoms")))  # rows dropped
  expect_equal(suppressWarnings(panel(d, "patient", "session", "alliance,symptoms"))$logLik, by_vector$logLik)
  expect_error(panel(d, "patient", "session", "alliance"), "at least 2 variables")
})

test_that("describe keeps factor levels and sorts text in byte order", {
  d <- data.frame(x = c(1.5, NA, 3), n = c(1L, NA, 3L), b = c(TRUE, FALSE, TRUE),
                  arm = factor(c("ctl", "trt", "ctl"), levels = c("trt", "ctl")),
                  site = c("b", "a", NA))
  res <- spiral::describe(d)
  cols <- res$columns
  rownames(cols) <- cols$name
  expect_equal(cols["x", "missing"], 1)
  expect_equal(cols["n", "type"], "numeric")
  expect_equal(cols[["levels"]][[which(cols$name == "b")]]$level, c("FALSE", "TRUE"))  # as summary(b) counts
  expect_equal(cols[["levels"]][[which(cols$name == "b")]]$n, c(1, 2))
  expect_equal(cols[["levels"]][[which(cols$name == "arm")]]$level, c("trt", "ctl"))
  expect_equal(cols[["levels"]][[which(cols$name == "arm")]]$n, c(1, 2))
  expect_equal(cols[["levels"]][[which(cols$name == "site")]]$level, c("a", "b"))
})

test_that("a bad column raises an error naming it", {
  d <- read_data("lmm/sleepstudy.csv")
  expect_error(lmm(Reaction ~ Dayz + (1 | Subject), d), "Dayz")
  expect_error(panel(read_data("panel/missing2.csv"), "patient", "session", c("alliance", "nope")), "nope")
  expect_error(lmm(Reaction ~ Days + (1 | Subject), d, reml = FALSE), "unknown option 'reml'")
})

test_that("lmer's weights = (a column, ~column or a vector) and REML = FALSE", {
  d <- read_data("lmm/sleepstudy.csv")
  d$w <- rep(c(0.5, 1, 2), length.out = nrow(d))
  quiet <- function(x) suppressWarnings(x)
  by_name <- quiet(lmm(Reaction ~ Days + (1 | Subject), d, weights = "w"))
  expect_equal(quiet(lmm(Reaction ~ Days + (1 | Subject), d, weights = ~w))$criterion, by_name$criterion)
  expect_equal(quiet(lmm(Reaction ~ Days + (1 | Subject), d, weights = d$w))$criterion, by_name$criterion)
  expect_error(lmm(Reaction ~ Days + (1 | Subject), d, weights = d$w[-1]), "^weights: expected .* 180 weights .*got 179 numbers")
  expect_error(lmm(Reaction ~ Days + (1 | Subject), d, weights = ~ w + Days), "^weights: expected a column name")
  ml <- quiet(lmm(Reaction ~ Days + (1 | Subject), d, ml = TRUE))
  expect_equal(quiet(lmm(Reaction ~ Days + (1 | Subject), d, REML = FALSE))$criterion, ml$criterion)
  expect_equal(quiet(lmm(Reaction ~ Days + (1 | Subject), d, REML = TRUE))$method, "REML")
  expect_error(lmm(Reaction ~ Days + (1 | Subject), d, REML = FALSE, ml = TRUE), "^REML: give REML or ml")
})

test_that("library warnings are R warnings", {
  expect_warning(fit <- lmm(y ~ x + (1 | g), read_data("lmm/singular.csv")), "singular")
  expect_true(fit$singular)
  # The only warning of sleepstudy's fit: Days (0-9) may be categories coded by numbers.
  w <- testthat::capture_warnings(lmm(Reaction ~ Days + (Days | Subject), read_data("lmm/sleepstudy.csv")))
  expect_equal(length(w), 1)
  expect_match(w, "column 'Days' holds 10 distinct whole numbers", fixed = TRUE)
})

test_that("tidy and glance are registered for generics", {
  skip_if_not_installed("generics")
  fit <- lmm(Reaction ~ Days + (Days | Subject), read_data("lmm/sleepstudy.csv"))
  expect_equal(generics::tidy(fit, effects = "fixed")$term, c("(Intercept)", "Days"))
  expect_equal(generics::glance(fit)$nobs, 180)
})
