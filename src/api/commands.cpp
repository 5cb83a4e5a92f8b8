// The commands that read one data table: lmm, meta, panel, describe (specification sections 3,
// 4, 7 and `spiral describe`), with the options of their CLI faces (apps/spiral/cmd_*.cpp).
#include <map>

#include <Eigen/Dense>

#include "api/api_internal.hpp"
#include "spiral/describe.hpp"
#include "spiral/lmm.hpp"
#include "spiral/lmm_predict.hpp"
#include "spiral/meta.hpp"
#include "spiral/panel.hpp"

namespace spiral::api::detail {

namespace {

NamedMatrix named_matrix(const std::string& name, std::vector<std::string> names, const Eigen::MatrixXd& m) {
  NamedMatrix out{name, std::move(names), {}};
  out.values.reserve(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) out.values.push_back(m(i, j));
  return out;
}

// --ranef, --augment, --predict: TRUE returns the table; a file name also writes the CSV.
struct RanefOption {
  bool wanted = false;
  std::string path;
};

// Found by argument-dependent lookup from option().
void read(const Json& value, const std::string& name, RanefOption& out) {
  if (value.is_boolean()) out.wanted = value.get<bool>();
  else {
    detail::read(value, name, out.path);
    out.wanted = true;
  }
}

// compare: one formula or a list of them (each may hold commas: not split).
struct CompareOption {
  std::vector<std::string> formulas;
};

void read(const Json& value, const std::string& name, CompareOption& out) {
  if (value.is_array())
    for (const auto& v : value) out.formulas.push_back(v.get<std::string>());
  else {
    std::string formula;
    detail::read(value, name, formula);
    out.formulas.push_back(formula);
  }
}

// ------------------------------------------------------------------------------ lmm

struct LmmCall {
  DataSource data;
  LmmOptions lmm;
  bool ml = false;
  std::string df = "satterthwaite";
  CompareOption compare;
  RanefOption ranef;
  RanefOption augment, predict;  // broom.mixed augment(); predict() on newdata
  std::string weights, newdata, re_form = "full";
  std::vector<std::string> factor, ref;  // --factor columns, --ref COL=LEVEL each
};

std::vector<Option<LmmCall>> lmm_options() {
  std::vector<Option<LmmCall>> table{
      option("formula", &LmmCall::lmm, &LmmOptions::formula),
      option("ml", &LmmCall::ml),
      option("df", &LmmCall::df),
      option("ar1", &LmmCall::lmm, &LmmOptions::ar1_time),
      option("level", &LmmCall::lmm, &LmmOptions::level),
      option("ranef", &LmmCall::ranef),
      option("weights", &LmmCall::weights),
      option("augment", &LmmCall::augment),
      option("newdata", &LmmCall::newdata),
      option("predict", &LmmCall::predict),
      option("re_form", &LmmCall::re_form),
      option("compare", &LmmCall::compare),
      option("anova", &LmmCall::lmm, &LmmOptions::anova),
      option("ranova", &LmmCall::lmm, &LmmOptions::ranova),
      option("confint", &LmmCall::lmm, &LmmOptions::confint),
      option("factor", &LmmCall::factor),
      option("ref", &LmmCall::ref),
  };
  add_data_options(table);
  return table;
}

Table ranef_table(const LmmResult& result) {
  std::vector<std::string> group, level, term;
  std::vector<double> estimate, std_error;
  for (const auto& m : result.ranef) {
    group.push_back(m.group);
    level.push_back(m.level);
    term.push_back(m.term);
    estimate.push_back(m.estimate);
    std_error.push_back(m.std_error);
  }
  const std::vector<bool> present(group.size(), false);
  Table table("ranef");
  table.add_factor_from_strings("group", group, present);
  table.add_factor_from_strings("level", level, present);
  table.add_factor_from_strings("term", term, present);
  table.add_numeric("estimate", std::move(estimate));
  table.add_numeric("std_error", std::move(std_error));
  return table;
}

std::vector<std::string> fixed_terms(const LmmResult& result) {
  std::vector<std::string> names;
  for (const auto& f : result.fixed) names.push_back(f.term);
  return names;
}

}  // namespace

Result run_lmm(const Json& options, const Table* data, const Table* newdata) {
  LmmCall call = parse_options("lmm", options, lmm_options());
  if (call.lmm.formula.empty()) throw InputError("formula: required");
  check_choice("df", call.df, {"satterthwaite", "residual", "none"});
  if (!call.lmm.confint.empty()) check_choice("confint", call.lmm.confint, {"wald", "profile"});
  static const std::map<std::string, DfMethod> df_methods{
      {"satterthwaite", DfMethod::Satterthwaite}, {"residual", DfMethod::Residual}, {"none", DfMethod::None}};
  call.lmm.df = df_methods.at(call.df);
  call.lmm.reml = !call.ml;
  call.lmm.frame.factors = call.factor;
  call.lmm.frame.weights = call.weights;
  for (const auto& text : call.ref) call.lmm.frame.reference_levels.push_back(parse_reference_level(text, "ref"));
  Table storage;
  const Table& table = load_table(call.data, data, storage);
  if (!call.compare.formulas.empty()) {
    std::vector<std::string> formulas{call.lmm.formula};
    formulas.insert(formulas.end(), call.compare.formulas.begin(), call.compare.formulas.end());
    const LmmComparison c = compare_lmm(table, formulas, call.lmm);
    return {to_json(c), to_text(c), c.warnings, {}, {}};
  }
  call.lmm.conditional_modes = call.ranef.wanted;
  call.lmm.keep_predictor = call.augment.wanted || call.predict.wanted;
  const ReForm re_form = parse_re_form(call.re_form, "re_form");
  if (call.predict.wanted && call.newdata.empty() && newdata == nullptr) throw InputError("predict: needs newdata");
  LmmResult r = fit_lmm(table, call.lmm);
  std::vector<std::pair<std::string, Table>> tables;
  if (call.ranef.wanted) tables.emplace_back("ranef", ranef_table(r));
  if (!call.ranef.path.empty()) write_file_atomic(call.ranef.path, ranef_csv(r));
  if (call.augment.wanted) tables.emplace_back("augment", augment_lmm(r, table));
  if (!call.augment.path.empty()) write_file_atomic(call.augment.path, table_csv(tables.back().second));
  if (call.predict.wanted) {
    DataSource newdata_source = call.data;
    newdata_source.source = call.newdata;
    Table storage_of_newdata;
    LmmPrediction prediction = predict_lmm(r, load_table(newdata_source, newdata, storage_of_newdata), re_form);
    if (!call.predict.path.empty()) write_file_atomic(call.predict.path, table_csv(prediction.table));
    r.warnings.insert(r.warnings.end(), prediction.warnings.begin(), prediction.warnings.end());
    tables.emplace_back("predict", std::move(prediction.table));
  }
  return {to_json(r), to_text(r), r.warnings, std::move(tables), {named_matrix("vcov", fixed_terms(r), r.vcov)}};
}

// ----------------------------------------------------------------------------- meta

namespace {

struct MetaCall {
  DataSource data;
  MetaColumns columns;
  MetaOptions meta;
  std::string forest, funnel;
  PlotLabels labels;
};

std::vector<Option<MetaCall>> meta_options() {
  using C = MetaColumns;
  std::vector<Option<MetaCall>> table{
      option("yi", &MetaCall::columns, &C::yi),     option("vi", &MetaCall::columns, &C::vi),
      option("sei", &MetaCall::columns, &C::sei),   option("measure", &MetaCall::columns, &C::measure),
      option("ri", &MetaCall::columns, &C::ri),     option("ni", &MetaCall::columns, &C::ni),
      option("m1i", &MetaCall::columns, &C::m1i),   option("sd1i", &MetaCall::columns, &C::sd1i),
      option("n1i", &MetaCall::columns, &C::n1i),   option("m2i", &MetaCall::columns, &C::m2i),
      option("sd2i", &MetaCall::columns, &C::sd2i), option("n2i", &MetaCall::columns, &C::n2i),
      option("ai", &MetaCall::columns, &C::ai),     option("bi", &MetaCall::columns, &C::bi),
      option("ci", &MetaCall::columns, &C::ci),     option("di", &MetaCall::columns, &C::di),
      option("x1i", &MetaCall::columns, &C::x1i),   option("x2i", &MetaCall::columns, &C::x2i),
      option("t1i", &MetaCall::columns, &C::t1i),   option("t2i", &MetaCall::columns, &C::t2i),
      option("xi", &MetaCall::columns, &C::xi),     option("ti", &MetaCall::columns, &C::ti),
      option("mi", &MetaCall::columns, &C::mi),     option("sdi", &MetaCall::columns, &C::sdi),
      option("slab", &MetaCall::columns, &C::slab), option("ilab", &MetaCall::columns, &C::ilab),
      option("transf", &MetaCall::meta, &MetaOptions::transf),
      option("xlab", &MetaCall::labels, &PlotLabels::x_label),
      // The moderator formula names both the columns to carry and the model's terms.
      {"mods", [](MetaCall& c, const Json& v) { detail::read(v, "mods", c.meta.mods); c.columns.mods = c.meta.mods; }},
      option("method", &MetaCall::meta, &MetaOptions::method),
      option("test", &MetaCall::meta, &MetaOptions::test),
      option("level", &MetaCall::meta, &MetaOptions::level),
      option("influence", &MetaCall::meta, &MetaOptions::influence),
      option("leave1out", &MetaCall::meta, &MetaOptions::leave1out),
      option("egger", &MetaCall::meta, &MetaOptions::egger),
      option("trimfill", &MetaCall::meta, &MetaOptions::trimfill),
      option("forest", &MetaCall::forest),
      option("funnel", &MetaCall::funnel),
  };
  add_data_options(table);
  return table;
}

std::vector<std::string> coefficient_terms(const MetaResult& result) {
  std::vector<std::string> names;
  for (const auto& c : result.coefficients) names.push_back(c.term);
  return names;
}

}  // namespace

Result run_meta(const Json& options, const Table* data) {
  const MetaCall call = parse_options("meta", options, meta_options());
  check_choice("test", call.meta.test, {"z", "knha"});
  Table storage;
  const MetaResult r = fit_meta(meta_input_from_table(load_table(call.data, data, storage), call.columns), call.meta);
  write_meta_plots(r, call.forest, call.funnel, call.labels);
  return {to_json(r), to_text(r), r.warnings, {}, {named_matrix("vcov", coefficient_terms(r), r.vcov)}};
}

// ---------------------------------------------------------------------------- panel

namespace {

struct PanelCall {
  DataSource data;
  PanelOptions panel;
};

std::vector<Option<PanelCall>> panel_options() {
  std::vector<Option<PanelCall>> table{
      option("id", &PanelCall::panel, &PanelOptions::id),
      option("time", &PanelCall::panel, &PanelOptions::time),
      option("vars", &PanelCall::panel, &PanelOptions::vars),
      option("model", &PanelCall::panel, &PanelOptions::model),
      option("first", &PanelCall::panel, &PanelOptions::first),
      option("last", &PanelCall::panel, &PanelOptions::last),
      option("level", &PanelCall::panel, &PanelOptions::level),
      option("lagged", &PanelCall::panel, &PanelOptions::lagged),
      option("standardized", &PanelCall::panel, &PanelOptions::standardized),
      option("compare", &PanelCall::panel, &PanelOptions::compare),
      option("se", &PanelCall::panel, &PanelOptions::se),
  };
  add_data_options(table);
  return table;
}

}  // namespace

Result run_panel(const Json& options, const Table* data) {
  const PanelCall call = parse_options("panel", options, panel_options());
  check_choice("model", call.panel.model, {"riclpm", "clpm"});
  check_choice("lagged", call.panel.lagged, {"equal", "free"});
  check_choice("se", call.panel.se, {"standard", "robust"});
  Table storage;
  const PanelResult r = fit_panel(load_table(call.data, data, storage), call.panel);
  return {to_json(r), to_text(r), r.warnings, {}, {}};
}

// ------------------------------------------------------------------------- describe

namespace {

struct DescribeCall {
  DataSource data;
};

std::vector<Option<DescribeCall>> describe_options() {
  std::vector<Option<DescribeCall>> table;
  add_data_options(table);
  return table;
}

}  // namespace

Result run_describe(const Json& options, const Table* data) {
  const DescribeCall call = parse_options("describe", options, describe_options());
  Table storage;
  const Description d = describe(load_table(call.data, data, storage));
  return {to_json(d), to_text(d), {}, {}, {}};
}

}  // namespace spiral::api::detail
