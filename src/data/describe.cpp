#include <cmath>

#include <fmt/format.h>

#include "spiral/describe.hpp"

namespace spiral {

namespace {

ColumnSummary summarize(const Column& c) {
  ColumnSummary s;
  s.name = c.name;
  s.type = c.is_numeric() ? "numeric" : "factor";
  if (c.is_factor()) {
    s.levels = c.levels;
    s.counts.assign(c.levels.size(), 0);
    for (int code : c.codes) {
      if (code < 0) ++s.missing;
      else ++s.counts[static_cast<std::size_t>(code)];
    }
    s.n = c.codes.size() - s.missing;
    return s;
  }
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (double x : c.numbers) {
    if (is_na(x)) {
      ++s.missing;
      continue;
    }
    ++s.n;
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  if (s.n == 0) return s;
  s.mean = sum / static_cast<double>(s.n);
  s.min = lo;
  s.max = hi;
  if (s.n > 1) {
    double ss = 0;
    for (double x : c.numbers) {
      if (!is_na(x)) ss += (x - s.mean) * (x - s.mean);
    }
    s.sd = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  return s;
}

// A level as one line of the text table: line breaks shown as \n.
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += "\\n";
    else if (c != '\r') out += c;
  }
  return out;
}

}  // namespace

Description describe(const Table& table) {
  Description d;
  d.source = table.source();
  d.rows = table.rows();
  for (const Column& c : table.columns()) d.columns.push_back(summarize(c));
  return d;
}

Json to_json(const Description& d) {
  Json columns = Json::array();
  for (const auto& c : d.columns) {
    Json j = {{"name", c.name}, {"type", c.type}, {"n", c.n}, {"missing", c.missing}};
    if (c.type == "numeric") {
      j["min"] = json_number(c.min);
      j["mean"] = json_number(c.mean);
      j["sd"] = json_number(c.sd);
      j["max"] = json_number(c.max);
    } else {
      Json levels = Json::array();
      for (std::size_t k = 0; k < c.levels.size(); ++k) levels.push_back({{"level", c.levels[k]}, {"n", c.counts[k]}});
      j["levels"] = levels;
    }
    columns.push_back(j);
  }
  return Json{{"source", d.source}, {"rows", d.rows}, {"columns", columns}, {"warnings", Json::array()}};
}

std::string to_text(const Description& d) {
  std::string out = fmt::format("Data: {}  ({} rows, {} columns)\n\n", d.source, d.rows, d.columns.size());
  out += fmt::format("{:<20} {:<8} {:>8} {:>8} {:>12} {:>12} {:>12} {:>12}\n", "column", "type", "n", "missing",
                     "min", "mean", "sd", "max");
  const auto num = [](double x) { return is_na(x) ? std::string("NA") : fmt::format("{:.4g}", x); };
  for (const auto& c : d.columns) {
    if (c.type == "numeric") {
      out += fmt::format("{:<20} {:<8} {:>8} {:>8} {:>12} {:>12} {:>12} {:>12}\n", c.name, c.type, c.n, c.missing,
                         num(c.min), num(c.mean), num(c.sd), num(c.max));
      continue;
    }
    std::string levels;
    for (std::size_t k = 0; k < c.levels.size() && k < 6; ++k) {
      levels += fmt::format("{}{} ({})", k ? ", " : "", one_line(c.levels[k]), c.counts[k]);
    }
    if (c.levels.size() > 6) levels += fmt::format(", ... {} levels", c.levels.size());
    out += fmt::format("{:<20} {:<8} {:>8} {:>8}   {}\n", c.name, c.type, c.n, c.missing, levels);
  }
  return out;
}

std::string to_csv(const Description& d) {
  std::string out = "column,type,n,missing,min,mean,sd,max,levels\n";
  for (const auto& c : d.columns) {
    std::string levels;
    for (std::size_t k = 0; k < c.levels.size(); ++k) levels += (k ? ";" : "") + c.levels[k];
    out += fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_field(c.name), c.type, c.n, c.missing, csv_number(c.min),
                       csv_number(c.mean), csv_number(c.sd), csv_number(c.max), csv_field(levels));
  }
  return out;
}

}  // namespace spiral
