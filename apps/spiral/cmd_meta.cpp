#include <memory>

#include "cli.hpp"
#include "spiral/meta.hpp"

namespace spiral::cli {

void register_meta(CLI::App& app) {
  struct Options {
    DataOptions data;
    OutputOptions output;
    MetaColumns columns;
    MetaOptions meta;
    std::string forest, funnel;
    PlotLabels labels;
  };
  auto o = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("meta", "Random-effects meta-analysis and meta-regression (metafor rma.uni)");
  add_data_options(*command, o->data);
  command->add_option("--yi", o->columns.yi, "Column of effect sizes");
  command->add_option("--vi", o->columns.vi, "Column of sampling variances");
  command->add_option("--sei", o->columns.sei, "Column of standard errors (instead of --vi)");
  command->add_option("--measure", o->columns.measure, "Effect size computed as metafor's escalc()")
      ->check(CLI::IsMember(escalc_measures()));
  command->add_option("--ri", o->columns.ri, "Correlations (COR UCOR ZCOR; MC SMCC SMCR ROMC)");
  command->add_option("--ni", o->columns.ni, "Sample sizes (COR UCOR ZCOR, PR.., MN MNLN, MC..)");
  command->add_option("--m1i", o->columns.m1i, "Means of group 1 / time 1 (MD SMD SMDH ROM CVR; MC..)");
  command->add_option("--sd1i", o->columns.sd1i, "SDs of group 1 / time 1");
  command->add_option("--n1i", o->columns.n1i, "Sizes of group 1 (also instead of --bi)");
  command->add_option("--m2i", o->columns.m2i, "Means of group 2 / time 2");
  command->add_option("--sd2i", o->columns.sd2i, "SDs of group 2 / time 2");
  command->add_option("--n2i", o->columns.n2i, "Sizes of group 2 (also instead of --di)");
  command->add_option("--ai", o->columns.ai, "Events in group 1 (OR RR RD AS PETO)");
  command->add_option("--bi", o->columns.bi, "Non-events in group 1");
  command->add_option("--ci", o->columns.ci, "Events in group 2");
  command->add_option("--di", o->columns.di, "Non-events in group 2");
  command->add_option("--x1i", o->columns.x1i, "Events in group 1 (IRR IRD IRSD)");
  command->add_option("--x2i", o->columns.x2i, "Events in group 2 (IRR IRD IRSD)");
  command->add_option("--t1i", o->columns.t1i, "Person-time of group 1 (IRR IRD IRSD)");
  command->add_option("--t2i", o->columns.t2i, "Person-time of group 2 (IRR IRD IRSD)");
  command->add_option("--xi", o->columns.xi, "Events (PR PLN PLO PAS PFT; IR IRLN IRS IRFT)");
  command->add_option("--ti", o->columns.ti, "Person-time (IR IRLN IRS IRFT)");
  command->add_option("--mi", o->columns.mi, "Means (MN MNLN)");
  command->add_option("--sdi", o->columns.sdi, "SDs (MN MNLN)");
  command->add_option("--slab", o->columns.slab, "Column of study labels");
  command->add_option("--ilab", o->columns.ilab, "Columns shown beside the studies in the forest plot: COL[,COL]")
      ->delimiter(',');
  command->add_option("--transf", o->meta.transf,
                      "Back-transform estimate, CI and PI and the forest axis: exp, tanh, ilogit, iarcsin, isqrt, ...");
  command->add_option("--xlab", o->labels.x_label, "Label of the plots' effect axis");
  command->add_option("--method", o->meta.method, "tau^2 estimator (default REML)")
      ->check(CLI::IsMember({"REML", "ML", "DL", "HE", "HS", "SJ", "PM", "EB", "FE"}));
  command->add_option("--test", o->meta.test, "z or knha (Knapp-Hartung)")->check(CLI::IsMember({"z", "knha"}));
  command->add_option("--mods", o->meta.mods, "Moderators, a one-sided formula: \"x1 + x2\"");
  command->add_option("--level", o->meta.level, "Confidence level in percent (default 95)")->check(CLI::Range(0.0, 100.0));
  command->add_flag("--influence", o->meta.influence, "Influence diagnostics (influence.rma.uni)");
  command->add_flag("--leave1out", o->meta.leave1out, "Leave-one-out analysis");
  command->add_flag("--egger", o->meta.egger, "Egger's regression test (regtest)");
  command->add_flag("--trimfill", o->meta.trimfill, "Trim and fill (L0)");
  command->add_option("--forest", o->forest, "Write a forest plot to FILE.svg|.pdf|.png")->check(output_path());
  command->add_option("--funnel", o->funnel, "Write a funnel plot to FILE.svg|.pdf|.png")->check(output_path());
  add_output_options(*command, o->output);
  command->callback([o] {
    check_output_files({{"--out", o->output.out}, {"--forest", o->forest}, {"--funnel", o->funnel}},
                       {source_file(o->data.source)});
    o->columns.mods = o->meta.mods;
    const MetaResult result = fit_meta(meta_input_from_table(read_data(o->data), o->columns), o->meta);
    write_meta_plots(result, o->forest, o->funnel, o->labels);
    emit(o->output, {to_text(result), to_json(result), to_csv(result)}, result.warnings);
  });
}

}  // namespace spiral::cli
