// Meta-regressions with redundant predictors as metafor 3.8-1 fits them
// (tests/reference/meta_redundant.R -> meta_redundant/redundant.json): the model-matrix columns
// lm(yi ~ X - 1) cannot estimate, after the studies with a missing moderator have gone, are
// dropped with metafor's warning "Redundant predictors dropped from the model.". Each case is
// rma(yi, vi, mods = MODS, data = bcg, method = "REML", test = "knha"), coef(summary(fit)).
#include "meta_test_util.hpp"
#include "tolerances.hpp"

namespace spiral::test {
namespace {

constexpr const char* kRedundant = "Redundant predictors dropped from the model.";

MetaResult fit_case(const nlohmann::json& ref) {
  const std::string mods = ref.at("mods").get<std::string>();
  MetaColumns columns;
  columns.yi = "yi";
  columns.vi = "vi";
  columns.mods = mods;
  MetaOptions options;
  options.mods = mods;
  options.test = "knha";
  return fit_meta(meta_input_from_table(meta_data("bcg_redundant.csv"), columns), options);
}

bool warns(const MetaResult& r, const std::string& text) {
  for (const auto& w : r.warnings)
    if (w == text) return true;
  return false;
}

const nlohmann::json& reference() {
  static const nlohmann::json j = reference_json("meta_redundant/redundant.json");
  return j;
}

class Redundant : public ::testing::TestWithParam<std::string> {};

TEST_P(Redundant, ColumnsDroppedWithMetaforsWarning) {
  const auto& ref = reference().at(GetParam());
  const MetaResult r = fit_case(ref);
  const double tol = tolerance::kMetaMeasure;
  EXPECT_EQ(r.k, ref.at("k").get<std::size_t>());
  EXPECT_NE(ref.at("warnings").dump().find(kRedundant), std::string::npos);  // metafor warned
  EXPECT_TRUE(warns(r, kRedundant));
  EXPECT_REF(r.tau2, ref, "tau2", tol);
  EXPECT_REF(r.QM, ref, "QM", tol);  // null when every moderator was dropped (intercept only)
  expect_coefficients_match(r, ref.at("coefficients"), tol);
}

INSTANTIATE_TEST_SUITE_P(Bcg, Redundant, ::testing::Values("constant", "empty_level", "empty_reference"),
                         [](const auto& info) { return info.param; });

// A design without redundant columns has no such warning.
TEST(RedundantNone, FullRankDesignHasNoWarning) {
  MetaOptions options;
  options.mods = "ablat + alloc";
  EXPECT_FALSE(warns(fit_meta(bcg_input("ablat + alloc"), options), kRedundant));
}

// The CLI: the warning on stderr and in JSON, exit 0, the dropped column absent.
TEST(RedundantCli, WarnsOnStderrAndInJson) {
  const RunResult r = run_spiral("meta --data '" + test_path("data/meta/bcg_redundant.csv") +
                                 "' --yi yi --vi vi --mods 'ablat_sys + alloc' --test knha --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(std::string("spiral: warning: ") + kRedundant), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NE(j.at("warnings").dump().find(kRedundant), std::string::npos);
  EXPECT_EQ(j.at("coefficients").size(), 3u);
  EXPECT_EQ(j.at("n_dropped"), 4);
}

}  // namespace
}  // namespace spiral::test
