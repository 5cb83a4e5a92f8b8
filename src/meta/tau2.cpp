// The tau² estimators of metafor's rma.uni (Viechtbauer 2005, J Educ Behav Stat 30:261;
// Veroniki et al. 2016, Res Synth Methods 7:55), each as metafor computes it, including
// its standard error, its starting values and its stopping rules.
#include <cfloat>
#include <cmath>

#include <fmt/format.h>

#include "meta/meta_internal.hpp"

namespace spiral::meta_detail {

namespace {

constexpr double kThreshold = 1e-5;   // rma.uni control: threshold (change in tau²)
constexpr int kMaxIter = 100;         // rma.uni control: maxiter
constexpr double kTol = 1.220703125e-4;  // .Machine$double.eps^0.25

// tr(P) and tr(P P) for P = W - W X A X' W with A = (X'WX)^-1, in O(k p²):
// tr(P) = tr(W) - tr(A X'W²X); tr(PP) = tr(W²) - 2 tr(A X'W³X) + tr((A X'W²X)²).
struct Traces {
  double p = 0, pp = 0;
};
Traces projection_traces(const Design& design, const Eigen::VectorXd& w, const Eigen::MatrixXd& xtwx_inv) {
  const Eigen::MatrixXd xw2x = design.x.transpose() * w.array().square().matrix().asDiagonal() * design.x;
  const Eigen::MatrixXd xw3x = design.x.transpose() * w.array().cube().matrix().asDiagonal() * design.x;
  const Eigen::MatrixXd axw2x = xtwx_inv * xw2x;
  Traces t;
  t.p = w.sum() - axw2x.trace();
  t.pp = w.squaredNorm() - 2 * (xtwx_inv * xw3x).trace() + (axw2x * axw2x).trace();
  return t;
}

Eigen::VectorXd inverse_variance_weights(const Design& design, double tau2) {
  return (design.v.array() + tau2).inverse().matrix();
}

// The unweighted projection I - X (X'X)^-1 X' of the Hedges (HE) estimator.
Eigen::MatrixXd unweighted_projection(const Design& design) {
  const Eigen::MatrixXd xtx_inv = (design.x.transpose() * design.x).inverse();
  return Eigen::MatrixXd::Identity(design.k(), design.k()) - design.x * xtx_inv * design.x.transpose();
}

double positive(double tau2) { return std::max(tau2, 0.0); }

// Hunter-Schmidt: tau² = (Q - k) / sum(w), w = 1/v.
TauEstimate hunter_schmidt(const Design& d) {
  const Eigen::VectorXd w = d.v.cwiseInverse();
  const WeightedFit fit = weighted_fit(d, w);
  const Eigen::MatrixXd P = projection_matrix(d, w, fit);
  TauEstimate e;
  e.tau2 = positive((fit.rss - d.k()) / w.sum());
  e.se = std::sqrt(1 / (w.sum() * w.sum()) *
                   (2.0 * (d.k() - d.p()) + 4 * e.tau2 * P.trace() + 2 * e.tau2 * e.tau2 * P.squaredNorm()));
  return e;
}

struct HedgesParts {
  double tau2 = 0;  // untruncated
  double tr_pv = 0, tr_pvpv = 0;
};
// Hedges' (HE) method-of-moments: tau² = (RSS - tr(PV)) / (k - p) with unweighted P.
HedgesParts hedges_parts(const Design& d) {
  const Eigen::MatrixXd P = unweighted_projection(d);
  const Eigen::MatrixXd PV = P * d.v.asDiagonal();
  HedgesParts h;
  h.tr_pv = PV.trace();
  h.tr_pvpv = (PV * PV).trace();
  h.tau2 = (d.y.dot(P * d.y) - h.tr_pv) / (d.k() - d.p());
  return h;
}

TauEstimate hedges(const Design& d) {
  const HedgesParts h = hedges_parts(d);
  TauEstimate e;
  e.tau2 = positive(h.tau2);
  const double df = d.k() - d.p();
  e.se = std::sqrt(1 / (df * df) * (2 * h.tr_pvpv + 4 * e.tau2 * h.tr_pv + 2 * e.tau2 * e.tau2 * df));
  return e;
}

// DerSimonian-Laird: tau² = (Q - (k - p)) / tr(P), P with w = 1/v.
TauEstimate dersimonian_laird(const Design& d) {
  const Eigen::VectorXd w = d.v.cwiseInverse();
  const WeightedFit fit = weighted_fit(d, w);
  const Traces t = projection_traces(d, w, fit.xtwx_inv);
  const Eigen::MatrixXd P = projection_matrix(d, w, fit);
  TauEstimate e;
  e.tau2 = positive((fit.rss - (d.k() - d.p())) / t.p);
  e.se = std::sqrt(1 / (t.p * t.p) * (2.0 * (d.k() - d.p()) + 4 * e.tau2 * t.p + 2 * e.tau2 * e.tau2 * P.squaredNorm()));
  return e;
}

// Sidik-Jonkman: one step from tau²_0 = var(y) (k-1)/k: tau² = tau²_0 Q(tau²_0) / (k - p).
TauEstimate sidik_jonkman(const Design& d) {
  const double tau2_0 = (d.y.array() - d.y.mean()).square().mean();
  const Eigen::VectorXd w = inverse_variance_weights(d, tau2_0);
  const WeightedFit fit = weighted_fit(d, w);
  const Eigen::MatrixXd P = projection_matrix(d, w, fit);
  const Eigen::MatrixXd PV = P * d.v.asDiagonal();
  const double df = d.k() - d.p();
  TauEstimate e;
  e.tau2 = positive(tau2_0 * fit.rss / df);
  e.se = std::sqrt(tau2_0 * tau2_0 / (df * df) *
                   (2 * (PV * PV).trace() + 4 * e.tau2 * PV.cwiseProduct(P).sum() + 2 * e.tau2 * e.tau2 * P.squaredNorm()));
  return e;
}

// Standard error of the PM and EB estimators: sqrt(2 k² / (k - p) / (sum w)²).
double moment_equation_se(const Design& d, double tau2) {
  const double sw = inverse_variance_weights(d, tau2).sum();
  return std::sqrt(2.0 * d.k() * d.k() / (d.k() - d.p()) / (sw * sw));
}

// Paule-Mandel: the root of Q(tau²) = k - p, found by uniroot on [0, tau2.max].
TauEstimate paule_mandel(const Design& d) {
  const double target = d.k() - d.p();
  const double tau2_max = std::max(100.0, 10 * std::pow(mad(d.y), 2));
  TauEstimate e;
  if (q_statistic(d, 0) < target) {
    e.tau2 = 0;
  } else {
    if (q_statistic(d, tau2_max) > target)
      throw AnalysisError("method PM: Q(tau2) stays above k - p up to tau2 = " + fmt::format("{}", tau2_max) +
                          "; the Paule-Mandel estimator does not exist for these data");
    e.tau2 = uniroot([&](double tau2) { return q_statistic(d, tau2) - target; }, 0, tau2_max, kMaxIter, kTol);
    if (std::isnan(e.tau2)) throw AnalysisError("method PM: the search for tau2 did not converge");
  }
  e.se = moment_equation_se(d, e.tau2);
  return e;
}

// Restricted or full log-likelihood at tau² (Viechtbauer 2005, eqs. 10, 11).
double log_likelihood(const Design& d, double tau2, bool reml) {
  const Eigen::VectorXd w = inverse_variance_weights(d, tau2);
  const WeightedFit fit = weighted_fit(d, w);
  const double log_2pi = std::log(2 * M_PI);
  const double sum_log_v = (d.v.array() + tau2).log().sum();
  if (!reml) return -0.5 * d.k() * log_2pi - 0.5 * sum_log_v - 0.5 * fit.rss;
  const double log_det = std::log((d.x.transpose() * w.asDiagonal() * d.x).determinant());
  return -0.5 * (d.k() - d.p()) * log_2pi - 0.5 * sum_log_v - 0.5 * log_det - 0.5 * fit.rss;
}

// ML, REML and EB by Fisher scoring from the HE estimate, halving a step that would make
// tau² negative; converged when |change| <= 1e-5, at most 100 iterations
// (Viechtbauer 2005, eqs. 12-14; Morris 1983 for EB).
TauEstimate fisher_scoring(const Design& d, const std::string& method) {
  double tau2 = positive(hedges_parts(d).tau2);
  double change = kThreshold + 1;
  int iteration = 0;
  const double k = d.k(), p = d.p();
  while (change > kThreshold) {
    ++iteration;
    const double previous = tau2;
    const Eigen::VectorXd w = inverse_variance_weights(d, tau2);
    const WeightedFit fit = weighted_fit(d, w);
    const Eigen::VectorXd py = w.cwiseProduct(fit.residual);  // P y
    double step;
    if (method == "EB") {
      step = (fit.rss * k / (k - p) - k) / w.sum();
    } else {
      const Traces t = projection_traces(d, w, fit.xtwx_inv);
      step = method == "ML" ? (py.squaredNorm() - w.sum()) / w.squaredNorm() : (py.squaredNorm() - t.p) / t.pp;
    }
    if (std::isnan(step)) step = 0;
    while (tau2 + step < 0) step /= 2;
    tau2 += step;
    change = std::fabs(previous - tau2);
    if (iteration > kMaxIter)
      throw AnalysisError("method " + method + ": Fisher scoring did not converge in " + std::to_string(kMaxIter) +
                          " iterations (try method DL, HE or PM)");
  }
  TauEstimate e;
  // metafor's check against a local maximum: the likelihood at tau² = 0 must not be higher.
  if (method != "EB") {
    const bool reml = method == "REML";
    if (log_likelihood(d, 0, reml) - log_likelihood(d, tau2, reml) > kTol && tau2 > kThreshold) {
      e.warnings.push_back("Fisher scoring may have stopped at a local maximum; tau2 set to 0");
      tau2 = 0;
    }
  }
  e.tau2 = positive(tau2);
  const Eigen::VectorXd w = inverse_variance_weights(d, e.tau2);
  if (method == "ML") {
    e.se = std::sqrt(2 / w.squaredNorm());
  } else if (method == "REML") {
    const WeightedFit fit = weighted_fit(d, w);
    e.se = std::sqrt(2 / projection_traces(d, w, fit.xtwx_inv).pp);
  } else {
    e.se = moment_equation_se(d, e.tau2);
  }
  return e;
}

}  // namespace

WeightedFit weighted_fit(const Design& design, const Eigen::VectorXd& w) {
  WeightedFit fit;
  const Eigen::MatrixXd xtw = design.x.transpose() * w.asDiagonal();
  fit.xtwx_inv = (xtw * design.x).llt().solve(Eigen::MatrixXd::Identity(design.p(), design.p()));
  fit.beta = fit.xtwx_inv * (xtw * design.y);
  fit.residual = design.y - design.x * fit.beta;
  fit.rss = fit.residual.cwiseProduct(w).dot(fit.residual);
  return fit;
}

Eigen::MatrixXd projection_matrix(const Design& design, const Eigen::VectorXd& w, const WeightedFit& fit) {
  const Eigen::MatrixXd wx = w.asDiagonal() * design.x;
  Eigen::MatrixXd P = -wx * fit.xtwx_inv * wx.transpose();
  P.diagonal() += w;
  return P;
}

double q_statistic(const Design& design, double tau2) {
  if (design.intercept_only()) {  // sum w (y - ybar_w)², without allocations: the Q-profile's inner loop
    double sw = 0, swy = 0;
    for (int i = 0; i < design.k(); ++i) {
      const double w = 1 / (design.v[i] + tau2);
      sw += w;
      swy += w * design.y[i];
    }
    const double mean = swy / sw;
    double q = 0;
    for (int i = 0; i < design.k(); ++i) q += (design.y[i] - mean) * (design.y[i] - mean) / (design.v[i] + tau2);
    return q;
  }
  return weighted_fit(design, inverse_variance_weights(design, tau2)).rss;
}

TauEstimate estimate_tau2(const Design& design, const std::string& method) {
  if (method == "FE") return {0.0, NA, {}};
  if (method == "HS") return hunter_schmidt(design);
  if (method == "HE") return hedges(design);
  if (method == "DL") return dersimonian_laird(design);
  if (method == "SJ") return sidik_jonkman(design);
  if (method == "PM") return paule_mandel(design);
  if (method == "ML" || method == "REML" || method == "EB") return fisher_scoring(design, method);
  throw InputError("--method: unknown estimator '" + method + "' (expected REML, ML, DL, HE, HS, SJ, PM, EB or FE)");
}

}  // namespace spiral::meta_detail
