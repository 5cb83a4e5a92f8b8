// The kernels of dense_kernels.hpp, compiled twice (kernel_set.hpp).
#include "lmm/kernels/kernel_set.hpp"
#include "lmm/dense_kernels.hpp"

namespace spiral::lmm_detail {

namespace {

using Block = Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>>;
using ConstBlock = Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>>;

bool factor_block(double* a, long n, long ld) {
  Block block(a, n, n, Eigen::OuterStride<>(ld));
  const Eigen::LLT<Eigen::Ref<Eigen::MatrixXd, 0, Eigen::OuterStride<>>> llt(block);
  return llt.info() == Eigen::Success;
}

void solve_panel(const double* l, long n, double* panel, long rows, long ld) {
  ConstBlock factor(l, n, n, Eigen::OuterStride<>(ld));
  Block right(panel, rows, n, Eigen::OuterStride<>(ld));
  factor.transpose().triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(right);
}

void subtract_square(const double* p, long rows, long n, double* c, long ld) {
  Block square(c, rows, rows, Eigen::OuterStride<>(ld));
  square.selfadjointView<Eigen::Lower>().rankUpdate(ConstBlock(p, rows, n, Eigen::OuterStride<>(ld)), -1.0);
}

void subtract_product(const double* p, long rows, const double* q, long cols, long n, double* c, long ld) {
  Block(c, rows, cols, Eigen::OuterStride<>(ld)).noalias() -=
      ConstBlock(p, rows, n, Eigen::OuterStride<>(ld)) * ConstBlock(q, cols, n, Eigen::OuterStride<>(ld)).transpose();
}

}  // namespace

const DenseKernels& SPIRAL_KERNEL_SET(kernels)() {
  static constexpr DenseKernels kernels{factor_block, solve_panel, subtract_square, subtract_product};
  return kernels;
}

}  // namespace spiral::lmm_detail
