// Output primitives shared by every command: JSON text as specification section 1 prints it,
// atomic file writes, and the small text helpers of the summary tables.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace spiral {

using Json = nlohmann::ordered_json;

// A double for JSON: null when NaN or infinite (specification section 1).
Json json_number(double x);

// JSON text with doubles printed as %.17g and non-finite numbers as null.
std::string json_dump(const Json& value, int indent = 2);

// Writes content to path through a temporary file in the same directory and a rename,
// so that a reader never sees a partial file. InputError when the directory is missing
// or not writable.
void write_file_atomic(const std::string& path, const std::string& content);

// A CSV field quoted per RFC 4180 when needed.
std::string csv_field(const std::string& text);
// A double as CSV/text: %.17g, or "NA".
std::string csv_number(double x);

}  // namespace spiral
