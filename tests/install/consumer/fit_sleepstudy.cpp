// Fits lme4's sleepstudy model through the installed library and prints the REML criterion.
#include <cstdio>

#include <spiral/lmm.hpp>
#include <spiral/table.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fit_sleepstudy sleepstudy.csv\n");
    return 2;
  }
  try {
    spiral::LmmOptions options;
    options.formula = "Reaction ~ Days + (Days | Subject)";
    const spiral::LmmResult fit = spiral::fit_lmm(spiral::read_table(argv[1]), options);
    std::printf("%.12g\n", fit.criterion);
    return 0;
  } catch (const spiral::InputError& error) {
    std::fprintf(stderr, "fit_sleepstudy: %s\n", error.what());
    return 2;
  }
}
