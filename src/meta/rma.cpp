// rma.uni: the random/fixed-effects model and meta-regression with metafor's tests,
// heterogeneity statistics, Q-profile CI for tau², prediction interval and pseudo-R².
#include <cfloat>
#include <cmath>

#include "common/confidence_level.hpp"
#include "meta/meta_internal.hpp"
#include "spiral/formula.hpp"

namespace spiral::meta_detail {

namespace {

constexpr double kTol = 1.220703125e-4;  // .Machine$double.eps^0.25
constexpr double kRankTolerance = 1e-7;  // rma.uni control: evtol

bool is_random_effects(const std::string& method) { return method != "FE"; }

double alpha_of(double level) { return (100 - level) / 100; }

bool is_ones(const Eigen::VectorXd& column) { return (column.array() == 1.0).all(); }

void check_design(const Design& d, const std::string& method) {
  if (d.k() < 1) throw AnalysisError("meta: no studies to analyse");
  for (int i = 0; i < d.k(); ++i) {
    if (!std::isfinite(d.y[i])) throw InputError("meta: effect size of study " + std::to_string(i + 1) + " is not finite");
    if (!(d.v[i] > 0) || !std::isfinite(d.v[i]))
      throw InputError("meta: sampling variance of study " + std::to_string(i + 1) + " is not positive (" +
                       r_number_label(d.v[i]) + ")");
  }
  if (is_random_effects(method) && d.k() < 2)
    throw AnalysisError("meta: a random-effects model needs at least 2 studies (k = " + std::to_string(d.k()) + ")");
  if (d.k() < d.p() || (is_random_effects(method) && d.k() == d.p()))
    throw AnalysisError("meta: " + std::to_string(d.k()) + " studies are too few for " + std::to_string(d.p()) +
                        " coefficients");
  const Eigen::VectorXd eigenvalues = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(d.x.transpose() * d.x).eigenvalues();
  if (eigenvalues.minCoeff() <= kRankTolerance)
    throw InputError("--mods: the model matrix is not of full rank (a moderator is constant or collinear with others)");
}

// Q-profile confidence interval for tau² (Viechtbauer 2007, Stat Med 26:37), as
// confint.rma.uni: roots of Q(tau²) = chi²_{k-p} quantiles on [0, max(100, 10 tau²)].
void q_profile_interval(const Design& d, double tau2, double level, MetaResult& r) {
  const double df = d.k() - d.p();
  const double alpha = alpha_of(level);
  const double crit_upper = chisq_quantile_upper(alpha / 2, df);  // gives the lower bound
  const double crit_lower = chisq_quantile(alpha / 2, df);        // gives the upper bound
  const double tau2_min = std::min(0.0, tau2), tau2_max = std::max(100.0, 10 * tau2);
  const double q_min = q_statistic(d, tau2_min), q_max = q_statistic(d, tau2_max);
  const auto root = [&](double target) {
    return uniroot([&](double t) { return q_statistic(d, t) - target; }, tau2_min, tau2_max, 1000, kTol);
  };
  double lower = NA, upper = NA;
  if (q_min < crit_lower) {
    lower = upper = tau2_min;
  } else if (q_max > crit_lower) {
    upper = tau2_max;
    r.warnings.push_back("the upper bound of the tau2 confidence interval lies beyond tau2 = " + r_number_label(tau2_max));
  } else {
    upper = root(crit_lower);
  }
  if (q_max > crit_upper) {
    lower = upper = tau2_max;
  } else if (q_min < crit_upper) {
    lower = tau2_min;
  } else {
    lower = root(crit_upper);
  }
  r.tau2_conf_low = lower;
  r.tau2_conf_high = upper;
}

// Cochran's Q with fixed-effects weights, I² and H² as rma.uni (Higgins & Thompson 2002,
// with the "typical" sampling variance (k - p) / tr(P) of metafor's i2def = 1).
void heterogeneity(const Design& d, const std::string& method, double tau2, MetaResult& r) {
  const int df = d.k() - d.p();
  r.Q_df = df;
  if (df <= 0) {
    r.Q = 0;
    r.Q_p = 1;
    r.I2 = 0;
    r.H2 = 1;
    return;
  }
  const Eigen::VectorXd w = d.v.cwiseInverse();
  const WeightedFit fit = weighted_fit(d, w);
  r.Q = std::max(0.0, fit.rss);
  r.Q_p = chisq_upper(r.Q, df);
  if (!is_random_effects(method)) {
    r.I2 = std::max(0.0, 100 * (r.Q - df) / r.Q);
    r.H2 = r.Q / df;
    return;
  }
  const double tr_p = w.sum() - (fit.xtwx_inv * (d.x.transpose() * w.array().square().matrix().asDiagonal() * d.x)).trace();
  const double typical_v = df / tr_p;
  r.I2 = 100 * tau2 / (typical_v + tau2);
  r.H2 = tau2 / typical_v + 1;
}

// metafor's pseudo-R² (Raudenbush 2009): the proportional reduction of tau² against the
// intercept-only model; for FE the adjusted R² of the weighted regression.
double pseudo_r2(const Design& d, const std::string& method, double tau2, const WeightedFit& fixed) {
  if (!is_random_effects(method)) {
    const Eigen::VectorXd w = d.v.cwiseInverse();
    const double mean_w = w.dot(d.y) / w.sum();
    const double tss = w.dot((d.y.array() - mean_w).square().matrix());
    if (tss == 0) return 0;
    const double rss = fixed.residual.cwiseProduct(w).dot(fixed.residual);
    const double adjusted = 1 - (rss / tss) * (d.k() - 1.0) / (d.k() - d.p());
    return std::max(0.0, 100 * adjusted);
  }
  double tau2_re;
  try {
    tau2_re = estimate_tau2(intercept_design(std::vector<double>(d.y.data(), d.y.data() + d.k()),
                                             std::vector<double>(d.v.data(), d.v.data() + d.k())),
                            method)
                  .tau2;
  } catch (const AnalysisError&) {
    return NA;
  }
  if (tau2_re == 0) return 0;
  return std::max(0.0, 100 * (tau2_re - tau2) / tau2_re);
}

// The omnibus test of the moderators (all coefficients but the intercept): Wald chi² or,
// under Knapp-Hartung, F = QM / m on (m, k - p) df.
void moderator_test(const Design& d, const Eigen::VectorXd& beta, const Eigen::MatrixXd& vb, bool knha, MetaResult& r) {
  const int first = d.intercept ? 1 : 0;
  const int m = d.p() - first;
  const Eigen::VectorXd b = beta.tail(m);
  const Eigen::MatrixXd v = vb.bottomRightCorner(m, m);
  const Eigen::LLT<Eigen::MatrixXd> llt(v);
  double qm = llt.info() == Eigen::Success ? b.dot(llt.solve(b)) : NA;
  r.QM_df = m;
  if (knha) {
    qm /= m;
    r.QM_df2 = d.k() - d.p();
    r.QM_p = f_upper(qm, m, r.QM_df2);
  } else {
    r.QM_p = chisq_upper(qm, m);
  }
  r.QM = qm;
}

// fitstats.rma: the log-likelihood (REML for REML fits, ML otherwise; rma.uni's ll.ML and
// ll.REML with REMLf = TRUE) and AIC, BIC, AICc with parms = p (+ 1 for tau²).
void fit_statistics(const Design& d, const std::string& method, double tau2, const Eigen::VectorXd& w,
                    const WeightedFit& fit, MetaResult& r) {
  const double k = d.k(), p = d.p();
  const double log_2pi = std::log(2 * M_PI);
  const double sum_log_v = (d.v.array() + tau2).log().sum();
  const bool reml = method == "REML";
  const double parms = p + (is_random_effects(method) ? 1 : 0);
  const double n = reml ? k - p : k;
  if (reml) {
    const double logdet_xx = Eigen::LDLT<Eigen::MatrixXd>(d.x.transpose() * d.x).vectorD().array().log().sum();
    const double logdet_xwx =
        Eigen::LDLT<Eigen::MatrixXd>(d.x.transpose() * w.asDiagonal() * d.x).vectorD().array().log().sum();
    r.logLik = -0.5 * n * log_2pi + 0.5 * logdet_xx - 0.5 * sum_log_v - 0.5 * logdet_xwx - 0.5 * fit.rss;
  } else {
    r.logLik = -0.5 * k * log_2pi - 0.5 * sum_log_v - 0.5 * fit.rss;
  }
  r.AIC = -2 * r.logLik + 2 * parms;
  r.BIC = -2 * r.logLik + parms * std::log(n);
  const double m = std::max(n, parms + 2);
  r.AICc = -2 * r.logLik + 2 * parms * m / (m - parms - 1);
}

// predict.rma without newmods: each study's fitted value with its CI and, for a random-effects
// model, its prediction interval (a fixed-effect model has none, as in metafor).
std::vector<MetaFittedValue> fitted_values(const Design& d, const Eigen::VectorXd& beta, const Eigen::MatrixXd& vb,
                                           double tau2, double crit, bool random_effects) {
  std::vector<MetaFittedValue> fitted(static_cast<std::size_t>(d.k()));
  for (int i = 0; i < d.k(); ++i) {
    MetaFittedValue& f = fitted[static_cast<std::size_t>(i)];
    f.estimate = d.x.row(i).dot(beta);
    f.std_error = std::sqrt((d.x.row(i) * vb * d.x.row(i).transpose())(0, 0));
    f.conf_low = f.estimate - crit * f.std_error;
    f.conf_high = f.estimate + crit * f.std_error;
    if (!random_effects) continue;
    const double pi_half_width = crit * std::sqrt(f.std_error * f.std_error + tau2);
    f.pi_low = f.estimate - pi_half_width;
    f.pi_high = f.estimate + pi_half_width;
  }
  return fitted;
}

}  // namespace

Design intercept_design(const std::vector<double>& yi, const std::vector<double>& vi) {
  Design d;
  d.y = Eigen::Map<const Eigen::VectorXd>(yi.data(), static_cast<Eigen::Index>(yi.size()));
  d.v = Eigen::Map<const Eigen::VectorXd>(vi.data(), static_cast<Eigen::Index>(vi.size()));
  d.x = Eigen::MatrixXd::Ones(d.k(), 1);
  d.names = {"intrcpt"};
  d.intercept = true;
  return d;
}

Design without_row(const Design& design, int row) {
  Design d;
  const int k = design.k();
  d.y.resize(k - 1);
  d.v.resize(k - 1);
  d.x.resize(k - 1, design.p());
  for (int i = 0, j = 0; i < k; ++i) {
    if (i == row) continue;
    d.y[j] = design.y[i];
    d.v[j] = design.v[i];
    d.x.row(j) = design.x.row(i);
    ++j;
  }
  d.names = design.names;
  d.intercept = design.intercept;
  return d;
}

MetaResult fit_design(const Design& d, const FitSettings& s) {
  if (s.test != "z" && s.test != "knha") throw InputError("--test: expected z or knha, got '" + s.test + "'");
  check_design(d, s.method);
  Warnings level_warnings;
  detail::check_confidence_level(s.level, level_warnings);
  MetaResult r;
  r.k = static_cast<std::size_t>(d.k());
  r.p = static_cast<std::size_t>(d.p());
  r.method = s.method;
  r.test = s.test;
  r.level = s.level;
  r.yi.assign(d.y.data(), d.y.data() + d.k());
  r.vi.assign(d.v.data(), d.v.data() + d.k());

  TauEstimate tau = estimate_tau2(d, s.method);
  r.warnings = std::move(level_warnings);
  r.warnings.insert(r.warnings.end(), tau.warnings.begin(), tau.warnings.end());
  if (!std::isfinite(tau.tau2))  // e.g. |yi| of 1e300, whose squares overflow
    throw AnalysisError("meta: tau2 is not a finite number (effect sizes too large for double precision?)");
  r.tau2 = tau.tau2;
  r.tau2_se = tau.se;
  r.tau = std::sqrt(r.tau2);

  // Coefficients with weights 1/(v + tau²); Knapp & Hartung (2003) scale the covariance
  // by s² = RSS / (k - p) and use t / F with k - p df.
  const Eigen::VectorXd w = (d.v.array() + r.tau2).inverse().matrix();
  const WeightedFit fit = weighted_fit(d, w);
  const bool knha = s.test == "knha";
  const double df = d.k() - d.p();
  double s2w = 1;
  if (knha) {
    s2w = fit.rss <= DBL_EPSILON ? 0 : fit.rss / df;
    if (!is_random_effects(s.method)) r.warnings.push_back("the Knapp-Hartung method is not meant for FE models");
  }
  r.vcov = s2w * fit.xtwx_inv;
  r.df = knha ? df : NA;
  const double alpha = alpha_of(s.level);
  const double crit = knha ? t_quantile_upper(alpha / 2, df) : normal_quantile_upper(alpha / 2);
  for (int j = 0; j < d.p(); ++j) {
    MetaCoefficient c;
    c.term = d.names[static_cast<std::size_t>(j)];
    c.estimate = fit.beta[j];
    c.std_error = std::sqrt(r.vcov(j, j));
    c.statistic = c.estimate / c.std_error;
    c.p_value = 2 * (knha ? t_upper(std::fabs(c.statistic), df) : normal_upper(std::fabs(c.statistic)));
    c.conf_low = c.estimate - crit * c.std_error;
    c.conf_high = c.estimate + crit * c.std_error;
    r.coefficients.push_back(c);
  }
  r.weights.resize(r.k);
  for (int i = 0; i < d.k(); ++i) r.weights[static_cast<std::size_t>(i)] = 100 * w[i] / w.sum();

  fit_statistics(d, s.method, r.tau2, w, fit, r);
  r.fitted = fitted_values(d, fit.beta, r.vcov, r.tau2, crit, is_random_effects(s.method));

  r.has_mods = !d.intercept_only();
  if (r.has_mods) moderator_test(d, fit.beta, r.vcov, knha, r);
  heterogeneity(d, s.method, r.tau2, r);
  if (is_random_effects(s.method) && s.tau2_ci) q_profile_interval(d, r.tau2, s.level, r);

  if (d.intercept_only()) {
    const MetaCoefficient& c = r.coefficients.front();
    r.estimate = c.estimate;
    r.std_error = c.std_error;
    r.statistic = c.statistic;
    r.p_value = c.p_value;
    r.conf_low = c.conf_low;
    r.conf_high = c.conf_high;
    r.pi_low = r.fitted.front().pi_low;   // every study's fitted value is the pooled estimate
    r.pi_high = r.fitted.front().pi_high;
  } else if (d.intercept && s.r2) {
    r.R2 = pseudo_r2(d, s.method, r.tau2, weighted_fit(d, d.v.cwiseInverse()));
  }
  return r;
}

}  // namespace spiral::meta_detail

namespace spiral {

using namespace meta_detail;

MetaResult fit_meta_matrix(const std::vector<double>& yi, const std::vector<double>& vi, const Eigen::MatrixXd& x,
                           const std::vector<std::string>& names, const MetaOptions& options) {
  if (!options.mods.empty()) throw InputError("fit_meta_matrix: options.mods must be empty (the design is given)");
  if (yi.size() != vi.size() || static_cast<Eigen::Index>(yi.size()) != x.rows() ||
      static_cast<Eigen::Index>(names.size()) != x.cols())
    throw InputError("fit_meta_matrix: yi, vi, x and names do not have matching sizes");
  Design d = intercept_design(yi, vi);
  d.x = x;
  d.names = names;
  d.intercept = x.cols() > 0 && x.rows() > 0 && is_ones(x.col(0));  // metafor's intercept comes first
  FitSettings settings{options.method, options.test, options.level, options.tau2_ci, true};
  MetaResult r = fit_design(d, settings);
  for (std::size_t i = 0; i < r.k; ++i) r.slab.push_back("Study " + std::to_string(i + 1));
  return r;
}

}  // namespace spiral
