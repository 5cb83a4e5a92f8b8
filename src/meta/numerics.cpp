// Distribution functions, R's uniroot() and mad(): the numerical helpers whose exact
// behaviour metafor's results depend on.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "common/quiet_distributions.hpp"

#include "meta/meta_internal.hpp"

namespace spiral::meta_detail {

namespace {

using detail::quiet::ChiSquared, detail::quiet::FisherF, detail::quiet::Normal, detail::quiet::StudentT;

bool usable(double x) { return !std::isnan(x); }

}  // namespace

double normal_upper(double z) { return usable(z) ? boost::math::cdf(boost::math::complement(Normal(), z)) : NA; }

double normal_quantile_upper(double a) { return boost::math::quantile(boost::math::complement(Normal(), a)); }

double t_upper(double t, double df) {
  if (!usable(t) || !(df > 0)) return NA;
  return boost::math::cdf(boost::math::complement(StudentT(df), t));
}

double t_quantile_upper(double a, double df) {
  if (!(df > 0)) return NA;
  return boost::math::quantile(boost::math::complement(StudentT(df), a));
}

double chisq_upper(double x, double df) {
  if (!usable(x) || !(df > 0)) return NA;
  if (x <= 0) return 1;
  return boost::math::cdf(boost::math::complement(ChiSquared(df), x));
}

double chisq_quantile(double a, double df) { return df > 0 ? boost::math::quantile(ChiSquared(df), a) : NA; }

double chisq_quantile_upper(double a, double df) {
  return df > 0 ? boost::math::quantile(boost::math::complement(ChiSquared(df), a)) : NA;
}

double f_upper(double x, double df1, double df2) {
  if (!usable(x) || !(df1 > 0) || !(df2 > 0)) return NA;
  if (x <= 0) return 1;
  return boost::math::cdf(boost::math::complement(FisherF(df1, df2), x));
}

// Brent (1973), "Algorithms for minimization without derivatives", ch. 4: the zero finder
// in the form R's uniroot() runs it (R_zeroin2: f at both ends known, tolerance
// 2 eps |b| + tol / 2, at most maxiter steps), so that roots agree with R's to the last bit.
double uniroot(const std::function<double(double)>& f, double lower, double upper, int maxiter, double tol) {
  double a = lower, b = upper;
  double fa = f(a), fb = f(b);
  if (std::isnan(fa) || std::isnan(fb) || fa * fb > 0) return NA;
  if (fa == 0) return a;
  if (fb == 0) return b;
  double c = a, fc = fa;
  for (int iteration = 0; iteration <= maxiter; ++iteration) {
    const double previous_step = b - a;
    if (std::fabs(fc) < std::fabs(fb)) {  // b must be the best approximation
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const double tol_act = 2 * DBL_EPSILON * std::fabs(b) + tol / 2;
    double new_step = (c - b) / 2;
    if (std::fabs(new_step) <= tol_act || fb == 0) return b;

    if (std::fabs(previous_step) >= tol_act && std::fabs(fa) > std::fabs(fb)) {
      // Interpolation: linear with two distinct points, inverse quadratic with three.
      double p, q;
      const double cb = c - b;
      if (a == c) {
        const double t1 = fb / fa;
        p = cb * t1;
        q = 1.0 - t1;
      } else {
        const double qa = fa / fc, t1 = fb / fc, t2 = fb / fa;
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1.0));
        q = (qa - 1.0) * (t1 - 1.0) * (t2 - 1.0);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (p < (0.75 * cb * q - std::fabs(tol_act * q) / 2) && p < std::fabs(previous_step * q / 2)) new_step = p / q;
    }
    if (std::fabs(new_step) < tol_act) new_step = new_step > 0 ? tol_act : -tol_act;
    a = b;
    fa = fb;
    b += new_step;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return NA;
}

namespace {

double median(std::vector<double> values) {
  const std::size_t n = values.size();
  if (n == 0) return NA;
  std::sort(values.begin(), values.end());
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

double mad(const Eigen::VectorXd& x) {
  std::vector<double> values(x.data(), x.data() + x.size());
  const double center = median(values);
  for (double& value : values) value = std::fabs(value - center);
  return 1.4826 * median(values);
}

}  // namespace spiral::meta_detail
