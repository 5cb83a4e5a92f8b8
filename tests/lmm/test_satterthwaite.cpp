// Satterthwaite df at lme4's theta against lmerTest's summary() at the same theta (issue 24:
// to 1e-6 relative). Reference files: tests/reference/lmm.R, satterthwaite_ref(formula, data),
// which writes getME(lmer(formula, data), "theta") and summary(fit)$coefficients[, "df"].
#include <gtest/gtest.h>

#include "lmm/satterthwaite.hpp"
#include "test_support.hpp"

namespace spiral::lmm_detail {
namespace {

std::vector<double> df_at_lme4_theta(const std::string& data, const nlohmann::json& ref) {
  const Table table = read_table(test::test_path("data/lmm/" + data));
  const ModelFrame frame = build_model_frame(parse_formula(ref["formula"].get<std::string>(), true), table, {});
  DevianceModel::Columns xy;
  for (Eigen::Index j = 0; j < frame.x.cols(); ++j) xy.emplace_back(frame.x.col(j).data(), frame.x.rows());
  xy.emplace_back(frame.y.data(), frame.y.size());
  DevianceModel model(std::move(xy), lme4_term_order(frame.random), {});
  const std::vector<double> theta = ref["theta"].get<std::vector<double>>();
  Warnings warnings;
  return satterthwaite_df(satterthwaite_derivatives(model, true, theta), model.n_obs() - model.n_fixed(), warnings);
}

void expect_lmertest_df(const std::string& data, const std::string& reference) {
  const nlohmann::json ref = test::reference_json("lmm/" + reference);
  const std::vector<double> df = df_at_lme4_theta(data, ref);
  ASSERT_EQ(df.size(), ref["df"].size());
  for (std::size_t i = 0; i < df.size(); ++i) {
    SCOPED_TRACE(ref["terms"][i].get<std::string>());
    EXPECT_TRUE(test::near_relative(df[i], ref["df"][i], 1e-6));
  }
}

TEST(Satterthwaite, OrthodontAsLmerTestAtTheSameTheta) {
  // lmer(distance ~ age * Sex + (age | Subject), orthodont.csv): df 25.0078, 25.0113, ...
  expect_lmertest_df("orthodont.csv", "satterthwaite_orthodont.json");
}

TEST(Satterthwaite, MachinesAsLmerTestAtTheSameTheta) {
  // lmer(score ~ Machine + (1 | Worker) + (1 | Worker:Machine), machines.csv): df 8.52, 10, 10.
  expect_lmertest_df("machines.csv", "satterthwaite_machines.json");
}

TEST(Satterthwaite, SleepstudyAsLmerTestAtTheSameTheta) {
  // lmer(Reaction ~ Days + (Days | Subject), sleepstudy.csv): df 16.9997, 16.99998.
  expect_lmertest_df("sleepstudy.csv", "satterthwaite_sleepstudy.json");
}

}  // namespace
}  // namespace spiral::lmm_detail
