// Back-transformations of an estimate as metafor's transf.* functions (transf.ztor,
// transf.ilogit, transf.iarcsin, transf.isqrt, ...), their inverses for plot axes, and the
// natural one for each escalc measure (as forest.rma's atransf in metafor's examples).
#include <cmath>

#include "meta/meta_internal.hpp"

namespace spiral {

namespace {

struct Transformation {
  const char* name;
  double (*forward)(double);
  double (*inverse)(double);
};

double identity(double x) { return x; }
double exp_of(double x) { return std::exp(x); }
double log_of(double x) { return std::log(x); }
double logit(double p) { return std::log(p / (1 - p)); }
double ilogit(double x) { return 1 / (1 + std::exp(-x)); }  // plogis
// transf.iarcsin: sin(x)², 0 below 0 and 1 above asin(1).
double iarcsin(double x) { return x < 0 ? 0 : x > std::asin(1.0) ? 1 : std::pow(std::sin(x), 2); }
double arcsin(double p) { return std::asin(std::sqrt(p)); }
double isqrt(double x) { return x < 0 ? 0 : x * x; }  // transf.isqrt
double sqrt_of(double x) { return std::sqrt(x); }
double tanh_of(double x) { return std::tanh(x); }
double atanh_of(double r) { return std::atanh(r); }

const Transformation kTransformations[] = {
    {"exp", exp_of, log_of},       {"log", log_of, exp_of},         {"tanh", tanh_of, atanh_of},
    {"ztor", tanh_of, atanh_of},   {"atanh", atanh_of, tanh_of},    {"rtoz", atanh_of, tanh_of},
    {"ilogit", ilogit, logit},     {"logit", logit, ilogit},        {"iarcsin", iarcsin, arcsin},
    {"arcsin", arcsin, iarcsin},   {"isqrt", isqrt, sqrt_of},       {"sqrt", sqrt_of, isqrt},
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

}  // namespace

double apply_transf(const std::string& name, double x) { return is_na(x) ? NA : transformation(name).forward(x); }

double inverse_transf(const std::string& name, double x) { return is_na(x) ? NA : transformation(name).inverse(x); }

std::string natural_transf(const std::string& measure) {
  for (const char* m : {"OR", "PETO", "RR", "IRR", "ROM", "CVR", "VR", "PLN", "IRLN", "MNLN", "ROMC"})
    if (measure == m) return "exp";
  if (measure == "ZCOR") return "tanh";
  if (measure == "PLO") return "ilogit";
  if (measure == "PAS") return "iarcsin";
  if (measure == "IRS") return "isqrt";
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
      {"IRS", "Incidence Rate"},  {"MNLN", "Mean"},              {"ZCOR", "Correlation Coefficient"},
  };
  for (const auto& [m, label] : labels)
    if (measure == m) return label;
  return "Transformed " + measure_label(measure);
}

}  // namespace spiral
