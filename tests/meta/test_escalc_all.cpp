// Every escalc measure of specification section 4.1 against metafor 3.8-1: escalc()'s yi and vi, the REML
// fit rma(yi, vi, data = escalc(...)), fitstats() and predict(fit, transf = T) with the
// measure's natural back-transformation. Values from measure_case() in tests/reference/meta.R
// (escalc_all.json), which also names the data file and the columns of each case.
#include <cmath>
#include <map>

#include "meta_test_util.hpp"
#include "tolerances.hpp"

namespace spiral::test {
namespace {

const nlohmann::json& cases() {
  static const nlohmann::json j = reference_json("meta/escalc_all.json");
  return j;
}

// The case's escalc arguments as spiral's column options.
MetaColumns columns_of(const nlohmann::json& c) {
  MetaColumns m;
  m.measure = c.at("measure").get<std::string>();
  std::map<std::string, std::string*> fields{
      {"ai", &m.ai},   {"bi", &m.bi},   {"ci", &m.ci},   {"di", &m.di},     {"n1i", &m.n1i}, {"n2i", &m.n2i},
      {"m1i", &m.m1i}, {"m2i", &m.m2i}, {"sd1i", &m.sd1i}, {"sd2i", &m.sd2i}, {"x1i", &m.x1i}, {"x2i", &m.x2i},
      {"t1i", &m.t1i}, {"t2i", &m.t2i}, {"xi", &m.xi},   {"ti", &m.ti},     {"mi", &m.mi},   {"sdi", &m.sdi},
      {"ni", &m.ni},   {"ri", &m.ri}};
  for (const auto& [argument, column] : c.at("columns").items()) *fields.at(argument) = column.get<std::string>();
  return m;
}

MetaInput input_of(const nlohmann::json& c) { return meta_input_from_table(meta_data(c.at("file").get<std::string>()), columns_of(c)); }

class EveryMeasure : public ::testing::TestWithParam<std::string> {};

// escalc(measure = M, <columns>, data): yi and vi of every row; rows R gives NA are dropped.
TEST_P(EveryMeasure, EscalcYiViMatchMetafor) {
  const auto& c = cases().at(GetParam());
  const MetaInput input = input_of(c);
  std::size_t row = 0, missing = 0;
  for (std::size_t i = 0; i < c.at("yi").size(); ++i) {
    if (c["yi"][i].is_null() || c["vi"][i].is_null()) {
      ++missing;
      continue;
    }
    ASSERT_LT(row, input.yi.size());
    EXPECT_TRUE(near_relative(input.yi[row], c["yi"][i].get<double>(), tolerance::kEscalc)) << "yi " << i;
    EXPECT_TRUE(near_relative(input.vi[row], c["vi"][i].get<double>(), tolerance::kEscalc)) << "vi " << i;
    ++row;
  }
  EXPECT_EQ(row, input.yi.size());
  EXPECT_EQ(input.n_dropped, missing);
}

// rma(yi, vi, data = escalc(...)) with fitstats() and predict(fit, transf = T).
TEST_P(EveryMeasure, PooledFitFitstatsAndBackTransformMatchMetafor) {
  const auto& c = cases().at(GetParam());
  MetaOptions options;
  if (c.contains("transf")) options.transf = c.at("transf").get<std::string>();
  const MetaResult r = fit_meta(input_of(c), options);
  const auto& fit = c.at("fit");
  expect_fit_matches(r, fit, tolerance::kMetaMeasure);
  EXPECT_REF(r.logLik, fit, "logLik", tolerance::kMetaMeasure);
  EXPECT_REF(r.AIC, fit, "AIC", tolerance::kMetaMeasure);
  EXPECT_REF(r.BIC, fit, "BIC", tolerance::kMetaMeasure);
  EXPECT_REF(r.AICc, fit, "AICc", tolerance::kMetaMeasure);
  if (!c.contains("transformed")) return;
  const auto& t = c.at("transformed");
  EXPECT_REF(r.transf_estimate, t, "estimate", tolerance::kMetaMeasure);
  EXPECT_REF(r.transf_conf_low, t, "conf_low", tolerance::kMetaMeasure);
  EXPECT_REF(r.transf_conf_high, t, "conf_high", tolerance::kMetaMeasure);
  EXPECT_REF(r.transf_pi_low, t, "pi_low", tolerance::kMetaMeasure);
  EXPECT_REF(r.transf_pi_high, t, "pi_high", tolerance::kMetaMeasure);
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& [name, value] : cases().items()) names.push_back(name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Metafor, EveryMeasure, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// Every measure the CLI offers has a reference case.
TEST(EveryMeasureList, EachMeasureIsTested) {
  for (const auto& measure : escalc_measures()) EXPECT_TRUE(cases().contains(measure)) << measure;
}

// --n1i --n2i instead of --bi --di give the same tables (escalc: bi = n1i - ai).
TEST(Escalc, GroupSizesInsteadOfNonEvents) {
  MetaColumns with_sizes = columns_of(cases().at("OR"));
  const MetaInput a = meta_input_from_table(meta_data("yusuf1985_t9.csv"), with_sizes);
  EXPECT_EQ(a.yi.size(), 26u);
  with_sizes.bi = "ai";  // --bi beside --n1i: the non-events are given, --n1i is not used
  with_sizes.n1i.clear();
  with_sizes.n2i.clear();
  EXPECT_THROW(meta_input_from_table(meta_data("yusuf1985_t9.csv"), with_sizes), InputError);  // no --di
}

TEST(Escalc, MoreEventsThanTheGroupIsAnInputError) {
  EscalcData d;
  d.ai = {5};
  d.n1i = {4};
  d.ci = {1};
  d.n2i = {10};
  try {
    escalc("OR", d);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "--measure OR: row 1 has more events than its group size");
  }
}

}  // namespace
}  // namespace spiral::test
