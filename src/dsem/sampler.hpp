// The Gibbs sampler of the DSEM two-level VAR(1) (Asparouhov, Hamaker & Muthen 2018, section 3:
// the blocks of Mplus's sampler; conditional distributions as in Gelman et al. 2013, Bayesian
// Data Analysis, 3rd ed., sections 14.2 (normal regression) and 3.6 (inverse Wishart)).
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dsem/dsem_data.hpp"
#include "dsem/random.hpp"

namespace spiral::dsem {

// Which elements of Phi (to, from) vary across patients and which are common.
struct ModelSpec {
  long k = 2;
  std::vector<std::pair<int, int>> random, fixed;  // (to, from), to-major order
  long p() const { return k + static_cast<long>(random.size()); }
};
ModelSpec model_spec(long k, const std::string& random);

// The sampled quantities, in the order of the --draws columns: each one's output record
// (name, from, to, moderator, level filled in) and the JSON list it goes to.
enum class Part { Fixed, Moderator, Random, Innovation };
struct Parameter {
  Part part;
  DsemSummary record;
};
std::vector<Parameter> model_parameters(const DsemData& data, const ModelSpec& spec, const std::string& cluster);

struct ChainSettings {
  int iter = 4000, warmup = 2000, thin = 1;
  std::uint64_t seed = 1;
  int chain = 0;
  std::function<void()> tick;  // after each iteration (may be empty)
};

// One chain: the kept draws, one row per kept iteration, columns as parameter_names().
std::vector<std::vector<double>> run_chain(const DsemData& data, const ModelSpec& spec, const ChainSettings& settings);

}  // namespace spiral::dsem
