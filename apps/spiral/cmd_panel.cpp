#include "cli.hpp"

namespace spiral::cli {

// Registered by the panel engine's issue.
void register_panel(CLI::App&) {}

}  // namespace spiral::cli
