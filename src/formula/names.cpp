#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "formula/formula_internal.hpp"

namespace spiral::detail {
namespace {

bool is_reserved_word(const std::string& name) {
  static constexpr std::array<std::string_view, 19> reserved = {
      "if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE", "NULL",
      "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_", "in"};
  return std::find(reserved.begin(), reserved.end(), name) != reserved.end();
}

// R's isValidName(): a letter or '.' not followed by a digit, then letters, digits, '.', '_'
// (non-ASCII bytes count as letters, as in a UTF-8 locale), and not a reserved word.
bool is_syntactic(const std::string& name) {
  if (name.empty()) return false;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(name[i]); };
  const auto letter = [](unsigned char c) { return std::isalpha(c) || c >= 0x80; };
  if (!letter(byte(0)) && byte(0) != '.') return false;
  if (byte(0) == '.' && name.size() > 1 && std::isdigit(byte(1))) return false;
  for (std::size_t i = 1; i < name.size(); ++i) {
    const unsigned char c = byte(i);
    if (!letter(c) && !std::isdigit(c) && c != '.' && c != '_') return false;
  }
  if (name == "..." || (name.size() > 2 && name.rfind("..", 0) == 0 &&
                        std::all_of(name.begin() + 2, name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))) {
    return false;
  }
  return !is_reserved_word(name);
}

}  // namespace

std::string r_name(const std::string& name) { return is_syntactic(name) ? name : "`" + name + "`"; }

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ':';
    out += r_name(n);
  }
  return out;
}

}  // namespace spiral::detail
