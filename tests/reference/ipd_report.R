# Reference values for the RI-CLPM fit measures per study that report.html and report.docx of
# `spiral ipd run` show ([model] panel = true): tests/ipd/test_report_docx.cpp.
# Run from the repository root:  Rscript tests/reference/ipd_report.R
# Per study of the bundled example, examples/sessions.csv (17 studies; window sessions 1-7,
# specification section 5 steps 1-2): alliance and symptoms z-standardized within the study
# (P, O), sessions as waves, the RI-CLPM of section 7 with lagged effects equal over waves,
# fitted by lavaan with FIML, and fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "tli",
# "rmsea", "srmr")). `h1_warning` is TRUE where lavaan warned that the saturated model's EM
# estimate of Sigma is near singular (small studies): there lavaan adds a ridge that spiral
# does not (src/panel/fiml.cpp), and the chi-square and indices differ.
# Writes tests/reference/ipd_report/panel_fit.csv. Needs lavaan (scripts/install-deps.sh reference).
suppressPackageStartupMessages(library(lavaan))

sessions <- read.csv("examples/sessions.csv")
sessions <- sessions[sessions$session >= 1 & sessions$session <= 7, ]
waves <- 1:7
vars <- c("P", "O")

# The RI-CLPM of Hamaker et al. (2015) in lavaan syntax: random intercepts RI_v loading 1 on
# every wave, within parts w_v_t, lagged effects labelled b_from_to (equal over waves), each
# wave's within (residual) covariance free, RIs uncorrelated with the within parts.
riclpm_syntax <- function(vars, waves) {
  ov <- function(v, t) paste0(v, "_", t)
  w <- function(v, t) paste0("w", v, "_", t)
  lines <- c()
  for (v in vars) lines <- c(lines, paste0("RI", v, " =~ ", paste0("1*", ov(v, waves), collapse = " + ")))
  for (a in seq_along(vars)) for (b in a:length(vars)) lines <- c(lines, paste0("RI", vars[a], " ~~ RI", vars[b]))
  for (t in waves) for (v in vars) lines <- c(lines, paste0(w(v, t), " =~ 1*", ov(v, t)), paste0(ov(v, t), " ~~ 0*", ov(v, t)))
  for (i in seq_along(waves)[-1]) for (to in vars)
    lines <- c(lines, paste0(w(to, waves[i]), " ~ ", paste0("b_", vars, "_", to, "*", w(vars, waves[i - 1]), collapse = " + ")))
  for (t in waves) for (a in seq_along(vars)) for (b in a:length(vars))
    lines <- c(lines, paste0(w(vars[a], t), " ~~ ", w(vars[b], t)))
  paste(lines, collapse = "\n")
}

z <- function(x) (x - mean(x, na.rm = TRUE)) / sd(x, na.rm = TRUE)

rows <- list()
for (study in unique(sessions$study)) {
  s <- sessions[sessions$study == study, ]
  s$P <- z(s$alliance)
  s$O <- z(s$symptoms)
  ids <- unique(s$patient)
  wide <- data.frame(patient = ids)
  for (t in waves) for (v in vars) wide[[paste0(v, "_", t)]] <- s[[v]][s$session == t][match(ids, s$patient[s$session == t])]
  h1_warning <- FALSE
  fit <- withCallingHandlers(
    lavaan(riclpm_syntax(vars, waves), data = wide, missing = "ml", meanstructure = TRUE, int.ov.free = TRUE,
           auto.var = TRUE),
    warning = function(w) {
      if (grepl("EM estimated", conditionMessage(w))) h1_warning <<- TRUE
      invokeRestart("muffleWarning")
    })
  fm <- fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"))
  rows[[study]] <- data.frame(study = study, n_patients = lavInspect(fit, "ntotal"), chisq = fm[["chisq"]],
                              df = fm[["df"]], pvalue = fm[["pvalue"]], cfi = fm[["cfi"]], tli = fm[["tli"]],
                              rmsea = fm[["rmsea"]], srmr = fm[["srmr"]], h1_warning = h1_warning)
}
out <- do.call(rbind, rows)
dir.create("tests/reference/ipd_report", showWarnings = FALSE)
for (column in c("chisq", "pvalue", "cfi", "tli", "rmsea", "srmr")) out[[column]] <- sprintf("%.17g", out[[column]])
write.csv(out, "tests/reference/ipd_report/panel_fit.csv", row.names = FALSE, quote = FALSE)
print(out)
