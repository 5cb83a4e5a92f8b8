#include "spiral/html.hpp"

#include <cmath>
#include <cstdio>

namespace spiral::html {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string number(double x, int digits) {
  if (!std::isfinite(x)) return "&ndash;";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, std::fabs(x));
  // A value that rounds to zero is shown without a sign ("0.00", not "-0.00").
  const std::string digits_text = buffer;
  std::string out;
  if (x < 0 && digits_text.find_first_not_of("0.") != std::string::npos) out = "&minus;";
  out += digits_text;
  return out;
}

std::string p_value(double p) {
  if (!std::isfinite(p)) return "&ndash;";
  if (p < 0.001) return "&lt; .001";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.3f", p);
  std::string s = buffer;
  return s[0] == '0' ? s.substr(1) : s;  // "1.000" stays
}

std::string interval(double low, double high, int digits) {
  std::string out = "[";
  out += number(low, digits);
  out += ", ";
  out += number(high, digits);
  out += "]";
  return out;
}

std::string table(const Table& t) {
  std::string out = "<figure class=\"apa-table\">\n";
  if (!t.caption.empty()) out += "<figcaption>" + t.caption + "</figcaption>\n";
  out += "<table>\n<thead><tr>";
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    out += static_cast<int>(c) >= t.first_numeric_column ? "<th class=\"num\">" : "<th>";
    out += escape(t.header[c]) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c) {
      out += static_cast<int>(c) >= t.first_numeric_column ? "<td class=\"num\">" : "<td>";
      out += row[c] + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  if (!t.note.empty()) out += "<p class=\"note\"><em>Note.</em> " + t.note + "</p>\n";
  return out + "</figure>\n";
}

namespace {

const char* style_sheet() {
  return R"css(
body { font-family: "Times New Roman", Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #111; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #999; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
.meta { color: #555; font-size: .9rem; }
.key { background: #f3f6fa; border-left: 4px solid #4a6fa5; padding: .6rem 1rem; }
figure.apa-table { margin: 1rem 0 1.4rem 0; }
figure.apa-table figcaption { font-style: italic; margin-bottom: .3rem; }
table { border-collapse: collapse; border-top: 2px solid #111; border-bottom: 2px solid #111; font-size: .92rem; }
thead th { border-bottom: 1px solid #111; font-weight: normal; padding: .25rem .6rem; text-align: left; }
td { padding: .2rem .6rem; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.note { font-size: .85rem; margin-top: .3rem; }
figure.forest { margin: 1rem 0; }
figure.forest svg { max-width: 100%; height: auto; }
details { margin: .8rem 0; }
summary { cursor: pointer; color: #234; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; font-size: .85rem; }
ul.warnings li { margin-bottom: .2rem; }
code { font-size: .9em; }
)css";
}

}  // namespace

std::string page(const std::string& title, const std::string& body_html) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         escape(title) + "</title>\n<style>" + style_sheet() + "</style>\n</head>\n<body>\n" + body_html +
         "</body>\n</html>\n";
}

}  // namespace spiral::html
