// The commands that read one data table: lmm, meta, panel, describe (specification sections 3,
// 4, 7 and `spiral describe`), each option declared once for every face.
#include <map>

#include <Eigen/Dense>

#include "api/api_internal.hpp"
#include "spiral/describe.hpp"
#include "spiral/formula.hpp"
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
  using L = LmmOptions;
  std::vector<Option<LmmCall>> table;
  add_data_options(table);
  const std::vector<Option<LmmCall>> own{
      option(text("formula", "lme4 formula, e.g. \"Reaction ~ Days + (Days | Subject)\"").needed(), &LmmCall::lmm, &L::formula),
      option(flag("ml", "Maximum likelihood instead of REML"), &LmmCall::ml),
      option(text("df", "Degrees of freedom of the t-tests").one_of({"satterthwaite", "residual", "none"}).shows("satterthwaite"),
             &LmmCall::df),
      option(text("ar1", "AR(1) residual correlation within the innermost group, ordered by this time column"),
             &LmmCall::lmm, &L::ar1_time),
      option(number("level", "Confidence level in percent").within(0, 100).shows("95"), &LmmCall::lmm, &L::level),
      option(text("ranef", "Write conditional modes and SDs to FILE.csv").written(), &LmmCall::ranef),
      option(repeated("compare", "Likelihood-ratio tests against formula F1 (repeatable: anova(m0, m1, m2), ML refits)"),
             &LmmCall::compare),
      option(flag("anova", "Type III F tests with Satterthwaite df (lmerTest's anova())"), &LmmCall::lmm, &L::anova),
      option(flag("ranova", "LRT of each random-effect term, reduced (lmerTest's ranova())"), &LmmCall::lmm, &L::ranova),
      option(text("confint", "CIs as lme4's confint(): wald or profile (incl. SDs, cors, sigma)").one_of({"wald", "profile"}),
             &LmmCall::lmm, &L::confint),
      option(list("factor", "Read these columns as factors even if they hold numbers"), &LmmCall::factor),
      option(repeated("ref", "Reference level of a factor, COL=LEVEL (R's relevel); repeatable"), &LmmCall::ref),
      option(text("weights", "Prior weights column, as lmer(weights = )"), &LmmCall::weights),
      option(text("augment", "Write the model's rows with .fitted .resid .fixed to FILE.csv").written(), &LmmCall::augment),
      option(text("newdata", "Data SOURCE to predict for (with --predict)").read_file(), &LmmCall::newdata),
      option(text("predict", "Write newdata's rows with .fitted to FILE.csv").written(), &LmmCall::predict),
      option(text("re_form", "Random effects in --predict: full (re.form = NULL) or NA").one_of({"full", "NA"}).shows("full"),
             &LmmCall::re_form),
  };
  table.insert(table.end(), own.begin(), own.end());
  return table;
}

// The columns the model reads, so that the reader parses no others; all when a formula
// does not parse (the fit then reports that error, after any error of the data source).
std::vector<std::string> model_columns(const LmmCall& call) {
  try {
    std::vector<std::string> columns = parse_formula(call.lmm.formula).variables();
    for (const auto& other : call.compare.formulas)
      for (const auto& name : parse_formula(other).variables()) columns.push_back(name);
    if (!call.lmm.ar1_time.empty()) columns.push_back(call.lmm.ar1_time);
    if (!call.weights.empty()) columns.push_back(call.weights);
    return columns;
  } catch (const InputError&) {
    return {};
  }
}

// What the command line's --newdata, --predict and --re-form need of each other.
void check_prediction_options(const LmmCall& call, const Json& options, const Table* newdata) {
  const bool has_newdata = !call.newdata.empty() || newdata != nullptr;
  if (call.predict.wanted && !has_newdata) throw InputError("--predict: needs --newdata");
  if (has_newdata && !call.predict.wanted) throw InputError("--newdata: needs --predict");
  if (options.contains("re_form") && !call.predict.wanted)
    throw InputError("--re-form: applies to --predict (with --newdata) only");
}

}  // namespace

Declaration lmm_declaration() { return declaration("lmm", lmm_options); }

namespace {

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
  if (call.lmm.formula.empty()) throw InputError("--formula: required");
  check_prediction_options(call, options, newdata);
  static const std::map<std::string, DfMethod> df_methods{
      {"satterthwaite", DfMethod::Satterthwaite}, {"residual", DfMethod::Residual}, {"none", DfMethod::None}};
  call.lmm.df = df_methods.at(call.df);
  call.lmm.reml = !call.ml;
  call.lmm.frame.factors = call.factor;
  call.lmm.frame.weights = call.weights;
  Table storage;
  const Table& table = load_table(call.data, data, storage, model_columns(call));
  for (const auto& text : call.ref) call.lmm.frame.reference_levels.push_back(parse_reference_level(text, "--ref"));
  if (!call.compare.formulas.empty()) {
    std::vector<std::string> formulas{call.lmm.formula};
    formulas.insert(formulas.end(), call.compare.formulas.begin(), call.compare.formulas.end());
    const LmmComparison c = compare_lmm(table, formulas, call.lmm);
    return {to_json(c), to_text(c), c.warnings, {}, {}, {}};
  }
  call.lmm.conditional_modes = call.ranef.wanted;
  call.lmm.keep_predictor = call.augment.wanted || call.predict.wanted;
  const ReForm re_form = parse_re_form(call.re_form, "--re-form");
  // A table read here for this fit alone is handed over and freed once the model frame is
  // built (10M rows: half a gigabyte less at the peak); augment reads it after the fit.
  const bool hand_over = data == nullptr && !call.augment.wanted;
  LmmResult r = hand_over ? fit_lmm(std::move(storage), call.lmm) : fit_lmm(table, call.lmm);
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
  return {to_json(r), to_text(r), r.warnings, std::move(tables), {named_matrix("vcov", fixed_terms(r), r.vcov)}, {}};
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
  using M = MetaOptions;
  const auto column = [](const std::string& name, const std::string& help, std::string C::*field) {
    return option(text(name, help), &MetaCall::columns, field);
  };
  std::vector<Option<MetaCall>> table;
  add_data_options(table);
  const std::vector<Option<MetaCall>> own{
      column("yi", "Column of effect sizes", &C::yi),
      column("vi", "Column of sampling variances", &C::vi),
      column("sei", "Column of standard errors (instead of --vi)", &C::sei),
      option(text("measure", "Effect size computed as metafor's escalc()").one_of(escalc_measures()), &MetaCall::columns,
             &C::measure),
      column("ri", "Correlations (COR UCOR ZCOR; MC SMCC SMCR ROMC)", &C::ri),
      column("ni", "Sample sizes (COR UCOR ZCOR, PR.., MN MNLN, MC..)", &C::ni),
      column("m1i", "Means of group 1 / time 1 (MD SMD SMDH ROM CVR; MC..)", &C::m1i),
      column("sd1i", "SDs of group 1 / time 1", &C::sd1i),
      column("n1i", "Sizes of group 1 (also instead of --bi)", &C::n1i),
      column("m2i", "Means of group 2 / time 2", &C::m2i),
      column("sd2i", "SDs of group 2 / time 2", &C::sd2i),
      column("n2i", "Sizes of group 2 (also instead of --di)", &C::n2i),
      column("ai", "Events in group 1 (OR RR RD AS PETO)", &C::ai),
      column("bi", "Non-events in group 1", &C::bi),
      column("ci", "Events in group 2", &C::ci),
      column("di", "Non-events in group 2", &C::di),
      column("x1i", "Events in group 1 (IRR IRD IRSD)", &C::x1i),
      column("x2i", "Events in group 2 (IRR IRD IRSD)", &C::x2i),
      column("t1i", "Person-time of group 1 (IRR IRD IRSD)", &C::t1i),
      column("t2i", "Person-time of group 2 (IRR IRD IRSD)", &C::t2i),
      column("xi", "Events (PR PLN PLO PAS PFT; IR IRLN IRS IRFT)", &C::xi),
      column("ti", "Person-time (IR IRLN IRS IRFT)", &C::ti),
      column("mi", "Means (MN MNLN)", &C::mi),
      column("sdi", "SDs (MN MNLN)", &C::sdi),
      column("slab", "Column of study labels", &C::slab),
      option(list("ilab", "Columns shown beside the studies in the forest plot: COL[,COL]"), &MetaCall::columns, &C::ilab),
      option(text("transf", "Back-transform estimate, CI and PI and the forest axis: exp, tanh, ilogit, iarcsin, isqrt, ..."),
             &MetaCall::meta, &M::transf),
      option(text("xlab", "Label of the plots' effect axis"), &MetaCall::labels, &PlotLabels::x_label),
      option(text("method", "tau^2 estimator (default REML)").one_of({"REML", "ML", "DL", "HE", "HS", "SJ", "PM", "EB", "FE"}),
             &MetaCall::meta, &M::method),
      option(text("test", "z or knha (Knapp-Hartung)").one_of({"z", "knha"}), &MetaCall::meta, &M::test),
      // The moderator formula names both the columns to carry and the model's terms.
      {text("mods", "Moderators, a one-sided formula: \"x1 + x2\""),
       [](MetaCall& c, const Json& v) {
         detail::read(v, "--mods", c.meta.mods);
         c.columns.mods = c.meta.mods;
       }},
      option(number("level", "Confidence level in percent (default 95)").within(0, 100), &MetaCall::meta, &M::level),
      option(flag("influence", "Influence diagnostics (influence.rma.uni)"), &MetaCall::meta, &M::influence),
      option(flag("leave1out", "Leave-one-out analysis"), &MetaCall::meta, &M::leave1out),
      option(flag("egger", "Egger's regression test (regtest)"), &MetaCall::meta, &M::egger),
      option(flag("trimfill", "Trim and fill (L0)"), &MetaCall::meta, &M::trimfill),
      option(text("forest", "Write a forest plot to FILE.svg|.pdf|.png").written(), &MetaCall::forest),
      option(text("funnel", "Write a funnel plot to FILE.svg|.pdf|.png").written(), &MetaCall::funnel),
  };
  table.insert(table.end(), own.begin(), own.end());
  return table;
}

std::vector<std::string> coefficient_terms(const MetaResult& result) {
  std::vector<std::string> names;
  for (const auto& c : result.coefficients) names.push_back(c.term);
  return names;
}

}  // namespace

Declaration meta_declaration() { return declaration("meta", meta_options); }

Result run_meta(const Json& options, const Table* data) {
  const MetaCall call = parse_options("meta", options, meta_options());
  Table storage;
  const MetaResult r = fit_meta(meta_input_from_table(load_table(call.data, data, storage), call.columns), call.meta);
  write_meta_plots(r, call.forest, call.funnel, call.labels);
  return {to_json(r), to_text(r), r.warnings, {}, {named_matrix("vcov", coefficient_terms(r), r.vcov)}, to_csv(r)};
}

// ---------------------------------------------------------------------------- panel

namespace {

struct PanelCall {
  DataSource data;
  PanelOptions panel;
};

std::vector<Option<PanelCall>> panel_options() {
  using P = PanelOptions;
  const auto p = &PanelCall::panel;
  std::vector<Option<PanelCall>> table;
  add_data_options(table);
  const std::vector<Option<PanelCall>> own{
      option(text("id", "Patient column").needed(), p, &P::id),
      option(text("time", "Session column (integer waves)").needed(), p, &P::time),
      option(list("vars", "Variables, comma-separated (at least 2)").needed(), p, &P::vars),
      option(text("model", "riclpm (default) or clpm").one_of({"riclpm", "clpm"}), p, &P::model),
      option(integer("first", "First session used as a wave"), p, &P::first),
      option(integer("last", "Last session used as a wave"), p, &P::last),
      option(number("level", "Confidence level in percent (default 95)"), p, &P::level),
      option(text("lagged", "equal (default): lagged effects equal over waves; free: one per wave pair").one_of({"equal", "free"}),
             p, &P::lagged),
      option(text("compare", "A saved JSON fit of the same data (--format json): likelihood-ratio test against it").read_file(),
             p, &P::compare),
      option(text("se", "standard (default: observed information) or robust (lavaan's MLR)").one_of({"standard", "robust"}), p,
             &P::se),
      option(flag("standardized", "lavaan's std.all (standardizedSolution) of every parameter, with delta-method SEs"), p,
             &P::standardized),
      option(text("group", "A column of the patients' groups: multiple-group model (lavaan's group =)"), p, &P::group),
      option(text("equal_groups", "lagged (default): lagged effects equal across groups; none: free").one_of({"lagged", "none"}),
             p, &P::equal_groups),
  };
  table.insert(table.end(), own.begin(), own.end());
  return table;
}

}  // namespace

Declaration panel_declaration() { return declaration("panel", panel_options); }

Result run_panel(const Json& options, const Table* data) {
  const PanelCall call = parse_options("panel", options, panel_options());
  Table storage;
  const PanelResult r = fit_panel(load_table(call.data, data, storage), call.panel);
  return {to_json(r), to_text(r), r.warnings, {}, {named_matrix("vcov", lagged_terms(r), r.lagged_vcov)}, {}};
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

Declaration describe_declaration() { return declaration("describe", describe_options); }

Result run_describe(const Json& options, const Table* data) {
  const DescribeCall call = parse_options("describe", options, describe_options());
  Table storage;
  const Description d = describe(load_table(call.data, data, storage));
  return {to_json(d), to_text(d), {}, {}, {}, to_csv(d)};
}

}  // namespace spiral::api::detail
