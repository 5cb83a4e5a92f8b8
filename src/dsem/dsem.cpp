// fit_dsem: chains on threads, posterior summaries and diagnostics, and the output forms of
// specification section 9.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

#include <fmt/format.h>

#include "common/parallel.hpp"
#include "dsem/sampler.hpp"

namespace spiral {
namespace {

using dsem::Part;

void check_sampler_options(const DsemOptions& o) {
  if (o.random != "lagged" && o.random != "ar" && o.random != "all" && o.random != "none")
    throw InputError("--random: expected lagged, ar, all or none, got '" + o.random + "'");
  if (o.chains < 1 || o.chains > 64) throw InputError("--chains: expected 1 to 64 chains, got " + std::to_string(o.chains));
  if (o.thin < 1) throw InputError("--thin: expected a whole number >= 1, got " + std::to_string(o.thin));
  if (o.warmup < 0) throw InputError("--warmup: expected a whole number >= 0, got " + std::to_string(o.warmup));
  if (o.iter - o.warmup < 4 * o.thin)
    throw InputError("--iter " + std::to_string(o.iter) + " leaves fewer than 4 kept draws per chain after --warmup " +
                     std::to_string(o.warmup) + " and --thin " + std::to_string(o.thin));
}

// R's quantile(x, p), type 7, of sorted values.
double quantile_sorted(const std::vector<double>& sorted, double p) {
  const double h = (static_cast<double>(sorted.size()) - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// One parameter's draws as [chain][draw].
std::vector<std::vector<double>> parameter_draws(const DsemResult& r, std::size_t j) {
  std::vector<std::vector<double>> out(r.draws.size());
  for (std::size_t c = 0; c < r.draws.size(); ++c)
    for (const auto& row : r.draws[c]) out[c].push_back(row[j]);
  return out;
}

void summarise(DsemSummary& s, const std::vector<std::vector<double>>& draws, double level) {
  std::vector<double> all;
  for (const auto& chain : draws) all.insert(all.end(), chain.begin(), chain.end());
  double sum = 0;
  for (double x : all) sum += x;
  s.mean = sum / static_cast<double>(all.size());
  double ss = 0;
  for (double x : all) ss += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(ss / static_cast<double>(all.size() - 1));
  std::sort(all.begin(), all.end());
  s.median = quantile_sorted(all, 0.5);
  const double tail = (1 - level / 100) / 2;
  s.conf_low = quantile_sorted(all, tail);
  s.conf_high = quantile_sorted(all, 1 - tail);
  s.rhat = rhat_rank(draws);
  s.ess_bulk = ess_bulk(draws);
  s.ess_tail = ess_tail(draws);
}

// Every draw finite, or AnalysisError naming the first parameter without (specification section 1: exit 1).
void check_finite(const DsemResult& r) {
  for (std::size_t j = 0; j < r.draw_names.size(); ++j) {
    long finite = 0, total = 0;
    for (const auto& chain : r.draws)
      for (const auto& row : chain) finite += std::isfinite(row[j]) ? 1 : 0, ++total;
    if (finite == 0) throw AnalysisError("the sampler produced no finite draw of " + r.draw_names[j]);
    if (finite < total)
      throw AnalysisError("the sampler produced " + std::to_string(total - finite) + " non-finite draws of " +
                          r.draw_names[j]);
  }
}

// Within-person standardized lagged effect from -> to of one draw: Phi[to, from] times
// sd_w(from) / sd_w(to), the within parts' stationary SDs of the average VAR(1)
// (vec V = (I - Phi (x) Phi)^-1 vec Sigma; Hamaker et al. 2018 standardize within persons).
// NaN when the average process is not stationary.
Eigen::MatrixXd standardized_lags(const Eigen::MatrixXd& phi, const Eigen::MatrixXd& sigma) {
  const long k = phi.rows();
  Eigen::MatrixXd kron(k * k, k * k);
  for (long a = 0; a < k; ++a)
    for (long b = 0; b < k; ++b) kron.block(a * k, b * k, k, k) = phi(a, b) * phi;
  const Eigen::MatrixXd system = Eigen::MatrixXd::Identity(k * k, k * k) - kron;
  const Eigen::VectorXd vec_sigma = Eigen::Map<const Eigen::VectorXd>(sigma.data(), k * k);
  const Eigen::VectorXd vec_v = system.fullPivLu().solve(vec_sigma);
  Eigen::MatrixXd out(k, k);
  const bool stationary = phi.eigenvalues().cwiseAbs().maxCoeff() < 1;
  for (long to = 0; to < k; ++to)
    for (long from = 0; from < k; ++from)
      out(to, from) = stationary ? phi(to, from) * std::sqrt(vec_v(from * k + from) / vec_v(to * k + to)) : NA;
  return out;
}

// Posterior means of the standardized average lagged effects, in the fixed records' order.
void add_standardized(DsemResult& r, std::vector<DsemSummary>& fixed) {
  const long k = static_cast<long>(r.vars.size());
  const std::size_t innovations = r.draw_names.size() - static_cast<std::size_t>(k * (k + 1) / 2);
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(k, k);
  Eigen::MatrixXd count = Eigen::MatrixXd::Zero(k, k);
  for (const auto& chain : r.draws)
    for (const auto& row : chain) {
      Eigen::MatrixXd phi(k, k), sigma(k, k);
      for (long to = 0; to < k; ++to)
        for (long from = 0; from < k; ++from) phi(to, from) = row[static_cast<std::size_t>(k + to * k + from)];
      std::size_t at = innovations;
      for (long a = 0; a < k; ++a)
        for (long b = 0; b <= a; ++b) sigma(a, b) = sigma(b, a) = row[at++];
      const Eigen::MatrixXd s = standardized_lags(phi, sigma);
      for (long a = 0; a < k; ++a)
        for (long b = 0; b < k; ++b)
          if (!std::isnan(s(a, b))) sum(a, b) += s(a, b), count(a, b) += 1;
    }
  for (long to = 0; to < k; ++to)
    for (long from = 0; from < k; ++from)
      fixed[static_cast<std::size_t>(k + to * k + from)].standardized =
          count(to, from) > 0 ? sum(to, from) / count(to, from) : NA;
}

void add_diagnostic_warnings(DsemResult& r) {
  std::vector<std::string> high_rhat, low_ess;
  r.max_rhat = -INFINITY;
  r.min_ess = INFINITY;
  for (const auto* list : {&r.fixed, &r.moderators, &r.random_sd, &r.innovations})
    for (const auto& s : *list) {
      if (!std::isnan(s.rhat)) r.max_rhat = std::max(r.max_rhat, s.rhat);
      for (double e : {s.ess_bulk, s.ess_tail})
        if (!std::isnan(e)) r.min_ess = std::min(r.min_ess, e);
      if (s.rhat > 1.01) high_rhat.push_back(s.name);
      if (s.ess_bulk < 400 || s.ess_tail < 400) low_ess.push_back(s.name);
    }
  if (!std::isfinite(r.max_rhat)) r.max_rhat = NA;
  if (!std::isfinite(r.min_ess)) r.min_ess = NA;
  const auto joined = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  if (!high_rhat.empty())
    r.warnings.push_back("R-hat above 1.01 (the chains have not mixed; run more --iter): " + joined(high_rhat));
  if (!low_ess.empty())
    r.warnings.push_back("bulk or tail ESS below 400 (run more --iter): " + joined(low_ess));
}

}  // namespace

DsemResult fit_dsem(const Table& table, const DsemOptions& options) {
  check_sampler_options(options);
  DsemResult r;
  const dsem::ModelSpec spec = dsem::model_spec(static_cast<long>(options.vars.size()), options.random);
  const dsem::DsemData data = dsem::dsem_data(table, options, static_cast<long>(spec.random.size()));
  r.vars = data.vars;
  r.occasions = data.occasions;
  r.n_patients = data.n();
  r.n_occasions = data.occasions_count();
  r.n_observed = data.n_observed;
  r.n_missing = data.n_missing;
  r.n_dropped = data.n_dropped;
  r.n_clusters = data.n_clusters;
  r.random = options.random;
  r.chains = options.chains;
  r.iter = options.iter;
  r.warmup = options.warmup;
  r.thin = options.thin;
  r.seed = options.seed;
  r.level = options.level;
  r.warnings = data.warnings;
  r.presample_variance.assign(data.presample_variance.data(), data.presample_variance.data() + data.k());
  std::vector<dsem::Parameter> parameters = dsem::model_parameters(data, spec, options.cluster);
  for (const auto& p : parameters) r.draw_names.push_back(p.record.name);

  // Chains on threads, each with its own stream of the seed: the same draws on any --threads.
  r.draws.resize(static_cast<std::size_t>(options.chains));
  std::mutex progress_mutex;
  std::atomic<long> done{0};
  const long total = static_cast<long>(options.chains) * options.iter;
  detail::parallel_for(static_cast<std::size_t>(options.chains), options.threads, [&](std::size_t c) {
    dsem::ChainSettings settings{options.iter, options.warmup, options.thin, options.seed, static_cast<int>(c), {}};
    if (options.progress)
      settings.tick = [&] {
        const long now = ++done;
        const std::lock_guard<std::mutex> lock(progress_mutex);
        options.progress(now, total);
      };
    r.draws[c] = dsem::run_chain(data, spec, settings);
  });
  check_finite(r);

  for (std::size_t j = 0; j < parameters.size(); ++j) summarise(parameters[j].record, parameter_draws(r, j), options.level);
  for (auto& p : parameters) {
    auto& list = p.part == Part::Fixed ? r.fixed : p.part == Part::Moderator ? r.moderators : p.part == Part::Random ? r.random_sd : r.innovations;
    list.push_back(p.record);
  }
  if (options.standardized) add_standardized(r, r.fixed);
  add_diagnostic_warnings(r);
  return r;
}

namespace {

Json summary_numbers(Json j, const DsemSummary& s) {
  j["mean"] = json_number(s.mean);
  j["median"] = json_number(s.median);
  j["sd"] = json_number(s.sd);
  j["conf_low"] = json_number(s.conf_low);
  j["conf_high"] = json_number(s.conf_high);
  j["rhat"] = json_number(s.rhat);
  j["ess_bulk"] = json_number(s.ess_bulk);
  j["ess_tail"] = json_number(s.ess_tail);
  if (s.standardized) j["standardized"] = json_number(*s.standardized);
  return j;
}

Json from_json(const DsemSummary& s) { return s.from ? Json(*s.from) : Json(nullptr); }

}  // namespace

Json to_json(const DsemResult& r) {
  Json j;
  j["vars"] = r.vars;
  j["n_patients"] = r.n_patients;
  j["n_occasions"] = r.n_occasions;
  j["n_observed"] = r.n_observed;
  j["n_missing"] = r.n_missing;
  j["n_dropped"] = r.n_dropped;
  j["n_clusters"] = r.n_clusters;
  j["random_lagged"] = r.random;
  j["chains"] = r.chains;
  j["iter"] = r.iter;
  j["warmup"] = r.warmup;
  j["thin"] = r.thin;
  j["seed"] = r.seed;
  j["level"] = r.level;
  j["presample_variance"] = Json::array();
  for (double v : r.presample_variance) j["presample_variance"].push_back(json_number(v));
  j["fixed"] = Json::array();
  for (const auto& s : r.fixed) j["fixed"].push_back(summary_numbers({{"from", from_json(s)}, {"to", s.to}}, s));
  j["moderators"] = Json::array();
  for (const auto& s : r.moderators)
    j["moderators"].push_back(summary_numbers({{"moderator", s.moderator}, {"from", from_json(s)}, {"to", s.to}}, s));
  j["random"] = Json::array();
  for (const auto& s : r.random_sd)
    j["random"].push_back(summary_numbers({{"level", s.level}, {"from", from_json(s)}, {"to", s.to}}, s));
  j["innovations"] = Json::array();
  for (const auto& s : r.innovations)
    j["innovations"].push_back(summary_numbers({{"var1", s.to}, {"var2", *s.from}}, s));
  j["diagnostics"] = {{"max_rhat", json_number(r.max_rhat)}, {"min_ess", json_number(r.min_ess)}};
  j["warnings"] = r.warnings;
  return j;
}

namespace {

std::string fixed3(double x) { return std::isfinite(x) ? fmt::format("{:.3f}", x) : "NA"; }
std::string whole(double x) { return std::isfinite(x) ? fmt::format("{:.0f}", x) : "NA"; }

std::string table_header(const std::string& first) {
  return fmt::format("  {:<34}{:>9}{:>9}{:>9}{:>9}{:>9}{:>7}{:>8}{:>8}\n", first, "Mean", "Median", "SD", "Lower",
                     "Upper", "R-hat", "ESS-b", "ESS-t");
}

std::string table_row(const std::string& label, const DsemSummary& s) {
  return fmt::format("  {:<34}{:>9}{:>9}{:>9}{:>9}{:>9}{:>7}{:>8}{:>8}\n", label.substr(0, 34), fixed3(s.mean),
                     fixed3(s.median), fixed3(s.sd), fixed3(s.conf_low), fixed3(s.conf_high),
                     std::isfinite(s.rhat) ? fmt::format("{:.3f}", s.rhat) : "NA", whole(s.ess_bulk), whole(s.ess_tail));
}

std::string effect_label(const DsemSummary& s) { return s.from ? *s.from + " -> " + s.to : "mean of " + s.to; }

}  // namespace

std::string to_text(const DsemResult& r) {
  std::string out = "Dynamic structural equation model: two-level VAR(1) by Gibbs sampling (latent mean centring)\n\n";
  out += fmt::format("  Patients {:>12}   dropped {}\n", r.n_patients, r.n_dropped);
  if (r.n_clusters > 0) out += fmt::format("  Clusters {:>12}\n", r.n_clusters);
  out += fmt::format("  Occasions {:>11}   ({}..{})\n", r.n_occasions, r.occasions.front(), r.occasions.back());
  out += fmt::format("  Values observed {:>5}   missing {}\n", r.n_observed, r.n_missing);
  out += fmt::format("  Random lagged effects: {}\n", r.random);
  out += fmt::format("  Chains {}, iterations {} (warmup {}, thin {}), seed {}\n\n", r.chains, r.iter, r.warmup, r.thin, r.seed);
  out += "Average lagged effects and means (intercepts of the between level):\n" + table_header("");
  for (const auto& s : r.fixed) out += table_row(effect_label(s), s);
  if (!r.moderators.empty()) {
    out += "\nModerators (between-level regression of the random effects):\n" + table_header("");
    for (const auto& s : r.moderators) out += table_row(s.moderator + ": " + effect_label(s), s);
  }
  out += "\nRandom effects (SD across patients" + std::string(r.n_clusters > 0 ? " and clusters" : "") + "):\n" +
         table_header("");
  for (const auto& s : r.random_sd) out += table_row((s.level == "patient" ? "" : s.level + ": ") + effect_label(s), s);
  out += "\nInnovations (within-person residual covariance):\n" + table_header("");
  for (const auto& s : r.innovations) out += table_row(s.to + " ~~ " + *s.from, s);
  bool standardized = false;
  for (const auto& s : r.fixed) standardized = standardized || s.standardized.has_value();
  if (standardized) {
    out += "\nStandardized average lagged effects (within-person SDs, posterior mean):\n";
    for (const auto& s : r.fixed)
      if (s.standardized) out += fmt::format("  {:<34}{:>9}\n", effect_label(s), fixed3(*s.standardized));
  }
  out += fmt::format("\n  ({}% credible intervals; max R-hat {}, min ESS {})\n", r.level, fixed3(r.max_rhat), whole(r.min_ess));
  return out;
}

std::string draws_csv(const DsemResult& r) {
  std::string out = "chain,iteration";
  for (const auto& name : r.draw_names) out.append(",").append(csv_field(name));
  out += "\n";
  for (std::size_t c = 0; c < r.draws.size(); ++c)
    for (std::size_t d = 0; d < r.draws[c].size(); ++d) {
      out += std::to_string(c + 1) + "," + std::to_string(r.warmup + 1 + static_cast<long>(d) * r.thin);
      for (double x : r.draws[c][d]) out.append(",").append(csv_number(x));
      out += "\n";
    }
  return out;
}

}  // namespace spiral
