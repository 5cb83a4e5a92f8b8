// sqlite:FILE?table=NAME or sqlite:FILE?query=SELECT ... (opened read-only).
#include <filesystem>

#include <sqlite3.h>

#include "data_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/table.hpp"

namespace spiral {
namespace {

struct Query {
  std::string file;
  std::string sql;
};

std::string quote_identifier(const std::string& name) {
  std::string q = "\"";
  for (char c : name) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

Query parse_source(const std::string& source) {
  const std::string body = source.substr(std::string("sqlite:").size());
  const auto question = body.find('?');
  if (question == std::string::npos) {
    throw InputError(source + ": expected sqlite:FILE?table=NAME or sqlite:FILE?query=SELECT...");
  }
  Query q{source_file(source), ""};
  const std::string arg = body.substr(question + 1);
  if (arg.rfind("table=", 0) == 0 && arg.size() > 6) q.sql = "SELECT * FROM " + quote_identifier(arg.substr(6));
  else if (arg.rfind("query=", 0) == 0 && arg.size() > 6) q.sql = arg.substr(6);
  else throw InputError(source + ": expected ?table=NAME or ?query=SELECT... after the file name");
  return q;
}

}  // namespace

Table read_sqlite(const std::string& source, const ReadOptions& options) {
  const Query q = parse_source(source);
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(q.file, ec)) throw InputError(q.file + ": no such file");
  if (fs::is_directory(q.file, ec)) throw InputError(q.file + ": is a directory, not a file");

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(q.file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    throw InputError(q.file + ": " + message);
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db, q.sql.c_str(), -1, &stmt, &tail) != SQLITE_OK || stmt == nullptr) {
    std::string message = sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    throw InputError(source + ": " + message);
  }
  // Only the first statement would run; what follows it is named rather than ignored.
  const std::string rest = tail ? std::string(tail) : std::string();
  if (rest.find_first_not_of(" \t\r\n;") != std::string::npos) {
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    throw InputError(source + ": the query holds more than one SQL statement ('" + rest + "' follows the first)");
  }
  const int ncol = sqlite3_column_count(stmt);
  std::vector<std::string> names(static_cast<std::size_t>(ncol));
  std::vector<std::vector<std::string>> text(static_cast<std::size_t>(ncol));
  std::vector<std::vector<bool>> missing(static_cast<std::size_t>(ncol));
  for (int j = 0; j < ncol; ++j) names[static_cast<std::size_t>(j)] = sqlite3_column_name(stmt, j);
  int rc = SQLITE_ROW;
  std::string blob_column;  // the first column holding binary data, which is no number or text
  while (blob_column.empty() && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (int j = 0; j < ncol; ++j) {
      auto jj = static_cast<std::size_t>(j);
      if (sqlite3_column_type(stmt, j) == SQLITE_BLOB && blob_column.empty()) blob_column = names[jj];
      const bool null = sqlite3_column_type(stmt, j) == SQLITE_NULL;
      const unsigned char* s = null ? nullptr : sqlite3_column_text(stmt, j);
      text[jj].emplace_back(s ? reinterpret_cast<const char*>(s) : "");
      missing[jj].push_back(null);
    }
  }
  std::string message = rc == SQLITE_DONE || rc == SQLITE_ROW ? "" : sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (!message.empty()) throw InputError(source + ": " + message);
  if (!blob_column.empty()) throw InputError(source + ": column '" + blob_column + "' holds binary data (BLOB), not numbers or text");
  if (ncol == 0) throw InputError(source + ": the query returns no columns");
  if (text[0].empty()) throw InputError(source + ": no data rows");

  Table table(source);
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (table.has(names[j])) throw InputError(source + ": duplicate column name '" + names[j] + "'");
    std::vector<double> numbers(text[j].size(), NA);
    bool numeric = true;
    std::string first_bad;
    for (std::size_t i = 0; i < text[j].size(); ++i) {
      if (missing[j][i] || detail::is_na_token(text[j][i], options.na_tokens)) {
        missing[j][i] = true;
        continue;
      }
      if (numeric && !detail::parse_number(text[j][i], numbers[i])) {
        numeric = false;
        first_bad = text[j][i];
      }
    }
    if (numeric) {
      table.add_numeric(names[j], std::move(numbers));
    } else {
      table.add_factor_from_strings(names[j], text[j], missing[j]);
      table.column(names[j]).first_non_number = first_bad;
    }
  }
  return table;
}

}  // namespace spiral
