// The simulator's random numbers, fixed so that a seed gives the same numbers on every
// machine: splitmix64 (seeding) and xoshiro256** (Blackman & Vigna 2018) for the bits,
// the 53 high bits for uniforms, and Marsaglia's polar method for normals. Only +, -, *, /
// and sqrt are used (correctly rounded under IEEE-754), with a logarithm computed here from
// those operations, so no libm routine (whose last bit may differ between machines) enters.
// std::normal_distribution is not used: its algorithm is implementation-defined.
#pragma once
#include <cstdint>

#include "common/xoshiro.hpp"

namespace spiral::sim {

using detail::splitmix64;

// The seed of replication r of a power analysis: a splitmix64 mix of the master seed and r,
// independent of how replications are spread over threads or MPI ranks; below 2^63.
std::uint64_t replication_seed(std::uint64_t master_seed, std::uint64_t replication);

// log(x) for finite x > 0 from IEEE arithmetic only: x = m * 2^e with m in [sqrt(1/2), sqrt(2)),
// log x = e log 2 + 2 atanh((m - 1) / (m + 1)), the atanh series summed to a fixed order.
double portable_log(double x);

class Random {
 public:
  explicit Random(std::uint64_t seed) : bits_(seed) {}

  std::uint64_t next() { return bits_.next(); }
  // Uniform on [0, 1): the 53 high bits of a word times 2^-53.
  double uniform();
  // Uniform on (0, 1): never exactly 0.
  double uniform_open();
  // Standard normal by Marsaglia's polar method; the second deviate of a pair is kept.
  double normal();
  double normal(double mean, double sd) { return mean + sd * normal(); }
  // Uniform on [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, n), n > 0 (multiply-shift on 32 high bits; bias < n / 2^32).
  int below(int n);
  bool bernoulli(double p) { return uniform() < p; }

 private:
  detail::Xoshiro256 bits_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace spiral::sim
