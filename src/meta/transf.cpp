// Back-transformations of an estimate as metafor's transf.* functions (transf.ztor,
// transf.ilogit, transf.iarcsin, transf.isqrt, transf.ipft.hm, transf.iirft, ...), their inverses for plot axes, and the
// natural one for each escalc measure (as forest.rma's atransf in metafor's examples).
#include <cfloat>
#include <cmath>

#include "meta/meta_internal.hpp"

namespace spiral {

namespace {

// A transformation and its inverse; `a` is the harmonic mean of the studies' sample sizes or
// person-times for the two that need one (transf.ipft.hm, transf.iirft), unused by the others.
struct Transformation {
  const char* name;
  double (*forward)(double x, double a);
  double (*inverse)(double x, double a);
  enum class Needs { Nothing, SampleSizes, PersonTimes } needs = Needs::Nothing;
};

double identity(double x, double) { return x; }
double exp_of(double x, double) { return std::exp(x); }
double log_of(double x, double) { return std::log(x); }
double logit(double p, double) { return std::log(p / (1 - p)); }
double ilogit(double x, double) { return 1 / (1 + std::exp(-x)); }  // plogis
// transf.iarcsin: sin(x)², 0 below 0 and 1 above asin(1).
double iarcsin(double x, double) { return x < 0 ? 0 : x > std::asin(1.0) ? 1 : std::pow(std::sin(x), 2); }
double arcsin(double p, double) { return std::asin(std::sqrt(p)); }
double isqrt(double x, double) { return x < 0 ? 0 : x * x; }  // transf.isqrt
double sqrt_of(double x, double) { return std::sqrt(x); }
double tanh_of(double x, double) { return std::tanh(x); }
double atanh_of(double r, double) { return std::atanh(r); }

// transf.pft: the Freeman-Tukey double arcsine of a proportion p at sample size n
// (Freeman & Tukey 1950), 1/2 (asin sqrt(x / (n + 1)) + asin sqrt((x + 1) / (n + 1))), x = p n.
double pft(double p, double n) {
  const double x = p * n;
  return 0.5 * (std::asin(std::sqrt(x / (n + 1))) + std::asin(std::sqrt((x + 1) / (n + 1))));
}
double r_sign(double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }
// transf.ipft.hm: Miller's (1978) inversion of the double arcsine at the harmonic mean n of
// the sample sizes, 1/2 (1 - sign(cos 2x) sqrt(1 - (sin 2x + (sin 2x - 1 / sin 2x) / n)²)),
// 0 and 1 beyond the transforms of 0 and 1.
double ipft(double x, double n) {
  if (x > pft(1, n)) return 1;
  if (x < pft(0, n)) return 0;
  const double s = std::sin(2 * x);
  const double root = 1 - std::pow(s + (s - 1 / s) / n, 2);
  return root < 0 ? NA : 0.5 * (1 - r_sign(std::cos(2 * x)) * std::sqrt(root));
}
// transf.irft: the Freeman-Tukey transform of an incidence rate r at person-time t,
// 1/2 (sqrt(r) + sqrt(r + 1/t)).
double irft(double r, double t) { return 0.5 * (std::sqrt(r) + std::sqrt(r + 1 / t)); }
// transf.iirft: its inverse (1/t - 8x² + 16 t x⁴) / (16 x² t), 0 below the transform of 0
// and at or below machine epsilon.
double iirft(double x, double t) {
  if (x < irft(0, t)) return 0;
  const double r = (1 / t - 8 * x * x + 16 * t * std::pow(x, 4)) / (16 * x * x * t);
  return r <= DBL_EPSILON ? 0 : r;
}

using Needs = Transformation::Needs;
const Transformation kTransformations[] = {
    {"exp", exp_of, log_of},       {"log", log_of, exp_of},         {"tanh", tanh_of, atanh_of},
    {"ztor", tanh_of, atanh_of},   {"atanh", atanh_of, tanh_of},    {"rtoz", atanh_of, tanh_of},
    {"ilogit", ilogit, logit},     {"logit", logit, ilogit},        {"iarcsin", iarcsin, arcsin},
    {"arcsin", arcsin, iarcsin},   {"isqrt", isqrt, sqrt_of},       {"sqrt", sqrt_of, isqrt},
    {"ipft.hm", ipft, pft, Needs::SampleSizes}, {"iirft", iirft, irft, Needs::PersonTimes},
    {"none", identity, identity},
};

const Transformation& transformation(const std::string& name) {
  std::string known;
  for (const auto& t : kTransformations) {
    if (name == t.name || name == std::string("transf.") + t.name) return t;
    known += std::string(known.empty() ? "" : ", ") + t.name;
  }
  throw InputError("--transf: unknown transformation '" + name + "' (expected one of " + known + ")");
}

// The argument a transformation needs from `sizes`; InputError when the studies did not give it.
double argument_of(const Transformation& t, const TransfSizes& sizes) {
  if (t.needs == Needs::Nothing) return NA;
  const bool ni = t.needs == Needs::SampleSizes;
  const double a = ni ? sizes.ni : sizes.ti;
  if (!(a > 0))
    throw InputError(std::string("--transf ") + t.name + ": needs the studies' " +
                     (ni ? "sample sizes (--ni, as --measure PFT has)" : "person-times (--ti, as --measure IRFT has)"));
  return a;
}

}  // namespace

double apply_transf(const std::string& name, double x, const TransfSizes& sizes) {
  const Transformation& t = transformation(name);
  const double a = argument_of(t, sizes);
  return is_na(x) ? NA : t.forward(x, a);
}

double inverse_transf(const std::string& name, double x, const TransfSizes& sizes) {
  const Transformation& t = transformation(name);
  const double a = argument_of(t, sizes);
  return is_na(x) ? NA : t.inverse(x, a);
}

double harmonic_mean(const std::vector<double>& values) {
  double sum = 0;
  std::size_t n = 0;
  for (double v : values) {
    if (is_na(v)) continue;  // as mean(1 / ni, na.rm = TRUE) in transf.ipft.hm
    sum += 1 / v;
    ++n;
  }
  return n == 0 ? NA : static_cast<double>(n) / sum;
}

std::string natural_transf(const std::string& measure) {
  for (const char* m : {"OR", "PETO", "RR", "IRR", "ROM", "CVR", "VR", "PLN", "IRLN", "MNLN", "ROMC"})
    if (measure == m) return "exp";
  if (measure == "ZCOR") return "tanh";
  if (measure == "PLO") return "ilogit";
  if (measure == "PAS") return "iarcsin";
  if (measure == "IRS") return "isqrt";
  if (measure == "PFT") return "ipft.hm";
  if (measure == "IRFT") return "iirft";
  return "";
}

std::string transformed_label(const std::string& measure, const std::string& transf) {
  if (transf.empty() || transformation(transf).forward == identity) return measure_label(measure);
  if (transf != natural_transf(measure) && !(measure == "ZCOR" && transformation(transf).forward == tanh_of))
    return "Transformed " + measure_label(measure);
  static const std::pair<const char*, const char*> labels[] = {
      {"OR", "Odds Ratio"},       {"PETO", "Odds Ratio"},        {"RR", "Risk Ratio"},
      {"IRR", "Incidence Rate Ratio"}, {"ROM", "Ratio of Means"}, {"ROMC", "Ratio of Means"},
      {"CVR", "Coefficient of Variation Ratio"}, {"VR", "Variability Ratio"}, {"PLN", "Proportion"},
      {"PLO", "Proportion"},      {"PAS", "Proportion"},         {"IRLN", "Incidence Rate"},
      {"IRS", "Incidence Rate"},  {"PFT", "Proportion"},         {"IRFT", "Incidence Rate"}, {"MNLN", "Mean"},              {"ZCOR", "Correlation Coefficient"},
  };
  for (const auto& [m, label] : labels)
    if (measure == m) return label;
  return "Transformed " + measure_label(measure);
}

}  // namespace spiral
