// Helpers shared by the readers in src/data (not part of the public API).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace spiral::detail {

// The whole file as bytes; InputError when it is missing, a directory or unreadable.
std::string read_whole_file(const std::string& path);
bool parse_number(std::string_view s, double& value);
bool is_na_token(std::string_view s, const std::vector<std::string>& extra);
// Rejects empty input, NUL bytes and invalid UTF-8, naming the line.
void check_text(std::string_view text, const std::string& name);

}  // namespace spiral::detail
