// R's as.character() for a double, as factor() labels the levels of a numeric
// grouping variable: the fewest significant digits (at most 15) that show the value
// to 15 digits, printed fixed or scientific, whichever is narrower (R's formatReal()
// with digits = 15 and scipen = 0; fixed wins a tie).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "spiral/formula.hpp"

namespace spiral {
namespace {

constexpr int kDigits = 15;

std::string scientific_text(double x, int significant) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*e", significant - 1, x);
  return buffer;
}

// Fewest significant digits that reproduce x rounded to 15 digits.
int significant_digits(double x) {
  const double rounded = std::strtod(scientific_text(x, kDigits).c_str(), nullptr);
  for (int sig = 1; sig < kDigits; ++sig) {
    if (std::strtod(scientific_text(x, sig).c_str(), nullptr) == rounded) return sig;
  }
  return kDigits;
}

int decimal_exponent(double x, int significant) {
  const std::string text = scientific_text(x, significant);
  return std::atoi(text.c_str() + text.find('e') + 1);
}

// An integer below 1e15 in magnitude (ids, sessions: most grouping values) has exact
// digits: its significant digits are those before the trailing zeros. Saves the printing
// and parsing above, once per level of a large grouping factor.
bool integer_digits(double x, std::string& digits, int& sig, int& e10) {
  if (!(std::fabs(x) < 1e15) || x != std::floor(x)) return false;
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(std::fabs(x))).ptr;
  digits.assign(buffer, end);
  const auto last = digits.find_last_not_of('0');
  sig = static_cast<int>(last) + 1;
  e10 = static_cast<int>(digits.size()) - 1;
  return true;
}

}  // namespace

std::string r_number_label(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Inf" : "-Inf";
  if (x == 0) return "0";
  std::string digits;
  int sig = 0, e10 = 0;
  const bool integer = integer_digits(x, digits, sig, e10);
  if (!integer) {
    sig = significant_digits(x);
    e10 = decimal_exponent(x, sig);
  }
  const int negative = x < 0 ? 1 : 0;
  const int left = e10 >= 0 ? e10 + 1 : 1;
  const int right = sig - e10 - 1 > 0 ? sig - e10 - 1 : 0;
  const int fixed_width = negative + left + (right > 0 ? right + 1 : 0);
  const int exponent_width = std::abs(e10) >= 100 ? 5 : 4;
  const int scientific_width = negative + (sig > 1 ? sig + 1 : 1) + exponent_width;
  if (fixed_width <= scientific_width) {
    if (integer) return (negative ? "-" : "") + digits;
    char buffer[400];
    std::snprintf(buffer, sizeof buffer, "%.*f", right, x);
    return buffer;
  }
  return scientific_text(x, sig);
}

}  // namespace spiral
