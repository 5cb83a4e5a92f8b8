# Writes the seeds' lagged model's columns (patient, session, O, Pw_lag1, Ow_lag1, Pm, Om) for
# N patients x 10 sessions: bivariate series around patient means (SD 0.7), person-mean centred,
# lagged within patient. Usage: Rscript bench/lagged_scale.R N FILE
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[1])
sessions <- 10L
set.seed(20261207)
patient <- rep(seq_len(n), each = sessions)
session <- rep(seq_len(sessions), n)
P <- rnorm(n * sessions) + rep(rnorm(n, 0, 0.7), each = sessions)
O <- rnorm(n * sessions) + rep(rnorm(n, 0, 0.7), each = sessions)
Pm <- rep(colMeans(matrix(P, sessions)), each = sessions)
Om <- rep(colMeans(matrix(O, sessions)), each = sessions)
lag <- function(v) { out <- c(NA, v[-length(v)]); out[session == 1] <- NA; out }
d <- data.frame(patient, session, O = round(O, 6), Pw_lag1 = round(lag(P - Pm), 6),
                Ow_lag1 = round(lag(O - Om), 6), Pm = round(Pm, 6), Om = round(Om, 6))
write.csv(d, args[2], row.names = FALSE, na = "")
