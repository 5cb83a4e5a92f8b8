#include "sim/random.hpp"

#include <cmath>

namespace spiral::sim {

std::uint64_t replication_seed(std::uint64_t master_seed, std::uint64_t replication) {
  std::uint64_t state = master_seed;
  const std::uint64_t mixed_master = splitmix64(state);
  state = mixed_master ^ (replication * 0xd1b54a32d192ed03ULL);
  return splitmix64(state) >> 1;  // 63 bits: a valid --seed (and TOML integer)
}

double portable_log(double x) {
  // frexp and ldexp are exact; sqrt(1/2) is only a threshold.
  int exponent = 0;
  double m = std::frexp(x, &exponent);  // x = m * 2^exponent, m in [0.5, 1)
  if (m < 0.70710678118654752) {
    m *= 2.0;
    exponent -= 1;
  }
  // atanh(z) = z + z^3/3 + z^5/5 + ..., |z| <= 0.1716, so z^2 <= 0.02944 and 15 terms
  // leave a remainder below 1e-23 relative.
  const double z = (m - 1.0) / (m + 1.0);
  const double z2 = z * z;
  double sum = 0.0;
  for (int k = 14; k >= 0; --k) sum = 1.0 / (2 * k + 1) + z2 * sum;  // Horner form
  constexpr double kLog2 = 0.69314718055994530942;
  return exponent * kLog2 + 2.0 * z * sum;
}

double Random::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Random::uniform_open() {
  double u = 0.0;
  while (u == 0.0) u = uniform();
  return u;
}

double Random::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // Marsaglia & Bray (1964): (u, v) uniform in the unit disc, s = u^2 + v^2;
  // u * f and v * f with f = sqrt(-2 log(s) / s) are independent standard normals.
  double u = 0.0, v = 0.0, s = 0.0;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * portable_log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

int Random::below(int n) {
  const std::uint64_t high = next() >> 32;
  return static_cast<int>((high * static_cast<std::uint64_t>(n)) >> 32);
}

}  // namespace spiral::sim
