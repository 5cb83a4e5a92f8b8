// The output directory of `spiral ipd run|stage2`: stage1.csv, stage2.csv, results.json,
// one forest plot per model x term, report.html and report.docx, written all-or-nothing.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "ipd/ipd_internal.hpp"
#include "spiral/ipd.hpp"

namespace spiral {

using namespace ipd_detail;

std::string stage1_csv(const IpdResult& result) {
  std::string out = "study,model,term,estimate,std_error,n_patients,n_obs,converged,singular,message\n";
  for (const auto& b : result.studies) {
    for (const auto& m : b.models) {
      const std::string tail = fmt::format(",{},{},{},{},{}\n", m.n_patients, m.n_obs, m.converged ? "TRUE" : "FALSE",
                                           m.singular ? "TRUE" : "FALSE", csv_field(m.message));
      if (m.terms.empty()) out += csv_field(b.study) + "," + csv_field(m.model) + ",NA,NA,NA" + tail;
      for (const auto& t : m.terms)
        out += csv_field(b.study) + "," + csv_field(m.model) + "," + csv_field(t.term) + "," + csv_number(t.estimate) +
               "," + csv_number(t.std_error) + tail;
    }
  }
  return out;
}

namespace {

// One row of stage2.csv per coefficient of a fit: the pooled model's "intrcpt" row and each
// coefficient of the meta-regression, named as metafor's coef(summary(rma(...))) names them;
// the fit's heterogeneity (residual for the meta-regression) and moderator test repeated on
// each of its rows.
void stage2_rows(const PooledTerm& p, const MetaResult& m, const char* analysis, std::string& out) {
  for (const MetaCoefficient& c : m.coefficients) {
    out += csv_field(p.model) + "," + csv_field(p.term) + "," + analysis + "," + csv_field(c.term) + "," +
           std::to_string(m.k);
    for (double x : {c.estimate, c.std_error, c.statistic, c.p_value, c.conf_low, c.conf_high, m.pi_low, m.pi_high,
                     m.tau2, m.tau2_conf_low, m.tau2_conf_high, m.I2, m.H2, m.Q})
      out += ',' + csv_number(x);
    out += ',' + std::to_string(m.Q_df) + ',' + csv_number(m.Q_p);
    out += ',' + csv_number(m.has_mods ? m.QM : NA) + ',' + (m.has_mods ? std::to_string(m.QM_df) : "NA");
    for (double x : {m.has_mods ? m.QM_p : NA, m.has_mods ? m.R2 : NA}) out += ',' + csv_number(x);
    out += '\n';
  }
}

}  // namespace

std::string stage2_csv(const IpdResult& result) {
  std::string out =
      "model,term,analysis,coefficient,k,estimate,std_error,statistic,p_value,conf_low,conf_high,pi_low,pi_high,"
      "tau2,tau2_conf_low,tau2_conf_high,I2,H2,Q,Q_df,Q_p,QM,QM_df,QM_p,R2\n";
  for (const auto& p : result.pooled) {
    stage2_rows(p, p.meta, "pooled", out);
    if (p.regression) stage2_rows(p, *p.regression, "meta_regression", out);
  }
  return out;
}

Json to_json(const IpdResult& result) {
  Json j;
  j["pooled"] = Json::array();
  for (const auto& p : result.pooled) {
    Json entry = {{"model", p.model}, {"term", p.term}};
    const Json meta = to_json(p.meta);
    for (const auto& [key, value] : meta.items()) entry[key] = value;
    entry["meta_regression"] = p.regression ? to_json(*p.regression) : Json(nullptr);
    j["pooled"].push_back(entry);
  }
  j["studies"] = Json::array();
  for (const auto& b : result.studies)
    j["studies"].push_back({{"study", b.study}, {"n_patients", b.counts.n_patients}, {"n_obs", b.counts.n_obs},
                            {"n_dropped", b.counts.n_dropped}, {"n_sessions", b.counts.n_sessions},
                            {"missing_process", b.counts.missing_process},
                            {"missing_outcome", b.counts.missing_outcome}});
  j["warnings"] = result.warnings;
  j["spec_hash"] = result.spec_hash;
  j["spiral_version"] = result.spiral_version;
  return j;
}

std::string to_text(const IpdResult& result) {
  std::string out = fmt::format("Two-stage IPD meta-analysis: {} studies\n\n", result.studies.size());
  out += fmt::format("{:<26} {:<16} {:>3} {:>10} {:>9} {:>21} {:>9} {:>9} {:>6}\n", "model", "term", "k", "estimate",
                     "std_error", "95% CI", "p_value", "tau2", "I2");
  for (const auto& p : result.pooled) {
    const MetaResult& m = p.meta;
    out += fmt::format("{:<26} {:<16} {:>3} {:>10.4f} {:>9.4f} [{:>9.4f}, {:>8.4f}] {:>9.4g} {:>9.4g} {:>5.1f}%\n",
                       p.model, p.term, m.k, m.estimate, m.std_error, m.conf_low, m.conf_high, m.p_value, m.tau2, m.I2);
  }
  return out;
}

std::string forest_file_name(const std::string& model, const std::string& term) {
  std::string safe;
  for (char c : term) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') safe += c;
    else if (c == ':') safe += "_x_";
  }
  return "forest-" + model + "-" + safe + ".svg";
}

namespace {

namespace fs = std::filesystem;

fs::path parent_of(const fs::path& dir) { return dir.has_parent_path() ? dir.parent_path() : fs::path("."); }

// --out DIR as a path naming the directory itself: "results/" (whose filename is empty) is
// "results", as a shell user means it.
fs::path output_dir_path(const std::string& dir) {
  fs::path path = fs::path(dir).lexically_normal();
  if (!path.has_filename() && path.has_relative_path()) path = path.parent_path();
  return path;
}

void write_plain(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  out.close();
  if (!out) throw InputError(path.string() + ": cannot write");
}

// A fresh directory beside `dir`, for the all-or-nothing write.
fs::path make_temp_dir(const fs::path& dir, const char* tag) {
  std::string pattern = (parent_of(dir) / fmt::format(".{}{}XXXXXX", dir.filename().string(), tag)).string();
  if (!mkdtemp(pattern.data())) throw InputError(dir.string() + ": cannot create a directory beside it");
  return pattern;
}

// Every output file of `ipd run|stage2`: name -> content.
std::vector<std::pair<std::string, std::string>> ipd_files(const IpdResult& result, const IpdSpec& spec) {
  std::vector<std::pair<std::string, std::string>> files = {{"stage1.csv", stage1_csv(result)},
                                                            {"stage2.csv", stage2_csv(result)},
                                                            {"results.json", json_dump(to_json(result))}};
  const std::vector<std::string> forests = ipd_forest_svgs(result, spec);
  for (std::size_t i = 0; i < result.pooled.size(); ++i)
    files.emplace_back(forest_file_name(result.pooled[i].model, result.pooled[i].term), forests[i]);
  files.emplace_back("report.html", ipd_report_html(result, spec, forests));
  files.emplace_back("report.docx", ipd_report_docx(result, spec));
  return files;
}

// Writes the files into a temporary directory beside DIR, then renames it to DIR
// (replacing an existing DIR), so that no partial directory is ever left behind.
void write_directory(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  check_output_dir(dir);
  const fs::path target = output_dir_path(dir);
  const fs::path staging = make_temp_dir(target, ".tmp-");
  try {
    for (const auto& [name, content] : files) write_plain(staging / name, content);
    fs::permissions(staging, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
    if (fs::exists(target)) {  // replace: move the old directory aside, then swap in the new one
      const fs::path old = make_temp_dir(target, ".old-");
      fs::remove(old);
      fs::rename(target, old);
      fs::rename(staging, target);
      fs::remove_all(old);
    } else {
      fs::rename(staging, target);
    }
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(staging);
    throw InputError(dir + ": cannot write the output directory: " + e.code().message());
  } catch (...) {
    fs::remove_all(staging);
    throw;
  }
}

}  // namespace

namespace {

// A name among the files write_directory writes (a previous run's output may be replaced).
bool is_output_file_name(const std::string& name) {
  static const std::set<std::string> fixed = {"stage1.csv", "stage2.csv", "results.json", "report.html", "report.docx",
                                              "onestage.json", "onestage.txt"};
  return fixed.count(name) > 0 || (name.rfind("forest-", 0) == 0 && name.size() > 11 && name.ends_with(".svg"));
}

}  // namespace

void check_output_dir(const std::string& dir) {
  const fs::path target = output_dir_path(dir);
  std::error_code ec;
  if (dir.empty()) throw InputError("--out: empty directory name");
  if (!fs::is_directory(parent_of(target), ec))
    throw InputError("--out " + dir + ": directory '" + parent_of(target).string() + "' does not exist");
  if (fs::exists(target, ec) && !fs::is_directory(target, ec))
    throw InputError("--out " + dir + ": exists and is not a directory");
  // The directory is replaced as a whole: only when it is empty or holds a previous output.
  if (fs::is_directory(target, ec))
    for (const auto& entry : fs::directory_iterator(target, ec))
      if (!entry.is_regular_file(ec) || !is_output_file_name(entry.path().filename().string()))
        throw InputError("--out " + dir + ": holds '" + entry.path().filename().string() +
                         "', which spiral did not write; the output directory is replaced as a whole, so give a "
                         "new or empty one");
}

void write_ipd_outputs(const IpdResult& result, const IpdSpec& spec, const std::string& dir) {
  write_directory(dir, ipd_files(result, spec));
}

void write_onestage_outputs(const OnestageResult& result, const std::string& dir) {
  write_directory(dir, {{"onestage.json", json_dump(to_json(result))}, {"onestage.txt", to_text(result)}});
}

}  // namespace spiral
