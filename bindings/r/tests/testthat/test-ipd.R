# prep and the two-stage IPD functions against R's lme4 + metafor recipe (tests/reference/ipd.R).
spec <- file.path(repo, "tests", "data", "ipd", "analysis.toml")

test_that("prep returns the prepared data frame", {
  prepared <- prep(spec)
  expect_s3_class(prepared, "data.frame")
  expect_true(all(c("P", "O", "Pm", "Om", "Pw", "Ow", "Pw_lag1", "Ow_lag1") %in% names(prepared)))
})

test_that("ipd_run pools as R, and stage1 bundles + stage2 give the same", {
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
    ipd_stage1(spec, s, out = path)
    path
  }, "")
  res2 <- suppressWarnings(ipd_stage2(spec, bundles))
  expect_equal(res2$pooled$estimate, res$pooled$estimate, tolerance = 1e-12)
  expect_equal(generics::tidy(res)$term, res$pooled$term)
  expect_error(ipd_stage1(spec, "nowhere"), "nowhere")
})
