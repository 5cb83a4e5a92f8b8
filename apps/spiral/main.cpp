// spiral command-line entry point: parses the command line, runs the chosen command,
// and maps errors to the contract's exit codes (0 ok, 1 analysis failed, 2 bad input).
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spiral: session-by-session psychotherapy process research"};
  app.set_version_flag("--version", std::string("spiral ") + SPIRAL_VERSION);
  app.require_subcommand(1);
  spiral::cli::register_describe(app);
  spiral::cli::register_lmm(app);
  spiral::cli::register_meta(app);
  spiral::cli::register_panel(app);
  spiral::cli::register_ipd(app);
  spiral::cli::register_simulate(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(2, e.what());
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
