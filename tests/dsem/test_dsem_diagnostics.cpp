// R-hat and ESS against R's posterior package on stored draws: tests/reference/dsem.R,
// case_diagnostics(), posterior 1.4.0's rhat(x), ess_bulk(x), ess_tail(x), rhat_basic(x) and
// ess_mean(x) on each draws_<name>.csv (iterations x chains).
#include <fstream>
#include <sstream>

#include "spiral/dsem.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

// draws_<name>.csv: a header, then one row per iteration, one column per chain.
std::vector<std::vector<double>> read_draws(const std::string& name) {
  std::istringstream in(test::read_text(test::test_path("reference/dsem/draws_" + name + ".csv")));
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> chains;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string field;
    for (std::size_t c = 0; std::getline(fields, field, ','); ++c) {
      if (chains.size() <= c) chains.resize(c + 1);
      chains[c].push_back(std::stod(field));
    }
  }
  return chains;
}

TEST(DsemDiagnostics, MatchPosteriorPackage) {
  const auto reference = test::reference_json("dsem/diagnostics.json");
  ASSERT_EQ(reference["cases"].size(), 5u);
  for (const auto& c : reference["cases"]) {
    const std::string name = c["name"];
    const auto draws = read_draws(name);
    ASSERT_EQ(draws.size(), 4u) << name;
    EXPECT_TRUE(test::near_relative(rhat_rank(draws), c["rhat"].get<double>(), 1e-9)) << name;
    EXPECT_TRUE(test::near_relative(ess_bulk(draws), c["ess_bulk"].get<double>(), 1e-9)) << name;
    EXPECT_TRUE(test::near_relative(ess_tail(draws), c["ess_tail"].get<double>(), 1e-9)) << name;
    EXPECT_TRUE(test::near_relative(rhat_basic(draws), c["rhat_basic"].get<double>(), 1e-9)) << name;
    EXPECT_TRUE(test::near_relative(ess_mean(draws), c["ess_mean"].get<double>(), 1e-9)) << name;
  }
}

TEST(DsemDiagnostics, ConstantDrawsHaveNoAnswer) {
  const std::vector<std::vector<double>> constant(4, std::vector<double>(100, 0.5));
  EXPECT_TRUE(std::isnan(rhat_rank(constant)));
  EXPECT_TRUE(std::isnan(ess_bulk(constant)));
  EXPECT_TRUE(std::isnan(ess_tail(constant)));
}

}  // namespace
}  // namespace spiral
