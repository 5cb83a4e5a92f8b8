// fit_dsem as a library call: the same draws for a seed on any number of threads, a
// different seed other draws, and the records in the order of specification section 9.
#include "spiral/dsem.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

DsemOptions quick_options() {
  DsemOptions o;
  o.id = "patient";
  o.time = "session";
  o.vars = {"alliance", "symptoms"};
  o.between = {"baseline"};
  o.iter = 200;
  o.warmup = 100;
  return o;
}

const Table& small_table() {
  static const Table table = read_table(test::test_path("reference/dsem/small.csv"));
  return table;
}

TEST(DsemFit, SameDrawsOnAnyNumberOfThreads) {
  DsemOptions o = quick_options();
  o.threads = 1;
  const DsemResult one = fit_dsem(small_table(), o);
  o.threads = 3;
  const DsemResult three = fit_dsem(small_table(), o);
  EXPECT_EQ(one.draws, three.draws);
  o.seed = 2;
  const DsemResult other = fit_dsem(small_table(), o);
  EXPECT_NE(one.draws, other.draws);
  EXPECT_NE(one.draws[0], one.draws[1]);  // chains have their own streams
}

TEST(DsemFit, RecordsFollowTheContract) {
  DsemOptions o = quick_options();
  o.standardized = true;
  const DsemResult r = fit_dsem(small_table(), o);
  EXPECT_EQ(r.n_patients, 150);
  EXPECT_EQ(r.n_occasions, 7);
  EXPECT_EQ(r.n_observed + r.n_missing, 150 * 7 * 2);
  ASSERT_EQ(r.fixed.size(), 6u);
  EXPECT_FALSE(r.fixed[0].from.has_value());
  EXPECT_EQ(*r.fixed[4].from, "alliance");
  EXPECT_EQ(r.fixed[4].to, "symptoms");
  EXPECT_TRUE(r.fixed[4].standardized.has_value());
  EXPECT_FALSE(r.fixed[0].standardized.has_value());
  ASSERT_EQ(r.moderators.size(), 6u);
  EXPECT_EQ(r.moderators[5].moderator, "baseline");
  ASSERT_EQ(r.random_sd.size(), 6u);
  for (const auto& s : r.random_sd) EXPECT_GT(s.mean, 0);
  ASSERT_EQ(r.innovations.size(), 3u);
  EXPECT_LT(r.innovations[1].mean, 0);  // simulated innovation covariance -0.05
  EXPECT_GT(r.fixed[2].conf_high, r.fixed[2].conf_low);
  EXPECT_EQ(r.draws.size(), 4u);
  EXPECT_EQ(r.draws[0].size(), 100u);
}

}  // namespace
}  // namespace spiral
