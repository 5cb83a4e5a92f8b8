// escalc() measures and meta-regression against metafor 3.8-1 (tests/reference/meta.R).
#include <cmath>

#include "meta_test_util.hpp"
#include "tolerances.hpp"

namespace spiral::test {
namespace {

MetaColumns two_by_two(const std::string& measure) {
  MetaColumns c;
  c.measure = measure;
  c.ai = "tpos";
  c.bi = "tneg";
  c.ci = "cpos";
  c.di = "cneg";
  c.slab = "study";
  return c;
}

MetaColumns two_groups(const std::string& measure) {
  MetaColumns c;
  c.measure = measure;
  c.m1i = "m1i";
  c.sd1i = "sd1i";
  c.n1i = "n1i";
  c.m2i = "m2i";
  c.sd2i = "sd2i";
  c.n2i = "n2i";
  return c;
}

MetaColumns correlation(const std::string& measure) {
  MetaColumns c;
  c.measure = measure;
  c.ri = "ri";
  c.ni = "ni";
  return c;
}

// escalc.json: escalc(measure = M, ...) on bcg_2x2 (with a zero cell and a missing count),
// normand1999 and molloy2014. R's NA rows are dropped by meta_input_from_table.
void expect_escalc(const std::string& measure, const std::string& file, const MetaColumns& columns) {
  SCOPED_TRACE(measure);
  const auto ref = reference_json("meta/escalc.json").at(measure);
  const MetaInput input = meta_input_from_table(meta_data(file), columns);
  std::size_t row = 0, missing = 0;
  for (std::size_t i = 0; i < ref.at("yi").size(); ++i) {
    if (ref["yi"][i].is_null()) {
      ++missing;
      continue;
    }
    ASSERT_LT(row, input.yi.size());
    EXPECT_TRUE(near_relative(input.yi[row], ref["yi"][i].get<double>(), tolerance::kEscalc)) << "yi " << i;
    EXPECT_TRUE(near_relative(input.vi[row], ref["vi"][i].get<double>(), tolerance::kEscalc)) << "vi " << i;
    ++row;
  }
  EXPECT_EQ(row, input.yi.size());
  EXPECT_EQ(input.n_dropped, missing);
  EXPECT_EQ(input.measure, measure);
}

TEST(Escalc, OddsRatioWithZeroCellCorrection) { expect_escalc("OR", "bcg_2x2.csv", two_by_two("OR")); }
TEST(Escalc, RiskRatio) { expect_escalc("RR", "bcg_2x2.csv", two_by_two("RR")); }
TEST(Escalc, RiskDifference) { expect_escalc("RD", "bcg_2x2.csv", two_by_two("RD")); }
TEST(Escalc, HedgesG) { expect_escalc("SMD", "normand1999.csv", two_groups("SMD")); }
TEST(Escalc, MeanDifference) { expect_escalc("MD", "normand1999.csv", two_groups("MD")); }
TEST(Escalc, FisherZ) { expect_escalc("ZCOR", "molloy2014.csv", correlation("ZCOR")); }
TEST(Escalc, RawCorrelation) { expect_escalc("COR", "molloy2014.csv", correlation("COR")); }

TEST(Escalc, MissingRowIsCountedAndWarned) {
  const MetaInput input = meta_input_from_table(meta_data("bcg_2x2.csv"), two_by_two("OR"));
  EXPECT_EQ(input.n_dropped, 1u);
  ASSERT_EQ(input.warnings.size(), 1u);
  EXPECT_EQ(input.slab.back(), "Zero cell 2000");
}

TEST(Escalc, MissingColumnIsAnInputError) {
  MetaColumns c = two_groups("SMD");
  c.sd2i.clear();
  EXPECT_THROW(meta_input_from_table(meta_data("normand1999.csv"), c), InputError);
  c = two_groups("SMD");
  c.sd2i = "no_such_column";
  EXPECT_THROW(meta_input_from_table(meta_data("normand1999.csv"), c), InputError);
  c.measure = "XYZ";
  c.sd2i = "sd2i";
  EXPECT_THROW(meta_input_from_table(meta_data("normand1999.csv"), c), InputError);
}

// escalc_pooled.json: rma(measure = M, ..., data) as `spiral meta --measure M`.
TEST(Escalc, PooledSmdZcorOr) {
  const auto ref = reference_json("meta/escalc_pooled.json");
  expect_fit_matches(fit_meta(meta_input_from_table(meta_data("normand1999.csv"), two_groups("SMD")), {}),
                     ref.at("SMD_REML"), tolerance::kMetaIterative);
  MetaOptions knha;
  knha.test = "knha";
  expect_fit_matches(fit_meta(meta_input_from_table(meta_data("molloy2014.csv"), correlation("ZCOR")), knha),
                     ref.at("ZCOR_REML_knha"), tolerance::kMetaIterative);
  MetaOptions dl;
  dl.method = "DL";
  expect_fit_matches(fit_meta(meta_input_from_table(meta_data("bcg_2x2.csv"), two_by_two("OR")), dl), ref.at("OR_DL"),
                     tolerance::kMetaClosedForm);
}

// mods.json: rma(yi, vi, mods = ~ ..., data = bcg, method = M, test = T).
struct ModsCase {
  const char* name;
  const char* mods;
  const char* method;
  const char* test;
};

class MetaRegression : public ::testing::TestWithParam<ModsCase> {};

TEST_P(MetaRegression, MatchesMetafor) {
  const ModsCase c = GetParam();
  MetaOptions options;
  options.mods = c.mods;
  options.method = c.method;
  options.test = c.test;
  const MetaResult r = fit_meta(bcg_input(c.mods), options);
  EXPECT_TRUE(r.has_mods);
  expect_fit_matches(r, reference_json("meta/mods.json").at(c.name), std::string(c.method) == "DL" ? tolerance::kMetaClosedForm : tolerance::kMetaIterative);
  if (std::string(c.test) == "knha") {
    EXPECT_EQ(r.QM_df2, static_cast<double>(r.k - r.p));
  }
  const Json j = to_json(r);
  EXPECT_TRUE(j["estimate"].is_null());
  EXPECT_FALSE(j["QM"].is_null());
}

INSTANTIATE_TEST_SUITE_P(Bcg, MetaRegression,
                         ::testing::Values(ModsCase{"ablat_REML_z", "ablat", "REML", "z"},
                                           ModsCase{"ablat_REML_knha", "~ ablat", "REML", "knha"},
                                           ModsCase{"alloc_REML_z", "alloc", "REML", "z"},
                                           ModsCase{"ablat_year_DL_z", "ablat + year", "DL", "z"},
                                           ModsCase{"ablat_alloc_ML_knha", "ablat + alloc", "ML", "knha"},
                                           ModsCase{"ablat_FE_z", "ablat", "FE", "z"}),
                         [](const auto& info) { return std::string(info.param.name); });

// predict.json (tests/reference/meta.R): fitted(fit), residuals(fit), predict(fit) and
// weights(fit) per study of rma(yi, vi, [mods = ~ ...,] data = bcg, method = M, test = T).
class FittedValues : public ::testing::TestWithParam<ModsCase> {};

TEST_P(FittedValues, MatchMetaforsPredictFittedAndResiduals) {
  const ModsCase c = GetParam();
  MetaOptions options;
  options.mods = c.mods;
  options.method = c.method;
  options.test = c.test;
  const MetaResult r = fit_meta(bcg_input(c.mods), options);
  const nlohmann::json ref = reference_json("meta/predict.json").at(c.name);
  const double tol = std::string(c.method) == "FE" ? tolerance::kMetaClosedForm : tolerance::kMetaIterative;
  const nlohmann::json studies = to_json(r).at("studies");
  ASSERT_EQ(r.fitted.size(), ref.at("studies").size());
  ASSERT_EQ(studies.size(), r.fitted.size());
  for (std::size_t i = 0; i < r.fitted.size(); ++i) {
    SCOPED_TRACE("study " + std::to_string(i + 1));
    const nlohmann::json& row = ref.at("studies")[i];
    const MetaFittedValue& f = r.fitted[i];
    EXPECT_REF(f.estimate, row, "fitted", tol);
    EXPECT_REF(f.estimate, row, "pred", tol);
    EXPECT_REF(f.std_error, row, "se", tol);
    EXPECT_REF(f.conf_low, row, "ci_lb", tol);
    EXPECT_REF(f.conf_high, row, "ci_ub", tol);
    EXPECT_REF(f.pi_low, row, "pi_lb", tol);
    EXPECT_REF(f.pi_high, row, "pi_ub", tol);
    // The residual is compared on the scale of the study's SE (it is near zero for some studies).
    EXPECT_NEAR(studies[i].at("residual").get<double>(), row.at("residual").get<double>(),
                tol * std::sqrt(r.vi[i]));
    EXPECT_TRUE(near_relative(r.weights[i], ref.at("weight")[i].get<double>(), tol)) << "weight";
  }
}

INSTANTIATE_TEST_SUITE_P(Bcg, FittedValues,
                         ::testing::Values(ModsCase{"REML_z", "", "REML", "z"},
                                           ModsCase{"ablat_REML_knha", "ablat", "REML", "knha"},
                                           ModsCase{"ablat_alloc_ML_knha", "ablat + alloc", "ML", "knha"},
                                           ModsCase{"ablat_FE_z", "ablat", "FE", "z"}),
                         [](const auto& info) { return std::string(info.param.name); });

// A constant moderator is redundant beside the intercept: dropped as metafor drops it (with its
// warning, tests/meta/test_redundant.cpp), leaving the intercept-only model of the same studies.
TEST(MetaRegressionInput, ConstantModeratorIsDroppedAsMetaforDoes) {
  Table table = meta_data("bcg.csv");
  table.add_numeric("constant", std::vector<double>(table.rows(), 2.0));
  MetaColumns c;
  c.yi = "yi";
  c.vi = "vi";
  c.mods = "constant";
  MetaOptions options;
  options.mods = "constant";
  const MetaResult r = fit_meta(meta_input_from_table(table, c), options);
  EXPECT_FALSE(r.has_mods);
  ASSERT_EQ(r.coefficients.size(), 1u);
  EXPECT_DOUBLE_EQ(r.estimate, fit_meta(bcg_input(), MetaOptions{}).estimate);
}

TEST(MetaRegressionInput, UnknownModeratorIsAnInputError) {
  MetaColumns c;
  c.yi = "yi";
  c.vi = "vi";
  c.mods = "latitude";
  EXPECT_THROW(meta_input_from_table(meta_data("bcg.csv"), c), InputError);
}

}  // namespace
}  // namespace spiral::test
