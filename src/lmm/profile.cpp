// lme4's confint() for lmer fits: Wald intervals of the fixed effects, and likelihood-profile
// intervals of every parameter (Bates, Mächler, Bolker & Walker 2015, J Stat Softw 67(1),
// section 5.1; lme4's profile.merMod). The profile of a parameter is the ML deviance minimized
// over all the others with that parameter held fixed (lme4 profiles the ML refit of a REML fit:
// devfun2 calls refitML); its signed square root difference from the optimum,
// zeta(x) = sign(x - x_hat) sqrt(D(x) - D(x_hat)) (Bates & Watts 1988, Nonlinear Regression
// Analysis, section 6.1), is compared with the normal quantiles: the interval's bounds are the
// x where zeta(x) = -+z_(1 - alpha / 2). lme4 interpolates zeta by a spline through points of
// the profile; here each bound is a root of zeta found by bracketing and TOMS 748.
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/tools/roots.hpp>
#include <nlopt.h>

#include "lmm/inference.hpp"

namespace spiral::lmm_detail {

namespace {

using Objective = std::function<double(const std::vector<double>&)>;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

double nlopt_objective(unsigned n, const double* x, double*, void* data) {
  const double value = (*static_cast<const Objective*>(data))(std::vector<double>(x, x + n));
  return std::isfinite(value) ? value : std::numeric_limits<double>::max();
}

// BOBYQA (nlopt) within [lower, upper] from start, to the precision the deviance differences of
// a profile need (~1e-10); returns the minimum and moves start to where it is.
double minimize(const Objective& f, std::vector<double>& start, const std::vector<double>& lower,
                const std::vector<double>& upper, const std::vector<double>& steps) {
  if (start.empty()) return f(start);
  nlopt_opt opt = nlopt_create(NLOPT_LN_BOBYQA, unsigned(start.size()));
  nlopt_set_lower_bounds(opt, lower.data());
  nlopt_set_upper_bounds(opt, upper.data());
  nlopt_set_initial_step(opt, steps.data());
  nlopt_set_min_objective(opt, nlopt_objective, const_cast<Objective*>(&f));
  nlopt_set_ftol_abs(opt, 1e-12);
  nlopt_set_xtol_rel(opt, 1e-10);
  nlopt_set_maxeval(opt, 20000);
  for (std::size_t i = 0; i < start.size(); ++i) start[i] = std::clamp(start[i], lower[i], upper[i]);
  double value = kInfinity;
  nlopt_optimize(opt, start.data(), &value);
  nlopt_destroy(opt);
  return value;
}

// The ML deviance of the model with beta profiled out, as a function of theta and sigma (lme4's
// devfun2), also with sigma profiled out, or with one fixed effect held at a value.
class MlDeviance {
 public:
  explicit MlDeviance(DevianceModel& model) : model_(model), n_(model.n_obs()) {}
  double at(const std::vector<double>& theta, double sigma) const {
    const Evaluation e = model_.evaluate(theta);
    return e.ok ? e.ldL2 + e.r2 / (sigma * sigma) + n_ * std::log(2 * std::numbers::pi * sigma * sigma) : kInfinity;
  }
  double profiled(const std::vector<double>& theta) const {
    const Evaluation e = model_.evaluate(theta);
    return e.ok ? over_sigma(e.ldL2, e.r2) : kInfinity;
  }
  // With beta_j = b the penalized RSS grows by (b - beta_j-hat)^2 / [(R_X' R_X)^-1]_jj.
  double with_fixed(const std::vector<double>& theta, Eigen::Index j, double b) const {
    const Evaluation e = model_.evaluate(theta);
    if (!e.ok) return kInfinity;
    const double shift = b - model_.beta(e)(j);
    return over_sigma(e.ldL2, e.r2 + shift * shift / model_.unscaled_vcov(e)(j, j));
  }

 private:
  double over_sigma(double ldL2, double r2) const {
    return ldL2 + n_ * (1 + std::log(2 * std::numbers::pi * r2 / n_));
  }
  DevianceModel& model_;
  double n_;
};

// The variance parameters on lme4's profile scale: per random term the lower triangle of its
// covariance column by column, an SD on the diagonal and a correlation below it, then sigma.
struct SdCorParameter {
  std::size_t term;
  int row, column;
  bool correlation() const { return row != column; }
};

std::vector<SdCorParameter> sdcor_parameters(const DevianceModel& model) {
  std::vector<SdCorParameter> out;
  for (std::size_t j = 0; j < model.terms().size(); ++j)
    for (int c = 0; c < model.terms()[j].k; ++c)
      for (int r = c; r < model.terms()[j].k; ++r) out.push_back({j, r, c});
  return out;
}

// Lower Cholesky factor of a positive semi-definite matrix; a column without a positive pivot is 0.
Eigen::MatrixXd semidefinite_cholesky(const Eigen::MatrixXd& a) {
  const Eigen::Index k = a.rows();
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(k, k);
  for (Eigen::Index c = 0; c < k; ++c) {
    const double pivot = a(c, c) - t.row(c).head(c).squaredNorm();
    if (!(pivot > 1e-14 * std::max(a(c, c), 1e-300))) continue;
    t(c, c) = std::sqrt(pivot);
    for (Eigen::Index r = c + 1; r < k; ++r) t(r, c) = (a(r, c) - t.row(r).head(c).dot(t.row(c).head(c))) / t(c, c);
  }
  return t;
}

// lme4's Sv_to_Cv: theta from the SDs and correlations (absolute scale) and sigma.
std::vector<double> theta_from_sdcor(const DevianceModel& model, const std::vector<double>& sdcor, double sigma) {
  std::vector<double> theta;
  std::size_t at = 0;
  for (const ReTerm& term : model.terms()) {
    Eigen::MatrixXd sd = Eigen::MatrixXd::Zero(term.k, term.k), cor = Eigen::MatrixXd::Identity(term.k, term.k);
    for (int c = 0; c < term.k; ++c)
      for (int r = c; r < term.k; ++r) {
        const double v = sdcor[at++];
        if (r == c) sd(r, r) = v / sigma;
        else cor(r, c) = cor(c, r) = v;
      }
    const Eigen::MatrixXd t = semidefinite_cholesky(sd * cor * sd);
    for (int c = 0; c < term.k; ++c)
      for (int r = c; r < term.k; ++r) theta.push_back(t(r, c));
  }
  return theta;
}

// lme4's Cv_to_Sv: the SDs and correlations of theta and sigma.
std::vector<double> sdcor_from_theta(const DevianceModel& model, const std::vector<double>& theta, double sigma) {
  std::vector<double> sdcor;
  for (std::size_t j = 0; j < model.terms().size(); ++j) {
    const Eigen::MatrixXd t = model.lambda_factor(int(j), theta);
    const Eigen::MatrixXd cov = sigma * sigma * t * t.transpose();
    for (Eigen::Index c = 0; c < t.cols(); ++c)
      for (Eigen::Index r = c; r < t.rows(); ++r) {
        const double sd_product = std::sqrt(cov(r, r) * cov(c, c));
        sdcor.push_back(r == c ? std::sqrt(cov(r, r)) : sd_product > 0 ? cov(r, c) / sd_product : 0.0);
      }
  }
  return sdcor;
}

// One parameter's profile: the deviance minimized over the other parameters (from where the last
// minimization ended) at each value x of the parameter.
struct Profile {
  std::function<double(double, std::vector<double>&)> deviance;  // (x, start of the others -> their optimum)
  double estimate = 0;                  // at the ML optimum
  std::vector<double> others;           // the other parameters at the ML optimum
  double step = 1;                      // first step out from the estimate
  double lower = -kInfinity, upper = kInfinity;  // the parameter's range
};

// The bound on one side (direction -1 or +1): the x beyond the estimate where
// zeta(x) = direction * z, bracketed by steps doubling from profile.step, then TOMS 748 (Alefeld,
// Potra & Shi 1995, ACM TOMS 21(3)). The parameter's limit when zeta does not reach z before it
// (lme4 gives its lower or upper bound then); NaN when no bracket is found.
double profile_bound(const Profile& profile, double base, double z, int direction) {
  std::vector<double> others = profile.others;
  const auto zeta = [&](double x) {
    const double difference = profile.deviance(x, others) - base;
    return (x < profile.estimate ? -1.0 : 1.0) * std::sqrt(std::max(0.0, difference));
  };
  const double limit = direction > 0 ? profile.upper : profile.lower;
  const double target = direction * z;
  double a = profile.estimate, za = 0;
  for (int k = 0; k < 60; ++k) {
    double b = profile.estimate + direction * profile.step * std::ldexp(1.0, k);
    if (direction * (b - limit) >= 0) b = limit;
    const double zb = zeta(b);
    if (direction * (zb - target) >= 0) {
      std::uintmax_t iterations = 100;
      const auto root = boost::math::tools::toms748_solve(
          [&](double x) { return zeta(x) - target; }, std::min(a, b), std::max(a, b), a < b ? za - target : zb - target,
          a < b ? zb - target : za - target,
          [](double u, double v) { return std::fabs(u - v) <= 1e-10 * std::max(1.0, std::fabs(u)); }, iterations);
      return (root.first + root.second) / 2;
    }
    if (b == limit) return limit;
    a = b;
    za = zb;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> without(const std::vector<double>& v, std::size_t i) {
  std::vector<double> out = v;
  out.erase(out.begin() + std::ptrdiff_t(i));
  return out;
}

std::vector<double> with(const std::vector<double>& v, std::size_t i, double x) {
  std::vector<double> out = v;
  out.insert(out.begin() + std::ptrdiff_t(i), x);
  return out;
}

std::vector<double> initial_steps(const std::vector<double>& x) {
  std::vector<double> steps;
  for (double v : x) steps.push_back(0.1 * std::max(std::fabs(v), 0.05));
  return steps;
}

// The profile of the i-th SD or correlation: minimized over the other SDs and correlations and sigma.
Profile sdcor_profile(const MlDeviance& deviance, const DevianceModel& model, const std::vector<SdCorParameter>& parameters,
                      const std::vector<double>& sdcor, double sigma, std::size_t i) {
  std::vector<double> lower, upper;
  for (const auto& p : parameters) {
    lower.push_back(p.correlation() ? -1.0 : 0.0);
    upper.push_back(p.correlation() ? 1.0 : kInfinity);
  }
  lower.push_back(sigma * 1e-6);
  upper.push_back(kInfinity);
  std::vector<double> all = sdcor;
  all.push_back(sigma);
  Profile profile;
  profile.estimate = all[i];
  profile.others = without(all, i);
  profile.lower = lower[i];
  profile.upper = upper[i];
  profile.step = parameters[i].correlation() ? 0.05 : 0.2 * std::max(all[i], 1e-3 * sigma);
  const std::vector<double> others_lower = without(lower, i), others_upper = without(upper, i);
  profile.deviance = [&deviance, &model, i, others_lower, others_upper](double x, std::vector<double>& others) {
    const Objective f = [&](const std::vector<double>& o) {
      std::vector<double> full = with(o, i, x);
      const double s = full.back();
      full.pop_back();
      return deviance.at(theta_from_sdcor(model, full, s), s);
    };
    return minimize(f, others, others_lower, others_upper, initial_steps(others));
  };
  return profile;
}

Profile sigma_profile(const MlDeviance& deviance, const DevianceModel& model, const std::vector<double>& theta, double sigma) {
  Profile profile;
  profile.estimate = sigma;
  profile.others = theta;
  profile.lower = 0;
  profile.step = 0.05 * sigma;
  const std::vector<double> lower = model.lower_bounds(), upper = model.upper_bounds();
  profile.deviance = [&deviance, lower, upper](double x, std::vector<double>& others) {
    const Objective f = [&](const std::vector<double>& t) { return deviance.at(t, x); };
    return minimize(f, others, lower, upper, initial_steps(others));
  };
  return profile;
}

Profile fixed_profile(const MlDeviance& deviance, const DevianceModel& model, const std::vector<double>& theta,
                      const FixedEffect& ml, Eigen::Index j) {
  Profile profile;
  profile.estimate = ml.estimate;
  profile.others = theta;
  profile.step = ml.std_error;
  const std::vector<double> lower = model.lower_bounds(), upper = model.upper_bounds();
  profile.deviance = [&deviance, lower, upper, j](double x, std::vector<double>& others) {
    const Objective f = [&](const std::vector<double>& t) { return deviance.with_fixed(t, j, x); };
    return minimize(f, others, lower, upper, initial_steps(others));
  };
  return profile;
}

double normal_quantile(double level) {
  return boost::math::quantile(boost::math::complement(boost::math::normal(), (1 - level / 100) / 2));
}

}  // namespace

void wald_intervals(LmmResult& result) {
  const double z = normal_quantile(result.level);
  for (FixedEffect& f : result.fixed) {
    f.conf_low = f.estimate - z * f.std_error;
    f.conf_high = f.estimate + z * f.std_error;
  }
}

void profile_intervals(const FittedModel& fit, const LmmOptions& options, LmmResult& result) {
  if (fit.model.has_ar1()) throw InputError("--confint profile: not available with --ar1");
  LmmOptions ml = options;
  ml.reml = false;
  ml.df = DfMethod::None;
  ml.anova = false;
  ml.confint.clear();
  ml.conditional_modes = false;
  const LmmResult refit = fit_lmm(fit.frame, ml);  // lme4's refitML
  const std::vector<double> theta = refit.theta;
  DevianceModel& model = fit.model;
  const MlDeviance deviance(model);
  const double base = deviance.profiled(theta);
  const double z = normal_quantile(options.level);
  const auto interval = [&](const Profile& profile) {
    return std::pair(profile_bound(profile, base, z, -1), profile_bound(profile, base, z, 1));
  };

  const std::vector<SdCorParameter> parameters = sdcor_parameters(model);
  const std::vector<double> sdcor = sdcor_from_theta(model, theta, refit.sigma);
  std::vector<RandomCi> intervals;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const SdCorParameter& p = parameters[i];
    const ReTerm& term = model.terms()[p.term];
    const auto& names = term.block->terms;
    std::string name = p.correlation() ? "cor__" : "sd__";  // appended: GCC 12's false -Wrestrict
    name += names[std::size_t(p.column)];
    if (p.correlation()) name += "." + names[std::size_t(p.row)];
    const auto [low, high] = interval(sdcor_profile(deviance, model, parameters, sdcor, refit.sigma, i));
    intervals.push_back({term.block->group, name, low, high});
  }
  const auto [low, high] = interval(sigma_profile(deviance, model, theta, refit.sigma));
  intervals.push_back({"Residual", "sd__Observation", low, high});
  result.random_ci = std::move(intervals);
  for (std::size_t j = 0; j < result.fixed.size(); ++j) {
    const auto [fixed_low, fixed_high] = interval(fixed_profile(deviance, model, theta, refit.fixed[j], Eigen::Index(j)));
    result.fixed[j].conf_low = fixed_low;
    result.fixed[j].conf_high = fixed_high;
  }
}

}  // namespace spiral::lmm_detail
