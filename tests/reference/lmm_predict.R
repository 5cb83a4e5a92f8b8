# Reference values of lmm prior weights, fitted values, residuals and predictions (specification
# section 3.1: --weights, --augment, --newdata/--predict with --re-form) on real data sets from
# R packages: lme4's sleepstudy and cake, nlme's Orthodont, Oxboys and BodyWeight.
# Run from the repository root:  Rscript tests/reference/lmm_predict.R
# Writes the data it adds to tests/data/lmm (*_weights.csv, oxboys.csv, predict_*.csv)
# and the values to tests/reference/lmm:
#   predict_weights.json  describe_fit() (tests/reference/lmm.R) of lmer(formula, weights = w, REML)
#   predict_augment.json  per fit: broom.mixed::augment()'s .fitted, .resid, .fixed
#                         (= fitted(fit), residuals(fit, type = "response"), predict(fit, re.form = NA))
#   predict_ar1_weights.json  nlme::lme() with varFixed(~ 1/w) weights and corAR1 residuals
#   predict_newdata.json  per fit and newdata: predict(fit, newdata, re.form = NULL or NA,
#                         allow.new.levels = TRUE), NA for an incomplete row
# Every fit converges tightly (nloptwrap with xtol_abs 1e-12, ftol_abs 1e-14, then Newton steps
# on the gradient: tests/reference/lmm_optimum.R) so that its values are the optimum's, not
# where lme4's default stopping rule leaves them.
suppressPackageStartupMessages({
  library(lmerTest)
  library(nlme)
  library(splines)
  library(broom.mixed)
  library(jsonlite)
})
source("tests/reference/lmm_optimum.R")
for (e in parse("tests/reference/lmm.R")) {  # describe_fit() and the other helpers, no fits
  if (is.call(e) && identical(e[[1]], as.name("<-")) && is.call(e[[3]]) && identical(e[[3]][[1]], as.name("function")))
    eval(e)
}
data_dir <- "tests/data/lmm"
ref_dir <- "tests/reference/lmm"
tight <- lmerControl(optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12, maxeval = 1e5),
                     check.conv.singular = "ignore")
read <- function(name) read.csv(file.path(data_dir, name), stringsAsFactors = TRUE)

# sleepstudy with a prior weight per row (uniform 0.5..2, two decimals) and 3 missing responses.
sleepstudy <- read("sleepstudy.csv")
set.seed(24)
sleepstudy$w <- round(runif(nrow(sleepstudy), 0.5, 2), 2)
sleepstudy$Reaction[c(5, 40, 99)] <- NA
sleepstudy <- write_data(sleepstudy, "sleepstudy_weights.csv")
sleepstudy$Subject <- factor(sleepstudy$Subject)
orthodont <- read("orthodont.csv")
orthodont$w <- ifelse(orthodont$Sex == "Male", 1, 2) * (1 + orthodont$occasion / 4)
orthodont <- write_data(orthodont, "orthodont_weights.csv")
penicillin <- read("penicillin.csv")  # crossed plate x sample; Pastes: casks nested in batches
penicillin$w <- rep(c(1, 0.5, 2, 1.5), length.out = nrow(penicillin))
penicillin <- write_data(penicillin, "penicillin_weights.csv")
pastes <- read("pastes.csv")
pastes$w <- rep(c(0.8, 1.6, 1.2), length.out = nrow(pastes))
pastes <- write_data(pastes, "pastes_weights.csv")
data(Oxboys, package = "nlme")
oxboys <- write_data(data.frame(Subject = as.character(Oxboys$Subject), age = Oxboys$age,
                                height = Oxboys$height, Occasion = as.integer(Oxboys$Occasion)), "oxboys.csv")
cake <- read("cake.csv")
bodyweight <- read("bodyweight.csv")
data_sets <- list(sleepstudy_weights.csv = sleepstudy, orthodont_weights.csv = orthodont, oxboys.csv = oxboys,
                  penicillin_weights.csv = penicillin, pastes_weights.csv = pastes,
                  cake.csv = cake, bodyweight.csv = bodyweight)

# Each fit at the optimum of its criterion (at_optimum, tests/reference/lmm_optimum.R): fitted
# values and predictions depend on theta to more digits than the criterion pins it to.
fit_of <- function(k) {
  d <- data_sets[[k$data]]
  w <- if (k$weights == "") NULL else d[[k$weights]]
  # lmer evaluates weights = in the data's environment: pass the column itself.
  d$.w <- if (is.null(w)) 1 else w
  fit_with <- function(...)
    if (is.null(w)) lmer(as.formula(k$formula), data = d, REML = !isTRUE(k$ml), ...)
    else lmer(as.formula(k$formula), data = d, REML = !isTRUE(k$ml), weights = .w, ...)
  at_optimum(fit_with, tight)
}
case <- function(data, formula, weights = "", ml = FALSE) list(data = data, formula = formula, weights = weights, ml = ml)

# 1. Prior weights: the whole fit.
weighted <- list(
  case("sleepstudy_weights.csv", "Reaction ~ Days + (Days | Subject)", "w"),
  case("sleepstudy_weights.csv", "Reaction ~ Days + (Days | Subject)", "w", ml = TRUE),
  case("orthodont_weights.csv", "distance ~ age * Sex + (1 | Subject)", "w"),
  case("orthodont_weights.csv", "distance ~ poly(age, 2) + Sex + (age | Subject)", "w"),
  case("penicillin_weights.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)", "w"),
  case("pastes_weights.csv", "strength ~ 1 + (1 | batch/cask)", "w")
)
write_ref(lapply(weighted, function(k) c(list(data = k$data, weights = k$weights, ml = k$ml), describe_fit(fit_of(k), k$formula))),
          "predict_weights.json")

# 2. augment(): the model's rows (complete cases) with .fitted, .resid, .fixed.
augmented <- list(
  case("sleepstudy_weights.csv", "Reaction ~ Days + (Days | Subject)", "w"),
  case("sleepstudy_weights.csv", "Reaction ~ Days + offset(Days * 2) + (1 | Subject)"),
  case("orthodont_weights.csv", "distance ~ poly(age, 2) + Sex + (age | Subject)"),
  case("oxboys.csv", "height ~ age + I(age^2) + (age | Subject)"),
  case("cake.csv", "angle ~ recipe + factor(temp) + (1 | replicate)", ml = TRUE),
  case("bodyweight.csv", "log(weight) ~ ns(Time, 3) + Diet + (1 | Rat)")
)
write_ref(lapply(augmented, function(k) {
  fit <- fit_of(k)
  a <- augment(fit)
  stopifnot(isTRUE(all.equal(unname(a$.fitted), unname(fitted(fit)))),
            isTRUE(all.equal(unname(a$.resid), unname(residuals(fit, type = "response")))),
            isTRUE(all.equal(unname(a$.fixed), unname(predict(fit, re.form = NA)))))
  c(k, list(n_obs = nobs(fit), fitted = unname(fitted(fit)), resid = unname(residuals(fit, type = "response")),
            fixed = unname(predict(fit, re.form = NA))))
}), "predict_augment.json")

# 3. predict() on new data: new ages/days, a subject the fit never saw, an incomplete row.
newdata <- list(
  predict_sleepstudy.csv = data.frame(Subject = rep(c("308", "372", "999"), each = 4), Days = rep(c(0, 4.5, 9, 12), 3)),
  predict_orthodont.csv = data.frame(Subject = c("M01", "F11", "X99", "M05"), Sex = c("Male", "Female", "Male", "Male"),
                                     age = c(7, 11.5, 14, NA)),
  predict_oxboys.csv = data.frame(Subject = c("1", "26", "27"), age = c(-1.2, 0, 1.1)),
  predict_cake.csv = data.frame(replicate = c(1, 15, 16), recipe = c("A", "C", "B"), temp = c(175, 225, 205)),
  predict_bodyweight.csv = data.frame(Rat = c("r1", "r16", "r99"), Diet = c("d1", "d3", "d2"), Time = c(1, 30, 64))
)
for (name in names(newdata)) newdata[[name]] <- write_data(newdata[[name]], name)
predicted <- list(
  c(augmented[[1]], newdata = "predict_sleepstudy.csv"),
  c(augmented[[2]], newdata = "predict_sleepstudy.csv"),
  c(augmented[[3]], newdata = "predict_orthodont.csv"),
  c(augmented[[4]], newdata = "predict_oxboys.csv"),
  c(augmented[[5]], newdata = "predict_cake.csv"),
  c(augmented[[6]], newdata = "predict_bodyweight.csv")
)
write_ref(unlist(lapply(predicted, function(k) {
  fit <- fit_of(k)
  nd <- newdata[[k$newdata]]
  lapply(c("full", "NA"), function(re_form) {
    p <- predict(fit, newdata = nd, re.form = if (re_form == "NA") NA else NULL, allow.new.levels = TRUE,
                 na.action = na.pass)
    c(k, list(re_form = re_form, fitted = unname(p)))
  })
}), recursive = FALSE), "predict_newdata.json")

# 4. Prior weights with AR(1) residuals: nlme's lme(weights = varFixed(~ 1/w), correlation =
# corAR1(form = ~ occasion | Subject), REML), residual covariance sigma^2 W^-1/2 C W^-1/2.
m <- lme(distance ~ age * Sex, random = ~ 1 | Subject, data = orthodont, weights = varFixed(~ I(1 / w)),
         correlation = corAR1(form = ~ occasion | Subject), method = "REML",
         control = lmeControl(opt = "optim", optimMethod = "BFGS", reltol = 1e-14))
write_ref(list(data = "orthodont_weights.csv", formula = "distance ~ age * Sex + (1 | Subject)", weights = "w",
               ar1 = "occasion", logLik = as.numeric(logLik(m)), sigma = m$sigma,
               phi = unname(coef(m$modelStruct$corStruct, unconstrained = FALSE)),
               fixed = unname(fixef(m)), std_error = unname(sqrt(diag(vcov(m))))),
          "predict_ar1_weights.json")
