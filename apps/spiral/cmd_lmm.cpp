#include "cli.hpp"

namespace spiral::cli {

// Registered by the lmm engine's issue.
void register_lmm(CLI::App&) {}

}  // namespace spiral::cli
