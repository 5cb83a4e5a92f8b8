#include "cli.hpp"

namespace spiral::cli {

// Registered by the ipd engine's issue.
void register_ipd(CLI::App&) {}

}  // namespace spiral::cli
