// detail::parallel_for (src/common/parallel.hpp): every index once, errors in index order, and
// a loop nested in a parallel one stays on its thread instead of oversubscribing the cores.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/parallel.hpp"

namespace spiral::detail {
namespace {

TEST(ParallelFor, RunsEveryIndexOnceAndRethrowsTheLowestError) {
  std::vector<int> runs(100, 0);
  EXPECT_THROW(parallel_for(runs.size(), 2, [&](std::size_t i) {
                 ++runs[i];
                 if (i == 70 || i == 30) throw std::runtime_error(std::to_string(i));
               }),
               std::runtime_error);
  for (int r : runs) EXPECT_EQ(r, 1);
  try {
    parallel_for(100, 2, [&](std::size_t i) {
      if (i == 70 || i == 30) throw std::runtime_error(std::to_string(i));
    });
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "30");
  }
}

TEST(ParallelFor, NestedLoopStaysOnItsThread) {
  EXPECT_FALSE(in_parallel_region());
  std::mutex mutex;
  std::vector<std::set<std::thread::id>> inner_threads(4);
  parallel_for(4, 2, [&](std::size_t outer) {
    EXPECT_TRUE(in_parallel_region());
    const auto me = std::this_thread::get_id();
    parallel_for(16, 4, [&](std::size_t) {
      const std::lock_guard<std::mutex> lock(mutex);
      inner_threads[outer].insert(std::this_thread::get_id());
    });
    EXPECT_EQ(inner_threads[outer], std::set<std::thread::id>{me});
  });
  EXPECT_FALSE(in_parallel_region());
  // A loop on one thread is no parallel region: what it calls may still use the cores.
  parallel_for(3, 1, [&](std::size_t) { EXPECT_FALSE(in_parallel_region()); });
}

}  // namespace
}  // namespace spiral::detail
