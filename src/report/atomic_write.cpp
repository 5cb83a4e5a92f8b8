#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spiral/error.hpp"
#include "spiral/report.hpp"

namespace spiral {

void write_file_atomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(path + ": directory '" + dir.string() + "' does not exist");
  if (fs::is_directory(target, ec)) throw InputError(path + ": is a directory");

  // (Built by appends: GCC 12 gives a false -Wrestrict on `"." + string + ".XXXXXX"`.)
  std::string temp = dir.string();
  temp += "/.";
  temp += target.filename().string();
  temp += ".XXXXXX";
  int fd = mkstemp(temp.data());
  if (fd < 0) throw InputError(path + ": cannot write: " + std::strerror(errno));
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      throw InputError(path + ": cannot write: " + std::strerror(err));
    }
    written += static_cast<std::size_t>(n);
  }
  fchmod(fd, 0644);
  if (::close(fd) != 0 || std::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    throw InputError(path + ": cannot write: " + std::strerror(err));
  }
}

}  // namespace spiral
