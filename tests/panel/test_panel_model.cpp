// Internals of the panel engine: the analytic FIML gradient against central differences
// of the log-likelihood, and the saturated model's EM against lavaan's h1 logLik.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "panel/fiml.hpp"
#include "panel/likelihood.hpp"
#include "panel/optimize.hpp"
#include "panel/panel_data.hpp"
#include "panel/panel_model.hpp"
#include "test_support.hpp"

namespace spiral::panel {
namespace {

WideData missing2() {
  PanelOptions options;
  options.id = "patient";
  options.time = "session";
  options.vars = {"alliance", "symptoms"};
  return wide_from_long(read_table(test::test_path("data/panel/missing2.csv")), options);
}

double loglik(const PanelModel& model, const std::vector<Pattern>& patterns, const Eigen::VectorXd& theta) {
  const PanelModel::Moments m = model.implied(theta);
  return fiml_loglik(patterns, m.mu, m.sigma, false).loglik;
}

void expect_gradient_matches_differences(bool random_intercepts) {
  const WideData wide = missing2();
  const std::vector<Pattern> patterns = missing_patterns(wide.y);
  const PanelModel model(2, 7, random_intercepts);
  Eigen::VectorXd theta = model.start(wide.y);
  // move away from the symmetric start so that every derivative is exercised
  for (long j = 0; j < theta.size(); ++j) theta(j) += 0.01 * std::sin(static_cast<double>(j) + 1);
  const PanelModel::Moments m = model.implied(theta);
  const FimlValue value = fiml_loglik(patterns, m.mu, m.sigma, true);
  ASSERT_TRUE(value.ok);
  const Eigen::VectorXd analytic = model.gradient(theta, value.d_mu, value.d_sigma);
  for (long j = 0; j < theta.size(); ++j) {
    const double h = 1e-6;
    Eigen::VectorXd up = theta, down = theta;
    up(j) += h;
    down(j) -= h;
    const double numeric = (loglik(model, patterns, up) - loglik(model, patterns, down)) / (2 * h);
    EXPECT_NEAR(analytic(j), numeric, 1e-4 * std::max(1.0, std::fabs(numeric))) << "parameter " << j;
  }
}

TEST(PanelModel, RiclpmGradientMatchesDifferences) { expect_gradient_matches_differences(true); }
TEST(PanelModel, ClpmGradientMatchesDifferences) { expect_gradient_matches_differences(false); }

// The FIML gradient uses C = F F' per pattern: F is the patients' centred values when they
// are fewer than the observed columns, none for a single patient, an eigen-factor otherwise.
TEST(PanelModel, PatternCovarianceFactorReproducesTheCovariance) {
  const std::vector<Pattern> patterns = missing_patterns(missing2().y);
  int single = 0, few = 0, many = 0;
  for (const Pattern& pattern : patterns) {
    const long p = static_cast<long>(pattern.observed.size());
    ASSERT_EQ(pattern.cov_factor.rows(), p);
    EXPECT_LE(pattern.cov_factor.cols(), std::min(p, static_cast<long>(pattern.n)));
    const Eigen::MatrixXd product = pattern.cov_factor * pattern.cov_factor.transpose();
    EXPECT_LT((product - pattern.cov).cwiseAbs().maxCoeff(), 1e-12 * std::max(1.0, pattern.cov.cwiseAbs().maxCoeff()));
    single += pattern.n == 1;
    few += pattern.n > 1 && pattern.n <= static_cast<double>(p);
    many += pattern.n > static_cast<double>(p);
  }
  EXPECT_GT(single, 0);
  EXPECT_GT(few, 0);
  EXPECT_GT(many, 0);
}

// The FIML value and gradient by the textbook formula, pattern by pattern (FimlValue's
// comment), for checking both of fiml_loglik's routes.
FimlValue direct_fiml(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu, const Eigen::MatrixXd& sigma) {
  FimlValue value;
  value.d_mu = Eigen::VectorXd::Zero(mu.size());
  value.d_sigma = Eigen::MatrixXd::Zero(sigma.rows(), sigma.cols());
  for (const Pattern& pattern : patterns) {
    const auto& o = pattern.observed;
    const Eigen::MatrixXd s = sigma(o, o), s_inverse = s.inverse();
    const Eigen::VectorXd d = pattern.mean - mu(o);
    const Eigen::MatrixXd moments = pattern.cov + d * d.transpose();
    value.loglik -= 0.5 * pattern.n *
                    (static_cast<double>(o.size()) * std::log(2 * M_PI) + std::log(s.determinant()) +
                     (s_inverse * moments).trace());
    value.d_mu(o) += pattern.n * s_inverse * d;
    value.d_sigma(o, o) += 0.5 * pattern.n * (s_inverse * moments * s_inverse - s_inverse);
  }
  return value;
}

void expect_fiml_matches_direct(const std::vector<Pattern>& patterns, const Eigen::VectorXd& mu,
                                const Eigen::MatrixXd& sigma) {
  const FimlValue value = fiml_loglik(patterns, mu, sigma, true), direct = direct_fiml(patterns, mu, sigma);
  ASSERT_TRUE(value.ok);
  EXPECT_TRUE(test::near_relative(value.loglik, direct.loglik, 1e-12)) << value.loglik << " vs " << direct.loglik;
  const double scale = direct.d_sigma.cwiseAbs().maxCoeff();
  EXPECT_LT((value.d_mu - direct.d_mu).cwiseAbs().maxCoeff(), 1e-10 * direct.d_mu.cwiseAbs().maxCoeff());
  EXPECT_LT((value.d_sigma - direct.d_sigma).cwiseAbs().maxCoeff(), 1e-10 * scale);
  EXPECT_EQ(fiml_loglik(patterns, mu, sigma, false).loglik, value.loglik);
}

// Sigma positive definite: K = Sigma^-1 and the partitioned-inverse identities per pattern.
TEST(PanelModel, FimlThroughThePrecisionMatrixMatchesTheDirectFormula) {
  const WideData wide = missing2();
  const PanelModel model(2, 7, true);
  Eigen::VectorXd theta = model.start(wide.y);
  for (long j = 0; j < theta.size(); ++j) theta(j) += 0.01 * std::sin(static_cast<double>(j) + 1);
  const PanelModel::Moments m = model.implied(theta);
  expect_fiml_matches_direct(missing_patterns(wide.y), m.mu, m.sigma);
}

// Sigma not positive definite (corr(y0, y1) = 1.5) while no patient observes y0 and y1
// together, so every pattern's block is: the likelihood is finite, by one factor per pattern.
TEST(PanelModel, FimlOfASigmaThatIsNotPositiveDefiniteUsesThePatternBlocks) {
  const double na = std::numeric_limits<double>::quiet_NaN();
  Eigen::MatrixXd y(7, 3);
  y << 0.5, na, 1.0, -0.3, na, 0.2, 1.1, na, -0.4, na, 0.7, 0.9, na, -1.2, 0.1, na, 0.4, -0.6, na, na, 0.3;
  Eigen::MatrixXd sigma(3, 3);
  sigma << 1.0, 1.5, 0.3, 1.5, 1.0, 0.3, 0.3, 0.3, 1.0;
  ASSERT_NE(Eigen::LLT<Eigen::MatrixXd>(sigma).info(), Eigen::Success);
  expect_fiml_matches_direct(missing_patterns(y), Eigen::Vector3d(0.1, -0.2, 0.05), sigma);
}

// The Hessian of -logL / N by central differences of the analytic gradient (step 1e-5):
// truncation and rounding errors ~1e-10 relative.
Eigen::MatrixXd central_hessian(const Objective& objective, const Eigen::VectorXd& theta) {
  const long n = theta.size();
  Eigen::MatrixXd hessian(n, n);
  for (long j = 0; j < n; ++j) {
    const double h = 1e-5 * std::max(1.0, std::fabs(theta(j)));
    Eigen::VectorXd up = theta, down = theta, g_up(n), g_down(n);
    up(j) += h;
    down(j) -= h;
    objective(up, &g_up);
    objective(down, &g_down);
    hessian.col(j) = (g_up - g_down) / (2 * h);
  }
  return hessian;
}

// With complete data whose sample moments equal the implied ones, the observed information
// (the Hessian of -logL / N) is the expected one, which the optimizer starts from.
TEST(PanelModel, CompleteDataInformationIsTheHessianAtMatchingMoments) {
  const PanelModel model(2, 5, true);
  Eigen::VectorXd theta = model.start(Eigen::MatrixXd::Constant(4, 10, 1.0) + Eigen::MatrixXd::Identity(4, 10));
  for (long j = 0; j < theta.size(); ++j) theta(j) += 0.05 * std::sin(static_cast<double>(j) + 1);
  const PanelModel::Moments m = model.implied(theta);
  Pattern all;
  for (int j = 0; j < 10; ++j) all.observed.push_back(j);
  all.n = 100;
  all.mean = m.mu;
  all.cov = m.sigma;
  all.cov_factor = Eigen::LLT<Eigen::MatrixXd>(m.sigma).matrixL();
  const std::vector<Pattern> patterns{all};
  const Objective objective = likelihood_objective(model, patterns, all.n);
  Eigen::VectorXd gradient(theta.size());
  objective(theta, &gradient);
  EXPECT_LT(gradient.cwiseAbs().maxCoeff(), 1e-10);  // the moments match: a stationary point
  const Eigen::MatrixXd observed = central_hessian(objective, theta);
  const Eigen::MatrixXd expected = model.complete_data_information(theta);
  // closed form but for the lagged effects' rows (forward differences of Sigma, ~1e-6)
  EXPECT_LT((observed - expected).cwiseAbs().maxCoeff(), 1e-5 * expected.cwiseAbs().maxCoeff());
  EXPECT_EQ(expected, expected.transpose());
}

// fiml_hessian's closed form for the means and the covariance parameters in which Sigma is
// linear (all but the lagged effects, 38 of the RI-CLPM's 42 parameters) against central
// differences of the gradient, and the Hessian that differences only the lagged effects'
// columns against the one differenced throughout (missing2.csv: values missing in several
// patterns, patterns of one patient among them).
void expect_closed_form_hessian_matches_differences(bool random_intercepts) {
  const WideData wide = missing2();
  const std::vector<Pattern> patterns = missing_patterns(wide.y);
  const PanelModel model(2, static_cast<int>(wide.waves.size()), random_intercepts);
  const double n = static_cast<double>(wide.y.rows());
  Eigen::VectorXd theta = model.start(wide.y);
  for (long j = 0; j < theta.size(); ++j) theta(j) += 0.02 * std::sin(static_cast<double>(j) + 1);
  for (int to = 0; to < 2; ++to)
    for (int from = 0; from < 2; ++from) theta(model.b_index(to, from)) = 0.2 - 0.1 * to + 0.05 * from;
  const Objective objective = likelihood_objective(model, patterns, n);
  Eigen::VectorXd gradient(theta.size());
  objective(theta, &gradient);
  const ExactBlock closed_form = closed_form_hessian(model, patterns, n);
  ASSERT_EQ(static_cast<long>(closed_form.indices.size()), model.n_parameters() - 4);

  const Eigen::MatrixXd central = central_hessian(objective, theta);
  const double scale = central.cwiseAbs().maxCoeff();
  const Eigen::MatrixXd block = closed_form.block(theta);
  EXPECT_LT((central(closed_form.indices, closed_form.indices) - block).cwiseAbs().maxCoeff(), 1e-8 * scale);

  const Eigen::MatrixXd differenced = hessian_by_differences(objective, theta, gradient);
  const Eigen::MatrixXd with_block = hessian_by_differences(objective, theta, gradient, closed_form);
  EXPECT_LT((differenced - with_block).cwiseAbs().maxCoeff(), 1e-5 * scale);
  EXPECT_LT((central - with_block).cwiseAbs().maxCoeff(), 1e-5 * scale);
  EXPECT_EQ(with_block, with_block.transpose());
}

TEST(PanelModel, ClosedFormHessianOfTheRiclpmMatchesDifferences) {
  expect_closed_form_hessian_matches_differences(true);
}

TEST(PanelModel, ClosedFormHessianOfTheClpmMatchesDifferences) {
  expect_closed_form_hessian_matches_differences(false);
}

// A Sigma with a pattern block that is not positive definite has no closed-form Hessian.
TEST(PanelModel, FimlHessianIsNanWhenAPatternBlockIsNotPositiveDefinite) {
  Pattern one;
  one.observed = {0, 1};
  one.n = 1;
  one.mean = Eigen::Vector2d(0.1, 0.2);
  one.cov = Eigen::Matrix2d::Zero();
  one.cov_factor = Eigen::MatrixXd(2, 0);
  Eigen::Matrix2d sigma;
  sigma << 1.0, 1.5, 1.5, 1.0;
  const Eigen::MatrixXd vectors = Eigen::Matrix2d::Identity();
  const Eigen::MatrixXd h = fiml_hessian({one}, Eigen::Vector2d::Zero(), sigma, vectors, {{0, 1, 1.0}});
  EXPECT_EQ(h.rows(), 3);
  EXPECT_TRUE(h.array().isNaN().all());
}

TEST(PanelModel, ParameterCountIsLavaansNpar) {
  // lavaan's npar for k = 2, 7 waves: 14 means + 4 lagged + 3 RI + 7 x 3 (co)variances.
  EXPECT_EQ(PanelModel(2, 7, true).n_parameters(), 42);
  EXPECT_EQ(PanelModel(2, 7, false).n_parameters(), 39);
  EXPECT_EQ(PanelModel(3, 5, true).n_parameters(), 60);
}

// fitMeasures(fit)["unrestricted.logl"] from tests/reference/panel.R, reference('riclpm_missing2').
TEST(PanelModel, SaturatedLogLikMatchesLavaanH1) {
  const WideData wide = missing2();
  const Saturated h1 = saturated_fiml(missing_patterns(wide.y), wide.y);
  const auto ref = test::reference_json("panel/riclpm_missing2.json");
  EXPECT_TRUE(h1.converged);
  EXPECT_TRUE(test::near_relative(h1.loglik, ref["h1_logLik"].get<double>(), 1e-8));
}

}  // namespace
}  // namespace spiral::panel

namespace spiral::panel {
namespace {

// Speed budget: the fit of 300 patients x 7 waves with missing values must need few
// likelihood evaluations (each is one Cholesky factor per missingness pattern); from the
// fit to the pairwise moments, BFGS needs fewer than from the simple starting values.
TEST(PanelModel, OptimizerNeedsFewEvaluations) {
  const WideData wide = missing2();
  const std::vector<Pattern> patterns = missing_patterns(wide.y);
  const PanelModel model(2, 7, true);
  const Objective objective = likelihood_objective(model, patterns, static_cast<double>(wide.y.rows()));
  // fitMeasures(fit)["logl"] of reference('riclpm_missing2') in tests/reference/panel.R
  const double lavaan_loglik = test::reference_json("panel/riclpm_missing2.json")["logLik"];
  const auto fit_from = [&](const Eigen::VectorXd& start) {
    const Minimum fit = minimize(objective, start, 1e-9, model.complete_data_information(start));
    EXPECT_TRUE(fit.converged);
    EXPECT_TRUE(test::near_relative(-fit.value * static_cast<double>(wide.y.rows()), lavaan_loglik, 1e-9));
    return fit;
  };
  const Minimum simple = fit_from(model.start(wide.y)), pairwise = fit_from(starting_values(model, wide.y));
  EXPECT_LT(simple.evaluations, 400) << simple.iterations << " iterations";
  EXPECT_LT(pairwise.evaluations, simple.evaluations);
  EXPECT_LT((pairwise.x - simple.x).cwiseAbs().maxCoeff(), 1e-6);
}

// Available-case means and pairwise-complete covariances (each pair's own means and count;
// the values from numpy: ((x - x.mean()) * (z - z.mean())).mean() over the pair's rows).
TEST(PanelModel, PairwiseMomentsUseEachPairsCompleteRows) {
  const double na = std::numeric_limits<double>::quiet_NaN();
  Eigen::MatrixXd y(8, 3);
  y << 1, 2, na,
       2, na, 1,
       na, 3, 2,
       3, 1, 3,
       4, 5, 1,
       2, 2, 5,
       5, 3, 4,
       1, 4, 2;
  const std::optional<Pattern> moments = pairwise_moments(y);
  ASSERT_TRUE(moments);
  EXPECT_EQ(moments->n, 8);
  EXPECT_EQ(moments->observed, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(moments->mean.isApprox(Eigen::Vector3d(18.0 / 7, 20.0 / 7, 18.0 / 7), 1e-15));
  Eigen::Matrix3d expected;
  expected << 96.0 / 49, 4.0 / 9, 5.0 / 18,
              4.0 / 9, 76.0 / 49, -7.0 / 6,
              5.0 / 18, -7.0 / 6, 96.0 / 49;
  EXPECT_TRUE(moments->cov.isApprox(expected, 1e-14)) << moments->cov;
  EXPECT_TRUE((moments->cov_factor * moments->cov_factor.transpose()).isApprox(expected, 1e-14));
  // Shifted far from zero: the same covariances (sums of products about zero would cancel).
  const std::optional<Pattern> shifted = pairwise_moments((y.array() + 1e8).matrix());
  ASSERT_TRUE(shifted);
  EXPECT_TRUE(shifted->cov.isApprox(expected, 1e-7)) << shifted->cov;
}

// Pairs observed on disjoint rows can disagree: a = b and b = c but a = -c is no covariance.
TEST(PanelModel, PairwiseMomentsThatAreNotPositiveDefiniteAreNone) {
  const double na = std::numeric_limits<double>::quiet_NaN();
  Eigen::MatrixXd y(9, 3);
  y << 1, 1, na, 2, 2, na, 3, 3, na,
       na, 1, 1, na, 2, 2, na, 3, 3,
       1, na, 3, 2, na, 2, 3, na, 1;
  EXPECT_FALSE(pairwise_moments(y));
}

}  // namespace
}  // namespace spiral::panel
