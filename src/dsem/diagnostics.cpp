// Rank-normalized split R-hat and bulk/tail effective sample sizes (Vehtari, Gelman, Simpson,
// Carpenter & Buerkner 2021, Bayesian Analysis 16, 667-718), computed step by step as R's
// posterior package 1.4 does (rhat, ess_bulk, ess_tail, .ess with Geyer's initial monotone
// sequence, autocovariances with divisor n). Autocovariances are summed directly, lag by lag,
// and only as far as the sequence needs them, instead of by FFT.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <boost/math/distributions/normal.hpp>

#include "spiral/dsem.hpp"

namespace spiral {
namespace {

using Chains = std::vector<std::vector<double>>;

// posterior's .split_chains: each chain's first floor(n/2) and last floor(n/2) iterations as
// two chains (the middle one of an odd count is left out).
Chains split_chains(const Chains& draws) {
  Chains out;
  for (const auto& chain : draws) {
    const std::size_t n = chain.size();
    if (n <= 1) {
      out.push_back(chain);
      continue;
    }
    const std::size_t half = n / 2;
    out.emplace_back(chain.begin(), chain.begin() + static_cast<long>(half));
    out.emplace_back(chain.begin() + static_cast<long>(n - half), chain.end());
  }
  return out;
}

std::vector<double> pooled(const Chains& draws) {
  std::vector<double> all;
  for (const auto& chain : draws) all.insert(all.end(), chain.begin(), chain.end());
  return all;
}

// posterior's should_return_NA: a missing or infinite value, or all values within machine
// epsilon of each other.
bool no_answer(const Chains& draws) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& chain : draws)
    for (double x : chain) {
      if (!std::isfinite(x)) return true;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  return !(std::fabs(hi - lo) >= std::numeric_limits<double>::epsilon());
}

double mean_of(const std::vector<double>& x) {
  double sum = 0;
  for (double v : x) sum += v;
  return sum / static_cast<double>(x.size());
}

double variance_of(const std::vector<double>& x) {  // divisor n - 1, as R's var()
  const double m = mean_of(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return ss / static_cast<double>(x.size() - 1);
}

// R's quantile(x, p) (type 7) of sorted values.
double quantile_sorted(const std::vector<double>& sorted, double p) {
  const double h = (static_cast<double>(sorted.size()) - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// posterior's z_scale: ranks over all draws (ties averaged), back-transformed by
// (r - 3/8) / (S - 3/4 + 1) and mapped through the normal quantile function.
Chains z_scale(const Chains& draws) {
  const std::vector<double> all = pooled(draws);
  const std::size_t s = all.size();
  std::vector<std::size_t> order(s);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return all[a] < all[b]; });
  std::vector<double> rank(s);
  for (std::size_t i = 0; i < s;) {
    std::size_t j = i;
    while (j + 1 < s && all[order[j + 1]] == all[order[i]]) ++j;
    const double average = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2;
    for (std::size_t m = i; m <= j; ++m) rank[order[m]] = average;
    i = j + 1;
  }
  const boost::math::normal standard;
  Chains out = draws;
  std::size_t at = 0;
  for (auto& chain : out)
    for (double& x : chain) {
      const double c = 3.0 / 8.0;
      x = boost::math::quantile(standard, (rank[at++] - c) / (static_cast<double>(s) - 2 * c + 1));
    }
  return out;
}

// posterior's .rhat: sqrt((B/W + n - 1) / n) with B = n var(chain means), W = mean chain variance.
double rhat_of(const Chains& draws) {
  if (no_answer(draws)) return NA;
  const double n = static_cast<double>(draws.front().size());
  std::vector<double> means, variances;
  for (const auto& chain : draws) {
    means.push_back(mean_of(chain));
    variances.push_back(variance_of(chain));
  }
  const double between = n * variance_of(means);
  const double within = mean_of(variances);
  return std::sqrt((between / within + n - 1) / n);
}

// The chains' mean autocovariance at lag t (divisor n, each chain about its own mean).
class MeanAutocovariance {
 public:
  explicit MeanAutocovariance(const Chains& draws) : draws_(draws) {
    for (const auto& chain : draws) means_.push_back(mean_of(chain));
  }
  double operator()(std::size_t lag) const {
    double total = 0;
    for (std::size_t c = 0; c < draws_.size(); ++c) {
      const auto& x = draws_[c];
      const double m = means_[c];
      double sum = 0;
      for (std::size_t i = 0; i + lag < x.size(); ++i) sum += (x[i] - m) * (x[i + lag] - m);
      total += sum / static_cast<double>(x.size());
    }
    return total / static_cast<double>(draws_.size());
  }

 private:
  const Chains& draws_;
  std::vector<double> means_;
};

// posterior's .ess: autocorrelations combined over chains (Geyer's initial positive sequence,
// made monotone), tau = -1 + 2 sum rho, capped below at 1 / log10(chains x n).
double ess_of(const Chains& draws) {
  const std::size_t n = draws.front().size();
  if (n < 3 || no_answer(draws)) return NA;
  const double nd = static_cast<double>(n);
  const double chains = static_cast<double>(draws.size());
  const MeanAutocovariance acov(draws);
  const double mean_var = acov(0) * nd / (nd - 1);
  double var_plus = mean_var * (nd - 1) / nd;
  if (draws.size() > 1) {
    std::vector<double> means;
    for (const auto& chain : draws) means.push_back(mean_of(chain));
    var_plus += variance_of(means);
  }
  const auto rho = [&](std::size_t lag) { return 1 - (mean_var - acov(lag)) / var_plus; };
  std::vector<double> rho_hat(n, 0.0);
  std::size_t t = 0;
  double even = 1, odd = rho(1);
  rho_hat[0] = even;
  rho_hat[1] = odd;
  while (t + 5 < n && !std::isnan(even + odd) && even + odd > 0) {
    t += 2;
    even = rho(t);
    odd = rho(t + 1);
    if (even + odd >= 0) {
      rho_hat[t] = even;
      rho_hat[t + 1] = odd;
    }
  }
  const std::size_t max_t = t;
  if (even > 0) rho_hat[max_t] = even;
  for (t = 0; t + 4 <= max_t;) {
    t += 2;
    if (rho_hat[t] + rho_hat[t + 1] > rho_hat[t - 2] + rho_hat[t - 1]) {
      rho_hat[t] = (rho_hat[t - 2] + rho_hat[t - 1]) / 2;
      rho_hat[t + 1] = rho_hat[t];
    }
  }
  double sum = 0;  // R's sum(rho_hat_t[1:max_t]), which is rho_hat_t[1] when max_t = 0
  for (std::size_t j = 0; j < std::max<std::size_t>(max_t, 1); ++j) sum += rho_hat[j];
  const double total = chains * nd;
  const double tau = std::max(-1 + 2 * sum + rho_hat[max_t], 1 / std::log10(total));
  return total / tau;
}

// posterior's fold_draws: |x - median| over all draws.
Chains folded(const Chains& draws) {
  std::vector<double> all = pooled(draws);
  std::sort(all.begin(), all.end());
  const double median = quantile_sorted(all, 0.5);
  Chains out = draws;
  for (auto& chain : out)
    for (double& x : chain) x = std::fabs(x - median);
  return out;
}

// posterior's .ess_quantile: ESS of the indicator x <= quantile(x, p), split chains.
double ess_quantile(const Chains& draws, double p) {
  if (no_answer(draws)) return NA;
  std::vector<double> all = pooled(draws);
  std::sort(all.begin(), all.end());
  const double q = quantile_sorted(all, p);
  Chains indicator = draws;
  for (auto& chain : indicator)
    for (double& x : chain) x = x <= q ? 1.0 : 0.0;
  return ess_of(split_chains(indicator));
}

}  // namespace

double rhat_rank(const Chains& draws) {
  if (no_answer(draws)) return NA;
  const double bulk = rhat_of(z_scale(split_chains(draws)));
  const double tail = rhat_of(z_scale(split_chains(folded(draws))));
  if (std::isnan(bulk) || std::isnan(tail)) return NA;
  return std::max(bulk, tail);
}

double rhat_basic(const Chains& draws) { return rhat_of(split_chains(draws)); }

double ess_bulk(const Chains& draws) {
  if (no_answer(draws)) return NA;
  return ess_of(z_scale(split_chains(draws)));
}

double ess_tail(const Chains& draws) {
  const double q05 = ess_quantile(draws, 0.05);
  const double q95 = ess_quantile(draws, 0.95);
  if (std::isnan(q05) || std::isnan(q95)) return NA;
  return std::min(q05, q95);
}

double ess_mean(const Chains& draws) { return ess_of(split_chains(draws)); }

}  // namespace spiral
