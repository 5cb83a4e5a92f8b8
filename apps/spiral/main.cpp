// spiral command-line entry point: parses the command line, runs the chosen command,
// and maps errors to the exit codes of specification section 1 (0 ok, 1 analysis failed, 2 bad input).
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli.hpp"

namespace {

int fail(int code, const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::cerr << "spiral: error: " << line << '\n';
  return code;
}

bool is_command(const CLI::App& app, const std::string& name) {
  for (const CLI::App* command : app.get_subcommands({})) {
    if (command->check_name(name)) return true;
  }
  return false;
}

// A command is one short process that allocates and frees the same large blocks (model
// matrices, factors) many times: keep freed memory in the heap instead of handing it back
// to the kernel and faulting it in again (glibc's default thresholds are 128 KB; with
// 256 MB, spiral lmm on 21,000 rows takes 15% less time).
void keep_freed_memory() {
#if defined(__GLIBC__)
  constexpr int kThreshold = 256 << 20;
  mallopt(M_MMAP_THRESHOLD, kThreshold);
  mallopt(M_TRIM_THRESHOLD, kThreshold);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  CLI::App app{"spiral: session-by-session psychotherapy process research"};
  app.set_version_flag("--version", std::string("spiral ") + SPIRAL_VERSION);
  app.require_subcommand(1);
  spiral::cli::register_data_commands(app);
  spiral::cli::register_ipd(app);
  spiral::cli::register_simulate(app);
  try {
    if (argc > 1 && argv[1][0] != '-' && !is_command(app, argv[1])) {
      throw spiral::InputError(std::string("unknown command '") + argv[1] + "' (see spiral --help)");
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(2, e.what());  // CLI11 names the option at fault
  } catch (const spiral::InputError& e) {
    return fail(2, e.what());
  } catch (const spiral::AnalysisError& e) {
    return fail(1, e.what());
  } catch (const std::bad_alloc&) {
    return fail(1, "out of memory");
  } catch (const std::exception& e) {
    return fail(1, std::string("internal error: ") + e.what());
  }
  return 0;
}
