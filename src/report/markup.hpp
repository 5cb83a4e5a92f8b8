// Text for markup (HTML, SVG, the XML parts of a .docx).
#pragma once
#include <string>
#include <string_view>

#include "spiral/document.hpp"

namespace spiral::report_detail {

// `text` safe in character data and in quoted attribute values: & < > " ' as references, and
// the control characters XML 1.0 does not allow (all below U+0020 but tab, LF and CR) left out.
std::string markup_escape(std::string_view text);

// The number after "Table ": the table's own (an appendix's "A1"), else the next of `counter`,
// so that the page and the .docx number alike.
std::string table_number(const doc::Table& table, int& counter);

}  // namespace spiral::report_detail
