// `spiral dsem`: the two-level (optionally three-level) vector autoregression of dynamic
// structural equation modelling (Asparouhov, Hamaker & Muthen 2018, Structural Equation
// Modeling 25, 359-388; Hamaker et al. 2018, Multivariate Behavioral Research 53, 820-841),
// sampled by a Gibbs sampler with conjugate blocks (specification section 9).
//   y_it = mu_i + w_it,  w_it = Phi_i w_i,t-1 + zeta_it,  zeta_it ~ N(0, Sigma)
//   b_i = (mu_i, the random elements of Phi_i) = Gamma' x_i + u_i (+ v_c on mu_i), u_i ~ N(0, Psi)
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "spiral/error.hpp"
#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral {

struct DsemOptions {
  std::string id;                   // patient column
  std::string time;                 // session column (integers): the occasions
  std::vector<std::string> vars;    // 2 to 4 numeric variables
  std::string random = "all";       // which lagged effects vary across patients: lagged|ar|all|none
  std::vector<std::string> between; // patient-level moderators (numeric or factor, constant within patient)
  std::string cluster;              // optional third level (therapist): a random effect on the means
  int chains = 4;
  int iter = 4000;                  // per chain, warmup included (as rstan's iter)
  int warmup = 2000;
  int thin = 1;
  std::uint64_t seed = 1;
  unsigned threads = 0;             // 0: one per core; results do not depend on it
  std::optional<long> first, last;  // occasion window; default: all observed sessions
  double level = 95;                // credible interval in percent
  bool standardized = false;        // adds within-person standardized lagged effects
  // Called after each iteration of any chain with (iterations done, iterations in all); may be
  // empty. Called from the sampling threads, one call at a time.
  std::function<void(long, long)> progress;
};

// Posterior summary of one parameter over all chains' kept draws.
struct DsemSummary {
  std::string name;                 // as the --draws column, e.g. "fixed:alliance->symptoms"
  std::optional<std::string> from;  // lagged effects: from -> to; means: no from
  std::string to;
  std::string moderator;            // moderator records: the term (baseline, armB)
  std::string level;                // random records: "patient" or the --cluster column
  double mean = NA, median = NA, sd = NA, conf_low = NA, conf_high = NA;
  double rhat = NA, ess_bulk = NA, ess_tail = NA;
  std::optional<double> standardized;  // --standardized: posterior mean of the standardized effect
};

struct DsemResult {
  std::vector<std::string> vars;
  std::vector<long> occasions;      // the window's sessions
  long n_patients = 0, n_occasions = 0, n_observed = 0, n_missing = 0, n_dropped = 0;
  long n_clusters = 0;
  std::string random;
  int chains = 0, iter = 0, warmup = 0, thin = 1;
  std::uint64_t seed = 0;
  double level = 95;
  std::vector<double> presample_variance;  // s0: the prior variances of the pre-sample values
  std::vector<DsemSummary> fixed, moderators, random_sd, innovations;
  double max_rhat = NA, min_ess = NA;
  // The kept draws: names (every summary's name, in the order above) and, per chain, one row
  // per kept iteration.
  std::vector<std::string> draw_names;
  std::vector<std::vector<std::vector<double>>> draws;  // [chain][draw][parameter]
  Warnings warnings;
};

// Samples the posterior. InputError for bad input (unknown column, a --between column that
// varies within a patient, no patient with 3 sessions, a constant variable, bad sampler
// options); AnalysisError when no draw is finite.
DsemResult fit_dsem(const Table& table, const DsemOptions& options);

Json to_json(const DsemResult& result);
std::string to_text(const DsemResult& result);
// The draws as CSV: chain, iteration, then one column per parameter (draw_names).
std::string draws_csv(const DsemResult& result);

// Convergence diagnostics exactly as R's posterior package (version 1.4) computes them
// (Vehtari, Gelman, Simpson, Carpenter & Buerkner 2021, Bayesian Analysis 16, 667-718):
// draws[chain][iteration], all chains of equal length.
double rhat_rank(const std::vector<std::vector<double>>& draws);     // posterior::rhat
double ess_bulk(const std::vector<std::vector<double>>& draws);      // posterior::ess_bulk
double ess_tail(const std::vector<std::vector<double>>& draws);      // posterior::ess_tail
double ess_mean(const std::vector<std::vector<double>>& draws);      // posterior::ess_mean
double rhat_basic(const std::vector<std::vector<double>>& draws);    // posterior::rhat_basic

}  // namespace spiral
