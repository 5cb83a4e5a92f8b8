#include "zip_archive.hpp"

#include <dlfcn.h>
#include <zip.h>

#include <cstdio>
#include <ctime>

#include "spiral/error.hpp"

namespace spiral::report_detail {
namespace {

// The libzip functions zip_archive calls, without their "zip_" prefix.
#define SPIRAL_ZIP_FUNCTIONS(X)                                                                          \
  X(close) X(discard) X(error_fini) X(error_init) X(error_strerror) X(file_add) X(file_set_mtime)       \
  X(open_from_source) X(source_buffer) X(source_buffer_create) X(source_close) X(source_free)          \
  X(source_keep) X(source_open) X(source_read) X(source_seek) X(source_tell) X(strerror)

struct ZipLibrary {
#define SPIRAL_ZIP_MEMBER(name) decltype(&::zip_##name) name = nullptr;
  SPIRAL_ZIP_FUNCTIONS(SPIRAL_ZIP_MEMBER)
#undef SPIRAL_ZIP_MEMBER
};

ZipLibrary load_zip() {
  // Never closed: the library stays for the life of the process, as a linked one would.
  void* handle = dlopen("libzip.so.4", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) throw AnalysisError(std::string("report.docx: cannot load libzip.so.4: ") + dlerror());
  ZipLibrary library;
#define SPIRAL_ZIP_LOAD(name)                                                                             \
  library.name = reinterpret_cast<decltype(library.name)>(dlsym(handle, "zip_" #name));                  \
  if (library.name == nullptr) throw AnalysisError("report.docx: libzip.so.4 has no zip_" #name);
  SPIRAL_ZIP_FUNCTIONS(SPIRAL_ZIP_LOAD)
#undef SPIRAL_ZIP_LOAD
  return library;
}

const ZipLibrary& zip() {
  static const ZipLibrary library = load_zip();
  return library;
}

[[noreturn]] void fail(const std::string& what) { throw AnalysisError("report.docx: libzip: " + what); }

// 1980-01-01 00:00 local time, the earliest date a zip entry holds.
time_t zip_epoch() {
  std::tm t{};
  t.tm_year = 80;
  t.tm_mday = 1;
  t.tm_isdst = -1;
  return std::mktime(&t);
}

// Adds the entries to an archive written into `buffer`, then closes it (which writes it).
void add_entries(zip_source_t* buffer, const std::vector<std::pair<std::string, std::string>>& files) {
  const ZipLibrary& z = zip();
  zip_error_t error;
  z.error_init(&error);
  zip_t* archive = z.open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (archive == nullptr) {
    const std::string message = z.error_strerror(&error);
    z.error_fini(&error);
    fail(message);
  }
  z.error_fini(&error);
  for (const auto& [name, content] : files) {
    zip_source_t* source = z.source_buffer(archive, content.data(), content.size(), 0);
    const zip_int64_t index = source ? z.file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0 || z.file_set_mtime(archive, static_cast<zip_uint64_t>(index), zip_epoch(), 0) != 0) {
      const std::string message = name + ": " + z.strerror(archive);
      if (source && index < 0) z.source_free(source);
      z.discard(archive);
      fail(message);
    }
  }
  if (z.close(archive) != 0) {
    const std::string message = z.strerror(archive);
    z.discard(archive);
    fail(message);
  }
}

// The bytes libzip wrote into `buffer`.
std::string buffer_bytes(zip_source_t* buffer) {
  const ZipLibrary& z = zip();
  if (z.source_open(buffer) != 0) fail("cannot read the archive back");
  std::string bytes;
  if (z.source_seek(buffer, 0, SEEK_END) == 0) {
    const zip_int64_t size = z.source_tell(buffer);
    if (size > 0 && z.source_seek(buffer, 0, SEEK_SET) == 0) {
      bytes.resize(static_cast<std::size_t>(size));
      if (z.source_read(buffer, bytes.data(), bytes.size()) != size) bytes.clear();
    }
  }
  z.source_close(buffer);
  if (bytes.empty()) fail("cannot read the archive back");
  return bytes;
}

}  // namespace

std::string zip_archive(const std::vector<std::pair<std::string, std::string>>& files) {
  const ZipLibrary& z = zip();
  zip_error_t error;
  z.error_init(&error);
  zip_source_t* buffer = z.source_buffer_create(nullptr, 0, 0, &error);
  z.error_fini(&error);
  if (buffer == nullptr) fail("cannot create an archive in memory");
  z.source_keep(buffer);  // the archive's close would free it; its bytes are read after
  try {
    add_entries(buffer, files);
    std::string bytes = buffer_bytes(buffer);
    z.source_free(buffer);
    return bytes;
  } catch (...) {
    z.source_free(buffer);
    throw;
  }
}

}  // namespace spiral::report_detail
