// `spiral power`: the simulation-based power analysis of specification section 6.
#include "spiral/power.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "common/parallel.hpp"
#include "sim/random.hpp"
#include "spiral/error.hpp"

namespace spiral {

namespace {

constexpr double kAlpha = 0.05;

ReplicationResult run_one(const PowerPlan& plan, long replication) {
  SimulateOptions options = plan.simulate;
  options.seed = sim::replication_seed(plan.seed, static_cast<std::uint64_t>(replication));
  ReplicationResult result;
  result.replication = replication;
  try {
    const SimulatedData data = simulate(options);
    const Table* patients = plan.spec.post ? &data.patients : nullptr;
    const IpdResult ipd = run_ipd(plan.spec, data.sessions, patients, 1);
    for (const auto& pooled : ipd.pooled) {
      const MetaResult& m = pooled.meta;
      result.terms.push_back({pooled.model, pooled.term, m.estimate, m.p_value, m.conf_low, m.conf_high});
    }
  } catch (const AnalysisError& e) {
    result.error = e.what();
  }
  return result;
}

// Welford-free sums over the replications that pooled a term (replication order).
struct Accumulator {
  std::string model, term;
  long n = 0, significant = 0, covered = 0;
  double sum = 0, sum_squared_error = 0;
};

std::optional<double> truth_of(const PowerPlan& plan, const std::string& model, const std::string& term) {
  for (const auto& entry : plan.truth) {
    if (entry.model == model && entry.term == term) return entry.value;
  }
  return std::nullopt;
}

std::string fixed(double x, const char* format) {
  if (is_na(x)) return "NA";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, x);
  return buffer;
}

}  // namespace

PowerPlan plan_power(const PowerOptions& options) {
  if (options.replications < 1) {
    throw InputError("--replications: must be at least 1, got " + std::to_string(options.replications));
  }
  if (options.threads < 0) throw InputError("--threads: must not be negative, got " + std::to_string(options.threads));
  PowerPlan plan;
  plan.simulate = simulate_options_from_spec(options.spec);
  plan.spec = load_spec(options.spec);
  plan.truth = simulation_truth(plan.simulate);
  plan.replications = options.replications;
  plan.seed = options.seed ? *options.seed : plan.simulate.seed;
  return plan;
}

std::vector<ReplicationResult> run_replications(const PowerPlan& plan, long first, long stride, int threads,
                                                const std::function<void(int, int)>& progress) {
  std::vector<long> mine;
  for (long r = first; r < plan.replications; r += stride) mine.push_back(r);
  std::vector<ReplicationResult> results(mine.size());
  if (threads <= 0) threads = static_cast<int>(detail::hardware_threads());
  threads = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(threads), std::max<std::size_t>(1, mine.size())));

  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // guards done, first_error and the progress callback
  int done = 0;
  std::exception_ptr first_error;
  auto worker = [&] {
    const detail::ParallelRegion region(threads > 1);
    for (std::size_t k = next++; k < mine.size() && !stop; k = next++) {
      try {
        results[k] = run_one(plan, mine[k]);
      } catch (...) {  // InputError or worse: the whole power analysis is wrong
        std::lock_guard<std::mutex> lock(mutex);
        if (!first_error) first_error = std::current_exception();
        stop = true;
        return;
      }
      std::lock_guard<std::mutex> lock(mutex);
      ++done;
      if (progress) progress(done, static_cast<int>(mine.size()));
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  if (first_error) std::rethrow_exception(first_error);
  return results;
}

Json to_json(const std::vector<ReplicationResult>& results) {
  Json out = Json::array();
  for (const auto& r : results) {
    Json terms = Json::array();
    for (const auto& t : r.terms) {
      terms.push_back({t.model, t.term, json_number(t.estimate), json_number(t.p_value), json_number(t.conf_low),
                       json_number(t.conf_high)});
    }
    out.push_back({{"replication", r.replication}, {"error", r.error}, {"terms", terms}});
  }
  return out;
}

std::vector<ReplicationResult> replications_from_json(const Json& json) {
  auto number = [](const Json& x) { return x.is_null() ? NA : x.get<double>(); };
  std::vector<ReplicationResult> out;
  for (const auto& r : json) {
    ReplicationResult result;
    result.replication = r.at("replication").get<long>();
    result.error = r.at("error").get<std::string>();
    for (const auto& t : r.at("terms")) {
      result.terms.push_back({t.at(0).get<std::string>(), t.at(1).get<std::string>(), number(t.at(2)),
                              number(t.at(3)), number(t.at(4)), number(t.at(5))});
    }
    out.push_back(std::move(result));
  }
  return out;
}

PowerResult summarize_power(const PowerPlan& plan, std::vector<ReplicationResult> results) {
  std::sort(results.begin(), results.end(),
            [](const auto& a, const auto& b) { return a.replication < b.replication; });
  PowerResult out;
  out.replications = plan.replications;
  out.seed = plan.seed;
  std::vector<Accumulator> terms;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  long failed = 0;
  for (const auto& r : results) {
    if (!r.error.empty()) {
      if (++failed <= 3) out.warnings.push_back("replication " + std::to_string(r.replication + 1) + " failed: " + r.error);
      continue;
    }
    for (const auto& t : r.terms) {
      const auto key = std::make_pair(t.model, t.term);
      auto it = index.find(key);
      if (it == index.end()) {
        it = index.emplace(key, terms.size()).first;
        terms.push_back({t.model, t.term});
      }
      if (is_na(t.estimate)) continue;
      Accumulator& a = terms[it->second];
      const auto truth = truth_of(plan, t.model, t.term);
      a.n += 1;
      a.sum += t.estimate;
      a.significant += !is_na(t.p_value) && t.p_value < kAlpha;
      if (truth) {
        a.sum_squared_error += (t.estimate - *truth) * (t.estimate - *truth);
        a.covered += t.conf_low <= *truth && *truth <= t.conf_high;
      }
    }
  }
  // No replication gave a result: no valid result (specification section 1: exit 1).
  if (failed == static_cast<long>(results.size()) && failed > 0)
    throw AnalysisError("power: every replication failed; the first: " + results.front().error);
  if (failed > 3) out.warnings.push_back(std::to_string(failed) + " of " + std::to_string(plan.replications) + " replications failed");
  for (const auto& a : terms) {
    PowerRow row;
    row.model = a.model;
    row.term = a.term;
    row.truth = truth_of(plan, a.model, a.term);
    row.n_estimates = a.n;
    row.n_failed = plan.replications - a.n;
    if (a.n > 0) {
      const double n = static_cast<double>(a.n);
      row.power = static_cast<double>(a.significant) / n;
      row.mean_estimate = a.sum / n;
      if (row.truth) {
        row.bias = row.mean_estimate - *row.truth;
        row.rmse = std::sqrt(a.sum_squared_error / n);
        row.coverage = static_cast<double>(a.covered) / n;
      }
    }
    out.results.push_back(row);
  }
  return out;
}

PowerResult run_power(const PowerOptions& options) {
  const PowerPlan plan = plan_power(options);
  return summarize_power(plan, run_replications(plan, 0, 1, options.threads, options.progress));
}

Json to_json(const PowerResult& result) {
  Json rows = Json::array();
  for (const auto& r : result.results) {
    rows.push_back({{"model", r.model},
                    {"term", r.term},
                    {"truth", r.truth ? json_number(*r.truth) : Json(nullptr)},
                    {"power", json_number(r.power)},
                    {"mean_estimate", json_number(r.mean_estimate)},
                    {"bias", json_number(r.bias)},
                    {"rmse", json_number(r.rmse)},
                    {"coverage", json_number(r.coverage)},
                    {"n_failed", r.n_failed}});
  }
  Json out;
  out["replications"] = result.replications;
  out["seed"] = result.seed;
  out["results"] = rows;
  out["warnings"] = result.warnings;
  return out;
}

std::string to_text(const PowerResult& result) {
  std::string out = "Power analysis: " + std::to_string(result.replications) + " replications, seed " +
                    std::to_string(result.seed) + " (p < .05; 95% CI coverage)\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-26s %-14s %8s %6s %9s %8s %7s %8s %6s\n", "model", "term", "truth", "power",
                "mean_est", "bias", "rmse", "coverage", "failed");
  out += line;
  for (const auto& r : result.results) {
    std::snprintf(line, sizeof line, "%-26s %-14s %8s %6s %9s %8s %7s %8s %6ld\n", r.model.c_str(), r.term.c_str(),
                  r.truth ? fixed(*r.truth, "%.4f").c_str() : "-", fixed(r.power, "%.3f").c_str(),
                  fixed(r.mean_estimate, "%.4f").c_str(), fixed(r.bias, "%.4f").c_str(), fixed(r.rmse, "%.4f").c_str(),
                  fixed(r.coverage, "%.3f").c_str(), r.n_failed);
    out += line;
  }
  return out;
}

std::string to_csv(const PowerResult& result) {
  std::string out = "model,term,truth,power,mean_estimate,bias,rmse,coverage,n_failed\n";
  for (const auto& r : result.results) {
    out += csv_field(r.model) + ',' + csv_field(r.term) + ',' + (r.truth ? csv_number(*r.truth) : "NA") + ',' +
           csv_number(r.power) + ',' + csv_number(r.mean_estimate) + ',' + csv_number(r.bias) + ',' +
           csv_number(r.rmse) + ',' + csv_number(r.coverage) + ',' + std::to_string(r.n_failed) + '\n';
  }
  return out;
}

}  // namespace spiral
