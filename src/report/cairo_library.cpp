#include "cairo_library.hpp"

#include <dlfcn.h>

#include <string>

#include "spiral/error.hpp"

namespace spiral::plot_detail {
namespace {

CairoLibrary load_cairo() {
  // Never closed: the library stays for the life of the process, as a linked one would.
  void* handle = dlopen("libcairo.so.2", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw AnalysisError(std::string("plot: cannot load libcairo.so.2: ") + dlerror());
  CairoLibrary library;
#define SPIRAL_CAIRO_LOAD(name)                                                                           \
  library.name = reinterpret_cast<decltype(library.name)>(dlsym(handle, "cairo_" #name));                \
  if (library.name == nullptr) throw AnalysisError("plot: libcairo.so.2 has no cairo_" #name);
  SPIRAL_CAIRO_FUNCTIONS(SPIRAL_CAIRO_LOAD)
#undef SPIRAL_CAIRO_LOAD
  return library;
}

}  // namespace

const CairoLibrary& cairo() {
  static const CairoLibrary library = load_cairo();
  return library;
}

}  // namespace spiral::plot_detail
