// libFuzzer target: the ReadStat path (SPSS .sav; the format is chosen by the first byte
// of the input so that the Stata and SAS parsers are reached too).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "spiral/error.hpp"
#include "spiral/table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* extensions[] = {".sav", ".dta", ".sas7bdat", ".por"};
  const std::string path = "/tmp/spiral-fuzz-" + std::to_string(getpid()) + extensions[data[0] % 4];
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data + 1, 1, size - 1, f);
  std::fclose(f);
  try {
    (void)spiral::read_readstat(path, {});
  } catch (const spiral::InputError&) {
  }
  std::remove(path.c_str());
  return 0;
}
