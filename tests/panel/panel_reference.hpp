// What the panel tests against lavaan's parameterEstimates() rows share (tests/reference/panel.R
// writes the files; each file's "call" names the lavaan call).
#pragma once
#include <map>
#include <string>

#include "spiral/panel.hpp"
#include "test_support.hpp"

namespace spiral::test {

// A reference file of tests/reference/panel/ and the data set of tests/data/panel/ it was fitted to.
struct PanelReferenceCase {
  const char* reference;
  const char* data;
};

inline nlohmann::json panel_reference(const PanelReferenceCase& c) {
  return reference_json(std::string("panel/") + c.reference + ".json");
}

// The model the reference fitted (its "vars" and "model"), without fit measures.
inline PanelOptions panel_reference_options(const nlohmann::json& reference) {
  PanelOptions options;
  options.id = "patient";
  options.time = "session";
  options.vars = reference["vars"].get<std::vector<std::string>>();
  options.model = reference["model"].get<std::string>();
  options.fit_measures = false;
  return options;
}

inline PanelResult fit_panel_reference(const PanelReferenceCase& c, const PanelOptions& options) {
  return fit_panel(read_table(test_path(std::string("data/panel/") + c.data)), options);
}

// "lhs op rhs" of a parameter, as lavaan's parameterEstimates() rows name it.
inline std::string parameter_key(const nlohmann::json& row) {
  return row["lhs"].get<std::string>() + " " + row["op"].get<std::string>() + " " + row["rhs"].get<std::string>();
}

inline std::map<std::string, const PanelParameter*> parameters_by_key(const PanelResult& r) {
  std::map<std::string, const PanelParameter*> by_key;
  for (const PanelParameter& p : r.parameters) by_key[p.lhs + " " + p.op + " " + p.rhs] = &p;
  return by_key;
}

}  // namespace spiral::test
