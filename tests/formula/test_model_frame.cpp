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
#include "tolerances.hpp"

namespace spiral {
namespace {

const Table& fixture() {
  static const Table table = read_table(test::test_path("data/formula/frame.csv"));
  return table;
}

// Columns as R computes them, to the last bits but for the rounding of a different order of
// operations (poly()'s QR against its recurrence, ns()'s QR).
void expect_columns_near(const Eigen::MatrixXd& m, const nlohmann::json& columns, const std::string& what) {
  ASSERT_EQ(static_cast<std::size_t>(m.cols()), columns.size()) << what;
  for (std::size_t j = 0; j < columns.size(); ++j) {
    ASSERT_EQ(static_cast<std::size_t>(m.rows()), columns[j].size()) << what;
    for (std::size_t i = 0; i < columns[j].size(); ++i) {
      const double got = m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      if (columns[j][i].is_null()) {
        EXPECT_TRUE(std::isnan(got)) << what << " column " << j << " row " << i;
      } else {
        EXPECT_NEAR(got, columns[j][i].get<double>(), test::tolerance::kModelFrame * (1 + std::fabs(got))) << what << " column " << j << " row " << i;
      }
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
    EXPECT_EQ(mf.response, parse_formula(text).response);
    EXPECT_EQ(mf.rows, expected["rows"].get<std::vector<std::size_t>>());
    EXPECT_EQ(mf.n_dropped, expected["n_dropped"].get<std::size_t>());
    ASSERT_EQ(static_cast<std::size_t>(mf.y.size()), expected["n"].get<std::size_t>());
    expect_columns_near(mf.y, nlohmann::json::array({expected["y"]}), "y");
    EXPECT_EQ(mf.x_names, expected["x_names"].get<std::vector<std::string>>());
    EXPECT_EQ(mf.x_assign, expected["x_assign"].get<std::vector<int>>());
    expect_columns_near(mf.x, expected["x"], "x");
    if (expected["offset"].empty()) {
      EXPECT_EQ(mf.offset.size(), 0);
    } else {
      expect_columns_near(mf.offset, nlohmann::json::array({expected["offset"]}), "offset");
    }
    ASSERT_EQ(mf.random.size(), expected["random"].size());
    for (std::size_t b = 0; b < mf.random.size(); ++b) {
      const auto& block = expected["random"][b];
      const RandomBlock& got = mf.random[b];
      EXPECT_EQ(got.group, block["group"].get<std::string>());
      EXPECT_EQ(got.terms, block["terms"].get<std::vector<std::string>>());
      EXPECT_EQ(got.levels, block["levels"].get<std::vector<std::string>>());
      EXPECT_EQ(got.level_of_row, block["level_of_row"].get<std::vector<int>>());
      expect_columns_near(got.z, block["z"], "z of " + got.group);
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

TEST(NewDataFrame, MatchesRPredictionMatrices) {
  // tests/reference/formula.R: model.matrix(delete.response(terms(fr)), model.frame(tt, newdata,
  // xlev = .getXlevels(tt, fr))) of tests/data/formula/new.csv: poly(), scale(), ns() and bs()
  // with the fitted coefficients, ns()/bs() beyond the boundary knots, factor levels by name.
  const auto reference = test::reference_json("formula/new_data.json");
  const Table newdata = read_table(test::test_path("data/formula/new.csv"));
  ASSERT_GE(reference.size(), 6u);
  for (const auto& expected : reference) {
    const std::string text = expected["formula"];
    SCOPED_TRACE(text);
    const Formula formula = parse_formula(text);
    const ModelFrame fitted = build_model_frame(formula, fixture());
    std::vector<bool> keep(newdata.rows(), false);
    for (std::size_t row : expected["rows"].get<std::vector<std::size_t>>()) keep[row] = true;
    const NewDataFrame nd = build_new_data_frame(formula, fitted, newdata.subset(keep), false);
    EXPECT_EQ(fitted.x_names, expected["x_names"].get<std::vector<std::string>>());
    expect_columns_near(nd.x, expected["x"], "x");
    expect_columns_near(nd.offset, nlohmann::json::array({expected["offset"]}), "offset");
  }
}

TEST(NewDataFrame, TheFittedRowsGiveTheFittedMatrices) {
  const std::vector<std::string> formulas = {"y ~ poly(z, 2) * grp + scale(x) + (1 + ns(z, 2) | patient) + (1 | site:sex)",
                                             "y ~ factor(therapist) + offset(z) + (1 | site/patient)"};
  for (const auto& text : formulas) {
    SCOPED_TRACE(text);
    const Formula formula = parse_formula(text);
    const ModelFrame fitted = build_model_frame(formula, fixture());
    const NewDataFrame nd = build_new_data_frame(formula, fitted, fixture().select_rows(fitted.rows), true);
    EXPECT_TRUE(std::all_of(nd.complete.begin(), nd.complete.end(), [](bool c) { return c; }));
    EXPECT_LT((nd.x - fitted.x).cwiseAbs().maxCoeff(), 1e-13);
    if (fitted.offset.size() > 0) {
      EXPECT_EQ(nd.offset, fitted.offset);
    }
    ASSERT_EQ(nd.random.size(), fitted.random.size());
    for (std::size_t b = 0; b < nd.random.size(); ++b) {
      EXPECT_EQ(nd.random[b].level_of_row, fitted.random[b].level_of_row);
      EXPECT_LT((nd.random[b].z - fitted.random[b].z).cwiseAbs().maxCoeff(), 1e-13);
    }
  }
}

TEST(NewDataFrame, UnseenLevelsAndMissingColumnsAreNamed) {
  const Formula formula = parse_formula("y ~ x + grp + (1 | patient)");
  const ModelFrame fitted = build_model_frame(formula, fixture());
  const Table newdata = read_table(test::test_path("data/formula/new.csv"));
  try {
    build_new_data_frame(formula, fitted, newdata, true);
    ADD_FAILURE() << "level D of grp is not in the fitted data";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("grp has the level 'D', which the fitted data do not have"), std::string::npos) << e.what();
  }
  std::vector<bool> keep = {true, true, true, true, false};
  const NewDataFrame nd = build_new_data_frame(formula, fitted, newdata.subset(keep), true);
  EXPECT_EQ(nd.complete, (std::vector<bool>{true, true, true, false}));
  // p9 is a patient the fit never saw.
  EXPECT_EQ(nd.random[0].level_of_row[1], -1);
  EXPECT_GE(nd.random[0].level_of_row[0], 0);
  Table without_x = small_table();
  EXPECT_THROW(build_new_data_frame(parse_formula("y ~ sex"), build_model_frame(parse_formula("y ~ sex"), fixture()), without_x, false),
               InputError);
}

TEST(ModelFrame, FunctionErrorsNameTheCall) {
  EXPECT_EQ(frame_error("y ~ poly(x, 2)", fixture()), "formula: poly(x, 2): missing values are not allowed in poly()");
  EXPECT_EQ(frame_error("y ~ poly(session, 4)", fixture()),
            "formula: poly(session, 4): 'degree' must be less than the number of distinct values (4)");
  EXPECT_EQ(frame_error("y ~ log(grp)", fixture()), "formula: grp: is a factor, not numbers");
  EXPECT_EQ(frame_error("y ~ poly(z, degree = 2, foo = 1)", fixture()), "formula: poly(z, degree = 2, foo = 1): unknown argument 'foo'");
  EXPECT_EQ(frame_error("y ~ ns(z)", fixture()), "formula: ns(z): give the degrees of freedom, e.g. ns(x, 3)");
  EXPECT_EQ(frame_error("y ~ poly(z, 1.5)", fixture()), "formula: poly(z, 1.5): degree must be a whole number from 1 to 100");
  EXPECT_NE(frame_error("grp ~ x", fixture()).find("frame.csv:2: column 'grp'"), std::string::npos);
}

TEST(ModelFrame, NaNFromACallDropsTheRowWithAWarning) {
  // R: model.frame(y ~ log(x), data) drops the rows where log(x) is NaN (x < 0), with
  // "NaNs produced"; frames.json checks the rows.
  const ModelFrame mf = build_model_frame(parse_formula("y ~ log(x)"), fixture());
  ASSERT_EQ(mf.warnings.size(), 1u);
  EXPECT_EQ(mf.warnings[0], "log(x) is not a number (NaN) in 18 rows whose values are present; they are dropped");
}

TEST(ModelFrame, FactorOptionAndReferenceLevel) {
  // R: model.matrix(y ~ session + grp, transform(data, session = relevel(factor(session), "4"),
  //   grp = relevel(grp, "C"))) names session1..3 and grpA, grpB (D's only row has no y).
  FrameOptions options;
  options.factors = {"session"};
  options.reference_levels = {{"grp", "C"}, {"session", "4"}};
  const ModelFrame mf = build_model_frame(parse_formula("y ~ session + grp"), fixture(), options);
  EXPECT_EQ(mf.x_names, (std::vector<std::string>{"(Intercept)", "session1", "session2", "session3", "grpA", "grpB"}));
  options.reference_levels = {{"grp", "E"}};
  EXPECT_EQ(frame_error("y ~ grp", fixture(), options), "--ref grp=E: column 'grp' has no level 'E' (its levels: A, B, C, D)");
  options.reference_levels = {{"x", "1"}};
  EXPECT_EQ(frame_error("y ~ x", fixture(), options),
            "--ref x=1: column 'x' is not a factor (--factor=x reads it as one)");
}

TEST(ModelFrame, NumberCodedPredictorIsWarnedAbout) {
  const ModelFrame mf = build_model_frame(parse_formula("y ~ session + x + (1 | patient)"), fixture());
  ASSERT_EQ(mf.warnings.size(), 1u);
  EXPECT_EQ(mf.warnings[0], "column 'session' holds 4 distinct whole numbers and enters the model as one numeric slope; "
                            "if it codes categories, --factor=session makes it a factor");
  FrameOptions quiet;
  quiet.numeric_by_design = {"session"};
  EXPECT_TRUE(build_model_frame(parse_formula("y ~ session"), fixture(), quiet).warnings.empty());
  quiet.numeric_by_design.clear();
  quiet.factors = {"session"};
  EXPECT_TRUE(build_model_frame(parse_formula("y ~ session"), fixture(), quiet).warnings.empty());
}

TEST(ModelFrame, PriorWeightsArePositiveNumbers) {
  FrameOptions options;
  options.weights = "z";
  const ModelFrame mf = build_model_frame(parse_formula("y ~ x"), fixture(), options);
  ASSERT_EQ(mf.weights.size(), mf.y.size());
  EXPECT_EQ(mf.weights[0], 3.6);
  options.weights = "x";
  EXPECT_NE(frame_error("y ~ z", fixture(), options).find("frame.csv:12: weight 'x' is missing"), std::string::npos);
  Table table = small_table();
  table.add_numeric("w", {1, 2, -1, 1, 1, 1});
  options.weights = "w";
  EXPECT_EQ(frame_error("y ~ 1", table, options), "mem.csv:4: weight 'w' is -1; prior weights must be positive numbers");
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
