// Sensitivity and small-study diagnostics as metafor's leave1out, influence, regtest and
// trimfill for rma.uni fits.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>

#include "meta/meta_internal.hpp"

namespace spiral::meta_detail {

namespace {

// Refits inside a diagnostic need neither the tau² CI nor R².
FitSettings refit_settings(const FitSettings& settings) {
  FitSettings s = settings;
  s.tau2_ci = false;
  s.r2 = false;
  return s;
}

// Knapp-Hartung's s² of a fit (1 under the z test).
double knha_scale(const Design& d, const FitSettings& s, double tau2) {
  if (s.test != "knha") return 1;
  const WeightedFit fit = weighted_fit(d, (d.v.array() + tau2).inverse().matrix());
  return fit.rss <= DBL_EPSILON ? 0 : fit.rss / (d.k() - d.p());
}

}  // namespace

std::vector<LeaveOneOutRow> leave_one_out(const Design& design, const FitSettings& settings,
                                          const std::vector<std::string>& slab) {
  std::vector<LeaveOneOutRow> rows;
  const FitSettings s = refit_settings(settings);
  for (int i = 0; i < design.k(); ++i) {
    LeaveOneOutRow row;
    row.slab = slab[static_cast<std::size_t>(i)];
    try {
      const MetaResult r = fit_design(without_row(design, i), s);
      row.estimate = r.estimate;
      row.std_error = r.std_error;
      row.statistic = r.statistic;
      row.p_value = r.p_value;
      row.conf_low = r.conf_low;
      row.conf_high = r.conf_high;
      row.Q = r.Q;
      row.Q_p = r.Q_p;
      row.tau2 = r.tau2;
      row.I2 = r.I2;
      row.H2 = r.H2;
    } catch (const AnalysisError&) {
      // metafor leaves the row empty when the refit fails (e.g. one study left).
    } catch (const InputError&) {
      // ... or when the deletion leaves a moderator constant (a factor level emptied).
    }
    rows.push_back(row);
  }
  return rows;
}

// influence.rma.uni (Viechtbauer & Cheung 2010, Res Synth Methods 1:112): externally
// studentized residuals, DFFITS, Cook's distances, covariance ratios, leave-one-out tau²
// and QE, hat values and weights; "influential" by metafor's cut-offs.
std::vector<InfluenceRow> influence(const Design& d, const FitSettings& settings, const MetaResult& fit) {
  const int k = d.k(), p = d.p();
  const Eigen::VectorXd w = (d.v.array() + fit.tau2).inverse().matrix();
  const WeightedFit full = weighted_fit(d, w);
  const Eigen::VectorXd fitted = d.x * full.beta;
  const Eigen::MatrixXd vb_inverse = fit.vcov.inverse();
  const double vb_det = fit.vcov.determinant();
  const FitSettings s = refit_settings(settings);

  std::vector<InfluenceRow> rows;
  for (int i = 0; i < k; ++i) {
    InfluenceRow row;
    row.hat = std::min(1.0, (d.x.row(i) * full.xtwx_inv * d.x.row(i).transpose())(0, 0) * w[i]);
    if (row.hat > 1 - 10 * DBL_EPSILON) row.hat = 1;
    row.weight = 100 * w[i] / w.sum();
    bool influential = row.hat > 3.0 * p / k;
    try {
      const Design reduced = without_row(d, i);
      const MetaResult r = fit_design(reduced, s);
      Eigen::VectorXd beta(p);
      for (int j = 0; j < p; ++j) beta[j] = r.coefficients[static_cast<std::size_t>(j)].estimate;
      const double s2w = knha_scale(reduced, s, r.tau2);
      row.tau2_del = r.tau2;
      row.QE_del = r.Q;
      const Eigen::RowVectorXd xi = d.x.row(i);
      const double predicted = (xi * beta)(0, 0);
      const double v_predicted = (xi * r.vcov * xi.transpose())(0, 0);
      double residual = d.y[i] - predicted;
      if (std::fabs(residual) < 100 * DBL_EPSILON) residual = 0;
      row.rstudent = residual / std::sqrt(d.v[i] * s2w + v_predicted + r.tau2 * s2w);
      row.dffits = (fitted[i] - predicted) / std::sqrt(s2w * row.hat * (r.tau2 + d.v[i]));
      const Eigen::VectorXd change = full.beta - beta;
      row.cook_d = change.dot(vb_inverse * change);
      row.cov_r = r.vcov.determinant() / vb_det;
      // DFBETAS: the change scaled by the full-data covariance at the reduced tau².
      const WeightedFit at_reduced_tau2 = weighted_fit(d, (d.v.array() + r.tau2).inverse().matrix());
      bool large_dfbetas = false;
      for (int j = 0; j < p; ++j)
        large_dfbetas = large_dfbetas || std::fabs(change[j] / std::sqrt(s2w * at_reduced_tau2.xtwx_inv(j, j))) > 1;
      influential = influential || std::fabs(row.dffits) > 3 * std::sqrt(static_cast<double>(p) / (k - p)) ||
                    1 - chisq_upper(row.cook_d, p) > 0.5 || large_dfbetas;
    } catch (const AnalysisError&) {
      // metafor leaves the deletion statistics empty when the refit fails.
    } catch (const InputError&) {
      // ... or when the deletion empties a factor level (a model matrix short of full rank).
    }
    row.influential = influential;
    rows.push_back(row);
  }
  return rows;
}

namespace {

// Egger's test and trim and fill regress on the standard errors, which need to vary (with
// equal ones the design's rank check blamed --mods; metafor stops too).
void require_varying_standard_errors(const Design& design, const std::string& option) {
  if (design.v.maxCoeff() - design.v.minCoeff() <= 1e-12 * design.v.maxCoeff())
    throw AnalysisError(option + ": the studies' standard errors are all equal, so there is no slope on them to estimate");
}

}  // namespace

// Egger's regression test as regtest(model = "rma", predictor = "sei") (Egger et al. 1997;
// Sterne & Egger 2005): the model refitted with the standard error as an extra moderator.
EggerTest egger_test(const Design& design, const FitSettings& settings) {
  require_varying_standard_errors(design, "--egger");
  Design d = design;
  d.x.conservativeResize(Eigen::NoChange, design.p() + 1);
  d.x.col(design.p()) = design.v.cwiseSqrt();
  d.names.push_back("sei");
  const MetaResult r = fit_design(d, refit_settings(settings));
  const MetaCoefficient& sei = r.coefficients.back();
  EggerTest test;
  test.statistic = sei.statistic;
  test.p_value = sei.p_value;
  test.df = r.df;
  if (design.intercept_only()) {
    test.limit_estimate = r.coefficients.front().estimate;
    test.limit_low = r.coefficients.front().conf_low;
    test.limit_high = r.coefficients.front().conf_high;
  }
  return test;
}

namespace {

double pooled_estimate(const std::vector<double>& y, const std::vector<double>& v, const FitSettings& s) {
  return fit_design(intercept_design(y, v), s).coefficients.front().estimate;
}

// The pooled estimate of the trim-and-fill refit, as trimfill() reports it.
TrimFillResult with_pooled(TrimFillResult result, const MetaResult& r) {
  result.estimate = r.estimate;
  result.std_error = r.std_error;
  result.conf_low = r.conf_low;
  result.conf_high = r.conf_high;
  result.p_value = r.p_value;
  result.tau2 = r.tau2;
  return result;
}

// R's rank(abs(x), ties.method = "first") summed over the positive x: Wilcoxon's S_r.
double positive_rank_sum(const std::vector<double>& centred) {
  std::vector<std::size_t> order(centred.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return std::fabs(centred[a]) < std::fabs(centred[b]); });
  double sum = 0;
  for (std::size_t rank = 0; rank < order.size(); ++rank)
    if (centred[order[rank]] > 0) sum += static_cast<double>(rank + 1);
  return sum;
}

}  // namespace

// Trim and fill with the L0 estimator (Duval & Tweedie 2000, Biometrics 56:455), as
// metafor's trimfill: side from the sign of the Egger-type slope, iterate trimming k0
// studies and re-estimating, then fill their mirror images around the trimmed estimate.
TrimFillResult trim_and_fill(const Design& design, const FitSettings& settings) {
  // trimfill refits with rma.uni's default test, z.
  const FitSettings z{settings.method, std::string("z"), settings.level, false, false};
  require_varying_standard_errors(design, "--trimfill");
  Design slope = design;
  slope.x.conservativeResize(Eigen::NoChange, 2);
  slope.x.col(1) = design.v.cwiseSqrt();
  slope.names.push_back("sei");
  TrimFillResult result;
  result.side = std::string(fit_design(slope, z).coefficients[1].estimate < 0 ? "right" : "left");
  const double sign = result.side == "right" ? -1 : 1;

  const int k = design.k();
  std::vector<std::size_t> order(static_cast<std::size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return sign * design.y[static_cast<Eigen::Index>(a)] < sign * design.y[static_cast<Eigen::Index>(b)]; });
  std::vector<double> y, v;
  for (std::size_t i : order) {
    y.push_back(sign * design.y[static_cast<Eigen::Index>(i)]);
    v.push_back(design.v[static_cast<Eigen::Index>(i)]);
  }

  int k0 = 0, previous = -1, iteration = 0;
  double beta = 0;
  while (k0 != previous) {
    previous = k0;
    if (++iteration > 100) throw AnalysisError("--trimfill: trim and fill did not converge in 100 iterations");
    const std::vector<double> y_trimmed(y.begin(), y.end() - k0), v_trimmed(v.begin(), v.end() - k0);
    beta = pooled_estimate(y_trimmed, v_trimmed, z);
    std::vector<double> centred(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) centred[i] = y[i] - beta;
    const double kk = k;
    const double l0 = (4 * positive_rank_sum(centred) - kk * (kk + 1)) / (2 * kk - 1);
    k0 = std::max(0, static_cast<int>(std::nearbyint(l0)));  // R's round(): half to even
  }
  result.k0 = k0;
  if (k0 == 0) {
    return with_pooled(std::move(result), fit_design(design, refit_settings(settings)));
  }
  std::vector<double> y_all(design.y.data(), design.y.data() + k), v_all(design.v.data(), design.v.data() + k);
  for (int i = k - k0; i < k; ++i) {
    const double mirrored = sign * (2 * beta - y[static_cast<std::size_t>(i)]);
    result.filled_yi.push_back(mirrored);
    result.filled_vi.push_back(v[static_cast<std::size_t>(i)]);
    y_all.push_back(mirrored);
    v_all.push_back(v[static_cast<std::size_t>(i)]);
  }
  return with_pooled(std::move(result), fit_design(intercept_design(y_all, v_all), z));
}

}  // namespace spiral::meta_detail
