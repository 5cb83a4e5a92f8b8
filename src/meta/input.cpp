// From a data table to the studies of a meta-analysis: effect sizes (given or by escalc),
// labels and moderators, with rows that miss a used value dropped and counted.
#include <cmath>

#include "meta/meta_internal.hpp"
#include "spiral/formula.hpp"

namespace spiral {

namespace meta_detail {

// "x1 + x2" or "~ x1 + x2" as the one-sided formula of the moderators.
std::string moderator_formula(const std::string& mods) {
  const auto first = mods.find_first_not_of(" \t");
  if (first != std::string::npos && mods[first] == '~') return mods;
  return "~ " + mods;
}

}  // namespace meta_detail

namespace {

std::vector<double> numeric_column(const Table& table, const std::string& option, const std::string& name) {
  if (name.empty()) return {};
  if (!table.has(name)) throw InputError(option + ": " + table.source() + ": unknown column '" + name + "'");
  return table.numeric(name).numbers;
}

std::string where(const Table& table, std::size_t row) {
  const long line = table.line_of(row);
  return table.source() + (line > 0 ? " line " + std::to_string(line) : " row " + std::to_string(row + 1));
}

EffectSizes effect_sizes(const Table& table, const MetaColumns& c) {
  if (!c.yi.empty()) {
    if (!c.measure.empty()) throw InputError("--yi and --measure exclude each other");
    if (c.vi.empty() == c.sei.empty()) throw InputError("--yi needs exactly one of --vi or --sei");
    EffectSizes e{numeric_column(table, "--yi", c.yi), {}};
    if (!c.vi.empty()) {
      e.vi = numeric_column(table, "--vi", c.vi);
    } else {
      e.vi = numeric_column(table, "--sei", c.sei);
      for (double& v : e.vi) v *= v;
    }
    return e;
  }
  if (c.measure.empty()) throw InputError("meta: give --yi with --vi or --sei, or --measure with its raw columns");
  EscalcData d;
  d.ri = numeric_column(table, "--ri", c.ri);
  d.ni = numeric_column(table, "--ni", c.ni);
  d.m1i = numeric_column(table, "--m1i", c.m1i);
  d.sd1i = numeric_column(table, "--sd1i", c.sd1i);
  d.n1i = numeric_column(table, "--n1i", c.n1i);
  d.m2i = numeric_column(table, "--m2i", c.m2i);
  d.sd2i = numeric_column(table, "--sd2i", c.sd2i);
  d.n2i = numeric_column(table, "--n2i", c.n2i);
  d.ai = numeric_column(table, "--ai", c.ai);
  d.bi = numeric_column(table, "--bi", c.bi);
  d.ci = numeric_column(table, "--ci", c.ci);
  d.di = numeric_column(table, "--di", c.di);
  d.x1i = numeric_column(table, "--x1i", c.x1i);
  d.x2i = numeric_column(table, "--x2i", c.x2i);
  d.t1i = numeric_column(table, "--t1i", c.t1i);
  d.t2i = numeric_column(table, "--t2i", c.t2i);
  d.xi = numeric_column(table, "--xi", c.xi);
  d.ti = numeric_column(table, "--ti", c.ti);
  d.mi = numeric_column(table, "--mi", c.mi);
  d.sdi = numeric_column(table, "--sdi", c.sdi);
  return escalc(c.measure, d);
}

std::vector<std::string> moderator_variables(const Table& table, const std::string& mods) {
  if (mods.empty()) return {};
  const Formula formula = parse_formula(meta_detail::moderator_formula(mods));
  if (!formula.response.empty()) throw InputError("--mods: expected a one-sided formula such as \"x1 + x2\"");
  std::vector<std::string> names = formula.variables();
  for (const auto& name : names)
    if (!table.has(name)) throw InputError("--mods: " + table.source() + ": unknown column '" + name + "'");
  return names;
}

}  // namespace

MetaInput meta_input_from_table(const Table& table, const MetaColumns& columns) {
  const EffectSizes e = effect_sizes(table, columns);
  const std::vector<std::string> moderators = moderator_variables(table, columns.mods);
  if (!columns.slab.empty() && !table.has(columns.slab))
    throw InputError("--slab: " + table.source() + ": unknown column '" + columns.slab + "'");
  for (const auto& name : columns.ilab)
    if (!table.has(name)) throw InputError("--ilab: " + table.source() + ": unknown column '" + name + "'");

  // The sample sizes and person-times of the raw data, for the back-transformations that need them.
  const std::vector<double> ni = columns.measure.empty() ? std::vector<double>{} : numeric_column(table, "--ni", columns.ni);
  const std::vector<double> ti = columns.measure.empty() ? std::vector<double>{} : numeric_column(table, "--ti", columns.ti);
  MetaInput input;
  input.measure = columns.measure.empty() ? "GEN" : columns.measure;
  input.ilab_names = columns.ilab;
  input.ilab.resize(columns.ilab.size());
  std::vector<bool> keep(table.rows(), true);
  for (std::size_t i = 0; i < table.rows(); ++i) {
    bool complete = !is_na(e.yi[i]) && !is_na(e.vi[i]);
    for (const auto& name : moderators) complete = complete && !table.column(name).missing(i);
    if (!complete) {
      keep[i] = false;
      ++input.n_dropped;
      continue;
    }
    if (!std::isfinite(e.yi[i]) || !std::isfinite(e.vi[i]))
      throw InputError(where(table, i) + ": the effect size or its variance is infinite");
    if (!(e.vi[i] > 0))
      throw InputError(where(table, i) + ": sampling variance " + csv_number(e.vi[i]) + " is not positive");
    for (const auto& name : moderators) {
      const Column& column = table.column(name);
      if (column.is_numeric() && !std::isfinite(column.numbers[i]))
        throw InputError(where(table, i) + ": moderator '" + name + "' is infinite");
    }
    input.yi.push_back(e.yi[i]);
    input.vi.push_back(e.vi[i]);
    if (!ni.empty()) input.ni.push_back(ni[i]);
    if (!ti.empty()) input.ti.push_back(ti[i]);
    input.slab.push_back(columns.slab.empty() ? "Study " + std::to_string(i + 1) : table.column(columns.slab).text(i));
    for (std::size_t j = 0; j < columns.ilab.size(); ++j) {
      const Column& column = table.column(columns.ilab[j]);
      input.ilab[j].push_back(column.missing(i) ? "" : column.text(i));
    }
  }
  if (input.n_dropped > 0)
    input.warnings.push_back(std::to_string(input.n_dropped) + " row(s) with missing values dropped");
  if (!moderators.empty()) input.moderators = table.subset(keep);
  return input;
}

}  // namespace spiral
