// The profiled deviance of a linear mixed model (Bates, Mächler, Bolker & Walker 2015,
// J Stat Softw 67(1), section 3), evaluated with the blocked Cholesky factorization of
// MixedModels.jl: the random term with the most levels is block-diagonal (one k x k block
// per level, O(n) work); the remaining terms form one dense block coupled to it through
// per-level sparse rows. The response is carried as a last column of X, so the Cholesky
// factor of the fixed-effects Schur complement holds R_X, c_beta and the penalized RSS.
#pragma once
#include <cmath>
#include <memory_resource>
#include <vector>

#include <Eigen/Dense>

#include "lmm/group_kernels.hpp"
#include "spiral/formula.hpp"

namespace spiral::lmm_detail {

// sum a_i b_i for short columns (a group's rows), in the order of Eigen's vectorized sum on
// two-lane (SSE2) packets, which the baseline build's products use: products i mod 4 = 0, 1, 2,
// 3 summed in four lanes over whole quadruples, lanes 2 and 3 folded into 0 and 1, then a
// remaining pair into 0 and 1, lane 0 + lane 1, and an odd last product. Exactly the same bits
// as Eigen's (tests/lmm/test_deviance_sums.cpp), at a fraction of its set-up for a few rows.
[[gnu::always_inline]] inline double dot_in_sse2_lanes(const double* a, const double* b, Eigen::Index n) {
  if (n < 2) return n == 1 ? a[0] * b[0] : 0.0;
  const Eigen::Index pairs_end = n / 2 * 2, quadruples_end = n / 4 * 4;
  double lane0 = a[0] * b[0], lane1 = a[1] * b[1];
  if (pairs_end > 2) {
    double lane2 = a[2] * b[2], lane3 = a[3] * b[3];
    for (Eigen::Index i = 4; i < quadruples_end; i += 4) {
      lane0 += a[i] * b[i];
      lane1 += a[i + 1] * b[i + 1];
      lane2 += a[i + 2] * b[i + 2];
      lane3 += a[i + 3] * b[i + 3];
    }
    lane0 += lane2;
    lane1 += lane3;
    if (pairs_end > quadruples_end) {
      lane0 += a[quadruples_end] * b[quadruples_end];
      lane1 += a[quadruples_end + 1] * b[quadruples_end + 1];
    }
  }
  double sum = lane0 + lane1;
  if (n > pairs_end) sum += a[n - 1] * b[n - 1];
  return sum;
}

// A random term in lme4's order (mkReTrms: decreasing number of levels).
struct ReTerm {
  const RandomBlock* block = nullptr;
  int k = 0;             // random effects per level
  int m = 0;             // levels
  int offset = 0;        // first column of the term within the "rest" block (terms 1..)
  int theta_offset = 0;  // first theta of the term
};

// Sorts the random blocks as lme4's mkReTrms: if the numbers of levels ever increase,
// rev(order(nlevels)) (ties reversed, as R does), else the formula order.
std::vector<ReTerm> lme4_term_order(const std::vector<RandomBlock>& blocks);

// The pieces of the profiled deviance at one parameter vector.
struct Evaluation {
  bool ok = false;
  double ldL2 = 0;   // log |L_theta|^2
  double ldRX2 = 0;  // log |R_X|^2
  double ldC = 0;    // log |C_phi| of the AR(1) residual correlation (0 without AR(1))
  double r2 = 0;     // penalized residual sum of squares
  Eigen::MatrixXd R; // upper Cholesky factor of the (p+1) x (p+1) Schur complement
};

class DevianceModel {
 public:
  // The columns of [X y], each n long, read where they lie (no n x p copy).
  using Columns = std::vector<Eigen::Map<const Eigen::VectorXd>>;

  // xy: the estimable fixed-effects columns, then the response; time: per model row (AR(1))
  // or empty. Without AR(1) the model reads xy in its constructor only; with AR(1) it reads
  // them again for each phi, so they must outlive the model. With prior weights w
  // (lmer(weights = )), the rows of xy and of the terms' z come scaled by sqrt(w_i) (residual
  // variance sigma^2 / w_i) and sum_log_weights is sum log w_i, which the criterion subtracts
  // as lme4's lmerResp::Laplace does (its ldW).
  DevianceModel(Columns xy, std::vector<ReTerm> terms, const std::vector<double>& time, double sum_log_weights = 0);

  int n_obs() const { return n_; }
  int n_fixed() const { return p_; }
  int n_theta() const { return n_theta_; }
  bool has_ar1() const { return ar1_; }
  int n_params() const { return n_theta_ + (ar1_ ? 1 : 0); }  // theta, then phi
  const std::vector<ReTerm>& terms() const { return terms_; }
  std::vector<double> lower_bounds() const;
  std::vector<double> upper_bounds() const;
  std::vector<double> start() const;  // lme4: 1 on diagonals, 0 off them; phi 0.2 (nlme)
  // The AR(1) parameter is z = atanh(phi), unbounded as nlme's corAR1 optimizes it
  // (log((1 + phi) / (1 - phi)) = 2 z), so that a phi near -1 or 1 is no bound the optimizer
  // and the finite differences run into. |z| <= 10 keeps 1 - phi^2 >= 8e-9. Negative phi
  // only when every lag within a group is a whole number (phi^lag is not real otherwise:
  // corCAR1's range [0, 1)).
  static constexpr double kMaxAr1Z = 10;
  static double ar1_phi(const std::vector<double>& params) { return std::tanh(params.back()); }

  // Factorizes at params (theta, then phi) and keeps the factors for the methods below.
  Evaluation evaluate(const std::vector<double>& params);
  // REML criterion or ML deviance profiled over beta and sigma (eqs. 34 and 41).
  double criterion(const Evaluation& e, bool reml) const;
  // evaluate() then criterion(): the function the optimizer and its checks minimize.
  double criterion_at(const std::vector<double>& params, bool reml) { return criterion(evaluate(params), reml); }

  // After evaluate() (NaN when the evaluation failed): beta-hat, (R_X' R_X)^{-1}, and the conditional modes b = Lambda u
  // with their conditional variances diag(sigma^2 Lambda (L L')^{-1} Lambda') per term.
  Eigen::VectorXd beta(const Evaluation& e) const;
  Eigen::MatrixXd unscaled_vcov(const Evaluation& e) const;
  struct Modes {
    std::vector<Eigen::MatrixXd> estimate;  // per term: m x k
    std::vector<Eigen::MatrixXd> variance;  // per term: m x k (unscaled by sigma^2)
  };
  Modes conditional_modes(const Evaluation& e, const std::vector<double>& params) const;

  // The relative covariance factor T_j (k x k lower triangular) of term j.
  Eigen::MatrixXd lambda_factor(int term, const std::vector<double>& params) const;

 private:
  void fill_lambda_factor(int term, const std::vector<double>& params, Eigen::MatrixXd& T) const;
  // One level of the first (largest) random term: its rows and the rest columns they touch.
  // Its blocks live in the per-group arrays below, at its position in groups_.
  // Its index vectors live in the model's arena.
  struct Group {
    explicit Group(std::pmr::memory_resource* arena) : rows(arena), lag(arena), rest_blocks(arena), rest_index(arena) {}
    int level = 0;                         // of the first term (groups_ is in another order when nested)
    std::pmr::vector<int> rows;            // model rows, in time order with AR(1)
    std::pmr::vector<double> lag;          // AR(1): time since the previous row of the group
    std::pmr::vector<std::pair<int, int>> rest_blocks;  // (term, local row offset) of touched rest blocks
    std::pmr::vector<int> rest_index;      // global rest row of each local rest row
    Eigen::MatrixXd a21;                   // Z2'Z1 of the group (in nested_a21_ instead when nested)
    Eigen::MatrixXd l21;                   // factor of the last evaluation
  };
  // The groups' Cholesky factors L, R1 = L^-1 Lambda1' Z1'[X y], schur -= R1'R1 and the
  // rest's coupling, with k fixed at compile time for the common k = 1, 2, 3: the group
  // kernels for k = 1, 2, else one group at a time.
  template <int K>
  bool factor_groups(const std::vector<Eigen::MatrixXd>& T, Evaluation& e, Eigen::MatrixXd& schur, Eigen::MatrixXd& m22,
                     Eigen::MatrixXd& c2);
  GroupFactorProblem group_problem(const std::vector<Eigen::MatrixXd>& T, Eigen::MatrixXd& schur, Eigen::MatrixXd& m22,
                                   Eigen::MatrixXd& c2);
  template <int K>
  bool factor_groups_one_by_one(const std::vector<Eigen::MatrixXd>& T, Evaluation& e, Eigen::MatrixXd& schur);
  template <int K>
  void couple_groups(const std::vector<Eigen::MatrixXd>& T, Eigen::MatrixXd& m22, Eigen::MatrixXd& c2,
                     int first_column, int end_column, bool keep_l21);
  bool factor_rest(const Eigen::MatrixXd& c2, Eigen::MatrixXd& schur, double& log_det);
  void split_coupling();
  void build_crossproducts(double phi);
  void add_xy_crossproduct();
  void add_group_crossproducts_by_dots(std::size_t most_rows);
  bool rest_is_scalar() const;  // every term after the first has k = 1
  void scale_rest_lower(const std::vector<Eigen::MatrixXd>& T);
  void apply_rest_lambda_t(const std::vector<Eigen::MatrixXd>& T, Eigen::Ref<Eigen::MatrixXd> rest_rows) const;
  void apply_rest_lambda(const std::vector<Eigen::MatrixXd>& T, Eigen::Ref<Eigen::MatrixXd> rest_columns) const;

  int n_ = 0, p_ = 0, q2_ = 0, n_theta_ = 0;
  bool ar1_ = false;
  bool whole_lags_ = true;  // every AR(1) lag is a whole number: phi may be negative
  // Each group within one level of the only rest term, a scalar one, and k <= 2: the group
  // kernels couple them (e.g. patients nested in therapists, `(1 | therapist)`).
  bool nested_in_scalar_rest_ = false;
  bool rest_vanishes_ = false;  // at the last evaluation every rest term's Lambda was 0
  double built_phi_ = -1;
  double sum_log_weights_ = 0;      // sum log w of the prior weights (0 without)
  double ld_c_ = 0;                 // log|C| at built_phi_
  Columns xy_;                      // [X y]; empty after construction unless AR(1) needs it again
  std::vector<ReTerm> terms_;
  // The groups' index vectors, from one arena freed with the model: allocated one by one, a
  // few thousand small vectors per model cost more than filling them (the power analysis).
  std::pmr::monotonic_buffer_resource arena_;
  std::vector<Group> groups_;
  std::vector<int> coupling_columns_;  // threads' shares of the rest columns: [c_t, c_t+1)
  // Per-group arrays, laid out as group_kernels.hpp describes (columns over the groups and,
  // for the group kernels (k <= 2), as many padding groups as make a multiple of four).
  int padded_groups_ = 0;
  Eigen::MatrixXd a11_;             // m x (k k): Z1'Z1 of each group
  Eigen::MatrixXd z1xy_;            // (k m) x (p+1): Z1'[X y] of each group
  Eigen::MatrixXd nested_a21_;      // m x k: Z2'Z1 of each group, when nested_in_scalar_rest_
  std::vector<int> nested_level_;   // each group's level of the rest term, when nested_in_scalar_rest_
  Eigen::MatrixXd a22_, z2xy_, xyxy_;     // rest cross-products and [X y]'[X y]
  // Factors of the last evaluation.
  Eigen::MatrixXd l1_;              // m x (k k): the groups' lower Cholesky factors L
  Eigen::MatrixXd w1_;              // m x (k k): the groups' W = T0 L^-T
  Eigen::MatrixXd nested_l21_;      // m x k: the groups' L21, when nested_in_scalar_rest_
  Eigen::MatrixXd r1_;              // (k m) x (p+1): the groups' R1 = L^-1 Lambda1' Z1'[X y]
  Eigen::MatrixXd l22_;              // the rest block's lower Cholesky factor (lower triangle only)
  Eigen::MatrixXd r2_;
  // Work matrices of evaluate(): the terms' Lambda blocks, the rest's coupling to [X y] and the
  // Schur complement of [X y] (factored in place: R' in its lower triangle).
  std::vector<Eigen::MatrixXd> T_;
  Eigen::MatrixXd c2_, schur_;
};

// The --ar1 time value of each model row (empty when column_name is empty). InputError
// when the column is not numeric.
std::vector<double> ar1_times(const Table& table, const std::string& column_name, const ModelFrame& frame);

}  // namespace spiral::lmm_detail
