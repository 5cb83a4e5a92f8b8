// Helpers shared by the ipd sources (not part of the public API).
#pragma once
#include <span>
#include <string>
#include <vector>

#include "spiral/ipd.hpp"

namespace spiral::ipd_detail {

// The ids of a column (study, patient) as codes: equal codes for equal texts ("NA" = missing),
// and each code's text, so that rows are compared and grouped without a string per row.
struct RowIds {
  std::vector<int> code;          // per row
  std::vector<std::string> text;  // per code, in order of first appearance
};
RowIds row_ids(const Table& table, const std::string& column);

// prepare() of sessions that validate_data() accepted (or rows of them), without checking
// them again.
Table prepare_validated(const IpdSpec& spec, const Table& sessions);

// Order of study ids: numbers numerically, then text in byte order.
bool study_less(const std::string& a, const std::string& b);

// The rows of one study (input order), as a new table (rows_per_study).
Table study_rows(const Table& table, const std::string& study_column, const std::string& study);
// The rows of each of `studies` (input order), one table per study, the ids read once; each
// factor keeps only the levels of its study (not all patients' ids in every study).
std::vector<Table> rows_per_study(const Table& table, const std::string& study_column,
                                  const std::vector<std::string>& studies, unsigned threads = 1);

// Mean and SD (n - 1) of the non-missing values, accumulated as R's mean()/var() do.
struct MeanSd {
  double mean = NA, sd = NA;
  long n = 0;
};
MeanSd mean_sd(std::span<const double> values);
// R's mean() of each patient's non-missing values (NA for a patient with none), patients
// numbered 0.. by `patient` (one code per row); the values summed in row order.
std::vector<double> mean_per_patient(const std::vector<double>& values, const std::vector<int>& patient);

// The formula text of a random-effects-free OLS of [post], for messages and stage1.csv.
// The stage-1 fits of the bundles and how many of them are singular (the stage-2 warning and
// the report's explanation say the same numbers).
struct SingularFits {
  long singular = 0, fits = 0;
};
SingularFits count_singular_fits(const std::vector<Bundle>& bundles);

inline const char* post_formula() { return "post ~ early_process + pre"; }

// Model names of the table of specification section 5, step 4.
inline const char* panel_model_name() { return "panel"; }
inline const char* post_model_name() { return "early_process_to_post"; }
inline const char* dsem_model_name() { return "dsem"; }

}  // namespace spiral::ipd_detail
