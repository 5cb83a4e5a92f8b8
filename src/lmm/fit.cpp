#include <algorithm>
#include <cfloat>
#include <cmath>
#include <optional>
#include <string>

#include <boost/math/distributions/normal.hpp>
#include <nlopt.h>

#include "common/confidence_level.hpp"
#include "common/estimable_columns.hpp"
#include "common/quiet_distributions.hpp"
#include "lmm/deviance.hpp"
#include "lmm/inference.hpp"
#include "lmm/numeric_derivatives.hpp"
#include "lmm/satterthwaite.hpp"
#include "spiral/lmm.hpp"
#include "spiral/lmm_predict.hpp"

namespace spiral {

using lmm_detail::DevianceModel;
using lmm_detail::Evaluation;
using lmm_detail::ReTerm;
using lmm_detail::kGradientTolerance;

namespace {

constexpr double kSingularTolerance = 1e-4;   // lme4's isSingular(tol = 1e-4)

std::string term_label(const RandomBlock& block) {
  std::string effects;
  for (const auto& t : block.terms) effects += (effects.empty() ? "" : " + ") + t;
  return "(" + effects + " | " + block.group + ")";
}

// lme4's checks of the random-effects design (checkNlevels, checkNobsRE).
void check_random_design(const ModelFrame& frame) {
  const auto n = static_cast<std::size_t>(frame.y.size());
  if (frame.random.empty()) throw InputError("lmm: the formula has no random-effects terms, e.g. (1 | group)");
  for (const auto& block : frame.random) {
    if (block.levels.size() < 2)
      throw InputError("lmm: grouping factor '" + block.group + "' has only " + std::to_string(block.levels.size()) +
                       " level (grouping factors must have > 1 sampled level)");
    if (block.levels.size() >= n)
      throw InputError("lmm: number of levels of grouping factor '" + block.group +
                       "' must be < number of observations (" + std::to_string(n) + ")");
    const std::size_t q = block.levels.size() * block.terms.size();
    if (q >= n)
      throw InputError("lmm: number of observations (=" + std::to_string(n) + ") <= number of random effects (=" +
                       std::to_string(q) + ") for term " + term_label(block) +
                       "; the random-effects parameters are probably unidentifiable");
  }
}

void check_finite(const ModelFrame& frame) {
  if (!frame.y.allFinite()) throw InputError("lmm: response '" + frame.response + "' has non-finite values");
  for (Eigen::Index j = 0; j < frame.x.cols(); ++j)
    if (!frame.x.col(j).allFinite())
      throw InputError("lmm: fixed-effect column '" + frame.x_names[std::size_t(j)] + "' has non-finite values");
}

void check_ar1_times(const ReTerm& innermost, const std::vector<double>& time) {
  std::vector<std::pair<int, double>> keys;
  for (std::size_t r = 0; r < time.size(); ++r) {
    if (!std::isfinite(time[r])) throw InputError("--ar1: time column has a non-finite value");
    keys.emplace_back(innermost.block->level_of_row[r], time[r]);
  }
  std::sort(keys.begin(), keys.end());
  const auto dup = std::adjacent_find(keys.begin(), keys.end());
  if (dup != keys.end())
    throw InputError("--ar1: time value " + r_number_label(dup->second) + " occurs twice in group '" +
                     innermost.block->levels[std::size_t(dup->first)] + "' of " + innermost.block->group);
}

// AR(1) runs within the innermost grouping factor (the term of most levels, first in lme4's
// order), which must be nested in every other one: each of its levels within one level of
// each. With crossed factors (subjects x items) there is no innermost one.
void check_ar1_nesting(const std::vector<ReTerm>& terms) {
  const RandomBlock& inner = *terms.front().block;
  for (std::size_t t = 1; t < terms.size(); ++t) {
    const RandomBlock& outer = *terms[t].block;
    std::vector<int> outer_of(inner.levels.size(), -1);
    for (std::size_t r = 0; r < inner.level_of_row.size(); ++r) {
      int& seen = outer_of[std::size_t(inner.level_of_row[r])];
      if (seen >= 0 && seen != outer.level_of_row[r])
        throw InputError("--ar1: grouping factor '" + inner.group + "' is not nested in '" + outer.group +
                         "' (crossed random effects have no innermost factor to run the AR(1) process within)");
      seen = outer.level_of_row[r];
    }
  }
}

struct Optimum {
  std::vector<double> params;
  double value = 0;  // the criterion at params
  bool reached_max_eval = false;
};

struct Objective {
  DevianceModel* model;
  bool reml;
  std::vector<double> params;  // the point, reused from one evaluation to the next
};

double nlopt_objective(unsigned n, const double* x, double*, void* data) {
  auto* objective = static_cast<Objective*>(data);
  objective->params.assign(x, x + n);
  return objective->model->criterion_at(objective->params, objective->reml);
}

// lme4's check.boundary (lmerControl(boundary.tol = 1e-5)): a theta within boundary.tol
// of its lower bound 0 is set to 0 when that does not increase the criterion.
void snap_to_boundary(DevianceModel& model, bool reml, Optimum& optimum) {
  constexpr double kBoundaryTolerance = 1e-5;
  const std::vector<double> lower = model.lower_bounds();
  const double at_optimum = optimum.value;
  std::vector<double>& snapped = optimum.params;
  for (int i = 0; i < model.n_theta(); ++i) {
    const double gap = snapped[std::size_t(i)] - lower[std::size_t(i)];
    if (!(gap > 0 && gap < kBoundaryTolerance)) continue;
    std::vector<double> trial = snapped;
    trial[std::size_t(i)] = lower[std::size_t(i)];
    const double value = model.criterion_at(trial, reml);
    if (value < at_optimum) {
      snapped = std::move(trial);
      optimum.value = value;
    }
  }
}

// BOBYQA (Powell 2009) through NLopt with lme4's nloptwrap settings (xtol_abs = ftol_abs =
// 1e-8, maxeval = 1e5, and nloptr's default xtol_rel = 1e-4), so that fits stop where
// lme4's do, also on the flat ridges of nearly singular fits.
Optimum run_bobyqa(DevianceModel& model, bool reml, std::vector<double> start) {
  const auto n = static_cast<unsigned>(model.n_params());
  Optimum optimum{std::move(start), 0, false};
  const std::vector<double> lower = model.lower_bounds(), upper = model.upper_bounds();
  nlopt_opt opt = nlopt_create(NLOPT_LN_BOBYQA, n);
  Objective objective{&model, reml, {}};
  nlopt_set_lower_bounds(opt, lower.data());
  nlopt_set_upper_bounds(opt, upper.data());
  nlopt_set_min_objective(opt, nlopt_objective, &objective);
  nlopt_set_ftol_abs(opt, 1e-8);
  nlopt_set_xtol_abs1(opt, 1e-8);
  nlopt_set_xtol_rel(opt, 1e-4);
  nlopt_set_maxeval(opt, 100000);
  double value = 0;
  const nlopt_result result = nlopt_optimize(opt, optimum.params.data(), &value);
  nlopt_destroy(opt);
  if (result < 0 && result != NLOPT_ROUNDOFF_LIMITED)
    throw AnalysisError("lmm: the optimizer (BOBYQA) failed: " + std::string(nlopt_result_to_string(result)));
  if (!std::isfinite(value))
    throw AnalysisError("lmm: the optimizer (BOBYQA) found no parameters with a finite deviance");
  optimum.value = value;  // NLopt's minimum is the criterion at the point it returns
  optimum.reached_max_eval = result == NLOPT_MAXEVAL_REACHED;
  return optimum;
}

// lme4's restart_edge (optimizeLmer, lmerControl(restart_edge = TRUE)): when a theta ends
// exactly on its bound and a step of 1e-5 into the interior lowers the criterion, the
// optimizer stopped on the edge too early and is run again from where it stopped.
bool should_restart_from_edge(DevianceModel& model, bool reml, const Optimum& optimum) {
  constexpr double kStep = 1e-5;
  const std::vector<double> lower = model.lower_bounds();
  for (int i = 0; i < model.n_theta(); ++i) {
    if (optimum.params[std::size_t(i)] != lower[std::size_t(i)]) continue;
    std::vector<double> inside = optimum.params;
    inside[std::size_t(i)] = lower[std::size_t(i)] + kStep;
    if ((model.criterion_at(inside, reml) - optimum.value) / kStep < 0) return true;
  }
  return false;
}

Optimum minimize_criterion(DevianceModel& model, bool reml, const std::vector<double>& start) {
  Optimum optimum = run_bobyqa(model, reml, start);
  if (should_restart_from_edge(model, reml, optimum)) optimum = run_bobyqa(model, reml, optimum.params);
  snap_to_boundary(model, reml, optimum);
  return optimum;
}

// A response the fixed effects fit exactly (e.g. a constant) leaves no residual variance:
// the profiled deviance is -Inf (lme4 reports a REML criterion of -Inf and sigma 0).
void check_residual_variation(const Eigen::MatrixXd& basis, const Eigen::VectorXd& y) {
  Eigen::VectorXd residual = y;
  detail::remove_projection(basis, basis.cols(), residual);
  if (residual.squaredNorm() <= 1e-20 * y.squaredNorm()) {
    throw AnalysisError("lmm: the fixed effects fit the response exactly (no residual variance; is it constant?)");
  }
}

// The estimable columns of X, once they are known to be fewer than the rows and to leave y
// some residual variation. Their basis (n x p) is freed before the fit.
std::vector<int> checked_estimable_columns(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  const detail::EstimableColumns estimable = detail::estimable_columns(x);
  if (Eigen::Index(estimable.kept.size()) >= x.rows()) throw InputError("lmm: more fixed effects than observations");
  check_residual_variation(estimable.basis, y);
  return estimable.kept;
}

bool is_singular(const DevianceModel& model, const std::vector<double>& params) {
  const std::vector<double> lower = model.lower_bounds();
  for (int i = 0; i < model.n_theta(); ++i)
    if (lower[std::size_t(i)] == 0 && params[std::size_t(i)] < kSingularTolerance) return true;
  return false;
}

// Whether the criterion still falls along a parameter that is not on its bound, at a singular
// optimum (one of its variances at zero): lme4's convergence test (checkConv: the smaller of
// |gradient| and |scaled gradient| above 0.002) per parameter, the Hessian taken as that
// parameter's own second difference c (scaled gradient g / sqrt(c): a Newton step along it
// would lower the criterion by its square / 2). Central differences; next to a bound, a
// forward one and the gradient alone. (On the power analysis's studies, the raw gradient alone
// restarted BOBYQA for 29 of 102 singular fits, all with scaled gradients below 0.0013 and
// gains of ~1e-8 in the criterion: 7% of all its evaluations.)
bool stalled_on_boundary(DevianceModel& model, bool reml, const Optimum& optimum) {
  constexpr double kCentralStep = 1e-4, kForwardStep = 1e-6;
  const std::vector<double> lower = model.lower_bounds();
  const std::vector<double>& params = optimum.params;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i] == lower[i]) continue;
    const bool central = params[i] - kCentralStep >= lower[i];
    const double step = central ? kCentralStep : kForwardStep;
    std::vector<double> up = params, down = params;
    up[i] += step;
    down[i] -= step;
    const double at_up = model.criterion_at(up, reml);
    if (!central) {
      if (lmm_detail::fails_gradient_check((at_up - optimum.value) / step, 0)) return true;
      continue;
    }
    const double at_down = model.criterion_at(down, reml);
    const double gradient = (at_up - at_down) / (2 * step);
    const double curvature = (at_up - 2 * optimum.value + at_down) / (step * step);
    if (lmm_detail::fails_gradient_check(gradient, curvature)) return true;
  }
  return false;
}

// lme4's checkConv gradient test statistic: the largest over the parameters of the smaller of
// |gradient| and |gradient scaled by the Cholesky factor of the finite-difference Hessian|,
// and its parameter; none when that Hessian is not positive definite or the gradient not finite.
struct ScaledGradient {
  double value;
  Eigen::Index component;
};
std::optional<ScaledGradient> max_scaled_gradient(const lmm_detail::Differences& d) {
  const Eigen::LLT<Eigen::MatrixXd> llt(d.hessian);
  if (llt.info() != Eigen::Success || !d.gradient.allFinite()) return std::nullopt;
  const Eigen::VectorXd scaled = llt.matrixU().solve(d.gradient);
  ScaledGradient g{0, 0};
  g.value = scaled.cwiseAbs().cwiseMin(d.gradient.cwiseAbs()).maxCoeff(&g.component);
  return g;
}

struct CheckedOptimum {
  Optimum optimum;
  std::optional<lmm_detail::Differences> derivatives;  // none for a singular fit
};

// The optimum and, unless it is singular, the criterion's derivatives there (lme4's
// checkConv; they also give the Satterthwaite df). BOBYQA can stop short of the minimum: on
// a flat ridge, where the Hessian is not positive definite, close to it, where the gradient
// test fails (a nearly singular fit of the power analysis, once its deviance was summed in
// another order), or on the boundary with the other parameters still off their optimum (a
// nearly singular fit stopped at REML criteria 0.016 and 1.6e-5 above lme4's after changes of
// rounding in the deviance). It is then run once more from where it stopped, as lme4's
// restart_edge does when a parameter on its bound should move inward and as ?convergence
// advises for a failed gradient test.
CheckedOptimum minimize_and_check(DevianceModel& model, bool reml) {
  const lmm_detail::PairFunction criterion = lmm_detail::criterion_r2_variances(model, reml);
  const auto check = [&](Optimum optimum) {
    CheckedOptimum checked{std::move(optimum), std::nullopt};
    if (!is_singular(model, checked.optimum.params))
      checked.derivatives = lmm_detail::central_differences(criterion, checked.optimum.params);
    return checked;
  };
  CheckedOptimum checked = check(minimize_criterion(model, reml, model.start()));
  const std::optional<ScaledGradient> gradient =
      checked.derivatives ? max_scaled_gradient(*checked.derivatives) : std::nullopt;
  const bool stopped_short = checked.derivatives ? !gradient || gradient->value > kGradientTolerance
                                                 : stalled_on_boundary(model, reml, checked.optimum);
  if (stopped_short) {
    const bool reached_max_eval = checked.optimum.reached_max_eval;
    // From where it stopped; when only the gradient test failed (the Hessian positive
    // definite), with every variance whose Newton step crosses 0 put on its bound.
    const std::vector<double> from =
        gradient ? lmm_detail::onto_bounds_newton_crosses(model.lower_bounds(), *checked.derivatives,
                                                          checked.optimum.params)
                 : checked.optimum.params;
    checked = check(minimize_criterion(model, reml, from));
    checked.optimum.reached_max_eval = checked.optimum.reached_max_eval || reached_max_eval;
  }
  return checked;
}

// lme4's checkConv: not converged, with its warning, when that statistic is above 0.002 or
// cannot be had, or when the Hessian has an eigenvalue of about 0 (a criterion flat along some
// theta, e.g. a random intercept whose grouping factor is also a fixed effect).
void check_convergence(const lmm_detail::Differences& d, const std::vector<double>& params, LmmResult& result) {
  const std::optional<ScaledGradient> g = max_scaled_gradient(d);
  const bool flat = lmm_detail::is_flat(d, params);
  if (!g || flat) {
    result.converged = false;
    if (!g) result.warnings.push_back("unable to evaluate scaled gradient");
    result.warnings.push_back("Hessian is numerically singular: parameters are not uniquely determined");
  } else if (g->value > kGradientTolerance) {
    result.converged = false;
    char buffer[160];
    std::snprintf(buffer, sizeof buffer, "Model failed to converge with max|grad| = %g (tol = %g, component %d)",
                  g->value, kGradientTolerance, int(g->component) + 1);
    result.warnings.push_back(buffer);
  }
}

// A Newton step -H^-1 g from params, kept when it stays inside the bounds and the criterion
// there is not above its value at params by more than the criterion's rounding (~1e-14
// relative: near the optimum the decrease is below it).
bool newton_step(DevianceModel& model, bool reml, const Eigen::LLT<Eigen::MatrixXd>& hessian,
                 const Eigen::VectorXd& gradient, std::vector<double>& params, double& value) {
  if (!gradient.allFinite()) return false;
  const Eigen::VectorXd step = -hessian.solve(gradient);
  std::vector<double> candidate = params;
  const std::vector<double> lower = model.lower_bounds(), upper = model.upper_bounds();
  for (std::size_t i = 0; i < candidate.size(); ++i) {
    candidate[i] += step(Eigen::Index(i));
    if (!(candidate[i] >= lower[i] && candidate[i] <= upper[i])) return false;
  }
  const double at_candidate = model.criterion_at(candidate, reml);
  if (!(at_candidate <= value + 64 * DBL_EPSILON * std::fabs(value))) return false;
  params = std::move(candidate);
  value = at_candidate;
  return true;
}

// BOBYQA stops once the criterion changes by less than ftol_abs = 1e-8, which on a flat
// criterion leaves theta off the optimum by up to ~1e-5 (lme4's as well); even a criterion
// minimized to its last digits pins theta to ~5e-7 only, and the fitted values to ~5e-8. Newton's
// method with the convergence check's Hessian finds the zero of the gradient instead: a first
// step with the check's gradient (error O(h^2): theta within ~1e-6), then one with a five-point
// gradient (O(h^4), ~1e-9; 4n evaluations), after which the reference cases' fitted values agree
// with lme4's at its optimum to 1e-8 (tests/lmm/test_lmm_predict.cpp).
// value: the criterion at params.
void newton_polish(DevianceModel& model, bool reml, const lmm_detail::Differences& d, std::vector<double>& params,
                   double value) {
  const Eigen::LLT<Eigen::MatrixXd> hessian(d.hessian);
  if (hessian.info() != Eigen::Success) return;
  if (!newton_step(model, reml, hessian, d.gradient, params, value)) return;
  const auto criterion = [&](const std::vector<double>& x) { return model.criterion_at(x, reml); };
  newton_step(model, reml, hessian, lmm_detail::five_point_gradient(criterion, params, model.lower_bounds()), params,
              value);
}

std::vector<FixedEffect> fixed_effects(const Eigen::VectorXd& beta, const Eigen::MatrixXd& vcov,
                                       const std::vector<std::string>& names, const std::vector<double>& df,
                                       double level) {
  const double alpha = 1 - level / 100;
  std::vector<FixedEffect> fixed;
  for (Eigen::Index i = 0; i < beta.size(); ++i) {
    FixedEffect f;
    f.term = names[std::size_t(i)];
    f.estimate = beta(i);
    f.std_error = std::sqrt(vcov(i, i));
    f.statistic = f.estimate / f.std_error;
    f.df = df.empty() ? NA : df[std::size_t(i)];
    double quantile = NA;
    if (df.empty()) {
      const boost::math::normal normal;
      f.p_value = 2 * boost::math::cdf(boost::math::complement(normal, std::fabs(f.statistic)));
      quantile = boost::math::quantile(boost::math::complement(normal, alpha / 2));
    } else if (std::isfinite(f.df) && f.df > 0) {
      const detail::quiet::StudentT t(f.df);  // df near 0 (a fixed effect aliased with a grouping factor): an infinite CI
      f.p_value = 2 * boost::math::cdf(boost::math::complement(t, std::fabs(f.statistic)));
      quantile = boost::math::quantile(boost::math::complement(t, alpha / 2));
    }
    f.conf_low = f.estimate - quantile * f.std_error;
    f.conf_high = f.estimate + quantile * f.std_error;
    if (!std::isfinite(f.statistic)) f.p_value = NA;
    fixed.push_back(f);
  }
  return fixed;
}

RandomEffectSd random_sd(const ReTerm& term, const Eigen::MatrixXd& T, double sigma) {
  const Eigen::MatrixXd cov = sigma * sigma * T * T.transpose();
  RandomEffectSd r{term.block->group, term.block->terms, {}, {}};
  for (int i = 0; i < term.k; ++i) r.sd.push_back(std::sqrt(cov(i, i)));
  for (int i = 0; i < term.k; ++i) {
    std::vector<double> row;
    for (int j = 0; j < term.k; ++j) row.push_back(i == j ? 1.0 : cov(i, j) / (r.sd[std::size_t(i)] * r.sd[std::size_t(j)]));
    r.cor.push_back(row);
  }
  return r;
}

std::vector<GroupSize> group_sizes(const std::vector<ReTerm>& terms) {
  std::vector<GroupSize> groups;
  for (const auto& t : terms) {
    const bool seen = std::any_of(groups.begin(), groups.end(), [&](const GroupSize& g) { return g.name == t.block->group; });
    if (!seen) groups.push_back({t.block->group, long(t.m)});
  }
  return groups;
}

std::vector<ConditionalMode> conditional_modes(const DevianceModel& model, const Evaluation& e,
                                               const std::vector<double>& params, double sigma) {
  const auto modes = model.conditional_modes(e, params);
  std::vector<ConditionalMode> out;
  for (std::size_t j = 0; j < model.terms().size(); ++j) {
    const ReTerm& t = model.terms()[j];
    for (int c = 0; c < t.k; ++c)
      for (int level = 0; level < t.m; ++level)
        out.push_back({t.block->group, t.block->levels[std::size_t(level)], t.block->terms[std::size_t(c)],
                       modes.estimate[j](level, c), sigma * std::sqrt(modes.variance[j](level, c))});
  }
  return out;
}

// Prior weights w (lmer(weights = )): Y | b ~ N(X beta + Z b, sigma^2 W^-1) (Bates et al.
// 2015, eq. 2) is the unweighted model of W^1/2 y with designs W^1/2 X and W^1/2 Z, so the
// deviance is evaluated on rows scaled by sqrt(w_i) (and every path of DevianceModel serves).
// These are the random blocks with z so scaled.
std::vector<RandomBlock> weighted_blocks(const std::vector<RandomBlock>& blocks, const Eigen::VectorXd& sqrt_w) {
  std::vector<RandomBlock> weighted = blocks;
  for (auto& block : weighted) block.z = sqrt_w.asDiagonal() * block.z;
  return weighted;
}

// beta over every column of X (0 for an aliased one, which lme4 drops) and the conditional
// modes per random block in `blocks`' (formula) order. Reads the factors of the model's last
// evaluation, which must be at params.
std::shared_ptr<LmmPredictor> predictor_of(const DevianceModel& model, const Evaluation& e,
                                           const std::vector<double>& params, const std::vector<int>& kept,
                                           Eigen::Index columns, const std::vector<RandomBlock>& blocks) {
  auto predictor = std::make_shared<LmmPredictor>();
  const Eigen::VectorXd beta = model.beta(e);
  predictor->beta = Eigen::VectorXd::Zero(columns);
  for (std::size_t i = 0; i < kept.size(); ++i) predictor->beta(kept[i]) = beta(Eigen::Index(i));
  DevianceModel::Modes modes = model.conditional_modes(e, params);
  predictor->modes.resize(blocks.size());
  for (std::size_t j = 0; j < model.terms().size(); ++j)
    predictor->modes[std::size_t(model.terms()[j].block - blocks.data())] = std::move(modes.estimate[j]);
  return predictor;
}

}  // namespace

LmmResult fit_lmm(const ModelFrame& frame, const LmmOptions& options, const std::vector<double>& time) {
  check_finite(frame);
  check_random_design(frame);
  LmmResult result;
  detail::check_confidence_level(options.level, result.warnings);
  result.formula = options.formula;
  result.method = options.reml ? "REML" : "ML";
  result.level = options.level;
  result.n_obs = long(frame.y.size());
  result.n_dropped = long(frame.n_dropped);
  if (frame.n_dropped > 0)
    result.warnings.push_back(std::to_string(frame.n_dropped) + " rows with missing values dropped");
  result.warnings.insert(result.warnings.end(), frame.warnings.begin(), frame.warnings.end());

  // An offset enters the linear predictor with coefficient 1: the model of y - offset.
  Eigen::VectorXd y_less_offset;
  if (frame.offset.size() > 0) y_less_offset = frame.y - frame.offset;
  const Eigen::VectorXd& y = frame.offset.size() > 0 ? y_less_offset : frame.y;
  const std::vector<int> kept = checked_estimable_columns(frame.x, y);
  if (kept.size() < std::size_t(frame.x.cols())) {
    const auto dropped = std::size_t(frame.x.cols()) - kept.size();
    result.warnings.push_back("fixed-effect model matrix is rank deficient so dropping " + std::to_string(dropped) +
                              (dropped == 1 ? " column / coefficient" : " columns / coefficients"));
  }
  std::vector<std::string> names;
  for (int j : kept) names.push_back(frame.x_names[std::size_t(j)]);

  const bool weighted = frame.weights.size() > 0;
  const Eigen::VectorXd sqrt_w = weighted ? Eigen::VectorXd(frame.weights.cwiseSqrt()) : Eigen::VectorXd();
  const std::vector<RandomBlock> scaled_blocks = weighted ? weighted_blocks(frame.random, sqrt_w) : std::vector<RandomBlock>{};
  const std::vector<RandomBlock>& blocks = weighted ? scaled_blocks : frame.random;
  std::vector<ReTerm> terms = lmm_detail::lme4_term_order(blocks);
  const bool ar1 = !options.ar1_time.empty();
  if (ar1) {
    if (time.size() != std::size_t(frame.y.size())) throw InputError("--ar1: the time column was not given per row");
    check_ar1_nesting(terms);
    check_ar1_times(terms.front(), time);
  }
  Eigen::MatrixXd weighted_xy;  // [X y] scaled by sqrt(w); without weights the model reads X and y in place
  if (weighted) {
    weighted_xy.resize(frame.x.rows(), Eigen::Index(kept.size()) + 1);
    weighted_xy.leftCols(Eigen::Index(kept.size())) = sqrt_w.asDiagonal() * frame.x(Eigen::all, kept);
    weighted_xy.rightCols(1) = sqrt_w.cwiseProduct(y);
  }
  DevianceModel::Columns xy;
  for (std::size_t j = 0; j <= kept.size(); ++j) {
    const double* column = weighted ? weighted_xy.col(Eigen::Index(j)).data()
                           : j < kept.size() ? frame.x.col(kept[j]).data() : y.data();
    xy.emplace_back(column, frame.x.rows());
  }
  DevianceModel model(std::move(xy), terms, ar1 ? time : std::vector<double>{},
                      weighted ? frame.weights.array().log().sum() : 0.0);
  const CheckedOptimum optimum = minimize_and_check(model, options.reml);
  std::vector<double> params = optimum.optimum.params;
  result.converged = !optimum.optimum.reached_max_eval;
  if (optimum.optimum.reached_max_eval)
    result.warnings.push_back("lmm: the optimizer reached its maximum number of evaluations");

  if (optimum.derivatives) {
    check_convergence(*optimum.derivatives, optimum.optimum.params, result);
    newton_polish(model, options.reml, *optimum.derivatives, params, optimum.optimum.value);
  }
  // Judged where the fit ends: the polish can take a variance from above lme4's tolerance to
  // nearly 0 (a crossed fit's last theta went from over 1e-4 to 1.4e-6, lme4's to 0).
  result.singular = !optimum.derivatives || is_singular(model, params);
  if (result.singular) result.warnings.push_back("boundary (singular) fit: see help('isSingular')");

  const int n = model.n_obs(), p = model.n_fixed();
  Evaluation e = model.evaluate(params);
  if (!e.ok) throw AnalysisError("lmm: the deviance is not finite at the optimum (is the response constant?)");
  result.criterion = model.criterion(e, options.reml);
  result.sigma = std::sqrt(e.r2 / (options.reml ? n - p : n));
  const Eigen::VectorXd beta = model.beta(e);
  result.vcov = result.sigma * result.sigma * model.unscaled_vcov(e);
  if (options.conditional_modes) result.ranef = conditional_modes(model, e, params, result.sigma);
  if (options.keep_predictor) result.predictor = predictor_of(model, e, params, kept, frame.x.cols(), blocks);

  // Satterthwaite df and the type III F tests at the optimum BOBYQA found, as lmerTest at lme4's
  // (before the polish, which moves theta by up to ~1e-5); a singular fit has no other optimum.
  const std::vector<double>& inference_params = optimum.derivatives ? optimum.optimum.params : params;
  std::vector<double> df;
  if (options.df == DfMethod::Residual) df.assign(std::size_t(p), double(n - p));
  if (options.df == DfMethod::Satterthwaite) {
    const lmm_detail::Differences d = lmm_detail::satterthwaite_derivatives(model, options.reml, inference_params);
    df = lmm_detail::satterthwaite_df(d, options.reml ? n - p : n, result.warnings);
  }
  result.fixed = fixed_effects(beta, result.vcov, names, df, options.level);

  result.df_model = long(p + model.n_params() + 1);
  result.logLik = -result.criterion / 2;
  result.AIC = result.criterion + 2.0 * double(result.df_model);
  result.BIC = result.criterion + std::log(double(n)) * double(result.df_model);
  result.groups = group_sizes(terms);
  for (std::size_t j = 0; j < terms.size(); ++j)
    result.random.push_back(random_sd(terms[j], model.lambda_factor(int(j), params), result.sigma));
  result.theta.assign(params.begin(), params.begin() + model.n_theta());
  if (ar1) result.ar1_phi = DevianceModel::ar1_phi(params);
  if (options.anova || !options.confint.empty())
    lmm_detail::add_inference({model, frame, kept, inference_params, params}, options, result);
  return result;
}

std::vector<double> lmm_detail::ar1_times(const Table& table, const std::string& column_name,
                                          const ModelFrame& frame) {
  std::vector<double> time;
  if (column_name.empty()) return time;
  const Column& column = table.numeric(column_name);
  for (std::size_t row : frame.rows) time.push_back(column.numbers[row]);
  return time;
}

namespace {

// fit_lmm of a table; `owned` (the same table, when the caller gives it up) is freed once the
// frame is built unless --ranova refits from it.
LmmResult fit_table(const Table& table, const LmmOptions& options, Table* owned) {
  const Formula formula = parse_formula(options.formula, true);
  FrameOptions frame_options = options.frame;
  if (!options.ar1_time.empty()) frame_options.extra_variables.push_back(options.ar1_time);
  ModelFrame frame = build_model_frame(formula, table, frame_options);
  const std::vector<double> time = lmm_detail::ar1_times(table, options.ar1_time, frame);
  if (owned && !options.ranova) *owned = Table();
  LmmResult result = fit_lmm(frame, options, time);
  if (options.ranova) result.ranova = lmm_detail::ranova(table, formula, frame_options, frame, options, result);
  if (result.predictor) {
    LmmPredictor& predictor = *result.predictor;
    predictor.columns = formula.variables();
    std::vector<std::string> more = frame_options.extra_variables;
    if (!frame_options.weights.empty()) more.push_back(frame_options.weights);
    for (const auto& name : more)
      if (std::find(predictor.columns.begin(), predictor.columns.end(), name) == predictor.columns.end())
        predictor.columns.push_back(name);
    predictor.formula = formula;
    predictor.frame = std::move(frame);
  }
  return result;
}

}  // namespace

LmmResult fit_lmm(const Table& table, const LmmOptions& options) { return fit_table(table, options, nullptr); }

LmmResult fit_lmm(Table&& table, const LmmOptions& options) { return fit_table(table, options, &table); }

}  // namespace spiral
