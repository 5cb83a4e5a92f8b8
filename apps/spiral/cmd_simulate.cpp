// `spiral simulate` and `spiral power` (specification section 6).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"
#include "spiral/power.hpp"
#include "spiral/simulate.hpp"

namespace spiral::cli {

namespace {

void register_simulate_command(CLI::App& app) {
  struct Options {
    SimulateOptions simulate;
    SimulateFiles files;
    OutputOptions output;  // the summary printed on stdout (--out names the sessions file)
  };
  auto options = std::make_shared<Options>();
  SimulateOptions& s = options->simulate;
  CLI::App* command = app.add_subcommand(
      "simulate", "Simulate multi-study session-by-session data (bivariate VAR(1), random intercepts) with known truth");
  command->add_option("--studies", s.studies, "Number of studies")->capture_default_str();
  command->add_option("--patients", s.patients, "Patients over all studies (unequal study sizes)")->capture_default_str();
  command->add_option("--sessions", s.sessions, "Sessions per patient (at least 3)")->capture_default_str();
  command->add_option("--seed", s.seed, "Random seed (same seed and options -> same bytes)")
      ->check(seed_value())
      ->capture_default_str();
  command->add_option("--process-to-outcome", s.process_to_outcome, "Cross-lagged effect P[t-1] -> O[t]")
      ->capture_default_str();
  command->add_option("--outcome-to-process", s.outcome_to_process, "Cross-lagged effect O[t-1] -> P[t]")
      ->capture_default_str();
  command->add_option("--process-ar", s.process_ar, "Autoregressive effect of the process")->capture_default_str();
  command->add_option("--outcome-ar", s.outcome_ar, "Autoregressive effect of the outcome")->capture_default_str();
  command->add_option("--missing", s.missing, "Share of attended sessions missed (MAR), in [0, 1)")
      ->capture_default_str();
  command->add_option("--dropout", s.dropout, "Per-session dropout hazard, in [0, 1)")->capture_default_str();
  command->add_option("--slope-sd", s.slope_sd, "SD of patients' random cross-lagged slopes")->capture_default_str();
  command->add_option("--study-sd", s.study_sd, "Between-study SD of the cross-lagged effects")->capture_default_str();
  command->add_option("--therapists-per-study", s.therapists_per_study, "Therapists per study")->capture_default_str();
  command->add_option("--out", options->files.sessions, "Sessions file (long CSV)")->required()->check(output_path());
  command->add_option("--patients-out", options->files.patients, "Per-patient file (pre/post symptoms)")
      ->check(output_path());
  command->add_option("--truth", options->files.truth, "Generating values per model x term (JSON)")
      ->check(output_path());
  command->add_option("--spec-out", options->files.spec, "Matching analysis spec with a [simulate] table")
      ->check(output_path());
  command->add_option("--format", options->output.format, "Format of the summary on stdout")
      ->check(CLI::IsMember({"text", "json"}));
  command->callback([options] {
    const SimulateFiles& f = options->files;
    check_output_files({{"--out", f.sessions}, {"--patients-out", f.patients}, {"--truth", f.truth},
                        {"--spec-out", f.spec}},
                       {});
    const SimulatedData data = simulate(options->simulate);
    write_simulation(options->simulate, data, options->files);
    emit(options->output,
         {simulation_summary_text(data, options->files), simulation_summary_json(data, options->files), ""}, {});
  });
}


// The MPI world when launched by mpirun (OpenMPI, MPICH, PMIx launchers), else one process.
// The MPI calls live in libspiral_mpi.so beside the executable (apps/spiral/mpi/plugin.cpp),
// loaded only then. MPI_Finalize runs on every exit, also when an error unwinds the command.
class MpiWorld {
 public:
  MpiWorld() {
    if (!launched_by_mpirun()) return;
    const std::filesystem::path plugin = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "libspiral_mpi.so";
    // Global: OpenMPI's own components, which it loads later, resolve symbols of libmpi.
    void* handle = dlopen(plugin.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (handle == nullptr)
      throw InputError("launched by mpirun, but this spiral has no MPI support (" + std::string(dlerror()) + ")");
    start_ = function<int(int*, int*)>(handle, "spiral_mpi_start");
    finish_ = function<void()>(handle, "spiral_mpi_finish");
    gather_length_ = function<void(int, int*)>(handle, "spiral_mpi_gather_length");
    gather_bytes_ = function<void(const char*, int, char*, const int*, const int*)>(handle, "spiral_mpi_gather_bytes");
    owns_ = start_(&rank_, &size_) == 1;
  }
  ~MpiWorld() {
    if (owns_) finish_();
  }
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Every rank's text, on rank 0 (in rank order); the others get an empty list.
  std::vector<std::string> gather(const std::string& mine) const {
    if (size_ == 1) return {mine};
    int length = static_cast<int>(mine.size());
    std::vector<int> lengths(static_cast<std::size_t>(size_));
    gather_length_(length, lengths.data());
    std::vector<int> offsets(static_cast<std::size_t>(size_), 0);
    for (std::size_t r = 1; r < offsets.size(); ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
    std::string all(rank_ == 0 ? static_cast<std::size_t>(offsets.back() + lengths.back()) : 0, '\0');
    gather_bytes_(mine.data(), length, all.data(), lengths.data(), offsets.data());
    if (rank_ != 0) return {};
    std::vector<std::string> parts;
    for (std::size_t r = 0; r < offsets.size(); ++r) {
      parts.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])));
    }
    return parts;
  }

 private:
  static bool launched_by_mpirun() {
    return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
           std::getenv("PMIX_RANK") != nullptr;
  }
  template <typename Signature>
  static Signature* function(void* handle, const char* name) {
    void* address = dlsym(handle, name);
    if (address == nullptr) throw InputError(std::string("libspiral_mpi.so has no ") + name);
    return reinterpret_cast<Signature*>(address);
  }
  int rank_ = 0, size_ = 1;
  bool owns_ = false;
  int (*start_)(int*, int*) = nullptr;
  void (*finish_)() = nullptr;
  void (*gather_length_)(int, int*) = nullptr;
  void (*gather_bytes_)(const char*, int, char*, const int*, const int*) = nullptr;
};

// "[#####.....]  12/100  ETA 3m05s" redrawn on stderr, only when stderr is a terminal.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() {
    if (drawn_) std::cerr << '\n';
  }
  bool enabled() const { return enabled_; }
  void update(int done, int total) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = done > 0 ? elapsed * (total - done) / done : 0.0;
    const int width = 30, filled = total > 0 ? width * done / total : width;
    const long seconds = std::lround(eta);
    char line[160];
    std::snprintf(line, sizeof line, "\rspiral power: [%s%s] %d/%d  ETA %ldm%02lds ", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                  std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done, total, seconds / 60,
                  seconds % 60);
    std::cerr << line << std::flush;
    drawn_ = true;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

// This rank's replications as text for the gather: the results, or the error and its exit code.
std::string run_share(const PowerPlan& plan, const MpiWorld& world, int threads, ProgressBar* bar) {
  std::function<void(int, int)> progress;
  if (bar != nullptr && bar->enabled()) progress = [bar](int done, int total) { bar->update(done, total); };
  Json share;
  try {
    share["results"] = to_json(run_replications(plan, world.rank(), world.size(), threads, progress));
  } catch (const InputError& e) {
    share = {{"error", e.what()}, {"code", 2}};
  } catch (const std::exception& e) {
    share = {{"error", e.what()}, {"code", 1}};
  }
  return json_dump(share, -1);
}

void register_power_command(CLI::App& app) {
  struct Options {
    PowerOptions power;
    std::uint64_t seed = 0;
    OutputOptions output;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "power", "Power, bias, RMSE and CI coverage of the IPD analysis by repeated simulation ([simulate] of the spec)");
  command->add_option("--spec", options->power.spec, "Analysis spec with a [simulate] table (spiral simulate --spec-out)")
      ->required();
  command->add_option("--replications", options->power.replications, "Number of simulated data sets")
      ->capture_default_str();
  command->add_option("--threads", options->power.threads, "Worker threads (0 = all cores)")
      ->check(non_negative_integer())
      ->capture_default_str();
  auto* seed = command->add_option("--seed", options->seed, "Master seed (default: the spec's [simulate] seed)")
                   ->check(seed_value());
  add_output_options(*command, options->output);
  command->callback([options, seed] {
    if (seed->count() > 0) options->power.seed = options->seed;
    check_output_files({{"--out", options->output.out}}, {options->power.spec});
    MpiWorld world;
    const PowerPlan plan = plan_power(options->power);
    std::optional<ProgressBar> bar;
    if (world.rank() == 0) bar.emplace();
    const std::vector<std::string> shares =
        world.gather(run_share(plan, world, options->power.threads, bar ? &*bar : nullptr));
    bar.reset();
    if (world.rank() != 0) return;
    std::vector<ReplicationResult> all;
    for (const auto& text : shares) {
      const Json share = Json::parse(text);
      if (share.contains("error")) {
        const std::string message = share["error"].get<std::string>();
        if (share["code"].get<int>() == 2) throw InputError(message);
        throw AnalysisError(message);
      }
      auto part = replications_from_json(share["results"]);
      all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
    const PowerResult result = summarize_power(plan, std::move(all));
    emit(options->output, {to_text(result), to_json(result), to_csv(result)}, result.warnings);
  });
}

}  // namespace

void register_simulate(CLI::App& app) {
  register_simulate_command(app);
  register_power_command(app);
}

}  // namespace spiral::cli
