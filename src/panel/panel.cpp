// fit_panel: the RI-CLPM / CLPM by FIML (specification section 7), with lavaan's numbers:
// observed-information standard errors (lavaan's default for missing = "ml": the Hessian
// of the FIML log-likelihood), the likelihood-ratio test against the saturated model and
// the fit indices against lavaan's independence baseline.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <limits>
#include <system_error>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <fmt/format.h>

#include "common/parallel.hpp"
#include "panel/fiml.hpp"
#include "panel/groups.hpp"
#include "panel/likelihood.hpp"
#include "panel/optimize.hpp"
#include "panel/panel_data.hpp"
#include "panel/parameter_table.hpp"
#include "panel/panel_model.hpp"
#include "spiral/panel.hpp"

namespace spiral {
namespace {

using panel::GroupedModel;
using panel::PanelModel;

// One group's data (all the patients without --group): in the data's units, standardized (by
// the whole sample's centres and scales) and the standardized data's missingness patterns.
struct GroupData {
  std::string label;
  Eigen::MatrixXd y, z;
  std::vector<panel::Pattern> patterns;
};

double upper_chisq(double x, double df) {
  if (!std::isfinite(x) || df <= 0) return NA;
  return boost::math::gamma_q(df / 2, std::max(x, 0.0) / 2);
}

bool positive_definite(const Eigen::MatrixXd& m) {
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(m, Eigen::EigenvaluesOnly).eigenvalues().minCoeff() > 0;
}

void warn_if_not_positive_definite(const PanelModel& model, const Eigen::VectorXd& theta, const panel::WideData& wide,
                                   const std::string& group, Warnings& given) {
  Warnings warnings;
  if (model.random_intercepts() && !positive_definite(model.symmetric(theta, model.phi_offset()))) {
    warnings.push_back("the estimated covariance matrix of the random intercepts is not positive definite");
  }
  if (!positive_definite(model.symmetric(theta, model.psi_offset(0)))) {
    warnings.push_back("the estimated wave-1 within covariance matrix is not positive definite");
  }
  for (int t = 1; t < static_cast<int>(wide.waves.size()); ++t) {
    if (!positive_definite(model.symmetric(theta, model.psi_offset(t)))) {
      warnings.push_back("the estimated residual covariance matrix of wave " + std::to_string(wide.waves[t]) +
                         " is not positive definite");
    }
  }
  if (!positive_definite(model.implied(theta).sigma)) {
    warnings.push_back("the model-implied covariance matrix is not positive definite");
  }
  for (const std::string& w : warnings) given.push_back(group.empty() ? w : fmt::format("group '{}': {}", group, w));
}

double critical_z(double level) { return boost::math::quantile(boost::math::normal(), 1 - (1 - level / 100) / 2); }

// The Wald z-test and confidence interval of an estimate with this sampling variance (from the
// inverse of the observed information, minus the Hessian of logL).
WaldEstimate wald(double estimate, double variance, double z_crit) {
  WaldEstimate w;
  w.estimate = estimate;
  w.std_error = variance > 0 ? std::sqrt(variance) : NA;
  w.statistic = estimate / w.std_error;
  w.p_value = std::erfc(std::fabs(w.statistic) / std::sqrt(2.0));
  w.conf_low = estimate - z_crit * w.std_error;
  w.conf_high = estimate + z_crit * w.std_error;
  return w;
}

std::vector<LaggedEffect> lagged_effects(const PanelModel& model, const Eigen::VectorXd& theta,
                                         const Eigen::MatrixXd& covariance, const panel::WideData& wide,
                                         double level) {
  const double z_crit = critical_z(level);
  std::vector<LaggedEffect> effects;
  const int k = static_cast<int>(wide.vars.size());
  for (int t = 1; t <= model.lag_sets(); ++t) {
    for (int to = 0; to < k; ++to) {
      for (int from = 0; from < k; ++from) {
        const long j = model.b_index(to, from, t);
        const WaldEstimate w = wald(theta(j), covariance(j, j), z_crit);
        LaggedEffect e{wide.vars[std::size_t(from)], wide.vars[std::size_t(to)], std::nullopt, w.estimate, w.std_error,
                       w.statistic, w.p_value, w.conf_low, w.conf_high, {}, {}};
        if (model.free_lagged()) e.wave = wide.waves[std::size_t(t)];
        effects.push_back(e);
      }
    }
  }
  return effects;
}

// lavaan's parameterEstimates() rows and, when asked, standardizedSolution() beside them and in
// the lagged records (per wave pair). A std.all that is 1 by construction has SE 0 and no test.
// group: the group's label (empty without groups); lagged: the group's lagged records.
void add_parameter_table(const PanelModel& model, const Eigen::VectorXd& theta, const Eigen::MatrixXd& covariance,
                         const panel::WideData& wide, bool standardized, const std::string& group,
                         std::vector<LaggedEffect>& lagged, PanelResult& r) {
  const double z_crit = critical_z(r.level);
  const std::vector<panel::TableRow> rows = panel::parameter_rows(model, wide.vars, wide.waves);
  Eigen::VectorXd std_values;
  Eigen::MatrixXd std_covariance;
  if (standardized) {
    std_values = panel::standardized_values(model, rows, theta);
    std_covariance = panel::standardized_covariance(model, rows, theta, covariance);
  }
  const int k = static_cast<int>(wide.vars.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const panel::TableRow& row = rows[i];
    PanelParameter parameter{row.lhs, row.op, row.rhs, wald(theta(row.index), covariance(row.index, row.index), z_crit), {},
                             group};
    if (standardized) {
      const long s = static_cast<long>(i);
      WaldEstimate w = wald(std_values(s), std_covariance(s, s), z_crit);
      if (panel::standardized_constant(row)) w = {std_values(s), 0, NA, NA, std_values(s), std_values(s)};
      parameter.standardized = w;
      if (row.kind == panel::TableRow::Kind::Lagged) {
        const std::size_t set = model.free_lagged() ? std::size_t(row.wave - 1) : 0;
        lagged[set * std::size_t(k * k) + std::size_t(row.a * k + row.b)].standardized.push_back(
            {wide.waves[std::size_t(row.wave)], w});
      }
    }
    r.parameters.push_back(std::move(parameter));
  }
}

RandomIntercepts random_intercepts(const PanelModel& model, const Eigen::VectorXd& theta,
                                   const std::vector<std::string>& vars) {
  const Eigen::MatrixXd phi = model.symmetric(theta, model.phi_offset());
  RandomIntercepts ri;
  ri.vars = vars;
  for (long a = 0; a < phi.rows(); ++a) {
    ri.var.push_back(phi(a, a));
    std::vector<double> row;
    for (long b = 0; b < phi.cols(); ++b) {
      const double scale = phi(a, a) * phi(b, b);
      row.push_back(a == b ? 1.0 : scale > 0 ? phi(a, b) / std::sqrt(scale) : NA);
    }
    ri.cor.push_back(row);
  }
  return ri;
}

// Chi-square against the saturated model, CFI and TLI against the independence model
// (Bentler 1990; Tucker & Lewis 1973) and RMSEA (Steiger 1990), as lavaan's fitMeasures().
// The standardized root mean square residual as lavaan's fitMeasures() "srmr" with a mean
// structure (Bentler's; lavaan's lav_fit_srmr): the h1 (EM) moments as the sample moments,
// residuals of covariances divided by sqrt(s_ii s_jj) and of means by sqrt(s_ii),
// SRMR = sqrt((sum over i <= j of the squared covariance residuals + sum of the squared mean
// residuals) / (p (p + 1) / 2 + p)).
double standardized_rmr(const panel::Saturated& h1, const PanelModel::Moments& implied) {
  const long p = h1.mu.size();
  const Eigen::VectorXd sd = h1.sigma.diagonal().cwiseSqrt();
  double sum = 0;
  for (long i = 0; i < p; ++i) {
    sum += std::pow((h1.mu(i) - implied.mu(i)) / sd(i), 2);
    for (long j = 0; j <= i; ++j) sum += std::pow((h1.sigma(i, j) - implied.sigma(i, j)) / (sd(i) * sd(j)), 2);
  }
  return std::sqrt(sum / static_cast<double>(p * (p + 1) / 2 + p));
}

// With G groups (lavaan's multiple-group fit measures): the chi-squares are the sums over the
// groups, the moments G times one group's, RMSEA multiplied by sqrt(G) (lavaan's lav_fit_rmsea)
// and SRMR the groups' weighted by n_g / N.
void fit_measures(const std::vector<panel::Saturated>& h1, const std::vector<GroupData>& data, PanelResult& r) {
  const long p = data[0].y.cols();
  const auto groups = static_cast<long>(data.size());
  double n = 0, h1_loglik = 0, independence = 0;
  for (std::size_t g = 0; g < data.size(); ++g) {
    n += static_cast<double>(data[g].y.rows());
    h1_loglik += h1[g].loglik;
    independence += panel::independence_loglik(data[g].y);
    if (!h1[g].converged)
      r.warnings.push_back("the EM algorithm for the saturated model did not converge" +
                           (data[g].label.empty() ? std::string() : fmt::format(" in group '{}'", data[g].label)));
  }
  const long moments = groups * (p * (p + 1) / 2 + p);
  r.chisq = 2 * (h1_loglik - r.logLik);
  r.chisq_df = moments - r.n_parameters;
  r.chisq_p = upper_chisq(r.chisq, static_cast<double>(r.chisq_df));
  const double baseline = 2 * (h1_loglik - independence);
  const double baseline_df = static_cast<double>(moments - groups * 2 * p);
  const double df = static_cast<double>(r.chisq_df);
  if (r.chisq_df <= 0) {
    r.CFI = r.TLI = 1;
    r.RMSEA = 0;
    return;
  }
  const double excess = std::max(r.chisq - df, 0.0);
  const double baseline_excess = std::max({r.chisq - df, baseline - baseline_df, 0.0});
  r.CFI = baseline_excess == 0 ? 1 : 1 - excess / baseline_excess;
  const double tli_num = baseline / baseline_df - r.chisq / df, tli_den = baseline / baseline_df - 1;
  r.TLI = tli_num < 0 && tli_den < 0 ? 1 : tli_num / tli_den;
  r.RMSEA = std::sqrt(std::max(r.chisq / n / df - 1 / n, 0.0)) * std::sqrt(static_cast<double>(groups));
}

// Whether a fit ended at a stationary point: by the gradient, or (on near-singular data, where
// a few parameters are tiny) by a Newton step that could gain no more than rounding
// (minimize's `converged`).
bool stationary(const panel::Minimum& fit) {
  return std::isfinite(fit.value) && fit.gradient.size() > 0 &&
         (fit.converged || fit.gradient.cwiseAbs().maxCoeff() < 1e-4);
}

// The fit from several starting values, on standardized data. The RI-CLPM's likelihood can have
// several local maxima and ridges on which the random-intercept and wave-1 variances run off to
// +-infinity while an autoregression tends to 1 (plm's LaborSupply lnhr, lnwg, kids 1979-84:
// a maximum at logLik -1820.2 from half the variance in the within parts, the better one at
// -1728.9 from little of it, a ridge towards -1763.4 from the pairwise moments), so one start
// that converges proves nothing. The starts, in order: the rough fit to the pairwise moments
// (starting_values), then the simple values (PanelModel::start) with half of each variance in
// the within parts, with a fifth of it there and a strong autoregression, with little (5%) and
// most (95%) of it there. They are tried until the best stationary point has been reached from
// two of them (on well-behaved data the first two agree, at twice the cost of one); the result
// is the best (lowest -logL / N) stationary point of those tried. Never an empty reason.
// With groups, each start is every group's (a shared lagged effect: their weighted mean).
panel::Minimum fit_from_starts(const GroupedModel& grouped, const std::vector<GroupData>& data) {
  const PanelModel& model = grouped.model();
  std::vector<panel::Objective> objectives;
  std::vector<panel::ExactBlock> exact;
  for (const GroupData& group : data) {
    const double n = static_cast<double>(group.z.rows());
    objectives.push_back(panel::likelihood_objective(model, group.patterns, n));
    exact.push_back(panel::closed_form_hessian(model, group.patterns, n));
  }
  const panel::Objective objective = grouped.objective(std::move(objectives));
  const panel::ExactBlock closed_form = grouped.exact(std::move(exact));
  using Recipe = std::function<Eigen::VectorXd(const Eigen::MatrixXd&)>;
  std::vector<Recipe> recipes{[&](const Eigen::MatrixXd& y) { return panel::starting_values(model, y); }};
  const auto simple = [&](double within_share, double autoregression) -> Recipe {
    return [&model, within_share, autoregression](const Eigen::MatrixXd& y) {
      return model.start(y, within_share, autoregression);
    };
  };
  if (model.random_intercepts()) {
    recipes.push_back(simple(0.5, 0));
    recipes.push_back(simple(0.2, 0.9));
    for (double within_share : {0.05, 0.95}) recipes.push_back(simple(within_share, 0));
  } else {
    recipes.push_back(simple(1, 0));
    recipes.push_back(simple(1, 0.6));
  }
  std::vector<Eigen::VectorXd> starts;
  for (const Recipe& recipe : recipes) {
    std::vector<Eigen::VectorXd> per_group;
    for (const GroupData& group : data) per_group.push_back(recipe(group.z));
    starts.push_back(grouped.combine(per_group));
  }
  const auto curvature = [&](const Eigen::VectorXd& start) {
    std::vector<Eigen::MatrixXd> per_group;
    for (int g = 0; g < grouped.groups(); ++g) per_group.push_back(model.complete_data_information(grouped.local(start, g)));
    return grouped.add_matrices(per_group);
  };
  panel::Minimum best;
  best.value = std::numeric_limits<double>::infinity();
  int reached_best = 0;  // how many starts ended at the best stationary point
  for (const Eigen::VectorXd& start : starts) {
    panel::Minimum fit = panel::minimize(objective, start, 1e-9, curvature(start), closed_form);
    if (stationary(fit) && stationary(best) && std::fabs(fit.value - best.value) <= 1e-9 * (1 + std::fabs(best.value))) {
      if (++reached_best == 2) break;
      continue;
    }
    const bool better = stationary(fit) && (!stationary(best) || fit.value < best.value);
    if (better || (!stationary(best) && !(fit.value >= best.value))) {
      reached_best = stationary(fit) ? 1 : 0;
      best = std::move(fit);
    }
  }
  if (!stationary(best)) {
    std::string reason = best.message;
    if (reason.empty())
      reason = best.gradient.size() > 0 && best.gradient.allFinite()
                   ? fmt::format("the gradient did not vanish (largest element {:.3g})", best.gradient.cwiseAbs().maxCoeff())
                   : "no starting value gave a finite likelihood";
    throw AnalysisError("panel: the optimizer failed: " + reason + " (" + std::to_string(starts.size()) +
                        " starting values tried)");
  }
  return best;
}

// Two fits of the same data have the same saturated model, whose log-likelihood each fit
// gives as logLik + chisq / 2: a saved fit of other values (another window of the same length,
// rescaled or edited data) differs there, where the LRT would compare unrelated models.
void require_same_saturated_model(const Json& saved, const PanelResult& r, const std::string& path) {
  if (!saved.contains("chisq") || !saved["chisq"].is_number() || !std::isfinite(r.chisq)) return;
  const double other = saved["logLik"].get<double>() + saved["chisq"].get<double>() / 2;
  const double here = r.logLik + r.chisq / 2;
  if (std::fabs(other - here) > 1e-6 * std::max(1.0, std::fabs(here)))
    throw InputError("panel: --compare: '" + path + "' is a fit of other data: its saturated model's logLik is " +
                     fmt::format("{:.6f}", other) + ", this data's " + fmt::format("{:.6f}", here));
}

// The saved fit's logLik and npar, checked to be a fit of the same patients and variables.
PanelComparison compare_with_saved(const std::string& path, const PanelResult& r) {
  std::ifstream in(path);
  if (!in) throw InputError("panel: --compare: cannot read '" + path + "'");
  Json saved;
  try {
    saved = Json::parse(in);
  } catch (const std::exception&) {
    throw InputError("panel: --compare: '" + path + "' is not JSON (a `spiral panel --format json` result)");
  }
  for (const char* key : {"logLik", "n_parameters", "n_patients"})
    if (!saved.contains(key) || !saved[key].is_number())
      throw InputError("panel: --compare: '" + path + "' has no number \"" + key + "\" (not a spiral panel fit)");
  // The same variables (the lagged records' names) and as many waves; a window of the same
  // length elsewhere in time cannot be told apart from the saved JSON.
  std::vector<std::string> saved_vars;
  for (const auto& record : saved.value("lagged", Json::array()))
    if (record.contains("from") && std::find(saved_vars.begin(), saved_vars.end(), record["from"]) == saved_vars.end())
      saved_vars.push_back(record["from"].get<std::string>());
  std::vector<std::string> vars = r.vars, sorted_saved = saved_vars;
  std::sort(vars.begin(), vars.end());
  std::sort(sorted_saved.begin(), sorted_saved.end());
  if (sorted_saved != vars)
    throw InputError("panel: --compare: '" + path + "' is a fit of the variables " + Json(saved_vars).dump() +
                     ", this one of " + Json(r.vars).dump() + ": not the same data");
  if (!saved.contains("n_waves") || saved["n_waves"] != r.n_waves)
    throw InputError("panel: --compare: '" + path + "' is a fit of " + saved.value("n_waves", Json()).dump() +
                     " waves, this one of " + std::to_string(r.n_waves) + ": not the same data");
  PanelComparison c;
  c.file = path;
  c.other_logLik = saved["logLik"].get<double>();
  c.other_n_parameters = saved["n_parameters"].get<long>();
  if (saved["n_patients"].get<long>() != r.n_patients)
    throw InputError("panel: --compare: '" + path + "' is a fit of " + std::to_string(saved["n_patients"].get<long>()) +
                     " patients, this one of " + std::to_string(r.n_patients) + ": not the same data");
  require_same_saturated_model(saved, r, path);
  c.chisq_df = std::labs(r.n_parameters - c.other_n_parameters);
  if (c.chisq_df == 0)
    throw InputError("panel: --compare: '" + path + "' has as many parameters as this fit: the models are not nested");
  const bool this_larger = r.n_parameters > c.other_n_parameters;
  c.chisq = 2 * (this_larger ? r.logLik - c.other_logLik : c.other_logLik - r.logLik);
  c.p_value = upper_chisq(c.chisq, static_cast<double>(c.chisq_df));
  return c;
}

// The groups' data (one group without --group), standardized by the whole sample's moments.
std::vector<GroupData> group_data(const panel::WideData& wide, const panel::Standardized& z) {
  std::vector<GroupData> data;
  const int groups = std::max<int>(1, static_cast<int>(wide.groups.size()));
  for (int g = 0; g < groups; ++g) {
    const std::vector<long> rows = wide.rows_of(g);
    GroupData group{wide.groups.empty() ? std::string() : wide.groups[std::size_t(g)], wide.y(rows, Eigen::all),
                    z.y(rows, Eigen::all), {}};
    group.patterns = panel::missing_patterns(group.z);
    data.push_back(std::move(group));
  }
  return data;
}

// The inverse observed information, or under --se robust lavaan's MLR sandwich H^-1 B H^-1 with
// B the cross-product of the casewise scores (Huber 1967; White 1982; lavaan's "first.order"
// meat), on the standardized scale; nullopt when the information is not positive definite.
std::optional<Eigen::MatrixXd> parameter_covariance(const GroupedModel& grouped, const std::vector<GroupData>& data,
                                                    const panel::Minimum& fit, double n, bool robust) {
  const Eigen::MatrixXd information = fit.hessian * n;
  const Eigen::LLT<Eigen::MatrixXd> llt(information);
  if (llt.info() != Eigen::Success) return std::nullopt;
  Eigen::MatrixXd inverse = llt.solve(Eigen::MatrixXd::Identity(information.rows(), information.cols()));
  if (robust) {
    Eigen::MatrixXd scores = Eigen::MatrixXd::Zero(static_cast<long>(n), grouped.n_parameters());
    long row = 0;
    for (int g = 0; g < grouped.groups(); ++g) {
      const Eigen::MatrixXd local = panel::casewise_scores(grouped.model(), data[std::size_t(g)].z, grouped.local(fit.x, g));
      for (long i = 0; i < local.rows(); ++i, ++row) scores(row, grouped.index(g)) = local.row(i);
    }
    inverse = inverse * (scores.transpose() * scores) * inverse;
  }
  return inverse;
}

}  // namespace

PanelResult fit_panel(const Table& table, const PanelOptions& options) {
  panel::WideData wide = panel::wide_from_long(table, options);
  const int k = static_cast<int>(wide.vars.size());
  // Fitted on standardized variables (see panel::standardize) and carried back to the data's
  // units exactly: theta = center + D theta* (D diagonal), Cov = D Cov* D, logL = logL* - log|J|.
  const panel::Standardized z = panel::standardize(wide.y, k);
  const std::vector<GroupData> data = group_data(wide, z);
  if (options.se != "standard" && options.se != "robust")
    throw InputError("panel: --se must be standard or robust, not '" + options.se + "'");
  if (options.lagged != "equal" && options.lagged != "free")
    throw InputError("panel: --lagged must be equal or free, not '" + options.lagged + "'");
  const PanelModel model(k, static_cast<int>(wide.waves.size()), options.model == "riclpm", options.lagged == "free");
  const double n = static_cast<double>(wide.y.rows());
  std::vector<double> weights;
  for (const GroupData& group : data) weights.push_back(static_cast<double>(group.y.rows()) / n);
  const GroupedModel grouped(model, weights, options.equal_groups == "lagged");
  // The saturated model (for the fit measures) does not depend on the fit: its EM runs on
  // another core meanwhile, unless this fit is itself one of a parallel loop's tasks.
  // The saturated model in the data's units, where lavaan's EM stopping rule applies.
  const auto saturated = [&] {
    std::vector<panel::Saturated> h1;
    for (const GroupData& group : data) h1.push_back(panel::saturated_fiml(panel::missing_patterns(group.y), group.y));
    return h1;
  };
  std::future<std::vector<panel::Saturated>> h1;
  if (options.fit_measures) {
    try {
      h1 = std::async(detail::in_parallel_region() ? std::launch::deferred : std::launch::async, saturated);
    } catch (const std::system_error&) {  // no thread to be had: computed when needed
      h1 = std::async(std::launch::deferred, saturated);
    }
  }

  const panel::Minimum fit = fit_from_starts(grouped, data);
  const Eigen::VectorXd factor = grouped.spread(model.parameter_scales(z.scale));
  Eigen::VectorXd theta = factor.cwiseProduct(fit.x);
  for (int g = 0; g < grouped.groups(); ++g)
    for (long j = 0; j < model.n_means(); ++j) theta(grouped.index(g)[std::size_t(j)]) += z.center(j % k);

  PanelResult r;
  r.model = options.model;
  r.vars = wide.vars;
  r.waves = wide.waves;
  r.n_patients = static_cast<long>(wide.y.rows());
  r.n_waves = static_cast<long>(wide.waves.size());
  r.n_dropped = wide.n_dropped;
  r.level = options.level;
  r.se = options.se;
  if (!wide.groups.empty()) r.equal_groups = options.equal_groups;
  r.warnings = std::move(wide.warnings);
  r.converged = fit.converged;
  if (!fit.converged) r.warnings.push_back("the optimizer did not converge: " + fit.message);
  r.n_parameters = grouped.n_parameters();
  r.logLik = -fit.value * n - z.log_jacobian;
  r.AIC = -2 * r.logLik + 2 * static_cast<double>(r.n_parameters);
  r.BIC = -2 * r.logLik + static_cast<double>(r.n_parameters) * std::log(n);

  Eigen::MatrixXd covariance = Eigen::MatrixXd::Constant(grouped.n_parameters(), grouped.n_parameters(), NA);
  if (const auto standardized = parameter_covariance(grouped, data, fit, n, options.se == "robust"))
    covariance = factor.asDiagonal() * *standardized * factor.asDiagonal();
  else
    r.warnings.push_back("the observed information matrix is not positive definite; no standard errors");
  for (int g = 0; g < grouped.groups(); ++g) {
    const GroupData& group = data[std::size_t(g)];
    const Eigen::VectorXd theta_g = grouped.local(theta, g);
    const Eigen::MatrixXd covariance_g = grouped.local(covariance, g);
    PanelGroup result{group.label, group.y.rows(), lagged_effects(model, theta_g, covariance_g, wide, options.level), {}};
    add_parameter_table(model, theta_g, covariance_g, wide, options.standardized, group.label, result.lagged, r);
    if (model.random_intercepts()) result.random_intercepts = random_intercepts(model, theta_g, wide.vars);
    warn_if_not_positive_definite(model, theta_g, wide, group.label, r.warnings);
    r.groups.push_back(std::move(result));
  }
  std::vector<long> lagged_positions;  // of r.lagged's records in the grouped vector
  for (int g = 0; g < (options.equal_groups == "lagged" ? 1 : grouped.groups()); ++g)
    for (int t = 1; t <= model.lag_sets(); ++t)
      for (int to = 0; to < k; ++to)
        for (int from = 0; from < k; ++from) lagged_positions.push_back(grouped.index(g)[std::size_t(model.b_index(to, from, t))]);
  r.lagged_vcov = covariance(lagged_positions, lagged_positions);
  if (wide.groups.empty()) {
    r.lagged = std::move(r.groups.front().lagged);
    r.random_intercepts = std::move(r.groups.front().random_intercepts);
    r.groups.clear();
  } else if (options.equal_groups == "lagged") {
    r.lagged = r.groups.front().lagged;
    for (LaggedEffect& e : r.lagged) e.standardized.clear();  // each group's std.all is its own
  } else {
    for (const PanelGroup& group : r.groups)
      for (LaggedEffect e : group.lagged) {
        e.group = group.group;
        r.lagged.push_back(std::move(e));
      }
  }
  if (options.fit_measures) {
    const std::vector<panel::Saturated> saturated_fit = h1.get();
    fit_measures(saturated_fit, data, r);
    r.SRMR = 0;
    for (int g = 0; g < grouped.groups(); ++g)
      r.SRMR += grouped.weight(g) * standardized_rmr(saturated_fit[std::size_t(g)], model.implied(grouped.local(theta, g)));
  }
  if (!options.compare.empty()) {
    r.test = compare_with_saved(options.compare, r);
    if (r.test->chisq < 0)
      r.warnings.push_back("--compare: the model with more parameters has the lower logLik (chi-square " +
                           fmt::format("{:.4f}", r.test->chisq) + "): the models are not nested, or one fit stopped early");
  }
  return r;
}

std::vector<std::string> lagged_terms(const PanelResult& result) {
  std::vector<std::string> terms;
  for (const LaggedEffect& e : result.lagged) {
    std::string term = e.group;
    if (!term.empty()) term += ":";
    term += e.from;
    term += "->";
    term += e.to;
    if (e.wave) term += fmt::format("@{}", *e.wave);
    terms.push_back(std::move(term));
  }
  return terms;
}

const LaggedEffect& lagged_effect(const PanelResult& result, const std::string& from, const std::string& to) {
  for (const LaggedEffect& e : result.lagged) {
    if (e.from == from && e.to == to) return e;
  }
  throw InputError("panel: no lagged effect of '" + from + "' on '" + to + "'");
}

namespace {

void add_wald(Json& j, const WaldEstimate& w) {
  j["estimate"] = json_number(w.estimate);
  j["std_error"] = json_number(w.std_error);
  j["statistic"] = json_number(w.statistic);
  j["p_value"] = json_number(w.p_value);
  j["conf_low"] = json_number(w.conf_low);
  j["conf_high"] = json_number(w.conf_high);
}

Json lagged_json(const std::vector<LaggedEffect>& lagged) {
  Json records = Json::array();
  for (const LaggedEffect& e : lagged) {
    Json record = {{"from", e.from}, {"to", e.to}};
    if (!e.group.empty()) record["group"] = e.group;
    if (e.wave) record["wave"] = *e.wave;
    add_wald(record, {e.estimate, e.std_error, e.statistic, e.p_value, e.conf_low, e.conf_high});
    if (!e.standardized.empty()) {
      record["standardized"] = Json::array();
      for (const StandardizedLag& s : e.standardized) {
        Json at = {{"wave", s.wave}};
        add_wald(at, s.value);
        record["standardized"].push_back(at);
      }
    }
    records.push_back(record);
  }
  return records;
}

Json random_intercepts_json(const std::optional<RandomIntercepts>& ri) {
  if (!ri) return nullptr;
  Json j;
  j["vars"] = ri->vars;
  j["var"] = Json::array();
  for (double v : ri->var) j["var"].push_back(json_number(v));
  j["cor"] = Json::array();
  for (const auto& row : ri->cor) {
    Json cells = Json::array();
    for (double c : row) cells.push_back(json_number(c));
    j["cor"].push_back(cells);
  }
  return j;
}

}  // namespace

Json to_json(const PanelResult& r) {
  Json j;
  j["model"] = r.model;
  j["n_patients"] = r.n_patients;
  j["n_waves"] = r.n_waves;
  j["n_dropped"] = r.n_dropped;
  j["converged"] = r.converged;
  j["logLik"] = json_number(r.logLik);
  j["AIC"] = json_number(r.AIC);
  j["BIC"] = json_number(r.BIC);
  j["n_parameters"] = r.n_parameters;
  j["chisq"] = json_number(r.chisq);
  j["chisq_df"] = r.chisq_df;
  j["chisq_p"] = json_number(r.chisq_p);
  j["CFI"] = json_number(r.CFI);
  j["TLI"] = json_number(r.TLI);
  j["RMSEA"] = json_number(r.RMSEA);
  j["SRMR"] = json_number(r.SRMR);
  j["lagged"] = lagged_json(r.lagged);
  j["random_intercepts"] = random_intercepts_json(r.random_intercepts);
  if (!r.groups.empty()) {
    j["equal_groups"] = r.equal_groups;
    j["groups"] = Json::array();
    for (const PanelGroup& g : r.groups)
      j["groups"].push_back({{"group", g.group},
                             {"n_patients", g.n_patients},
                             {"lagged", lagged_json(g.lagged)},
                             {"random_intercepts", random_intercepts_json(g.random_intercepts)}});
  }
  j["parameters"] = Json::array();
  for (const PanelParameter& p : r.parameters) {
    Json row = {{"lhs", p.lhs}, {"op", p.op}, {"rhs", p.rhs}};
    if (!p.group.empty()) row["group"] = p.group;
    add_wald(row, p.value);
    if (p.standardized) {
      Json standardized;
      add_wald(standardized, *p.standardized);
      row["standardized"] = standardized;
    }
    j["parameters"].push_back(row);
  }
  if (r.test) {
    j["test"] = {{"file", r.test->file}, {"other_logLik", json_number(r.test->other_logLik)},
                 {"other_n_parameters", r.test->other_n_parameters}, {"chisq", json_number(r.test->chisq)},
                 {"chisq_df", r.test->chisq_df}, {"p_value", json_number(r.test->p_value)}};
  }
  j["warnings"] = r.warnings;
  return j;
}

namespace {

std::string fixed3(double x) { return std::isfinite(x) ? fmt::format("{:.3f}", x) : "NA"; }

std::string random_intercepts_text(const std::optional<RandomIntercepts>& ri, const std::string& which) {
  if (!ri) return "";
  std::string out = fmt::format("\nRandom intercepts{}:\n", which);
  out += fmt::format("{:<20}{:>10}", "", "Variance");
  for (const auto& v : ri->vars) out += fmt::format(" {:>10}", v.substr(0, 10));
  out += "\n";
  for (std::size_t a = 0; a < ri->vars.size(); ++a) {
    out += fmt::format("  {:<18}{:>10}", ri->vars[a], fixed3(ri->var[a]));
    for (double c : ri->cor[a]) out += fmt::format(" {:>10}", fixed3(c));
    out += "\n";
  }
  return out;
}

}  // namespace

std::string to_text(const PanelResult& r) {
  std::string out = fmt::format("{} fitted by full-information maximum likelihood\n\n",
                                r.model == "riclpm" ? "Random-intercept cross-lagged panel model (RI-CLPM)"
                                                    : "Cross-lagged panel model (CLPM)");
  out += fmt::format("  Number of patients {:>28}\n", r.n_patients);
  out += fmt::format("  Patients dropped (no observed value) {:>10}\n", r.n_dropped);
  out += fmt::format("  Waves {:>41}\n", r.waves.empty() ? std::string("")
                                                          : fmt::format("{} ({}..{})", r.n_waves, r.waves.front(),
                                                                        r.waves.back()));
  out += fmt::format("  Number of model parameters {:>20}\n", r.n_parameters);
  out += fmt::format("  Optimizer converged {:>27}\n", r.converged ? "yes" : "NO");
  out += fmt::format("  Standard errors {:>31}\n", r.se == "robust" ? "robust (MLR sandwich)" : "observed information");
  for (const PanelGroup& g : r.groups) out += fmt::format("  Patients in group {:<18}{:>10}\n", g.group, g.n_patients);
  if (!r.groups.empty())
    out += fmt::format("  Lagged effects across groups {:>18}\n", r.equal_groups == "lagged" ? "equal" : "free");
  out += "\n";
  out += fmt::format("  Loglikelihood {:>33}\n", fixed3(r.logLik));
  out += fmt::format("  AIC {:>43}\n  BIC {:>43}\n\n", fixed3(r.AIC), fixed3(r.BIC));
  out += "Model Test User Model:\n";
  out += fmt::format("  Test statistic {:>32}\n  Degrees of freedom {:>28}\n  P-value (Chi-square) {:>26}\n\n",
                     fixed3(r.chisq), r.chisq_df, fixed3(r.chisq_p));
  out += fmt::format("  CFI {:>43}\n  TLI {:>43}\n  RMSEA {:>41}\n  SRMR {:>42}\n\n", fixed3(r.CFI), fixed3(r.TLI),
                     fixed3(r.RMSEA), fixed3(r.SRMR));
  out += "Lagged effects (within parts, wave t-1 -> wave t):\n";
  out += fmt::format("{:<20}{:>10}{:>9}{:>9}{:>9}{:>9}{:>9}\n", "", "Estimate", "Std.Err", "z-value", "P(>|z|)",
                     "ci.lower", "ci.upper");
  std::string current;
  for (const LaggedEffect& e : r.lagged) {
    std::string heading = e.wave ? fmt::format("{} (wave {})", e.to, *e.wave) : e.to;
    if (!e.group.empty()) heading = fmt::format("[{}] {}", e.group, heading);
    if (heading != current) {
      out += fmt::format("  {} ~\n", heading);
      current = heading;
    }
    out += fmt::format("    {:<16}{:>10}{:>9}{:>9}{:>9}{:>9}{:>9}\n", e.from + (e.from == e.to ? " (AR)" : ""),
                       fixed3(e.estimate), fixed3(e.std_error), fixed3(e.statistic), fixed3(e.p_value),
                       fixed3(e.conf_low), fixed3(e.conf_high));
  }
  out += fmt::format("  ({}% confidence intervals)\n", r.level);
  if (!r.lagged.empty() && !r.lagged.front().standardized.empty() && !r.lagged.front().wave) {
    out += "\nStandardized lagged effects (std.all) by wave:\n";
    out += fmt::format("{:<20}", "");
    for (const StandardizedLag& s : r.lagged.front().standardized) out += fmt::format("{:>9}", s.wave);
    out += "\n";
    for (const LaggedEffect& e : r.lagged) {
      out += fmt::format("  {:<18}", e.from.substr(0, 8) + " -> " + e.to.substr(0, 8));
      for (const StandardizedLag& s : e.standardized) out += fmt::format("{:>9}", fixed3(s.value.estimate));
      out += "\n";
    }
  }
  if (r.test) {
    out += fmt::format("\nLikelihood-ratio test against {} (logLik {}, {} parameters):\n", r.test->file,
                       fixed3(r.test->other_logLik), r.test->other_n_parameters);
    out += fmt::format("  Chisq diff {:>12}   Df diff {:>4}   Pr(>Chisq) {}\n", fixed3(r.test->chisq), r.test->chisq_df,
                       fixed3(r.test->p_value));
  }
  out += random_intercepts_text(r.random_intercepts, "");
  for (const PanelGroup& g : r.groups) out += random_intercepts_text(g.random_intercepts, fmt::format(" (group {})", g.group));
  return out;
}

}  // namespace spiral
