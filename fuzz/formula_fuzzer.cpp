// libFuzzer target: the formula parser, and the model frame over a small fixed table.
#include <cstddef>
#include <cstdint>
#include <string>

#include "spiral/error.hpp"
#include "spiral/formula.hpp"
#include "spiral/table.hpp"

namespace {

const spiral::Table& fixed_table() {
  static const spiral::Table table = spiral::read_delimited_text(
      "y,x,g,h,z\n1.5,1,a,u,2\n2.5,2,b,v,NA\n0.5,3,a,v,1\n4,4,c,u,3\n3,5,b,u,5\n", "fuzz.csv", {});
  return table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const spiral::Formula f = spiral::parse_formula(text);
    (void)spiral::build_model_frame(f, fixed_table());
  } catch (const spiral::InputError&) {
  }
  return 0;
}
