// Shared helpers of the meta tests: load a data set, compare a fit with metafor's values.
#pragma once
#include <cmath>
#include <string>

#include "spiral/meta.hpp"
#include "test_support.hpp"

namespace spiral::test {

// JSON null (R's NA) as NaN.
inline double ref_number(const nlohmann::json& j, const std::string& key) {
  if (!j.contains(key) || j.at(key).is_null()) return NA;
  return j.at(key).get<double>();
}

inline Table meta_data(const std::string& file) { return read_table(test_path("data/meta/" + file)); }

inline MetaInput bcg_input(const std::string& mods = "") {
  MetaColumns columns;
  columns.yi = "yi";
  columns.vi = "vi";
  columns.slab = "study";
  columns.mods = mods;
  return meta_input_from_table(meta_data("bcg.csv"), columns);
}

#define EXPECT_REF(actual, ref, key, tol)                                                               \
  do {                                                                                                  \
    const double expected_ = ::spiral::test::ref_number(ref, key);                                      \
    if (std::isnan(expected_)) EXPECT_TRUE(std::isnan(actual)) << key << " should be NA, is " << actual; \
    else EXPECT_TRUE(::spiral::test::near_relative(actual, expected_, tol)) << key;                     \
  } while (0)

// Every number metafor reports for a fit (fit_summary() in tests/reference/meta.R).
// `tol` applies to everything; tau² CI bounds (uniroot) get at least 1e-4.
// Every coefficient's row (term, estimate, SE, statistic, p, CI) as metafor's coef(summary(fit)).
inline void expect_coefficients_match(const MetaResult& r, const nlohmann::json& coefficients, double tol) {
  ASSERT_EQ(r.coefficients.size(), coefficients.size());
  for (std::size_t j = 0; j < coefficients.size(); ++j) {
    const auto& c = coefficients[j];
    SCOPED_TRACE("coefficient " + c.at("term").get<std::string>());
    EXPECT_EQ(r.coefficients[j].term, c.at("term").get<std::string>());
    EXPECT_REF(r.coefficients[j].estimate, c, "estimate", tol);
    EXPECT_REF(r.coefficients[j].std_error, c, "std_error", tol);
    EXPECT_REF(r.coefficients[j].statistic, c, "statistic", tol);
    EXPECT_REF(r.coefficients[j].p_value, c, "p_value", tol);
    EXPECT_REF(r.coefficients[j].conf_low, c, "conf_low", tol);
    EXPECT_REF(r.coefficients[j].conf_high, c, "conf_high", tol);
  }
}

inline void expect_fit_matches(const MetaResult& r, const nlohmann::json& ref, double tol) {
  EXPECT_EQ(r.k, ref.at("k").get<std::size_t>());
  EXPECT_REF(r.tau2, ref, "tau2", tol);
  EXPECT_REF(r.tau2_se, ref, "tau2_se", tol);
  EXPECT_REF(r.tau, ref, "tau", tol);
  EXPECT_REF(r.I2, ref, "I2", tol);
  EXPECT_REF(r.H2, ref, "H2", tol);
  EXPECT_REF(r.Q, ref, "Q", tol);
  EXPECT_REF(r.Q_p, ref, "Q_p", tol);
  EXPECT_EQ(r.Q_df, ref.at("Q_df").get<int>());
  if (ref.contains("tau2_conf_low")) {
    EXPECT_REF(r.tau2_conf_low, ref, "tau2_conf_low", std::max(tol, 1e-4));
    EXPECT_REF(r.tau2_conf_high, ref, "tau2_conf_high", std::max(tol, 1e-4));
  } else {
    EXPECT_TRUE(std::isnan(r.tau2_conf_low));
  }
  expect_coefficients_match(r, ref.at("coefficients"), tol);
  const auto& weights = ref.at("weights");
  ASSERT_EQ(r.weights.size(), weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i)
    EXPECT_TRUE(near_relative(r.weights[i], weights[i].get<double>(), tol)) << "weight " << i;
  if (!ref.contains("QM")) {  // intercept-only: the pooled estimate and predict()'s PI (not for FE)
    EXPECT_REF(r.estimate, ref, "estimate", tol);
    EXPECT_REF(r.std_error, ref, "std_error", tol);
    EXPECT_REF(r.p_value, ref, "p_value", tol);
    if (ref.contains("pi_low")) {
      EXPECT_REF(r.pi_low, ref, "pi_low", tol);
      EXPECT_REF(r.pi_high, ref, "pi_high", tol);
    }
  } else {
    EXPECT_REF(r.QM, ref, "QM", tol);
    EXPECT_EQ(r.QM_df, ref.at("QM_df").get<int>());
    EXPECT_REF(r.QM_p, ref, "QM_p", tol);
    EXPECT_REF(r.R2, ref, "R2", std::max(tol, 1e-4));
  }
}

}  // namespace spiral::test
