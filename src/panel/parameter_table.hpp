// The model's free parameters as lavaan's parameterEstimates() lists them for the syntax of
// tests/reference/panel.R (Hamaker et al. 2015; Mulder & Hamaker 2021): random intercepts
// RI<v>, within parts w<v>_<wave>, observed <v>_<wave>; one "~" row per wave pair for each
// lagged effect, and lavaan's standardizedSolution() (type "std.all") of each row.
#pragma once
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "panel/panel_model.hpp"

namespace spiral::panel {

struct TableRow {
  std::string lhs, op, rhs;
  long index = 0;  // the parameter in the model's vector
  enum class Kind { RandomIntercept, Within, Lagged, Mean } kind = Kind::Mean;
  int a = 0, b = 0;  // variables: (a, b) of a covariance; (to, from) of a lagged effect; a of a mean
  int wave = 0;      // 0-based wave of a within covariance, of a lagged effect's `to`, of a mean
};

std::vector<TableRow> parameter_rows(const PanelModel& model, const std::vector<std::string>& vars,
                                     const std::vector<long>& waves);

// std.all of every row at theta (lavaan's lav_standardize_all with cov.std = TRUE): a lagged
// effect times sd(w_from, t-1) / sd(w_to, t), the model-implied SDs of the within parts; a
// variance over the implied variance of its variable (1 for RIs and wave 1); a covariance
// over the square roots of the absolute (residual) variances of the pair; an intercept over
// the implied SD of its observed variable.
Eigen::VectorXd standardized_values(const PanelModel& model, const std::vector<TableRow>& rows,
                                    const Eigen::VectorXd& theta);

// Their covariance by the delta method, J C J' with J by central differences (lavaan's
// standardizedSolution() does the same with its own Jacobian), C the parameters' covariance.
Eigen::MatrixXd standardized_covariance(const PanelModel& model, const std::vector<TableRow>& rows,
                                        const Eigen::VectorXd& theta, const Eigen::MatrixXd& covariance);

// Whether a row's std.all is 1 by construction (the variance of an exogenous variable: the
// RIs and wave 1), whose SE lavaan reports as 0 and z and p as NA.
bool standardized_constant(const TableRow& row);

}  // namespace spiral::panel
