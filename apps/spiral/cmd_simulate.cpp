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

namespace spiral::cli {

namespace {

void register_simulate_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "simulate", "Simulate multi-study session-by-session data (bivariate VAR(1), random intercepts) with known truth");
  auto options = std::make_shared<ApiOptions>(*command, "simulate");
  auto output = std::make_shared<OutputOptions>();  // the summary on stdout (--out names the sessions file)
  add_output_options(*command, *options, *output, {"text", "json"}, "Format of the summary on stdout");
  command->callback([options, output] { emit(*output, run(*options, *output)); });
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

// The replications of every rank, gathered on rank 0 (api::Face::distribute). A rank whose
// share fails sends its error and exit code instead, and rank 0 throws the first of them.
std::vector<Json> gather_shares(const MpiWorld& world, const api::Face::Share& share) {
  Json mine;
  try {
    mine["results"] = share(world.rank(), world.size());
  } catch (const InputError& e) {
    mine = {{"error", e.what()}, {"code", 2}};
  } catch (const std::exception& e) {
    mine = {{"error", e.what()}, {"code", 1}};
  }
  std::vector<Json> results;
  for (const auto& text : world.gather(json_dump(mine, -1))) {
    Json part = Json::parse(text);
    if (part.contains("error")) {
      const std::string message = part["error"].get<std::string>();
      if (part["code"].get<int>() == 2) throw InputError(message);
      throw AnalysisError(message);
    }
    results.push_back(std::move(part["results"]));
  }
  return results;
}

void register_power_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "power", "Power, bias, RMSE and CI coverage of the IPD analysis by repeated simulation ([simulate] of the spec)");
  auto options = std::make_shared<ApiOptions>(*command, "power");
  auto output = std::make_shared<OutputOptions>();
  add_output_options(*command, *options, *output, {"text", "json", "csv"});
  command->callback([options, output] {
    MpiWorld world;
    std::optional<ProgressBar> bar;
    api::Face face;
    if (world.rank() == 0) {
      bar.emplace();
      if (bar->enabled())
        face.progress = [&bar](long done, long total) { bar->update(static_cast<int>(done), static_cast<int>(total)); };
    }
    if (world.size() > 1) face.distribute = [&world](const api::Face::Share& share) { return gather_shares(world, share); };
    const api::Result result = run(*options, *output, face);
    bar.reset();
    if (world.rank() == 0) emit(*output, result);
  });
}

}  // namespace

void register_simulate(CLI::App& app) {
  register_simulate_command(app);
  register_power_command(app);
}

}  // namespace spiral::cli
