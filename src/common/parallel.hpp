// One small pool pattern for the library's parallel loops (reader chunks, stage-1 studies,
// forest plots): every index runs exactly once and errors come back in index order, so a
// parallel run fails, or succeeds, exactly as a serial one.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace spiral::detail {

// The cores the system offers, asked once: std::thread::hardware_concurrency() reads
// /sys/devices/system/cpu/online on every call (a file open and read on Linux), which the
// deviance evaluations, thousands per power replication, must not pay each time.
inline unsigned hardware_threads() {
  static const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return cores;
}

// True on a thread while it works for a parallel loop (the loop's caller included): code
// inside that could itself run in parallel then stays on its thread, since the loop already
// keeps the cores busy (e.g. the mixed models of the studies that stage 1 fits in parallel).
inline thread_local bool tl_in_parallel_region = false;

class ParallelRegion {
 public:
  explicit ParallelRegion(bool parallel) : outer_(tl_in_parallel_region) {
    tl_in_parallel_region = outer_ || parallel;
  }
  ~ParallelRegion() { tl_in_parallel_region = outer_; }
  ParallelRegion(const ParallelRegion&) = delete;
  ParallelRegion& operator=(const ParallelRegion&) = delete;

 private:
  bool outer_;
};

inline bool in_parallel_region() { return tl_in_parallel_region; }

// Runs task(i) for every i in [0, count) on up to `threads` threads (0: one per core; one
// inside another parallel loop); the calling thread is one of them. Every task runs even
// when another throws; then the exception of the lowest index is rethrown.
template <typename Task>
void parallel_for(std::size_t count, unsigned threads, const Task& task) {
  if (threads == 0) threads = hardware_threads();
  if (in_parallel_region()) threads = 1;
  const std::size_t workers = std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(count, 1));
  std::vector<std::exception_ptr> errors(count);
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    const ParallelRegion region(workers > 1);
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        task(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < workers; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones running share the rest
    }
  }
  work();
  for (auto& thread : pool) thread.join();
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace spiral::detail
