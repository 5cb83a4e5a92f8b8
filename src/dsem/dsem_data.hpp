// Long data -> the arrays the DSEM sampler reads: one row per patient, one column per
// occasion x variable, the patient-level design of the between regression and the clusters.
#pragma once
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "spiral/dsem.hpp"

namespace spiral::dsem {

struct DsemData {
  std::vector<std::string> vars;
  std::vector<long> occasions;        // the window's sessions, consecutive integers
  std::vector<std::string> patients;  // kept patients' ids, in order of first appearance
  Eigen::MatrixXd y;                  // patients x (occasions * k); column t * k + v; NaN = missing
  Eigen::MatrixXd x;                  // patients x q: intercept, then the moderator terms
  std::vector<std::string> terms;     // the moderator terms (x's columns after the intercept)
  std::vector<int> cluster;           // per patient, 0-based; empty without --cluster
  long n_clusters = 0;
  Eigen::VectorXd presample_variance; // s0: pooled within-patient variance of each variable
  long n_dropped = 0, n_observed = 0, n_missing = 0;
  Warnings warnings;

  long k() const { return static_cast<long>(vars.size()); }
  long occasions_count() const { return static_cast<long>(occasions.size()); }
  long n() const { return y.rows(); }
};

// Validates the options against the table and reshapes (specification section 9). InputError for
// unknown or non-numeric columns, non-integer or repeated sessions, a --between or --cluster
// column that varies within a patient, a constant variable, no patient with 3 observed
// sessions, too few patients or clusters for the between model.
DsemData dsem_data(const Table& table, const DsemOptions& options, long random_lagged_effects);

}  // namespace spiral::dsem
