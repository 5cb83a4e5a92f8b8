// Helpers shared by the formula parser, the evaluation of its calls and the model frame (not
// part of the public API).
#pragma once
#include <map>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "spiral/formula.hpp"
#include "spiral/table.hpp"

namespace spiral {

// One variable of a model frame (a column or a call such as log(x), poly(x, 2)) over rows.
struct FrameVariable {
  bool factor = false;
  bool ordered = false;             // factor: coded by polynomial contrasts (contr.poly)
  std::vector<double> numbers;      // numeric: value per row (NaN = missing)
  std::vector<int> codes;           // factor: index into levels per row (-1 = missing)
  std::vector<std::string> levels;  // factor: its levels, in order
  // A matrix-valued variable (poly(), ns(), bs()): one column per suffix, named label + suffix.
  Eigen::MatrixXd matrix;
  std::vector<std::string> suffixes;
  bool is_matrix() const { return !suffixes.empty(); }
  bool missing(std::size_t row) const;
};

// The data-dependent coefficients of a model's calls, so that new data are coded as the
// fitted rows were (R's "predvars": poly()'s coefs, scale()'s centre, ns()'s knots).
struct PolyCoefficients {
  std::vector<double> alpha, norm2;  // attr(poly(x, d), "coefs"): the three-term recurrence
};
struct ScaleCoefficients {
  double center = 0, scale = 1;
};
struct SplineKnots {
  std::vector<double> interior;      // attr(ns(x, df), "knots")
  double lower = 0, upper = 0;       // Boundary.knots
};

struct FrameRecipe {
  FrameOptions options;                                    // --factor, --ref of the fit
  std::map<std::string, std::vector<std::string>> levels;  // each factor variable's levels among the model rows, by label
  std::map<std::string, PolyCoefficients> polys;           // by the call's label
  std::map<std::string, ScaleCoefficients> scales;
  std::map<std::string, SplineKnots> splines;
};

namespace detail {

// A variable name as R deparses it: backquoted unless it is a syntactic R name.
std::string r_name(const std::string& name);

// Names as R deparses them, joined by ':' (a term label, an interaction's column name).
std::string join_names(const std::vector<std::string>& names);

// A numeric variable as a factor, as R's factor() makes one: the distinct values sorted,
// labelled as as.character() labels them; NaN stays missing (-1).
FrameVariable numbers_as_factor(const std::vector<double>& numbers);

// Evaluates a formula call over `rows` of `table`: when `recipe.fitted` is false the call's
// data-dependent coefficients are computed and stored in the recipe, otherwise those stored
// are used (new data). `label` names the call in messages. InputError for a call that cannot
// be evaluated (an argument out of range, arithmetic on a factor, ...).
class CallEvaluator {
 public:
  CallEvaluator(const Table& table, const std::vector<std::size_t>& rows, FrameRecipe& recipe, bool new_data);
  FrameVariable evaluate(const Expression& e);
  // A table column over the rows, as the frame reads it (--factor and --ref applied).
  FrameVariable column(const std::string& name) const;

 private:
  const Table& table_;
  const std::vector<std::size_t>& rows_;
  FrameRecipe& recipe_;
  bool new_data_;

  FrameVariable numeric(const Expression& e);  // evaluate(), required to be one numeric column
  FrameVariable call(const Expression& e);
  FrameVariable arithmetic(const Expression& e);
  FrameVariable elementwise(const Expression& e);
  FrameVariable as_factor(const Expression& e);
  FrameVariable poly(const Expression& e);
  FrameVariable scale(const Expression& e);
  FrameVariable spline(const Expression& e);
};

}  // namespace detail
}  // namespace spiral
