#include "plot_canvas.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>


#include "spiral/error.hpp"

namespace spiral::plot_detail {

namespace {

constexpr double kPngScale = 300.0 / 72.0;
const char* const kFont = "DejaVu Sans";

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// Cairo numbers SVG surfaces ("surface416") by a process-wide counter, so the same plot
// would differ with what was drawn before it, and between threads. The numbers are
// renumbered 1, 2, ... in order of appearance, which makes each SVG depend on itself only.
std::string renumber_surfaces(const std::string& svg) {
  static constexpr std::string_view kName = "surface";
  std::map<std::string, std::string, std::less<>> numbers;
  std::string out;
  out.reserve(svg.size());
  std::size_t from = 0;
  for (std::size_t at = svg.find(kName); at != std::string::npos; at = svg.find(kName, from)) {
    std::size_t end = at + kName.size();
    while (end < svg.size() && std::isdigit(static_cast<unsigned char>(svg[end]))) ++end;
    out.append(svg, from, end - from);
    if (end > at + kName.size()) {
      const std::string original = svg.substr(at + kName.size(), end - at - kName.size());
      const auto [it, added] = numbers.emplace(original, std::to_string(numbers.size() + 1));
      out.replace(out.size() - original.size(), original.size(), it->second);
    }
    from = end;
  }
  out.append(svg, from);
  return out;
}

}  // namespace

Format format_of_path(const std::string& path) {
  if (ends_with(path, ".svg")) return Format::Svg;
  if (ends_with(path, ".pdf")) return Format::Pdf;
  if (ends_with(path, ".png")) return Format::Png;
  throw InputError("plot: '" + path + "': expected a .svg, .pdf or .png file name");
}

Canvas::Canvas(Format format, double width, double height) : format_(format) {
  switch (format) {
    case Format::Svg:
      surface_ = cairo().svg_surface_create_for_stream(append_bytes, &bytes_, width, height);
      break;
    case Format::Pdf:
      surface_ = cairo().pdf_surface_create_for_stream(append_bytes, &bytes_, width, height);
      break;
    case Format::Png:
      surface_ = cairo().image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(std::ceil(width * kPngScale)),
                                            static_cast<int>(std::ceil(height * kPngScale)));
      break;
  }
  cr_ = cairo().create(surface_);
  if (format == Format::Png) cairo().scale(cr_, kPngScale, kPngScale);
  cairo().set_source_rgb(cr_, 1, 1, 1);  // white page (PNG has no background otherwise)
  cairo().paint(cr_);
  cairo().set_source_rgb(cr_, 0, 0, 0);
}

Canvas::~Canvas() {
  if (cr_) cairo().destroy(cr_);
  if (surface_) cairo().surface_destroy(surface_);
}

std::string Canvas::finish() {
  cairo().destroy(cr_);
  cr_ = nullptr;
  if (format_ == Format::Png) cairo().surface_write_to_png_stream(surface_, append_bytes, &bytes_);
  cairo().surface_finish(surface_);
  const cairo_status_t status = cairo().surface_status(surface_);
  cairo().surface_destroy(surface_);
  surface_ = nullptr;
  if (status != CAIRO_STATUS_SUCCESS) throw AnalysisError(std::string("plot: cairo failed: ") + cairo().status_to_string(status));
  return format_ == Format::Svg ? renumber_surfaces(bytes_) : std::move(bytes_);
}

void Canvas::text(const std::string& s, double x, double y, double align, double size, bool bold) {
  cairo().select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo().set_font_size(cr_, size);
  cairo_text_extents_t extents;
  cairo().text_extents(cr_, s.c_str(), &extents);
  cairo().move_to(cr_, x - align * extents.x_advance, y);
  cairo().show_text(cr_, s.c_str());
}

double Canvas::text_width(const std::string& s, double size, bool bold) {
  cairo().select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo().set_font_size(cr_, size);
  cairo_text_extents_t extents;
  cairo().text_extents(cr_, s.c_str(), &extents);
  return extents.x_advance;
}

void Canvas::line(double x1, double y1, double x2, double y2, double width) {
  cairo().set_line_width(cr_, width);
  cairo().move_to(cr_, x1, y1);
  cairo().line_to(cr_, x2, y2);
  cairo().stroke(cr_);
}

void Canvas::dashed_line(double x1, double y1, double x2, double y2, double width) {
  const double dashes[] = {3.0, 2.0};
  cairo().set_dash(cr_, dashes, 2, 0);
  line(x1, y1, x2, y2, width);
  cairo().set_dash(cr_, nullptr, 0, 0);
}

std::vector<double> pretty_ticks(double low, double high, int target) {
  if (!(high > low)) {
    const double pad = low == 0 ? 1 : std::fabs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  const double raw = (high - low) / target;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::floor(low / step) * step; t <= std::ceil(high / step) * step + step * 1e-9; t += step)
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string tick_label(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace spiral::plot_detail
