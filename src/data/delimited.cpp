// CSV / TSV / semicolon reader (RFC 4180 quoting, UTF-8 BOM, CRLF, NA tokens).
// Two passes over the bytes in memory: the first parses every field as a number (a large
// file in chunks of whole records, one thread each); only columns that turn out not to be
// numeric are read again as text, so a large numeric file never holds its fields as strings.
#include <algorithm>
#include <bit>
#include <cctype>
#include <deque>
#include <limits>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "common/parallel.hpp"
#include "data_internal.hpp"
#include "spiral/error.hpp"
#include "spiral/table.hpp"

namespace spiral {
namespace {

class Tokenizer {
 public:
  // Reads text from byte `start`, whose line number is `line`.
  Tokenizer(std::string_view text, char sep, const std::string& name, std::size_t start = 0, long line = 1)
      : text_(text), sep_(sep), name_(name), pos_(start), line_(line), record_line_(line) {}

  bool at_end() const { return pos_ >= text_.size(); }
  std::size_t position() const { return pos_; }
  long line() const { return line_; }

  // Reads one record into fields (unquoted views into scratch when a field had quotes).
  // Returns false at end of input.
  bool next(std::vector<std::string_view>& fields, std::vector<bool>& quoted) {
    fields.clear();
    quoted.clear();
    scratch_.clear();
    if (at_end()) return false;
    record_line_ = line_;
    while (true) {
      bool was_quoted = false;
      std::string_view field = read_field(was_quoted);
      fields.push_back(field);
      quoted.push_back(was_quoted);
      if (pos_ >= text_.size()) return true;
      char c = text_[pos_];
      if (c == sep_) {
        ++pos_;
        continue;
      }
      // end of record: \n, \r\n or \r
      ++pos_;
      if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      ++line_;
      return true;
    }
  }
  long record_line() const { return record_line_; }

 private:
  std::string_view read_field(bool& was_quoted) {
    std::size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      was_quoted = true;
      ++pos_;
      std::string value;
      while (true) {
        if (pos_ >= text_.size()) {
          throw InputError(name_ + ":" + std::to_string(record_line_) + ": unterminated quoted field");
        }
        char c = text_[pos_++];
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            value += '"';
            ++pos_;
            continue;
          }
          break;
        }
        if (c == '\n') ++line_;
        value += c;
      }
      if (pos_ < text_.size() && text_[pos_] != sep_ && text_[pos_] != '\n' && text_[pos_] != '\r') {
        throw InputError(name_ + ":" + std::to_string(line_) + ": unexpected character after closing quote");
      }
      scratch_.push_back(std::move(value));
      return scratch_.back();
    }
    pos_ = field_end(pos_);
    return text_.substr(start, pos_ - start);
  }

  // The first separator or line end at or after `pos`, eight bytes at a time: a byte of
  // a word equals c where (word ^ c repeated) has a zero byte; the lowest flagged byte of
  // the has-zero test is exact (Hacker's Delight, 6-1).
  std::size_t field_end(std::size_t pos) const {
    static_assert(std::endian::native == std::endian::little, "the lowest address is the lowest byte");
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
    const auto zero_bytes = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
    const std::uint64_t seps = kOnes * static_cast<unsigned char>(sep_);
    for (; pos + 8 <= text_.size(); pos += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, text_.data() + pos, 8);
      const std::uint64_t found = zero_bytes(word ^ seps) | zero_bytes(word ^ (kOnes * '\n')) |
                                  zero_bytes(word ^ (kOnes * '\r'));
      if (found != 0) return pos + static_cast<std::size_t>(std::countr_zero(found) / 8);
    }
    while (pos < text_.size() && text_[pos] != sep_ && text_[pos] != '\n' && text_[pos] != '\r') ++pos;
    return pos;
  }

  std::string_view text_;
  char sep_;
  const std::string& name_;
  std::size_t pos_;
  long line_;
  long record_line_;
  std::deque<std::string> scratch_;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char detect_separator(std::string_view text) {
  // Count candidate separators in the header line, outside quotes.
  std::size_t commas = 0, semicolons = 0, tabs = 0;
  bool in_quotes = false;
  for (char c : text) {
    if (c == '"') in_quotes = !in_quotes;
    if (in_quotes) continue;
    if (c == '\n' || c == '\r') break;
    if (c == ',') ++commas;
    if (c == ';') ++semicolons;
    if (c == '\t') ++tabs;
  }
  if (tabs >= commas && tabs >= semicolons && tabs > 0) return '\t';
  if (semicolons > commas) return ';';
  return ',';
}

bool is_blank_record(const std::vector<std::string_view>& fields) {
  return fields.size() == 1 && trim(fields[0]).empty();
}

struct ColumnState {
  bool numeric = true;
  std::string first_non_number;
  long first_non_number_line = 0;
};

// A stretch of whole records that pass 1 reads on its own thread, into the rows
// [row_offset, row_offset + rows) of the shared columns.
struct Chunk {
  std::size_t begin = 0, end = 0;  // bytes
  long first_line = 1;
  std::size_t row_offset = 0, row_capacity = 0, rows = 0;  // row_capacity: line ends + 1
  std::vector<ColumnState> state;
};

constexpr std::size_t kMinChunkBytes = std::size_t(1) << 19;
constexpr unsigned kMaxChunks = 8;

std::size_t count_byte(std::string_view text, std::size_t first, std::size_t last, char byte) {
  std::size_t count = 0;
  for (const char* p = text.data() + first, *end = text.data() + last;
       (p = static_cast<const char*>(std::memchr(p, byte, std::size_t(end - p)))) != nullptr; ++p)
    ++count;
  return count;
}

// Carriage returns in [first, last) not followed by '\n': record ends of old Mac files.
std::size_t lone_returns(std::string_view text, std::size_t first, std::size_t last) {
  const std::string_view range = text.substr(0, last);  // no search past `last`
  std::size_t count = 0;
  for (std::size_t i = range.find('\r', first); i != std::string_view::npos; i = range.find('\r', i + 1))
    if (i + 1 == text.size() || text[i + 1] != '\n') ++count;
  return count;
}

// Line ends ('\n', "\r\n" or a lone '\r') in [first, last): records there are at most one more.
std::size_t count_line_ends(std::string_view text, std::size_t first, std::size_t last) {
  return count_byte(text, first, last, '\n') + lone_returns(text, first, last);
}

// Splits the data bytes [begin, text.size()) into chunks of whole records for the threads:
// each boundary follows a '\n' with an even number of quote characters before it (outside
// any quoted field: an escaped quote is two). One chunk for small inputs (a thread costs
// more than it saves below kMinChunkBytes).
std::vector<Chunk> split_records(std::string_view text, std::size_t begin, long first_line, unsigned threads) {
  const std::size_t bytes = text.size() - begin;
  if (threads == 0) threads = std::max(1u, std::min(kMaxChunks, detail::hardware_threads()));
  const auto wanted = static_cast<unsigned>(std::min<std::size_t>(threads, bytes / kMinChunkBytes));
  std::vector<std::size_t> bounds{begin};
  // Only with '\n' and "\r\n" line ends does counting '\n' give a byte's line number, as the
  // tokenizer counts (quoted line breaks included).
  if (wanted > 1 && lone_returns(text, 0, text.size()) == 0) {
    const bool quoted_data = text.find('"', begin) != std::string_view::npos;
    std::size_t quotes = 0, counted = begin;
    for (unsigned c = 1; c < wanted; ++c) {
      std::size_t newline = text.find('\n', std::max(begin + bytes / wanted * c, bounds.back()));
      for (; quoted_data && newline != std::string_view::npos; newline = text.find('\n', newline + 1)) {
        quotes += static_cast<std::size_t>(std::count(text.begin() + std::ptrdiff_t(counted),
                                                       text.begin() + std::ptrdiff_t(newline), '"'));
        counted = newline;
        if (quotes % 2 == 0) break;
      }
      if (newline == std::string_view::npos || newline + 1 >= text.size()) break;
      bounds.push_back(newline + 1);
    }
  }
  bounds.push_back(text.size());
  std::vector<Chunk> chunks(bounds.size() - 1);
  long line = first_line;
  std::size_t rows = 0;
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const std::size_t line_ends = count_line_ends(text, bounds[c], bounds[c + 1]);
    chunks[c].begin = bounds[c];
    chunks[c].end = bounds[c + 1];
    chunks[c].first_line = line;
    chunks[c].row_offset = rows;
    chunks[c].row_capacity = line_ends + 1;
    line += static_cast<long>(line_ends);
    rows += line_ends + 1;
  }
  return chunks;
}

}  // namespace

namespace detail {

// A field as a number; false when it is not one. Accepts R's forms: decimal and
// exponent notation, a leading '+', Inf/-Inf.
bool parse_number(std::string_view s, double& value) {
  s = trim(s);
  if (s.empty()) return false;
  bool negative = false;
  std::string_view body = s;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body == "Inf" || body == "inf") {
    value = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (body.empty() || !(std::isdigit(static_cast<unsigned char>(body.front())) || body.front() == '.')) return false;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value, std::chars_format::general);
  if (end != body.data() + body.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // Overflow is Inf (as R); underflow is 0.
    value = std::strtod(std::string(body).c_str(), nullptr);
  } else if (ec != std::errc()) {
    return false;
  }
  if (negative) value = -value;
  return true;
}

bool is_na_token(std::string_view s, const std::vector<std::string>& extra) {
  std::string_view t = trim(s);
  if (t.empty() || t == "NA" || t == "NaN" || t == ".") return true;
  return std::find(extra.begin(), extra.end(), t) != extra.end();
}

// ASCII, nearly all of a data file, is skipped eight bytes at a time.
std::size_t invalid_utf8_at(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::uint64_t eight = 0;
    if (i + 8 <= text.size() && (std::memcpy(&eight, text.data() + i, 8), (eight & 0x8080808080808080ULL) == 0)) {
      i += 8;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra = (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2 : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
    bool ok = extra > 0;
    for (int k = 1; ok && k <= extra; ++k) {
      ok = i + static_cast<std::size_t>(k) < text.size() &&
           (static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]) & 0xC0) == 0x80;
    }
    if (!ok) return i;
    i += static_cast<std::size_t>(extra) + 1;
  }
  return std::string_view::npos;
}

void check_text(std::string_view text, const std::string& name) {
  if (text.empty()) throw InputError(name + ": file is empty");
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
    throw InputError(name + ": not a text file (contains NUL bytes)");
  }
  // Name the first line with a byte sequence that is not UTF-8.
  if (const std::size_t at = invalid_utf8_at(text); at != std::string_view::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
    throw InputError(name + ":" + std::to_string(line) + ": invalid UTF-8 byte sequence (save the file with UTF-8 encoding)");
  }
}

}  // namespace detail

namespace {

// A field as a number, NA, or (false) text. Numbers are tried first: no built-in NA token
// parses as one.
bool field_value(std::string_view field, const std::vector<std::string>& na_tokens, double& value) {
  if (detail::parse_number(field, value)) {
    if (!na_tokens.empty() && detail::is_na_token(field, na_tokens)) value = NA;
    return true;
  }
  value = NA;
  return detail::is_na_token(field, na_tokens);
}

// Pass 1 over one chunk of records (text ends where the chunk does).
void read_numbers(std::string_view text, char sep, const std::string& name, const ReadOptions& options,
                  const std::vector<bool>& wanted, Chunk& chunk, std::vector<std::vector<double>>& numbers,
                  std::vector<long>& lines) {
  const std::size_t columns = wanted.size();
  std::vector<std::string_view> fields;
  std::vector<bool> quoted;
  chunk.state.assign(columns, ColumnState{});
  Tokenizer reader(text, sep, name, chunk.begin, chunk.first_line);
  std::size_t row = chunk.row_offset;
  while (reader.next(fields, quoted)) {
    if (is_blank_record(fields)) continue;
    const long line = reader.record_line();
    if (fields.size() != columns) {
      throw InputError(name + ":" + std::to_string(line) + ": expected " + std::to_string(columns) +
                       " fields, found " + std::to_string(fields.size()));
    }
    lines[row] = line;
    for (std::size_t j = 0; j < columns; ++j) {
      ColumnState& c = chunk.state[j];
      if (!c.numeric || !wanted[j]) continue;
      if (!field_value(fields[j], options.na_tokens, numbers[j][row])) {
        c.numeric = false;
        c.first_non_number = std::string(fields[j]);
        c.first_non_number_line = line;
      }
    }
    ++row;
  }
  chunk.rows = row - chunk.row_offset;
}

}  // namespace

Table read_delimited_text(std::string_view text, const std::string& name, const ReadOptions& options) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  detail::check_text(text, name);
  const char sep = options.separator ? options.separator : detect_separator(text);

  std::vector<std::string_view> fields;
  std::vector<bool> quoted;

  // Header.
  Tokenizer header_reader(text, sep, name);
  header_reader.next(fields, quoted);
  std::vector<std::string> names;
  for (std::size_t j = 0; j < fields.size(); ++j) {
    std::string column_name(quoted[j] ? fields[j] : trim(fields[j]));
    if (column_name.empty()) column_name = "X";  // R's read.csv name for an empty header cell
    if (std::find(names.begin(), names.end(), column_name) != names.end()) {
      throw InputError(name + ":1: duplicate column name '" + column_name + "'");
    }
    names.push_back(std::move(column_name));
  }
  if (names.size() == 1 && names[0] == "X") throw InputError(name + ":1: empty header line");

  // Pass 1: numbers, on one thread per chunk of records, each into its rows of columns sized
  // for one row per line; then the chunks' rows are moved together.
  std::vector<Chunk> chunks = split_records(text, header_reader.position(), header_reader.line(), options.threads);
  const std::size_t capacity = chunks.back().row_offset + chunks.back().row_capacity;
  // ReadOptions::columns: the others are only checked for their number of fields.
  std::vector<bool> wanted(names.size(), true);
  if (!options.columns.empty())
    for (std::size_t j = 0; j < names.size(); ++j)
      wanted[j] = std::find(options.columns.begin(), options.columns.end(), names[j]) != options.columns.end();
  std::vector<std::vector<double>> numbers(names.size());
  for (std::size_t j = 0; j < names.size(); ++j)
    if (wanted[j]) numbers[j].resize(capacity);
  std::vector<long> lines(capacity);
  const auto read_chunks = [&](std::vector<Chunk>& parts) {
    detail::parallel_for(parts.size(), unsigned(parts.size()), [&](std::size_t c) {
      read_numbers(text.substr(0, parts[c].end), sep, name, options, wanted, parts[c], numbers, lines);
    });
  };
  try {
    read_chunks(chunks);
  } catch (const InputError&) {
    // A split can only be wrong where a stray quote inside an unquoted field upset the
    // count; then the chunk before it ends in an open quoted field, an error. So any error
    // of a split read is taken from a read in one chunk: the serial read's own error.
    if (chunks.size() == 1) throw;
    chunks = split_records(text, header_reader.position(), header_reader.line(), 1);
    read_chunks(chunks);
  }
  std::vector<ColumnState> state(names.size());
  std::size_t row_count = 0;
  for (const Chunk& chunk : chunks) {  // the first text value in file order
    for (std::size_t j = 0; j < names.size(); ++j)
      if (state[j].numeric && !chunk.state[j].numeric) state[j] = chunk.state[j];
    if (chunk.row_offset != row_count) {
      const auto move_rows = [&](auto& column) {
        std::copy_n(column.begin() + std::ptrdiff_t(chunk.row_offset), chunk.rows,
                    column.begin() + std::ptrdiff_t(row_count));
      };
      for (std::size_t j = 0; j < names.size(); ++j)
        if (wanted[j] && state[j].numeric) move_rows(numbers[j]);
      move_rows(lines);
    }
    row_count += chunk.rows;
  }
  if (row_count == 0) throw InputError(name + ": no data rows (only a header)");
  lines.resize(row_count);
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (wanted[j] && state[j].numeric) numbers[j].resize(row_count);
    else numbers[j] = {};
  }

  // Pass 2: text columns as factors.
  std::vector<std::size_t> text_columns;
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (wanted[j] && !state[j].numeric) text_columns.push_back(j);
  }
  std::vector<std::vector<int>> codes(names.size());
  std::vector<std::unordered_map<std::string, int>> interned(names.size());
  std::vector<std::vector<std::string>> first_seen(names.size());
  for (std::size_t j : text_columns) codes[j].reserve(row_count);
  if (!text_columns.empty()) {
    Tokenizer reader(text, sep, name);
    reader.next(fields, quoted);
    while (reader.next(fields, quoted)) {
      if (is_blank_record(fields)) continue;
      for (std::size_t j : text_columns) {
        std::string_view f = quoted[j] ? fields[j] : trim(fields[j]);
        if (detail::is_na_token(f, options.na_tokens)) {
          codes[j].push_back(-1);
          continue;
        }
        auto [it, inserted] = interned[j].emplace(std::string(f), static_cast<int>(first_seen[j].size()));
        if (inserted) first_seen[j].push_back(it->first);
        codes[j].push_back(it->second);
      }
    }
  }

  Table table(name);
  for (std::size_t j = 0; j < names.size(); ++j) {
    if (!wanted[j]) continue;
    if (state[j].numeric) {
      table.add_numeric(names[j], std::move(numbers[j]));
      continue;
    }
    // Levels in byte order; recode from first-seen order.
    std::vector<std::string>& seen = first_seen[j];
    std::vector<int> order(seen.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int>(k);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return seen[static_cast<std::size_t>(a)] < seen[static_cast<std::size_t>(b)]; });
    std::vector<int> recode(seen.size());
    std::vector<std::string> levels(seen.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      recode[static_cast<std::size_t>(order[k])] = static_cast<int>(k);
      levels[k] = seen[static_cast<std::size_t>(order[k])];
    }
    for (int& code : codes[j]) {
      if (code >= 0) code = recode[static_cast<std::size_t>(code)];
    }
    Column c;
    c.name = names[j];
    c.kind = Column::Kind::Factor;
    c.codes = std::move(codes[j]);
    c.levels = std::move(levels);
    c.first_non_number = state[j].first_non_number;
    c.first_non_number_line = state[j].first_non_number_line;
    table.add(std::move(c));
  }
  table.set_lines(std::move(lines));
  return table;
}

Table read_delimited(const std::string& path, const ReadOptions& options) {
  const detail::FileBytes bytes(path);
  return read_delimited_text(bytes.view(), path, options);
}

}  // namespace spiral
