// libcairo, loaded on the first plot. A process that draws nothing (most commands) does not
// map cairo and the fifteen libraries it pulls in, which costs about 2 ms at every start.
#pragma once
#include <cairo-pdf.h>
#include <cairo.h>

namespace spiral::plot_detail {

// The cairo functions the plots call, without their "cairo_" prefix.
#define SPIRAL_CAIRO_FUNCTIONS(X)                                                                          \
  X(arc) X(clip) X(close_path) X(create) X(destroy) X(fill) X(fill_preserve) X(image_surface_create)      \
  X(line_to) X(move_to) X(new_path) X(paint) X(pdf_surface_create_for_stream) X(rectangle) X(restore) X(rotate)      \
  X(save) X(scale) X(select_font_face) X(set_dash) X(set_font_size) X(set_line_width) X(set_source_rgb)  \
  X(show_text) X(status_to_string) X(stroke) X(surface_destroy) X(surface_finish) X(surface_status)      \
  X(surface_write_to_png_stream) X(text_extents) X(translate)

// One member per function, typed as it: cairo().move_to(cr, x, y) calls cairo_move_to.
struct CairoLibrary {
#define SPIRAL_CAIRO_MEMBER(name) decltype(&::cairo_##name) name = nullptr;
  SPIRAL_CAIRO_FUNCTIONS(SPIRAL_CAIRO_MEMBER)
#undef SPIRAL_CAIRO_MEMBER
};

// libcairo.so.2, loaded once (also when first called from several threads); AnalysisError
// when it cannot be loaded.
const CairoLibrary& cairo();

}  // namespace spiral::plot_detail
