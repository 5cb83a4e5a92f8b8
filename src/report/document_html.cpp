// A document as one self-contained HTML page (include/spiral/document.hpp), and the APA 7
// number formats every report uses.
#include <cmath>
#include <cstdio>

#include "spiral/document.hpp"
#include "markup.hpp"

namespace spiral::doc {

std::string number(double x, int digits) {
  if (!std::isfinite(x)) return "–";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, std::fabs(x));
  // A value that rounds to zero is shown without a sign ("0.00", not "−0.00").
  const std::string digits_text = buffer;
  std::string out;
  if (x < 0 && digits_text.find_first_not_of("0.") != std::string::npos) out = "−";
  out += digits_text;
  return out;
}

std::string number_no_leading_zero(double x, int digits) {
  std::string out = number(x, digits);
  const std::string minus = "−";
  const std::size_t start = out.compare(0, minus.size(), minus) == 0 ? minus.size() : 0;
  if (out.compare(start, 2, "0.") == 0) out.erase(start, 1);
  return out;
}

std::string p_value(double p) {
  if (!std::isfinite(p)) return "–";
  if (p < 0.001) return "< .001";
  return number_no_leading_zero(p, 3);  // "1.000" keeps its digit
}

std::string interval(double low, double high, int digits) {
  std::string out = "[";
  out += number(low, digits);
  out += ", ";
  out += number(high, digits);
  out += "]";
  return out;
}

namespace {

std::string tagged(const char* tag, const std::string& html) {
  std::string out = "<";
  out += tag;
  out += ">" + html + "</";
  out += tag;
  return out + ">";
}

std::string text_html(const Text& text) {
  std::string out;
  for (const Span& s : text) {
    const std::string t = report_detail::markup_escape(s.text);
    switch (s.style) {
      case Span::Style::Plain: out += t; break;
      case Span::Style::Italic: out += tagged("em", t); break;
      case Span::Style::Bold: out += tagged("strong", t); break;
      case Span::Style::Code: out += tagged("code", t); break;
      case Span::Style::Superscript: out += tagged("sup", t); break;
    }
  }
  return out;
}

std::string cell_tag(const char* tag, bool numeric) {
  std::string out = "<";
  out += tag;
  return out + (numeric ? " class=\"num\">" : ">");
}

std::string table_html(const Table& t, const std::string& number) {
  std::string out = "<figure class=\"apa-table\">\n<figcaption><strong>Table " + number +
                    "</strong><br><em>" + report_detail::markup_escape(t.title) + "</em></figcaption>\n<div class=\"scroll\"><table>\n<thead><tr>";
  for (std::size_t c = 0; c < t.header.size(); ++c)
    out += cell_tag("th", static_cast<int>(c) >= t.first_numeric_column) + text_html(t.header[c]) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c)
      out += cell_tag("td", static_cast<int>(c) >= t.first_numeric_column) + text_html(row[c]) + "</td>";
    out += "</tr>\n";
  }
  out += "</tbody>\n</table></div>\n";
  if (!t.note.empty()) out += "<p class=\"note\"><em>Note.</em> " + text_html(t.note) + "</p>\n";
  return out + "</figure>\n";
}

std::string heading_html(const Heading& h) {
  std::string tag = "h";
  tag += std::to_string(h.level);
  std::string out = "<";
  out += tag;
  if (!h.anchor.empty()) out += " id=\"" + report_detail::markup_escape(h.anchor) + "\"";
  return out + ">" + report_detail::markup_escape(h.text) + "</" + tag + ">\n";
}

std::string paragraph_html(const Paragraph& p) {
  switch (p.kind) {
    case Paragraph::Kind::Body: return "<p>" + text_html(p.text) + "</p>\n";
    case Paragraph::Kind::Small: return "<p class=\"meta\">" + text_html(p.text) + "</p>\n";
    case Paragraph::Kind::Reference: return "<p class=\"reference\">" + text_html(p.text) + "</p>\n";
  }
  return "";
}

std::string list_html(const List& l) {
  std::string out = "<ul>\n";
  for (const auto& item : l.items) out += "<li>" + text_html(item) + "</li>\n";
  return out + "</ul>\n";
}

std::string links_html(const Links& l) {
  std::string out = "<p class=\"links\">";
  for (const auto& [anchor, text] : l.targets) out += "<a href=\"#" + report_detail::markup_escape(anchor) + "\">" + report_detail::markup_escape(text) + "</a> ";
  return out + "</p>\n";
}

std::string begin_html(const Begin& b) {
  if (b.kind == Begin::Kind::Box) return "<div class=\"key\">\n";
  return "<details><summary>" + report_detail::markup_escape(b.summary) + "</summary>\n";
}

const char* style_sheet() {
  return R"css(
body { font-family: "Times New Roman", Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #111; line-height: 1.45; overflow-wrap: break-word; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #999; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
.meta { color: #555; font-size: .9rem; }
.links a { margin-right: .8rem; white-space: nowrap; }
.key { background: #f3f6fa; border-left: 4px solid #4a6fa5; padding: .1rem 1rem; }
.reference { padding-left: 2em; text-indent: -2em; }
figure.apa-table { margin: 1.2rem 0 1.4rem 0; }
figure.apa-table figcaption { margin-bottom: .4rem; line-height: 1.6; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; border-top: 1px solid #111; border-bottom: 1px solid #111; font-size: .92rem; }
thead th { border-bottom: 1px solid #111; font-weight: normal; padding: .25rem .6rem; text-align: left;
           vertical-align: bottom; }
td { padding: .2rem .6rem; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
p.note { font-size: .85rem; margin-top: .3rem; }
figure.forest { margin: 1rem 0; }
figure.forest svg { max-width: 100%; height: auto; }
details { margin: .8rem 0; }
summary { cursor: pointer; color: #234; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; font-size: .85rem; }
code { font-size: .9em; }
td code { color: #555; }
@media (max-width: 40rem) {
  body { margin: 1rem auto; padding: 0 .7rem; }
  h1 { font-size: 1.3rem; }
  h2 { font-size: 1.15rem; }
  .key { padding: .1rem .7rem; }
  .key ul { padding-left: 1.1rem; }
  thead th, td { padding: .2rem .35rem; }
  figure.forest { overflow-x: auto; }
  figure.forest svg { min-width: 36rem; }  /* its text stays readable: the plot scrolls instead */
}
)css";
}

}  // namespace

std::string to_html(const Document& document) {
  std::string body;
  int tables = 0;
  std::vector<Begin::Kind> open;  // the groups begun and not yet ended
  for (const Block& block : document.blocks) {
    if (const auto* h = std::get_if<Heading>(&block)) body += heading_html(*h);
    if (const auto* p = std::get_if<Paragraph>(&block)) body += paragraph_html(*p);
    if (const auto* l = std::get_if<List>(&block)) body += list_html(*l);
    if (const auto* t = std::get_if<Table>(&block)) body += table_html(*t, report_detail::table_number(*t, tables));
    const auto* f = std::get_if<Figure>(&block);
    if (f && !f->svg.empty()) body += "<figure class=\"forest\">" + f->svg + "</figure>\n";
    if (const auto* pre = std::get_if<Preformatted>(&block)) body += "<pre>" + report_detail::markup_escape(pre->text) + "</pre>\n";
    if (const auto* l = std::get_if<Links>(&block)) body += links_html(*l);
    if (const auto* b = std::get_if<Begin>(&block)) {
      body += begin_html(*b);
      open.push_back(b->kind);
    }
    if (std::holds_alternative<End>(block) && !open.empty()) {
      body += open.back() == Begin::Kind::Box ? "</div>\n" : "</details>\n";
      open.pop_back();
    }
  }
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         report_detail::markup_escape(document.title) + "</title>\n<style>" + style_sheet() + "</style>\n</head>\n<body>\n" + body +
         "</body>\n</html>\n";
}

}  // namespace spiral::doc
