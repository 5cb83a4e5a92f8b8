# dsem(): the CLI's JSON for the same seed, the posterior summaries and the draws as data frames
# (specification sections 8 and 9); bad input as the CLI's errors.

cli_binary <- function() {
  path <- Sys.getenv("SPIRAL_CLI", file.path(repo, "build", "spiral"))
  if (!file.exists(path)) testthat::skip(paste("needs the CLI:", path))
  path
}

small_fit <- function() {
  data <- utils::read.csv(in_checkout(file.path(repo, "tests", "reference", "dsem", "small.csv")))
  expect_warning(fit <- dsem(data, "patient", "session", c("alliance", "symptoms"), between = "baseline",
                             chains = 2, iter = 300, warmup = 100, seed = 4), "ESS below 400")
  fit
}

test_that("dsem gives the CLI's JSON for the same seed", {
  fit <- small_fit()
  out <- system2(cli_binary(), c("dsem", "--data", shQuote(file.path(repo, "tests", "reference", "dsem", "small.csv")),
                                 "--id", "patient", "--time", "session", "--vars", "alliance,symptoms",
                                 "--between", "baseline", "--chains", "2", "--iter", "300", "--warmup", "100",
                                 "--seed", "4", "--format", "json"), stdout = TRUE, stderr = FALSE)
  cli <- jsonlite::fromJSON(paste(out, collapse = "\n"), simplifyVector = TRUE)
  expect_s3_class(fit, "spiral_dsem")
  for (key in c("fixed", "moderators", "random", "innovations")) {
    expect_s3_class(fit[[key]], "data.frame")
    expect_identical(fit[[key]]$mean, cli[[key]]$mean)
    expect_identical(fit[[key]]$sd, cli[[key]]$sd)
    expect_identical(fit[[key]]$rhat, cli[[key]]$rhat)
  }
  expect_identical(fit$diagnostics$max_rhat, cli$diagnostics$max_rhat)
})

test_that("summary, coef and the draws of a dsem fit", {
  fit <- small_fit()
  post <- summary(fit)
  expect_s3_class(post, "data.frame")
  expect_equal(names(post), c("parameter", "mean", "median", "sd", "conf_low", "conf_high", "rhat", "ess_bulk", "ess_tail"))
  records <- rbind(fit$fixed[, c("mean", "sd")], fit$moderators[, c("mean", "sd")], fit$random[, c("mean", "sd")],
                   fit$innovations[, c("mean", "sd")])
  expect_identical(post$mean, records$mean)
  expect_identical(post$sd, records$sd)
  expect_identical(unname(coef(fit)["fixed:alliance->symptoms"]),
                   fit$fixed$mean[which(fit$fixed$from == "alliance" & fit$fixed$to == "symptoms")])
  draws <- fit$draws
  expect_equal(names(draws), c("chain", "iteration", post$parameter))
  expect_equal(nrow(draws), 400)
  expect_equal(sort(unique(draws$chain)), c(1, 2))
  expect_equal(unname(colMeans(draws[, post$parameter])), post$mean, tolerance = 1e-12)
  expect_output(print(fit), "Average lagged effects")
})

test_that("dsem's bad input is the CLI's error", {
  d <- data.frame(patient = rep(c("a", "b"), each = 3), session = rep(1:3, 2),
                  alliance = c(1, 2, 1.5, 2, 3, 1), symptoms = c(2, 1, 3, 2, 1, 2), baseline = c(0, 0, 1, 1, 1, 1))
  expect_error(dsem(d, "patient", "session", c("alliance", "symptoms"), between = "baseline"),
               "between column 'baseline' varies within patient 'a'")
  d2 <- d; d2$alliance <- 1
  expect_error(dsem(d2, "patient", "session", c("alliance", "symptoms")), "column 'alliance' is constant")
  expect_error(dsem(d[d$session < 3, ], "patient", "session", c("alliance", "symptoms")), "no patient has 3 sessions")
})
