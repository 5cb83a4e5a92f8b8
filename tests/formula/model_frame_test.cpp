// Model frame tests. Matrices, names, assign, rows and grouping factors are compared with
// tests/reference/formula/frames.json, written by tests/reference/formula.R from
// tests/data/formula/frame.csv: the frame of lme4::lFormula(f, data)$fr (model.frame with
// drop.unused.levels = TRUE for formulas without bars), model.matrix(nobars(f), fr) with
// attr(, "assign"), and per bar lme4:::mkBlist(bar, fr)$ff with model.matrix(~ lhs, fr).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "spiral/error.hpp"
#include "spiral/formula.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

const Table& fixture() {
  static const Table table = read_table(test::test_path("data/formula/frame.csv"));
  return table;
}

void expect_columns(const Eigen::MatrixXd& m, const nlohmann::json& columns, const std::string& what) {
  ASSERT_EQ(static_cast<std::size_t>(m.cols()), columns.size()) << what;
  for (std::size_t j = 0; j < columns.size(); ++j) {
    ASSERT_EQ(static_cast<std::size_t>(m.rows()), columns[j].size()) << what;
    for (std::size_t i = 0; i < columns[j].size(); ++i) {
      EXPECT_DOUBLE_EQ(m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)), columns[j][i].get<double>())
          << what << " column " << j << " row " << i;
    }
  }
}

TEST(ModelFrame, MatchesLme4Frames) {
  const auto reference = test::reference_json("formula/frames.json");
  ASSERT_GT(reference.size(), 20u);
  for (const auto& expected : reference) {
    const std::string text = expected["formula"];
    SCOPED_TRACE(text);
    const ModelFrame mf = build_model_frame(parse_formula(text), fixture());
    EXPECT_EQ(mf.response, "y");
    EXPECT_EQ(mf.rows, expected["rows"].get<std::vector<std::size_t>>());
    EXPECT_EQ(mf.n_dropped, expected["n_dropped"].get<std::size_t>());
    ASSERT_EQ(static_cast<std::size_t>(mf.y.size()), expected["n"].get<std::size_t>());
    expect_columns(mf.y, nlohmann::json::array({expected["y"]}), "y");
    EXPECT_EQ(mf.x_names, expected["x_names"].get<std::vector<std::string>>());
    EXPECT_EQ(mf.x_assign, expected["x_assign"].get<std::vector<int>>());
    expect_columns(mf.x, expected["x"], "x");
    ASSERT_EQ(mf.random.size(), expected["random"].size());
    for (std::size_t b = 0; b < mf.random.size(); ++b) {
      const auto& block = expected["random"][b];
      const RandomBlock& got = mf.random[b];
      EXPECT_EQ(got.group, block["group"].get<std::string>());
      EXPECT_EQ(got.terms, block["terms"].get<std::vector<std::string>>());
      EXPECT_EQ(got.levels, block["levels"].get<std::vector<std::string>>());
      EXPECT_EQ(got.level_of_row, block["level_of_row"].get<std::vector<int>>());
      expect_columns(got.z, block["z"], "z of " + got.group);
    }
  }
}

// A small in-memory table: y, x numeric; g factor (levels A, B, C).
Table small_table() {
  Table t("mem.csv");
  t.add_numeric("y", {1.0, 2.0, 3.0, 4.0, 5.0, 6.0});
  t.add_numeric("x", {0.5, NA, 1.5, 2.0, 2.5, 3.0});
  t.add_factor("g", {0, 1, 2, 0, 1, -1}, {"A", "B", "C"});
  t.add_numeric("t", {1.0, 2.0, 3.0, NA, 5.0, 6.0});
  t.set_lines({2, 3, 4, 5, 6, 7});
  return t;
}

std::string frame_error(const std::string& formula, const Table& table, const FrameOptions& options = {}) {
  try {
    build_model_frame(parse_formula(formula), table, options);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelFrame, MissingValuesInAnyUsedVariableDropRows) {
  const Table t = small_table();
  const ModelFrame mf = build_model_frame(parse_formula("y ~ x + (1 | g)"), t);
  EXPECT_EQ(mf.rows, (std::vector<std::size_t>{0, 2, 3, 4}));
  EXPECT_EQ(mf.n_dropped, 2u);
  // The extra variable t is missing in row 3.
  FrameOptions options;
  options.extra_variables = {"t"};
  const ModelFrame with_time = build_model_frame(parse_formula("y ~ x + (1 | g)"), t, options);
  EXPECT_EQ(with_time.rows, (std::vector<std::size_t>{0, 2, 4}));
  EXPECT_EQ(with_time.n_dropped, 3u);
  EXPECT_EQ(with_time.random[0].levels, (std::vector<std::string>{"A", "B", "C"}));
}

TEST(ModelFrame, NonSyntacticNamesAreBackquotedInColumnNames) {
  // R: colnames(model.matrix(y ~ `a b` * `if`, d)) is
  // "(Intercept)" "`a b`Q" "`if`" "`a b`Q:`if`".
  Table t("mem.csv");
  t.add_numeric("y", {1, 2, 3, 4});
  t.add_factor("a b", {0, 1, 0, 1}, {"P", "Q"});
  t.add_numeric("if", {1, 3, 2, 5});
  const ModelFrame mf = build_model_frame(parse_formula("y ~ `a b` * `if`"), t);
  EXPECT_EQ(mf.x_names, (std::vector<std::string>{"(Intercept)", "`a b`Q", "`if`", "`a b`Q:`if`"}));
  EXPECT_EQ(mf.x.col(3), (Eigen::VectorXd(4) << 0, 3, 0, 5).finished());
}

TEST(ModelFrame, RemovedTermsStillDropMissingRows) {
  // R: nrow(model.frame(y ~ g + x - x, data)) keeps only rows where x is present.
  const ModelFrame mf = build_model_frame(parse_formula("y ~ g + x - x"), small_table());
  EXPECT_EQ(mf.rows, (std::vector<std::size_t>{0, 2, 3, 4}));
  EXPECT_EQ(mf.x_names, (std::vector<std::string>{"(Intercept)", "gB", "gC"}));
}

TEST(ModelFrame, RowFilterRestrictsRowsWithoutCountingThemAsDropped) {
  FrameOptions options;
  options.row_filter = {true, true, false, true, true, false};
  const ModelFrame mf = build_model_frame(parse_formula("y ~ g"), small_table(), options);
  // x (missing in row 1) is not used; row 5 (g missing) is filtered out, not dropped.
  EXPECT_EQ(mf.rows, (std::vector<std::size_t>{0, 1, 3, 4}));
  EXPECT_EQ(mf.n_dropped, 0u);
  // Level C appears only in the filtered-out row 2: dropped as R's drop.unused.levels.
  EXPECT_EQ(mf.x_names, (std::vector<std::string>{"(Intercept)", "gB"}));
  options.row_filter = {true};
  EXPECT_EQ(frame_error("y ~ g", small_table(), options), "mem.csv: row filter has 1 entries for 6 rows");
}

TEST(ModelFrame, OneSidedFormulaHasNoResponse) {
  const ModelFrame mf = build_model_frame(parse_formula("~ x"), small_table());
  EXPECT_TRUE(mf.response.empty());
  EXPECT_EQ(mf.y.size(), 0);
  EXPECT_EQ(mf.rows.size(), 5u);
  EXPECT_EQ(mf.x_names, (std::vector<std::string>{"(Intercept)", "x"}));
}

TEST(ModelFrame, UnknownColumnIsNamed) {
  EXPECT_EQ(frame_error("y ~ x + nope", small_table()), "mem.csv: unknown column 'nope'");
  EXPECT_EQ(frame_error("y ~ x + (1 | site)", small_table()), "mem.csv: unknown column 'site'");
  FrameOptions options;
  options.extra_variables = {"time"};
  EXPECT_EQ(frame_error("y ~ x", small_table(), options), "mem.csv: unknown column 'time'");
}

TEST(ModelFrame, FactorResponseNamesFirstNonNumber) {
  const Table t = read_delimited_text("y,x\n1,2\nhigh,3\n4,5\n", "bad.csv", {});
  EXPECT_EQ(frame_error("y ~ x", t), "bad.csv:3: column 'y' must be numeric, found 'high'");
  // The same factor column is fine as a covariate (treatment contrasts).
  const ModelFrame mf = build_model_frame(parse_formula("x ~ y"), t);
  EXPECT_EQ(mf.x_names, (std::vector<std::string>{"(Intercept)", "y4", "yhigh"}));
}

TEST(ModelFrame, InfiniteValueIsAnErrorNamingColumnAndLine) {
  Table t = small_table();
  t.add_numeric("x", {0.5, 1.0, INFINITY, 2.0, 2.5, 3.0});
  EXPECT_EQ(frame_error("y ~ x", t), "mem.csv:4: column 'x' has the infinite value Inf");
  t.add_numeric("y", {1.0, 2.0, 3.0, -INFINITY, 5.0, 6.0});
  t.add_numeric("x", {0.5, 1.0, 1.5, 2.0, 2.5, 3.0});
  EXPECT_EQ(frame_error("y ~ x", t), "mem.csv:5: column 'y' has the infinite value -Inf");
  t.set_lines({});
  EXPECT_EQ(frame_error("y ~ x", t), "mem.csv: row 4: column 'y' has the infinite value -Inf");
}

TEST(ModelFrame, NoCompleteRowsIsAnError) {
  Table t("mem.csv");
  t.add_numeric("y", {1.0, NA});
  t.add_numeric("x", {NA, 2.0});
  EXPECT_EQ(frame_error("y ~ x", t), "mem.csv: no complete rows for 'y ~ x' (2 rows with a missing value)");
}

TEST(ModelFrame, FactorWithOneLevelCannotBeCoded) {
  FrameOptions options;
  options.row_filter = {true, false, false, true, false, false};
  EXPECT_EQ(frame_error("y ~ x + g", small_table(), options),
            "mem.csv: factor 'g' has only the level 'A' among the model rows; contrasts need 2 or more levels");
  // As a grouping factor it is not coded by contrasts.
  EXPECT_EQ(frame_error("y ~ x + (1 | g)", small_table(), options), "no error");
}

TEST(ModelFrame, NumericGroupLevelsAreSortedNumbersLabelledAsR) {
  // R: levels(factor(c(10, 2, 1e5, 3.5, 2, 1e-20))) is "1e-20" "2" "3.5" "10" "1e+05".
  Table t("mem.csv");
  t.add_numeric("y", {1, 2, 3, 4, 5, 6});
  t.add_numeric("id", {10, 2, 1e5, 3.5, 2, 1e-20});
  const ModelFrame mf = build_model_frame(parse_formula("y ~ 1 + (1 | id)"), t);
  EXPECT_EQ(mf.random[0].levels, (std::vector<std::string>{"1e-20", "2", "3.5", "10", "1e+05"}));
  EXPECT_EQ(mf.random[0].level_of_row, (std::vector<int>{3, 1, 4, 2, 1, 0}));
}

TEST(ModelFrame, NumericGroupValuesWithTheSameLabelShareALevel) {
  // R: x <- c(0.3, 0.1 + 0.2, 1, 0.3); levels(factor(x)) is "0.3" "1", codes 1 1 2 1.
  Table t("mem.csv");
  t.add_numeric("y", {1, 2, 3, 4});
  t.add_numeric("id", {0.3, 0.1 + 0.2, 1, 0.3});
  const ModelFrame mf = build_model_frame(parse_formula("y ~ (1 | id)"), t);
  EXPECT_EQ(mf.random[0].levels, (std::vector<std::string>{"0.3", "1"}));
  EXPECT_EQ(mf.random[0].level_of_row, (std::vector<int>{0, 0, 1, 0}));
}

TEST(ModelFrame, NumericGroupInRunsOfRowsCodesEveryRow) {
  // R: levels(factor(c(5, 5, 5, 2, 2, 5, 9, 9, 0, -0))) is "0" "2" "5" "9", codes 3 3 3 2 2 3 4 4 1 1.
  Table t("mem.csv");
  t.add_numeric("y", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  t.add_numeric("id", {5, 5, 5, 2, 2, 5, 9, 9, 0, -0.0});
  const ModelFrame mf = build_model_frame(parse_formula("y ~ (1 | id)"), t);
  EXPECT_EQ(mf.random[0].levels, (std::vector<std::string>{"0", "2", "5", "9"}));
  EXPECT_EQ(mf.random[0].level_of_row, (std::vector<int>{2, 2, 2, 1, 1, 2, 3, 3, 0, 0}));
}

// A random term without effects was left to the optimizer ("BOBYQA failed: INVALID_ARGS",
// exit 1), or silently ignored beside another random term.
TEST(ModelFrame, RandomTermWithoutEffectsIsAnInputError) {
  Table t("mem.csv");
  t.add_numeric("y", {1, 2, 3, 4});
  t.add_numeric("x", {1, 3, 2, 5});
  t.add_factor_from_strings("g", {"a", "a", "b", "b"}, {false, false, false, false});
  for (const char* formula : {"y ~ x + (0 | g)", "y ~ x + (-1 | g)", "y ~ x + (1 - 1 | g)", "y ~ (1 | g) + (0 | x)"}) {
    try {
      build_model_frame(parse_formula(formula), t);
      ADD_FAILURE() << formula;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("has no effects"), std::string::npos) << formula << ": " << e.what();
    }
  }
}

// A column of numbers with one stray text value is read as text (as read.csv reads it) and
// enters the model as a factor, a dummy per value: said in a warning. A text column of words,
// and a grouping factor, are not.
TEST(ModelFrame, PredictorOfNumbersWithAStrayValueWarns) {
  const Table t = read_delimited_text("y,x,arm,g\n1,1,a,p\n2,2,b,p\n3,abc,a,q\n4,3,b,q\n5,2,a,r\n", "s.csv", {});
  const ModelFrame mf = build_model_frame(parse_formula("y ~ x + arm + (1 | g)"), t);
  ASSERT_EQ(mf.warnings.size(), 1u);
  EXPECT_EQ(mf.warnings[0],
            "column 'x' enters the model as a factor of 4 levels, 3 of them numbers: its value 'abc' (line 4) is not a number");
}

TEST(ModelFrame, NoInterceptNoTermsGivesNoColumns) {
  // R: ncol(model.matrix(y ~ 0, data)) is 0.
  const ModelFrame mf = build_model_frame(parse_formula("y ~ 0"), small_table());
  EXPECT_EQ(mf.x.rows(), 6);
  EXPECT_EQ(mf.x.cols(), 0);
  EXPECT_TRUE(mf.x_names.empty());
}

TEST(RNumberLabel, MatchesAsCharacter) {
  // R 4.x: as.character(c(0, 1, -2.5, 123456, 1e5, 1e15, 0.1, 1/3, 1e-4, 0.0012, 123456789012, -1e-300))
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"}, {1, "1"}, {-2.5, "-2.5"}, {123456, "123456"}, {1e5, "1e+05"}, {1e15, "1e+15"},
      {0.1, "0.1"}, {1.0 / 3.0, "0.333333333333333"}, {1e-4, "1e-04"}, {0.0012, "0.0012"},
      {123456789012, "123456789012"}, {-1e-300, "-1e-300"},
      // as.character(c(-30, 1200, 120000, 3e6, -1e5, 999999999999999, 1e14, 12e13))
      {-30, "-30"}, {1200, "1200"}, {120000, "120000"}, {3e6, "3e+06"}, {-1e5, "-1e+05"},
      {999999999999999, "999999999999999"}, {1e14, "1e+14"}, {12e13, "1.2e+14"}};
  for (const auto& [x, label] : cases) EXPECT_EQ(r_number_label(x), label) << x;
}

}  // namespace
}  // namespace spiral
