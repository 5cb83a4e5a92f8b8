#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <unordered_map>

#include "data_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/table.hpp"

namespace spiral {

std::string Column::text(std::size_t row) const {
  if (missing(row)) return "NA";
  if (is_factor()) return levels[static_cast<std::size_t>(codes[row])];
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.15g", numbers[row]);
  return buffer;
}

bool Table::has(const std::string& name) const {
  return std::any_of(columns_.begin(), columns_.end(), [&](const Column& c) { return c.name == name; });
}

const Column& Table::column(const std::string& name) const {
  for (const auto& c : columns_) {
    if (c.name == name) return c;
  }
  throw InputError(source_ + ": unknown column '" + name + "'");
}

Column& Table::column(const std::string& name) {
  return const_cast<Column&>(static_cast<const Table&>(*this).column(name));
}

const Column& Table::numeric(const std::string& name) const {
  const Column& c = column(name);
  if (c.is_numeric()) return c;
  std::string message = source_;
  if (c.first_non_number_line > 0) {
    message += ':';
    message += std::to_string(c.first_non_number_line);
  }
  // A factor built from a data frame has no first non-number: its first value stands for it.
  std::string found = c.first_non_number;
  for (std::size_t row = 0; found.empty() && row < c.codes.size(); ++row)
    if (!c.missing(row)) found = c.text(row);
  // (Built by appends: GCC 12 gives a false -Wrestrict on concatenations here.)
  message += ": column '";
  message += name;
  message += "' must be numeric, found '";
  message += found;
  message += "'";
  throw InputError(message);
}

void Table::add(Column column) {
  // Text from SPSS/Stata/SAS files, SQLite and data frames is not checked by a reader (CSV
  // text is): names and levels must be UTF-8, as the JSON written from them.
  if (detail::invalid_utf8_at(column.name) != std::string_view::npos)
    throw InputError(source_ + ": the name of column " + std::to_string(columns_.size() + 1) +
                     " is not UTF-8 (save the data with UTF-8 encoding)");
  for (const auto& level : column.levels)
    if (detail::invalid_utf8_at(level) != std::string_view::npos)
      throw InputError(source_ + ": column '" + column.name + "' has text that is not UTF-8 (save the data with UTF-8 encoding)");
  if (!columns_.empty() && column.size() != rows_) {
    throw InputError(source_ + ": column '" + column.name + "' has " + std::to_string(column.size()) +
                     " values, expected " + std::to_string(rows_));
  }
  rows_ = column.size();
  for (auto& c : columns_) {
    if (c.name == column.name) {
      c = std::move(column);
      return;
    }
  }
  columns_.push_back(std::move(column));
}

void Table::add_numeric(const std::string& name, std::vector<double> values) {
  Column c;
  c.name = name;
  c.kind = Column::Kind::Numeric;
  c.numbers = std::move(values);
  add(std::move(c));
}

void Table::add_factor(const std::string& name, std::vector<int> codes, std::vector<std::string> levels) {
  Column c;
  c.name = name;
  c.kind = Column::Kind::Factor;
  c.codes = std::move(codes);
  c.levels = std::move(levels);
  add(std::move(c));
}

void Table::add_factor_in_byte_order(const std::string& name, std::vector<int> codes, std::vector<std::string> levels) {
  // Byte order (std::string compares bytes as unsigned char), as R's radix sort.
  std::vector<int> order(levels.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return levels[std::size_t(a)] < levels[std::size_t(b)]; });
  std::vector<int> renumbered(levels.size());
  std::vector<std::string> sorted;
  sorted.reserve(levels.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    renumbered[std::size_t(order[i])] = static_cast<int>(i);
    sorted.push_back(std::move(levels[std::size_t(order[i])]));
  }
  for (int& code : codes)
    if (code >= 0) code = renumbered[std::size_t(code)];
  add_factor(name, std::move(codes), std::move(sorted));
}

void Table::add_factor_from_strings(const std::string& name, const std::vector<std::string>& values,
                                    const std::vector<bool>& missing) {
  // A value equal to the one before (a patient's sessions, row after row) is not looked up.
  std::unordered_map<std::string, int> code_of;
  std::vector<std::string> levels;  // in order of first appearance
  std::vector<int> codes(values.size(), -1);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (missing[i]) continue;
    if (i > 0 && !missing[i - 1] && values[i] == values[i - 1]) {
      codes[i] = codes[i - 1];
      continue;
    }
    const auto [it, added] = code_of.emplace(values[i], static_cast<int>(levels.size()));
    if (added) levels.push_back(values[i]);
    codes[i] = it->second;
  }
  add_factor_in_byte_order(name, std::move(codes), std::move(levels));
}

std::vector<std::string> drop_unused_levels(const std::vector<std::string>& levels, std::vector<int>& codes) {
  std::vector<int> new_code(levels.size(), -1);
  for (int code : codes)
    if (code >= 0) new_code[static_cast<std::size_t>(code)] = 0;
  std::vector<std::string> used;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    if (new_code[l] < 0) continue;
    new_code[l] = static_cast<int>(used.size());
    used.push_back(levels[l]);
  }
  for (int& code : codes)
    if (code >= 0) code = new_code[static_cast<std::size_t>(code)];
  return used;
}

Table Table::subset(const std::vector<bool>& keep, Levels levels) const {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < rows_; ++i)
    if (keep[i]) rows.push_back(i);
  return select_rows(rows, levels);
}

Table Table::select_rows(const std::vector<std::size_t>& rows, Levels levels) const {
  Table out(source_);
  std::vector<long> lines;
  lines.reserve(rows.size());
  for (std::size_t i : rows) lines.push_back(line_of(i));
  for (const auto& c : columns_) {
    Column d;  // all but the values, which are gathered (not copied whole, then cleared)
    d.name = c.name;
    d.kind = c.kind;
    d.first_non_number = c.first_non_number;
    d.first_non_number_line = c.first_non_number_line;
    if (c.is_numeric()) {
      d.numbers.reserve(rows.size());
      for (std::size_t i : rows) d.numbers.push_back(c.numbers[i]);
    } else {
      d.codes.reserve(rows.size());
      for (std::size_t i : rows) d.codes.push_back(c.codes[i]);
      if (levels == Levels::Keep) d.levels = c.levels;
      else d.levels = drop_unused_levels(c.levels, d.codes);
    }
    out.add(std::move(d));
  }
  if (columns_.empty()) out.rows_ = 0;
  out.set_lines(std::move(lines));
  return out;
}

Table table_from_columns(std::vector<Column> columns, std::string source) {
  Table table(std::move(source));
  for (auto& c : columns) {
    if (table.has(c.name)) throw InputError(table.source() + ": duplicate column name '" + c.name + "'");
    // Codes from outside (an R factor's integers) index the levels: one past them was read
    // out of bounds.
    for (const int code : c.codes)
      if (code >= static_cast<long>(c.levels.size()))
        throw InputError(table.source() + ": column '" + c.name + "' has a factor code beyond its " +
                         std::to_string(c.levels.size()) + " levels");
    table.add(std::move(c));
  }
  return table;
}

}  // namespace spiral
