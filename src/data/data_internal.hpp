// Helpers shared by the readers in src/data (not part of the public API).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace spiral::detail {

// A whole file's bytes: mapped read-only when it is a regular file (no copy; cached pages
// are mapped at once, not faulted in one by one), else read (a pipe, /dev/stdin). InputError
// when it is missing, a directory or unreadable.
class FileBytes {
 public:
  explicit FileBytes(const std::string& path);
  ~FileBytes();
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  std::string_view view() const;

 private:
  void* map_ = nullptr;
  std::size_t mapped_size_ = 0;
  std::string read_;
};
bool parse_number(std::string_view s, double& value);
bool is_na_token(std::string_view s, const std::vector<std::string>& extra);
// Rejects empty input, NUL bytes and invalid UTF-8, naming the line.
void check_text(std::string_view text, const std::string& name);
// The offset of the first byte sequence that is not UTF-8; npos when there is none.
std::size_t invalid_utf8_at(std::string_view text);

}  // namespace spiral::detail
