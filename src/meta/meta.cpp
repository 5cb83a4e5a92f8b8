// fit_meta: the studies and options of `spiral meta` -> rma.uni fit plus the diagnostics asked for.
#include <optional>

#include "meta/meta_internal.hpp"
#include "spiral/formula.hpp"

namespace spiral {

namespace {

using namespace meta_detail;

// The design of a meta-regression: the model matrix of the moderator formula over the
// studies' moderator table (treatment contrasts for factors, as R's model.matrix()).
Design moderator_design(const MetaInput& input, const std::string& mods, std::vector<std::size_t>& rows,
                        std::size_t& n_dropped) {
  if (input.moderators.rows() != input.yi.size())
    throw InputError("--mods: the moderator table has " + std::to_string(input.moderators.rows()) + " rows for " +
                     std::to_string(input.yi.size()) + " studies");
  const Formula formula = parse_formula(moderator_formula(mods));
  if (!formula.response.empty()) throw InputError("--mods: expected a one-sided formula such as \"x1 + x2\"");
  if (!formula.random.empty()) throw InputError("--mods: random-effects terms are not allowed");
  const ModelFrame frame = build_model_frame(formula, input.moderators);
  Design d;
  const auto k = static_cast<Eigen::Index>(frame.rows.size());
  d.y.resize(k);
  d.v.resize(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    d.y[i] = input.yi[frame.rows[static_cast<std::size_t>(i)]];
    d.v[i] = input.vi[frame.rows[static_cast<std::size_t>(i)]];
  }
  d.x = frame.x;
  d.names = frame.x_names;
  d.intercept = !d.names.empty() && d.names.front() == "(Intercept)";
  if (d.intercept) d.names.front() = "intrcpt";
  for (Eigen::Index j = d.intercept ? 1 : 0; j < d.x.cols(); ++j) {
    const auto column = d.x.col(j);
    if (k > 0 && (column.array() == column[0]).all())
      throw InputError("--mods: moderator '" + d.names[static_cast<std::size_t>(j)] + "' is constant across the studies");
  }
  rows = frame.rows;
  n_dropped = frame.n_dropped;
  return d;
}

// A diagnostic that cannot be computed (too few studies, no slope on the SEs) is a warning
// and null in its place: the main fit is never lost (specification section 4.1).
template <class Compute>
auto diagnostic_or_warning(const std::string& option, Warnings& warnings, Compute compute)
    -> std::optional<decltype(compute())> {
  try {
    return compute();
  } catch (const AnalysisError& e) {
    const std::string message = e.what();
    warnings.push_back(message.rfind(option, 0) == 0 ? message : option + ": " + message);
  } catch (const InputError& e) {  // e.g. a design with more coefficients than studies
    warnings.push_back(option + ": " + e.what());
  }
  return std::nullopt;
}

// --transf: the pooled estimate, its CI and the PI on the back-transformed scale.
void back_transform(const std::string& transf, MetaResult& r) {
  apply_transf(transf, 0);  // an unknown name is an input error even for a meta-regression
  r.transf = transf;
  if (r.has_mods) return;
  r.transf_estimate = apply_transf(transf, r.estimate);
  r.transf_conf_low = apply_transf(transf, r.conf_low);
  r.transf_conf_high = apply_transf(transf, r.conf_high);
  r.transf_pi_low = apply_transf(transf, r.pi_low);
  r.transf_pi_high = apply_transf(transf, r.pi_high);
}

}  // namespace

MetaResult fit_meta(const MetaInput& input, const MetaOptions& options) {
  if (input.yi.size() != input.vi.size()) throw InputError("meta: yi and vi have different lengths");
  if (!input.slab.empty() && input.slab.size() != input.yi.size())
    throw InputError("meta: slab and yi have different lengths");

  std::vector<std::size_t> rows;
  std::size_t frame_dropped = 0;
  Design design;
  if (options.mods.empty()) {
    design = intercept_design(input.yi, input.vi);
    for (std::size_t i = 0; i < input.yi.size(); ++i) rows.push_back(i);
  } else {
    design = moderator_design(input, options.mods, rows, frame_dropped);
  }
  const FitSettings settings{options.method, options.test, options.level, options.tau2_ci, true};
  MetaResult r = fit_design(design, settings);

  r.measure = input.measure;
  r.n_dropped = input.n_dropped + frame_dropped;
  for (std::size_t row : rows) r.slab.push_back(input.slab.empty() ? "Study " + std::to_string(row + 1) : input.slab[row]);
  Warnings warnings = input.warnings;
  if (frame_dropped > 0) warnings.push_back(std::to_string(frame_dropped) + " study(ies) with missing moderators dropped");
  warnings.insert(warnings.end(), r.warnings.begin(), r.warnings.end());
  r.warnings = std::move(warnings);

  if (options.leave1out) {
    if (r.has_mods) throw InputError("--leave1out: only for models without moderators");
    r.leave1out = leave_one_out(design, settings, r.slab);
  }
  if (options.influence) {
    r.influence = influence(design, settings, r);
    for (std::size_t i = 0; i < r.influence->size(); ++i) {
      (*r.influence)[i].slab = r.slab[i];
      if (is_na((*r.influence)[i].rstudent))
        r.warnings.push_back("--influence: the model could not be refitted without study '" + r.slab[i] +
                             "'; its deletion diagnostics are null");
    }
  }
  if (options.egger) r.egger = diagnostic_or_warning("--egger", r.warnings, [&] { return egger_test(design, settings); });
  if (options.trimfill) {
    if (r.has_mods) throw InputError("--trimfill: only for models without moderators");
    r.trimfill = diagnostic_or_warning("--trimfill", r.warnings, [&] { return trim_and_fill(design, settings); });
  }
  for (std::size_t row : rows) {
    r.ilab.resize(input.ilab.size());
    for (std::size_t j = 0; j < input.ilab.size(); ++j) r.ilab[j].push_back(input.ilab[j][row]);
  }
  r.ilab_names = input.ilab_names;
  if (!options.transf.empty()) back_transform(options.transf, r);
  return r;
}

}  // namespace spiral
