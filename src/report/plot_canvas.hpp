// A cairo drawing surface that renders to SVG, PDF or PNG bytes, and the small drawing
// helpers the figures share (text, axes with "pretty" ticks).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cairo_library.hpp"

namespace spiral::plot_detail {

enum class Format { Svg, Pdf, Png };

// The format of a path's extension (.svg, .pdf, .png); InputError otherwise.
Format format_of_path(const std::string& path);

class Canvas {
 public:
  // width and height in points (1/72 inch); PNGs are rendered at 300 dpi.
  Canvas(Format format, double width, double height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() const { return cr_; }
  // Finishes the drawing and returns the file's bytes.
  std::string finish();

  // Text in the figure font at (x, y) = baseline; align: 0 left, 0.5 centre, 1 right.
  void text(const std::string& s, double x, double y, double align = 0, double size = 9, bool bold = false);
  double text_width(const std::string& s, double size = 9, bool bold = false);
  void line(double x1, double y1, double x2, double y2, double width = 0.75);
  void dashed_line(double x1, double y1, double x2, double y2, double width = 0.75);

 private:
  Format format_;
  std::string bytes_;
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

// Tick positions as R's pretty() over [low, high]: steps of 1, 2 or 5 times a power of ten.
std::vector<double> pretty_ticks(double low, double high, int target = 5);
// A tick label: fixed notation without trailing zeros.
std::string tick_label(double value, double step);

}  // namespace spiral::plot_detail
