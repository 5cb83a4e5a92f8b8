// Reading the [simulate] table of an analysis spec (written by analysis_spec()).
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <toml++/toml.h>

#include "spiral/error.hpp"
#include "spiral/simulate.hpp"

namespace spiral {

namespace {

std::string where(const std::string& path, const toml::node& node, const std::string& key) {
  return path + ":" + std::to_string(node.source().begin.line) + ": [simulate] " + key;
}

double number_of(const std::string& path, const std::string& key, const toml::node& node) {
  if (auto x = node.value_exact<double>()) return *x;
  if (auto x = node.value_exact<std::int64_t>()) return static_cast<double>(*x);
  throw InputError(where(path, node, key) + ": expected a number");
}

std::int64_t integer_of(const std::string& path, const std::string& key, const toml::node& node) {
  if (auto x = node.value_exact<std::int64_t>()) return *x;
  throw InputError(where(path, node, key) + ": expected an integer");
}

int int_of(const std::string& path, const std::string& key, const toml::node& node) {
  const std::int64_t x = integer_of(path, key, node);
  if (x < -2147483647 || x > 2147483647) throw InputError(where(path, node, key) + ": out of range");
  return static_cast<int>(x);
}

}  // namespace

SimulateOptions simulate_options_from_spec(const std::string& spec_path) {
  toml::table spec;
  try {
    spec = toml::parse_file(spec_path);
  } catch (const toml::parse_error& e) {
    throw InputError(spec_path + ":" + std::to_string(e.source().begin.line) + ":" +
                     std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  const toml::table* table = spec["simulate"].as_table();
  if (table == nullptr) throw InputError(spec_path + ": no [simulate] table (write the spec with spiral simulate --spec-out)");

  // Every key sets one option; absent keys keep the defaults of specification section 6.
  SimulateOptions o;
  using Setter = std::function<void(const std::string&, const toml::node&)>;
  const std::string& p = spec_path;
  const std::map<std::string, Setter> setters = {
      {"studies", [&](const std::string& k, const toml::node& n) { o.studies = int_of(p, k, n); }},
      {"patients", [&](const std::string& k, const toml::node& n) { o.patients = int_of(p, k, n); }},
      {"sessions", [&](const std::string& k, const toml::node& n) { o.sessions = int_of(p, k, n); }},
      {"seed",
       [&](const std::string& k, const toml::node& n) {
         const std::int64_t seed = integer_of(p, k, n);
         if (seed < 0) throw InputError(where(p, n, k) + ": must not be negative");
         o.seed = static_cast<std::uint64_t>(seed);
       }},
      {"process_to_outcome", [&](const std::string& k, const toml::node& n) { o.process_to_outcome = number_of(p, k, n); }},
      {"outcome_to_process", [&](const std::string& k, const toml::node& n) { o.outcome_to_process = number_of(p, k, n); }},
      {"process_ar", [&](const std::string& k, const toml::node& n) { o.process_ar = number_of(p, k, n); }},
      {"outcome_ar", [&](const std::string& k, const toml::node& n) { o.outcome_ar = number_of(p, k, n); }},
      {"missing", [&](const std::string& k, const toml::node& n) { o.missing = number_of(p, k, n); }},
      {"dropout", [&](const std::string& k, const toml::node& n) { o.dropout = number_of(p, k, n); }},
      {"slope_sd", [&](const std::string& k, const toml::node& n) { o.slope_sd = number_of(p, k, n); }},
      {"study_sd", [&](const std::string& k, const toml::node& n) { o.study_sd = number_of(p, k, n); }},
      {"therapists_per_study",
       [&](const std::string& k, const toml::node& n) { o.therapists_per_study = int_of(p, k, n); }},
  };
  for (const auto& [key, node] : *table) {
    const std::string name(key.str());
    const auto setter = setters.find(name);
    if (setter == setters.end()) throw InputError(where(p, node, name) + ": unknown key");
    setter->second(name, node);
  }
  try {
    validate(o);
  } catch (const InputError& e) {
    // The option names of the message are the command line's; say where they came from.
    throw InputError(spec_path + ": [simulate]: " + e.what());
  }
  return o;
}

}  // namespace spiral
