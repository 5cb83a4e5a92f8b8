// The generator of `spiral simulate` (specification section 6).
//
// For patient i of study s, therapist j, session t = 1..T, before the study's scale:
//   P_it = a_P,i + a_P,j + d (t - c) + p_it          (process: alliance)
//   O_it = a_O,i + a_O,j - d (t - c) + o_it          (outcome: symptoms)
// with random intercepts of patients (a_i) and therapists (a_j), a session trend d around
// the middle session c (alliance rises, symptoms fall), and the within-person VAR(1)
//   w_t = (p_t, o_t)' = B_i w_{t-1} + zeta_t,   zeta_t ~ N(0, Psi_i),
//   B_i = [ process_ar            outcome_to_process_i ]
//         [ process_to_outcome_i  outcome_ar           ],
// whose cross-lagged effects vary over studies (SD study_sd) and patients (SD slope_sd).
//
// Equal variances. The stationary covariance of w solves Sigma = B Sigma B' + Psi. We fix
// Sigma = s_w^2 [[1, r_w], [r_w, 1]] for every patient and set Psi_i = Sigma - B_i Sigma B_i',
// so both variables have within-person variance s_w^2 whatever B_i is; the intercept
// covariances have equal variances too, and the trend is +d / -d. Hence P and O have the
// same total variance (1 + the trend's share), and the standardized models of the IPD
// analysis estimate the entries of B themselves. Each series starts at w_1 ~ N(0, Sigma),
// the stationary distribution, so no burn-in is needed.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "sim/random.hpp"
#include "spiral/error.hpp"
#include "spiral/simulate.hpp"

namespace spiral {

namespace {

// Fixed features of the generator (documented in examples/README.md).
struct Design {
  static constexpr double within_variance = 0.50;            // s_w^2
  static constexpr double patient_intercept_variance = 0.45;
  static constexpr double therapist_intercept_variance = 0.05;
  static constexpr double within_correlation = -0.30;        // r_w: alliance vs symptoms
  static constexpr double intercept_correlation = -0.40;     // of patient and therapist intercepts
  static constexpr double trend_per_session = 0.05;          // d
  static constexpr int min_study_size = 10;
  static constexpr double absent_share_of_missed = 0.5;      // missed session after the first: row absent vs empty
  // Pre/post (latent scale): pre = a_O,i + a_O,j + e, post = 0.5 pre - 0.3 early + e'.
  static constexpr double pre_noise_sd = 0.5;
  static constexpr double post_on_pre = 0.5;
  static constexpr double post_on_early_process = -0.3;
  static constexpr double post_noise_sd = 0.6;
  static constexpr int early_first = 1, early_last = 3;
  static constexpr int max_slope_redraws = 1000;
};

// A 2 x 2 matrix [[a, b], [c, d]] (row = variable at t: process, outcome).
struct Mat2 {
  double a = 0, b = 0, c = 0, d = 0;
};

Mat2 multiply(const Mat2& x, const Mat2& y) {
  return {x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c, x.c * y.b + x.d * y.d};
}
Mat2 transpose(const Mat2& x) { return {x.a, x.c, x.b, x.d}; }
Mat2 covariance(double variance, double correlation) {
  return {variance, variance * correlation, variance * correlation, variance};
}
bool positive_definite(const Mat2& s) { return s.a > 0 && s.a * s.d - s.b * s.c > 0; }
// Lower Cholesky factor [[l11, 0], [l21, l22]] of a positive definite symmetric matrix.
Mat2 cholesky(const Mat2& s) {
  const double l11 = std::sqrt(s.a);
  const double l21 = s.c / l11;
  return {l11, 0.0, l21, std::sqrt(s.d - l21 * l21)};
}

Mat2 transition(double process_ar, double outcome_ar, double process_to_outcome, double outcome_to_process) {
  return {process_ar, outcome_to_process, process_to_outcome, outcome_ar};
}

// Psi = Sigma - B Sigma B' (the innovation covariance that keeps Sigma stationary).
Mat2 innovation_covariance(const Mat2& B, const Mat2& sigma) {
  const Mat2 propagated = multiply(multiply(B, sigma), transpose(B));
  return {sigma.a - propagated.a, sigma.b - propagated.b, sigma.c - propagated.c, sigma.d - propagated.d};
}

struct Pair {
  double process = 0, outcome = 0;
};
// L z for z ~ N(0, I): a draw from N(0, L L').
Pair correlated_normal(sim::Random& rng, const Mat2& L) {
  const double z1 = rng.normal(), z2 = rng.normal();
  return {L.a * z1, L.c * z1 + L.d * z2};
}

const Mat2& within_covariance() {
  static const Mat2 sigma = covariance(Design::within_variance, Design::within_correlation);
  return sigma;
}

template <typename T>
void require(bool ok, const std::string& option, const std::string& rule, T value) {
  if (!ok) throw InputError(option + ": " + rule + ", got " + fmt::format("{}", value));  // shortest exact form
}

// prefix + number zero-padded to width digits ("P0042"), so that byte order is numeric order.
std::string padded_id(const char* prefix, long number, int width) {
  std::string digits_text = std::to_string(number);
  if (static_cast<int>(digits_text.size()) < width) digits_text.insert(0, static_cast<std::size_t>(width) - digits_text.size(), '0');
  return prefix + digits_text;
}

int digits(long n) {
  int d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// Study sizes: each study gets min(10, N / S) patients, the rest is shared out in
// proportion to weights (0.2 + u)^2 (a 36-fold range) by largest remainders.
std::vector<int> study_sizes(sim::Random& rng, int studies, int patients) {
  const int floor_size = std::min(Design::min_study_size, patients / studies);
  std::vector<double> weights(static_cast<std::size_t>(studies));
  double total = 0;
  for (auto& w : weights) {
    const double u = rng.uniform();
    w = (0.2 + u) * (0.2 + u);
    total += w;
  }
  const int rest = patients - floor_size * studies;
  std::vector<int> sizes(weights.size());
  std::vector<std::pair<double, int>> remainders;
  int given = 0;
  for (std::size_t s = 0; s < weights.size(); ++s) {
    const double share = rest * weights[s] / total;
    const int whole = static_cast<int>(share);
    sizes[s] = floor_size + whole;
    given += whole;
    remainders.emplace_back(share - whole, static_cast<int>(s));
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  for (int k = 0; k < rest - given; ++k) sizes[static_cast<std::size_t>(remainders[static_cast<std::size_t>(k)].second)] += 1;
  return sizes;
}

// A study's measurement scale: alliance on a 1-7 scale-ish, symptoms on an instrument-like
// scale (e.g. a sum score), both with study-specific mean and SD.
struct StudyScale {
  double alliance_mean, alliance_sd, symptoms_mean, symptoms_sd;
};
StudyScale draw_scale(sim::Random& rng) {
  StudyScale scale{};
  scale.alliance_mean = rng.uniform(4.6, 5.8);
  scale.alliance_sd = rng.uniform(0.6, 1.0);
  scale.symptoms_mean = rng.uniform(45.0, 85.0);
  scale.symptoms_sd = rng.uniform(12.0, 20.0);
  return scale;
}

// Probability that an attended session is missed. Missing at random: it rises with the
// previous session's symptoms o (latent, mean 0), p = m + h o / (1 + |o|) with
// h = min(m, 1 - m) / 2, so p stays in (0, 1) and averages m over the symmetric o.
double missed_probability(double missing, double previous_outcome, bool first_session) {
  if (first_session) return missing;
  const double h = 0.5 * std::min(missing, 1.0 - missing);
  return missing + h * previous_outcome / (1.0 + std::fabs(previous_outcome));
}

// A factor column filled id by id (a patient's rows repeat its ids: one integer comparison),
// its levels in byte order as Table::add_factor_from_strings gives them.
class FactorColumn {
 public:
  // The id numbered `key` in the simulator's own numbering (of the studies, patients or
  // therapists): ids are told apart by their numbers, their text kept once per level.
  void push(long key, const std::string& id) {
    if (codes_.empty() || key != last_key_) {
      const auto [it, added] = code_of_.emplace(key, static_cast<int>(levels_.size()));
      if (added) levels_.push_back(id);
      last_key_ = key;
      last_code_ = it->second;
    }
    codes_.push_back(last_code_);
  }
  void add_to(Table& table, const std::string& name) && {
    table.add_factor_in_byte_order(name, std::move(codes_), std::move(levels_));
  }

 private:
  std::unordered_map<long, int> code_of_;
  std::vector<std::string> levels_;  // in order of first appearance
  std::vector<int> codes_;
  long last_key_ = 0;
  int last_code_ = 0;
};

// Columns of the three tables, filled patient by patient.
struct Builder {
  FactorColumn study, patient, therapist;
  std::vector<double> session, alliance, symptoms;
  FactorColumn p_study, p_patient;
  std::vector<double> pre, post;
  std::vector<double> l_study, l_patient, l_session, l_process, l_outcome, l_pw, l_ow, l_attended, l_missed;
};

struct PatientContext {
  int study = 0;
  long patient = 0, therapist = 0;
  std::string study_id, patient_id, therapist_id;
  Pair intercept;  // patient + therapist intercepts
  StudyScale scale{};
};

// A patient's cross-lagged transition matrix and innovation covariance; slopes are redrawn
// in the (rare) case that the equal-variance Psi is not positive definite.
struct PatientDynamics {
  Mat2 B, chol_psi;
};
PatientDynamics draw_dynamics(sim::Random& rng, const SimulateOptions& o, const Pair& study_effect) {
  for (int attempt = 0; attempt < Design::max_slope_redraws; ++attempt) {
    const double p_to_o = o.process_to_outcome + study_effect.process + o.slope_sd * rng.normal();
    const double o_to_p = o.outcome_to_process + study_effect.outcome + o.slope_sd * rng.normal();
    const Mat2 B = transition(o.process_ar, o.outcome_ar, p_to_o, o_to_p);
    const Mat2 psi = innovation_covariance(B, within_covariance());
    if (positive_definite(psi)) return {B, cholesky(psi)};
  }
  throw InputError("--slope-sd/--study-sd: too large for a stationary process with equal variances (" +
                   fmt::format("{}, {})", o.slope_sd, o.study_sd));
}

void simulate_patient(sim::Random& rng, const SimulateOptions& o, const PatientContext& ctx,
                      const Pair& study_effect, Builder& out) {
  const PatientDynamics dyn = draw_dynamics(rng, o, study_effect);
  static const Mat2 chol_sigma = cholesky(within_covariance());
  const int T = o.sessions;
  const double centre = 0.5 * (T + 1);

  // Latent series over all planned sessions.
  std::vector<Pair> within(static_cast<std::size_t>(T)), total(static_cast<std::size_t>(T));
  within[0] = correlated_normal(rng, chol_sigma);
  for (int t = 1; t < T; ++t) {
    const Pair& prev = within[static_cast<std::size_t>(t - 1)];
    const Pair shock = correlated_normal(rng, dyn.chol_psi);
    within[static_cast<std::size_t>(t)] = {dyn.B.a * prev.process + dyn.B.b * prev.outcome + shock.process,
                                           dyn.B.c * prev.process + dyn.B.d * prev.outcome + shock.outcome};
  }
  for (int t = 0; t < T; ++t) {
    const double trend = Design::trend_per_session * ((t + 1) - centre);
    const Pair& w = within[static_cast<std::size_t>(t)];
    total[static_cast<std::size_t>(t)] = {ctx.intercept.process + trend + w.process,
                                          ctx.intercept.outcome - trend + w.outcome};
  }

  // Dropout after session t with the per-session hazard: sessions last+1..T never happen.
  int last = T;
  for (int t = 1; t < T; ++t) {
    if (rng.bernoulli(o.dropout)) {
      last = t;
      break;
    }
  }

  for (int t = 1; t <= T; ++t) {
    const Pair& w = within[static_cast<std::size_t>(t - 1)];
    const Pair& y = total[static_cast<std::size_t>(t - 1)];
    const bool attended = t <= last;
    bool missed = false, absent = !attended;
    if (attended) {
      const double previous = t > 1 ? total[static_cast<std::size_t>(t - 2)].outcome : 0.0;
      missed = rng.bernoulli(missed_probability(o.missing, previous, t == 1));
      // Session 1 (intake) is always a row, so every patient appears in the sessions file.
      if (missed && t > 1) absent = rng.bernoulli(Design::absent_share_of_missed);
    }
    out.l_study.push_back(ctx.study);
    out.l_patient.push_back(static_cast<double>(ctx.patient));
    out.l_session.push_back(t);
    out.l_process.push_back(y.process);
    out.l_outcome.push_back(y.outcome);
    out.l_pw.push_back(w.process);
    out.l_ow.push_back(w.outcome);
    out.l_attended.push_back(attended ? 1.0 : 0.0);
    out.l_missed.push_back(missed ? 1.0 : 0.0);
    if (absent) continue;
    out.study.push(ctx.study, ctx.study_id);
    out.patient.push(ctx.patient, ctx.patient_id);
    out.therapist.push(ctx.therapist, ctx.therapist_id);
    out.session.push_back(t);
    out.alliance.push_back(missed ? NA : ctx.scale.alliance_mean + ctx.scale.alliance_sd * y.process);
    out.symptoms.push_back(missed ? NA : ctx.scale.symptoms_mean + ctx.scale.symptoms_sd * y.outcome);
  }

  // Pre/post: pre reflects the patient's symptom level, post is driven by pre and by the
  // mean latent alliance over the early sessions; post is missing with probability --missing.
  double early = 0;
  const int early_last = std::min(Design::early_last, T);
  for (int t = Design::early_first; t <= early_last; ++t) early += total[static_cast<std::size_t>(t - 1)].process;
  early /= early_last - Design::early_first + 1;
  const double pre = ctx.intercept.outcome + Design::pre_noise_sd * rng.normal();
  const double post = Design::post_on_pre * pre + Design::post_on_early_process * early +
                      Design::post_noise_sd * rng.normal();
  const bool post_missing = rng.bernoulli(o.missing);
  out.p_study.push(ctx.study, ctx.study_id);
  out.p_patient.push(ctx.patient, ctx.patient_id);
  out.pre.push_back(ctx.scale.symptoms_mean + ctx.scale.symptoms_sd * pre);
  out.post.push_back(post_missing ? NA : ctx.scale.symptoms_mean + ctx.scale.symptoms_sd * post);
}

SimulatedData assemble(Builder&& b, const SimulateOptions& options) {
  SimulatedData data;
  data.sessions = Table("simulated sessions");
  std::move(b.study).add_to(data.sessions, "study");
  std::move(b.patient).add_to(data.sessions, "patient");
  std::move(b.therapist).add_to(data.sessions, "therapist");
  data.sessions.add_numeric("session", std::move(b.session));
  data.sessions.add_numeric("alliance", std::move(b.alliance));
  data.sessions.add_numeric("symptoms", std::move(b.symptoms));

  data.patients = Table("simulated patients");
  std::move(b.p_study).add_to(data.patients, "study");
  std::move(b.p_patient).add_to(data.patients, "patient");
  data.patients.add_numeric("pre_symptoms", std::move(b.pre));
  data.patients.add_numeric("post_symptoms", std::move(b.post));

  data.latent = Table("simulated latent series");
  data.latent.add_numeric("study", std::move(b.l_study));
  data.latent.add_numeric("patient", std::move(b.l_patient));
  data.latent.add_numeric("session", std::move(b.l_session));
  data.latent.add_numeric("process", std::move(b.l_process));
  data.latent.add_numeric("outcome", std::move(b.l_outcome));
  data.latent.add_numeric("process_within", std::move(b.l_pw));
  data.latent.add_numeric("outcome_within", std::move(b.l_ow));
  data.latent.add_numeric("attended", std::move(b.l_attended));
  data.latent.add_numeric("missed", std::move(b.l_missed));

  data.truth = simulation_truth(options);
  return data;
}

}  // namespace

void validate(const SimulateOptions& o) {
  require(o.studies >= 1, "--studies", "must be at least 1", o.studies);
  require(o.patients >= 1, "--patients", "must be positive", o.patients);
  require(o.patients >= o.studies, "--patients", "must be at least --studies (" + std::to_string(o.studies) + ")",
          o.patients);
  require(o.sessions >= 3, "--sessions", "must be at least 3", o.sessions);
  require(o.sessions <= 10000, "--sessions", "must be at most 10000", o.sessions);
  require(o.seed <= 0x7fffffffffffffffULL, "--seed", "must be between 0 and 9223372036854775807", o.seed);
  require(o.missing >= 0 && o.missing < 1, "--missing", "must be in [0, 1)", o.missing);
  require(o.dropout >= 0 && o.dropout < 1, "--dropout", "must be in [0, 1)", o.dropout);
  require(o.process_ar > -1 && o.process_ar < 1, "--process-ar", "must be in (-1, 1)", o.process_ar);
  require(o.outcome_ar > -1 && o.outcome_ar < 1, "--outcome-ar", "must be in (-1, 1)", o.outcome_ar);
  require(std::isfinite(o.process_to_outcome), "--process-to-outcome", "must be finite", o.process_to_outcome);
  require(std::isfinite(o.outcome_to_process), "--outcome-to-process", "must be finite", o.outcome_to_process);
  require(o.slope_sd >= 0 && o.slope_sd < 1, "--slope-sd", "must be in [0, 1)", o.slope_sd);
  require(o.study_sd >= 0 && o.study_sd < 1, "--study-sd", "must be in [0, 1)", o.study_sd);
  require(o.therapists_per_study >= 1, "--therapists-per-study", "must be at least 1", o.therapists_per_study);
  require(o.therapists_per_study <= 100000, "--therapists-per-study", "must be at most 100000",
          o.therapists_per_study);
  const Mat2 B = transition(o.process_ar, o.outcome_ar, o.process_to_outcome, o.outcome_to_process);
  if (!positive_definite(innovation_covariance(B, within_covariance()))) {
    throw InputError(
        "--process-ar/--outcome-ar/--process-to-outcome/--outcome-to-process: no stationary VAR(1) with equal "
        "variances has these effects (Sigma - B Sigma B' is not positive definite)");
  }
}

SimulatedData simulate(const SimulateOptions& options) {
  validate(options);
  sim::Random rng(options.seed);
  const std::vector<int> sizes = study_sizes(rng, options.studies, options.patients);
  const int study_width = std::max(2, digits(options.studies));
  const int patient_width = std::max(4, digits(options.patients));
  const long therapists = static_cast<long>(options.studies) * options.therapists_per_study;
  const int therapist_width = std::max(3, digits(therapists));
  const Mat2 chol_intercept = cholesky(covariance(Design::patient_intercept_variance, Design::intercept_correlation));
  const Mat2 chol_therapist = cholesky(covariance(Design::therapist_intercept_variance, Design::intercept_correlation));

  Builder builder;
  long next_patient = 1;
  for (int s = 0; s < options.studies; ++s) {
    PatientContext ctx;
    ctx.study = s;
    ctx.study_id = padded_id("S", s + 1, study_width);
    ctx.scale = draw_scale(rng);
    // The study's deviation from the mean cross-lagged effects (between-study SD).
    const Pair study_effect{options.study_sd * rng.normal(), options.study_sd * rng.normal()};
    std::vector<Pair> therapist_intercepts(static_cast<std::size_t>(options.therapists_per_study));
    for (auto& a : therapist_intercepts) a = correlated_normal(rng, chol_therapist);
    for (int k = 0; k < sizes[static_cast<std::size_t>(s)]; ++k, ++next_patient) {
      const int j = rng.below(options.therapists_per_study);
      ctx.patient = next_patient - 1;
      ctx.patient_id = padded_id("P", next_patient, patient_width);
      ctx.therapist = static_cast<long>(s) * options.therapists_per_study + j;
      ctx.therapist_id = padded_id("T", ctx.therapist + 1, therapist_width);
      const Pair own = correlated_normal(rng, chol_intercept);
      const Pair& th = therapist_intercepts[static_cast<std::size_t>(j)];
      ctx.intercept = {own.process + th.process, own.outcome + th.outcome};
      simulate_patient(rng, options, ctx, study_effect, builder);
    }
  }
  return assemble(std::move(builder), options);
}

}  // namespace spiral
