// `spiral simulate` and the simulate() library call (specification section 6).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "spiral/error.hpp"
#include "spiral/simulate.hpp"
#include "test_support.hpp"

namespace spiral {
namespace {

using test::read_text;
using test::run_spiral;
using test::temp_dir;

SimulateOptions small_options() {
  SimulateOptions o;
  o.studies = 5;
  o.patients = 300;
  o.sessions = 6;
  o.seed = 11;
  return o;
}

const std::vector<double>& numbers(const Table& t, const std::string& name) { return t.column(name).numbers; }

// ------------------------------------------------------------------ determinism

TEST(Simulate, SameSeedSameBytesFromTheCli) {
  const std::string a = temp_dir("same-a"), b = temp_dir("same-b");
  const std::string options = "simulate --studies 4 --patients 200 --sessions 5 --seed 9 --missing 0.2";
  for (const auto& dir : {a, b}) {
    const auto run = run_spiral(options + " --out " + dir + "/s.csv --patients-out " + dir + "/p.csv --truth " + dir +
                                "/truth.json --spec-out " + dir + "/analysis.toml");
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  for (const char* file : {"/s.csv", "/p.csv", "/truth.json", "/analysis.toml"}) {
    const std::string first = read_text(a + file);
    EXPECT_FALSE(first.empty()) << file;
    EXPECT_EQ(first, read_text(b + file)) << file;
  }
  // A different seed gives different data (so the comparison above can fail).
  const auto other = run_spiral("simulate --studies 4 --patients 200 --sessions 5 --seed 10 --missing 0.2 --out " + a +
                                "/other.csv");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(read_text(a + "/s.csv"), read_text(a + "/other.csv"));
}

TEST(Simulate, LibraryMatchesTheFileBytes) {
  const SimulateOptions o = small_options();
  const std::string dir = temp_dir("library-bytes");
  const auto run = run_spiral("simulate --studies 5 --patients 300 --sessions 6 --seed 11 --out " + dir +
                              "/s.csv --patients-out " + dir + "/p.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const SimulatedData data = simulate(o);
  EXPECT_EQ(sessions_csv(data), read_text(dir + "/s.csv"));
  EXPECT_EQ(patients_csv(data), read_text(dir + "/p.csv"));
}

TEST(Simulate, FixedFormatCsv) {
  const SimulatedData data = simulate(small_options());
  const std::string csv = sessions_csv(data);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "study,patient,therapist,session,alliance,symptoms");
  const std::string second = csv.substr(csv.find('\n') + 1, csv.find('\n', csv.find('\n') + 1) - csv.find('\n') - 1);
  EXPECT_EQ(second.substr(0, 10), "S01,P0001,") << second;
  // Four decimals, or NA for a missed session.
  const std::string value = second.substr(second.rfind(',') + 1);
  EXPECT_TRUE(value == "NA" || value.size() - value.find('.') == 5) << second;
}

// ------------------------------------------------------------------ shapes

TEST(Simulate, StudiesOfUnequalSizeSumToPatientsWithUniqueIds) {
  SimulateOptions o = small_options();
  o.studies = 17;
  o.patients = 5350;
  o.sessions = 7;
  o.therapists_per_study = 10;
  const SimulatedData data = simulate(o);
  const Table& s = data.sessions;
  EXPECT_EQ(s.column("study").levels.size(), 17u);
  EXPECT_EQ(data.patients.rows(), 5350u);
  EXPECT_EQ(s.column("patient").levels.size(), 5350u);  // session 1 is always a row
  std::map<int, std::set<int>> patients_of_study, therapists_of_study;
  std::map<int, std::set<int>> studies_of_patient, studies_of_therapist;
  const auto &study = s.column("study").codes, &patient = s.column("patient").codes,
             &therapist = s.column("therapist").codes;
  for (std::size_t r = 0; r < s.rows(); ++r) {
    patients_of_study[study[r]].insert(patient[r]);
    therapists_of_study[study[r]].insert(therapist[r]);
    studies_of_patient[patient[r]].insert(study[r]);
    studies_of_therapist[therapist[r]].insert(study[r]);
  }
  for (const auto& [p, st] : studies_of_patient) EXPECT_EQ(st.size(), 1u) << "patient in several studies";
  for (const auto& [t, st] : studies_of_therapist) EXPECT_EQ(st.size(), 1u) << "therapist in several studies";
  std::size_t smallest = 1u << 30, largest = 0;
  for (const auto& [st, ps] : patients_of_study) {
    smallest = std::min(smallest, ps.size());
    largest = std::max(largest, ps.size());
    EXPECT_LE(therapists_of_study[st].size(), 10u);
    EXPECT_GE(therapists_of_study[st].size(), 5u);
  }
  EXPECT_GE(smallest, 10u);
  EXPECT_GT(largest, 3 * smallest) << "study sizes should be unequal";
  for (double t : numbers(s, "session")) {
    EXPECT_GE(t, 1);
    EXPECT_LE(t, 7);
  }
}

TEST(Simulate, EachStudyHasItsOwnScale) {
  const SimulatedData data = simulate(small_options());
  const Table& s = data.sessions;
  std::map<int, std::pair<double, int>> alliance_mean, symptoms_mean;
  for (std::size_t r = 0; r < s.rows(); ++r) {
    if (is_na(numbers(s, "alliance")[r])) continue;
    auto& a = alliance_mean[s.column("study").codes[r]];
    a.first += numbers(s, "alliance")[r];
    a.second += 1;
    auto& y = symptoms_mean[s.column("study").codes[r]];
    y.first += numbers(s, "symptoms")[r];
    y.second += 1;
  }
  std::set<long> distinct;
  for (const auto& [st, a] : alliance_mean) {
    const double m = a.first / a.second;
    EXPECT_GT(m, 4.0);
    EXPECT_LT(m, 6.5);
    const double y = symptoms_mean[st].first / symptoms_mean[st].second;
    EXPECT_GT(y, 35.0);
    EXPECT_LT(y, 95.0);
    distinct.insert(std::lround(y));
  }
  EXPECT_GE(distinct.size(), 4u) << "study symptom means should differ";
}

// ------------------------------------------------------------------ missingness and dropout

struct MissingCounts {
  double missed_share = 0, hazard = 0, na_rows = 0, absent_missed = 0;
  long rows = 0, attended = 0, missed = 0;
};

MissingCounts count_missing(const SimulatedData& d, int sessions) {
  MissingCounts c;
  const auto &attended = numbers(d.latent, "attended"), &missed = numbers(d.latent, "missed");
  long at_risk = 0, left = 0;
  for (std::size_t r = 0; r < attended.size(); ++r) {
    c.attended += attended[r] > 0;
    c.missed += missed[r] > 0;
    const bool last_of_patient = (r + 1) % static_cast<std::size_t>(sessions) == 0;
    if (!last_of_patient && attended[r] > 0) {
      ++at_risk;
      left += attended[r + 1] == 0;
    }
  }
  c.missed_share = static_cast<double>(c.missed) / static_cast<double>(c.attended);
  c.hazard = static_cast<double>(left) / static_cast<double>(at_risk);
  c.rows = static_cast<long>(d.sessions.rows());
  for (double a : numbers(d.sessions, "alliance")) c.na_rows += is_na(a);
  c.absent_missed = static_cast<double>(c.attended - c.rows);
  return c;
}

TEST(Simulate, MissedSessionsAndDropoutAsAsked) {
  SimulateOptions o = small_options();
  o.patients = 8000;
  o.sessions = 7;
  o.missing = 0.2;
  o.dropout = 0.1;
  const SimulatedData data = simulate(o);
  ASSERT_EQ(data.latent.rows(), 8000u * 7u);
  const MissingCounts c = count_missing(data, 7);
  EXPECT_NEAR(c.missed_share, 0.2, 0.01);  // SE about 0.002
  EXPECT_NEAR(c.hazard, 0.1, 0.01);        // SE about 0.0014
  // A missed session is an absent row or a row with empty values, about half each after
  // session 1 (a missed session 1 is always a row with empty values).
  EXPECT_EQ(c.na_rows + c.absent_missed, static_cast<double>(c.missed));
  EXPECT_GT(c.na_rows / c.missed, 0.5);
  EXPECT_LT(c.na_rows / c.missed, 0.65);
  // Both values of a missed row are missing; no value of an attended row is.
  const auto &alliance = numbers(data.sessions, "alliance"), &symptoms = numbers(data.sessions, "symptoms");
  for (std::size_t r = 0; r < alliance.size(); ++r) ASSERT_EQ(is_na(alliance[r]), is_na(symptoms[r]));
}

TEST(Simulate, MissingnessDependsOnThePreviousSymptoms) {
  SimulateOptions o = small_options();
  o.patients = 8000;
  o.missing = 0.3;
  const SimulatedData data = simulate(o);
  const auto &missed = numbers(data.latent, "missed"), &outcome = numbers(data.latent, "outcome"),
             &session = numbers(data.latent, "session"), &attended = numbers(data.latent, "attended");
  double missed_high = 0, n_high = 0, missed_low = 0, n_low = 0;
  for (std::size_t r = 1; r < missed.size(); ++r) {
    if (session[r] == 1 || attended[r] == 0) continue;
    if (outcome[r - 1] > 0.5) {
      missed_high += missed[r];
      n_high += 1;
    } else if (outcome[r - 1] < -0.5) {
      missed_low += missed[r];
      n_low += 1;
    }
  }
  EXPECT_GT(missed_high / n_high - missed_low / n_low, 0.1) << "MAR: more missed after high symptoms";
}

TEST(Simulate, NoMissingNoDropoutGivesTheFullGrid) {
  SimulateOptions o = small_options();
  o.missing = 0;
  o.dropout = 0;
  const SimulatedData data = simulate(o);
  EXPECT_EQ(data.sessions.rows(), 300u * 6u);
  for (double a : numbers(data.sessions, "alliance")) ASSERT_FALSE(is_na(a));
  for (double p : numbers(data.patients, "post_symptoms")) ASSERT_FALSE(is_na(p));
}

// ------------------------------------------------------------------ the generating model

// Pooled OLS of y on (x1, x2) without intercept (the within parts have mean 0).
std::pair<double, double> regress2(const std::vector<double>& y, const std::vector<double>& x1,
                                   const std::vector<double>& x2) {
  double s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    s11 += x1[i] * x1[i];
    s12 += x1[i] * x2[i];
    s22 += x2[i] * x2[i];
    s1y += x1[i] * y[i];
    s2y += x2[i] * y[i];
  }
  const double det = s11 * s22 - s12 * s12;
  return {(s22 * s1y - s12 * s2y) / det, (s11 * s2y - s12 * s1y) / det};
}

double variance(const std::vector<double>& x) {
  double m = 0;
  for (double v : x) m += v;
  m /= static_cast<double>(x.size());
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return s / static_cast<double>(x.size() - 1);
}

struct Latent {
  std::vector<double> p, o, p_lag, o_lag;          // within parts at t and t-1
  std::vector<double> p_first, o_first, p_last, o_last, p_total, o_total;
};

Latent latent_pairs(const SimulatedData& d, int sessions) {
  Latent l;
  const auto &pw = numbers(d.latent, "process_within"), &ow = numbers(d.latent, "outcome_within"),
             &session = numbers(d.latent, "session");
  for (std::size_t r = 0; r < pw.size(); ++r) {
    l.p_total.push_back(numbers(d.latent, "process")[r]);
    l.o_total.push_back(numbers(d.latent, "outcome")[r]);
    if (session[r] == 1) {
      l.p_first.push_back(pw[r]);
      l.o_first.push_back(ow[r]);
      continue;
    }
    if (session[r] == sessions) {
      l.p_last.push_back(pw[r]);
      l.o_last.push_back(ow[r]);
    }
    l.p.push_back(pw[r]);
    l.o.push_back(ow[r]);
    l.p_lag.push_back(pw[r - 1]);
    l.o_lag.push_back(ow[r - 1]);
  }
  return l;
}

TEST(Simulate, LagOneRegressionsRecoverTheVarCoefficients) {
  SimulateOptions o;
  o.studies = 20;
  o.patients = 30000;
  o.sessions = 6;
  o.seed = 3;
  o.process_ar = 0.5;
  o.outcome_ar = 0.2;
  o.process_to_outcome = -0.2;
  o.outcome_to_process = 0.15;
  const SimulatedData data = simulate(o);
  const Latent l = latent_pairs(data, o.sessions);
  // 150,000 transitions: the SEs of the pooled coefficients are about 0.003; the mean of 20
  // study deviations (SD 0.03) adds about 0.007 to the cross-lagged ones.
  const auto [p_on_p, p_on_o] = regress2(l.p, l.p_lag, l.o_lag);
  const auto [o_on_p, o_on_o] = regress2(l.o, l.p_lag, l.o_lag);
  EXPECT_NEAR(p_on_p, 0.5, 0.015);
  EXPECT_NEAR(p_on_o, 0.15, 0.025);
  EXPECT_NEAR(o_on_p, -0.2, 0.025);
  EXPECT_NEAR(o_on_o, 0.2, 0.015);
}

TEST(Simulate, StationaryAndEqualVariances) {
  SimulateOptions o;
  o.patients = 20000;
  o.sessions = 7;
  o.process_ar = 0.6;  // unequal dynamics: equal variances come from the innovation covariance
  o.outcome_ar = 0.1;
  const SimulatedData data = simulate(o);
  const Latent l = latent_pairs(data, o.sessions);
  // Within-person variance 0.5 for both variables at the first and the last session.
  EXPECT_NEAR(variance(l.p_first), 0.5, 0.02);
  EXPECT_NEAR(variance(l.o_first), 0.5, 0.02);
  EXPECT_NEAR(variance(l.p_last), 0.5, 0.02);
  EXPECT_NEAR(variance(l.o_last), 0.5, 0.02);
  // Equal total variance of process and outcome before the study scale.
  EXPECT_NEAR(variance(l.p_total) / variance(l.o_total), 1.0, 0.04);
  EXPECT_NEAR(variance(l.p_total), 1.0 + 0.05 * 0.05 * 4.0 * 7.0 / 6.0, 0.05);  // 1 + trend variance
}

TEST(Simulate, PatientsCrossLaggedSlopesVaryWithSlopeSd) {
  // Per-patient OLS slopes of O_t on P_{t-1} spread more with a larger --slope-sd.
  auto slope_spread = [](double slope_sd) {
    SimulateOptions o;
    o.patients = 4000;
    o.sessions = 60;
    o.study_sd = 0;
    o.slope_sd = slope_sd;
    const SimulatedData data = simulate(o);
    const Latent l = latent_pairs(data, o.sessions);
    std::vector<double> slopes;
    const std::size_t per_patient = static_cast<std::size_t>(o.sessions - 1);
    for (std::size_t start = 0; start < l.o.size(); start += per_patient) {
      const std::vector<double> y(l.o.begin() + static_cast<long>(start), l.o.begin() + static_cast<long>(start + per_patient));
      const std::vector<double> x1(l.p_lag.begin() + static_cast<long>(start), l.p_lag.begin() + static_cast<long>(start + per_patient));
      const std::vector<double> x2(l.o_lag.begin() + static_cast<long>(start), l.o_lag.begin() + static_cast<long>(start + per_patient));
      slopes.push_back(regress2(y, x1, x2).first);
    }
    return variance(slopes);
  };
  const double without = slope_spread(0.0), with = slope_spread(0.2);
  // Sampling variance of a 59-point slope is about 0.02; a slope SD of 0.2 adds 0.04.
  EXPECT_NEAR(with - without, 0.04, 0.012);
}

TEST(Simulate, PostIsDrivenByEarlyAlliance) {
  SimulateOptions o = small_options();
  o.studies = 1;
  o.patients = 5000;
  o.missing = 0;
  const SimulatedData data = simulate(o);
  std::vector<double> early, post, pre;
  const auto& process = numbers(data.latent, "process");
  for (std::size_t i = 0; i < data.patients.rows(); ++i) {
    const std::size_t first = i * static_cast<std::size_t>(o.sessions);
    early.push_back((process[first] + process[first + 1] + process[first + 2]) / 3);
    pre.push_back(numbers(data.patients, "pre_symptoms")[i]);
    post.push_back(numbers(data.patients, "post_symptoms")[i]);
  }
  auto centre = [](std::vector<double> x) {
    double m = 0;
    for (double v : x) m += v;
    m /= static_cast<double>(x.size());
    for (double& v : x) v -= m;
    return x;
  };
  const auto [b_early, b_pre] = regress2(centre(post), centre(early), centre(pre));
  // post = 0.5 pre - 0.3 early on the latent scale; the study's symptom SD multiplies the
  // early-alliance coefficient (pre and post share the symptom scale).
  EXPECT_NEAR(b_pre, 0.5, 0.05);
  EXPECT_LT(b_early, -0.3 * 12.0 * 0.8);
  EXPECT_GT(b_early, -0.3 * 20.0 * 1.2);
}

// ------------------------------------------------------------------ truth and spec

TEST(Simulate, TruthMapsTheContractTerms) {
  SimulateOptions o;
  o.process_to_outcome = -0.21;
  o.outcome_to_process = 0.07;
  o.process_ar = 0.33;
  o.outcome_ar = 0.44;
  const Json truth = truth_json(simulation_truth(o));
  EXPECT_DOUBLE_EQ(truth["process_to_outcome"]["Pw_lag1"].get<double>(), -0.21);
  EXPECT_DOUBLE_EQ(truth["process_to_outcome"]["Ow_lag1"].get<double>(), 0.44);
  EXPECT_DOUBLE_EQ(truth["outcome_to_process"]["Ow_lag1"].get<double>(), 0.07);
  EXPECT_DOUBLE_EQ(truth["outcome_to_process"]["Pw_lag1"].get<double>(), 0.33);
  EXPECT_DOUBLE_EQ(truth["panel"]["process_to_outcome"].get<double>(), -0.21);
  EXPECT_DOUBLE_EQ(truth["panel"]["outcome_to_process"].get<double>(), 0.07);
  EXPECT_DOUBLE_EQ(truth["panel"]["process_ar"].get<double>(), 0.33);
  EXPECT_DOUBLE_EQ(truth["panel"]["outcome_ar"].get<double>(), 0.44);
  EXPECT_TRUE(truth["process_to_outcome"]["(Intercept)"].is_null());
  EXPECT_TRUE(truth["process_to_outcome"]["session"].is_null());
  EXPECT_TRUE(truth["process_to_outcome_cross"]["Pw_lag1:Pm"].is_null());
  EXPECT_TRUE(truth["outcome_to_process_lag2"]["Ow_lag2"].is_null());
  EXPECT_TRUE(truth["early_process_to_post"]["early_process"].is_null());
}

TEST(Simulate, SpecRoundTripsEveryGeneratingOption) {
  const std::string dir = temp_dir("spec-round-trip");
  std::filesystem::create_directories(dir + "/data");
  std::filesystem::create_directories(dir + "/specs");
  const auto run = run_spiral("simulate --studies 6 --patients 123 --sessions 9 --seed 77 --process-to-outcome -0.125 "
                              "--outcome-to-process 0.0625 --process-ar 0.2 --outcome-ar 0.35 --missing 0.15 "
                              "--dropout 0.02 --slope-sd 0.07 --study-sd 0.04 --therapists-per-study 3 --out " +
                              dir + "/data/s.csv --patients-out " + dir + "/data/p.csv --spec-out " + dir +
                              "/specs/analysis.toml");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const SimulateOptions o = simulate_options_from_spec(dir + "/specs/analysis.toml");
  EXPECT_EQ(o.studies, 6);
  EXPECT_EQ(o.patients, 123);
  EXPECT_EQ(o.sessions, 9);
  EXPECT_EQ(o.seed, 77u);
  EXPECT_EQ(o.process_to_outcome, -0.125);
  EXPECT_EQ(o.outcome_to_process, 0.0625);
  EXPECT_EQ(o.process_ar, 0.2);
  EXPECT_EQ(o.outcome_ar, 0.35);
  EXPECT_EQ(o.missing, 0.15);
  EXPECT_EQ(o.dropout, 0.02);
  EXPECT_EQ(o.slope_sd, 0.07);
  EXPECT_EQ(o.study_sd, 0.04);
  EXPECT_EQ(o.therapists_per_study, 3);
  const std::string spec = read_text(dir + "/specs/analysis.toml");
  EXPECT_NE(spec.find("source = \"../data/s.csv\""), std::string::npos) << spec;
  EXPECT_NE(spec.find("source = \"../data/p.csv\""), std::string::npos) << spec;
  EXPECT_NE(spec.find("last = 9"), std::string::npos) << spec;
  EXPECT_NE(spec.find("lags = [1, 2]"), std::string::npos) << spec;
  EXPECT_NE(spec.find("test = \"knha\""), std::string::npos) << spec;
}

TEST(Simulate, SpecWithoutPatientsFileHasNoPostTable) {
  const std::string spec = analysis_spec(SimulateOptions{}, {"sessions.csv", "", "", "analysis.toml"});
  EXPECT_EQ(spec.find("[post]"), std::string::npos);
  EXPECT_NE(spec.find("source = \"sessions.csv\""), std::string::npos);
}

TEST(Simulate, BadSimulateTableIsAnInputError) {
  const std::string dir = temp_dir("bad-spec");
  const std::string path = dir + "/analysis.toml";
  auto write = [&](const std::string& text) { write_file_atomic(path, text); };
  write("[simulate]\nstudies = 3\npatiens = 40\n");
  EXPECT_THROW(simulate_options_from_spec(path), InputError);
  write("[simulate]\nmissing = 1.5\n");
  try {
    simulate_options_from_spec(path);
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--missing"), std::string::npos) << e.what();
  }
  write("[data]\nsource = \"x.csv\"\n");
  EXPECT_THROW(simulate_options_from_spec(path), InputError);
  write("[simulate\n");
  EXPECT_THROW(simulate_options_from_spec(path), InputError);
}

// ------------------------------------------------------------------ bad input

TEST(Simulate, BadInputExitsWithTwoNamingTheOption) {
  const std::string dir = temp_dir("bad-input");
  const std::string out = " --out " + dir + "/s.csv";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--patients -5", "--patients"},
      {"--patients 0", "--patients"},
      {"--sessions 2", "--sessions"},
      {"--missing 1", "--missing"},
      {"--missing -0.1", "--missing"},
      {"--dropout 1", "--dropout"},
      {"--dropout -0.5", "--dropout"},
      {"--studies 10 --patients 5", "--patients"},
      {"--process-ar 1.2", "--process-ar"},
      {"--slope-sd -1", "--slope-sd"},
      {"--therapists-per-study 0", "--therapists-per-study"},
      {"--process-ar 0.9 --outcome-ar 0.9 --process-to-outcome 0.9", "--process-to-outcome"},
      {"--no-such-option 3", "--no-such-option"},
      {"--patients many", "--patients"},
  };
  for (const auto& [arguments, option] : cases) {
    const auto run = run_spiral("simulate " + arguments + out);
    EXPECT_EQ(run.exit_code, 2) << arguments << ": " << run.err;
    EXPECT_EQ(run.err.rfind("spiral: error: ", 0), 0u) << arguments << ": " << run.err;
    EXPECT_NE(run.err.find(option), std::string::npos) << arguments << ": " << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << arguments << ": " << run.err;
  }
  const auto missing_out = run_spiral("simulate --patients 100");
  EXPECT_EQ(missing_out.exit_code, 2) << missing_out.err;
  const auto bad_dir = run_spiral("simulate --patients 100 --out /nonexistent-dir/s.csv");
  EXPECT_EQ(bad_dir.exit_code, 2) << bad_dir.err;
}

// The message quotes the value as given, not std::to_string's six decimals ("got 1.000000",
// or "got -0.000000" for -1e-07).
TEST(Simulate, BadValueIsQuotedAsGiven) {
  const std::string out = " --out " + temp_dir("bad-value") + "/s.csv";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--missing 1", "--missing: must be in [0, 1), got 1\n"},
      {"--slope-sd -0.0000001", "--slope-sd: must be in [0, 1), got -1e-07\n"},
      {"--process-ar 1.25", "--process-ar: must be in (-1, 1), got 1.25\n"},
      {"--sessions 2", "--sessions: must be at least 3, got 2\n"},
      {"--seed -1", "--seed: expected a whole number from 0 to 9223372036854775807, got -1\n"},
  };
  for (const auto& [arguments, message] : cases) {
    const auto run = run_spiral("simulate " + arguments + out);
    EXPECT_EQ(run.exit_code, 2) << arguments;
    EXPECT_EQ(run.err, "spiral: error: " + message) << arguments;
  }
}

TEST(Simulate, JsonSummaryCountsRows) {
  const std::string dir = temp_dir("summary");
  const auto run = run_spiral("simulate --studies 3 --patients 90 --format json --out " + dir + "/s.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto summary = nlohmann::json::parse(run.out);
  EXPECT_EQ(summary["studies"], 3);
  EXPECT_EQ(summary["patients"], 90);
  const std::string csv = read_text(dir + "/s.csv");
  EXPECT_EQ(summary["rows"].get<long>() + 1, std::count(csv.begin(), csv.end(), '\n'));
  EXPECT_TRUE(summary["warnings"].is_array());
}

}  // namespace
}  // namespace spiral
