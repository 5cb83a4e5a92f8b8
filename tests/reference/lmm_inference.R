# Reference values for spiral lmm's inference options (specification section 3.1): lmerTest's
# anova() (type III F tests, Satterthwaite df), lme4's anova(m0, m1, m2) (sequential LRTs with
# ML refits), lmerTest's ranova() and lme4's confint(method = "Wald" | "profile").
# Run from the repository root:  Rscript tests/reference/lmm_inference.R
# Reads tests/data/lmm/{sleepstudy,orthodont,bodyweight,machines}.csv (written by
# tests/reference/lmm.R), writes tests/data/lmm/{cake,five_arm,chick,aliased}.csv and
# tests/reference/lmm/inference_{anova,anova_aliased,compare,ranova,confint}.json.
suppressPackageStartupMessages({
  library(lmerTest)
  library(jsonlite)
})
data_dir <- "tests/data/lmm"
ref_dir <- "tests/reference/lmm"
read <- function(name) read.csv(file.path(data_dir, name), stringsAsFactors = TRUE)
write_data <- function(d, name) {
  write.csv(d, file.path(data_dir, name), row.names = FALSE, quote = TRUE)
  read(name)
}
write_ref <- function(x, name)
  write_json(x, file.path(ref_dir, name), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")

sleepstudy <- read("sleepstudy.csv")
sleepstudy$Subject <- factor(sleepstudy$Subject)
orthodont <- read("orthodont.csv")
bodyweight <- read("bodyweight.csv")
machines <- read("machines.csv")
# lme4's cake: temperature (an ordered factor in lme4) as its numbers; the formula makes it a factor.
data(cake, package = "lme4")
cake <- write_data(data.frame(replicate = as.integer(cake$replicate), recipe = as.character(cake$recipe),
                              temp = cake$temp, angle = cake$angle), "cake.csv")
# A simulated 5-arm trial: 150 patients (30 per arm) with 6 sessions each; the alliance effect
# differs by arm.
set.seed(20261207)
patients <- 150
arm <- rep(c("A", "B", "C", "D", "E"), each = patients / 5)
five <- do.call(rbind, lapply(seq_len(patients), function(i) {
  session <- 0:5
  alliance <- round(rnorm(6, 0, 1), 3)
  effect <- c(A = 0, B = 0.3, C = 0.5, D = 0.2, E = -0.1)[arm[i]]
  slope <- c(A = 0.2, B = 0.4, C = 0.1, D = 0.3, E = 0.25)[arm[i]]
  u <- rnorm(2, 0, c(0.8, 0.15))
  y <- 10 + effect + slope * alliance + u[1] + (u[2] - 0.3) * session + rnorm(6, 0, 0.7)
  data.frame(patient = sprintf("p%03d", i), arm = arm[i], session = session, alliance = alliance,
             outcome = round(y, 4))
}))
five <- write_data(five, "five_arm.csv")

data_sets <- list("sleepstudy.csv" = sleepstudy, "orthodont.csv" = orthodont, "bodyweight.csv" = bodyweight,
                  "machines.csv" = machines, "cake.csv" = cake, "five_arm.csv" = five)
# The call names the data set as a global variable, so that update() (ranova, anova refits) finds it.
for (d in names(data_sets)) assign(sub("\\.csv$", "", d), data_sets[[d]])
fit <- function(data, formula, REML = TRUE)
  eval(bquote(lmer(.(as.formula(formula)), data = .(as.name(sub("\\.csv$", "", data))), REML = .(REML))))

# --anova: lmerTest's anova(fit) (type III, Satterthwaite).
anova_cases <- list(
  c("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"),
  c("orthodont.csv", "distance ~ age * Sex + (age | Subject)"),
  c("cake.csv", "angle ~ recipe * factor(temp) + (1 | recipe:replicate)"),
  c("machines.csv", "score ~ Machine + (1 | Worker) + (1 | Worker:Machine)"),
  c("bodyweight.csv", "weight ~ Time * factor(Diet) + (Time | Rat)"),
  c("five_arm.csv", "outcome ~ arm * alliance + session + (session | patient)"),
  c("five_arm.csv", "outcome ~ arm + alliance + (1 | patient)")
)
# Where lme4's default optimizer stops short (checkConv's warning: BodyWeight, max|grad| 0.015),
# the fit at the optimum gives the values ("converged_by_tight_control": true): tight tolerances,
# then Newton steps on the gradient (at_optimum, tests/reference/lmm_optimum.R).
source("tests/reference/lmm_optimum.R")
tight <- lmerControl(optimizer = "nloptwrap", optCtrl = list(ftol_abs = 1e-14, ftol_rel = 1e-14, xtol_abs = 1e-12,
                                                             xtol_rel = 1e-12, maxeval = 1e5))
write_ref(lapply(anova_cases, function(k) {
  m <- fit(k[1], k[2])
  stopped_short <- length(m@optinfo$conv$lme4$messages) > 0
  if (stopped_short)
    m <- at_optimum(function(...) eval(bquote(lmer(.(as.formula(k[2])), data = .(as.name(sub("\\.csv$", "", k[1]))), ...))),
                    tight)
  a <- anova(m)  # lmerTest:::anova.lmerModLmerTest, type = "III", ddf = "Satterthwaite"
  list(data = k[1], formula = k[2], converged_by_tight_control = stopped_short,
       anova = lapply(seq_len(nrow(a)), function(i)
         list(term = rownames(a)[i], num_df = a$NumDF[i], den_df = a$DenDF[i], F = a[["F value"]][i],
              p_value = a[["Pr(>F)"]][i])))
}), "inference_anova.json")

# --anova with an aliased (dropped) fixed-effect column: lme4 drops the column, lmerTest builds
# the type III hypotheses over the kept columns (extract_contrasts_type3: L = ginv(X) rdX on the
# data, X without the dropped column) and lists a term left without columns last, all NA.
# ChickWeight (Chick as text, prior weights w): I(Time/10) is aliased with poly(Time, 2)1.
chick <- as.data.frame(ChickWeight)
chick <- write_data(data.frame(weight = chick$weight, Time = chick$Time, Chick = as.character(chick$Chick),
                               Diet = as.integer(chick$Diet),
                               w = 1 + (as.integer(as.character(chick$Chick)) %% 3) / 2), "chick.csv")
# A small simulated case: I(2 * x) aliased with x; h crossed with f with the cell (f = c, h = v)
# empty, so that f:h keeps one of its two columns.
set.seed(20261207)
aliased <- data.frame(g = rep(sprintf("g%d", 1:8), each = 6), x = round(rnorm(48), 3), f = rep(c("a", "b", "c"), 16),
                      h = rep(c("u", "v"), each = 24))
aliased$y <- round(1 + aliased$x + 0.3 * as.integer(factor(aliased$f)) + rep(rnorm(8), each = 6) + rnorm(48), 4)
aliased <- write_data(aliased[!(aliased$f == "c" & aliased$h == "v"), ], "aliased.csv")
aliased_cases <- list(
  list(data = "chick.csv", weights = "w",
       formula = "log(weight) ~ poly(Time, 2) * factor(Diet) + I(Time/10) + (1 + Time | Chick)"),
  list(data = "aliased.csv", weights = "", formula = "y ~ x + I(2*x) + f + (1 | g)"),
  list(data = "aliased.csv", weights = "", formula = "y ~ f * h + x + (1 | g)"),
  list(data = "aliased.csv", weights = "", formula = "y ~ f * h + I(2*x) + x + (1 | g)")
)
write_ref(lapply(aliased_cases, function(k) {
  d <- read(k$data)
  m <- if (!nzchar(k$weights)) lmer(as.formula(k$formula), d) else lmer(as.formula(k$formula), d, weights = d[[k$weights]])
  a <- suppressMessages(anova(m))  # type III, Satterthwaite; "Missing cells for: fc:hv" is a message
  list(data = k$data, weights = k$weights, formula = k$formula, 
       dropped = I(setdiff(names(fixef(m, add.dropped = TRUE)), names(fixef(m)))),
       anova = lapply(seq_len(nrow(a)), function(i)
         list(term = rownames(a)[i], num_df = a$NumDF[i], den_df = a$DenDF[i], F = a[["F value"]][i],
              p_value = a[["Pr(>F)"]][i])))
}), "inference_anova_aliased.json")

# --compare: anova(m0, m1, ...) of lme4 (ML refits, models ordered by their number of parameters).
compare_cases <- list(
  list("sleepstudy.csv", c("Reaction ~ 1 + (1 | Subject)", "Reaction ~ Days + (1 | Subject)",
                           "Reaction ~ Days + (Days | Subject)")),
  list("five_arm.csv", c("outcome ~ session + (session | patient)", "outcome ~ arm + session + (session | patient)",
                         "outcome ~ arm * alliance + session + (session | patient)"))
)
write_ref(lapply(compare_cases, function(k) {
  fits <- lapply(k[[2]], function(f) fit(k[[1]], f))
  a <- do.call(anova, c(fits, list(refit = TRUE)))
  list(data = k[[1]], formulas = I(k[[2]]),
       models = lapply(seq_len(nrow(a)), function(i)
         list(df_model = a$npar[i], AIC = a$AIC[i], BIC = a$BIC[i], logLik = a$logLik[i], deviance = a$deviance[i])),
       tests = lapply(seq_len(nrow(a))[-1], function(i)
         list(chisq = a$Chisq[i], chisq_df = a$Df[i], p_value = a[["Pr(>Chisq)"]][i])))
}), "inference_compare.json")

# --ranova: lmerTest's ranova(fit) (reduce.terms = TRUE; REML fits stay REML).
ranova_cases <- list(
  c("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"),
  c("machines.csv", "score ~ Machine + (1 | Worker) + (1 | Worker:Machine)"),
  c("bodyweight.csv", "weight ~ Time * factor(Diet) + (Time | Rat)"),
  c("cake.csv", "angle ~ recipe * factor(temp) + (1 | recipe:replicate)"),
  c("orthodont.csv", "distance ~ age * Sex + (age | Subject)"),
  # the written left side: "Days in (1 + Days | Subject)"
  c("sleepstudy.csv", "Reaction ~ Days + (1 + Days | Subject)"),
  # a || term: reducing (0 + Days | Subject) to (1 | Subject) repeats the other part, which the
  # refit has once (npar 4, Df 1)
  c("sleepstudy.csv", "Reaction ~ Days + (Days || Subject)")
)
write_ref(lapply(ranova_cases, function(k) {
  r <- ranova(fit(k[1], k[2]))
  list(data = k[1], formula = k[2],
       ranova = lapply(seq_len(nrow(r)), function(i)
         list(term = rownames(r)[i], npar = r$npar[i], logLik = r$logLik[i], AIC = r$AIC[i], LRT = r$LRT[i],
              df = r$Df[i], p_value = r[["Pr(>Chisq)"]][i])))
}), "inference_ranova.json")

# --confint: lme4's confint(fit, method = "Wald") and confint(fit, method = "profile") with
# broom.mixed's names (sd__(Intercept), cor__(Intercept).Days, sd__Observation for Residual).
# In the order of lme4's profile: per random term, the lower triangle column by column (an SD on
# the diagonal, a correlation below it), then sigma.
ci_names <- function(fit) {
  vc <- VarCorr(fit)
  out <- unlist(lapply(names(vc), function(g) {
    terms <- colnames(vc[[g]])
    grp <- sub("\\.[0-9]+$", "", g)
    unlist(lapply(seq_along(terms), function(j) vapply(j:length(terms), function(i)
      if (i == j) paste0(grp, "\tsd__", terms[j]) else paste0(grp, "\tcor__", terms[j], ".", terms[i]), "")))
  }))
  c(out, "Residual\tsd__Observation")
}
confint_cases <- list(
  c("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"),
  c("orthodont.csv", "distance ~ age * Sex + (age | Subject)"),
  c("machines.csv", "score ~ Machine + (1 | Worker) + (1 | Worker:Machine)"),
  c("sleepstudy.csv", "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)")
)
write_ref(lapply(confint_cases, function(k) {
  m <- fit(k[1], k[2])
  p <- suppressMessages(confint(m, method = "profile", oldNames = FALSE))
  w <- confint(m, method = "Wald")
  names <- strsplit(ci_names(m), "\t")
  nv <- length(names)
  as_fixed <- function(ci) lapply(rownames(ci)[-seq_len(nv)], function(t)
    list(term = t, conf_low = ci[t, 1], conf_high = ci[t, 2]))
  list(data = k[1], formula = k[2],
       profile = list(random_ci = lapply(seq_len(nv), function(i)
                        list(group = names[[i]][1], term = names[[i]][2], conf_low = p[i, 1], conf_high = p[i, 2])),
                      fixed = as_fixed(p)),
       wald = list(fixed = as_fixed(w)))
}), "inference_confint.json")

# A model without fixed effects: lmerTest's anova() has no rows, ranova() tests the random
# intercept against lm(Reaction ~ 0) (the case once crashed spiral).
no_fixed <- lmer(Reaction ~ 0 + (1 | Subject), sleepstudy)
rn <- ranova(no_fixed)
write_ref(list(anova_rows = nrow(anova(no_fixed)), logLik = rn$logLik, LRT = rn$LRT[2], df = rn$Df[2]),
          "inference_no_fixed.json")
