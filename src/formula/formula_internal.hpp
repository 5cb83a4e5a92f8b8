// Helpers shared by the formula parser and the model frame (not part of the public API).
#pragma once
#include <string>
#include <vector>

namespace spiral::detail {

// A variable name as R deparses it: backquoted unless it is a syntactic R name.
std::string r_name(const std::string& name);

// Names as R deparses them, joined by ':' (a term label, an interaction's column name).
std::string join_names(const std::vector<std::string>& names);

}  // namespace spiral::detail
