// Publication figures drawn with cairo: forest and funnel plots of a meta-analysis.
// The API takes plain data (labels, estimates, intervals, weights, pooled values) so that
// the report module does not depend on the meta-analysis engine; src/meta has the adapter.
// The file format follows the extension of `path`: .svg, .pdf or .png (InputError otherwise).
#pragma once
#include <string>
#include <vector>

namespace spiral {

// Text the caller chooses for a figure (empty = the default).
struct PlotLabels {
  std::string title;          // above the plot; empty = none
  std::string x_label;        // effect-measure axis label, e.g. "Log Risk Ratio"
  std::string study_header;   // header of the label column, default "Study"
};

struct ForestStudy {
  std::string label;
  double estimate = 0, conf_low = 0, conf_high = 0;
  double weight = 0;          // percent weight in the pooled estimate (square size)
};

struct ForestData {
  std::vector<ForestStudy> studies;
  // Pooled estimate as a diamond; NaN estimate = no summary row.
  std::string summary_label;  // "RE Model (Q = 152.23, df = 12, p < .001; I² = 92.2%)"
  double pooled = 0, pooled_low = 0, pooled_high = 0;
  double pi_low = 0, pi_high = 0;  // prediction interval (drawn when finite and wider than the CI)
  double reference_line = 0;       // vertical line of no effect (NaN = none)
  double level = 95;               // of the intervals, for the column header
  int digits = 2;
};

struct FunnelData {
  std::vector<double> estimate, std_error;           // observed studies
  std::vector<double> filled_estimate, filled_std_error;  // trim-and-fill studies (open points)
  double center = 0;   // pooled estimate: the funnel's axis
  double level = 95;   // pseudo confidence region level (percent)
};

// Writes the figure to path (.svg/.pdf/.png). InputError for an unknown extension or an
// unwritable path.
void write_forest_plot(const ForestData& data, const PlotLabels& labels, const std::string& path);
void write_funnel_plot(const FunnelData& data, const PlotLabels& labels, const std::string& path);

// The same figures as SVG text (for inlining in report.html).
std::string forest_plot_svg(const ForestData& data, const PlotLabels& labels);
std::string funnel_plot_svg(const FunnelData& data, const PlotLabels& labels);

}  // namespace spiral
