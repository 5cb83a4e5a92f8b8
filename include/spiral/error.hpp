// Errors that cross the library boundary. The CLI maps them to exit codes
// (specification section 1): InputError -> 2, AnalysisError -> 1. The bindings turn
// them into R errors / Python ValueError with the same message.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace spiral {

// Bad usage or bad input: the message names the file, line/column or option at fault.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The analysis ran but could not produce a valid result (optimizer failed, too few studies).
class AnalysisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Warnings are data: every result struct carries its list; the faces print them.
using Warnings = std::vector<std::string>;

}  // namespace spiral
