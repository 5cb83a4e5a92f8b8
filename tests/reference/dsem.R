# Reference values for tests/dsem: the two-level (and three-level) VAR(1) of dynamic
# structural equation modelling (Asparouhov, Hamaker & Muthen 2018), written in Stan and
# sampled by rstan (NUTS), and posterior's rank-normalized split R-hat and bulk/tail ESS
# (Vehtari et al. 2021) on stored draws.
# Run from the repository root:  Rscript tests/reference/dsem.R [small|trial|threelevel|diagnostics|ipd_study|all|trial_data]
# Writes the data sets to tests/reference/dsem/*.csv and Stan's posterior summaries to
# tests/reference/dsem/*.json. Needs rstan, posterior and jsonlite.
#
# The model (the one spiral dsem samples by Gibbs; README, section dsem):
#   y_it = mu_i + w_it,  w_it = Phi_i w_i,t-1 + zeta_it,  zeta_it ~ N(0, Sigma)
#   b_i = (mu_i, random elements of Phi_i) = Gamma' x_i + u_i (+ therapist v_c on mu_i),
#   u_i ~ N(0, Psi), v_c ~ N(0, Tau); fixed elements of Phi common to all patients.
#   The pre-sample value w_i0 ~ N(0, diag(s0)), s0 = the pooled within-patient variances of
#   the observed values; Stan integrates it out: w_i1 ~ N(0, Phi_i diag(s0) Phi_i' + Sigma).
#   Priors: flat on Gamma and the fixed Phi elements, flat on the covariance matrices
#   Psi, Tau, Sigma (Mplus's IW(0, -p-1)).
suppressPackageStartupMessages({ library(rstan); library(posterior); library(jsonlite) })

# Debian's r-cran-bh ships no headers; rstan's models include boost from BH's folder.
bh <- system.file(package = "BH")
if (!dir.exists(file.path(bh, "include"))) {
  dir.create(file.path(bh, "include"), showWarnings = FALSE)
  file.symlink("/usr/include/boost", file.path(bh, "include", "boost"))
}
rstan_options(auto_write = TRUE)

ref_dir <- "tests/reference/dsem"
dir.create(ref_dir, recursive = TRUE, showWarnings = FALSE)
vars <- c("alliance", "symptoms")

stan_code <- "
// Two variables, every lagged effect random (--random all), optional cluster effect on the
// means. Vectorised over patients; random effects non-centred (b = X Gamma + (L_psi z)').
data {
  int<lower=1> N; int<lower=3> T; int<lower=1> Q;
  matrix[N, Q] X;
  int<lower=0> C; int cluster[N];          // C = 0: no third level
  matrix[N, T] ya; matrix[N, T] ys;        // alliance, symptoms; missing cells hold 0
  int<lower=0> M; int mis[M, 3];           // missing cells: patient, occasion, variable (1, 2)
  vector<lower=0>[2] s0;
}
transformed data { int KC = C > 0 ? 2 : 0; }
parameters {
  matrix[Q, 6] Gamma;                      // columns: mu_a, mu_s, a->a, s->a, a->s, s->s
  cholesky_factor_cov[6] L_psi;
  matrix[6, N] z;
  cov_matrix[2] Sigma;
  vector[M] y_mis;
  cholesky_factor_cov[KC] L_tau;
  matrix[KC, C] zv;
}
model {
  matrix[N, 6] b = X * Gamma + (L_psi * z)';
  vector[N] mua = col(b, 1);
  vector[N] mus = col(b, 2);
  vector[N] p11 = col(b, 3);
  vector[N] p12 = col(b, 4);
  vector[N] p21 = col(b, 5);
  vector[N] p22 = col(b, 6);
  matrix[N, T] wa = ya;
  matrix[N, T] ws = ys;
  for (m in 1:M) {
    if (mis[m, 3] == 1) wa[mis[m, 1], mis[m, 2]] = y_mis[m];
    else ws[mis[m, 1], mis[m, 2]] = y_mis[m];
  }
  if (C > 0) {
    matrix[C, 2] v = (L_tau * zv)';
    mua += v[cluster, 1];
    mus += v[cluster, 2];
  }
  wa -= rep_matrix(mua, T);
  ws -= rep_matrix(mus, T);
  // Flat priors on Psi, Tau: the Jacobian of L -> L L' is prod L_jj^(P - j + 1).
  for (j in 1:6) target += (7 - j) * log(L_psi[j, j]);
  for (j in 1:KC) target += (KC + 1 - j) * log(L_tau[j, j]);
  to_vector(z) ~ std_normal();
  to_vector(zv) ~ std_normal();
  {
    // First occasion, the pre-sample value integrated out: w_1 ~ N(0, A diag(s0) A' + Sigma).
    vector[N] c11 = square(p11) * s0[1] + square(p12) * s0[2] + Sigma[1, 1];
    vector[N] c12 = p11 .* p21 * s0[1] + p12 .* p22 * s0[2] + Sigma[1, 2];
    vector[N] c22 = square(p21) * s0[1] + square(p22) * s0[2] + Sigma[2, 2];
    vector[N] e1 = col(wa, 1);
    vector[N] e2 = col(ws, 1);
    vector[N] det = c11 .* c22 - square(c12);
    target += -0.5 * sum(log(det)) -
              0.5 * sum((c22 .* square(e1) - 2 * c12 .* e1 .* e2 + c11 .* square(e2)) ./ det);
  }
  {
    // Occasions 2..T: bivariate normal innovations, summed.
    matrix[N, T - 1] la = block(wa, 1, 1, N, T - 1);
    matrix[N, T - 1] ls = block(ws, 1, 1, N, T - 1);
    matrix[N, T - 1] ea = block(wa, 1, 2, N, T - 1) - diag_pre_multiply(p11, la) - diag_pre_multiply(p12, ls);
    matrix[N, T - 1] es = block(ws, 1, 2, N, T - 1) - diag_pre_multiply(p21, la) - diag_pre_multiply(p22, ls);
    real det = Sigma[1, 1] * Sigma[2, 2] - square(Sigma[1, 2]);
    target += -0.5 * N * (T - 1) * log(det) -
              0.5 * (Sigma[2, 2] * sum(square(ea)) - 2 * Sigma[1, 2] * sum(ea .* es) + Sigma[1, 1] * sum(square(es))) / det;
  }
}
generated quantities {
  matrix[6, 6] Psi = multiply_lower_tri_self_transpose(L_psi);
  matrix[2, 2] Tau = rep_matrix(0, 2, 2);
  if (C > 0) Tau = multiply_lower_tri_self_transpose(L_tau);
}
"

# ------------------------------------------------------------------------- data sets

# Long data of the model above: patients' means and random lagged effects from the
# between regression, a VAR(1) with a burn-in of 50 occasions, then missed sessions
# (whole rows removed at random with probability p_missing).
simulate_dsem <- function(n, sessions, gamma, psi_sd, phi_fixed_mean, sigma, x, therapists = 0,
                          tau_sd = c(0, 0), p_missing = 0.1, seed = 1) {
  set.seed(seed)
  k <- 2
  b <- x %*% gamma + matrix(rnorm(n * ncol(gamma)), n) %*% diag(psi_sd, ncol(gamma))
  therapist <- if (therapists > 0) sample(rep_len(seq_len(therapists), n)) else rep(0, n)
  v <- if (therapists > 0) matrix(rnorm(therapists * k), therapists) %*% diag(tau_sd) else NULL
  ls <- t(chol(sigma))
  rows <- vector("list", n)
  for (i in seq_len(n)) {
    phi <- phi_fixed_mean
    phi[1, 1] <- b[i, 3]; phi[1, 2] <- b[i, 4]; phi[2, 1] <- b[i, 5]; phi[2, 2] <- b[i, 6]
    mu <- b[i, 1:2] + if (therapists > 0) v[therapist[i], ] else 0
    w <- c(0, 0)
    for (burn in 1:50) w <- as.vector(phi %*% w + ls %*% rnorm(k))
    values <- matrix(NA_real_, sessions, k)
    for (s in seq_len(sessions)) {
      w <- as.vector(phi %*% w + ls %*% rnorm(k))
      values[s, ] <- mu + w
    }
    rows[[i]] <- data.frame(patient = sprintf("p%03d", i), therapist = sprintf("t%02d", therapist[i]),
                            session = seq_len(sessions), alliance = round(values[, 1], 4),
                            symptoms = round(values[, 2], 4))
  }
  long <- do.call(rbind, rows)
  long[runif(nrow(long)) >= p_missing, ]
}

# The CSV spiral reads: with the patient-level moderators repeated on every row.
write_case <- function(long, patients, name) {
  data <- merge(long, patients, by = "patient", sort = FALSE)
  data <- data[order(data$patient, data$session), ]
  write.csv(data, file.path(ref_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
  data
}

# ------------------------------------------------------------------------- Stan's fit

# The Stan data for --random all, the window = every session in the data; patients in order of
# first appearance (as spiral keeps them), x's rows named by patient.
stan_data <- function(data, x, cluster = NULL) {
  ids <- unique(data$patient)
  x <- x[ids, , drop = FALSE]
  first <- min(data$session); last <- max(data$session)
  n <- length(ids); nt <- last - first + 1; k <- length(vars)
  y <- array(0, c(n, nt, k)); observed <- array(FALSE, c(n, nt, k))
  for (r in seq_len(nrow(data))) {
    i <- match(data$patient[r], ids); t <- data$session[r] - first + 1
    for (v in seq_len(k)) if (!is.na(data[[vars[v]]][r])) {
      y[i, t, v] <- data[[vars[v]]][r]; observed[i, t, v] <- TRUE
    }
  }
  mis <- which(!observed, arr.ind = TRUE)
  mis <- mis[order(mis[, 1], mis[, 2], mis[, 3]), , drop = FALSE]
  # s0: pooled within-patient variance of each variable (deviations from the patient's mean
  # of its observed values; divisor = observed values - patients with any)
  s0 <- sapply(seq_len(k), function(v) {
    ss <- 0; df <- 0
    for (i in seq_len(n)) {
      o <- y[i, observed[i, , v], v]
      if (length(o) > 0) { ss <- ss + sum((o - mean(o))^2); df <- df + length(o) - 1 }
    }
    ss / df
  })
  list(N = n, T = nt, Q = ncol(x), X = x,
       C = if (is.null(cluster)) 0 else max(cluster), cluster = if (is.null(cluster)) rep(0, n) else cluster,
       ya = y[, , 1], ys = y[, , 2], M = nrow(mis), mis = mis, s0 = s0)
}

# Per parameter, named as spiral's --draws columns: posterior mean, sd, MCSE of the mean,
# quantiles, R-hat and ESS from posterior's summarise_draws().
stan_summary <- function(fit, sd_names, moderators, cluster_name = NULL) {
  d <- as_draws_df(fit)
  named <- list()
  k <- length(vars)
  lag_name <- function(from, to) paste0(vars[from], "->", vars[to])
  effects <- c(vars, lag_name(1, 1), lag_name(2, 1), lag_name(1, 2), lag_name(2, 2))
  p <- length(effects)
  for (j in seq_len(p)) {
    named[[paste0("fixed:", effects[j])]] <- d[[sprintf("Gamma[1,%d]", j)]]
    for (m in seq_along(moderators))
      named[[paste0("moderator:", moderators[m], ":", effects[j])]] <- d[[sprintf("Gamma[%d,%d]", m + 1, j)]]
  }
  for (j in seq_len(p)) named[[paste0("sd:", effects[j])]] <- sqrt(d[[sprintf("Psi[%d,%d]", j, j)]])
  if (!is.null(cluster_name))
    for (v in seq_len(k)) named[[paste0("sd:", cluster_name, ":", vars[v])]] <- sqrt(d[[sprintf("Tau[%d,%d]", v, v)]])
  named[[paste0("innovation:", vars[1], "~~", vars[1])]] <- d[["Sigma[1,1]"]]
  named[[paste0("innovation:", vars[2], "~~", vars[1])]] <- d[["Sigma[2,1]"]]
  named[[paste0("innovation:", vars[2], "~~", vars[2])]] <- d[["Sigma[2,2]"]]
  chains <- d$.chain
  out <- lapply(names(named), function(name) {
    x <- matrix(named[[name]], ncol = max(chains))
    list(parameter = name, mean = mean(x), sd = sd(x), mcse_mean = mcse_mean(x),
         median = median(x), q2.5 = unname(quantile(x, 0.025)), q97.5 = unname(quantile(x, 0.975)),
         rhat = rhat(x), ess_bulk = ess_bulk(x), ess_tail = ess_tail(x))
  })
  out
}

# 4 chains one after the other (cores = 1: the machine's 2 cores are shared), after the model
# compiled once per R session.
run_stan <- function(sdata, iter, warmup, seed) {
  model <- stan_model(model_code = stan_code, model_name = "dsem")
  sampling(model, data = sdata, chains = 4, cores = 1, iter = iter, warmup = warmup, seed = seed,
           refresh = 0, control = list(adapt_delta = 0.9))
}

# Stan's summaries, divergences and wall time (the sum of the chains' warmup and sampling
# seconds, which bench/ compares with spiral's).
write_reference <- function(name, call, summary, fit, extra = list()) {
  sp <- get_sampler_params(fit, inc_warmup = FALSE)
  out <- c(list(call = call, stan_divergences = sum(sapply(sp, function(s) sum(s[, "divergent__"]))),
                stan_seconds = sum(get_elapsed_time(fit)),
                stan_iter = fit@sim$iter, stan_warmup = fit@sim$warmup,
                parameters = summary), extra)
  write_json(out, file.path(ref_dir, paste0(name, ".json")), auto_unbox = TRUE, digits = NA, pretty = TRUE)
}

gamma_matrix <- function(q) {
  # columns: mu_alliance, mu_symptoms, phi a->a, phi s->a, phi a->s, phi s->s
  g <- matrix(0, q, 6)
  g[1, ] <- c(4.5, 2.5, 0.30, -0.08, -0.12, 0.40)
  g
}
psi_sd <- c(0.6, 0.7, 0.10, 0.08, 0.08, 0.10)
sigma <- matrix(c(0.25, -0.05, -0.05, 0.30), 2)

# 150 patients x 7 sessions, a numeric moderator (baseline): the case to develop on.
case_small <- function() {
  n <- 150
  set.seed(11)
  baseline <- round(rnorm(n), 4)
  x <- cbind(1, baseline)
  rownames(x) <- sprintf("p%03d", seq_len(n))
  g <- gamma_matrix(2); g[2, ] <- c(0.1, 0.4, 0, 0, -0.05, 0.05)
  long <- simulate_dsem(n, 7, g, psi_sd, matrix(0, 2, 2), sigma, x, seed = 12)
  data <- write_case(long[, c("patient", "session", "alliance", "symptoms")],
                     data.frame(patient = sprintf("p%03d", seq_len(n)), baseline = baseline), "small")
  sdata <- stan_data(data, x)
  fit <- run_stan(sdata, 3000, 1000, 13)
  write_reference("small", "spiral dsem --data small.csv --id patient --time session --vars alliance,symptoms --random all --between baseline",
                  stan_summary(fit, NULL, "baseline"), fit, list(s0 = sdata$s0))
}

# 547 patients x 12 sessions in 5 arms (A-E) with baseline severity: the seed trial's shape.
case_trial <- function(data_only = FALSE) {
  n <- 547
  set.seed(21)
  baseline <- round(rnorm(n), 4)
  arm <- sample(rep_len(LETTERS[1:5], n))
  x <- cbind(1, baseline, sapply(LETTERS[2:5], function(a) as.numeric(arm == a)))
  rownames(x) <- sprintf("p%03d", seq_len(n))
  g <- gamma_matrix(6)
  g[2, ] <- c(0.1, 0.4, 0, 0, -0.04, 0.03)
  g[3, ] <- c(0, -0.2, 0, 0, -0.05, 0)
  g[6, ] <- c(0.1, -0.3, 0.05, 0, 0, 0)
  long <- simulate_dsem(n, 12, g, psi_sd, matrix(0, 2, 2), sigma, x, seed = 22)
  data <- write_case(long[, c("patient", "session", "alliance", "symptoms")],
                     data.frame(patient = sprintf("p%03d", seq_len(n)), baseline = baseline, arm = arm), "trial")
  if (data_only) return(invisible(data))
  sdata <- stan_data(data, x)
  fit <- run_stan(sdata, 2000, 1000, 23)
  write_reference("trial", "spiral dsem --data trial.csv --id patient --time session --vars alliance,symptoms --random all --between baseline,arm",
                  stan_summary(fit, NULL, c("baseline", "armB", "armC", "armD", "armE")), fit, list(s0 = sdata$s0))
}

# 300 patients x 7 sessions in 40 therapists (a therapist random effect on the means).
case_threelevel <- function() {
  n <- 300
  x <- matrix(1, n, 1, dimnames = list(sprintf("p%03d", seq_len(n)), NULL))
  long <- simulate_dsem(n, 7, gamma_matrix(1), psi_sd, matrix(0, 2, 2), sigma, x, therapists = 40,
                        tau_sd = c(0.3, 0.25), seed = 32)
  data <- long[order(long$patient, long$session), ]
  write.csv(data, file.path(ref_dir, "threelevel.csv"), row.names = FALSE, na = "")
  ids <- unique(data$patient)
  therapist_of <- data$therapist[match(ids, data$patient)]
  cluster <- match(therapist_of, sort(unique(therapist_of)))
  sdata <- stan_data(data, x, cluster)
  fit <- run_stan(sdata, 2000, 1000, 33)
  write_reference("threelevel", "spiral dsem --data threelevel.csv --id patient --time session --vars alliance,symptoms --random all --cluster therapist",
                  stan_summary(fit, NULL, character(0), "therapist"), fit, list(s0 = sdata$s0))
}

# posterior's R-hat and ESS on stored draws: AR(1) chains with unequal means, an odd number of
# iterations, heavy tails, and ties.
case_diagnostics <- function() {
  set.seed(41)
  ar_chain <- function(n, rho, shift) as.numeric(stats::filter(rnorm(n), rho, method = "recursive")) + shift
  draws <- list(
    ar = sapply(c(0, 0, 0.1, 0), function(s) ar_chain(1000, 0.9, s)),
    odd = sapply(c(0, 0.3, 0, 0), function(s) ar_chain(251, 0.5, s)),
    heavy = matrix(rt(4 * 500, df = 2), 500),
    ties = matrix(round(rnorm(4 * 400), 1), 400),
    antithetic = sapply(1:4, function(c) { x <- rnorm(300); x * rep(c(1, -1), 150) + 0.01 * rnorm(300) })
  )
  out <- lapply(names(draws), function(name) {
    x <- round(draws[[name]], 6)
    write.csv(x, file.path(ref_dir, paste0("draws_", name, ".csv")), row.names = FALSE)
    list(name = name, rhat = rhat(x), ess_bulk = ess_bulk(x), ess_tail = ess_tail(x),
         rhat_basic = rhat_basic(x), ess_mean = ess_mean(x))
  })
  write_json(list(call = "posterior 1.4.0: rhat(x), ess_bulk(x), ess_tail(x) on the draws (iterations x chains)",
                  cases = out), file.path(ref_dir, "diagnostics.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE)
}

# One study of tests/data/ipd (Lund, 58 patients x 7 sessions) as `spiral ipd` fits its stage-1 model
# dsem: P and O prepared by the recipe of tests/reference/ipd.R (tests/reference/ipd/prepared.csv),
# baseline as the moderator ([dsem] between = ["baseline"]); P and O are named alliance and
# symptoms here, as the Stan model's data are.
case_ipd_study <- function(study = "Lund") {
  prepared <- read.csv("tests/reference/ipd/prepared.csv")
  sessions <- read.csv("tests/data/ipd/sessions.csv")
  prepared <- prepared[prepared$study == study, ]
  sessions <- sessions[sessions$study == study, ]
  prepared$baseline <- sessions$baseline[match(paste(prepared$patient, prepared$session),
                                               paste(sessions$patient, sessions$session))]
  data <- data.frame(patient = as.character(prepared$patient), session = prepared$session,
                     alliance = prepared$P, symptoms = prepared$O, baseline = prepared$baseline)
  ids <- unique(data$patient)
  x <- cbind(1, baseline = data$baseline[match(ids, data$patient)])
  rownames(x) <- ids
  sdata <- stan_data(data, x)
  fit <- run_stan(sdata, 3000, 1000, 31)
  write_reference(paste0("ipd_", study),
                  paste0("spiral ipd stage1 --study ", study, " on tests/data/ipd with [model] dsem = true, [dsem] between = [\"baseline\"]"),
                  stan_summary(fit, NULL, "baseline"), fit, list(s0 = sdata$s0))
}

what <- commandArgs(trailingOnly = TRUE)
if (length(what) == 0) what <- "all"
if (what %in% c("diagnostics", "all")) case_diagnostics()
if (what %in% c("small", "all")) case_small()
if (what %in% c("threelevel", "all")) case_threelevel()
if (what %in% c("trial", "all")) case_trial()
if (what %in% c("ipd_study", "all")) case_ipd_study()
# The trial data alone (bench/ times spiral on it; Stan on it takes the better part of an hour).
if (what == "trial_data") case_trial(data_only = TRUE)
