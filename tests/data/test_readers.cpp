// Readers of specification section 2. Fixtures in tests/data/readers/ were written by
// tests/reference/readers.R (base R write.csv / write.table, haven::write_sav / write_dta,
// RSQLite::dbWriteTable) from one data frame, so every reader must give the same table.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include <sys/stat.h>

#include "spiral/error.hpp"
#include "spiral/table.hpp"
#include "test_support.hpp"

using spiral::Column;
using spiral::InputError;
using spiral::Table;
using spiral::test::test_path;

namespace {

std::string fixture(const std::string& name) { return test_path("data/readers/" + name); }

// The data frame of readers.R, column by column.
void expect_sessions_table(const Table& t) {
  ASSERT_EQ(t.rows(), 6u);
  ASSERT_EQ(t.cols(), 5u);
  const std::vector<std::string> names = {"patient", "session", "alliance", "symptoms", "arm"};
  for (std::size_t j = 0; j < names.size(); ++j) EXPECT_EQ(t.columns()[j].name, names[j]);
  const Column& alliance = t.column("alliance");
  ASSERT_TRUE(alliance.is_numeric());
  EXPECT_DOUBLE_EQ(alliance.numbers[1], 5.25);
  EXPECT_TRUE(alliance.missing(2));
  EXPECT_TRUE(t.column("symptoms").missing(3));
  EXPECT_DOUBLE_EQ(t.column("symptoms").numbers[1], 18.5);
  const Column& arm = t.column("arm");
  ASSERT_TRUE(arm.is_factor());
  EXPECT_EQ(arm.levels, (std::vector<std::string>{"FB", "TAU"}));  // byte order: first level is the reference
  EXPECT_EQ(arm.codes, (std::vector<int>{1, 0, 0, 0, 1, 1}));
}

}  // namespace

TEST(Readers, EveryFormatGivesTheSameTable) {
  for (const char* name : {"sessions.csv", "sessions.tsv", "sessions_semicolon.csv", "sessions.sav", "sessions.zsav",
                           "sessions.dta", "sessions.sas7bdat"}) {
    SCOPED_TRACE(name);
    expect_sessions_table(spiral::read_table(fixture(name)));
  }
  expect_sessions_table(spiral::read_table("sqlite:" + fixture("sessions.sqlite") + "?table=sessions"));
  expect_sessions_table(spiral::read_table("sqlite:" + fixture("sessions.sqlite") + "?query=SELECT * FROM sessions"));
}

TEST(Readers, SpssUserMissingAndValueLabels) {
  const Table plain = spiral::read_table(fixture("labelled.sav"));
  EXPECT_TRUE(plain.column("alliance").missing(2));  // 99 is a user-defined missing value
  EXPECT_EQ(plain.column("alliance").numbers[3], 3.0);
  ASSERT_TRUE(plain.column("arm_code").is_numeric());
  spiral::ReadOptions labels;
  labels.value_labels = true;
  for (const char* name : {"labelled.sav", "labelled.dta"}) {
    SCOPED_TRACE(name);
    const Table t = spiral::read_table(fixture(name), labels);
    const Column& arm = t.column("arm_code");
    ASSERT_TRUE(arm.is_factor());
    EXPECT_EQ(arm.levels, (std::vector<std::string>{"Feedback", "TAU"}));
    EXPECT_EQ(arm.codes[0], 1);
  }
}

TEST(Delimited, MessyButValidText) {
  // BOM, CRLF, quoted separators, doubled quotes, a quoted line break, trailing blank lines.
  const std::string text =
      "\xEF\xBB\xBFid,name,score\r\n1,\"Smith, J\",2.5\r\n2,\"say \"\"hi\"\"\",NA\r\n3,\"two\nlines\",.\r\n\r\n\r\n";
  const Table t = spiral::read_delimited_text(text, "messy.csv", {});
  ASSERT_EQ(t.rows(), 3u);
  EXPECT_EQ(t.column("id").numbers, (std::vector<double>{1, 2, 3}));
  const Column& name = t.column("name");
  EXPECT_EQ(name.levels, (std::vector<std::string>{"Smith, J", "say \"hi\"", "two\nlines"}));
  EXPECT_TRUE(t.column("score").missing(1));
  EXPECT_TRUE(t.column("score").missing(2));
  EXPECT_EQ(t.line_of(2), 4);  // the third data row starts on line 4
}

TEST(Delimited, NumbersAndMissingTokensAsR) {
  spiral::ReadOptions options;
  options.na_tokens = {"-99"};
  const Table t = spiral::read_delimited_text("x;y\n+1e3;-99\n -2.5 ;Inf\nNaN;-Inf\n", "n.csv", options);
  const Column& x = t.column("x");
  ASSERT_TRUE(x.is_numeric());
  EXPECT_EQ(x.numbers[0], 1000.0);
  EXPECT_EQ(x.numbers[1], -2.5);
  EXPECT_TRUE(x.missing(2));
  const Column& y = t.column("y");
  EXPECT_TRUE(y.missing(0));
  EXPECT_TRUE(std::isinf(y.numbers[1]) && y.numbers[1] > 0);
  EXPECT_TRUE(std::isinf(y.numbers[2]) && y.numbers[2] < 0);
}

// Every number reads to the correctly rounded double, the one strtod gives, with any digit
// count and sign.
TEST(Delimited, NumbersReadToTheCorrectlyRoundedDouble) {
  std::mt19937_64 random(20261124);
  std::uniform_real_distribution<double> unit(-1, 1);
  std::string csv = "x\n";
  std::vector<std::string> texts;
  for (int i = 0; i < 20000; ++i) {
    const double x = unit(random) * std::pow(10.0, static_cast<int>(random() % 12) - 5);
    char buffer[64];
    const int digits = 1 + static_cast<int>(random() % 17);
    std::snprintf(buffer, sizeof buffer, i % 2 ? "%.*g" : "%.*f", digits, x);
    texts.push_back(buffer);
    csv += texts.back() + "\n";
  }
  texts.push_back("0.000000000000000000001");
  texts.push_back("123456789012345.6");
  texts.push_back("00000000000000000012.5");
  for (std::size_t i = texts.size() - 3; i < texts.size(); ++i) csv += texts[i] + "\n";
  const Table t = spiral::read_delimited_text(csv, "digits.csv", {});
  const Column& x = t.column("x");
  ASSERT_EQ(x.numbers.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(x.numbers[i], std::strtod(texts[i].c_str(), nullptr)) << texts[i];
}

TEST(Delimited, TextColumnRemembersItsFirstNonNumber) {
  const Table t = spiral::read_delimited_text("y,g\n1,a\n2,b\nthree,c\n", "f.csv", {});
  EXPECT_TRUE(t.column("y").is_factor());
  try {
    t.numeric("y");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "f.csv:4: column 'y' must be numeric, found 'three'");
  }
}

TEST(Delimited, LevelsSortInByteOrder) {
  const Table t = spiral::read_delimited_text("g\nb\nB\na\n\xC3\xA4\n_\n", "g.csv", {});
  EXPECT_EQ(t.column("g").levels, (std::vector<std::string>{"B", "_", "a", "b", "\xC3\xA4"}));
}

TEST(Delimited, SeparatorOverride) {
  spiral::ReadOptions options;
  options.separator = ';';
  const Table t = spiral::read_delimited_text("a,b;c\n1,2;3\n", "s.csv", options);
  EXPECT_TRUE(t.has("a,b"));
  EXPECT_EQ(t.cols(), 2u);
}

namespace {

std::string error_of(const std::string& text) {
  try {
    spiral::read_delimited_text(text, "bad.csv", {});
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Delimited, BadInputNamesFileAndLine) {
  EXPECT_EQ(error_of(""), "bad.csv: file is empty");
  EXPECT_EQ(error_of("a,b\n"), "bad.csv: no data rows (only a header)");
  EXPECT_EQ(error_of("a,b\n1,2\n3\n"), "bad.csv:3: expected 2 fields, found 1");
  EXPECT_EQ(error_of("a,a\n1,2\n"), "bad.csv:1: duplicate column name 'a'");
  EXPECT_EQ(error_of(std::string("a\n\0\n", 4)), "bad.csv: not a text file (contains NUL bytes)");
  EXPECT_EQ(error_of("a\n1\n\xFF\n"), "bad.csv:3: invalid UTF-8 byte sequence (save the file with UTF-8 encoding)");
  // after long ASCII runs and valid multi-byte characters: a lone lead byte, a truncated end
  EXPECT_EQ(error_of("city\nG\xC3\xB6teborg\nMalm\xC3\xB6 and Lund\nx\xC3(y\n"),
            "bad.csv:4: invalid UTF-8 byte sequence (save the file with UTF-8 encoding)");
  EXPECT_EQ(error_of("city\nabcdefghijklmnop\nxyz\xE2\x82"),
            "bad.csv:3: invalid UTF-8 byte sequence (save the file with UTF-8 encoding)");
  EXPECT_EQ(error_of("a,b\n1,\"open\n"), "bad.csv:2: unterminated quoted field");
  EXPECT_EQ(error_of("a,b\n1,\"x\"y\n"), "bad.csv:2: unexpected character after closing quote");
}

TEST(Sources, BadSourcesAreInputErrors) {
  EXPECT_THROW(spiral::read_table(fixture("absent.csv")), InputError);
  EXPECT_THROW(spiral::read_table(test_path("data")), InputError);          // a directory
  EXPECT_THROW(spiral::read_table(fixture("sessions.xlsx")), InputError);   // unknown format
  EXPECT_THROW(spiral::read_table(fixture("sessions.csv") + ".sav"), InputError);
  EXPECT_THROW(spiral::read_table("sqlite:" + fixture("sessions.sqlite")), InputError);
  EXPECT_THROW(spiral::read_table("sqlite:" + fixture("sessions.sqlite") + "?table=nope"), InputError);
  EXPECT_THROW(spiral::read_table("sqlite:" + fixture("sessions.csv") + "?table=sessions"), InputError);
  EXPECT_THROW(spiral::read_readstat(fixture("sessions.csv"), {}), InputError);  // text named as SPSS
}

// A regular file is mapped; a FIFO (or /dev/stdin) cannot be and is read: the same table.
TEST(Sources, FifoIsReadAsTheFileIs) {
  const std::string fifo = spiral::test::temp_dir("fifo") + "/sessions.csv";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::ifstream source(fixture("sessions.csv"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(source)), std::istreambuf_iterator<char>());
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << bytes; });
  const Table t = spiral::read_table(fifo);
  writer.join();
  expect_sessions_table(t);
  const std::string empty = spiral::test::temp_dir("empty") + "/empty.csv";
  std::ofstream(empty).close();
  try {
    (void)spiral::read_table(empty);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), empty + ": file is empty");
  }
}

// A damaged .sav (found by fuzz_readstat) whose second variable has no name: ReadStat hands
// out a null name, which once crashed the reader.
TEST(Sources, UnnamedSpssVariableIsAnInputError) {
  try {
    (void)spiral::read_table(fixture("unnamed_variable.sav"));
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("variable 2 has no name"), std::string::npos) << e.what();
  }
}

// Columns from R or Python: a factor's codes are checked against its levels (an R factor
// with a code past them crashed R), and a factor where a number is needed is named by its
// first value (it said "found ''").
// Text that is not UTF-8 from a source no reader checks (SQLite here; SPSS/Stata/SAS files
// alike) is an input error, not an internal error of the JSON writer (exit 1).
TEST(Sources, TextThatIsNotUtf8IsAnInputError) {
  const std::string db = "sqlite:" + fixture("sessions.sqlite") + "?query=";
  const auto message_of = [&](const std::string& query) {
    try {
      spiral::read_table(db + query, {});
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of("SELECT CAST(x'ff41' AS TEXT) AS a, 1 AS b").find("column 'a' has text that is not UTF-8"),
            std::string::npos);
  EXPECT_NE(message_of("SELECT 1 AS \"\xff\"").find("the name of column 1 is not UTF-8"), std::string::npos);
  // A BLOB column read as all missing, and a second statement was ignored without a word.
  EXPECT_NE(message_of("SELECT x'0001' AS b, 1 AS n").find("column 'b' holds binary data (BLOB)"), std::string::npos);
  EXPECT_NE(message_of("SELECT 1 AS n; SELECT 2 AS m").find("more than one SQL statement"), std::string::npos);
  EXPECT_EQ(message_of("SELECT 1 AS n;"), "no error");
}

TEST(TableOps, ColumnsFromOutsideAreChecked) {
  Column g;
  g.name = "g";
  g.kind = Column::Kind::Factor;
  g.levels = {"a", "b"};
  g.codes = {-1, 0, 1, 2};
  try {
    spiral::table_from_columns({g});
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "data: column 'g' has a factor code beyond its 2 levels");
  }
  g.codes = {-1, 1, 0, 1};
  const Table t = spiral::table_from_columns({g});
  try {
    t.numeric("g");
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "data: column 'g' must be numeric, found 'b'");
  }
}

TEST(TableOps, SubsetKeepsLinesAndLevels) {
  const Table t = spiral::read_table(fixture("sessions.csv"));
  const Table s = t.subset({false, true, false, true, false, false});
  ASSERT_EQ(s.rows(), 2u);
  EXPECT_EQ(s.line_of(0), 3);
  EXPECT_EQ(s.column("arm").levels, t.column("arm").levels);
  EXPECT_EQ(s.column("session").numbers, (std::vector<double>{2, 2}));
}

TEST(TableOps, SubsetCanDropUnusedLevels) {
  const Table t = spiral::read_table(fixture("sessions.csv"));  // arm levels FB, TAU
  const Table fb = t.subset({false, true, true, true, false, false}, Table::Levels::DropUnused);
  EXPECT_EQ(fb.column("arm").levels, (std::vector<std::string>{"FB"}));
  EXPECT_EQ(fb.column("arm").codes, (std::vector<int>{0, 0, 0}));
  const Table tau = t.subset({true, false, false, false, true, false}, Table::Levels::DropUnused);
  EXPECT_EQ(tau.column("arm").levels, (std::vector<std::string>{"TAU"}));
  EXPECT_EQ(tau.column("arm").codes, (std::vector<int>{0, 0}));
  EXPECT_EQ(tau.line_of(1), 6);
}

namespace {

// About 3 MB of records, so that a read on 4 threads splits them into 4 chunks: numbers,
// NA tokens, quoted text with escaped quotes and line breaks (some split points fall inside
// one), blank lines, and a column whose first text value comes in the last quarter.
std::string chunked_text(const std::string& line_end) {
  std::string text = "id,x,note,late" + line_end;
  std::mt19937 random(7);
  for (int row = 0; row < 60000; ++row) {
    text += std::to_string(row) + ",";
    text += row % 11 == 0 ? "NA" : std::to_string(std::uniform_real_distribution<double>(-5, 5)(random));
    text += row % 3 == 0 ? ",\"said \"\"ok\"\"\nthen left, early\"," : ",plain words,";
    text += row == 52000 ? "late text" : std::to_string(row % 7);
    text += line_end;
    if (row % 1000 == 999) text += line_end;  // a blank line
  }
  return text;
}

Table read_with_threads(const std::string& text, unsigned threads) {
  spiral::ReadOptions options;
  options.threads = threads;
  return spiral::read_delimited_text(text, "chunked.csv", options);
}

void expect_same_table(const Table& a, const Table& b) {
  ASSERT_EQ(a.rows(), b.rows());
  ASSERT_EQ(a.cols(), b.cols());
  for (std::size_t j = 0; j < a.cols(); ++j) {
    const Column &x = a.columns()[j], &y = b.columns()[j];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.kind, y.kind) << x.name;
    EXPECT_EQ(x.codes, y.codes) << x.name;
    EXPECT_EQ(x.levels, y.levels) << x.name;
    EXPECT_EQ(x.first_non_number, y.first_non_number) << x.name;
    EXPECT_EQ(x.first_non_number_line, y.first_non_number_line) << x.name;
    ASSERT_EQ(x.numbers.size(), y.numbers.size()) << x.name;
    for (std::size_t i = 0; i < x.numbers.size(); ++i)
      ASSERT_TRUE(x.numbers[i] == y.numbers[i] || (std::isnan(x.numbers[i]) && std::isnan(y.numbers[i])))
          << x.name << " row " << i;
  }
  for (std::size_t i = 0; i < a.rows(); ++i) ASSERT_EQ(a.line_of(i), b.line_of(i)) << "row " << i;
}

std::string error_with_threads(const std::string& text, unsigned threads) {
  try {
    read_with_threads(text, threads);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Delimited, ChunkedReadOnThreadsEqualsOneThread) {
  for (const std::string line_end : {"\n", "\r\n", "\r"}) {
    const std::string text = chunked_text(line_end);
    const Table serial = read_with_threads(text, 1);
    ASSERT_EQ(serial.rows(), 60000u);
    EXPECT_TRUE(serial.column("late").is_factor());
    EXPECT_EQ(serial.column("late").first_non_number, "late text");
    // 2 lines per row with a quoted line break (every third), 1 per blank line, 1 header
    EXPECT_EQ(serial.column("late").first_non_number_line, 2 + 52000 + 52000 / 3 + 1 + 52);
    EXPECT_EQ(serial.line_of(59999), 2 + 59999 + 59999 / 3 + 1 + 59);
    for (unsigned threads : {2u, 3u, 4u, 8u}) expect_same_table(serial, read_with_threads(text, threads));
  }
}

// A quote inside an unquoted field (5" for inches) is a literal character, but it upsets
// the quote count that places the split points; the result must still be the serial one.
TEST(Delimited, ChunkedReadWithStrayQuotesEqualsOneThread) {
  std::string text = "id,height,note\n";
  for (int row = 0; row < 150000; ++row) {  // 3 MB: up to 6 chunks
    text += std::to_string(row) + (row % 5 == 0 ? ",5\"," : ",5,");
    text += row % 2 == 0 ? "\"two\nlines\"\n" : "plain\n";
  }
  const Table serial = read_with_threads(text, 1);
  ASSERT_EQ(serial.rows(), 150000u);
  EXPECT_EQ(serial.column("height").first_non_number, "5\"");
  for (unsigned threads : {2u, 3u, 4u, 5u, 6u}) expect_same_table(serial, read_with_threads(text, threads));
}

TEST(Delimited, ChunkedReadReportsTheFirstErrorInFileOrder) {
  std::string text = chunked_text("\n");
  const auto break_row = [&](std::size_t at) {  // the first record after byte `at` loses its fields
    std::size_t start = text.find('\n', at) + 1;
    while (!std::isdigit(static_cast<unsigned char>(text[start]))) start = text.find('\n', start) + 1;
    text.replace(start, text.find('\n', start) - start, "5");
    return 1 + std::count(text.begin(), text.begin() + std::ptrdiff_t(start), '\n');
  };
  const long late = break_row(text.size() * 9 / 10);
  EXPECT_EQ(error_with_threads(text, 4), "chunked.csv:" + std::to_string(late) + ": expected 4 fields, found 1");
  const long early = break_row(text.size() / 5);
  for (unsigned threads : {1u, 4u})
    EXPECT_EQ(error_with_threads(text, threads), "chunked.csv:" + std::to_string(early) + ": expected 4 fields, found 1");
}

TEST(Readers, OnlyTheRequestedColumnsAreKept) {
  spiral::ReadOptions options;
  options.columns = {"arm", "alliance", "not_in_the_source"};
  for (const std::string& source : {fixture("sessions.csv"), fixture("sessions.sav"), fixture("sessions.dta"),
                                   "sqlite:" + fixture("sessions.sqlite") + "?table=sessions"}) {
    SCOPED_TRACE(source);
    const Table t = spiral::read_table(source, options);
    ASSERT_EQ(t.cols(), 2u);
    EXPECT_EQ(t.columns()[0].name, "alliance");  // in the source's order
    EXPECT_EQ(t.columns()[1].name, "arm");
    EXPECT_EQ(t.rows(), 6u);
    EXPECT_DOUBLE_EQ(t.column("alliance").numbers[1], 5.25);
    EXPECT_EQ(t.column("arm").levels, (std::vector<std::string>{"FB", "TAU"}));
    EXPECT_FALSE(t.has("patient"));
  }
  // The other columns' fields are counted but never parsed: text in them makes no factor,
  // a missing field is still an error.
  spiral::ReadOptions only_a;
  only_a.columns = {"a"};
  const Table t = spiral::read_delimited_text("a,b\n1,x\n2,y\n", "t.csv", only_a);
  EXPECT_EQ(t.cols(), 1u);
  EXPECT_EQ(t.column("a").numbers, (std::vector<double>{1, 2}));
  EXPECT_THROW(spiral::read_delimited_text("a,b\n1,x\n2\n", "t.csv", only_a), InputError);
}
