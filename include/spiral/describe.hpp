// `spiral describe`: what a researcher checks first about a data source.
#pragma once
#include <string>
#include <vector>

#include "spiral/report.hpp"
#include "spiral/table.hpp"

namespace spiral {

struct ColumnSummary {
  std::string name;
  std::string type;            // "numeric" | "factor"
  std::size_t n = 0;           // non-missing values
  std::size_t missing = 0;
  double min = NA, mean = NA, sd = NA, max = NA;   // numeric
  std::vector<std::string> levels;                  // factor
  std::vector<std::size_t> counts;                  // factor: count per level
};

struct Description {
  std::string source;
  std::size_t rows = 0;
  std::vector<ColumnSummary> columns;
};

Description describe(const Table& table);
Json to_json(const Description& d);
std::string to_text(const Description& d);
std::string to_csv(const Description& d);

}  // namespace spiral
