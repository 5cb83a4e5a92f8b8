# The checkout (SPIRAL_REPO, set by `make test-bindings`; default: four levels up from here)
# holds the data and the R reference values written by tests/reference/*.R. In the source
# package (make r-package) there is no checkout: tests that need one are skipped, and the
# values of tests/reference/rpkg.R travel with the package in reference/rpkg.
repo <- Sys.getenv("SPIRAL_REPO", normalizePath(file.path(testthat::test_path(), "..", "..", "..", ".."), mustWork = FALSE))
in_checkout <- function(path) {
  if (!file.exists(path)) testthat::skip(paste("needs the checkout:", path))
  path
}
data_path <- function(name) in_checkout(file.path(repo, "tests", "data", name))
read_data <- function(name) utils::read.csv(data_path(name))
reference <- function(name) jsonlite::fromJSON(in_checkout(file.path(repo, "tests", "reference", name)), simplifyVector = TRUE)

# tests/reference/rpkg/NAME: in the package, or in the checkout.
rpkg_path <- function(name) {
  packaged <- testthat::test_path("reference", "rpkg", name)
  if (file.exists(packaged)) packaged else in_checkout(file.path(repo, "tests", "reference", "rpkg", name))
}
rpkg_reference <- function(name) jsonlite::fromJSON(rpkg_path(name), simplifyVector = TRUE)
rpkg_data <- function(name) utils::read.csv(rpkg_path(name), stringsAsFactors = TRUE)
