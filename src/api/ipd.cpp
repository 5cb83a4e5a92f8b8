// The commands that read an analysis spec: prep and ipd run/stage1/stage2/onestage
// (specification section 5), each option declared once for every face.
#include <fstream>
#include <sstream>

#include "api/api_internal.hpp"
#include "spiral/ipd.hpp"

namespace spiral::api::detail {

namespace {

struct SpecCall {
  std::string spec;                   // the spec file
  std::string spec_text;              // or its TOML text (R/Python: a string or a list)
  std::string out;                    // the output file or directory
  int threads = 0;                    // ipd_run
  std::string study;                  // ipd_stage1
  std::vector<std::string> bundles;   // ipd_stage2: bundle files
};

const Spec kSpec = text("spec", "Analysis spec (TOML)").needed().read_file();
const Spec kSpecText = text("spec_text", "The spec's TOML text instead of a file").language_only();

// The output directory of `ipd run`, `stage2` and `onestage`.
Option<SpecCall> directory_option(const std::string& help) {
  return option(text("out", help).written_directory(), &SpecCall::out);
}

std::vector<Option<SpecCall>> prep_options() {
  return {option(kSpec, &SpecCall::spec), option(kSpecText, &SpecCall::spec_text),
          option(text("out", "Write the prepared CSV to FILE instead of stdout").written(), &SpecCall::out)};
}

std::vector<Option<SpecCall>> run_options() {
  return {option(kSpec, &SpecCall::spec), option(kSpecText, &SpecCall::spec_text),
          directory_option("Output directory: stage1.csv, stage2.csv, results.json, forest plots, report.html, report.docx"),
          option(count("threads", "Studies fitted in parallel (default: all cores)"), &SpecCall::threads)};
}

std::vector<Option<SpecCall>> stage1_options() {
  return {option(kSpec, &SpecCall::spec), option(kSpecText, &SpecCall::spec_text),
          option(text("study", "Study id (a value of the spec's study column)").needed(), &SpecCall::study),
          option(text("out", "Bundle file (JSON); default stdout").written(), &SpecCall::out)};
}

std::vector<Option<SpecCall>> stage2_options() {
  return {option(kSpec, &SpecCall::spec), option(kSpecText, &SpecCall::spec_text),
          option(repeated("bundles", "Bundle files written by `spiral ipd stage1`").needed().read_file(), &SpecCall::bundles),
          directory_option("Output directory, as `spiral ipd run`")};
}

std::vector<Option<SpecCall>> onestage_options() {
  return {option(kSpec, &SpecCall::spec), option(kSpecText, &SpecCall::spec_text),
          directory_option("Output directory: onestage.json, onestage.txt")};
}

SpecCall parse_spec_call(const std::string& command, const Json& options, const Table* data,
                         const std::vector<Option<SpecCall>>& table) {
  if (data && command != "prep") throw InputError(command + ": takes its data from the spec, not a data frame");
  SpecCall call = parse_options(command, options, table);
  if (call.spec.empty() == call.spec_text.empty()) throw InputError("--spec: required (a file or the spec's text)");
  return call;
}

// The files a spec makes a command read: the spec and its data sources.
std::vector<std::string> spec_inputs(const SpecCall& call, const IpdSpec& spec) {
  std::vector<std::string> inputs{source_file(spec.source)};
  if (!call.spec.empty()) inputs.push_back(call.spec);
  if (spec.post) inputs.push_back(source_file(spec.post->source));
  return inputs;
}

// The spec of a call: its file, or its text with relative paths resolved against the
// working directory.
IpdSpec call_spec(const SpecCall& call) {
  return call.spec.empty() ? parse_spec(call.spec_text, "spec", ".") : load_spec(call.spec);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The pooled results with the stage-1 estimates as a table (stage1.csv read back: its
// numbers are printed with 17 digits, so they come back exactly).
Result ipd_result(const IpdResult& r, const IpdSpec& spec, const std::string& out) {
  if (!out.empty()) write_ipd_outputs(r, spec, out);
  Result result{to_json(r), to_text(r), r.warnings, {}, {}, {}};
  result.tables.emplace_back("stage1", read_delimited_text(stage1_csv(r), "stage1.csv", {}));
  return result;
}

}  // namespace

Declaration prep_declaration() { return declaration("prep", prep_options); }
Declaration ipd_run_declaration() { return declaration("ipd_run", run_options); }
Declaration ipd_stage1_declaration() { return declaration("ipd_stage1", stage1_options); }
Declaration ipd_stage2_declaration() { return declaration("ipd_stage2", stage2_options); }
Declaration ipd_onestage_declaration() { return declaration("ipd_onestage", onestage_options); }

Result run_prep(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("prep", options, data, prep_options());
  const IpdSpec spec = call_spec(call);
  check_output_files({{"--out", call.out}}, spec_inputs(call, spec));
  Result result{Json::object(), "", {}, {}, {}, {}};
  // A data frame stands in for the spec's [data] source.
  const Table& prepared = result.tables.emplace_back("prepared", prepare(spec, data ? *data : load_data(spec).sessions)).second;
  result.csv = prepared_to_csv(prepared);
  if (!call.out.empty()) write_file_atomic(call.out, result.csv);
  return result;
}

Result run_ipd_run(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("ipd_run", options, data, run_options());
  const IpdSpec spec = call_spec(call);
  if (!call.out.empty()) check_output_dir(call.out);
  const IpdData input = load_data(spec);
  return ipd_result(run_ipd(spec, input.sessions, input.patients_or_null(), call.threads), spec, call.out);
}

Result run_ipd_stage1(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("ipd_stage1", options, data, stage1_options());
  if (call.study.empty()) throw InputError("--study: required");
  const IpdSpec spec = call_spec(call);
  check_output_files({{"--out", call.out}}, spec_inputs(call, spec));
  const IpdData input = load_data(spec);
  const Bundle bundle = run_stage1_federated(spec, input.sessions, input.patients_or_null(), call.study);
  const Json json = to_json(bundle);
  if (!call.out.empty()) write_file_atomic(call.out, json_dump(json));
  Warnings warnings;
  stage1_warnings({bundle}, warnings);
  return {json, json_dump(json), warnings, {}, {}, {}};
}

Result run_ipd_stage2(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("ipd_stage2", options, data, stage2_options());
  if (call.bundles.empty()) throw InputError("--bundles: required");
  const IpdSpec spec = call_spec(call);
  if (!call.out.empty()) check_output_dir(call.out);
  std::vector<Bundle> bundles;
  for (const auto& path : call.bundles) {
    bundles.push_back(bundle_from_json(read_text_file(path), path));
    if (bundles.back().spec_hash != spec.hash())
      throw InputError(path + ": made with a different spec (hash " + bundles.back().spec_hash + ", " +
                       (call.spec.empty() ? std::string("the spec") : call.spec) + " has " + spec.hash() + ")");
  }
  return ipd_result(run_stage2(spec, std::move(bundles)), spec, call.out);
}

Result run_ipd_onestage(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("ipd_onestage", options, data, onestage_options());
  const IpdSpec spec = call_spec(call);
  if (!call.out.empty()) check_output_dir(call.out);
  const OnestageResult r = run_onestage(spec, load_data(spec).sessions);
  if (!call.out.empty()) write_onestage_outputs(r, call.out);
  return {to_json(r), to_text(r), r.warnings, {}, {}, {}};
}

}  // namespace spiral::api::detail
