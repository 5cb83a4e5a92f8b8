// Steps 1-3 of the recipe of specification section 5 against R (tests/reference/ipd.R: sd(), ave(mean),
// lags by match(paste(patient, session - k))), and the data checks of prep.
#include <cmath>

#include <gtest/gtest.h>

#include "ipd/ipd_internal.hpp"
#include "spiral/ipd.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

IpdSpec test_spec() { return load_spec(test::test_path("data/ipd/analysis.toml")); }

Table sessions_with(const std::string& csv) { return read_delimited_text(csv, "s.csv", {}); }

const char* small_spec = R"(
[data]
source = "s.csv"
[model]
lags = [1, 2]
[variables]
process = "p"
outcome = "o"
)";

TEST(IpdPrep, ColumnsEqualR) {
  const IpdSpec spec = test_spec();
  const Table prepared = prepare(spec, read_table(spec.source));
  const Table r = read_table(test::test_path("reference/ipd/prepared.csv"));
  ASSERT_EQ(prepared.rows(), r.rows());
  for (const std::string name : {"P", "O", "Pm", "Om", "Pw", "Ow", "Pw_lag1", "Ow_lag1", "Pw_lag2", "Ow_lag2"}) {
    const auto& ours = prepared.column(name).numbers;
    const auto& theirs = r.column(name).numbers;
    long missing = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) {
      ASSERT_EQ(is_na(ours[i]), is_na(theirs[i])) << name << " row " << i;
      missing += is_na(ours[i]);
      if (!is_na(ours[i])) {
        ASSERT_NEAR(ours[i], theirs[i], test::tolerance::kPrepColumn) << name << " row " << i;
      }
    }
    if (name.find("lag") != std::string::npos) {
      EXPECT_GT(missing, 100) << name;  // gaps and first sessions
    }
  }
  EXPECT_EQ(prepared.column("session").numbers, r.column("session").numbers);
  EXPECT_EQ(prepared.column("study").text(0), r.column("study").text(0));
}

TEST(IpdPrep, WindowDropsSessionsOutside) {
  const IpdSpec spec = test_spec();
  const Table sessions = read_table(spec.source);
  const Table prepared = prepare(spec, sessions);
  long eights = 0;
  for (double s : sessions.column("session").numbers) eights += s == 8;
  EXPECT_GT(eights, 0);
  EXPECT_EQ(prepared.rows() + static_cast<std::size_t>(eights), sessions.rows());
  for (double s : prepared.column("session").numbers) EXPECT_LE(s, 7);
}

TEST(IpdPrep, LagsFollowSessionNumbersNotRows) {
  // Patient 1 misses session 2: session 3 has no lag 1 but a lag 2 (session 1).
  const IpdSpec spec = parse_spec(small_spec, "t.toml", ".");
  const Table t = sessions_with(
      "study,patient,session,p,o\nA,1,1,1,5\nA,1,3,2,3\nA,1,4,4,4\nA,2,1,3,1\nA,2,2,1,2\nA,2,3,2,2\n");
  const Table prepared = prepare(spec, t);
  const auto& pw = prepared.column("Pw").numbers;
  const auto& lag1 = prepared.column("Pw_lag1").numbers;
  const auto& lag2 = prepared.column("Pw_lag2").numbers;
  EXPECT_TRUE(is_na(lag1[0]));
  EXPECT_TRUE(is_na(lag1[1]));     // session 2 is absent
  EXPECT_EQ(lag2[1], pw[0]);       // session 1
  EXPECT_EQ(lag1[2], pw[1]);       // session 3
  EXPECT_EQ(lag1[5], pw[4]);
  // Patient means of the z-scores: P of patient 1 is (x - 13/6) / sd over all six rows.
  const double mean = 13.0 / 6, sd = std::sqrt((1.36111111111111 + 0.0277777777777778 + 3.36111111111111 +
                                                0.694444444444444 + 1.36111111111111 + 0.0277777777777778) / 5);
  EXPECT_NEAR(prepared.column("P").numbers[0], (1 - mean) / sd, 1e-12);
  EXPECT_NEAR(prepared.column("Pm").numbers[0], ((1 + 2 + 4) / 3.0 - mean) / sd, 1e-12);
}

TEST(IpdPrep, ReverseScoringFlipsTheStandardizedVariable) {
  const IpdSpec spec = test_spec();
  IpdSpec reversed = spec;
  reversed.reverse = {"alliance"};
  const Table sessions = read_table(spec.source);
  const Table a = prepare(spec, sessions), b = prepare(reversed, sessions);
  for (std::size_t i = 0; i < a.rows(); ++i) {
    if (is_na(a.column("P").numbers[i])) continue;
    ASSERT_NEAR(b.column("P").numbers[i], -a.column("P").numbers[i], 1e-12);
    ASSERT_EQ(b.column("alliance").numbers[i], -a.column("alliance").numbers[i]);
    ASSERT_EQ(is_na(b.column("O").numbers[i]), is_na(a.column("O").numbers[i]));
    if (!is_na(a.column("O").numbers[i])) {
      ASSERT_EQ(b.column("O").numbers[i], a.column("O").numbers[i]);
    }
  }
}

std::string prep_error(const std::string& csv, const std::string& extra = "") {
  try {
    prepare(parse_spec(std::string(small_spec) + extra, "t.toml", "."), sessions_with(csv));
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(IpdPrep, TheFirstDuplicateInInputOrderIsNamed) {
  // Patient 2's clash (line 4) comes before patient 1's (line 5) in the file, though patient 1
  // comes first; sessions out of order within a patient.
  EXPECT_EQ(prep_error("study,patient,session,p,o\nA,1,3,1,5\nA,2,2,2,3\nA,2,2,4,4\nA,1,3,3,3\nA,1,1,2,2\n"),
            "s.csv:4: duplicate row for study 'A', patient '2', session 2 (first at s.csv:3)");
  // Numeric ids: 1 and 1.0 are one patient (one text, "1"), and so a duplicate.
  EXPECT_EQ(prep_error("study,patient,session,p,o\nA,1,1,1,5\nA,1.0,1,2,3\n"),
            "s.csv:3: duplicate row for study 'A', patient '1', session 1 (first at s.csv:2)");
  // The same patient id in two studies is two patients.
  EXPECT_EQ(prep_error("study,patient,session,p,o\nA,1,1,1,5\nB,1,1,2,3\nA,1,2,3,1\nB,1,2,1,2\n"), "no error");
}

TEST(IpdPrep, BadDataNamesTheRowsAndColumns) {
  EXPECT_EQ(prep_error("study,patient,session,p,o\nA,1,1,1,5\nA,1,2,2,3\nA,1,2,4,4\n"),
            "s.csv:4: duplicate row for study 'A', patient '1', session 2 (first at s.csv:3)");
  EXPECT_EQ(prep_error("study,patient,session,p,o\nA,1,1,1,5\nA,1,2.5,2,3\n"),
            "s.csv:3: column 'session': '2.5' is not an integer session number");
  EXPECT_EQ(prep_error("study,patient,session,p,o\nA,1,1,1,5\n", "reverse = [\"q\"]\n"),
            "s.csv: unknown column 'q' (spec variables.reverse)");
  EXPECT_EQ(prep_error("study,patient,sess,p,o\nA,1,1,1,5\n"), "s.csv: unknown column 'session' (spec data.session)");
  EXPECT_EQ(prep_error("study,patient,session,p,o,P\nA,1,1,1,5,1\nA,1,2,2,3,1\n"),
            "s.csv: column 'P' clashes with a column that spiral prep adds; rename it");
  EXPECT_NE(prep_error("study,patient,session,p,o\nA,1,1,x,5\nA,1,2,2,3\n").find("s.csv:2: column 'p' must be numeric"),
            std::string::npos);
}

TEST(IpdPrep, PostFileMustMatchThePatients) {
  const IpdSpec spec = test_spec();
  const Table sessions = read_table(spec.source);
  const Table extra = read_delimited_text("study,patient,pre_symptoms,post_symptoms\nBern,999,1,2\n", "p.csv", {});
  Table patients = read_table(spec.post->source);
  try {
    validate_data(spec, sessions, &extra);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "p.csv:2: study 'Bern', patient '999' has no sessions in " + spec.source);
  }
  const Table missing_rows = patients.subset(std::vector<bool>(patients.rows(), false));
  EXPECT_THROW(validate_data(spec, sessions, &missing_rows), InputError);
  EXPECT_NO_THROW(validate_data(spec, sessions, &patients));
}

// The same patient id in two studies is two patients, in the post file as in the sessions.
std::string post_error(const std::string& post_csv) {
  const IpdSpec spec = parse_spec(std::string(small_spec) + "[post]\nsource = \"p.csv\"\npre = \"pre\"\npost = \"post\"\n",
                                  "t.toml", ".");
  const Table sessions = sessions_with("study,patient,session,p,o\nA,1,1,1,5\nB,1,1,2,3\nB,2,1,3,1\n");
  const Table patients = read_delimited_text(post_csv, "p.csv", {});
  try {
    validate_data(spec, sessions, &patients);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(IpdPrep, PostFilePatientsAreStudyAndId) {
  EXPECT_EQ(post_error("study,patient,pre,post\nB,2,1,2\nA,1,1,2\nB,1,1,2\n"), "no error");
  EXPECT_EQ(post_error("study,patient,pre,post\nB,1,1,2\nA,1,1,2\nB,1,3,4\nB,2,1,2\n"),
            "p.csv:4: duplicate row for study 'B', patient '1' (first at p.csv:2)");
  EXPECT_EQ(post_error("study,patient,pre,post\nA,1,1,2\nA,2,1,2\n"),
            "p.csv:3: study 'A', patient '2' has no sessions in s.csv");
  EXPECT_EQ(post_error("study,patient,pre,post\nB,2,1,2\nA,1,1,2\n"),
            "p.csv: no row for study 'B', patient '1' of s.csv:3");
}

// Ids are texts: two levels that print alike, or a level "NA" and a missing value, are one id.
TEST(IpdPrep, IdsAreTheTextsOfTheValues) {
  const auto ids_of = [](std::vector<int> codes, std::vector<std::string> levels) {
    Column c;
    c.name = "id";
    c.kind = Column::Kind::Factor;
    c.codes = std::move(codes);
    c.levels = std::move(levels);
    std::vector<Column> columns;
    columns.push_back(std::move(c));
    return ipd_detail::row_ids(table_from_columns(std::move(columns)), "id");
  };
  const ipd_detail::RowIds sorted = ids_of({1, -1, 0, 1, -1}, {"A", "B"});
  EXPECT_EQ(sorted.code, (std::vector<int>{0, 1, 2, 0, 1}));
  EXPECT_EQ(sorted.text, (std::vector<std::string>{"B", "NA", "A"}));
  const ipd_detail::RowIds alike = ids_of({0, 2, 1}, {"B", "A", "B"});
  EXPECT_EQ(alike.code, (std::vector<int>{0, 0, 1}));
  EXPECT_EQ(alike.text, (std::vector<std::string>{"B", "A"}));
  const ipd_detail::RowIds na = ids_of({1, -1, 0}, {"A", "NA"});
  EXPECT_EQ(na.code, (std::vector<int>{0, 0, 1}));
  EXPECT_EQ(na.text, (std::vector<std::string>{"NA", "A"}));
}

}  // namespace
}  // namespace spiral
