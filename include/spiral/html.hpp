// Building blocks of self-contained HTML reports: escaping, APA-style numbers, tables and
// the page frame with its style sheet. Plain data in, text out, so that any module's report
// (ipd, power) can use them without the report module depending on that module.
#pragma once
#include <string>
#include <vector>

namespace spiral::html {

// Text safe inside an element or an attribute value.
std::string escape(const std::string& text);

// APA style (7th ed.): a number with `digits` decimals and a true minus sign; "–" for NaN.
std::string number(double x, int digits = 2);
// p without a leading zero, three decimals, "< .001" below that: ".032", "< .001".
std::string p_value(double p);
// A confidence interval "[-0.12, 0.05]".
std::string interval(double low, double high, int digits = 2);

struct Table {
  std::string caption;                        // APA: above the table, in italics
  std::vector<std::string> header;            // escaped by table()
  std::vector<std::vector<std::string>> rows; // HTML (already escaped by the caller)
  std::string note;                           // HTML, below the table ("Note. ...")
  int first_numeric_column = 1;               // columns from here on are right-aligned
};
std::string table(const Table& t);

// A whole page: <!DOCTYPE html>, title, inline style sheet, body. No external resources.
std::string page(const std::string& title, const std::string& body_html);

}  // namespace spiral::html
