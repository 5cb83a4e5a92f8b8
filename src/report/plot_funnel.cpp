// Funnel plot as metafor's funnel.rma: effect sizes (or a meta-regression's residuals)
// against their standard errors (0 at the top), the pseudo confidence region centre ± z·SE
// in white on a grey panel, a line at the centre, observed studies as filled and
// trim-and-fill studies as open points. The axes are fitted to the studies, not to the
// region, whose lines are clipped at the panel.
#include <algorithm>
#include <array>
#include <cmath>

#include <boost/math/distributions/normal.hpp>

#include "plot_canvas.hpp"
#include "spiral/error.hpp"
#include "spiral/plot.hpp"
#include "spiral/report.hpp"

namespace spiral {

namespace {

using plot_detail::Canvas;

constexpr double kWidth = 400, kHeight = 330, kFontSize = 9;
constexpr double kLeft = 58, kRight = 16, kTop = 16, kBottom = 46;

// The x range: every study and the centre, with 10% of the range added on either side.
std::pair<double, double> data_range(const FunnelData& data) {
  double low = data.center, high = data.center;
  for (const auto* values : {&data.estimate, &data.filled_estimate})
    for (double e : *values) low = std::min(low, e), high = std::max(high, e);
  const double pad = high > low ? 0.1 * (high - low) : 0.5;
  return {low - pad, high + pad};
}

std::string render_funnel(const FunnelData& data, const PlotLabels& labels, plot_detail::Format format) {
  if (data.estimate.empty() || data.estimate.size() != data.std_error.size())
    throw InputError("funnel plot: needs one standard error per estimate");
  const double z = boost::math::quantile(boost::math::complement(boost::math::normal(), (100 - data.level) / 200));
  double se_max = 0;
  for (double s : data.std_error) se_max = std::max(se_max, s);
  for (double s : data.filled_std_error) se_max = std::max(se_max, s);
  const std::vector<double> y_ticks = plot_detail::pretty_ticks(0, se_max, 5);
  const double y_bottom_value = y_ticks.back();
  const auto [low, high] = data_range(data);
  const plot_detail::Axis axis = plot_detail::effect_axis(low, high, data.scale);

  const double title_height = labels.title.empty() ? 0 : 18;
  const double left = kLeft, right = kWidth - kRight, top = kTop + title_height, bottom = kHeight - kBottom;
  const auto x_of = [&](double v) { return left + (v - axis.low) / (axis.high - axis.low) * (right - left); };
  const auto y_of = [&](double se) { return top + se / y_bottom_value * (bottom - top); };

  Canvas canvas(format, kWidth, kHeight);
  if (!labels.title.empty()) canvas.text(labels.title, kWidth / 2, kTop + 8, 0.5, 11, true);

  // Grey panel, white pseudo-confidence region, centre line, studies: clipped to the panel.
  canvas.rectangle(left, top, right - left, bottom - top, plot_detail::kPanel);
  canvas.begin_clip(left, top, right - left, bottom - top);
  const double spread = z * y_bottom_value;
  const plot_detail::Point apex{x_of(data.center), y_of(0)};
  const plot_detail::Point bottom_left{x_of(data.center - spread), y_of(y_bottom_value)};
  const plot_detail::Point bottom_right{x_of(data.center + spread), y_of(y_bottom_value)};
  canvas.polygon({apex, bottom_left, bottom_right}, plot_detail::kWhite);
  canvas.dashed_line(bottom_left.x, bottom_left.y, apex.x, apex.y, 0.6);
  canvas.dashed_line(bottom_right.x, bottom_right.y, apex.x, apex.y, 0.6);
  canvas.line(apex.x, apex.y, apex.x, y_of(y_bottom_value), 0.8);
  for (std::size_t i = 0; i < data.estimate.size(); ++i)
    canvas.circle(x_of(data.estimate[i]), y_of(data.std_error[i]), 3, plot_detail::kBlack);
  for (std::size_t i = 0; i < data.filled_estimate.size(); ++i)
    canvas.circle(x_of(data.filled_estimate[i]), y_of(data.filled_std_error[i]), 3, plot_detail::kWhite, 0.9);
  canvas.end_clip();

  // Frame and axes.
  for (const auto& [x1, y1, x2, y2] : {std::array<double, 4>{left, top, right, top}, std::array<double, 4>{right, top, right, bottom},
                                        std::array<double, 4>{right, bottom, left, bottom}, std::array<double, 4>{left, bottom, left, top}})
    canvas.line(x1, y1, x2, y2, 0.8);
  for (const auto& [position, label] : axis.ticks) {
    if (position < axis.low || position > axis.high) continue;
    canvas.line(x_of(position), bottom, x_of(position), bottom + 4, 0.8);
    canvas.text(label, x_of(position), bottom + 15, 0.5, kFontSize);
  }
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  for (double t : y_ticks) {
    canvas.line(left - 4, y_of(t), left, y_of(t), 0.8);
    canvas.text(plot_detail::tick_label(t, y_step), left - 6, y_of(t) + 3, 1, kFontSize);
  }
  canvas.text(labels.x_label.empty() ? "Observed Outcome" : labels.x_label, (left + right) / 2, kHeight - 12, 0.5, kFontSize);
  canvas.text("Standard Error", 16, (top + bottom) / 2, 0.5, kFontSize, false, true);
  return canvas.finish();
}

}  // namespace

std::string funnel_plot_bytes(const FunnelData& data, const PlotLabels& labels, const std::string& path) {
  return render_funnel(data, labels, plot_detail::format_of_path(path));
}

std::string funnel_plot_svg(const FunnelData& data, const PlotLabels& labels) {
  return render_funnel(data, labels, plot_detail::Format::Svg);
}

void write_funnel_plot(const FunnelData& data, const PlotLabels& labels, const std::string& path) {
  write_file_atomic(path, funnel_plot_bytes(data, labels, path));
}

}  // namespace spiral
