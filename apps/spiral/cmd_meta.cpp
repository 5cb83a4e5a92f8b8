#include "cli.hpp"

namespace spiral::cli {

// Registered by the meta engine's issue.
void register_meta(CLI::App&) {}

}  // namespace spiral::cli
