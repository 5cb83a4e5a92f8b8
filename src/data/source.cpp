// read_table(): picks the reader from the SOURCE's form (specification section 2).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/table.hpp"

namespace spiral {
namespace detail {

FileBytes::FileBytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file");
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a directory, not a file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": cannot open: " + std::strerror(errno));
  struct stat status {};
  if (::fstat(fd, &status) == 0 && S_ISREG(status.st_mode) && status.st_size > 0) {
    const auto size = static_cast<std::size_t>(status.st_size);
    void* const map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (map != MAP_FAILED) {
      map_ = map;
      mapped_size_ = size;
      ::close(fd);
      return;
    }
  }
  std::vector<char> block(1 << 16);
  while (true) {
    const ssize_t got = ::read(fd, block.data(), block.size());
    if (got > 0) {
      read_.append(block.data(), static_cast<std::size_t>(got));
    } else if (got == 0) {
      break;
    } else if (errno != EINTR) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      throw InputError(path + ": read error: " + reason);
    }
  }
  ::close(fd);
}

FileBytes::~FileBytes() {
  if (map_ != nullptr) ::munmap(map_, mapped_size_);
}

std::string_view FileBytes::view() const {
  return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), mapped_size_) : std::string_view(read_);
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

std::string source_file(const std::string& source) {
  const std::string prefix = "sqlite:";
  if (source.rfind(prefix, 0) != 0) return source;
  const std::string body = source.substr(prefix.size());
  return body.substr(0, body.find('?'));
}

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
