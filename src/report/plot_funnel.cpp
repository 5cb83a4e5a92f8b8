// Funnel plot as metafor's funnel.rma: effect sizes against their standard errors (0 at
// the top), the pseudo confidence region centre ± z·SE in white on a grey panel, a line at
// the pooled estimate, observed studies as filled and trim-and-fill studies as open points.
#include <algorithm>
#include <cmath>

#include <boost/math/distributions/normal.hpp>

#include "plot_canvas.hpp"
#include "spiral/error.hpp"
#include "spiral/plot.hpp"
#include "spiral/report.hpp"

namespace spiral {

namespace {

using plot_detail::Canvas;
using plot_detail::cairo;

constexpr double kWidth = 400, kHeight = 330, kFontSize = 9;
constexpr double kLeft = 58, kRight = 16, kTop = 16, kBottom = 46;

std::string render_funnel(const FunnelData& data, const PlotLabels& labels, plot_detail::Format format) {
  if (data.estimate.empty() || data.estimate.size() != data.std_error.size())
    throw InputError("funnel plot: needs one standard error per estimate");
  const double z = boost::math::quantile(boost::math::complement(boost::math::normal(), (100 - data.level) / 200));
  double se_max = 0;
  for (double s : data.std_error) se_max = std::max(se_max, s);
  for (double s : data.filled_std_error) se_max = std::max(se_max, s);
  const std::vector<double> y_ticks = plot_detail::pretty_ticks(0, se_max, 4);
  const double y_top_value = 0, y_bottom_value = y_ticks.back();

  double low = data.center - z * y_bottom_value, high = data.center + z * y_bottom_value;
  for (double e : data.estimate) low = std::min(low, e), high = std::max(high, e);
  for (double e : data.filled_estimate) low = std::min(low, e), high = std::max(high, e);
  const std::vector<double> x_ticks = plot_detail::pretty_ticks(low, high);
  const double x_low = x_ticks.front(), x_high = x_ticks.back();

  const double title_height = labels.title.empty() ? 0 : 18;
  const double left = kLeft, right = kWidth - kRight, top = kTop + title_height, bottom = kHeight - kBottom;
  const auto x_of = [&](double v) { return left + (v - x_low) / (x_high - x_low) * (right - left); };
  const auto y_of = [&](double se) { return top + (se - y_top_value) / (y_bottom_value - y_top_value) * (bottom - top); };

  Canvas canvas(format, kWidth, kHeight);
  cairo_t* cr = canvas.cr();
  if (!labels.title.empty()) canvas.text(labels.title, kWidth / 2, kTop + 8, 0.5, 11, true);

  // Grey panel, white pseudo-confidence region, centre line.
  cairo().set_source_rgb(cr, 0.86, 0.86, 0.86);
  cairo().rectangle(cr, left, top, right - left, bottom - top);
  cairo().fill(cr);
  cairo().save(cr);
  cairo().rectangle(cr, left, top, right - left, bottom - top);
  cairo().clip(cr);
  cairo().set_source_rgb(cr, 1, 1, 1);
  cairo().move_to(cr, x_of(data.center), y_of(0));
  cairo().line_to(cr, x_of(data.center - z * y_bottom_value), y_of(y_bottom_value));
  cairo().line_to(cr, x_of(data.center + z * y_bottom_value), y_of(y_bottom_value));
  cairo().close_path(cr);
  cairo().fill(cr);
  cairo().set_source_rgb(cr, 0, 0, 0);
  canvas.dashed_line(x_of(data.center - z * y_bottom_value), y_of(y_bottom_value), x_of(data.center), y_of(0), 0.6);
  canvas.dashed_line(x_of(data.center + z * y_bottom_value), y_of(y_bottom_value), x_of(data.center), y_of(0), 0.6);
  canvas.line(x_of(data.center), y_of(0), x_of(data.center), y_of(y_bottom_value), 0.8);
  for (std::size_t i = 0; i < data.estimate.size(); ++i) {
    cairo().arc(cr, x_of(data.estimate[i]), y_of(data.std_error[i]), 3, 0, 2 * M_PI);
    cairo().fill(cr);
  }
  cairo().set_line_width(cr, 0.9);
  for (std::size_t i = 0; i < data.filled_estimate.size(); ++i) {
    cairo().arc(cr, x_of(data.filled_estimate[i]), y_of(data.filled_std_error[i]), 3, 0, 2 * M_PI);
    cairo().set_source_rgb(cr, 1, 1, 1);
    cairo().fill_preserve(cr);
    cairo().set_source_rgb(cr, 0, 0, 0);
    cairo().stroke(cr);
  }
  cairo().restore(cr);
  cairo().set_source_rgb(cr, 0, 0, 0);  // the save above was taken while painting the grey panel

  // Frame and axes.
  cairo().set_line_width(cr, 0.8);
  cairo().rectangle(cr, left, top, right - left, bottom - top);
  cairo().stroke(cr);
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  for (double t : x_ticks) {
    canvas.line(x_of(t), bottom, x_of(t), bottom + 4, 0.8);
    canvas.text(plot_detail::tick_label(t, x_step), x_of(t), bottom + 15, 0.5, kFontSize);
  }
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  for (double t : y_ticks) {
    canvas.line(left - 4, y_of(t), left, y_of(t), 0.8);
    canvas.text(plot_detail::tick_label(t, y_step), left - 6, y_of(t) + 3, 1, kFontSize);
  }
  canvas.text(labels.x_label.empty() ? "Observed Outcome" : labels.x_label, (left + right) / 2, kHeight - 12, 0.5, kFontSize);
  cairo().save(cr);
  cairo().move_to(cr, 0, 0);
  cairo().translate(cr, 16, (top + bottom) / 2);
  cairo().rotate(cr, -M_PI / 2);
  canvas.text("Standard Error", 0, 0, 0.5, kFontSize);
  cairo().restore(cr);
  return canvas.finish();
}

}  // namespace

std::string funnel_plot_svg(const FunnelData& data, const PlotLabels& labels) {
  return render_funnel(data, labels, plot_detail::Format::Svg);
}

void write_funnel_plot(const FunnelData& data, const PlotLabels& labels, const std::string& path) {
  write_file_atomic(path, render_funnel(data, labels, plot_detail::format_of_path(path)));
}

}  // namespace spiral
