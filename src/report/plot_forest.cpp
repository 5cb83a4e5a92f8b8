// Forest plot in the layout of metafor's forest.rma: study labels on the left, squares
// (area ~ weight) with CI whiskers, the pooled diamond with its prediction interval,
// the estimate [CI] column on the right and the effect-measure axis below.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "plot_canvas.hpp"
#include "spiral/plot.hpp"
#include "spiral/report.hpp"

namespace spiral {

namespace {

using plot_detail::Canvas;
using plot_detail::cairo;

constexpr double kRow = 15;        // row height (pt)
constexpr double kFontSize = 9;
constexpr double kPlotWidth = 260; // the effect axis (pt)
constexpr double kMargin = 18;
constexpr double kGap = 14;

bool finite(double x) { return std::isfinite(x); }

std::string interval_text(double estimate, double low, double high, int digits) {
  return fmt::format("{:.{}f} [{:.{}f}, {:.{}f}]", estimate, digits, low, digits, high, digits);
}

struct Range {
  double low = INFINITY, high = -INFINITY;
  void include(double x) {
    if (finite(x)) {
      low = std::min(low, x);
      high = std::max(high, x);
    }
  }
};

std::string render_forest(const ForestData& data, const PlotLabels& labels, plot_detail::Format format) {
  const bool has_summary = finite(data.pooled);
  const std::size_t k = data.studies.size();
  const std::string header = labels.study_header.empty() ? "Study" : labels.study_header;
  const std::string estimate_header = fmt::format("Estimate [{:g}% CI]", data.level);

  // Measure the text columns on a scratch surface.
  double label_width, value_width;
  {
    Canvas scratch(plot_detail::Format::Svg, 10, 10);
    label_width = scratch.text_width(header, kFontSize, true);
    value_width = scratch.text_width(estimate_header, kFontSize, true);
    for (const auto& s : data.studies) {
      label_width = std::max(label_width, scratch.text_width(s.label, kFontSize));
      value_width = std::max(value_width, scratch.text_width(interval_text(s.estimate, s.conf_low, s.conf_high, data.digits), kFontSize));
    }
    if (has_summary) {
      label_width = std::max(label_width, scratch.text_width(data.summary_label, kFontSize, true));
      value_width = std::max(value_width, scratch.text_width(interval_text(data.pooled, data.pooled_low, data.pooled_high, data.digits), kFontSize, true));
    }
    scratch.finish();
  }

  const double title_height = labels.title.empty() ? 0 : 20;
  const double top = kMargin + title_height + kRow * 1.5;  // first study row centre
  const double summary_y = top + kRow * (static_cast<double>(k) + 0.8);
  const double last_row = has_summary ? summary_y : top + kRow * (static_cast<double>(k) - 1);
  const double axis_y = last_row + kRow * 1.2;
  const double height = axis_y + 44 + kMargin;
  const double plot_left = kMargin + label_width + kGap;
  const double plot_right = plot_left + kPlotWidth;
  const double width = plot_right + kGap + value_width + kMargin;

  Range range;
  for (const auto& s : data.studies) {
    range.include(s.conf_low);
    range.include(s.conf_high);
  }
  if (has_summary) {
    range.include(data.pooled_low);
    range.include(data.pooled_high);
    range.include(data.pi_low);
    range.include(data.pi_high);
  }
  range.include(data.reference_line);
  if (!finite(range.low)) range = {-1, 1};
  const std::vector<double> ticks = plot_detail::pretty_ticks(range.low, range.high);
  const double axis_low = ticks.front(), axis_high = ticks.back();
  const auto x_of = [&](double value) {
    return plot_left + (value - axis_low) / (axis_high - axis_low) * (plot_right - plot_left);
  };

  Canvas canvas(format, width, height);
  cairo_t* cr = canvas.cr();
  if (!labels.title.empty()) canvas.text(labels.title, width / 2, kMargin + 10, 0.5, 11, true);
  const double header_y = top - kRow;
  canvas.text(header, kMargin, header_y + 3, 0, kFontSize, true);
  canvas.text(estimate_header, width - kMargin, header_y + 3, 1, kFontSize, true);

  if (finite(data.reference_line))
    canvas.dashed_line(x_of(data.reference_line), top - kRow * 0.5, x_of(data.reference_line), axis_y, 0.6);

  // Studies: square area proportional to the weight, side from 35% to 100% of a row's height.
  double max_weight = 0;
  for (const auto& s : data.studies) max_weight = std::max(max_weight, s.weight);
  for (std::size_t i = 0; i < k; ++i) {
    const ForestStudy& s = data.studies[i];
    const double y = top + kRow * static_cast<double>(i);
    canvas.text(s.label, kMargin, y + 3, 0, kFontSize);
    canvas.text(interval_text(s.estimate, s.conf_low, s.conf_high, data.digits), width - kMargin, y + 3, 1, kFontSize);
    const double lo = std::max(s.conf_low, axis_low), hi = std::min(s.conf_high, axis_high);
    canvas.line(x_of(lo), y, x_of(hi), y, 0.8);
    for (double end : {s.conf_low, s.conf_high})
      if (end >= axis_low && end <= axis_high) canvas.line(x_of(end), y - 2.5, x_of(end), y + 2.5, 0.8);
    const double relative = max_weight > 0 ? std::sqrt(s.weight / max_weight) : 1;
    const double side = kRow * 0.65 * std::max(0.35, relative);
    cairo().rectangle(cr, x_of(s.estimate) - side / 2, y - side / 2, side, side);
    cairo().fill(cr);
  }

  if (has_summary) {
    canvas.line(plot_left - kGap / 2, summary_y - kRow * 0.8, plot_right + kGap / 2, summary_y - kRow * 0.8, 0.6);
    canvas.text(data.summary_label, kMargin, summary_y + 3, 0, kFontSize, true);
    canvas.text(interval_text(data.pooled, data.pooled_low, data.pooled_high, data.digits), width - kMargin,
                summary_y + 3, 1, kFontSize, true);
    const bool has_pi = finite(data.pi_low) && finite(data.pi_high) &&
                        (data.pi_low < data.pooled_low - 1e-12 || data.pi_high > data.pooled_high + 1e-12);
    if (has_pi) {  // prediction interval: a dotted line through the diamond, with end ticks
      canvas.dashed_line(x_of(data.pi_low), summary_y, x_of(data.pi_high), summary_y, 0.8);
      for (double end : {data.pi_low, data.pi_high}) canvas.line(x_of(end), summary_y - 3, x_of(end), summary_y + 3, 0.8);
    }
    cairo().move_to(cr, x_of(data.pooled_low), summary_y);
    cairo().line_to(cr, x_of(data.pooled), summary_y - kRow * 0.4);
    cairo().line_to(cr, x_of(data.pooled_high), summary_y);
    cairo().line_to(cr, x_of(data.pooled), summary_y + kRow * 0.4);
    cairo().close_path(cr);
    cairo().fill(cr);
  }

  // x axis
  canvas.line(x_of(axis_low), axis_y, x_of(axis_high), axis_y, 0.8);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  for (double t : ticks) {
    canvas.line(x_of(t), axis_y, x_of(t), axis_y + 4, 0.8);
    canvas.text(plot_detail::tick_label(t, step), x_of(t), axis_y + 15, 0.5, kFontSize);
  }
  canvas.text(labels.x_label.empty() ? "Observed Outcome" : labels.x_label, (plot_left + plot_right) / 2, axis_y + 33, 0.5,
              kFontSize);
  return canvas.finish();
}

}  // namespace

std::string forest_plot_svg(const ForestData& data, const PlotLabels& labels) {
  return render_forest(data, labels, plot_detail::Format::Svg);
}

void write_forest_plot(const ForestData& data, const PlotLabels& labels, const std::string& path) {
  write_file_atomic(path, render_forest(data, labels, plot_detail::format_of_path(path)));
}

}  // namespace spiral
