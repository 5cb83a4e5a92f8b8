// libFuzzer target: the TOML analysis-spec loader.
#include <cstddef>
#include <cstdint>
#include <string>

#include "spiral/error.hpp"
#include "spiral/ipd.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)spiral::parse_spec(text, "fuzz.toml", "/nonexistent");
  } catch (const spiral::InputError&) {
  }
  return 0;
}
