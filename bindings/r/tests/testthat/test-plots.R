# forest() and funnel() of a meta-analysis draw on the R graphics device, and leave metafor's
# own methods working whichever package was attached last.

test_that("forest() and funnel() draw a spiral meta-analysis and return it invisibly", {
  bcg <- rpkg_data("bcg.csv")
  grDevices::pdf(NULL)
  grDevices::dev.control("enable")  # so that recordPlot() sees what was drawn
  on.exit(grDevices::dev.off())
  for (res in list(meta(bcg, yi = "yi", vi = "vi"), meta(bcg, yi = "yi", vi = "vi", mods = ~ablat))) {
    expect_invisible(out <- forest(res))
    expect_identical(out, res)
    expect_false(is.null(grDevices::recordPlot()[[1]]))
    expect_invisible(funnel(res))
  }
})

test_that("spiral's forest() and funnel() hand metafor's fits to metafor", {
  skip_if_not_installed("metafor")
  bcg <- rpkg_data("bcg.csv")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  fit <- metafor::rma(yi, vi, data = bcg)
  expect_no_error(forest(fit))
  expect_no_error(funnel(fit))
  expect_no_error(metafor::forest(meta(bcg, yi = "yi", vi = "vi")))  # and metafor's generic draws spiral's
})
