// Fitted values, residuals and predictions of a linear mixed model as lme4 computes them
// (Bates, Mächler, Bolker & Walker 2015, J Stat Softw 67(1), eq. 2: the conditional mean
// X beta + Z b + offset; predict.merMod for new data with re.form and allow.new.levels).
#include "spiral/lmm_predict.hpp"

#include <string>

namespace spiral {

namespace {

const LmmPredictor& predictor_of(const LmmResult& result) {
  if (!result.predictor || result.predictor->columns.empty())
    throw InputError("lmm: the fit kept no predictor (fit from a table with LmmOptions::keep_predictor)");
  return *result.predictor;
}

// Z b over the rows of `blocks`: each block's row of covariates times its level's conditional
// modes; a row of level -1 (a level the fit never saw) adds nothing, the population value of
// that term (lme4's allow.new.levels = TRUE). `new_level` flags such rows.
Eigen::VectorXd random_part(const std::vector<RandomBlock>& blocks, const std::vector<Eigen::MatrixXd>& modes,
                            Eigen::Index rows, std::vector<bool>& new_level) {
  Eigen::VectorXd zb = Eigen::VectorXd::Zero(rows);
  new_level.assign(std::size_t(rows), false);
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const RandomBlock& block = blocks[b];
    for (Eigen::Index row = 0; row < rows; ++row) {
      const int level = block.level_of_row[std::size_t(row)];
      if (level < 0) {
        new_level[std::size_t(row)] = true;
        continue;
      }
      zb(row) += block.z.row(row).dot(modes[b].row(level));
    }
  }
  return zb;
}

// X beta + offset: predict(re.form = NA).
Eigen::VectorXd fixed_part(const Eigen::MatrixXd& x, const Eigen::VectorXd& offset, const Eigen::VectorXd& beta) {
  Eigen::VectorXd eta = x * beta;
  if (offset.size() > 0) eta += offset;
  return eta;
}

std::vector<double> as_vector(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

}  // namespace

ReForm parse_re_form(const std::string& text, const std::string& option) {
  if (text == "full") return ReForm::Full;
  if (text == "NA") return ReForm::Population;
  throw InputError(option + ": expected NA or full, got '" + text + "'");
}

Table augment_lmm(const LmmResult& result, const Table& data) {
  const LmmPredictor& p = predictor_of(result);
  const ModelFrame& frame = p.frame;
  const Eigen::VectorXd fixed = fixed_part(frame.x, frame.offset, p.beta);
  std::vector<bool> new_level;  // (none: every model row's level was fitted)
  const Eigen::VectorXd fitted = fixed + random_part(frame.random, p.modes, frame.x.rows(), new_level);
  Table columns(data.source());
  for (const auto& name : p.columns) columns.add(data.column(name));
  Table out = columns.select_rows(frame.rows);
  std::vector<long> lines;
  for (std::size_t row : frame.rows) lines.push_back(data.line_of(row));
  out.set_lines(std::move(lines));
  out.add_numeric(".fitted", as_vector(fitted));
  out.add_numeric(".resid", as_vector(frame.y - fitted));
  out.add_numeric(".fixed", as_vector(fixed));
  return out;
}

LmmPrediction predict_lmm(const LmmResult& result, const Table& newdata, ReForm re_form) {
  const LmmPredictor& p = predictor_of(result);
  const bool with_random = re_form == ReForm::Full;
  const NewDataFrame frame = build_new_data_frame(p.formula, p.frame, newdata, with_random);
  const auto rows = Eigen::Index(newdata.rows());
  Eigen::VectorXd fitted = fixed_part(frame.x, frame.offset, p.beta);
  std::vector<bool> new_level(std::size_t(rows), false);
  if (with_random) fitted += random_part(frame.random, p.modes, rows, new_level);
  long new_level_rows = 0;
  for (Eigen::Index row = 0; row < rows; ++row) {
    if (!frame.complete[std::size_t(row)]) fitted(row) = NA;
    else if (new_level[std::size_t(row)]) ++new_level_rows;
  }
  LmmPrediction prediction{newdata, {}};
  prediction.table.add_numeric(".fitted", as_vector(fitted));
  if (new_level_rows > 0)
    prediction.warnings.push_back(std::to_string(new_level_rows) + (new_level_rows == 1 ? " row" : " rows") +
                                  " of the new data with a grouping level the fit never saw: predicted without "
                                  "that random effect (lme4's allow.new.levels = TRUE)");
  return prediction;
}

}  // namespace spiral
