#include "lmm/dense_cholesky.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <system_error>
#include <thread>
#include <vector>

#include "common/parallel.hpp"

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

// [begin, end) of member `id` of a team of `size` in `count` items.
std::pair<long, long> even_share(long count, unsigned id, unsigned size) {
  return {count * id / size, count * (id + 1) / size};
}

// Columns [begin, end) of the lower triangle of a count x count matrix for member `id`, so
// that every member updates about the same area (column j holds count - j entries).
std::pair<long, long> area_share(long count, unsigned id, unsigned size) {
  const auto boundary = [&](unsigned i) {
    if (i == size) return count;
    const double left = double(count) * std::sqrt(1 - double(i) / size);  // columns after the boundary
    return std::clamp(count - long(std::lround(left)), 0L, count);
  };
  return {boundary(id), boundary(id + 1)};
}

struct Factorization {
  double* a;
  long n, ld;
  const DenseKernels& kernels;
  std::atomic<bool> failed{false};

  double* at(long row, long col) const { return a + col * ld + row; }

  // Member `id`'s part of every step: the diagonal block (member 0), its share of the panel
  // below it, then its share of the trailing matrix's lower triangle.
  void run(unsigned id, unsigned size, SpinBarrier& barrier) {
    for (long k = 0; k < n; k += kBlock) {
      const long b = std::min(kBlock, n - k), rest = n - k - b;
      if (id == 0 && !kernels.factor_block(at(k, k), b, ld)) failed = true;
      barrier.arrive_and_wait();
      if (failed || rest == 0) return;
      const auto [r0, r1] = even_share(rest, id, size);
      if (r1 > r0) kernels.solve_panel(at(k, k), b, at(k + b + r0, k), r1 - r0, ld);
      barrier.arrive_and_wait();
      const auto [c0, c1] = area_share(rest, id, size);
      const long first = k + b + c0, width = c1 - c0;
      if (width > 0) {
        kernels.subtract_square(at(first, k), width, b, at(first, first), ld);
        const long below = n - first - width;
        if (below > 0)
          kernels.subtract_product(at(first + width, k), below, at(first, k), width, b, at(first + width, first), ld);
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
                  : unsigned(std::clamp<long>(n / kColumnsPerThread, 1, std::max(1u, std::thread::hardware_concurrency())));
  // Helpers first: the team is as large as the threads the system gave.
  std::atomic<unsigned> team{0};
  std::atomic<bool> go{false};
  SpinBarrier* barrier = nullptr;
  std::vector<std::thread> helpers;
  for (unsigned id = 1; id < threads; ++id) {
    try {
      helpers.emplace_back([&, id] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        f.run(id, team, *barrier);
      });
    } catch (const std::system_error&) {
      break;
    }
  }
  SpinBarrier shared(unsigned(helpers.size()) + 1);
  barrier = &shared;
  team = unsigned(helpers.size()) + 1;
  go.store(true, std::memory_order_release);
  f.run(0, team, shared);
  for (auto& helper : helpers) helper.join();
  return !f.failed;
}

}  // namespace spiral::lmm_detail
