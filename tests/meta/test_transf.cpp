// The back-transformations that need the studies' sizes, against metafor 3.8-1
// (tests/reference/meta_transf.R -> meta_transf/transf.json):
//   --measure PFT --transf ipft.hm: predict(rma(yi, vi, data = escalc("PFT", ...)),
//                                           transf = transf.ipft.hm, targs = list(ni = ni))
//   --measure IRFT --transf iirft:  predict(fit, transf = transf.iirft, targs = 1 / mean(1 / ti))
// and transf.ipft.hm / transf.iirft / transf.pft / transf.irft themselves on a grid.
#include <fstream>

#include "meta_test_util.hpp"
#include "tolerances.hpp"

namespace spiral::test {
namespace {

const nlohmann::json& reference() {
  static const nlohmann::json j = reference_json("meta_transf/transf.json");
  return j;
}

MetaInput case_input(const nlohmann::json& c) {
  MetaColumns columns;
  columns.measure = c.at("measure").get<std::string>();
  columns.xi = c.at("columns").at("xi").get<std::string>();
  if (columns.measure == "PFT") columns.ni = c.at("columns").at("ni").get<std::string>();
  else columns.ti = c.at("columns").at("ti").get<std::string>();
  return meta_input_from_table(meta_data(c.at("file").get<std::string>()), columns);
}

class SizedTransf : public ::testing::TestWithParam<std::string> {};

TEST_P(SizedTransf, PooledValuesBackTransformedAsMetafor) {
  const auto& c = reference().at("cases").at(GetParam());
  MetaOptions options;
  options.transf = c.at("transf").get<std::string>();
  const MetaResult r = fit_meta(case_input(c), options);
  const double tol = tolerance::kMetaMeasure;
  EXPECT_TRUE(near_relative(r.estimate, c.at("estimate").get<double>(), tol));
  const double size = c.at("measure") == "PFT" ? r.transf_sizes.ni : r.transf_sizes.ti;
  EXPECT_TRUE(near_relative(size, c.at("harmonic_mean").get<double>(), 1e-14));
  const auto& t = c.at("transformed");
  EXPECT_REF(r.transf_estimate, t, "estimate", tol);
  EXPECT_REF(r.transf_conf_low, t, "conf_low", tol);
  EXPECT_REF(r.transf_conf_high, t, "conf_high", tol);
  EXPECT_REF(r.transf_pi_low, t, "pi_low", tol);  // IRFT_niel: 0, below the transform of rate 0
  EXPECT_REF(r.transf_pi_high, t, "pi_high", tol);  // PFT_pritz: 1, above the transform of 1
}

INSTANTIATE_TEST_SUITE_P(Metafor, SizedTransf, ::testing::Values("PFT_pritz", "PFT_debruin", "IRFT_niel", "IRFT_hart"),
                         [](const auto& info) { return info.param; });

// transf.ipft.hm(x, targs = list(ni = n)) and transf.iirft(x, t) on a grid that reaches beyond
// the transforms of 0 and 1 (0 and 1 there), and their inverses transf.pft and transf.irft.
TEST(SizedTransfFunctions, EqualMetaforOnAGrid) {
  for (const char* name : {"ipft.hm", "iirft"}) {
    SCOPED_TRACE(name);
    const auto& g = reference().at("grid").at(name);
    const double size = g.at("size").get<double>();
    const TransfSizes sizes = std::string(name) == "ipft.hm" ? TransfSizes{size, NA} : TransfSizes{NA, size};
    for (std::size_t i = 0; i < g.at("x").size(); ++i) {
      const double x = g["x"][i].get<double>(), y = g["y"][i].get<double>();
      EXPECT_NEAR(apply_transf(name, x, sizes), y, 1e-14) << "x = " << x;
    }
    for (std::size_t i = 0; i < g.at("inverse_at").size(); ++i) {
      const double at = g["inverse_at"][i].get<double>();
      EXPECT_NEAR(inverse_transf(name, at, sizes), g["inverse"][i].get<double>(), 1e-14) << "at " << at;
    }
  }
}

// Without the sizes they need, both are input errors naming what is missing.
TEST(SizedTransfFunctions, WithoutSizesAreInputErrors) {
  MetaColumns columns;
  columns.measure = "PLO";
  columns.xi = "xi";
  columns.ni = "ni";
  MetaOptions options;
  options.transf = "iirft";
  try {
    fit_meta(meta_input_from_table(meta_data("pritz1997.csv"), columns), options);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--transf iirft: needs the studies' person-times (--ti"), std::string::npos)
        << e.what();
  }
  options.transf = "ipft.hm";  // PLO has --ni: the harmonic mean is there, as transf.ipft.hm would take it
  EXPECT_NO_THROW(fit_meta(meta_input_from_table(meta_data("pritz1997.csv"), columns), options));
  EXPECT_THROW(apply_transf("ipft.hm", 0.5), InputError);
}

// The CLI: --measure PFT --transf ipft.hm in JSON, and the forest plot's axis in proportions
// (the natural back-transformation of PFT) without --transf.
TEST(SizedTransfCli, JsonAndForestAxis) {
  const auto& c = reference().at("cases").at("PFT_debruin");
  const std::string data = test_path("data/meta/debruin2009.csv");
  RunResult r = run_spiral("meta --data '" + data + "' --measure PFT --xi xi --ni ni --transf ipft.hm --format json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(near_relative(j.at("transformed").at("estimate").get<double>(),
                            c.at("transformed").at("estimate").get<double>(), tolerance::kMetaMeasure));
  EXPECT_EQ(j.at("transformed").at("transf"), "ipft.hm");
  const std::string svg = temp_dir("meta-transf") + "/forest.svg";
  r = run_spiral("meta --data '" + data + "' --measure PFT --xi xi --ni ni --forest '" + svg + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_text(svg).find(">Proportion<"), std::string::npos);
}

}  // namespace
}  // namespace spiral::test
