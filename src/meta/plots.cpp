// Adapter from a meta-analysis result to the plain data of spiral/plot.hpp.
#include <cmath>

#include <fmt/format.h>

#include "meta/meta_internal.hpp"
#include "spiral/report.hpp"

namespace spiral {

namespace {

std::string p_text(double p) { return p < 0.001 ? "p < .001" : fmt::format("p = {:.3f}", p); }

// "RE Model (Q = 152.23, df = 12, p < .001; I² = 92.2%)", the line under forest.rma's diamond.
std::string summary_label(const MetaResult& r) {
  return fmt::format("{} Model (Q = {:.2f}, df = {}, {}; I\u00b2 = {:.1f}%)", r.method == "FE" ? "FE" : "RE", r.Q, r.Q_df,
                     p_text(r.Q_p), r.I2);
}

// The plots' back-transformation: --transf, or the measure's natural one.
std::string plot_transf(const MetaResult& r) {
  if (r.transf.empty()) {  // the natural one, if the studies gave what it needs (PFT's sample sizes)
    const std::string natural = natural_transf(r.measure);
    try {
      if (!natural.empty()) apply_transf(natural, 0, r.transf_sizes);
    } catch (const InputError&) {
      return "";
    }
    return natural;
  }
  return r.transf == "none" ? "" : r.transf;
}

AxisScale axis_scale(const MetaResult& r) {
  const std::string transf = plot_transf(r);
  AxisScale scale;
  if (transf.empty()) return scale;
  const TransfSizes sizes = r.transf_sizes;
  scale.forward = [transf, sizes](double x) { return apply_transf(transf, x, sizes); };
  scale.inverse = [transf, sizes](double x) { return inverse_transf(transf, x, sizes); };
  scale.logarithmic = apply_transf(transf, 0, sizes) == 1 && apply_transf(transf, 1, sizes) == std::exp(1.0);  // exp
  return scale;
}

// One-group measures (a proportion, a rate, a mean) have no value of "no effect".
bool has_null_value(const std::string& measure) {
  for (const char* m : {"PR", "PLN", "PLO", "PAS", "PFT", "IR", "IRLN", "IRS", "IRFT", "MN", "MNLN"})
    if (measure == m) return false;
  return true;
}

PlotLabels with_defaults(const MetaResult& r, PlotLabels labels, bool residuals) {
  if (labels.x_label.empty())
    labels.x_label = residuals ? "Residual Value" : transformed_label(r.measure, plot_transf(r));
  return labels;
}

ForestData forest_data(const MetaResult& r) {
  ForestData data;
  const double z = meta_detail::normal_quantile_upper((100 - r.level) / 200);
  for (std::size_t i = 0; i < r.k; ++i) {
    const double se = std::sqrt(r.vi[i]);
    ForestStudy study{r.slab[i], r.yi[i], r.yi[i] - z * se, r.yi[i] + z * se, r.weights[i], {}};
    for (const auto& column : r.ilab) study.extra.push_back(column[i]);
    if (r.has_mods) {
      study.fitted = r.fitted[i].estimate;   // its CI as predict.rma's (t under knha)
      study.fitted_low = r.fitted[i].conf_low;
      study.fitted_high = r.fitted[i].conf_high;
    }
    data.studies.push_back(std::move(study));
  }
  data.extra_headers = r.ilab_names;
  data.level = r.level;
  data.scale = axis_scale(r);
  data.reference_line = has_null_value(r.measure) ? 0 : NA;
  if (r.has_mods) {
    data.pooled = NA;  // a meta-regression has no single pooled estimate
    return data;
  }
  data.summary_label = summary_label(r);
  data.pooled = r.estimate;
  data.pooled_low = r.conf_low;
  data.pooled_high = r.conf_high;
  data.pi_low = r.pi_low;
  data.pi_high = r.pi_high;
  return data;
}

// funnel.rma: the effect sizes around the pooled estimate, or a meta-regression's residuals
// y - X b around 0 (on the model's scale), against the studies' standard errors.
FunnelData funnel_data(const MetaResult& r) {
  FunnelData data;
  for (std::size_t i = 0; i < r.k; ++i) {
    data.estimate.push_back(r.has_mods ? r.yi[i] - r.fitted[i].estimate : r.yi[i]);
    data.std_error.push_back(std::sqrt(r.vi[i]));
  }
  data.center = r.has_mods ? 0 : r.estimate;
  if (!r.has_mods) data.scale = axis_scale(r);
  if (r.trimfill) {
    data.filled_estimate = r.trimfill->filled_yi;
    for (double v : r.trimfill->filled_vi) data.filled_std_error.push_back(std::sqrt(v));
    data.center = r.trimfill->estimate;  // funnel(trimfill(fit)) centres on the filled estimate
  }
  data.level = r.level;
  return data;
}

}  // namespace

void write_meta_plots(const MetaResult& result, const std::string& forest_path, const std::string& funnel_path,
                      const PlotLabels& labels) {
  const std::string forest =
      forest_path.empty() ? "" : forest_plot_bytes(forest_data(result), with_defaults(result, labels, false), forest_path);
  const std::string funnel = funnel_path.empty()
                                 ? ""
                                 : funnel_plot_bytes(funnel_data(result), with_defaults(result, labels, result.has_mods),
                                                     funnel_path);
  if (!forest_path.empty()) write_file_atomic(forest_path, forest);
  if (!funnel_path.empty()) write_file_atomic(funnel_path, funnel);
}

std::string forest_svg(const MetaResult& result, const PlotLabels& labels) {
  return forest_plot_svg(forest_data(result), with_defaults(result, labels, false));
}

std::string forest_png(const MetaResult& result, const PlotLabels& labels) {
  return forest_plot_bytes(forest_data(result), with_defaults(result, labels, false), "forest.png");
}

std::string funnel_svg(const MetaResult& result, const PlotLabels& labels) {
  return funnel_plot_svg(funnel_data(result), with_defaults(result, labels, result.has_mods));
}

}  // namespace spiral
