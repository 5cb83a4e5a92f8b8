// read_table(): picks the reader from the SOURCE's form (contract section 2).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "data_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/table.hpp"

namespace spiral {
namespace detail {

std::string read_whole_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file");
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  // Whole blocks, not character by character; a regular file's size is known up front.
  std::string bytes;
  if (fs::is_regular_file(path, ec)) bytes.reserve(static_cast<std::size_t>(fs::file_size(path, ec)));
  std::vector<char> block(1 << 20);
  while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0)
    bytes.append(block.data(), static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw InputError(path + ": read error");
  return bytes;
}

}  // namespace detail

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// ReadOptions::columns for the readers that read every column anyway.
Table kept_columns(const Table& table, const std::vector<std::string>& names) {
  if (names.empty()) return table;
  Table out(table.source());
  for (const Column& c : table.columns())
    if (std::find(names.begin(), names.end(), c.name) != names.end()) out.add(c);
  std::vector<long> lines(out.rows());
  for (std::size_t i = 0; i < lines.size(); ++i) lines[i] = table.line_of(i);
  out.set_lines(std::move(lines));
  return out;
}

}  // namespace

Table read_table(const std::string& source, const ReadOptions& options) {
  if (source.empty()) throw InputError("--data: no data source given");
  if (source.rfind("sqlite:", 0) == 0) return kept_columns(read_sqlite(source, options), options.columns);
  const std::string ext = lower_extension(source);
  if (ext == ".sav" || ext == ".zsav" || ext == ".por" || ext == ".dta" || ext == ".sas7bdat") {
    return kept_columns(read_readstat(source, options), options.columns);
  }
  if (ext == ".csv" || ext == ".tsv" || ext == ".txt" || ext == ".dat" || ext.empty()) {
    return read_delimited(source, options);
  }
  throw InputError(source + ": unknown data format '" + ext +
                   "' (expected .csv, .tsv, .txt, .sav, .zsav, .por, .dta, .sas7bdat or sqlite:FILE?table=NAME)");
}

}  // namespace spiral
