# The checkout (SPIRAL_REPO, set by `make test-bindings`; default: four levels up from here)
# holds the data and the R reference values written by tests/reference/*.R.
repo <- Sys.getenv("SPIRAL_REPO", normalizePath(file.path(testthat::test_path(), "..", "..", "..", ".."), mustWork = FALSE))
data_path <- function(name) file.path(repo, "tests", "data", name)
read_data <- function(name) utils::read.csv(data_path(name))
reference <- function(name) jsonlite::fromJSON(file.path(repo, "tests", "reference", name), simplifyVector = TRUE)
