// Seconds per call of one REML + Knapp-Hartung fit with its Q-profile tau² CI, in-process,
// on the studies of a CSV with columns yi and vi (bench/data.R's meta17.csv). The R side
// (bench/reference.R) times rma() + confint() the same way.
#include <chrono>
#include <cstdio>

#include "spiral/meta.hpp"
#include "spiral/table.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bench_meta FILE.csv\n");
    return 2;
  }
  const spiral::Table table = spiral::read_table(argv[1]);
  spiral::MetaInput input;
  input.yi = table.numeric("yi").numbers;
  input.vi = table.numeric("vi").numbers;
  spiral::MetaOptions options;
  options.method = "REML";
  options.test = "knha";
  const int calls = 20000;
  double sink = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) sink += spiral::fit_meta(input, options).tau2;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%.9g\n", elapsed.count() / calls);
  return sink == 42.0 ? 1 : 0;  // keeps the loop from being optimized away
}
