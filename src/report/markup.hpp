// Text for markup (HTML, SVG, the XML parts of a .docx).
#pragma once
#include <string>
#include <string_view>

namespace spiral::report_detail {

// `text` safe in character data and in quoted attribute values: & < > " ' as references, and
// the control characters XML 1.0 does not allow (all below U+0020 but tab, LF and CR) left out.
std::string markup_escape(std::string_view text);

}  // namespace spiral::report_detail
