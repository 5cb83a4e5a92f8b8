#include "cli.hpp"

namespace spiral::cli {

// Registered by the simulate engine's issue.
void register_simulate(CLI::App&) {}

}  // namespace spiral::cli
