// Agreement with the same model written in Stan (tests/reference/dsem.R: stan_code, sampled
// by rstan::sampling with 4 chains; summaries by posterior 1.4.0's mean, sd, mcse_mean): every
// posterior mean within 4 combined Monte Carlo standard errors of Stan's, every posterior SD
// within 10%. spiral's MCSE is sd / sqrt(ess_mean) of its draws (posterior's mcse_mean).
#include <cmath>
#include <filesystem>
#include <map>

#include "spiral/dsem.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

DsemResult fit_case(const std::string& name, DsemOptions options) {
  options.id = "patient";
  options.time = "session";
  options.vars = {"alliance", "symptoms"};
  return fit_dsem(read_table(test::test_path("reference/dsem/" + name + ".csv")), options);
}

// One parameter's draws as [chain][draw].
std::vector<std::vector<double>> draws_of(const DsemResult& r, std::size_t j) {
  std::vector<std::vector<double>> out(r.draws.size());
  for (std::size_t c = 0; c < r.draws.size(); ++c)
    for (const auto& row : r.draws[c]) out[c].push_back(row[j]);
  return out;
}

double mean_sd(const std::vector<std::vector<double>>& chains, double& sd) {
  double sum = 0, n = 0;
  for (const auto& c : chains)
    for (double x : c) sum += x, ++n;
  const double mean = sum / n;
  double ss = 0;
  for (const auto& c : chains)
    for (double x : c) ss += (x - mean) * (x - mean);
  sd = std::sqrt(ss / (n - 1));
  return mean;
}

void expect_agreement(const std::string& name, const DsemOptions& options) {
  if (!std::filesystem::exists(test::test_path("reference/dsem/" + name + ".json")))
    GTEST_SKIP() << "tests/reference/dsem/" << name << ".json not written yet: Rscript tests/reference/dsem.R " << name;
  const DsemResult r = fit_case(name, options);
  const auto reference = test::reference_json("dsem/" + name + ".json");
  std::map<std::string, std::size_t> index;
  for (std::size_t j = 0; j < r.draw_names.size(); ++j) index[r.draw_names[j]] = j;
  ASSERT_EQ(index.size(), reference["parameters"].size());
  for (const auto& p : reference["parameters"]) {
    const std::string parameter = p["parameter"];
    ASSERT_TRUE(index.count(parameter)) << parameter;
    const auto chains = draws_of(r, index[parameter]);
    double sd = 0;
    const double mean = mean_sd(chains, sd);
    const double mcse = sd / std::sqrt(ess_mean(chains));
    const double combined = std::sqrt(mcse * mcse + std::pow(p["mcse_mean"].get<double>(), 2));
    EXPECT_NEAR(mean, p["mean"].get<double>(), 4 * combined) << name << " " << parameter;
    EXPECT_TRUE(test::near_relative(sd, p["sd"].get<double>(), 0.10)) << name << " " << parameter << " sd " << sd
                                                                      << " Stan " << p["sd"].get<double>();
  }
  // The pre-sample prior variances are the ones the Stan model was given (stan_data()$s0).
  for (std::size_t v = 0; v < 2; ++v)
    EXPECT_TRUE(test::near_relative(r.presample_variance[v], reference["s0"][v].get<double>(), 1e-12));
}

// reference("small"): 150 patients x 7 sessions, --between baseline (Stan: 4 chains x 2000 draws).
TEST(DsemStan, SmallCaseWithAModerator) {
  DsemOptions options;
  options.between = {"baseline"};
  options.iter = 6000;
  options.warmup = 1000;
  options.seed = 5;
  expect_agreement("small", options);
}

}  // namespace
}  // namespace spiral
