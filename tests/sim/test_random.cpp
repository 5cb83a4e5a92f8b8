// The simulator's fixed random number generator (src/sim/random.hpp).
#include <cmath>
#include <set>

#include "sim/random.hpp"
#include "test_support.hpp"

namespace spiral::sim {
namespace {

TEST(Random, Splitmix64MatchesTheReferenceSequence) {
  // Reference outputs of splitmix64 seeded with 0 (Vigna's splitmix64.c).
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64(state), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64(state), 0x06c45d188009454fULL);
}

TEST(Random, SameSeedSameStreamOtherSeedOtherStream) {
  Random a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs = differs || x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Random, PortableLogAgreesWithLibm) {
  for (double x : {1e-300, 1e-17, 2.2e-16, 0.001, 0.3, 0.70710678, 0.7071068, 0.99999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300}) {
    EXPECT_NEAR(portable_log(x), std::log(x), 4e-16 * std::max(1.0, std::fabs(std::log(x)))) << x;
  }
  Random rng(7);
  for (int i = 0; i < 10000; ++i) {
    const double x = rng.uniform_open();
    EXPECT_NEAR(portable_log(x), std::log(x), 1e-15 * std::max(1.0, std::fabs(std::log(x)))) << x;
  }
}

TEST(Random, NormalsHaveStandardMoments) {
  Random rng(2024);
  const int n = 200000;
  double sum = 0, sum2 = 0, sum3 = 0, sum4 = 0;
  int beyond_196 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    sum += z;
    sum2 += z * z;
    sum3 += z * z * z;
    sum4 += z * z * z * z;
    beyond_196 += std::fabs(z) > 1.959964;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);           // SE 0.0022
  EXPECT_NEAR(sum2 / n, 1.0, 0.015);         // SE 0.0032
  EXPECT_NEAR(sum3 / n, 0.0, 0.03);          // SE 0.0055
  EXPECT_NEAR(sum4 / n, 3.0, 0.1);           // SE 0.022
  EXPECT_NEAR(static_cast<double>(beyond_196) / n, 0.05, 0.004);  // SE 0.0005
}

TEST(Random, UniformsAndIntegersCoverTheirRange) {
  Random rng(5);
  std::set<int> seen;
  double low = 1, high = 0;
  for (int i = 0; i < 10000; ++i) {
    const int k = rng.below(7);
    ASSERT_GE(k, 0);
    ASSERT_LT(k, 7);
    seen.insert(k);
    const double u = rng.uniform();
    low = std::min(low, u);
    high = std::max(high, u);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_GE(low, 0.0);
  EXPECT_LT(low, 0.001);
  EXPECT_LT(high, 1.0);
  EXPECT_GT(high, 0.999);
}

TEST(Random, ReplicationSeedsDifferAndAreStable) {
  std::set<std::uint64_t> seeds;
  for (std::uint64_t r = 0; r < 1000; ++r) seeds.insert(replication_seed(1, r));
  EXPECT_EQ(seeds.size(), 1000u);
  EXPECT_EQ(replication_seed(1, 5), replication_seed(1, 5));
  EXPECT_NE(replication_seed(1, 5), replication_seed(2, 5));
}

}  // namespace
}  // namespace spiral::sim
