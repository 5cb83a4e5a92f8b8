// Adapter from a meta-analysis result to the plain data of spiral/plot.hpp.
#include <cmath>

#include <fmt/format.h>

#include "meta/meta_internal.hpp"

namespace spiral {

namespace {

std::string p_text(double p) { return p < 0.001 ? "p < .001" : fmt::format("p = {:.3f}", p); }

// "RE Model (Q = 152.23, df = 12, p < .001; I² = 92.2%)", the line under forest.rma's diamond.
std::string summary_label(const MetaResult& r) {
  return fmt::format("{} Model (Q = {:.2f}, df = {}, {}; I\u00b2 = {:.1f}%)", r.method == "FE" ? "FE" : "RE", r.Q, r.Q_df,
                     p_text(r.Q_p), r.I2);
}

PlotLabels with_defaults(const MetaResult& r, PlotLabels labels) {
  if (labels.x_label.empty()) labels.x_label = measure_label(r.measure);
  return labels;
}

ForestData forest_data(const MetaResult& r) {
  ForestData data;
  const double z = meta_detail::normal_quantile_upper((100 - r.level) / 200);
  for (std::size_t i = 0; i < r.k; ++i) {
    const double se = std::sqrt(r.vi[i]);
    data.studies.push_back({r.slab[i], r.yi[i], r.yi[i] - z * se, r.yi[i] + z * se, r.weights[i]});
  }
  data.level = r.level;
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

FunnelData funnel_data(const MetaResult& r) {
  FunnelData data;
  for (std::size_t i = 0; i < r.k; ++i) {
    data.estimate.push_back(r.yi[i]);
    data.std_error.push_back(std::sqrt(r.vi[i]));
  }
  data.center = r.estimate;
  if (r.trimfill) {
    data.filled_estimate = r.trimfill->filled_yi;
    for (double v : r.trimfill->filled_vi) data.filled_std_error.push_back(std::sqrt(v));
    data.center = r.trimfill->estimate;  // funnel(trimfill(fit)) centres on the filled estimate
  }
  data.level = r.level;
  return data;
}

}  // namespace

void forest_plot(const MetaResult& result, const std::string& path, const PlotLabels& labels) {
  write_forest_plot(forest_data(result), with_defaults(result, labels), path);
}

std::string forest_svg(const MetaResult& result, const PlotLabels& labels) {
  return forest_plot_svg(forest_data(result), with_defaults(result, labels));
}

void funnel_plot(const MetaResult& result, const std::string& path, const PlotLabels& labels) {
  if (result.has_mods) throw InputError("--funnel: only for models without moderators");
  write_funnel_plot(funnel_data(result), with_defaults(result, labels), path);
}

std::string funnel_svg(const MetaResult& result, const PlotLabels& labels) {
  if (result.has_mods) throw InputError("--funnel: only for models without moderators");
  return funnel_plot_svg(funnel_data(result), with_defaults(result, labels));
}

}  // namespace spiral
