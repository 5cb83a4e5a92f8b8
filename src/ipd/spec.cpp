// The analysis spec (TOML): read, validated up front, every error naming the file, the
// line and the key at fault. Unknown keys are errors so that a typo never silently
// changes an analysis.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "ipd/ipd_internal.hpp"
#include "spiral/formula.hpp"
#include "spiral/ipd.hpp"

namespace spiral {

namespace {

// Where a value sits, for messages: "analysis.toml:12: model.lags".
class SpecReader {
 public:
  SpecReader(std::string name, std::string base_dir) : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& key, const std::string& problem) const {
    std::string where = name_;
    if (node && node->source().begin.line > 0) where += ":" + std::to_string(node->source().begin.line);
    throw InputError(where + ": " + key + ": " + problem);
  }

  void check_keys(const toml::table& table, const std::string& prefix, const std::set<std::string>& allowed) const {
    for (const auto& [key, node] : table) {
      if (!allowed.count(std::string(key.str())))
        fail(&node, prefix + std::string(key.str()), "unknown key");
    }
  }

  const toml::table* table(const toml::table& parent, const std::string& key, bool required) const {
    const toml::node* node = parent.get(key);
    if (!node) {
      if (required) fail(nullptr, "[" + key + "]", "missing table");
      return nullptr;
    }
    if (!node->is_table()) fail(node, key, std::string("expected a table, got ") + type_name(*node));
    return node->as_table();
  }

  std::optional<std::string> string(const toml::table& t, const std::string& prefix, const std::string& key,
                                    bool required) const {
    const toml::node* node = t.get(key);
    if (!node) {
      if (required) fail(&t, prefix + key, "missing (a string is required)");
      return std::nullopt;
    }
    if (!node->is_string()) fail(node, prefix + key, std::string("expected a string, got ") + type_name(*node));
    const std::string value = node->as_string()->get();
    if (value.empty()) fail(node, prefix + key, "must not be empty");
    return value;
  }

  std::optional<long> integer(const toml::table& t, const std::string& prefix, const std::string& key) const {
    const toml::node* node = t.get(key);
    if (!node) return std::nullopt;
    if (!node->is_integer()) fail(node, prefix + key, std::string("expected an integer, got ") + type_name(*node));
    return static_cast<long>(node->as_integer()->get());
  }

  std::optional<bool> boolean(const toml::table& t, const std::string& prefix, const std::string& key) const {
    const toml::node* node = t.get(key);
    if (!node) return std::nullopt;
    if (!node->is_boolean()) fail(node, prefix + key, std::string("expected true or false, got ") + type_name(*node));
    return node->as_boolean()->get();
  }

  const toml::array* array(const toml::table& t, const std::string& prefix, const std::string& key) const {
    const toml::node* node = t.get(key);
    if (!node) return nullptr;
    if (!node->is_array()) fail(node, prefix + key, std::string("expected an array, got ") + type_name(*node));
    return node->as_array();
  }

  // A table of strings (`reference = { arm = "TAU" }`, [labels]) as (key, value) pairs in order.
  std::vector<std::pair<std::string, std::string>> string_table(const toml::table& t, const std::string& prefix,
                                                                const std::string& key) const {
    std::vector<std::pair<std::string, std::string>> out;
    const toml::node* node = t.get(key);
    if (!node) return out;
    if (!node->is_table()) fail(node, prefix + key, std::string("expected a table, got ") + type_name(*node));
    for (const auto& [name, value] : *node->as_table()) {
      const std::string full = prefix + key + "." + std::string(name.str());
      if (!value.is_string()) fail(&value, full, std::string("expected a string, got ") + type_name(value));
      if (value.as_string()->get().empty()) fail(&value, full, "must not be empty");
      out.emplace_back(std::string(name.str()), value.as_string()->get());
    }
    return out;
  }

  std::vector<std::string> strings(const toml::table& t, const std::string& prefix, const std::string& key) const {
    std::vector<std::string> out;
    const toml::array* a = array(t, prefix, key);
    if (!a) return out;
    for (const auto& e : *a) {
      if (!e.is_string() || e.as_string()->get().empty())
        fail(&e, prefix + key, std::string("expected an array of non-empty strings, got ") + type_name(e));
      if (std::find(out.begin(), out.end(), e.as_string()->get()) != out.end())
        fail(&e, prefix + key, "'" + e.as_string()->get() + "' is named twice");
      out.push_back(e.as_string()->get());
    }
    return out;
  }

  std::vector<long> integers(const toml::table& t, const std::string& prefix, const std::string& key) const {
    std::vector<long> out;
    const toml::array* a = array(t, prefix, key);
    if (!a) return out;
    for (const auto& e : *a) {
      if (!e.is_integer()) fail(&e, prefix + key, std::string("expected an array of integers, got ") + type_name(e));
      out.push_back(static_cast<long>(e.as_integer()->get()));
    }
    return out;
  }

  // A data SOURCE relative to the spec's directory (sqlite:PATH?... keeps its prefix).
  std::string resolve(const std::string& source) const {
    const std::string prefix = "sqlite:";
    if (source.rfind(prefix, 0) == 0) return prefix + resolve(source.substr(prefix.size()));
    const std::filesystem::path p(source);
    if (p.is_absolute() || base_dir_.empty()) return source;
    return (std::filesystem::path(base_dir_) / p).lexically_normal().string();
  }

  static const char* type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a number";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::array: return "an array";
      case toml::node_type::table: return "a table";
      default: return "a date/time";
    }
  }

 private:
  std::string name_, base_dir_;
};

bool is_file_safe(const std::string& name) {
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return !name.empty();
}

void read_data(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  const toml::table& t = *r.table(root, "data", true);
  r.check_keys(t, "data.", {"source", "study", "patient", "session", "therapist", "labels", "factors", "reference"});
  spec.source = r.resolve(*r.string(t, "data.", "source", true));
  spec.study = r.string(t, "data.", "study", false).value_or(spec.study);
  spec.patient = r.string(t, "data.", "patient", false).value_or(spec.patient);
  spec.session = r.string(t, "data.", "session", false).value_or(spec.session);
  spec.therapist = r.string(t, "data.", "therapist", false).value_or("");
  spec.value_labels = r.boolean(t, "data.", "labels").value_or(false);
  spec.factors = r.strings(t, "data.", "factors");
  for (const auto& [column, level] : r.string_table(t, "data.", "reference")) spec.reference.emplace_back(column, level);
}

// [labels]: names for readers, e.g. Pw_lag1 = "Alliance, previous session (within)".
void read_labels(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  if (!root.get("labels")) return;
  for (auto& [name, text] : r.string_table(root, "", "labels")) spec.labels.emplace(std::move(name), std::move(text));
}

void read_variables(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  const toml::table& t = *r.table(root, "variables", true);
  r.check_keys(t, "variables.", {"process", "outcome", "reverse"});
  spec.process = *r.string(t, "variables.", "process", true);
  spec.outcome = *r.string(t, "variables.", "outcome", true);
  if (spec.process == spec.outcome) r.fail(t.get("outcome"), "variables.outcome", "must differ from variables.process");
  spec.reverse = r.strings(t, "variables.", "reverse");
}

void read_window(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  const toml::table* t = r.table(root, "window", false);
  if (!t) return;
  r.check_keys(*t, "window.", {"first", "last"});
  spec.first = r.integer(*t, "window.", "first");
  spec.last = r.integer(*t, "window.", "last");
  if (spec.first && spec.last && *spec.first > *spec.last)
    r.fail(t->get("last"), "window.last", "must not be smaller than window.first");
}

void read_custom_models(const SpecReader& r, const toml::table& model, IpdSpec& spec) {
  const toml::array* custom = r.array(model, "model.", "custom");
  if (!custom) return;
  // Every stage-1 model's name (stage1_models) is its key in the outputs and its plots' file names.
  std::set<std::string> names = {"process_to_outcome", "outcome_to_process", "process_to_outcome_cross",
                                 "outcome_to_process_cross", "process_to_outcome_lag2", "outcome_to_process_lag2",
                                 ipd_detail::post_model_name(), ipd_detail::panel_model_name(),
                                 ipd_detail::dsem_model_name()};
  for (std::size_t i = 0; i < custom->size(); ++i) {
    const toml::node& node = *custom->get(i);
    const std::string key = "model.custom[" + std::to_string(i + 1) + "]";
    if (!node.is_table()) r.fail(&node, key, "expected a table ([[model.custom]])");
    const toml::table& t = *node.as_table();
    r.check_keys(t, key + ".", {"name", "formula"});
    CustomModel m{*r.string(t, key + ".", "name", true), *r.string(t, key + ".", "formula", true)};
    if (!is_file_safe(m.name)) r.fail(t.get("name"), key + ".name", "use only letters, digits, '_', '.' and '-'");
    if (!names.insert(m.name).second) r.fail(t.get("name"), key + ".name", "another model is named '" + m.name + "'");
    try {
      const Formula f = parse_formula(m.formula);
      if (f.response.empty()) r.fail(t.get("formula"), key + ".formula", "the formula needs a response (y ~ ...)");
    } catch (const InputError& e) {
      r.fail(t.get("formula"), key + ".formula", e.what());
    }
    spec.custom.push_back(std::move(m));
  }
}

void read_model(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  const toml::table* t = r.table(root, "model", false);
  if (!t) return;
  r.check_keys(*t, "model.", {"lags", "cross_level", "random_slopes", "panel", "dsem", "custom"});
  if (t->get("lags")) {
    const std::vector<long> lags = r.integers(*t, "model.", "lags");
    const std::set<long> unique(lags.begin(), lags.end());
    if (unique.size() != lags.size() || !unique.count(1) || *unique.rbegin() > 2 || *unique.begin() < 1)
      r.fail(t->get("lags"), "model.lags", "expected [1] or [1, 2]");
    spec.lags.assign(unique.begin(), unique.end());
  }
  spec.cross_level = r.boolean(*t, "model.", "cross_level").value_or(spec.cross_level);
  spec.random_slopes = r.boolean(*t, "model.", "random_slopes").value_or(spec.random_slopes);
  spec.panel = r.boolean(*t, "model.", "panel").value_or(spec.panel);
  spec.dsem = r.boolean(*t, "model.", "dsem").value_or(spec.dsem);
  read_custom_models(r, *t, spec);
}

// A whole number of [dsem] in [low, high], or the default.
int bounded_integer(const SpecReader& r, const toml::table& t, const std::string& key, long low, long high, int value) {
  const std::optional<long> v = r.integer(t, "dsem.", key);
  if (!v) return value;
  if (*v < low || *v > high)
    r.fail(t.get(key), "dsem." + key, "expected " + std::to_string(low) + " to " + std::to_string(high) + ", got " + std::to_string(*v));
  return static_cast<int>(*v);
}

// [dsem]: the sampler's settings of the stage-1 model `dsem` (the options of `spiral dsem`).
void read_dsem(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  const toml::table* t = r.table(root, "dsem", false);
  if (!t) return;
  if (!spec.dsem) r.fail(root.get("dsem"), "[dsem]", "its settings need [model] dsem = true");
  r.check_keys(*t, "dsem.", {"random", "between", "chains", "iter", "warmup", "seed"});
  IpdDsemSettings& d = spec.dsem_settings;
  d.random = r.string(*t, "dsem.", "random", false).value_or(d.random);
  if (d.random != "all" && d.random != "lagged" && d.random != "ar" && d.random != "none")
    r.fail(t->get("random"), "dsem.random", "'" + d.random + "' is not one of all, lagged, ar, none");
  d.between = r.strings(*t, "dsem.", "between");
  d.chains = bounded_integer(r, *t, "chains", 1, 64, d.chains);
  d.iter = bounded_integer(r, *t, "iter", 1, 100000000, d.iter);
  d.warmup = bounded_integer(r, *t, "warmup", 0, 100000000, d.warmup);
  if (d.iter - d.warmup < 4)
    r.fail(t->get(t->get("iter") ? "iter" : "warmup"), "dsem.iter",
           "iter " + std::to_string(d.iter) + " leaves fewer than 4 draws per chain after warmup " + std::to_string(d.warmup));
  const std::optional<long> seed = r.integer(*t, "dsem.", "seed");
  if (seed && *seed < 0) r.fail(t->get("seed"), "dsem.seed", "expected a whole number >= 0, got " + std::to_string(*seed));
  if (seed) d.seed = static_cast<std::uint64_t>(*seed);
}

void read_meta(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  const toml::table* t = r.table(root, "meta", false);
  if (!t) return;
  r.check_keys(*t, "meta.", {"method", "test", "moderators", "egger"});
  spec.egger = r.boolean(*t, "meta.", "egger").value_or(false);
  spec.method = r.string(*t, "meta.", "method", false).value_or(spec.method);
  static const std::set<std::string> methods = {"REML", "ML", "DL", "HE", "HS", "SJ", "PM", "EB", "FE"};
  if (!methods.count(spec.method))
    r.fail(t->get("method"), "meta.method", "'" + spec.method + "' is not one of REML ML DL HE HS SJ PM EB FE");
  spec.test = r.string(*t, "meta.", "test", false).value_or(spec.test);
  if (spec.test != "z" && spec.test != "knha")
    r.fail(t->get("test"), "meta.test", "'" + spec.test + "' is not one of z, knha");
  spec.moderators = r.strings(*t, "meta.", "moderators");
}

void read_post(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  const toml::table* t = r.table(root, "post", false);
  if (!t) return;
  r.check_keys(*t, "post.", {"source", "pre", "post", "early"});
  PostSpec post;
  post.source = r.resolve(*r.string(*t, "post.", "source", true));
  post.pre = *r.string(*t, "post.", "pre", true);
  post.post = *r.string(*t, "post.", "post", true);
  if (t->get("early")) {
    const std::vector<long> early = r.integers(*t, "post.", "early");
    if (early.size() != 2 || early[0] > early[1])
      r.fail(t->get("early"), "post.early", "expected [first, last] with first <= last");
    post.early_first = early[0];
    post.early_last = early[1];
  }
  spec.post = post;
}

void read_privacy(const SpecReader& r, const toml::table& root, IpdSpec& spec) {
  const toml::table* t = r.table(root, "privacy", false);
  if (!t) return;
  r.check_keys(*t, "privacy.", {"min_patients"});
  spec.min_patients = r.integer(*t, "privacy.", "min_patients").value_or(spec.min_patients);
  if (spec.min_patients < 1) r.fail(t->get("min_patients"), "privacy.min_patients", "must be at least 1");
}

// FNV-1a, 64 bit: a fingerprint to detect bundles of different analyses, not a security hash.
std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(h));
  return buffer;
}

}  // namespace

IpdSpec parse_spec(const std::string& text, const std::string& name, const std::string& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw InputError(name + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const SpecReader r(name, base_dir);
  r.check_keys(root, "", {"data", "variables", "window", "model", "dsem", "meta", "post", "privacy", "simulate", "labels"});
  IpdSpec spec;
  spec.text = text;
  read_data(r, root, spec);
  read_variables(r, root, spec);
  read_window(r, root, spec);
  read_model(r, root, spec);
  read_dsem(r, root, spec);
  read_meta(r, root, spec);
  read_labels(r, root, spec);
  read_post(r, root, spec);
  read_privacy(r, root, spec);
  spec.has_simulate = r.table(root, "simulate", false) != nullptr;
  return spec;
}

IpdSpec load_spec(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path + ": is a directory, not a spec file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read the spec file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::filesystem::path p(path);
  IpdSpec spec = parse_spec(ss.str(), path, p.has_parent_path() ? p.parent_path().string() : ".");
  spec.path = path;
  return spec;
}

std::string IpdSpec::hash() const {
  Json j;
  j["columns"] = {study, patient, session, therapist};
  j["variables"] = {process, outcome, reverse};
  j["window"] = {first ? Json(*first) : Json(nullptr), last ? Json(*last) : Json(nullptr)};
  j["model"] = {lags, cross_level, random_slopes, panel};
  for (const auto& m : custom) j["custom"].push_back({m.name, m.formula});
  if (dsem) {  // only then, so that the hashes of specs without it stay as they were
    const IpdDsemSettings& d = dsem_settings;
    j["dsem"] = {d.random, d.between, d.chains, d.iter, d.warmup, d.seed};
  }
  j["meta"] = {method, test, moderators};
  if (value_labels || !factors.empty() || !reference.empty()) j["coding"] = {value_labels, factors, reference};
  if (post) j["post"] = {post->pre, post->post, post->early_first, post->early_last};
  return fnv1a_hex(j.dump());
}

std::string spiral_version() { return std::string("spiral ") + SPIRAL_VERSION; }

}  // namespace spiral
