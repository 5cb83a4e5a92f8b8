// libFuzzer target: the delimited-text reader must accept or reject any bytes with an
// InputError, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "spiral/error.hpp"
#include "spiral/table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    spiral::Table t = spiral::read_delimited_text(text, "fuzz.csv", {});
    for (const auto& c : t.columns()) {
      if (c.is_factor()) (void)t.numeric(c.name);
    }
  } catch (const spiral::InputError&) {
  }
  return 0;
}
