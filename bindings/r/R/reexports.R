# lme4-style accessors are nlme's generics, which lme4 re-exports, so that loading lme4
# beside spiral (or after it) masks nothing.

#' @importFrom nlme fixef
#' @export
nlme::fixef

#' @importFrom nlme ranef
#' @export
nlme::ranef

#' @importFrom nlme VarCorr
#' @export
nlme::VarCorr
