// `spiral ipd run|stage1|stage2|onestage` and `spiral prep` (specification section 5). Their
// --out is the api's `out`: the api writes the files, the CLI prints the result only without it.
#include <iostream>
#include <memory>

#include "cli.hpp"

namespace spiral::cli {

namespace {

// The subcommand `name` of `parent` running api command `command`. `formats`: the formats
// on stdout (one: no --format). `wrote`: the files named on stderr after writing to --out.
void register_spec_command(CLI::App& parent, const std::string& name, const std::string& about, const std::string& command,
                           const std::vector<std::string>& formats, const std::string& wrote = "") {
  CLI::App* c = parent.add_subcommand(name, about);
  auto options = std::make_shared<ApiOptions>(*c, command);
  auto output = std::make_shared<OutputOptions>();
  add_output_options(*c, *options, *output, formats, "Output format on stdout (without --out)");
  c->callback([options, output, wrote] {
    const api::Result result = run(*options, *output);
    const std::string out = options->text("out");
    if (out.empty()) return emit(*output, result);
    print_warnings(result.warnings);
    if (!wrote.empty()) std::cerr << "spiral: wrote " << out << "/" << wrote << "\n";
  });
}

}  // namespace

void register_ipd(CLI::App& app) {
  CLI::App* ipd = app.add_subcommand("ipd", "Two-stage individual-participant-data meta-analysis");
  ipd->require_subcommand(1);
  register_spec_command(*ipd, "run", "Stage 1 for every study, then stage 2", "ipd_run", {"text", "json"},
                        "report.html and report.docx");
  register_spec_command(*ipd, "stage1", "Stage 1 of one study: a bundle of aggregates only (federated mode)", "ipd_stage1",
                        {"json"});
  register_spec_command(*ipd, "stage2", "Pool the bundles of stage 1 (federated mode)", "ipd_stage2", {"text", "json"},
                        "report.html and report.docx");
  register_spec_command(*ipd, "onestage", "The stage-1 models once over all studies (patients nested in studies)",
                        "ipd_onestage", {"text", "json"});
  register_spec_command(app, "prep", "Window, reverse scoring, z-scores, patient means, within parts, lags (CSV)", "prep",
                        {"csv"});
}

}  // namespace spiral::cli
