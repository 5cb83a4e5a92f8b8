library(testthat)
library(spiral)
test_check("spiral")
