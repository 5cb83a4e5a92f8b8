// A report as a document: headings, paragraphs of styled text, APA 7 tables, figures, built
// once from the results and rendered twice, as a self-contained HTML page and as a Word
// document (.docx), so that the two never say different things. Text is plain UTF-8 (the
// renderers escape it); APA number formatting lives here for every report.
#pragma once
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace spiral::doc {

// A run of text in one style.
struct Span {
  enum class Style { Plain, Italic, Bold, Code, Superscript };
  std::string text;
  Style style = Style::Plain;
  Span(std::string t, Style s = Style::Plain) : text(std::move(t)), style(s) {}
  Span(const char* t) : text(t) {}
};
using Text = std::vector<Span>;  // a paragraph's, list item's or table cell's content

inline Span em(std::string text) { return {std::move(text), Span::Style::Italic}; }
inline Span strong(std::string text) { return {std::move(text), Span::Style::Bold}; }
inline Span code(std::string text) { return {std::move(text), Span::Style::Code}; }
inline Span sup(std::string text) { return {std::move(text), Span::Style::Superscript}; }

struct Heading {
  int level = 2;       // 1 = the document's title, 2 = a section, 3 = a subsection
  std::string text;
  std::string anchor;  // HTML id ("" = none)
};

struct Paragraph {
  enum class Kind { Body, Small, Reference };  // Small: a by-line; Reference: hanging indent
  Text text;
  Kind kind = Kind::Body;
};

struct List {
  std::vector<Text> items;
};

// An APA 7 table: "Table N" (bold) and its title (italic) above, "Note." below; numbered in
// the order of the document unless it has a number of its own (an appendix's "A1"). Only
// horizontal rules, at the top, below the header, at the bottom.
struct Table {
  std::string title;
  std::string number;           // "" = the next number in document order
  std::vector<Text> header;
  std::vector<std::vector<Text>> rows;
  Text note;                    // without the leading "Note."
  int first_numeric_column = 1; // columns from here on are right-aligned
};

// A figure: the HTML page shows the inline SVG (which carries its own title); the .docx shows
// the PNG under "Figure N" (bold) and its title (italic) as APA 7 sets a figure, with the note
// below. Either may be empty: the renderer that needs it then leaves the figure out.
struct Figure {
  std::string svg;    // inline SVG for the page
  std::string png;    // PNG bytes for the .docx, drawn at 300 dpi (its size in the document)
  std::string title;  // the .docx caption's title
  Text note;          // the .docx caption's note, without the leading "Note." ({} = none)
};

struct Preformatted {
  std::string text;
};

// Links to anchors (the HTML page's table of contents; not in the .docx).
struct Links {
  std::vector<std::pair<std::string, std::string>> targets;  // anchor, text
};

// A group of blocks until the matching End: a highlighted box, or (in HTML) a disclosure
// that readers open. In the .docx both are plain flow (a document has no disclosures).
struct Begin {
  enum class Kind { Box, Disclosure };
  Kind kind = Kind::Box;
  std::string summary;  // the disclosure's label
};
struct End {};

using Block = std::variant<Heading, Paragraph, List, Table, Figure, Preformatted, Links, Begin, End>;

struct Document {
  std::string title;   // the HTML <title> and the .docx's document property
  std::string author;  // the .docx's creator (e.g. "spiral 0.1.0")
  std::vector<Block> blocks;
};

// The whole page: <!DOCTYPE html>, inline style sheet, no external resources; readable on a
// phone (wide tables scroll within their frame).
std::string to_html(const Document& document);
// The .docx (Office Open XML) as bytes: Times New Roman 12 pt, double-spaced text, APA tables
// as real Word tables (w:tbl), figures as PNG pictures numbered "Figure N" in document order,
// US Letter with 1-inch margins. AnalysisError when libzip
// (libzip.so.4, loaded on first use) is not there.
std::string to_docx(const Document& document);

// ---------------------------------------------------------------- APA 7 numbers (plain text)

// `digits` decimals with a true minus sign ("−0.12"); "–" for NaN or infinity; a value that
// rounds to zero has no sign.
std::string number(double x, int digits = 2);
// The same without the leading zero, for values that cannot exceed 1 in size (".95").
std::string number_no_leading_zero(double x, int digits = 3);
// p: three decimals without the leading zero, "< .001" below that; "–" for NaN.
std::string p_value(double p);
// "[−0.12, 0.05]"
std::string interval(double low, double high, int digits = 2);

}  // namespace spiral::doc
