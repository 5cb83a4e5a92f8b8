// Effect sizes and sampling variances as metafor's escalc() with its defaults
// (vtype = "LS", add = 1/2, to = "only0"; add = 0 for AS, PAS, PFT, IRSD, IRS, IRFT).
// The formulas are those of escalc.R in metafor 3.8 and its help page (Viechtbauer 2010,
// J Stat Softw 36(3)), which cites the source of each measure.
#include <algorithm>
#include <cmath>
#include <functional>

#include "meta/meta_internal.hpp"

namespace spiral {

namespace {

// One needed column of a measure: its option name and values.
struct Needed {
  const char* option;
  const std::vector<double>* values;
};

struct Outcome {
  double yi = NA, vi = NA;
};

// Values of the needed columns at one row, in the order they were named.
using RowValues = std::vector<double>;
using RowFormula = std::function<Outcome(const RowValues&, const std::string& where)>;

std::string row_name(std::size_t row) { return "row " + std::to_string(row + 1); }

// Applies `formula` to every row whose needed values are all present. An InputError names
// the missing columns. As escalc, a yi or vi that is infinite or NaN, or a negative vi,
// becomes NA (the row is then dropped as missing).
EffectSizes per_row(const std::string& measure, const std::vector<Needed>& needed, const RowFormula& formula) {
  std::string names;
  for (const auto& n : needed) names += std::string(names.empty() ? "" : " ") + n.option;
  std::size_t rows = 0;
  for (const auto& n : needed) {
    if (n.values->empty()) throw InputError("--measure " + measure + ": needs the columns " + names + " (" + n.option + " is missing)");
    rows = n.values->size();
  }
  EffectSizes out;
  RowValues values(needed.size());
  for (std::size_t i = 0; i < rows; ++i) {
    bool complete = true;
    for (std::size_t j = 0; j < needed.size(); ++j) {
      values[j] = (*needed[j].values)[i];
      complete = complete && !is_na(values[j]);
    }
    Outcome o;
    if (complete) o = formula(values, "--measure " + measure + ": " + row_name(i));
    if (!std::isfinite(o.yi) || !std::isfinite(o.vi) || o.vi < 0) o = {};
    out.yi.push_back(o.yi);
    out.vi.push_back(o.vi);
  }
  return out;
}

void require(bool ok, const std::string& where, const std::string& what) {
  if (!ok) throw InputError(where + " " + what);
}

// Hedges' exact small-sample correction c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))
// (Hedges 1981, eq. 6e; metafor's .cmicalc).
double hedges_correction(double m) {
  if (m <= 1) return NA;
  return std::exp(std::lgamma(m / 2) - std::log(std::sqrt(m / 2)) - std::lgamma((m - 1) / 2));
}

bool adds_half(const std::string& measure) {
  for (const char* m : {"AS", "PAS", "PFT", "IRSD", "IRS", "IRFT"})
    if (measure == m) return false;
  return true;
}

// ---- 2x2 tables: OR RR RD AS PETO ---------------------------------------------------------

Outcome two_by_two_row(const std::string& measure, double a, double b, double c, double d) {
  // A table with a zero cell gets `add` in every cell (to = "only0").
  if (adds_half(measure) && (a == 0 || b == 0 || c == 0 || d == 0)) {
    a += 0.5;
    b += 0.5;
    c += 0.5;
    d += 0.5;
  }
  const double n1 = a + b, n2 = c + d, n = n1 + n2, p1 = a / n1, p2 = c / n2;
  if (measure == "OR") return {std::log(p1 / (1 - p1)) - std::log(p2 / (1 - p2)), 1 / a + 1 / b + 1 / c + 1 / d};
  if (measure == "RR") return {std::log(p1) - std::log(p2), 1 / a - 1 / n1 + 1 / c - 1 / n2};
  if (measure == "RD") return {p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2};
  if (measure == "AS") return {std::asin(std::sqrt(p1)) - std::asin(std::sqrt(p2)), 1 / (4 * n1) + 1 / (4 * n2)};
  // PETO: Yusuf et al. (1985), the one-step log odds ratio (O - E) / V.
  const double events = a + c, non_events = b + d;
  const double expected = events * n1 / n;
  const double variance = events * non_events * (n1 / n) * (n2 / n) / (n - 1);
  return {(a - expected) / variance, 1 / variance};
}

EffectSizes two_by_two(const std::string& measure, const EscalcData& d) {
  // Non-events from the group sizes when --bi/--di are not given (escalc: bi = n1i - ai).
  const bool sizes = d.bi.empty() && d.di.empty() && !d.n1i.empty() && !d.n2i.empty();
  const std::vector<Needed> needed =
      sizes ? std::vector<Needed>{{"--ai", &d.ai}, {"--n1i", &d.n1i}, {"--ci", &d.ci}, {"--n2i", &d.n2i}}
            : std::vector<Needed>{{"--ai", &d.ai}, {"--bi", &d.bi}, {"--ci", &d.ci}, {"--di", &d.di}};
  return per_row(measure, needed, [&](const RowValues& v, const std::string& where) {
    const double a = v[0], c = v[2];
    const double b = sizes ? v[1] - a : v[1], dd = sizes ? v[3] - c : v[3];
    require(a >= 0 && c >= 0 && v[1] >= 0 && v[3] >= 0, where, "has a negative count");
    require(b >= 0 && dd >= 0, where, "has more events than its group size");
    return two_by_two_row(measure, a, b, c, dd);
  });
}

// ---- incidence rates of two groups: IRR IRD IRSD ------------------------------------------

EffectSizes incidence_two_groups(const std::string& measure, const EscalcData& d) {
  return per_row(measure, {{"--x1i", &d.x1i}, {"--x2i", &d.x2i}, {"--t1i", &d.t1i}, {"--t2i", &d.t2i}},
                 [&](const RowValues& v, const std::string& where) -> Outcome {
                   double x1 = v[0], x2 = v[1];
                   const double t1 = v[2], t2 = v[3];
                   require(x1 >= 0 && x2 >= 0, where, "has a negative count");
                   require(t1 > 0 && t2 > 0, where, "has a person-time <= 0");
                   if (adds_half(measure) && (x1 == 0 || x2 == 0)) {
                     x1 += 0.5;
                     x2 += 0.5;
                   }
                   const double r1 = x1 / t1, r2 = x2 / t2;
                   if (measure == "IRR") return {std::log(r1) - std::log(r2), 1 / x1 + 1 / x2};
                   if (measure == "IRD") return {r1 - r2, r1 / t1 + r2 / t2};
                   return {std::sqrt(r1) - std::sqrt(r2), 1 / (4 * t1) + 1 / (4 * t2)};  // IRSD
                 });
}

// ---- two groups' means and SDs: MD SMD SMDH ROM CVR VR -------------------------------------

Outcome mean_difference_row(const std::string& measure, double m1, double s1, double n1, double m2, double s2,
                            double n2) {
  const double m = n1 + n2 - 2;
  if (measure == "MD") return {m1 - m2, s1 * s1 / n1 + s2 * s2 / n2};
  if (measure == "SMD") {  // Hedges' g with the pooled SD
    const double sd_pooled = std::sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / m);
    const double g = hedges_correction(m) * (m1 - m2) / sd_pooled;
    return {g, 1 / n1 + 1 / n2 + g * g / (2 * (n1 + n2))};
  }
  if (measure == "SMDH") {  // Bonett (2009): SD as the root of the average variance
    const double c = hedges_correction(m), v1 = s1 * s1, v2 = s2 * s2;
    const double g = c * (m1 - m2) / std::sqrt((v1 + v2) / 2);
    const double vi = g * g * (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1)) / (2 * (v1 + v2) * (v1 + v2)) +
                      (v1 / (n1 - 1) + v2 / (n2 - 1)) / ((v1 + v2) / 2);
    return {g, c * c * vi};
  }
  if (measure == "ROM")  // Hedges, Gurevitch & Curtis (1999)
    return {std::log(m1 / m2), s1 * s1 / (n1 * m1 * m1) + s2 * s2 / (n2 * m2 * m2)};
  if (measure == "CVR")  // Nakagawa et al. (2015)
    return {std::log(s1 / m1) + 1 / (2 * (n1 - 1)) - std::log(s2 / m2) - 1 / (2 * (n2 - 1)),
            1 / (2 * (n1 - 1)) + s1 * s1 / (n1 * m1 * m1) + 1 / (2 * (n2 - 1)) + s2 * s2 / (n2 * m2 * m2)};
  // VR (Nakagawa et al. 2015)
  return {std::log(s1 / s2) + 1 / (2 * (n1 - 1)) - 1 / (2 * (n2 - 1)), 1 / (2 * (n1 - 1)) + 1 / (2 * (n2 - 1))};
}

EffectSizes mean_differences(const std::string& measure, const EscalcData& d) {
  const auto check = [](double s1, double s2, double n1, double n2, const std::string& where) {
    require(s1 >= 0 && s2 >= 0, where, "has a negative standard deviation");
    require(n1 > 0 && n2 > 0, where, "has a group size <= 0");
  };
  if (measure == "VR")
    return per_row(measure, {{"--sd1i", &d.sd1i}, {"--n1i", &d.n1i}, {"--sd2i", &d.sd2i}, {"--n2i", &d.n2i}},
                   [&](const RowValues& v, const std::string& where) {
                     check(v[0], v[2], v[1], v[3], where);
                     return mean_difference_row(measure, NA, v[0], v[1], NA, v[2], v[3]);
                   });
  return per_row(measure,
                 {{"--m1i", &d.m1i}, {"--sd1i", &d.sd1i}, {"--n1i", &d.n1i}, {"--m2i", &d.m2i}, {"--sd2i", &d.sd2i},
                  {"--n2i", &d.n2i}},
                 [&](const RowValues& v, const std::string& where) {
                   check(v[1], v[4], v[2], v[5], where);
                   return mean_difference_row(measure, v[0], v[1], v[2], v[3], v[4], v[5]);
                 });
}

// ---- one group's proportion: PR PLN PLO PAS PFT --------------------------------------------

EffectSizes proportions(const std::string& measure, const EscalcData& d) {
  return per_row(measure, {{"--xi", &d.xi}, {"--ni", &d.ni}}, [&](const RowValues& v, const std::string& where) -> Outcome {
    double x = v[0], rest = v[1] - v[0];
    require(x >= 0, where, "has a negative count");
    require(v[1] > 0, where, "has a sample size <= 0");
    require(rest >= 0, where, "has more events than its sample size");
    if (adds_half(measure) && (x == 0 || rest == 0)) {
      x += 0.5;
      rest += 0.5;
    }
    const double n = x + rest, p = x / n;
    if (measure == "PR") return {p, p * (1 - p) / n};
    if (measure == "PLN") return {std::log(p), 1 / x - 1 / n};
    if (measure == "PLO") return {std::log(p / (1 - p)), 1 / x + 1 / rest};
    if (measure == "PAS") return {std::asin(std::sqrt(p)), 1 / (4 * n)};
    // PFT: Freeman & Tukey (1950) double arcsine
    return {0.5 * (std::asin(std::sqrt(x / (n + 1))) + std::asin(std::sqrt((x + 1) / (n + 1)))), 1 / (4 * n + 2)};
  });
}

// ---- one group's incidence rate: IR IRLN IRS IRFT ------------------------------------------

EffectSizes incidence_rates(const std::string& measure, const EscalcData& d) {
  return per_row(measure, {{"--xi", &d.xi}, {"--ti", &d.ti}}, [&](const RowValues& v, const std::string& where) -> Outcome {
    double x = v[0];
    const double t = v[1];
    require(x >= 0, where, "has a negative count");
    require(t > 0, where, "has a person-time <= 0");
    if (adds_half(measure) && x == 0) x += 0.5;
    const double rate = x / t;
    if (measure == "IR") return {rate, rate / t};
    if (measure == "IRLN") return {std::log(rate), 1 / x};
    if (measure == "IRS") return {std::sqrt(rate), 1 / (4 * t)};
    return {0.5 * (std::sqrt(rate) + std::sqrt(rate + 1 / t)), 1 / (4 * t)};  // IRFT
  });
}

// ---- one group's mean: MN MNLN --------------------------------------------------------------

EffectSizes means(const std::string& measure, const EscalcData& d) {
  return per_row(measure, {{"--mi", &d.mi}, {"--sdi", &d.sdi}, {"--ni", &d.ni}},
                 [&](const RowValues& v, const std::string& where) -> Outcome {
                   const double m = v[0], s = v[1], n = v[2];
                   require(s >= 0, where, "has a negative standard deviation");
                   require(n > 0, where, "has a sample size <= 0");
                   if (measure == "MN") return {m, s * s / n};
                   require(m >= 0, where, "has a negative mean");
                   return {std::log(m), s * s / (n * m * m)};
                 });
}

// ---- change within one group: MC SMCC SMCR ROMC --------------------------------------------

Outcome change_row(const std::string& measure, double m1, double m2, double s1, double s2, double n, double r) {
  const double c = hedges_correction(n - 1);
  if (measure == "MC") return {m1 - m2, (s1 * s1 + s2 * s2 - 2 * r * s1 * s2) / n};
  if (measure == "SMCC") {  // standardized by the SD of the change scores (Gibbons et al. 1993)
    const double g = c * (m1 - m2) / std::sqrt(s1 * s1 + s2 * s2 - 2 * r * s1 * s2);
    return {g, 1 / n + g * g / (2 * n)};
  }
  if (measure == "SMCR") {  // standardized by the SD at the first time (Becker 1988)
    const double g = c * (m1 - m2) / s1;
    return {g, 2 * (1 - r) / n + g * g / (2 * n)};
  }
  // ROMC (Lajeunesse 2011)
  return {std::log(m1 / m2), s1 * s1 / (n * m1 * m1) + s2 * s2 / (n * m2 * m2) - 2 * r * s1 * s2 / (m1 * m2 * n)};
}

EffectSizes changes(const std::string& measure, const EscalcData& d) {
  const auto check = [](double s1, double s2, double n, double r, const std::string& where) {
    require(s1 >= 0 && s2 >= 0, where, "has a negative standard deviation");
    require(std::fabs(r) <= 1, where, "has a correlation outside [-1, 1]");
    require(n > 0, where, "has a sample size <= 0");
  };
  if (measure == "SMCR")  // needs no SD of the second time
    return per_row(measure, {{"--m1i", &d.m1i}, {"--m2i", &d.m2i}, {"--sd1i", &d.sd1i}, {"--ni", &d.ni}, {"--ri", &d.ri}},
                   [&](const RowValues& v, const std::string& where) {
                     check(v[2], 0, v[3], v[4], where);
                     return change_row(measure, v[0], v[1], v[2], NA, v[3], v[4]);
                   });
  return per_row(measure,
                 {{"--m1i", &d.m1i}, {"--m2i", &d.m2i}, {"--sd1i", &d.sd1i}, {"--sd2i", &d.sd2i}, {"--ni", &d.ni},
                  {"--ri", &d.ri}},
                 [&](const RowValues& v, const std::string& where) {
                   check(v[2], v[3], v[4], v[5], where);
                   return change_row(measure, v[0], v[1], v[2], v[3], v[4], v[5]);
                 });
}

// ---- correlations: COR UCOR ZCOR ------------------------------------------------------------

// Gauss's hypergeometric series 2F1(1/2, 1/2; g; x) = sum_n ((1/2)_n)² / (g)_n x^n / n!
// (Abramowitz & Stegun 15.1.1), for 0 <= x <= 1 and g > 1, where it converges.
double hypergeometric_half_half(double g, double x) {
  double term = 1, sum = 1;
  for (int n = 0; n < 10000000 && term > 1e-17 * sum; ++n) {
    term *= (0.5 + n) * (0.5 + n) / ((g + n) * (n + 1)) * x;
    sum += term;
  }
  return sum;
}

// Olkin & Pratt's (1958) unbiased correlation r 2F1(1/2, 1/2; (n-2)/2; 1 - r²), defined for n > 4.
double unbiased_correlation(double r, double n) {
  const double g = (n - 2) / 2;
  if (!(g > 1)) return NA;
  return r * hypergeometric_half_half(g, 1 - r * r);
}

EffectSizes correlations(const std::string& measure, const EscalcData& d) {
  return per_row(measure, {{"--ri", &d.ri}, {"--ni", &d.ni}}, [&](const RowValues& v, const std::string& where) -> Outcome {
    const double r = v[0], n = v[1];
    require(std::fabs(r) <= 1, where, "has a correlation outside [-1, 1]");
    require(n > 0, where, "has a sample size <= 0");
    if (n <= 3) return {};  // escalc: no sampling variance when n <= 3
    if (measure == "ZCOR") return {std::atanh(r), 1 / (n - 3)};
    const double yi = measure == "UCOR" ? unbiased_correlation(r, n) : r;
    return {yi, std::pow(1 - yi * yi, 2) / (n - 1)};
  });
}

bool is_one_of(const std::string& measure, std::initializer_list<const char*> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* name) { return measure == name; });
}

}  // namespace

const std::vector<std::string>& escalc_measures() {
  static const std::vector<std::string> measures{"MD",  "SMD",  "SMDH", "ROM", "CVR", "VR",  "OR",  "RR",
                                                 "RD",  "AS",   "PETO", "IRR", "IRD", "IRSD", "PR", "PLN",
                                                 "PLO", "PAS",  "PFT",  "IR",  "IRLN", "IRS", "IRFT", "MN",
                                                 "MNLN", "MC",  "SMCC", "SMCR", "ROMC", "COR", "UCOR", "ZCOR"};
  return measures;
}

EffectSizes escalc(const std::string& measure, const EscalcData& data) {
  if (is_one_of(measure, {"MD", "SMD", "SMDH", "ROM", "CVR", "VR"})) return mean_differences(measure, data);
  if (is_one_of(measure, {"OR", "RR", "RD", "AS", "PETO"})) return two_by_two(measure, data);
  if (is_one_of(measure, {"IRR", "IRD", "IRSD"})) return incidence_two_groups(measure, data);
  if (is_one_of(measure, {"PR", "PLN", "PLO", "PAS", "PFT"})) return proportions(measure, data);
  if (is_one_of(measure, {"IR", "IRLN", "IRS", "IRFT"})) return incidence_rates(measure, data);
  if (is_one_of(measure, {"MN", "MNLN"})) return means(measure, data);
  if (is_one_of(measure, {"MC", "SMCC", "SMCR", "ROMC"})) return changes(measure, data);
  if (is_one_of(measure, {"COR", "UCOR", "ZCOR"})) return correlations(measure, data);
  std::string known;
  for (const auto& m : escalc_measures()) known += " " + m;
  throw InputError("--measure: unknown measure '" + measure + "' (expected one of" + known + ")");
}

std::string measure_label(const std::string& measure) {
  static const std::vector<std::pair<std::string, std::string>> labels{
      {"MD", "Mean Difference"},
      {"SMD", "Standardized Mean Difference"},
      {"SMDH", "Standardized Mean Difference"},
      {"ROM", "Log Ratio of Means"},
      {"CVR", "Log Coefficient of Variation Ratio"},
      {"VR", "Log Variability Ratio"},
      {"OR", "Log Odds Ratio"},
      {"PETO", "Log Odds Ratio"},
      {"RR", "Log Risk Ratio"},
      {"RD", "Risk Difference"},
      {"AS", "Arcsine Transformed Risk Difference"},
      {"IRR", "Log Incidence Rate Ratio"},
      {"IRD", "Incidence Rate Difference"},
      {"IRSD", "Square Root Transformed Incidence Rate Difference"},
      {"PR", "Proportion"},
      {"PLN", "Log Proportion"},
      {"PLO", "Log Odds"},
      {"PAS", "Arcsine Transformed Proportion"},
      {"PFT", "Double Arcsine Transformed Proportion"},
      {"IR", "Incidence Rate"},
      {"IRLN", "Log Incidence Rate"},
      {"IRS", "Square Root Transformed Incidence Rate"},
      {"IRFT", "Freeman-Tukey Transformed Incidence Rate"},
      {"MN", "Mean"},
      {"MNLN", "Log Mean"},
      {"MC", "Mean Change"},
      {"SMCC", "Standardized Mean Change"},
      {"SMCR", "Standardized Mean Change"},
      {"ROMC", "Log Ratio of Means"},
      {"COR", "Correlation Coefficient"},
      {"UCOR", "Correlation Coefficient"},
      {"ZCOR", "Fisher's z Transformed Correlation Coefficient"},
  };
  for (const auto& [name, label] : labels)
    if (name == measure) return label;
  return "Observed Outcome";
}

}  // namespace spiral
