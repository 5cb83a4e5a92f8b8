// `spiral ipd run|stage1|stage2|onestage` and `spiral prep` (specification section 5).
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.hpp"
#include "spiral/ipd.hpp"

namespace spiral::cli {

namespace {

struct IpdOptions {
  std::string spec, out, format = "text", study;
  std::vector<std::string> bundles;
  int threads = 0;
};

void add_spec_option(CLI::App& command, IpdOptions& o) {
  command.add_option("--spec", o.spec, "Analysis spec (TOML)")->required();
}

void add_format_option(CLI::App& command, IpdOptions& o) {
  command.add_option("--format", o.format, "Output format on stdout (without --out)")
      ->check(CLI::IsMember({"text", "json"}));
}

void print_warnings(const Warnings& warnings) {
  for (const auto& w : warnings) std::cerr << "spiral: warning: " << w << '\n';
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The files a spec makes a command read: the spec and its data sources.
std::vector<std::string> spec_inputs(const std::string& spec_path, const IpdSpec& spec) {
  std::vector<std::string> inputs{spec_path, source_file(spec.source)};
  if (spec.post) inputs.push_back(source_file(spec.post->source));
  return inputs;
}

// The result in DIR (all-or-nothing), or as text/JSON on stdout.
void emit_ipd(const IpdOptions& o, const IpdResult& result, const IpdSpec& spec) {
  print_warnings(result.warnings);
  if (!o.out.empty()) {
    write_ipd_outputs(result, spec, o.out);
    std::cerr << "spiral: wrote " << o.out << "/report.html\n";
  } else {
    std::cout << (o.format == "json" ? json_dump(to_json(result)) : to_text(result)) << std::flush;
  }
}

void register_run(CLI::App& ipd) {
  auto o = std::make_shared<IpdOptions>();
  CLI::App* c = ipd.add_subcommand("run", "Stage 1 for every study, then stage 2");
  add_spec_option(*c, *o);
  c->add_option("--out", o->out, "Output directory: stage1.csv, stage2.csv, results.json, forest plots, report.html")
      ->check(output_path());
  c->add_option("--threads", o->threads, "Studies fitted in parallel (default: all cores)")->check(non_negative_integer());
  add_format_option(*c, *o);
  c->callback([o] {
    const IpdSpec spec = load_spec(o->spec);
    if (!o->out.empty()) check_output_dir(o->out);
    const IpdData data = load_data(spec);
    emit_ipd(*o, run_ipd(spec, data.sessions, data.patients_or_null(), o->threads), spec);
  });
}

void register_stage1(CLI::App& ipd) {
  auto o = std::make_shared<IpdOptions>();
  CLI::App* c = ipd.add_subcommand("stage1", "Stage 1 of one study: a bundle of aggregates only (federated mode)");
  add_spec_option(*c, *o);
  c->add_option("--study", o->study, "Study id (a value of the spec's study column)")->required();
  c->add_option("--out", o->out, "Bundle file (JSON); default stdout")->check(output_path());
  c->callback([o] {
    const IpdSpec spec = load_spec(o->spec);
    check_output_files({{"--out", o->out}}, spec_inputs(o->spec, spec));
    const IpdData data = load_data(spec);
    const Bundle bundle = run_stage1_federated(spec, data.sessions, data.patients_or_null(), o->study);
    Warnings warnings;
    stage1_warnings({bundle}, warnings);
    emit({"json", o->out}, {"", to_json(bundle), ""}, warnings);
  });
}

void register_stage2(CLI::App& ipd) {
  auto o = std::make_shared<IpdOptions>();
  CLI::App* c = ipd.add_subcommand("stage2", "Pool the bundles of stage 1 (federated mode)");
  add_spec_option(*c, *o);
  c->add_option("--bundles", o->bundles, "Bundle files written by `spiral ipd stage1`")->required();
  c->add_option("--out", o->out, "Output directory, as `spiral ipd run`")->check(output_path());
  add_format_option(*c, *o);
  c->callback([o] {
    const IpdSpec spec = load_spec(o->spec);
    if (!o->out.empty()) check_output_dir(o->out);
    std::vector<Bundle> bundles;
    for (const auto& path : o->bundles) {
      bundles.push_back(bundle_from_json(read_file(path), path));
      if (bundles.back().spec_hash != spec.hash())
        throw InputError(path + ": made with a different spec (hash " + bundles.back().spec_hash + ", " + o->spec +
                         " has " + spec.hash() + ")");
    }
    emit_ipd(*o, run_stage2(spec, std::move(bundles)), spec);
  });
}

void register_onestage(CLI::App& ipd) {
  auto o = std::make_shared<IpdOptions>();
  CLI::App* c = ipd.add_subcommand("onestage", "The stage-1 models once over all studies (patients nested in studies)");
  add_spec_option(*c, *o);
  c->add_option("--out", o->out, "Output directory: onestage.json, onestage.txt")->check(output_path());
  add_format_option(*c, *o);
  c->callback([o] {
    const IpdSpec spec = load_spec(o->spec);
    if (!o->out.empty()) check_output_dir(o->out);
    const IpdData data = load_data(spec);
    const OnestageResult result = run_onestage(spec, data.sessions);
    print_warnings(result.warnings);
    if (!o->out.empty()) write_onestage_outputs(result, o->out);
    else std::cout << (o->format == "json" ? json_dump(to_json(result)) : to_text(result)) << std::flush;
  });
}

void register_prep(CLI::App& app) {
  auto o = std::make_shared<IpdOptions>();
  CLI::App* c = app.add_subcommand("prep", "Window, reverse scoring, z-scores, patient means, within parts, lags (CSV)");
  add_spec_option(*c, *o);
  c->add_option("--out", o->out, "Write the prepared CSV to FILE instead of stdout")->check(output_path());
  c->callback([o] {
    const IpdSpec spec = load_spec(o->spec);
    check_output_files({{"--out", o->out}}, spec_inputs(o->spec, spec));
    const Table sessions = load_data(spec).sessions;
    emit({"csv", o->out}, {"", {}, prepared_to_csv(prepare(spec, sessions))}, {});
  });
}

}  // namespace

void register_ipd(CLI::App& app) {
  CLI::App* ipd = app.add_subcommand("ipd", "Two-stage individual-participant-data meta-analysis");
  ipd->require_subcommand(1);
  register_run(*ipd);
  register_stage1(*ipd);
  register_stage2(*ipd);
  register_onestage(*ipd);
  register_prep(app);
}

}  // namespace spiral::cli
