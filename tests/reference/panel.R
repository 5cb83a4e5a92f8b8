# Reference values for tests/panel: RI-CLPM and CLPM fitted by lavaan with FIML.
# Run from the repository root:  Rscript tests/reference/panel.R [section ...]
# (sections: simulated real em parameters lagged_free robust groups generics; default all of them). PANEL_CASES=name,name limits section
# real to those cases.
# Writes the long-format data sets to tests/data/panel/*.csv and lavaan's numbers to
# tests/reference/panel/*.json. Needs lavaan and jsonlite (scripts/install-deps.sh reference).
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
sections <- commandArgs(trailingOnly = TRUE)
want <- function(section) length(sections) == 0 || section %in% sections

data_dir <- "tests/data/panel"
ref_dir <- "tests/reference/panel"
dir.create(data_dir, recursive = TRUE, showWarnings = FALSE)
dir.create(ref_dir, recursive = TRUE, showWarnings = FALSE)

# Long data from a VAR(1) with random intercepts (Hamaker et al. 2015, eq. 1-3):
# y_it = mu_t + RI_i + w_it, w_it = B w_i,t-1 + zeta_it, with a burn-in so that wave 1
# is near the stationary distribution.
simulate_long <- function(n, waves, B, ri_cov, innov_cov, vars, seed) {
  set.seed(seed)
  k <- length(vars)
  ri <- MASS::mvrnorm(n, rep(0, k), ri_cov)
  rows <- vector("list", n)
  for (i in seq_len(n)) {
    w <- rep(0, k)
    for (burn in 1:30) w <- as.vector(B %*% w) + MASS::mvrnorm(1, rep(0, k), innov_cov)
    values <- matrix(NA_real_, waves, k)
    for (t in seq_len(waves)) {
      if (t > 1) w <- as.vector(B %*% w) + MASS::mvrnorm(1, rep(0, k), innov_cov)
      values[t, ] <- 3 + 0.1 * t * seq_len(k) + ri[i, ] + w
    }
    d <- data.frame(patient = sprintf("p%03d", i), session = seq_len(waves))
    for (v in seq_len(k)) d[[vars[v]]] <- round(values[, v], 4)
    rows[[i]] <- d
  }
  do.call(rbind, rows)
}

# Removes whole session rows and blanks single cells at random.
make_missing <- function(long, vars, p_row, p_cell, seed) {
  set.seed(seed)
  long <- long[runif(nrow(long)) > p_row, ]
  for (v in vars) long[[v]][runif(nrow(long)) < p_cell] <- NA
  long
}

to_wide <- function(long, vars, waves) {
  ids <- unique(long$patient)
  wide <- data.frame(patient = ids)
  for (t in waves) for (v in vars) {
    rows <- long[long$session == t, ]
    wide[[paste0(v, "_", t)]] <- rows[[v]][match(ids, rows$patient)]
  }
  wide
}

# lavaan syntax of the RI-CLPM (Hamaker et al. 2015) or the CLPM, with lagged
# coefficients equal over waves (labels) and free residual covariances per wave.
# groups: with several groups, the lagged labels per group (c(b_..._g1, b_..._g2)*: free across groups)
# unless equal_groups (one label for all groups: lavaan's group.equal on the lagged effects).
panel_syntax <- function(vars, waves, model, equal_lagged = TRUE, groups = 1, equal_groups = TRUE) {
  k <- length(vars)
  ov <- function(v, t) paste0(v, "_", t)
  w <- function(v, t) paste0("w", v, "_", t)
  lines <- c()
  if (model == "riclpm") {
    for (v in vars) lines <- c(lines, paste0("RI", v, " =~ ", paste0("1*", ov(v, waves), collapse = " + ")))
    for (a in seq_len(k)) for (b in a:k) lines <- c(lines, paste0("RI", vars[a], " ~~ RI", vars[b]))
  }
  for (t in waves) for (v in vars) {
    lines <- c(lines, paste0(w(v, t), " =~ 1*", ov(v, t)), paste0(ov(v, t), " ~~ 0*", ov(v, t)))
  }
  for (i in seq_along(waves)[-1]) for (to in vars) {
    label <- function(from) {
      if (!equal_lagged) return("")
      if (groups == 1 || equal_groups) return(paste0("b_", from, "_", to, "*"))
      paste0("c(", paste0("b_", from, "_", to, "_g", seq_len(groups), collapse = ", "), ")*")
    }
    rhs <- paste0(sapply(vars, label), w(vars, waves[i - 1]), collapse = " + ")
    lines <- c(lines, paste0(w(to, waves[i]), " ~ ", rhs))
  }
  for (t in waves) for (a in seq_len(k)) for (b in a:k) lines <- c(lines, paste0(w(vars[a], t), " ~~ ", w(vars[b], t)))
  paste(lines, collapse = "\n")
}

CALL <- 'lavaan(model, data = wide, missing = "ml", meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE)'

reference <- function(name, long, vars, model, waves, level = 95, extra = list()) {
  wide <- to_wide(long, vars, waves)
  syntax <- panel_syntax(vars, waves, model)
  fit <- lavaan(syntax, data = wide, missing = "ml", meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE)
  pe <- parameterEstimates(fit, level = level / 100)
  fm <- fitMeasures(fit, c("npar", "logl", "aic", "bic", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                           "baseline.chisq", "baseline.df", "unrestricted.logl", "ntotal", "srmr"))
  lagged <- list()
  for (to in vars) for (from in vars) {
    row <- pe[pe$label == paste0("b_", from, "_", to), ][1, ]
    lagged[[length(lagged) + 1]] <- list(from = from, to = to, estimate = row$est, std_error = row$se,
                                         statistic = row$z, p_value = row$pvalue,
                                         conf_low = row$ci.lower, conf_high = row$ci.upper)
  }
  ri <- NULL
  if (model == "riclpm") {
    lv <- lavInspect(fit, "cov.lv")[paste0("RI", vars), paste0("RI", vars)]
    ri <- list(vars = vars, var = unname(diag(lv)), cor = unname(cov2cor(lv)))
  }
  out <- c(list(
    call = paste0("tests/reference/panel.R: reference('", name, "'): ", CALL,
                  "; parameterEstimates(fit, level = ", level / 100, "); fitMeasures(fit)"),
    model = model, vars = vars, waves = waves, level = level,
    n_patients = lavInspect(fit, "ntotal"), n_waves = length(waves),
    n_dropped = nrow(wide) - lavInspect(fit, "ntotal"),
    converged = lavInspect(fit, "converged"),
    logLik = unname(fm["logl"]), AIC = unname(fm["aic"]), BIC = unname(fm["bic"]),
    n_parameters = unname(fm["npar"]),
    chisq = unname(fm["chisq"]), chisq_df = unname(fm["df"]), chisq_p = unname(fm["pvalue"]),
    CFI = unname(fm["cfi"]), TLI = unname(fm["tli"]), RMSEA = unname(fm["rmsea"]), SRMR = unname(fm["srmr"]),
    baseline_chisq = unname(fm["baseline.chisq"]), baseline_df = unname(fm["baseline.df"]),
    h1_logLik = unname(fm["unrestricted.logl"]),
    lagged = lagged, random_intercepts = ri,
    # every free parameter, for diagnosis: lhs op rhs, estimate, se
    parameters = pe[pe$op != "==" & !is.na(pe$se) & pe$se > 0, c("lhs", "op", "rhs", "est", "se")]),
    extra)
  write(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
        file.path(ref_dir, paste0(name, ".json")))
  cat(name, ": logLik", fm["logl"], "npar", fm["npar"], "chisq", fm["chisq"], "\n")
}

write_long <- function(long, name) write.csv(long, file.path(data_dir, name), row.names = FALSE, na = "")

if (want("simulated")) {
B2 <- matrix(c(0.30, -0.08, -0.10, 0.40), 2, 2)  # rows = to, columns = from
vars2 <- c("alliance", "symptoms")

# 1. Two variables, 7 waves, complete data.
complete2 <- simulate_long(150, 7, B2, matrix(c(1, 0.3, 0.3, 1), 2), matrix(c(0.8, 0.2, 0.2, 0.8), 2), vars2, 101)
write_long(complete2, "complete2.csv")
reference("riclpm_complete2", complete2, vars2, "riclpm", 1:7)

# 2. Two variables, 300 patients x 7 waves, absent session rows, missing cells, and one
#    patient (p007) whose rows are all missing: lavaan drops that case (n_dropped = 1).
missing2 <- simulate_long(300, 7, B2, matrix(c(1, -0.3, -0.3, 0.8), 2), matrix(c(0.8, 0.2, 0.2, 0.8), 2), vars2, 202)
missing2 <- make_missing(missing2, vars2, 0.08, 0.08, 203)
missing2[missing2$patient == "p007", vars2] <- NA
write_long(missing2, "missing2.csv")
reference("riclpm_missing2", missing2, vars2, "riclpm", 1:7)
reference("clpm_missing2", missing2, vars2, "clpm", 1:7)
reference("riclpm_missing2_window", missing2, vars2, "riclpm", 2:6, level = 90)

# 3. Three variables, 5 waves, missing data.
B3 <- matrix(c(0.3, 0.1, 0.0, -0.1, 0.35, 0.05, 0.05, -0.1, 0.25), 3, 3)
vars3 <- c("alliance", "symptoms", "affect")
missing3 <- simulate_long(250, 5, B3, diag(3) * 0.7 + 0.2, diag(3) * 0.6 + 0.1, vars3, 303)
missing3 <- make_missing(missing3, vars3, 0.05, 0.06, 304)
write_long(missing3, "missing3.csv")
reference("riclpm_missing3", missing3, vars3, "riclpm", 1:5)
reference("clpm_missing3", missing3, vars3, "clpm", 1:5)

# Speed of lavaan on the 300 x 7 data set with missing values (for the benchmark note).
wide <- to_wide(missing2, vars2, 1:7)
seconds <- system.time(lavaan(panel_syntax(vars2, 1:7, "riclpm"), data = wide, missing = "ml",
                              meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE))["elapsed"]
cat("lavaan seconds per fit (missing2):", seconds, "\n")

# 4. A study lavaan cannot fit: study S01 of `spiral simulate --studies 4 --patients 160
#    --sessions 5 --seed 5 --therapists-per-study 3` (40 patients, 5 waves). lavaan stops
#    with converged = FALSE (the random-intercept variance of symptoms runs negative).
nonconvergent <- read.csv(file.path(data_dir, "nonconvergent.csv"))
fit <- lavaan(panel_syntax(vars2, 1:5, "riclpm"), data = to_wide(nonconvergent, vars2, 1:5), missing = "ml",
              meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE)
write(toJSON(list(call = paste0("tests/reference/panel.R, case 4: ", CALL, "; lavInspect(fit, 'converged')"),
                  converged = lavInspect(fit, "converged")), auto_unbox = TRUE, pretty = TRUE),
      file.path(ref_dir, "riclpm_nonconvergent.json"))

# 5. The bundled example (examples/sessions.csv, all 17 studies pooled: symptoms on scales
#    with variances in the hundreds), as README's `spiral panel` example fits it.
example <- read.csv("examples/sessions.csv")
reference("riclpm_example", example, vars2, "riclpm", 1:7)
}  # simulated

# 6. Real panels (plm's Produc and LaborSupply) on which spiral once failed or stopped short of
#    the maximum. lavaan is run from its default and its simple starting values, on the data as
#    they are and on each variable divided by its standard deviation (logL carried back by the
#    Jacobian), with tight tolerances; the reference is the best logL of these fits.
if (want("real")) {
  suppressPackageStartupMessages(library(plm))
  data(Produc, package = "plm"); data(LaborSupply, package = "plm")
  produc <- data.frame(state = Produc$state, year = Produc$year, unemp = Produc$unemp, lgsp = log(Produc$gsp),
                       lemp = log(Produc$emp), lpcap = log(Produc$pcap))
  write.csv(produc, file.path(data_dir, "produc_long.csv"), row.names = FALSE)
  labor <- data.frame(id = LaborSupply$id, year = LaborSupply$year, lnhr = LaborSupply$lnhr,
                      lnwg = LaborSupply$lnwg, kids = LaborSupply$kids)
  write.csv(labor, file.path(data_dir, "laborsupply_long.csv"), row.names = FALSE)

  cases <- strsplit(Sys.getenv("PANEL_CASES"), ",")[[1]]
  best_loglik <- function(name, long, id, time, vars, waves) {
    if (length(cases) > 0 && !(name %in% cases)) return(invisible())
    names(long)[names(long) == id] <- "patient"
    names(long)[names(long) == time] <- "session"
    long <- long[long$session %in% waves, ]
    sds <- sapply(vars, function(v) sqrt(mean((long[[v]] - mean(long[[v]], na.rm = TRUE))^2, na.rm = TRUE)))
    jacobian <- sum(sapply(vars, function(v) sum(!is.na(long[[v]])) * log(sds[[v]])))
    scaled <- long
    for (v in vars) scaled[[v]] <- long[[v]] / sds[[v]]
    syntax <- panel_syntax(vars, waves, "riclpm")
    tries <- list()
    for (units in c("data", "standardized")) for (start in c("default", "simple")) {
      fit <- try(lavaan(syntax, data = to_wide(if (units == "data") long else scaled, vars, waves), missing = "ml",
                        meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE, start = start,
                        control = list(rel.tol = 1e-12)), silent = TRUE)
      if (inherits(fit, "try-error")) next
      ll <- fit@loglik$loglik - if (units == "data") 0 else jacobian
      tries[[length(tries) + 1]] <- list(units = units, start = start, converged = lavInspect(fit, "converged"),
                                         logLik = ll)
    }
    lls <- sapply(tries, function(t) t$logLik)
    out <- list(call = paste0("tests/reference/panel.R section real: best_loglik('", name, "'): the largest logLik of ",
                              CALL, " with start = 'default' | 'simple', control = list(rel.tol = 1e-12), on the data ",
                              "and on the standardized data (logLik minus the Jacobian)"),
                data = paste0("data/panel/", if (id == "state") "produc_long.csv" else "laborsupply_long.csv"),
                id = id, time = time, vars = vars, first = min(waves), last = max(waves),
                logLik = max(lls), tries = tries)
    write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(ref_dir, paste0(name, ".json")))
    cat(name, ": best logLik", max(lls), "of", lls, "\n")
  }
  best_loglik("produc_unemp_lgsp_1970", produc, "state", "year", c("unemp", "lgsp"), 1970:1974)
  best_loglik("produc_lgsp_lemp_1970", produc, "state", "year", c("lgsp", "lemp"), 1970:1976)
  best_loglik("produc_lgsp_lemp_1980", produc, "state", "year", c("lgsp", "lemp"), 1980:1984)
  best_loglik("produc_unemp_lpcap_1979", produc, "state", "year", c("unemp", "lpcap"), 1979:1986)
  best_loglik("produc_unemp_lpcap_1970", produc, "state", "year", c("unemp", "lpcap"), 1970:1976)
  best_loglik("produc_unemp_lgsp_lpcap", produc, "state", "year", c("unemp", "lgsp", "lpcap"), 1970:1976)
  best_loglik("laborsupply_1979", labor, "id", "year", c("lnhr", "lnwg", "kids"), 1979:1984)
}

# 8. The full parameter table and the standardized solution: every free parameter of
#    parameterEstimates(fit) (one row per wave for the equality-labelled lagged effects, as lavaan
#    lists them) with standardizedSolution(fit) (std.all, delta-method SEs) beside it, for the
#    RI-CLPM on missing2.csv (2 variables, 7 waves) and the CLPM on missing3.csv (3 variables).
if (want("parameters")) {
  parameter_table <- function(name, csv, vars, waves, model) {
    long <- read.csv(file.path(data_dir, csv))
    args <- list(model = panel_syntax(vars, waves, model), data = to_wide(long, vars, waves), missing = "ml",
                 meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE)
    fit <- do.call(lavaan, args)
    # nlminb stops ~1e-6 from the optimum (rel.tol below 1e-10 ends "not converged"): two BFGS
    # refits from its estimates bring the estimates to ~1e-8 (the gradient to ~2e-8).
    for (refit in 1:2) invisible(capture.output(
      fit <- do.call(lavaan, c(args, list(start = fit, optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 5000))))))
    stopifnot(lavInspect(fit, "converged"))
    pe <- parameterEstimates(fit)
    std <- standardizedSolution(fit)
    free <- pe$op != "==" & !is.na(pe$se) & pe$se > 0
    rows <- pe[free, c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper")]
    key <- paste(rows$lhs, rows$op, rows$rhs)
    s <- std[match(key, paste(std$lhs, std$op, std$rhs)), c("est.std", "se", "z", "pvalue", "ci.lower", "ci.upper")]
    names(s) <- paste0("std_", c("est", "se", "z", "pvalue", "ci.lower", "ci.upper"))
    out <- list(call = paste0("tests/reference/panel.R section parameters: ", CALL, " on ", csv, ", refitted twice with start = fit, optim.method = 'BFGS', control = list(reltol = 1e-16)",
                              "; parameterEstimates(fit) (free rows); standardizedSolution(fit) (type = 'std.all')"),
                vars = vars, waves = waves, model = model, parameters = cbind(rows, s))
    write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), file.path(ref_dir, paste0(name, ".json")))
    cat(name, ":", nrow(rows), "free rows\n")
  }
  parameter_table("parameters_riclpm_missing2", "missing2.csv", c("alliance", "symptoms"), 1:7, "riclpm")
  parameter_table("parameters_clpm_missing3", "missing3.csv", c("alliance", "symptoms", "affect"), 1:5, "clpm")
}

# 9. Lagged effects free over the waves (the syntax without the equality labels) and the LRT of
#    the equal model against it (lavTestLRT), for the RI-CLPM on missing2.csv; both fits refitted
#    by BFGS from nlminb's estimates as in section parameters.
if (want("lagged_free")) {
  long <- read.csv(file.path(data_dir, "missing2.csv"))
  vars <- c("alliance", "symptoms")
  tight_fit <- function(syntax) {
    args <- list(model = syntax, data = to_wide(long, vars, 1:7), missing = "ml", meanstructure = TRUE,
                 int.ov.free = TRUE, auto.var = TRUE)
    fit <- do.call(lavaan, c(args, list(start = start)))
    for (refit in 1:2) invisible(capture.output(
      fit <- do.call(lavaan, c(args, list(start = fit, optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 5000))))))
    stopifnot(lavInspect(fit, "converged"))
    fit
  }
  equal <- tight_fit(panel_syntax(vars, 1:7, "riclpm"))
  free <- tight_fit(panel_syntax(vars, 1:7, "riclpm", equal_lagged = FALSE))
  pe <- parameterEstimates(free)
  lagged <- list()
  for (t in 2:7) for (to in vars) for (from in vars) {
    row <- pe[pe$lhs == paste0("w", to, "_", t) & pe$op == "~" & pe$rhs == paste0("w", from, "_", t - 1), ]
    lagged[[length(lagged) + 1]] <- list(wave = t, from = from, to = to, estimate = row$est, std_error = row$se,
                                         statistic = row$z, p_value = row$pvalue, conf_low = row$ci.lower,
                                         conf_high = row$ci.upper)
  }
  lrt <- lavTestLRT(equal, free)
  fm <- fitMeasures(free, c("npar", "logl", "chisq", "df"))
  out <- list(call = paste0("tests/reference/panel.R section lagged_free: ", CALL, " with the lagged effects ",
                            "unlabelled (free) and labelled (equal), each refitted twice with start = fit, optim.method = ",
                            "'BFGS', control = list(reltol = 1e-16); parameterEstimates(free); lavTestLRT(equal, free)"),
              vars = vars, n_parameters = unname(fm["npar"]), logLik = unname(fm["logl"]), chisq = unname(fm["chisq"]),
              chisq_df = unname(fm["df"]), lagged = lagged,
              equal_logLik = fitMeasures(equal, "logl")[[1]], equal_n_parameters = fitMeasures(equal, "npar")[[1]],
              lrt = list(chisq = lrt[["Chisq diff"]][2], df = lrt[["Df diff"]][2], p_value = lrt[["Pr(>Chisq)"]][2]))
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(ref_dir, "riclpm_missing2_free.json"))
  cat("lagged_free: LRT", out$lrt$chisq, out$lrt$df, out$lrt$p_value, "\n")
}

# 10. Robust (MLR) standard errors: lavaan(..., estimator = "MLR") on missing2.csv (RI-CLPM) and
#     missing3.csv (CLPM), every free row of parameterEstimates() (estimates as ML, sandwich SEs).
if (want("robust")) {
  robust_case <- function(name, csv, vars, waves, model) {
    long <- read.csv(file.path(data_dir, csv))
    fit <- lavaan(panel_syntax(vars, waves, model), data = to_wide(long, vars, waves), missing = "ml",
                  meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE, estimator = "MLR")
    pe <- parameterEstimates(fit)
    rows <- pe[pe$op != "==" & !is.na(pe$se) & pe$se > 0, c("lhs", "op", "rhs", "est", "se")]
    out <- list(call = paste0("tests/reference/panel.R section robust: ", sub("\\)$", ", estimator = \"MLR\")", CALL),
                              " on ", csv, "; parameterEstimates(fit) (free rows)"),
                vars = vars, model = model, parameters = rows)
    write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(ref_dir, paste0(name, ".json")))
    cat(name, ": lagged SEs", head(rows$se[rows$op == "~"], 4), "\n")
  }
  robust_case("robust_riclpm_missing2", "missing2.csv", c("alliance", "symptoms"), 1:7, "riclpm")
  robust_case("robust_clpm_missing3", "missing3.csv", c("alliance", "symptoms", "affect"), 1:5, "clpm")
}

# 7. The saturated model's EM with heavy missingness: 3 variables x 8 waves, 200 patients, a
#    quarter of the session rows and of the cells missing. lavaan's EM for h1 needs more than
#    its default 500 iterations (em.h1.iter.max = 5000 here).
if (want("em")) {
  B3 <- matrix(c(0.3, 0.1, 0.0, -0.1, 0.35, 0.05, 0.05, -0.1, 0.25), 3, 3)
  vars3 <- c("alliance", "symptoms", "affect")
  heavy <- simulate_long(200, 8, B3, diag(3) * 0.7 + 0.2, diag(3) * 0.6 + 0.1, vars3, 501)
  heavy <- make_missing(heavy, vars3, 0.25, 0.25, 502)
  write_long(heavy, "heavy3.csv")
  fit <- lavaan(panel_syntax(vars3, 1:8, "riclpm"), data = to_wide(heavy, vars3, 1:8), missing = "ml",
                meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE, em.h1.iter.max = 5000)
  fm <- fitMeasures(fit, c("logl", "unrestricted.logl", "chisq", "df", "cfi", "tli", "rmsea"))
  out <- list(call = paste0("tests/reference/panel.R section em: ", sub("\\)$", ", em.h1.iter.max = 5000)", CALL),
                            " on heavy3.csv; fitMeasures(fit)"),
              vars = vars3, converged = lavInspect(fit, "converged"), logLik = unname(fm["logl"]),
              h1_logLik = unname(fm["unrestricted.logl"]), chisq = unname(fm["chisq"]), chisq_df = unname(fm["df"]),
              CFI = unname(fm["cfi"]), TLI = unname(fm["tli"]), RMSEA = unname(fm["rmsea"]))
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(ref_dir, "riclpm_heavy3.json"))
  cat("heavy3: chisq", fm["chisq"], "cfi", fm["cfi"], "\n")
}

# 11. Multiple groups (lavaan's group = ): plm's Wages (595 workers x 7 years, lwage and wks) by sex,
#     the lagged effects equal across the groups (one label: group.equal on them) and free across them
#     (a label per group), and missing2.csv split into two arms (odd / even patient number) with FIML.
#     group.label in byte order, as spiral orders the groups. Each fit refitted by BFGS as in section
#     parameters. Writes every free row of parameterEstimates() (group number) and fitMeasures().
if (want("groups")) {
  suppressPackageStartupMessages(library(plm))
  data(Wages, package = "plm")
  wages <- data.frame(worker = rep(seq_len(595), each = 7), year = rep(1976:1982, 595), sex = as.character(Wages$sex),
                      lwage = Wages$lwage, wks = Wages$wks)
  write.csv(wages, file.path(data_dir, "wages_long.csv"), row.names = FALSE)
  missing2 <- read.csv(file.path(data_dir, "missing2.csv"))
  missing2$arm <- ifelse(as.integer(sub("p", "", missing2$patient)) %% 2 == 1, "odd", "even")
  write_long(missing2, "missing2_arms.csv")
  # start: a fit to start from (lavaan's own start ends the free Wages fit at negative RI variances,
  # logLik -11065.1, below the nested equal model's; from the equal fit it reaches the maximum).
  group_case <- function(name, long, id, time, group, vars, waves, equal_groups, csv, start = "default") {
    names(long)[names(long) == id] <- "patient"
    names(long)[names(long) == time] <- "session"
    wide <- to_wide(long, vars, waves)
    wide$group <- long[[group]][match(wide$patient, long$patient)]
    labels <- sort(unique(wide$group), method = "radix")
    args <- list(model = panel_syntax(vars, waves, "riclpm", groups = length(labels), equal_groups = equal_groups),
                 data = wide, group = "group", group.label = labels, missing = "ml", meanstructure = TRUE,
                 int.ov.free = TRUE, auto.var = TRUE)
    # the independence baseline of a fit with lavaan's default options (the baseline inherits start and
    # the optimizer: from the BFGS refits it does not converge, CFI and TLI NA)
    baseline <- lavaan:::lav_object_independence(do.call(lavaan, args))
    fit <- do.call(lavaan, c(args, list(start = start)))
    # BFGS on lavaan's standardized parameter scales (optim.parscale): on Wages (wks in the tens)
    # the unscaled refits stop ~1e-8 short of the maximum with estimates ~5e-6 off
    for (refit in 1:3) invisible(capture.output(
      fit <- do.call(lavaan, c(args, list(start = fit, optim.method = "BFGS", optim.parscale = "standardized",
                                          control = list(reltol = 1e-16, maxit = 5000))))))
    stopifnot(lavInspect(fit, "converged"))
    pe <- parameterEstimates(fit)
    rows <- pe[pe$op != "==" & !is.na(pe$se) & pe$se > 0,
               c("lhs", "op", "rhs", "group", "est", "se", "z", "pvalue", "ci.lower", "ci.upper")]
    fm <- fitMeasures(fit, baseline.model = baseline, fit.measures = c("npar", "logl", "aic", "bic", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr",
                             "unrestricted.logl", "baseline.chisq", "baseline.df"))
    out <- list(call = paste0("tests/reference/panel.R section groups: lavaan(model, data = wide, group = '", group,
                              "', group.label = c(", paste0("'", labels, "'", collapse = ", "), "), missing = 'ml', ",
                              "meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE) with the lagged labels ",
                              if (equal_groups) "shared by the groups" else "per group",
                              ", refitted three times by BFGS (optim.parscale = 'standardized', reltol 1e-16); parameterEstimates(fit); ",
                              "fitMeasures(fit, baseline.model = ",
                              "lav_object_independence(the first fit))"),
                data = csv, id = id, time = time, group = group, vars = vars, equal_groups = equal_groups,
                groups = labels, n_patients = unname(lavInspect(fit, "nobs")),
                logLik = unname(fm["logl"]), AIC = unname(fm["aic"]), BIC = unname(fm["bic"]),
                n_parameters = unname(fm["npar"]), chisq = unname(fm["chisq"]), chisq_df = unname(fm["df"]),
                chisq_p = unname(fm["pvalue"]), CFI = unname(fm["cfi"]), TLI = unname(fm["tli"]),
                RMSEA = unname(fm["rmsea"]), SRMR = unname(fm["srmr"]), h1_logLik = unname(fm["unrestricted.logl"]),
                baseline_chisq = unname(fm["baseline.chisq"]), baseline_df = unname(fm["baseline.df"]),
                parameters = rows)
    stopifnot(lavInspect(fit, "post.check"))
    write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(ref_dir, paste0(name, ".json")))
    cat(name, ": logLik", fm["logl"], "npar", fm["npar"], "chisq", fm["chisq"], "rmsea", fm["rmsea"], "\n")
    fit
  }
  equal <- group_case("groups_wages_equal", wages, "worker", "year", "sex", c("lwage", "wks"), 1976:1982, TRUE,
                      "wages_long.csv")
  group_case("groups_wages_free", wages, "worker", "year", "sex", c("lwage", "wks"), 1976:1982, FALSE, "wages_long.csv",
             start = equal)
  invisible(group_case("groups_missing2_arms", missing2, "patient", "session", "arm", c("alliance", "symptoms"), 1:7, TRUE,
             "missing2_arms.csv"))
}

# 12. What the R package's generics for a panel fit return (bindings/r tests): lavaan's vcov() of the
#     lagged effects (their labels), fitMeasures() by lavaan's names, AIC() and BIC(), for the RI-CLPM
#     on missing2.csv refitted by BFGS as in section parameters.
if (want("generics")) {
  long <- read.csv(file.path(data_dir, "missing2.csv"))
  vars <- c("alliance", "symptoms")
  args <- list(model = panel_syntax(vars, 1:7, "riclpm"), data = to_wide(long, vars, 1:7), missing = "ml",
               meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE)
  fit <- do.call(lavaan, args)
  measures <- fitMeasures(fit, c("npar", "logl", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic"))
  for (refit in 1:2) invisible(capture.output(
    fit <- do.call(lavaan, c(args, list(start = fit, optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 5000))))))
  labels <- c(); names <- c()
  for (to in vars) for (from in vars) {
    labels <- c(labels, paste0("b_", from, "_", to))
    names <- c(names, paste0(from, "->", to))
  }
  v <- vcov(fit)[labels, labels]
  dimnames(v) <- list(names, names)
  out <- list(call = paste0("tests/reference/panel.R section generics: ", CALL, " on missing2.csv, refitted twice by BFGS ",
                            "(reltol 1e-16); vcov(fit) of the lagged labels; fitMeasures(fit) (of the first fit: the ",
                            "refits' baseline does not converge); AIC(fit); BIC(fit)"),
              terms = names, vcov = unname(v), fit_measures = as.list(measures), AIC = AIC(fit), BIC = BIC(fit))
  write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(ref_dir, "generics_riclpm_missing2.json"))
  cat("generics: vcov diagonal", diag(v), "\n")
}
