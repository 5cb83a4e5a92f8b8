#include "plot_canvas.hpp"
#include "markup.hpp"
#include "spiral/document.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include <fmt/format.h>

#include "spiral/error.hpp"

namespace spiral::plot_detail {

namespace {

constexpr double kDpi = 300.0;
constexpr double kPngScale = kDpi / 72.0;
const char* const kFont = "DejaVu Sans";
// The SVG's font list: DejaVu Sans (whose metrics laid the figure out) and close fallbacks.
const char* const kSvgFonts = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// A coordinate in SVG markup: two decimals, no trailing zeros.
std::string coordinate(double v) {
  std::string s = fmt::format("{:.2f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string svg_color(Color c) {
  return fmt::format("#{:02x}{:02x}{:02x}", static_cast<int>(std::lround(c.r * 255)), static_cast<int>(std::lround(c.g * 255)),
                     static_cast<int>(std::lround(c.b * 255)));
}

// CRC-32 of PNG chunks (ISO 3309, PNG specification section 5.5), bit by bit.
std::uint32_t crc32(const std::string& bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xffffffffu;
}

void append_big_endian(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xffu);
}

// The PNG with a pHYs chunk (pixels per metre, PNG specification 11.3.5.3) after IHDR,
// so that viewers and word processors open it at its size in print: 300 dpi.
std::string with_resolution(const std::string& png) {
  constexpr std::size_t kAfterHeader = 8 + 4 + 4 + 13 + 4;  // signature, IHDR length, type, data, CRC
  if (png.size() < kAfterHeader || png.compare(12, 4, "IHDR") != 0) return png;
  const auto pixels_per_metre = static_cast<std::uint32_t>(std::lround(kDpi / 0.0254));
  std::string chunk = "pHYs";
  append_big_endian(chunk, pixels_per_metre);
  append_big_endian(chunk, pixels_per_metre);
  chunk += '\1';  // unit: metre
  std::string out = png.substr(0, kAfterHeader);
  append_big_endian(out, 9);
  out += chunk;
  append_big_endian(out, crc32(chunk));
  out.append(png, kAfterHeader, std::string::npos);
  return out;
}

void set_color(cairo_t* cr, Color c) { cairo().set_source_rgb(cr, c.r, c.g, c.b); }

}  // namespace

Format format_of_path(const std::string& path) {
  if (ends_with(path, ".svg")) return Format::Svg;
  if (ends_with(path, ".pdf")) return Format::Pdf;
  if (ends_with(path, ".png")) return Format::Png;
  throw InputError("plot: '" + path + "': expected a .svg, .pdf or .png file name");
}

Canvas::Canvas(Format format, double width, double height) : format_(format), width_(width), height_(height) {
  switch (format) {
    case Format::Svg:  // cairo only measures text here
      surface_ = cairo().image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
      bytes_ = fmt::format(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}pt\" height=\"{1}pt\" viewBox=\"0 0 {0} {1}\" "
          "font-family=\"{2}\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n",
          coordinate(width), coordinate(height), kSvgFonts);
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
  if (format == Format::Svg) return;
  if (format == Format::Png) cairo().scale(cr_, kPngScale, kPngScale);
  set_color(cr_, kWhite);  // white page (PNG has no background otherwise)
  cairo().paint(cr_);
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
  if (format_ == Format::Svg) bytes_ += "</svg>\n";
  return format_ == Format::Png ? with_resolution(bytes_) : std::move(bytes_);
}

double Canvas::text_width(const std::string& s, double size, bool bold) {
  cairo().select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo().set_font_size(cr_, size);
  cairo_text_extents_t extents;
  cairo().text_extents(cr_, s.c_str(), &extents);
  return extents.x_advance;
}

void Canvas::text(const std::string& s, double x, double y, double align, double size, bool bold, bool vertical) {
  if (format_ == Format::Svg) {
    const char* anchor = align == 0 ? "start" : align == 1 ? "end" : "middle";
    if (align != 0 && align != 0.5 && align != 1) {
      x -= align * text_width(s, size, bold);
      anchor = "start";
    }
    bytes_ += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\"{}{}{}>{}</text>\n", coordinate(x), coordinate(y),
                          coordinate(size), anchor == std::string("start") ? "" : fmt::format(" text-anchor=\"{}\"", anchor),
                          bold ? " font-weight=\"bold\"" : "",
                          vertical ? fmt::format(" transform=\"rotate(-90 {} {})\"", coordinate(x), coordinate(y)) : "",
                          report_detail::markup_escape(s));
    return;
  }
  const double offset = align * text_width(s, size, bold);
  set_color(cr_, kBlack);
  cairo().save(cr_);
  cairo().translate(cr_, x, y);
  if (vertical) cairo().rotate(cr_, -M_PI / 2);
  cairo().move_to(cr_, -offset, 0);
  cairo().show_text(cr_, s.c_str());
  cairo().restore(cr_);
}

void Canvas::line(double x1, double y1, double x2, double y2, double width, Color color, bool dashed) {
  if (format_ == Format::Svg) {
    bytes_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n", coordinate(x1),
                          coordinate(y1), coordinate(x2), coordinate(y2), svg_color(color), coordinate(width),
                          dashed ? " stroke-dasharray=\"3,2\"" : "");
    return;
  }
  const double dashes[] = {3.0, 2.0};
  if (dashed) cairo().set_dash(cr_, dashes, 2, 0);
  set_color(cr_, color);
  cairo().set_line_width(cr_, width);
  cairo().move_to(cr_, x1, y1);
  cairo().line_to(cr_, x2, y2);
  cairo().stroke(cr_);
  if (dashed) cairo().set_dash(cr_, nullptr, 0, 0);
}

// Fills the current path, then strokes its outline when stroke_width > 0.
void Canvas::fill_and_stroke(Color fill, double stroke_width, Color stroke) {
  set_color(cr_, fill);
  if (stroke_width <= 0) {
    cairo().fill(cr_);
    return;
  }
  cairo().fill_preserve(cr_);
  set_color(cr_, stroke);
  cairo().set_line_width(cr_, stroke_width);
  cairo().stroke(cr_);
}

void Canvas::path(const std::vector<Point>& points, Color fill, double stroke_width, Color stroke) {
  cairo().move_to(cr_, points.front().x, points.front().y);
  for (std::size_t i = 1; i < points.size(); ++i) cairo().line_to(cr_, points[i].x, points[i].y);
  cairo().close_path(cr_);
  fill_and_stroke(fill, stroke_width, stroke);
}

namespace {

std::string svg_paint(Color fill, double stroke_width, Color stroke) {
  std::string s = fmt::format(" fill=\"{}\"", svg_color(fill));
  if (stroke_width > 0) s += fmt::format(" stroke=\"{}\" stroke-width=\"{}\"", svg_color(stroke), coordinate(stroke_width));
  return s;
}

}  // namespace

void Canvas::polygon(const std::vector<Point>& points, Color fill, double stroke_width, Color stroke) {
  if (points.size() < 3) return;
  if (format_ == Format::Svg) {
    std::string list;
    for (const auto& p : points) {
      if (!list.empty()) list += ' ';
      list += coordinate(p.x);
      list += ',';
      list += coordinate(p.y);
    }
    bytes_ += fmt::format("<polygon points=\"{}\"{}/>\n", list, svg_paint(fill, stroke_width, stroke));
    return;
  }
  path(points, fill, stroke_width, stroke);
}

void Canvas::rectangle(double x, double y, double w, double h, Color fill, double stroke_width, Color stroke) {
  if (format_ == Format::Svg) {
    bytes_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}/>\n", coordinate(x), coordinate(y),
                          coordinate(w), coordinate(h), svg_paint(fill, stroke_width, stroke));
    return;
  }
  path({{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}, fill, stroke_width, stroke);
}

void Canvas::circle(double x, double y, double radius, Color fill, double stroke_width, Color stroke) {
  if (format_ == Format::Svg) {
    bytes_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\"{}/>\n", coordinate(x), coordinate(y), coordinate(radius),
                          svg_paint(fill, stroke_width, stroke));
    return;
  }
  cairo().new_path(cr_);
  cairo().arc(cr_, x, y, radius, 0, 2 * M_PI);
  fill_and_stroke(fill, stroke_width, stroke);
}

void Canvas::begin_clip(double x, double y, double w, double h) {
  if (format_ == Format::Svg) {
    ++clips_;
    bytes_ += fmt::format("<clipPath id=\"clip{0}\"><rect x=\"{1}\" y=\"{2}\" width=\"{3}\" height=\"{4}\"/></clipPath>\n"
                          "<g clip-path=\"url(#clip{0})\">\n",
                          clips_, coordinate(x), coordinate(y), coordinate(w), coordinate(h));
    return;
  }
  cairo().save(cr_);
  cairo().rectangle(cr_, x, y, w, h);
  cairo().clip(cr_);
}

void Canvas::end_clip() {
  if (format_ == Format::Svg) {
    bytes_ += "</g>\n";
    return;
  }
  cairo().restore(cr_);
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
  const double first = std::floor(low / step + 1e-9), last = std::ceil(high / step - 1e-9);
  for (double i = first; i <= last; ++i) ticks.push_back(std::fabs(i) < 1e-9 ? 0.0 : i * step);
  return ticks;
}

std::string tick_label(double value, double step) {
  return doc::number(value, std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))));
}

namespace {

// The shortest fixed notation of a tick value (0.05, 0.5, 2, 10), minus signs as the tables'.
std::string short_label(double value) {
  for (int decimals = 0; decimals < 8; ++decimals) {
    const double rounded = std::stod(fmt::format("{:.{}f}", value, decimals));
    if (std::fabs(rounded - value) <= 1e-9 * std::max(1.0, std::fabs(value))) return doc::number(value, decimals);
  }
  return doc::number(value, 8);
}

// Ticks of a ratio scale (shown = exp(model)) inside shown values [low, high]: 1, 2, 5 x 10^k,
// or powers of ten when these are too many.
std::vector<double> ratio_ticks(double low, double high, int target) {
  std::vector<double> ticks;
  for (const std::vector<double>& multipliers : {std::vector<double>{1, 2, 5}, std::vector<double>{1}}) {
    ticks.clear();
    for (int power = static_cast<int>(std::floor(std::log10(low))); power <= static_cast<int>(std::ceil(std::log10(high)));
         ++power)
      for (double m : multipliers) {
        const double value = m * std::pow(10.0, power);
        if (value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9)) ticks.push_back(value);
      }
    if (static_cast<int>(ticks.size()) <= target + 3) break;
  }
  return ticks;
}

}  // namespace

double shown_value(const AxisScale& scale, double x) { return scale.forward ? scale.forward(x) : x; }

Axis effect_axis(double low, double high, const AxisScale& scale, int target) {
  if (!(high > low)) {
    const double pad = low == 0 ? 1 : std::fabs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  Axis axis;
  if (!scale.forward || !scale.inverse) {
    const std::vector<double> ticks = pretty_ticks(low, high, target);
    const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
    for (double t : ticks) axis.ticks.emplace_back(t, tick_label(t, step));
    axis.low = ticks.front();
    axis.high = ticks.back();
    return axis;
  }
  // Back-transformed ticks inside the values' range (a nice value beyond it can lie far away
  // on the model's scale: a correlation of 0.6 is z = 0.69).
  const double shown_low = scale.forward(low), shown_high = scale.forward(high);
  axis.low = low;
  axis.high = high;
  // A narrow ratio range reads best with evenly spaced values (0.8, 0.9, 1, 1.1).
  if (scale.logarithmic && shown_high / shown_low >= 4) {
    for (double t : ratio_ticks(shown_low, shown_high, target)) axis.ticks.emplace_back(scale.inverse(t), short_label(t));
    return axis;
  }
  const std::vector<double> pretty = pretty_ticks(shown_low, shown_high, target);
  // The axis reaches the pretty values just beyond the intervals (a lowest CI of 0.203 gets a
  // tick at 0.2), as metafor's forest() extends its limits to pretty values.
  const double reach = 0.1 * (high - low);
  if (const double p = scale.inverse(pretty.front()); std::isfinite(p) && p < low && low - p <= reach) low = p;
  if (const double p = scale.inverse(pretty.back()); std::isfinite(p) && p > high && p - high <= reach) high = p;
  axis.low = low;
  axis.high = high;
  // Other scales (proportions from logits or arcsines, correlations from z): pretty values of
  // the shown scale first, then 1, 2, 5 x 10^k near its ends (0.01, 0.05, 0.95, 0.99), each
  // kept when it lies far enough from those kept on the model's scale.
  const double min_gap = (high - low) / (2 * target + 2);
  std::vector<double> kept;
  const auto keep_if_apart = [&](double t, double gap) {
    const double position = scale.inverse(t);
    if (!std::isfinite(position) || position < low || position > high) return;
    if (std::any_of(kept.begin(), kept.end(), [&](double k) { return std::fabs(scale.inverse(k) - position) < gap; }))
      return;
    kept.push_back(t);
  };
  for (double t : pretty) keep_if_apart(t, min_gap);
  const auto [first, last] = std::minmax_element(kept.begin(), kept.end());
  const double inner_low = kept.empty() ? INFINITY : *first, inner_high = kept.empty() ? -INFINITY : *last;
  for (int power = -1; power >= -4; --power)  // from the middle outwards: 0.05, 0.02, 0.01 ...
    for (double m : {5.0, 2.0, 1.0})
      for (double t : {m * std::pow(10.0, power), 1 - m * std::pow(10.0, power)})
        if (t < inner_low || t > inner_high) keep_if_apart(t, 2 * min_gap);  // only where the ends need them
  std::sort(kept.begin(), kept.end());
  for (double t : kept) axis.ticks.emplace_back(scale.inverse(t), short_label(t));
  return axis;
}

}  // namespace spiral::plot_detail
