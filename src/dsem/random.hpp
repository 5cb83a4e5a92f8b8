// Random numbers for the DSEM sampler: one stream per chain (xoshiro256**, Blackman & Vigna
// 2021, ACM TOMS 47(4), seeded by splitmix64 from the seed and the chain number), and the
// draws the Gibbs blocks need, written here so that a seed gives the same draws with any
// standard library: normal (Marsaglia polar method), gamma (Marsaglia & Tsang 2000, ACM TOMS
// 26(3), 363-372), multivariate normal in precision form and the inverse Wishart (Bartlett
// decomposition; Anderson 2003, An Introduction to Multivariate Statistical Analysis, 7.2).
#pragma once
#include <cstdint>

#include "common/xoshiro.hpp"

#include <Eigen/Dense>

namespace spiral::dsem {

// Small matrices of the sampler (at most 4 variables: 4 means + 16 lagged effects) live on
// the stack.
constexpr int kMaxDim = 20;
using Mat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor, kMaxDim, kMaxDim>;
using Vec = Eigen::Matrix<double, Eigen::Dynamic, 1, Eigen::ColMajor, kMaxDim, 1>;

class Rng {
 public:
  Rng(std::uint64_t seed, std::uint64_t stream);
  std::uint64_t next() { return bits_.next(); }
  double uniform();   // in (0, 1)
  double normal();    // standard normal
  double gamma(double shape);  // scale 1
  double chi_square(double df) { return 2 * gamma(df / 2); }

 private:
  detail::Xoshiro256 bits_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// x ~ N(P^-1 h, P^-1) for a symmetric positive definite precision P (small and any size).
Vec draw_normal_precision(const Mat& precision, const Vec& linear, Rng& rng);
Eigen::VectorXd draw_normal_precision(const Eigen::MatrixXd& precision, const Eigen::VectorXd& linear, Rng& rng);
// a > 0 with density proportional to a^power exp(-quadratic a^2 / 2 + linear a), power >= 0,
// quadratic > 0: exact, by rejection from N(mode, 1 / quadratic), an envelope because the log
// density's curvature is below -quadratic everywhere (log-concave; Devroye 1986, Non-Uniform
// Random Variate Generation, section VII.2).
double draw_scale(double power, double quadratic, double linear, Rng& rng);
// X ~ inverse Wishart(scale S, df nu): density proportional to
// |X|^-(nu + p + 1)/2 exp(-tr(S X^-1) / 2); nu > p - 1.
Mat draw_inverse_wishart(const Mat& scale, double df, Rng& rng);
// Dynamic-size versions for the between regression (any number of moderators).
Eigen::MatrixXd standard_normal_matrix(long rows, long cols, Rng& rng);

}  // namespace spiral::dsem
