# prep and the two-stage IPD functions against R's lme4 + metafor recipe (tests/reference/ipd.R).
ipd_spec <- function() data_path("ipd/analysis.toml")

test_that("prep returns the prepared data frame", {
  spec <- ipd_spec()
  prepared <- prep(spec)
  expect_s3_class(prepared, "data.frame")
  expect_true(all(c("P", "O", "Pm", "Om", "Pw", "Ow", "Pw_lag1", "Ow_lag1") %in% names(prepared)))
})

test_that("ipd_run pools as R, and stage1 bundles + stage2 give the same", {
  spec <- ipd_spec()
  out <- tempfile()
  res <- suppressWarnings(ipd_run(spec, out = out))
  expect_s3_class(res, "spiral_ipd")
  expect_s3_class(res$pooled, "data.frame")
  expect_true(file.exists(file.path(out, "results.json")))
  ref <- utils::read.csv(file.path(repo, "tests", "reference", "ipd", "stage2.csv"))
  row <- res$pooled[res$pooled$model == "process_to_outcome" & res$pooled$term == "Pw_lag1", ]
  want <- ref[ref$model == "process_to_outcome" & ref$term == "Pw_lag1", ]
  expect_equal(row$estimate, want$estimate, tolerance = 1e-4)
  expect_equal(row$std_error, want$std_error, tolerance = 1e-3)
  studies <- unique(utils::read.csv(file.path(repo, "tests", "data", "ipd", "sessions.csv"))$study)
  bundles <- vapply(studies, function(s) {
    path <- tempfile(fileext = ".json")
    suppressWarnings(ipd_stage1(spec, s, out = path))  # what stage 1 found (singular fits), as ipd run warns
    path
  }, "")
  res2 <- suppressWarnings(ipd_stage2(spec, bundles))
  expect_equal(res2$pooled$estimate, res$pooled$estimate, tolerance = 1e-12)
  expect_equal(generics::tidy(res)$term, res$pooled$term)
  expect_error(ipd_stage1(spec, "nowhere"), "nowhere")
})

test_that("simulate_sessions returns the data and the truth, NA for missing", {
  sim <- simulate_sessions(studies = 2, patients = 40, sessions = 4, seed = 3, process_to_outcome = -0.2)
  expect_s3_class(sim$sessions, "data.frame")
  expect_equal(names(sim$sessions), c("study", "patient", "therapist", "session", "alliance", "symptoms"))
  expect_true(anyNA(sim$sessions$alliance))
  expect_false(any(is.nan(sim$sessions$alliance)))
  truth <- sim$truth[sim$truth$model == "process_to_outcome" & sim$truth$term == "Pw_lag1", "value"]
  expect_equal(truth, -0.2)
  expect_error(simulate_sessions(sessions = 1), "sessions")
})

test_that("power_analysis runs the replications of a simulated spec", {
  dir <- tempfile("power")
  dir.create(dir)
  spec <- file.path(dir, "analysis.toml")
  simulate_sessions(studies = 3, patients = 90, sessions = 5, seed = 7, process_to_outcome = -0.2,
                    therapists_per_study = 3, out = file.path(dir, "s.csv"),
                    patients_out = file.path(dir, "p.csv"), spec_out = spec)
  res <- power_analysis(spec, replications = 2, threads = 1)
  expect_s3_class(res, "spiral_power")
  expect_equal(res$replications, 2)
  expect_s3_class(res$results, "data.frame")
  row <- res$results[res$results$model == "process_to_outcome" & res$results$term == "Pw_lag1", ]
  expect_equal(row$truth, -0.2)
  expect_true(row$power >= 0 && row$power <= 1)
  expect_error(power_analysis(file.path(dir, "absent.toml"), replications = 2), "absent.toml")
})
