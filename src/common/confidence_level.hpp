// --level, the confidence level in percent (specification: `--level 95`), checked alike by every
// command that reports intervals.
#pragma once
#include <fmt/format.h>

#include "spiral/error.hpp"

namespace spiral::detail {

// An InputError outside (0, 100); a warning at or below 1, which is most likely a proportion
// (R's confint(level = 0.95)) and would give 0.95% intervals.
inline void check_confidence_level(double level, Warnings& warnings) {
  if (!(level > 0 && level < 100))
    throw InputError(fmt::format("--level: expected a percentage between 0 and 100, got {}", level));
  if (level <= 1)
    warnings.push_back(fmt::format("--level {0} is a percentage: the intervals are {0}% intervals (95 gives 95% ones)", level));
}

}  // namespace spiral::detail
