// lmerTest's ranova() (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw 82(13), section
// 5): for each random-effect term, the likelihood-ratio test of the fit against the model with
// that term reduced, both by the fit's criterion (REML or ML). A term with covariates loses each
// of them that no other of its covariates contains (`(Days | Subject)` -> `(1 | Subject)`), a
// term of an intercept alone is removed; without random terms left the model is a linear model.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <tuple>

#include <boost/math/distributions/chi_squared.hpp>

#include "lmm/inference.hpp"

namespace spiral::lmm_detail {

namespace {

// R's deparse of a random term as lme4's findbars() gives it: its left side as written
// ("1 + Days | Subject", "Days | Subject", "1 | Subject"), or for a part of `(Days || Subject)`
// as lme4's expandDoubleVerts makes it ("0 + Days | Subject").
std::string deparse(const RandomTerm& term) {
  const std::string group = term.deparsed.empty() ? term.group_label() : term.deparsed;
  if (!term.lhs.empty()) return term.lhs + " | " + group;
  std::string effects;
  if (!term.effects.intercept) effects = "0";
  for (const Term& t : term.effects.terms) {
    if (!effects.empty()) effects += " + ";
    effects += t.label();
  }
  if (effects.empty()) effects = "1";
  return effects + " | " + group;
}

bool contains(const Term& outer, const Term& inner) {
  if (outer.variables.size() <= inner.variables.size()) return false;
  for (const auto& v : inner.variables)
    if (std::find(outer.variables.begin(), outer.variables.end(), v) == outer.variables.end()) return false;
  return true;
}

struct Reduction {
  std::string name;
  Formula formula;
};

// R's formula algebra keeps one copy of a repeated term, so a reduction that turns a term into
// one the model already has (`(0 + x | g)` -> `(1 | g)` beside the `(1 | g)` of `(x || g)`)
// leaves that term once in lmerTest's refit (one parameter fewer, not a duplicate variance).
void drop_repeated_terms(Formula& formula) {
  std::vector<RandomTerm> kept;
  for (RandomTerm& term : formula.random) {
    const bool repeated = std::any_of(kept.begin(), kept.end(), [&](const RandomTerm& k) { return deparse(k) == deparse(term); });
    if (!repeated) kept.push_back(std::move(term));
  }
  formula.random = std::move(kept);
}

// lmerTest's get_newforms: the formulas with random term i reduced, each named as lmerTest names it.
std::vector<Reduction> reductions(const Formula& formula, std::size_t i) {
  const RandomTerm& term = formula.random[i];
  std::string form = "(";  // appended: GCC 12's false -Wrestrict on "literal" + string
  form += deparse(term) + ")";
  std::vector<Reduction> out;
  if (term.effects.terms.empty()) {
    Formula reduced = formula;
    reduced.random.erase(reduced.random.begin() + std::ptrdiff_t(i));
    out.push_back({form, std::move(reduced)});
    return out;
  }
  for (const Term& drop : term.effects.terms) {  // drop.scope(): the terms no other term contains
    const auto& all = term.effects.terms;
    if (std::any_of(all.begin(), all.end(), [&](const Term& t) { return contains(t, drop); })) continue;
    Formula reduced = formula;
    reduced.random[i].lhs.clear();  // no longer as written
    TermList& effects = reduced.random[i].effects;
    if (all.size() == 1) effects = TermList{true, {}};  // lmerTest's "1" (even for `0 + x`)
    else effects.terms.erase(std::find(effects.terms.begin(), effects.terms.end(), drop));
    drop_repeated_terms(reduced);
    out.push_back({drop.label() + " in " + form, std::move(reduced)});
  }
  return out;
}

// R's logLik() of lm(formula) on the frame's rows (REML = TRUE as lmerTest asks for a REML fit):
// with N = n - p under REML, (sum log w - N (log(2 pi) + 1 - log N + log(sum w e^2))) / 2, minus
// sum log |diag(R)| of the QR decomposition of X under REML (stats:::logLik.lm).
std::pair<double, long> linear_model_loglik(const ModelFrame& frame, bool reml) {
  const Eigen::Index n = frame.y.size();
  const Eigen::VectorXd w = frame.weights.size() > 0 ? frame.weights : Eigen::VectorXd::Ones(n);
  const Eigen::VectorXd root_w = w.cwiseSqrt();
  const Eigen::VectorXd y = frame.offset.size() > 0 ? Eigen::VectorXd(frame.y - frame.offset) : frame.y;
  const Eigen::MatrixXd x = root_w.asDiagonal() * frame.x;
  Eigen::VectorXd residuals = root_w.cwiseProduct(y);
  Eigen::Index p = 0;
  double log_det_r = 0;
  if (x.cols() > 0) {  // `y ~ 0 + (1 | g)` reduces to a model without coefficients
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(x);
    qr.setThreshold(1e-7);
    p = qr.rank();
    residuals -= x * qr.solve(residuals);
    for (Eigen::Index i = 0; i < p; ++i) log_det_r += std::log(std::fabs(qr.matrixQR()(i, i)));
  }
  const double count = reml ? double(n - p) : double(n);
  double loglik = 0.5 * (w.array().log().sum() -
                         count * (std::log(2 * std::numbers::pi) + 1 - std::log(count) + std::log(residuals.squaredNorm())));
  if (reml) loglik -= log_det_r;
  return {loglik, long(p + 1)};
}

}  // namespace

std::vector<RanovaTerm> ranova(const Table& table, const Formula& formula, const FrameOptions& frame_options,
                               const ModelFrame& frame, const LmmOptions& options, const LmmResult& result) {
  std::vector<RanovaTerm> rows{
      {"<none>", result.df_model, result.logLik, -2 * result.logLik + 2.0 * double(result.df_model), NA, NA, NA}};
  LmmOptions refit = options;
  refit.anova = refit.ranova = false;
  refit.confint.clear();
  refit.df = DfMethod::None;
  refit.conditional_modes = false;
  FrameOptions same_rows = frame_options;  // the rows of the fit, whatever the reduced model uses
  for (const auto& name : formula.variables()) same_rows.extra_variables.push_back(name);
  for (std::size_t i = 0; i < formula.random.size(); ++i)
    for (Reduction& r : reductions(formula, i)) {
      RanovaTerm row{r.name, 0, NA, NA, NA, NA, NA};
      if (r.formula.random.empty()) {
        std::tie(row.logLik, row.npar) = linear_model_loglik(frame, options.reml);
      } else {
        const ModelFrame reduced = build_model_frame(r.formula, table, same_rows);
        if (reduced.y.size() != frame.y.size())
          throw InputError("--ranova: the reduced model '" + r.name + "' uses other rows than the fit");
        const LmmResult fit = fit_lmm(reduced, refit, ar1_times(table, options.ar1_time, reduced));
        row.logLik = fit.logLik;
        row.npar = fit.df_model;
      }
      row.AIC = -2 * row.logLik + 2.0 * double(row.npar);
      row.LRT = 2 * (result.logLik - row.logLik);
      row.df = double(result.df_model - row.npar);
      if (row.df > 0) {
        const boost::math::chi_squared chi2(row.df);
        row.p_value = boost::math::cdf(boost::math::complement(chi2, std::max(0.0, row.LRT)));
      }
      rows.push_back(std::move(row));
    }
  return rows;
}

}  // namespace spiral::lmm_detail
