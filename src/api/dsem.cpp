// `spiral dsem` (specification section 9), each option declared once for every face.
#include "api/api_internal.hpp"
#include "spiral/dsem.hpp"

namespace spiral::api::detail {

namespace {

struct DsemCall {
  DataSource data;
  DsemOptions dsem;
  std::string draws;  // the kept draws as CSV
};

std::vector<Option<DsemCall>> dsem_options() {
  using D = DsemOptions;
  const auto d = &DsemCall::dsem;
  std::vector<Option<DsemCall>> table;
  add_data_options(table);
  const std::vector<Option<DsemCall>> own{
      option(text("id", "Patient column").needed(), d, &D::id),
      option(text("time", "Session column (integer occasions)").needed(), d, &D::time),
      option(list("vars", "Variables, comma-separated (2 to 4)").needed(), d, &D::vars),
      option(text("random", "Lagged effects that vary across patients: all (default), lagged (cross-lags), ar, none")
                 .one_of({"lagged", "ar", "all", "none"}),
             d, &D::random),
      option(list("between", "Patient-level moderators, comma-separated"), d, &D::between),
      option(text("cluster", "Third level (e.g. therapist): a random effect on the means"), d, &D::cluster),
      option(integer("chains", "Chains (default 4)").within(1, 64), d, &D::chains),
      option(integer("iter", "Iterations per chain, warmup included (default 4000)").within(1, 100000000), d, &D::iter),
      option(integer("warmup", "Warmup iterations per chain (default 2000)").within(0, 100000000), d, &D::warmup),
      option(integer("thin", "Keep every thin-th draw (default 1)").within(1, 1000000), d, &D::thin),
      option(seed("seed", "Random seed (default 1)"), d, &D::seed),
      option(count("threads", "Threads (default: one per core; results do not depend on it)"), d, &D::threads),
      option(integer("first", "First session of the window"), d, &D::first),
      option(integer("last", "Last session of the window"), d, &D::last),
      option(number("level", "Credible interval in percent (default 95)"), d, &D::level),
      option(flag("standardized", "Add within-person standardized average lagged effects"), d, &D::standardized),
      option(text("draws", "Write the kept draws to FILE.csv").written(), &DsemCall::draws),
  };
  table.insert(table.end(), own.begin(), own.end());
  return table;
}

// The kept draws as a table for R and Python (chain, iteration, then one column per parameter,
// named as the --draws columns).
Table draws_table(const DsemResult& r) {
  std::vector<double> chain, iteration;
  std::vector<std::vector<double>> values(r.draw_names.size());
  for (std::size_t c = 0; c < r.draws.size(); ++c)
    for (std::size_t d = 0; d < r.draws[c].size(); ++d) {
      chain.push_back(static_cast<double>(c + 1));
      iteration.push_back(static_cast<double>(r.warmup + 1 + static_cast<long>(d) * r.thin));
      for (std::size_t j = 0; j < values.size(); ++j) values[j].push_back(r.draws[c][d][j]);
    }
  Table table("draws");
  table.add_numeric("chain", std::move(chain));
  table.add_numeric("iteration", std::move(iteration));
  for (std::size_t j = 0; j < values.size(); ++j) table.add_numeric(r.draw_names[j], std::move(values[j]));
  return table;
}

// Every parameter's posterior summary, one row each in the order of the draws' columns (the
// JSON's fixed, moderators, random, innovations), for R's summary() and Python's.
Table posterior_table(const DsemResult& r) {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns(8);
  for (const auto* list : {&r.fixed, &r.moderators, &r.random_sd, &r.innovations})
    for (const auto& s : *list) {
      names.push_back(s.name);
      const double values[] = {s.mean, s.median, s.sd, s.conf_low, s.conf_high, s.rhat, s.ess_bulk, s.ess_tail};
      for (std::size_t j = 0; j < columns.size(); ++j) columns[j].push_back(values[j]);
    }
  Table table("posterior");
  table.add_factor_from_strings("parameter", names, std::vector<bool>(names.size(), false));
  const char* keys[] = {"mean", "median", "sd", "conf_low", "conf_high", "rhat", "ess_bulk", "ess_tail"};
  for (std::size_t j = 0; j < columns.size(); ++j) table.add_numeric(keys[j], std::move(columns[j]));
  return table;
}

}  // namespace

Declaration dsem_declaration() { return declaration("dsem", dsem_options); }

Result run_dsem(const Json& options, const Table* data, const Face& face) {
  DsemCall call = parse_options("dsem", options, dsem_options());
  call.dsem.progress = face.progress;
  Table storage;
  const DsemResult r = fit_dsem(load_table(call.data, data, storage), call.dsem);
  if (!call.draws.empty()) write_file_atomic(call.draws, draws_csv(r));
  Result result{to_json(r), to_text(r), r.warnings, {}, {}, {}};
  if (face.spelling == Face::Spelling::language) {  // R and Python: the summaries and the draws as data frames
    result.tables.emplace_back("posterior", posterior_table(r));
    result.tables.emplace_back("draws", draws_table(r));
  }
  return result;
}

}  // namespace spiral::api::detail
