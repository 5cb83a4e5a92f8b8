// The per-group step of the profiled deviance (deviance.hpp) for a first random term with
// one or two effects per level (`(1 | patient)`, `(1 + x | patient)`): every group's k x k
// Cholesky factor, W and R1, the Schur complement update and, for groups nested in the
// levels of one scalar rest term (`(1 | therapist)`), their coupling to it. The groups' small
// blocks are stored as columns over the groups (structure of arrays), so that one vector
// instruction works on several groups; compiled for the baseline instruction set and for
// AVX2 + FMA (src/lmm/kernels/group_kernels.cpp). No Eigen types here: the AVX2 build renames
// Eigen's namespace.
#pragma once
#include <vector>

namespace spiral::lmm_detail {

// The kernels take the groups four at a time: m is a multiple of kGroupLanes, the arrays
// padded with groups whose inputs are 0 (L = I, R1 = 0, no coupling: they change nothing).
constexpr int kGroupLanes = 4;

// The m groups' arrays, column-major: entry (r, c) of a group's k x k block is column r + c k
// of an m x (k k) array; row r of a group's k x (p + 1) block is row r m + g of a (k m) x (p + 1)
// array.
struct GroupFactorProblem {
  long groups = 0;              // m, a multiple of kGroupLanes
  long columns = 0;             // p + 1: the columns of [X y]
  const double* t = nullptr;    // T (k x k lower triangular, column-major): the term's Lambda block
  const double* a11 = nullptr;  // m x (k k): Z1'Z1
  const double* z1xy = nullptr; // (k m) x columns: Z1'[X y]
  double* l1 = nullptr;         // out, m x (k k): the lower Cholesky factor L of T' Z1'Z1 T + I
  double* w1 = nullptr;         // out, m x (k k): W = T L^-T
  double* r1 = nullptr;         // out, (k m) x columns: R1 = W' Z1'[X y]
  double* schur = nullptr;      // columns x columns: its lower triangle minus R1'R1
  // Groups nested in the levels of one scalar rest term; rest_level null: there is none.
  const int* rest_level = nullptr;  // each group's level (its row and column in m22 and c2)
  const double* a21 = nullptr;      // m x k: Z2'Z1
  double rest_lambda = 0;           // the rest term's Lambda (a scalar); 0: l21 = 0, m22 and c2 untouched
  double* l21 = nullptr;            // out, m x k: L21 = rest_lambda a21 W
  double* m22 = nullptr;            // its diagonal minus each group's L21 L21'
  long ld22 = 0;
  double* c2 = nullptr;             // its rows minus each group's L21 R1
  long ldc2 = 0;
  // Whether the groups' coupling changes m22 and c2 (a rest term whose lambda is not 0).
  bool coupled() const { return rest_level && rest_lambda != 0; }
};

struct GroupKernels {
  // Fills the outputs and adds sum over groups of log|L|^2 to log_det; false (outputs partly
  // written) when some T' Z1'Z1 T + I is not positive definite.
  bool (*factor_k1)(const GroupFactorProblem& problem, double& log_det);
  bool (*factor_k2)(const GroupFactorProblem& problem, double& log_det);
};

const GroupKernels& baseline_group_kernels();
const GroupKernels& avx2_group_kernels();  // in optimised x86-64 builds only (SPIRAL_AVX2_KERNELS)
// The sets this build and processor can run: the baseline one, then the AVX2 one if any.
std::vector<const GroupKernels*> usable_group_kernel_sets();

}  // namespace spiral::lmm_detail
