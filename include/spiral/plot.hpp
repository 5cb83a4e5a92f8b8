// Publication figures: forest and funnel plots of a meta-analysis.
// The API takes plain data (labels, estimates, intervals, weights, pooled values) so that
// the report module does not depend on the meta-analysis engine; src/meta has the adapter.
// SVG is written directly (text stays text: selectable, editable, small); PDF and PNG are
// drawn with cairo, PNG at 300 dpi with its resolution recorded (pHYs).
// The file format follows the extension of `path`: .svg, .pdf or .png (InputError otherwise).
#pragma once
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace spiral {

// Text the caller chooses for a figure (empty = the default).
struct PlotLabels {
  std::string title;            // above the plot; empty = none
  std::string x_label;          // effect-measure axis label, e.g. "Risk Ratio"
  std::string study_header;     // header of the label column, default "Study"
  std::string estimate_header;  // header of the values column, default "Estimate [95% CI]"
};

// The effect axis: values are drawn on the model's scale (log odds ratios, Fisher's z);
// with a back-transformation the ticks are placed at nice values of the transformed scale
// (odds ratios 0.5, 1, 2; correlations 0.2, 0.4) and the printed values are transformed.
struct AxisScale {
  std::function<double(double)> forward;  // model scale -> shown scale (empty = identity)
  std::function<double(double)> inverse;  // shown scale -> model scale
  bool logarithmic = false;               // ticks at 1, 2, 5 x 10^k of a ratio scale (forward = exp)
};

struct ForestStudy {
  std::string label;
  double estimate = 0, conf_low = 0, conf_high = 0;
  double weight = 0;          // percent weight in the pooled estimate (square size, Weight column)
  std::vector<std::string> extra;  // values of the extra columns (ForestData::extra_headers)
  // Fitted value of a meta-regression with its CI (a grey diamond in the study's row); NaN = none.
  double fitted = NAN, fitted_low = NAN, fitted_high = NAN;
};

struct ForestData {
  std::vector<ForestStudy> studies;
  std::vector<std::string> extra_headers;  // extra columns between the labels and the plot
  // Pooled estimate as a diamond; NaN estimate = no summary row.
  std::string summary_label;  // "RE Model (Q = 152.23, df = 12, p < .001; I² = 92.2%)"
  double pooled = 0, pooled_low = 0, pooled_high = 0;
  double pi_low = 0, pi_high = 0;  // prediction interval (drawn when finite and wider than the CI)
  double reference_line = 0;       // vertical line of no effect on the model scale (NaN = none)
  double level = 95;               // of the intervals, for the column header
  bool show_weights = true;        // the "Weight" column
  int digits = 2;
  AxisScale scale;
};

struct FunnelData {
  std::vector<double> estimate, std_error;           // observed studies
  std::vector<double> filled_estimate, filled_std_error;  // trim-and-fill studies (open points)
  double center = 0;   // pooled estimate: the funnel's axis (0 for residuals)
  double level = 95;   // pseudo confidence region level (percent)
  AxisScale scale;
};

// The figure's file bytes in the format of path's extension (.svg/.pdf/.png).
std::string forest_plot_bytes(const ForestData& data, const PlotLabels& labels, const std::string& path);
std::string funnel_plot_bytes(const FunnelData& data, const PlotLabels& labels, const std::string& path);

// Writes the figure to path. InputError for an unknown extension or an unwritable path.
void write_forest_plot(const ForestData& data, const PlotLabels& labels, const std::string& path);
void write_funnel_plot(const FunnelData& data, const PlotLabels& labels, const std::string& path);

// The same figures as SVG text (for inlining in report.html).
std::string forest_plot_svg(const ForestData& data, const PlotLabels& labels);
std::string funnel_plot_svg(const FunnelData& data, const PlotLabels& labels);

}  // namespace spiral
