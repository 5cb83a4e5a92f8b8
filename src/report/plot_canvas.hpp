// The drawing surface of the figures. SVG is written as markup by hand (text as <text>
// elements, so it stays selectable and editable and a plot is a few kilobytes); PDF and PNG
// are drawn with cairo, and a PNG records its 300 dpi (pHYs chunk). Also the axis helpers
// the figures share (ticks at "pretty" values, on a back-transformed scale too).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cairo_library.hpp"
#include "spiral/plot.hpp"

namespace spiral::plot_detail {

enum class Format { Svg, Pdf, Png };

// The format of a path's extension (.svg, .pdf, .png); InputError otherwise.
Format format_of_path(const std::string& path);

struct Color {
  double r = 0, g = 0, b = 0;
};
constexpr Color kBlack{0, 0, 0}, kWhite{1, 1, 1}, kGrey{0.5, 0.5, 0.5}, kPanel{0.88, 0.88, 0.88};

struct Point {
  double x = 0, y = 0;
};

class Canvas {
 public:
  // width and height in points (1/72 inch); PNGs are rendered at 300 dpi.
  Canvas(Format format, double width, double height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  // Finishes the drawing and returns the file's bytes.
  std::string finish();

  // Text in the figure font with its baseline at (x, y); align: 0 left, 0.5 centre, 1 right;
  // rotated by -90 degrees (reading upwards) when `vertical`.
  void text(const std::string& s, double x, double y, double align = 0, double size = 9, bool bold = false,
            bool vertical = false);
  double text_width(const std::string& s, double size = 9, bool bold = false);
  void line(double x1, double y1, double x2, double y2, double width = 0.75, Color color = kBlack, bool dashed = false);
  void dashed_line(double x1, double y1, double x2, double y2, double width = 0.75) {
    line(x1, y1, x2, y2, width, kBlack, true);
  }
  // A closed polygon, filled; with an outline of `stroke_width` > 0 in `stroke`.
  void polygon(const std::vector<Point>& points, Color fill, double stroke_width = 0, Color stroke = kBlack);
  void rectangle(double x, double y, double w, double h, Color fill, double stroke_width = 0, Color stroke = kBlack);
  void circle(double x, double y, double radius, Color fill, double stroke_width = 0, Color stroke = kBlack);
  // Everything drawn until end_clip() is clipped to the rectangle.
  void begin_clip(double x, double y, double w, double h);
  void end_clip();

 private:
  void path(const std::vector<Point>& points, Color fill, double stroke_width, Color stroke);
  void fill_and_stroke(Color fill, double stroke_width, Color stroke);

  Format format_;
  double width_, height_;
  std::string bytes_;   // cairo's output, or the SVG markup
  int clips_ = 0;       // SVG clip paths so far (their ids)
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

// Tick positions as R's pretty() over [low, high]: steps of 1, 2 or 5 times a power of ten.
std::vector<double> pretty_ticks(double low, double high, int target = 5);
// A tick label: fixed notation without trailing zeros.
std::string tick_label(double value, double step);

// An effect axis over [low, high] (model scale): its limits (model scale) and ticks
// (position on the model scale, label of the shown value).
struct Axis {
  double low = 0, high = 1;
  std::vector<std::pair<double, std::string>> ticks;
};
Axis effect_axis(double low, double high, const AxisScale& scale, int target = 5);
// A value on the shown scale (forward of the scale, or itself).
double shown_value(const AxisScale& scale, double x);

}  // namespace spiral::plot_detail
