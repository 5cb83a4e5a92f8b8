// A zip archive built in memory with libzip, which is loaded on first use (as libcairo is for
// plots): the many commands and the R and Python modules that write no archive neither map
// it nor link it.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace spiral::report_detail {

// The bytes of a zip archive holding `files` (name, content) in this order, deflated, every
// entry dated 1 January 1980 so that equal contents give equal archives. AnalysisError when
// libzip.so.4 cannot be loaded or fails.
std::string zip_archive(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace spiral::report_detail
