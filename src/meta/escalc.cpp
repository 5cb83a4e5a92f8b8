// Effect sizes and sampling variances as metafor's escalc() with its defaults
// (vtype = "LS", add = 1/2, to = "only0").
#include <cmath>

#include "meta/meta_internal.hpp"

namespace spiral {

namespace {

bool any_missing(std::initializer_list<double> values) {
  for (double v : values)
    if (is_na(v)) return true;
  return false;
}

void require_columns(const std::string& measure, std::initializer_list<const std::vector<double>*> columns,
                     const char* needed) {
  std::size_t n = (*columns.begin())->size();
  for (const auto* c : columns)
    if (c->empty() || c->size() != n)
      throw InputError("--measure " + measure + ": needs the columns " + needed);
}

// Hedges' exact small-sample correction c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))
// (Hedges 1981, eq. 6e).
double hedges_correction(double m) {
  if (m <= 1) return NA;
  return std::exp(std::lgamma(m / 2) - std::log(std::sqrt(m / 2)) - std::lgamma((m - 1) / 2));
}

// SMD (Hedges' g) and MD from two groups' means, SDs and sizes.
EffectSizes mean_differences(const std::string& measure, const EscalcData& d) {
  require_columns(measure, {&d.m1i, &d.sd1i, &d.n1i, &d.m2i, &d.sd2i, &d.n2i},
                  "--m1i --sd1i --n1i --m2i --sd2i --n2i");
  EffectSizes out;
  for (std::size_t i = 0; i < d.m1i.size(); ++i) {
    const double m1 = d.m1i[i], m2 = d.m2i[i], s1 = d.sd1i[i], s2 = d.sd2i[i], n1 = d.n1i[i], n2 = d.n2i[i];
    double yi = NA, vi = NA;
    if (!any_missing({m1, m2, s1, s2, n1, n2})) {
      if (s1 < 0 || s2 < 0) throw InputError("--measure " + measure + ": row " + std::to_string(i + 1) + " has a negative standard deviation");
      if (n1 <= 0 || n2 <= 0) throw InputError("--measure " + measure + ": row " + std::to_string(i + 1) + " has a group size <= 0");
      if (measure == "MD") {
        yi = m1 - m2;
        vi = s1 * s1 / n1 + s2 * s2 / n2;
      } else {
        // Pooled SD over m = n1 + n2 - 2 df; large-sample variance (vtype "LS").
        const double m = n1 + n2 - 2;
        const double sd_pooled = std::sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / m);
        yi = hedges_correction(m) * (m1 - m2) / sd_pooled;
        vi = 1 / n1 + 1 / n2 + yi * yi / (2 * (n1 + n2));
      }
    }
    out.yi.push_back(yi);
    out.vi.push_back(vi);
  }
  return out;
}

// COR (raw correlation, vi = (1 - r²)² / (n - 1)) and ZCOR (Fisher's z, vi = 1 / (n - 3)).
EffectSizes correlations(const std::string& measure, const EscalcData& d) {
  require_columns(measure, {&d.ri, &d.ni}, "--ri --ni");
  EffectSizes out;
  for (std::size_t i = 0; i < d.ri.size(); ++i) {
    const double r = d.ri[i], n = d.ni[i];
    double yi = NA, vi = NA;
    if (!any_missing({r, n})) {
      if (std::fabs(r) > 1) throw InputError("--ri: row " + std::to_string(i + 1) + " has a correlation outside [-1, 1]");
      if (n <= 0) throw InputError("--ni: row " + std::to_string(i + 1) + " has a sample size <= 0");
      if (measure == "COR") {
        yi = r;
        vi = std::pow(1 - r * r, 2) / (n - 1);
      } else {
        yi = std::atanh(r);
        vi = 1 / (n - 3);
      }
      if (n <= 3) vi = NA;  // escalc: no sampling variance when n <= 3
    }
    out.yi.push_back(yi);
    out.vi.push_back(vi);
  }
  return out;
}

// OR, RR, RD from 2×2 tables (ai, bi: events / non-events in group 1; ci, di in group 2).
// A study with a zero cell gets 1/2 added to all four cells (add = 1/2, to = "only0").
EffectSizes two_by_two(const std::string& measure, const EscalcData& d) {
  require_columns(measure, {&d.ai, &d.bi, &d.ci, &d.di}, "--ai --bi --ci --di");
  EffectSizes out;
  for (std::size_t i = 0; i < d.ai.size(); ++i) {
    double a = d.ai[i], b = d.bi[i], c = d.ci[i], dd = d.di[i];
    double yi = NA, vi = NA;
    if (!any_missing({a, b, c, dd})) {
      if (a < 0 || b < 0 || c < 0 || dd < 0)
        throw InputError("--measure " + measure + ": row " + std::to_string(i + 1) + " has a negative count");
      if (a == 0 || b == 0 || c == 0 || dd == 0) {
        a += 0.5;
        b += 0.5;
        c += 0.5;
        dd += 0.5;
      }
      const double n1 = a + b, n2 = c + dd, p1 = a / n1, p2 = c / n2;
      if (measure == "OR") {
        yi = std::log(p1 / (1 - p1)) - std::log(p2 / (1 - p2));
        vi = 1 / a + 1 / b + 1 / c + 1 / dd;
      } else if (measure == "RR") {
        yi = std::log(p1) - std::log(p2);
        vi = 1 / a - 1 / n1 + 1 / c - 1 / n2;
      } else {
        yi = p1 - p2;
        vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2;
      }
    }
    out.yi.push_back(yi);
    out.vi.push_back(vi);
  }
  return out;
}

}  // namespace

EffectSizes escalc(const std::string& measure, const EscalcData& data) {
  if (measure == "SMD" || measure == "MD") return mean_differences(measure, data);
  if (measure == "COR" || measure == "ZCOR") return correlations(measure, data);
  if (measure == "OR" || measure == "RR" || measure == "RD") return two_by_two(measure, data);
  throw InputError("--measure: unknown measure '" + measure + "' (expected SMD, MD, ZCOR, COR, OR, RR or RD)");
}

std::string measure_label(const std::string& measure) {
  if (measure == "SMD") return "Standardized Mean Difference";
  if (measure == "MD") return "Mean Difference";
  if (measure == "ZCOR") return "Fisher's z Transformed Correlation Coefficient";
  if (measure == "COR") return "Correlation Coefficient";
  if (measure == "OR") return "Log Odds Ratio";
  if (measure == "RR") return "Log Risk Ratio";
  if (measure == "RD") return "Risk Difference";
  return "Observed Outcome";
}

}  // namespace spiral
