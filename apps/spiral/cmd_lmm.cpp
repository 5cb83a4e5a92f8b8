#include <map>
#include <memory>

#include "cli.hpp"
#include "spiral/error.hpp"
#include "spiral/formula.hpp"
#include "spiral/lmm.hpp"
#include "spiral/lmm_predict.hpp"

namespace spiral::cli {
namespace {

// The columns the model reads, so that the reader parses no others; all when a formula
// does not parse (the fit then reports that error, after any error of the data source).
std::vector<std::string> model_columns(const std::string& formula, const std::vector<std::string>& compare,
                                       const std::string& ar1_time, const std::string& weights) {
  try {
    std::vector<std::string> columns = parse_formula(formula).variables();
    for (const auto& other : compare)
      for (const auto& name : parse_formula(other).variables()) columns.push_back(name);
    if (!ar1_time.empty()) columns.push_back(ar1_time);
    if (!weights.empty()) columns.push_back(weights);
    return columns;
  } catch (const InputError&) {
    return {};
  }
}

}  // namespace

void register_lmm(CLI::App& app) {
  struct Options {
    DataOptions data;
    OutputOptions output;
    LmmOptions lmm;
    bool ml = false;
    std::string df = "satterthwaite";
    std::string ranef;
    std::vector<std::string> compare;
    std::vector<std::string> ref;
    std::string augment, newdata, predict, re_form = "full";
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("lmm", "Linear mixed model (lme4/lmerTest parity)");
  add_data_options(*command, options->data);
  command->add_option("--formula", options->lmm.formula, "lme4 formula, e.g. \"Reaction ~ Days + (Days | Subject)\"")
      ->required();
  command->add_flag("--ml", options->ml, "Maximum likelihood instead of REML");
  command->add_option("--df", options->df, "Degrees of freedom of the t-tests")
      ->check(CLI::IsMember({"satterthwaite", "residual", "none"}));
  command->add_option("--ar1", options->lmm.ar1_time,
                      "AR(1) residual correlation within the innermost group, ordered by this time column");
  command->add_option("--level", options->lmm.level, "Confidence level in percent")->check(CLI::Range(0.0, 100.0));
  command->add_option("--ranef", options->ranef, "Write conditional modes and SDs to FILE.csv")->check(output_path());
  command->add_option("--compare", options->compare,
                      "Likelihood-ratio tests against formula F1 (repeatable: anova(m0, m1, m2), ML refits)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_flag("--anova", options->lmm.anova, "Type III F tests with Satterthwaite df (lmerTest's anova())");
  command->add_flag("--ranova", options->lmm.ranova, "LRT of each random-effect term, reduced (lmerTest's ranova())");
  command->add_option("--confint", options->lmm.confint, "CIs as lme4's confint(): wald or profile (incl. SDs, cors, sigma)")
      ->check(CLI::IsMember({"wald", "profile"}));
  command->add_option("--factor", options->lmm.frame.factors, "Read these columns as factors even if they hold numbers")
      ->delimiter(',');
  command->add_option("--ref", options->ref, "Reference level of a factor, COL=LEVEL (R's relevel); repeatable");
  command->add_option("--weights", options->lmm.frame.weights, "Prior weights column, as lmer(weights = )");
  command->add_option("--augment", options->augment, "Write the model's rows with .fitted .resid .fixed to FILE.csv")
      ->check(output_path());
  command->add_option("--newdata", options->newdata, "Data SOURCE to predict for (with --predict)");
  command->add_option("--predict", options->predict, "Write newdata's rows with .fitted to FILE.csv")
      ->check(output_path());
  command->add_option("--re-form", options->re_form, "Random effects in --predict: full (re.form = NULL) or NA")
      ->check(CLI::IsMember({"full", "NA"}));
  add_output_options(*command, options->output, false);
  command->callback([options, command] {
    if (options->newdata.empty() != options->predict.empty())
      throw InputError(options->newdata.empty() ? "--predict: needs --newdata SOURCE" : "--newdata: needs --predict FILE.csv");
    if (command->count("--re-form") > 0 && options->predict.empty())
      throw InputError("--re-form: applies to --predict (with --newdata) only");
    std::vector<std::string> inputs{source_file(options->data.source)};
    if (!options->newdata.empty()) inputs.push_back(source_file(options->newdata));
    check_output_files({{"--out", options->output.out}, {"--ranef", options->ranef}, {"--augment", options->augment},
                        {"--predict", options->predict}},
                       inputs);
    const Table table = read_data(options->data, model_columns(options->lmm.formula, options->compare, options->lmm.ar1_time,
                                                               options->lmm.frame.weights));
    LmmOptions lmm = options->lmm;
    lmm.reml = !options->ml;
    for (const auto& text : options->ref) lmm.frame.reference_levels.push_back(parse_reference_level(text, "--ref"));
    static const std::map<std::string, DfMethod> df_methods{
        {"satterthwaite", DfMethod::Satterthwaite}, {"residual", DfMethod::Residual}, {"none", DfMethod::None}};
    lmm.df = df_methods.at(options->df);
    if (!options->compare.empty()) {
      std::vector<std::string> formulas{lmm.formula};
      formulas.insert(formulas.end(), options->compare.begin(), options->compare.end());
      const LmmComparison c = compare_lmm(table, formulas, lmm);
      emit(options->output, {to_text(c), to_json(c), ""}, c.warnings);
      return;
    }
    lmm.conditional_modes = !options->ranef.empty();
    lmm.keep_predictor = !options->augment.empty() || !options->predict.empty();
    LmmResult result = fit_lmm(table, lmm);
    if (!options->ranef.empty()) write_file_atomic(options->ranef, ranef_csv(result));
    if (!options->augment.empty()) write_file_atomic(options->augment, table_csv(augment_lmm(result, table)));
    if (!options->predict.empty()) {
      DataOptions newdata = options->data;
      newdata.source = options->newdata;
      const LmmPrediction prediction = predict_lmm(result, read_data(newdata), parse_re_form(options->re_form, "--re-form"));
      write_file_atomic(options->predict, table_csv(prediction.table));
      result.warnings.insert(result.warnings.end(), prediction.warnings.begin(), prediction.warnings.end());
    }
    emit(options->output, {to_text(result), to_json(result), ""}, result.warnings);
  });
}

}  // namespace spiral::cli
