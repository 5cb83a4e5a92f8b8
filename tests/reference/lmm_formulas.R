# Reference fits of lmm formulas with R's functions (specification section 3.1) on real data sets
# from R packages: lme4's sleepstudy, nlme's Orthodont and BodyWeight (the CSVs of
# tests/data/lmm written by tests/reference/lmm.R). Writes tests/reference/lmm/formulas.json,
# one lmerTest::lmer() fit per formula described as tests/reference/lmm.R describes fits.
# Run from the repository root: Rscript tests/reference/lmm_formulas.R
suppressPackageStartupMessages({
  library(lmerTest)
  library(splines)
  library(jsonlite)
})
# The function definitions of tests/reference/lmm.R (describe_fit, ...), without its fits.
for (e in parse("tests/reference/lmm.R")) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && is.call(e[[3]]) && identical(e[[3]][[1]], as.name("function")))
    eval(e)
}
read <- function(name) read.csv(file.path("tests/data/lmm", name), stringsAsFactors = TRUE)
sleepstudy <- read("sleepstudy.csv")
sleepstudy$Subject <- factor(sleepstudy$Subject)
orthodont <- read("orthodont.csv")
bodyweight <- read("bodyweight.csv")
cases <- list(
  list("sleepstudy.csv", sleepstudy, "Reaction ~ poly(Days, 2) + (Days | Subject)"),
  list("sleepstudy.csv", sleepstudy, "log(Reaction) ~ Days + (1 | Subject)"),
  list("sleepstudy.csv", sleepstudy, "Reaction ~ factor(Days) + (1 | Subject)"),
  list("sleepstudy.csv", sleepstudy, "Reaction ~ ns(Days, 3) + (1 | Subject)"),
  list("sleepstudy.csv", sleepstudy, "Reaction ~ scale(Days) + I(Days^2) + (scale(Days) | Subject)"),
  list("sleepstudy.csv", sleepstudy, "Reaction ~ Days + offset(Days * 10) + (1 | Subject)"),
  list("orthodont.csv", orthodont, "distance ~ I(age - 11) * Sex + (I(age - 11) | Subject)"),
  list("orthodont.csv", orthodont, "sqrt(distance) ~ poly(age, 2, raw = TRUE) + Sex + (1 | Subject)"),
  list("bodyweight.csv", bodyweight, "log(weight) ~ Time * Diet + (1 | Rat)"),
  list("bodyweight.csv", bodyweight, "weight ~ bs(Time, 4) + Diet + (1 | Rat)"),
  list("bodyweight.csv", bodyweight, "weight ~ scale(Time, scale = FALSE) %in% Diet + (1 | Rat)")
)
out <- lapply(cases, function(k) {
  fit <- lmer(as.formula(k[[3]]), data = k[[2]], REML = TRUE)
  c(list(data = k[[1]]), describe_fit(fit, k[[3]]))
})
write_json(out, "tests/reference/lmm/formulas.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
