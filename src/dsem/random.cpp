#include "dsem/random.hpp"

#include <cmath>

#include "spiral/error.hpp"

namespace spiral::dsem {
namespace {

// The chain's seed: the seed and the stream (chain number) mixed by splitmix64.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) {
  return detail::splitmix64(seed) ^ (stream * 0xd1b54a32d192ed03ULL);
}

}  // namespace

Rng::Rng(std::uint64_t seed, std::uint64_t stream) : bits_(stream_seed(seed, stream)) {}

double Rng::uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2 * uniform() - 1;
    v = 2 * uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  const double f = std::sqrt(-2 * std::log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

double Rng::gamma(double shape) {
  if (shape < 1) return gamma(shape + 1) * std::pow(uniform(), 1 / shape);
  const double d = shape - 1.0 / 3.0;
  const double c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
  }
}

namespace {

template <class Matrix, class Vector>
Vector normal_from_precision(const Matrix& precision, const Vector& linear, Rng& rng) {
  const Eigen::LLT<Matrix> llt(precision);
  if (llt.info() != Eigen::Success) throw AnalysisError("a conditional precision matrix is not positive definite");
  Vector z(precision.rows());
  for (long j = 0; j < z.size(); ++j) z(j) = rng.normal();
  // P = L L': mean P^-1 h; L' e = z gives e ~ N(0, P^-1).
  const Vector mean = llt.solve(linear);
  const Vector noise = llt.matrixU().solve(z);
  return mean + noise;
}

}  // namespace

// The small case without Eigen's general solvers (the sampler's per-patient blocks call it most):
// P = L L' in place (Cholesky-Banachiewicz), then x = L'^-1 (L^-1 h + z), whose mean is P^-1 h and
// covariance L'^-1 L^-1 = P^-1.
Vec draw_normal_precision(const Mat& precision, const Vec& linear, Rng& rng) {
  const long d = precision.rows();
  double l[kMaxDim][kMaxDim];
  Vec x(d);
  for (long j = 0; j < d; ++j) x(j) = rng.normal();
  for (long j = 0; j < d; ++j) {
    double diagonal = precision(j, j);
    for (long m = 0; m < j; ++m) diagonal -= l[j][m] * l[j][m];
    if (!(diagonal > 0)) throw AnalysisError("a conditional precision matrix is not positive definite");
    l[j][j] = std::sqrt(diagonal);
    for (long i = j + 1; i < d; ++i) {
      double sum = precision(i, j);
      for (long m = 0; m < j; ++m) sum -= l[i][m] * l[j][m];
      l[i][j] = sum / l[j][j];
    }
  }
  double v[kMaxDim];
  for (long i = 0; i < d; ++i) {  // v = L^-1 h
    double sum = linear(i);
    for (long m = 0; m < i; ++m) sum -= l[i][m] * v[m];
    v[i] = sum / l[i][i];
  }
  for (long i = d - 1; i >= 0; --i) {  // x = L'^-1 (v + z), z in x
    double sum = v[i] + x(i);
    for (long m = i + 1; m < d; ++m) sum -= l[m][i] * x(m);
    x(i) = sum / l[i][i];
  }
  return x;
}

Eigen::VectorXd draw_normal_precision(const Eigen::MatrixXd& precision, const Eigen::VectorXd& linear, Rng& rng) {
  return normal_from_precision(precision, linear, rng);
}

double draw_scale(double power, double quadratic, double linear, Rng& rng) {
  // The mode solves power / a - quadratic a + linear = 0. With g(a) = log f(a) + quadratic a^2 / 2
  // concave, log f(a) <= log f(mode) - quadratic (a - mode)^2 / 2.
  const double root = std::sqrt(linear * linear + 4 * quadratic * power);
  const double mode = linear >= 0 ? (linear + root) / (2 * quadratic) : 2 * power / (root - linear);
  const double sd = 1 / std::sqrt(quadratic);
  const auto log_f = [&](double a) { return power * std::log(a) - quadratic * a * a / 2 + linear * a; };
  for (;;) {
    const double z = rng.normal();
    const double a = mode + sd * z;
    if (a <= 0) continue;
    if (std::log(rng.uniform()) <= log_f(a) - log_f(mode) + z * z / 2) return a;
  }
}

Mat draw_inverse_wishart(const Mat& scale, double df, Rng& rng) {
  const long p = scale.rows();
  // X^-1 ~ Wishart(S^-1, nu) = (L A)(L A)' with L L' = S^-1 and A lower triangular,
  // A_jj^2 ~ chi-square(nu - j) (j = 0, 1, ...), A_ij ~ N(0, 1) below the diagonal.
  const Eigen::LLT<Mat> scale_llt(scale);
  if (scale_llt.info() != Eigen::Success) throw AnalysisError("a covariance matrix's scale is not positive definite");
  const Mat scale_inverse = scale_llt.solve(Mat::Identity(p, p));
  const Mat l = Eigen::LLT<Mat>(scale_inverse).matrixL();
  Mat a = Mat::Zero(p, p);
  for (long j = 0; j < p; ++j) {
    a(j, j) = std::sqrt(rng.chi_square(df - static_cast<double>(j)));
    for (long i = j + 1; i < p; ++i) a(i, j) = rng.normal();
  }
  const Mat m = l * a;  // lower triangular; X = (M M')^-1 = M'^-1 M^-1
  const Mat m_inverse = m.triangularView<Eigen::Lower>().solve(Mat::Identity(p, p));
  return m_inverse.transpose() * m_inverse;
}

Eigen::MatrixXd standard_normal_matrix(long rows, long cols, Rng& rng) {
  Eigen::MatrixXd z(rows, cols);
  for (long j = 0; j < cols; ++j)
    for (long i = 0; i < rows; ++i) z(i, j) = rng.normal();
  return z;
}

}  // namespace spiral::dsem
