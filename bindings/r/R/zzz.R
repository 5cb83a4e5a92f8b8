.onLoad <- function(libname, pkgname) {
  if (requireNamespace("generics", quietly = TRUE)) {
    generics <- asNamespace("generics")
    for (class in c("spiral_result")) {
      registerS3method("tidy", class, tidy_spiral, envir = generics)
      registerS3method("glance", class, glance_spiral, envir = generics)
    }
  }
}
