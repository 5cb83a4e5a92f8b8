// Fitted values, residuals and predictions of a `spiral lmm` fit (specification section 3.1):
// lme4's fitted() and residuals(), broom.mixed's augment(), and predict() on new data with
// re.form = NULL (every random term) or NA (the fixed effects alone).
#pragma once
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "spiral/formula.hpp"
#include "spiral/lmm.hpp"
#include "spiral/table.hpp"

namespace spiral {

// What predictions need from a fit (LmmOptions::keep_predictor). fit_lmm(Table, ...) fills
// every field; the ModelFrame overload leaves formula, frame and columns empty.
struct LmmPredictor {
  Formula formula;
  ModelFrame frame;                    // the fitted frame: its rows, designs and coding (recipe)
  std::vector<std::string> columns;    // the data columns the model read (formula, weights, --ar1 time)
  Eigen::VectorXd beta;                // per frame.x column; 0 for a column dropped as aliased (as lme4)
  std::vector<Eigen::MatrixXd> modes;  // per frame.random block: levels x terms, conditional modes b
};

// predict()'s re.form: NULL (`full`, every random term) or NA (population, fixed effects only).
enum class ReForm { Full, Population };
// "full" or "NA"; InputError naming `option` otherwise.
ReForm parse_re_form(const std::string& text, const std::string& option);

// broom.mixed::augment(fit): the model's rows (rows dropped for missing values are not there)
// of the columns the model read, then .fitted (lme4's fitted(): X beta + Z b + offset),
// .resid (residuals(type = "response"): response - .fitted) and .fixed (X beta + offset,
// predict(re.form = NA)). `data` is the table the model was fitted to. InputError when the
// fit kept no predictor.
Table augment_lmm(const LmmResult& result, const Table& data);

// predict(fit, newdata, re.form, allow.new.levels = TRUE): newdata's rows and columns plus
// .fitted (NA for a row missing a value the model needs). With ReForm::Full, a row whose
// grouping level the fit never saw gets that term's population prediction (its random effect
// 0) and one warning counts such rows. InputError when newdata lacks a column the model needs
// or holds a level of a fixed-effect factor the fit never saw.
struct LmmPrediction {
  Table table;
  Warnings warnings;
};
LmmPrediction predict_lmm(const LmmResult& result, const Table& newdata, ReForm re_form);

}  // namespace spiral
