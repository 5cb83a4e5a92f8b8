// `spiral power` (specification section 6): simulate + the two-stage IPD analysis, repeated.
// Replication r simulates with replication_seed(master seed, r), so every number depends
// only on the spec, the master seed and r — not on threads or MPI ranks: replications can
// be run in any partition (run_replications) and summarized together (summarize_power).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "spiral/ipd.hpp"
#include "spiral/report.hpp"
#include "spiral/simulate.hpp"

namespace spiral {

struct PowerOptions {
  std::string spec;                    // analysis.toml with a [simulate] table
  int replications = 1000;
  int threads = 0;                     // 0 = hardware concurrency
  std::optional<std::uint64_t> seed;   // master seed; default = the [simulate] seed
  // Called after each finished replication with (finished, total) of this process's share,
  // from the worker threads but never concurrently. For the CLI's progress bar.
  std::function<void(int, int)> progress;
};

// What the analysis is and how often to repeat it.
struct PowerPlan {
  IpdSpec spec;
  SimulateOptions simulate;
  std::vector<TruthEntry> truth;
  int replications = 0;
  std::uint64_t seed = 0;
};
// InputError for an unreadable spec, a spec without [simulate], or replications < 1.
PowerPlan plan_power(const PowerOptions& options);

// One pooled model × term of one replication.
struct ReplicationTerm {
  std::string model, term;
  double estimate = NA, p_value = NA, conf_low = NA, conf_high = NA;
};
struct ReplicationResult {
  long replication = 0;
  std::string error;                   // non-empty: the analysis failed (AnalysisError)
  std::vector<ReplicationTerm> terms;  // the pooled terms (stage 2 leaves out failed ones)
};

// Replications first, first + stride, ... below plan.replications, in `threads` threads.
// An InputError in any replication (the spec does not fit the simulated data) is rethrown.
std::vector<ReplicationResult> run_replications(const PowerPlan& plan, long first, long stride, int threads,
                                                const std::function<void(int, int)>& progress = {});

// Serialized replications (for MPI transfer): exact doubles (%.17g).
Json to_json(const std::vector<ReplicationResult>& results);
std::vector<ReplicationResult> replications_from_json(const Json& json);

struct PowerRow {
  std::string model, term;
  std::optional<double> truth;
  long n_estimates = 0;                // replications that pooled this term
  double power = NA;                   // share of n_estimates with p < .05
  double mean_estimate = NA;
  double bias = NA, rmse = NA, coverage = NA;  // against the truth; NaN without one
  long n_failed = 0;                   // replications - n_estimates
};

struct PowerResult {
  long replications = 0;
  std::uint64_t seed = 0;
  std::vector<PowerRow> results;       // in the order the terms first appear (replication order)
  Warnings warnings;
};

// Combines all replications (any order in, summarized in replication order).
PowerResult summarize_power(const PowerPlan& plan, std::vector<ReplicationResult> results);

// plan_power + run_replications(all) + summarize_power.
PowerResult run_power(const PowerOptions& options);

Json to_json(const PowerResult& result);
std::string to_text(const PowerResult& result);
std::string to_csv(const PowerResult& result);

}  // namespace spiral
