#include <charconv>
#include <string>

#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral {

std::string table_csv(const Table& table) {
  std::string out;
  for (std::size_t c = 0; c < table.cols(); ++c) {
    if (c) out += ',';
    out += csv_field(table.columns()[c].name);
  }
  out += '\n';
  for (std::size_t row = 0; row < table.rows(); ++row) {
    for (std::size_t c = 0; c < table.cols(); ++c) {
      const Column& col = table.columns()[c];
      if (c) out += ',';
      if (col.missing(row)) {
        out += "NA";
      } else if (col.is_factor()) {
        out += csv_field(col.text(row));
      } else {
        char buffer[40];
        const auto r = std::to_chars(buffer, buffer + sizeof buffer, col.numbers[row]);
        out.append(buffer, r.ptr);
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace spiral
