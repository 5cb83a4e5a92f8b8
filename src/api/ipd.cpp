// The commands that read an analysis spec: prep and ipd run/stage1/stage2/onestage
// (specification section 5), with the options of `spiral prep` and `spiral ipd <subcommand>`
// (apps/spiral/cmd_ipd.cpp).
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

// spec and out, plus the command's own options.
std::vector<Option<SpecCall>> spec_options(std::vector<Option<SpecCall>> own = {}) {
  own.push_back(option("spec", &SpecCall::spec));
  own.push_back(option("spec_text", &SpecCall::spec_text));
  own.push_back(option("out", &SpecCall::out));
  return own;
}

SpecCall parse_spec_call(const std::string& command, const Json& options, const Table* data,
                         const std::vector<Option<SpecCall>>& table) {
  if (data && command != "prep") throw InputError(command + ": takes its data from the spec, not a data frame");
  SpecCall call = parse_options(command, options, table);
  if (call.spec.empty() == call.spec_text.empty()) throw InputError("spec: required (a file or the spec's text)");
  return call;
}

// The spec of a call: its file, or its text with relative paths resolved against the
// working directory.
IpdSpec call_spec(const SpecCall& call) {
  return call.spec.empty() ? parse_spec(call.spec_text, "spec", ".") : load_spec(call.spec);
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The pooled results with the stage-1 estimates as a table (stage1.csv read back: its
// numbers are printed with 17 digits, so they come back exactly).
Result ipd_result(const IpdResult& r, const IpdSpec& spec, const std::string& out) {
  if (!out.empty()) write_ipd_outputs(r, spec, out);
  Result result{to_json(r), to_text(r), r.warnings, {}, {}};
  result.tables.emplace_back("stage1", read_delimited_text(stage1_csv(r), "stage1.csv", {}));
  return result;
}

}  // namespace

Result run_prep(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("prep", options, data, spec_options());
  const IpdSpec spec = call_spec(call);
  Result result{Json::object(), "", {}, {}, {}};
  // A data frame stands in for the spec's [data] source.
  const Table& prepared = result.tables.emplace_back("prepared", prepare(spec, data ? *data : load_data(spec).sessions)).second;
  if (!call.out.empty()) write_file_atomic(call.out, prepared_to_csv(prepared));
  return result;
}

Result run_ipd_run(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("ipd_run", options, data, spec_options({option("threads", &SpecCall::threads)}));
  const IpdSpec spec = call_spec(call);
  if (!call.out.empty()) check_output_dir(call.out);
  const IpdData input = load_data(spec);
  return ipd_result(run_ipd(spec, input.sessions, input.patients_or_null(), call.threads), spec, call.out);
}

Result run_ipd_stage1(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("ipd_stage1", options, data, spec_options({option("study", &SpecCall::study)}));
  if (call.study.empty()) throw InputError("study: required");
  const IpdSpec spec = call_spec(call);
  const IpdData input = load_data(spec);
  const Bundle bundle = run_stage1_federated(spec, input.sessions, input.patients_or_null(), call.study);
  const Json json = to_json(bundle);
  if (!call.out.empty()) write_file_atomic(call.out, json_dump(json));
  Warnings warnings;
  stage1_warnings({bundle}, warnings);
  return {json, json_dump(json), warnings, {}, {}};
}

Result run_ipd_stage2(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("ipd_stage2", options, data, spec_options({option("bundles", &SpecCall::bundles)}));
  if (call.bundles.empty()) throw InputError("bundles: required");
  const IpdSpec spec = call_spec(call);
  if (!call.out.empty()) check_output_dir(call.out);
  std::vector<Bundle> bundles;
  for (const auto& path : call.bundles) bundles.push_back(bundle_from_json(read_text_file(path), path));
  return ipd_result(run_stage2(spec, std::move(bundles)), spec, call.out);
}

Result run_ipd_onestage(const Json& options, const Table* data) {
  const SpecCall call = parse_spec_call("ipd_onestage", options, data, spec_options());
  const IpdSpec spec = call_spec(call);
  if (!call.out.empty()) check_output_dir(call.out);
  const OnestageResult r = run_onestage(spec, load_data(spec).sessions);
  if (!call.out.empty()) write_onestage_outputs(r, call.out);
  return {to_json(r), to_text(r), r.warnings, {}, {}};
}

}  // namespace spiral::api::detail
