// Forest plot in the layout of metafor's forest.rma: study labels and extra columns on the
// left, squares (area ~ weight) with CI whiskers, grey diamonds for the fitted values of a
// meta-regression, the pooled diamond with its prediction interval, the weight and
// estimate [CI] columns on the right and the effect axis (back-transformed ticks) below.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "plot_canvas.hpp"
#include "spiral/document.hpp"
#include "spiral/plot.hpp"
#include "spiral/report.hpp"

namespace spiral {

namespace {

using plot_detail::Canvas;
using plot_detail::shown_value;

constexpr double kRow = 15;        // row height (pt)
constexpr double kFontSize = 9;
constexpr double kPlotWidth = 240; // the effect axis (pt)
constexpr double kMargin = 18;
constexpr double kGap = 14;

bool finite(double x) { return std::isfinite(x); }

struct Range {
  double low = INFINITY, high = -INFINITY;
  void include(double x) {
    if (finite(x)) {
      low = std::min(low, x);
      high = std::max(high, x);
    }
  }
};

// The text columns: each one's header, cell texts (one per study) and summary-row text.
struct Column {
  std::string header;
  std::vector<std::string> cells;
  std::string summary;
  double align = 0;  // 0 left, 0.5 centred, 1 right
  double width = 0;
};

class ForestLayout {
 public:
  ForestLayout(const ForestData& data, const PlotLabels& labels) : data_(data), labels_(labels) {}

  std::string render(plot_detail::Format format) {
    build_columns();
    measure_columns();
    const std::size_t k = data_.studies.size();
    const double title_height = labels_.title.empty() ? 0 : 20;
    top_ = kMargin + title_height + kRow * 1.5;  // first study row centre
    summary_y_ = top_ + kRow * (static_cast<double>(k) + 0.8);
    const double last_row = has_summary() ? summary_y_ : top_ + kRow * (static_cast<double>(k) - 1);
    axis_y_ = last_row + kRow * 1.2;
    const double height = axis_y_ + 44 + kMargin;
    double x = kMargin;
    for (std::size_t c = 0; c < left_.size(); ++c) {
      left_x_.push_back(x);
      x += left_[c].width + kGap;
    }
    plot_left_ = x + summary_overflow_;
    plot_right_ = plot_left_ + kPlotWidth;
    x = plot_right_ + kGap;
    for (auto& column : right_) {
      x += column.width;
      right_x_.push_back(x);  // right-aligned: the column's right edge
      x += kGap;
    }
    const double width = x - kGap + kMargin;
    axis_ = plot_detail::effect_axis(value_range().low, value_range().high, data_.scale);

    Canvas canvas(format, width, height);
    if (!labels_.title.empty()) canvas.text(labels_.title, width / 2, kMargin + 10, 0.5, 11, true);
    draw_columns(canvas);
    if (finite(data_.reference_line) && data_.reference_line >= axis_.low && data_.reference_line <= axis_.high)
      canvas.dashed_line(x_of(data_.reference_line), top_ - kRow * 0.5, x_of(data_.reference_line), axis_y_, 0.6);
    for (std::size_t i = 0; i < k; ++i) draw_study(canvas, data_.studies[i], top_ + kRow * static_cast<double>(i));
    if (has_summary()) draw_summary(canvas);
    draw_axis(canvas);
    return canvas.finish();
  }

 private:
  bool has_summary() const { return finite(data_.pooled); }

  std::string interval_text(double estimate, double low, double high) const {
    const int d = data_.digits;
    return doc::number(shown_value(data_.scale, estimate), d) + " " +
           doc::interval(shown_value(data_.scale, low), shown_value(data_.scale, high), d);
  }

  void build_columns() {
    Column label{labels_.study_header.empty() ? "Study" : labels_.study_header, {}, data_.summary_label, 0, 0};
    for (const auto& s : data_.studies) label.cells.push_back(s.label);
    left_.push_back(label);
    for (std::size_t c = 0; c < data_.extra_headers.size(); ++c) {
      Column extra{data_.extra_headers[c], {}, "", 0.5, 0};
      for (const auto& s : data_.studies) extra.cells.push_back(c < s.extra.size() ? s.extra[c] : "");
      left_.push_back(extra);
    }
    if (data_.show_weights) {
      Column weight{"Weight", {}, has_summary() ? "100.0%" : "", 1, 0};
      for (const auto& s : data_.studies) weight.cells.push_back(fmt::format("{:.1f}%", s.weight));
      right_.push_back(weight);
    }
    Column values{labels_.estimate_header.empty() ? fmt::format("Estimate [{:g}% CI]", data_.level) : labels_.estimate_header,
                  {},
                  has_summary() ? interval_text(data_.pooled, data_.pooled_low, data_.pooled_high) : "",
                  1,
                  0};
    for (const auto& s : data_.studies) values.cells.push_back(interval_text(s.estimate, s.conf_low, s.conf_high));
    right_.push_back(values);
  }

  void measure_columns() {
    Canvas scratch(plot_detail::Format::Svg, 10, 10);
    for (auto* columns : {&left_, &right_})
      for (auto& column : *columns) {
        column.width = scratch.text_width(column.header, kFontSize, true);
        for (const auto& cell : column.cells) column.width = std::max(column.width, scratch.text_width(cell, kFontSize));
        // The summary label may reach into the next columns only when it is the first column.
        if (&column != &left_.front() || left_.size() == 1)
          column.width = std::max(column.width, scratch.text_width(column.summary, kFontSize, true));
      }
    if (left_.size() > 1) {  // the first columns' total width holds the summary label
      double total = -kGap;
      for (const auto& column : left_) total += column.width + kGap;
      const double needed = scratch.text_width(left_.front().summary, kFontSize, true);
      summary_overflow_ = std::max(0.0, needed - total);
    }
    scratch.finish();
  }

  Range value_range() const {
    Range range;
    for (const auto& s : data_.studies) {
      range.include(s.conf_low);
      range.include(s.conf_high);
      range.include(s.fitted_low);
      range.include(s.fitted_high);
    }
    if (has_summary()) {
      range.include(data_.pooled_low);
      range.include(data_.pooled_high);
      range.include(data_.pi_low);
      range.include(data_.pi_high);
    }
    range.include(data_.reference_line);
    if (!finite(range.low)) range = {-1, 1};
    return range;
  }

  double x_of(double value) const {
    return plot_left_ + (value - axis_.low) / (axis_.high - axis_.low) * (plot_right_ - plot_left_);
  }

  void draw_columns(Canvas& canvas) const {
    const double header_y = top_ - kRow + 3;
    for (std::size_t c = 0; c < left_.size(); ++c) {
      const double x = left_x_[c] + left_[c].align * left_[c].width;
      canvas.text(left_[c].header, x, header_y, left_[c].align, kFontSize, true);
      for (std::size_t i = 0; i < left_[c].cells.size(); ++i)
        canvas.text(left_[c].cells[i], x, top_ + kRow * static_cast<double>(i) + 3, left_[c].align, kFontSize);
      if (has_summary() && !left_[c].summary.empty()) canvas.text(left_[c].summary, left_x_[c], summary_y_ + 3, 0, kFontSize, true);
    }
    for (std::size_t c = 0; c < right_.size(); ++c) {
      canvas.text(right_[c].header, right_x_[c], header_y, 1, kFontSize, true);
      for (std::size_t i = 0; i < right_[c].cells.size(); ++i)
        canvas.text(right_[c].cells[i], right_x_[c], top_ + kRow * static_cast<double>(i) + 3, 1, kFontSize);
      if (has_summary() && !right_[c].summary.empty())
        canvas.text(right_[c].summary, right_x_[c], summary_y_ + 3, 1, kFontSize, true);
    }
  }

  void diamond(Canvas& canvas, double low, double centre, double high, double y, double half_height,
               plot_detail::Color color) const {
    canvas.polygon({{x_of(low), y}, {x_of(centre), y - half_height}, {x_of(high), y}, {x_of(centre), y + half_height}}, color);
  }

  // A study: its fitted value (meta-regression) as a grey diamond, the CI whisker and a
  // square of area proportional to the weight, side from 35% to 100% of a row's height.
  void draw_study(Canvas& canvas, const ForestStudy& s, double y) const {
    if (finite(s.fitted)) diamond(canvas, s.fitted_low, s.fitted, s.fitted_high, y, kRow * 0.3, plot_detail::kGrey);
    canvas.line(x_of(s.conf_low), y, x_of(s.conf_high), y, 0.8);
    for (double end : {s.conf_low, s.conf_high}) canvas.line(x_of(end), y - 2.5, x_of(end), y + 2.5, 0.8);
    double max_weight = 0;
    for (const auto& other : data_.studies) max_weight = std::max(max_weight, other.weight);
    const double relative = max_weight > 0 ? std::sqrt(s.weight / max_weight) : 1;
    const double side = kRow * 0.65 * std::max(0.35, relative);
    canvas.rectangle(x_of(s.estimate) - side / 2, y - side / 2, side, side, plot_detail::kBlack);
  }

  void draw_summary(Canvas& canvas) const {
    canvas.line(plot_left_ - kGap / 2, summary_y_ - kRow * 0.8, plot_right_ + kGap / 2, summary_y_ - kRow * 0.8, 0.6);
    const bool has_pi = finite(data_.pi_low) && finite(data_.pi_high) &&
                        (data_.pi_low < data_.pooled_low - 1e-12 || data_.pi_high > data_.pooled_high + 1e-12);
    if (has_pi) {  // prediction interval: a dotted line through the diamond, with end ticks
      canvas.dashed_line(x_of(data_.pi_low), summary_y_, x_of(data_.pi_high), summary_y_, 0.8);
      for (double end : {data_.pi_low, data_.pi_high}) canvas.line(x_of(end), summary_y_ - 3, x_of(end), summary_y_ + 3, 0.8);
    }
    diamond(canvas, data_.pooled_low, data_.pooled, data_.pooled_high, summary_y_, kRow * 0.4, plot_detail::kBlack);
  }

  void draw_axis(Canvas& canvas) const {
    canvas.line(x_of(axis_.low), axis_y_, x_of(axis_.high), axis_y_, 0.8);
    for (const auto& [position, label] : axis_.ticks) {
      canvas.line(x_of(position), axis_y_, x_of(position), axis_y_ + 4, 0.8);
      canvas.text(label, x_of(position), axis_y_ + 15, 0.5, kFontSize);
    }
    canvas.text(labels_.x_label.empty() ? "Observed Outcome" : labels_.x_label, (plot_left_ + plot_right_) / 2, axis_y_ + 33,
                0.5, kFontSize);
  }

  const ForestData& data_;
  const PlotLabels& labels_;
  std::vector<Column> left_, right_;
  std::vector<double> left_x_, right_x_;
  double summary_overflow_ = 0;  // how far the summary label reaches past the left columns
  double top_ = 0, summary_y_ = 0, axis_y_ = 0, plot_left_ = 0, plot_right_ = 0;
  plot_detail::Axis axis_;
};

}  // namespace

std::string forest_plot_bytes(const ForestData& data, const PlotLabels& labels, const std::string& path) {
  return ForestLayout(data, labels).render(plot_detail::format_of_path(path));
}

std::string forest_plot_svg(const ForestData& data, const PlotLabels& labels) {
  return ForestLayout(data, labels).render(plot_detail::Format::Svg);
}

void write_forest_plot(const ForestData& data, const PlotLabels& labels, const std::string& path) {
  write_file_atomic(path, forest_plot_bytes(data, labels, path));
}

}  // namespace spiral
