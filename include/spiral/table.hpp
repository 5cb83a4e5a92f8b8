// The column table every reader produces and every model reads (specification section 2).
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace spiral {

inline constexpr double NA = std::numeric_limits<double>::quiet_NaN();
inline bool is_na(double x) { return x != x; }

// A numeric column holds doubles (NaN = missing); a factor column holds level codes
// (-1 = missing) into `levels`, which are sorted in byte order (R's radix sort).
struct Column {
  enum class Kind { Numeric, Factor };
  std::string name;
  Kind kind = Kind::Numeric;
  std::vector<double> numbers;       // Numeric
  std::vector<int> codes;            // Factor
  std::vector<std::string> levels;   // Factor
  bool ordered = false;              // Factor: an ordered one (R's ordered(), pandas ordered=True)
  // For a factor column read from text: the first value that is not a number and the
  // source line it came from, so that "expected a number" errors can name them.
  std::string first_non_number;
  long first_non_number_line = 0;

  bool is_numeric() const { return kind == Kind::Numeric; }
  bool is_factor() const { return kind == Kind::Factor; }
  std::size_t size() const { return is_numeric() ? numbers.size() : codes.size(); }
  bool missing(std::size_t row) const { return is_numeric() ? is_na(numbers[row]) : codes[row] < 0; }
  // The value as text: the number in R's %.15g style, the level, or "NA".
  std::string text(std::size_t row) const;
};

class Table {
 public:
  Table() = default;
  explicit Table(std::string source) : source_(std::move(source)) {}

  const std::string& source() const { return source_; }
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return columns_.size(); }
  const std::vector<Column>& columns() const { return columns_; }

  bool has(const std::string& name) const;
  // Throws InputError "SOURCE: unknown column 'NAME'" when absent.
  const Column& column(const std::string& name) const;
  Column& column(const std::string& name);
  // A numeric column, or InputError naming the first non-numeric value and its line.
  const Column& numeric(const std::string& name) const;

  // Adds a column; its size must equal rows() unless the table is empty.
  // A column of the same name is replaced.
  void add(Column column);
  void add_numeric(const std::string& name, std::vector<double> values);
  void add_factor(const std::string& name, std::vector<int> codes, std::vector<std::string> levels);
  // A factor column whose distinct levels come in any order (e.g. of first appearance): they
  // are sorted into byte order and the codes (-1 = missing) renumbered to match.
  void add_factor_in_byte_order(const std::string& name, std::vector<int> codes, std::vector<std::string> levels);
  // Builds a factor column from text values (empty optional = missing); levels in byte order.
  void add_factor_from_strings(const std::string& name, const std::vector<std::string>& values,
                               const std::vector<bool>& missing);

  // Source line of a data row (1-based, header = line 1) when the reader knows it, else 0.
  long line_of(std::size_t row) const { return row < lines_.size() ? lines_[row] : 0; }
  void set_lines(std::vector<long> lines) { lines_ = std::move(lines); }

  // A new table with only the rows whose flag is true (line numbers kept); its factors keep
  // every level, or only those of the kept rows (in their order, as R's droplevels()).
  enum class Levels { Keep, DropUnused };
  Table subset(const std::vector<bool>& keep, Levels levels = Levels::Keep) const;
  // The same with the kept rows given by their (increasing) indices.
  Table select_rows(const std::vector<std::size_t>& rows, Levels levels = Levels::Keep) const;

 private:
  std::string source_;
  std::size_t rows_ = 0;
  std::vector<Column> columns_;
  std::vector<long> lines_;
};

// Factor codes renumbered to the levels they use, kept in their order (R's droplevels()); those
// levels are returned, and missing codes (-1) stay missing.
std::vector<std::string> drop_unused_levels(const std::vector<std::string>& levels, std::vector<int>& codes);

// Options shared by every reader (specification section 2).
struct ReadOptions {
  char separator = 0;                  // 0 = detect from the header (',' ';' tab)
  std::vector<std::string> na_tokens;  // in addition to "", "NA", "NaN", "."
  bool value_labels = false;           // --labels: SPSS/Stata/SAS value labels become factor levels
  // When not empty: only these columns are kept (the names not in the source are ignored);
  // a delimited file's other fields are then only counted, not parsed.
  std::vector<std::string> columns;
  // Threads that parse a large delimited file in chunks of whole records (0 = one per
  // core, at most 8); the table is the same for any number.
  unsigned threads = 0;
};

// Reads any SOURCE of specification section 2: .csv/.tsv/.txt, .sav/.zsav/.por, .dta,
// .sas7bdat, or sqlite:FILE?table=T / sqlite:FILE?query=Q. Throws InputError.
Table read_table(const std::string& source, const ReadOptions& options = {});
// The file a SOURCE reads: SOURCE itself, or FILE of sqlite:FILE?table=T.
std::string source_file(const std::string& source);

// The individual readers, for callers that know the format.
Table read_delimited(const std::string& path, const ReadOptions& options);
Table read_delimited_text(std::string_view text, const std::string& name, const ReadOptions& options);
Table read_readstat(const std::string& path, const ReadOptions& options);
Table read_sqlite(const std::string& source, const ReadOptions& options);

// Column-wise input (from R / Python data frames): a numeric or text column.
Table table_from_columns(std::vector<Column> columns, std::string source = "data");

// A table as CSV (RFC 4180 quoting): header, numbers in their shortest round-trip form, "NA"
// for missing.
std::string table_csv(const Table& table);

}  // namespace spiral
