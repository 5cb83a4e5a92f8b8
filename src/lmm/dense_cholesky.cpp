#include "lmm/dense_cholesky.hpp"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>
#include <vector>

#include "common/parallel.hpp"
#include "lmm/group_kernels.hpp"

namespace spiral::lmm_detail {

namespace {

constexpr long kBlock = 128;             // columns factored per step
constexpr long kColumnsPerThread = 384;  // below this a thread costs more in waiting than it saves

// The team's meeting point between the steps of one factorization: a few microseconds apart
// at most, so it spins (yielding after a while, in case the machine has fewer free cores).
class SpinBarrier {
 public:
  explicit SpinBarrier(unsigned count) : count_(count) {}
  void arrive_and_wait() {
    const unsigned generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == count_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      return;
    }
    for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins)
      if (spins > 2000) std::this_thread::yield();
  }

 private:
  const unsigned count_;
  std::atomic<unsigned> arrived_{0};
  std::atomic<unsigned> generation_{0};
};

struct Factorization {
  double* a;
  long n, ld;
  const DenseKernels& kernels;
  std::atomic<bool> failed{false};
  std::atomic<long> next_rows{0}, next_columns{0};  // the step's next piece of the panel, of the update

  double* at(long row, long col) const { return a + col * ld + row; }

  // Every step: member 0 factors the diagonal block, then the members take pieces of fixed
  // size, first of the panel below it (kBlock rows each), then of the trailing matrix's lower
  // triangle (kBlock columns each, widest first), until none is left. The pieces, and so every
  // kernel call and its arithmetic, are the same for any number of members: the factor does
  // not depend on the number of threads.
  void run(unsigned id, SpinBarrier& barrier) {
    for (long k = 0; k < n; k += kBlock) {
      const long b = std::min(kBlock, n - k), first = k + b, rest = n - first;
      if (id == 0) {
        if (!kernels.factor_block(at(k, k), b, ld)) failed = true;
        next_rows = 0;
        next_columns = 0;
      }
      barrier.arrive_and_wait();
      if (failed || rest == 0) return;
      for (long r = kBlock * next_rows++; r < rest; r = kBlock * next_rows++)
        kernels.solve_panel(at(k, k), b, at(first + r, k), std::min(kBlock, rest - r), ld);
      barrier.arrive_and_wait();
      for (long c = first + kBlock * next_columns++; c < n; c = first + kBlock * next_columns++) {
        const long width = std::min(kBlock, n - c), below = n - c - width;
        kernels.subtract_square(at(c, k), width, b, at(c, c), ld);
        if (below > 0) kernels.subtract_product(at(c + width, k), below, at(c, k), width, b, at(c + width, c), ld);
      }
      barrier.arrive_and_wait();
    }
  }
};

const DenseKernels& best_kernels() {
  static const DenseKernels& best = *usable_kernel_sets().back();
  return best;
}

}  // namespace

std::vector<const DenseKernels*> usable_kernel_sets() {
  std::vector<const DenseKernels*> sets{&baseline_kernels()};
#ifdef SPIRAL_AVX2_KERNELS
  if (avx2_supported()) sets.push_back(&avx2_kernels());
#endif
  return sets;
}

std::vector<const GroupKernels*> usable_group_kernel_sets() {
  std::vector<const GroupKernels*> sets{&baseline_group_kernels()};
#ifdef SPIRAL_AVX2_KERNELS
  if (avx2_supported()) sets.push_back(&avx2_group_kernels());
#endif
  return sets;
}

bool avx2_supported() {
#ifdef SPIRAL_AVX2_KERNELS
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool dense_cholesky(Eigen::Ref<Eigen::MatrixXd> a, unsigned threads, const DenseKernels* kernels) {
  const long n = a.rows();
  Factorization f{a.data(), n, a.outerStride(), kernels ? *kernels : best_kernels()};
  if (threads == 0)
    threads = detail::in_parallel_region()
                  ? 1
                  : unsigned(std::clamp<long>(n / kColumnsPerThread, 1, detail::hardware_threads()));
  // Helpers first: the team is as large as the threads the system gave.
  std::atomic<bool> go{false};
  SpinBarrier* barrier = nullptr;
  std::vector<std::thread> helpers;
  for (unsigned id = 1; id < threads; ++id) {
    try {
      helpers.emplace_back([&, id] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        f.run(id, *barrier);
      });
    } catch (const std::system_error&) {
      break;
    }
  }
  SpinBarrier shared(unsigned(helpers.size()) + 1);
  barrier = &shared;
  go.store(true, std::memory_order_release);
  f.run(0, shared);
  for (auto& helper : helpers) helper.join();
  return !f.failed;
}

}  // namespace spiral::lmm_detail
