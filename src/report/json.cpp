#include <cmath>
#include <cstdio>

#include "spiral/report.hpp"

namespace spiral {

Json json_number(double x) {
  if (!std::isfinite(x)) return nullptr;
  return x;
}

namespace {

void write_string(std::string& out, const std::string& s) {
  // nlohmann's serializer escapes strings exactly as JSON requires (and rejects bad UTF-8,
  // which we replace rather than throw on).
  out += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

void write_double(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  out += buffer;
}

void write_value(std::string& out, const Json& v, int indent, int depth) {
  const auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * d), ' ');
  };
  switch (v.type()) {
    case Json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        newline(depth + 1);
        write_string(out, it.key());
        out += indent < 0 ? ":" : ": ";
        write_value(out, it.value(), indent, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    case Json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      // Arrays of plain numbers stay on one line: they are vectors (sd, theta, cor rows).
      bool scalars = true;
      for (const auto& e : v) scalars = scalars && e.is_primitive();
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += scalars && indent >= 0 ? ", " : ",";
        first = false;
        if (!scalars) newline(depth + 1);
        write_value(out, e, indent, depth + 1);
      }
      if (!scalars) newline(depth);
      out += ']';
      return;
    }
    case Json::value_t::number_float:
      write_double(out, v.get<double>());
      return;
    default:
      out += v.dump();
      return;
  }
}

}  // namespace

std::string json_dump(const Json& value, int indent) {
  std::string out;
  write_value(out, value, indent, 0);
  out += '\n';
  return out;
}

std::string csv_number(double x) {
  if (std::isnan(x)) return "NA";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

}  // namespace spiral
