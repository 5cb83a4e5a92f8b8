// A document as a Word file (.docx, Office Open XML, ECMA-376 Part 1): the parts
// [Content_Types].xml, _rels/.rels, word/document.xml, word/_rels/document.xml.rels,
// word/styles.xml, docProps/core.xml and the figures' word/media/image<n>.png in a zip archive. Styled for a manuscript as the APA
// Publication Manual (7th ed.) asks: Times New Roman 12 pt, double-spaced text with a
// half-inch first-line indent, headings bold (level 1 centred), tables with horizontal rules
// only, "Table N" (or "Figure N") in bold above an italic title and "Note." below.
#include <algorithm>
#include <numeric>
#include <string_view>

#include "spiral/document.hpp"
#include "markup.hpp"
#include "zip_archive.hpp"

namespace spiral::doc {
namespace {

// Twips (1/1440 inch): US Letter less 1-inch margins, upright and turned (APA allows a wide
// table on a landscape page).
constexpr long kPortraitWidth = 9360, kLandscapeWidth = 12960;
constexpr long kCellMargin = 60;

using report_detail::markup_escape;
using report_detail::table_number;

std::string run(const std::string& text, const std::string& properties = "") {
  std::string out = "<w:r>";
  if (!properties.empty()) out += "<w:rPr>" + properties + "</w:rPr>";
  return out + "<w:t xml:space=\"preserve\">" + markup_escape(text) + "</w:t></w:r>";
}

std::string span_run(const Span& s) {
  switch (s.style) {
    case Span::Style::Plain: return run(s.text);
    case Span::Style::Italic: return run(s.text, "<w:i/>");
    case Span::Style::Bold: return run(s.text, "<w:b/>");
    case Span::Style::Code: return run(s.text, "<w:rStyle w:val=\"CodeChar\"/>");
    case Span::Style::Superscript: return run(s.text, "<w:vertAlign w:val=\"superscript\"/>");
  }
  return "";
}

std::string runs(const Text& text) {
  std::string out;
  for (const Span& s : text) out += span_run(s);
  return out;
}

// A paragraph of `style` (a style id of styles_xml()), with extra paragraph properties.
std::string paragraph(const std::string& style, const std::string& content, const std::string& properties = "") {
  return "<w:p><w:pPr><w:pStyle w:val=\"" + style + "\"/>" + properties + "</w:pPr>" + content + "</w:p>";
}

// Width of text at the tables' 10 pt in twips: Times New Roman's digits and most letters are
// about half an em (100 twips), punctuation and the space about a quarter (50); a tenth more
// for safety (a number that does not fit its cell breaks in two).
long text_twips(const std::string& utf8) {
  long twips = 0;
  for (char c : utf8) {
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte
    twips += std::string_view(" .,;:()[]'|").find(c) == std::string_view::npos ? 110 : 55;
  }
  return twips;
}
std::string plain(const Text& text) {
  std::string out;
  for (const Span& s : text) out += s.text;
  return out;
}
// The widest piece the text breaks into at spaces and after hyphens.
long longest_word(const std::string& text) {
  long longest = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find_first_of(" -", start), text.size());
    longest = std::max(longest, text_twips(text.substr(start, end + (end < text.size() && text[end] == '-') - start)));
    start = end + 1;
  }
  return longest;
}

// The tables' text: 10 pt, or 9 pt for a table that fits an upright page only so.
struct TableFont {
  const char* style;  // of styles_xml()
  double scale;       // width of its text relative to 10 pt
};
constexpr TableFont kTableFont{"TableText", 1.0}, kSmallTableFont{"TableTextSmall", 0.9};

// A column's width in twips: its widest cell and the cell margins. Numbers never wrap; a
// header wraps between words; other text wraps beyond 28 characters, or with `narrowest`
// between any words (a table too wide otherwise).
std::vector<long> column_needs(const Table& t, bool narrowest, const TableFont& font) {
  std::vector<long> widths(t.header.size(), 300);
  for (std::size_t c = 0; c < t.header.size(); ++c) widths[c] = std::max(widths[c], longest_word(plain(t.header[c])));
  for (const auto& row : t.rows)
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      const std::string text = plain(row[c]);
      const bool numeric = static_cast<int>(c) >= t.first_numeric_column;
      widths[c] = std::max(widths[c], numeric      ? text_twips(text)
                                      : narrowest ? longest_word(text)
                                                  : std::min(text_twips(text), 2800L));
    }
  for (long& w : widths) w = static_cast<long>(static_cast<double>(w) * font.scale) + 2 * kCellMargin;
  return widths;
}

long sum(const std::vector<long>& widths) { return std::accumulate(widths.begin(), widths.end(), 0L); }

// Columns that fill `text_width`: the natural widths stretched when they fit; else each column
// between its narrowest and natural width, the room there is shared in proportion to what
// each lacks; else the narrowest widths shrunk.
std::vector<long> column_widths(const Table& t, long text_width, const TableFont& font) {
  const std::vector<long> natural = column_needs(t, false, font), narrowest = column_needs(t, true, font);
  const auto scaled = [&](std::vector<long> widths) {
    const double factor = static_cast<double>(text_width) / static_cast<double>(sum(widths));
    for (long& w : widths) w = static_cast<long>(static_cast<double>(w) * factor);
    return widths;
  };
  if (sum(natural) <= text_width) return scaled(natural);
  if (sum(narrowest) >= text_width) return scaled(narrowest);
  const double share = static_cast<double>(text_width - sum(narrowest)) / static_cast<double>(sum(natural) - sum(narrowest));
  std::vector<long> widths(natural.size());
  for (std::size_t c = 0; c < widths.size(); ++c)
    widths[c] = narrowest[c] + static_cast<long>(share * static_cast<double>(natural[c] - narrowest[c]));
  return widths;
}

// Too wide for an upright page even at 9 pt with its text broken between words: set on a
// landscape page (APA allows it). A table that fits upright so stays in the flow of the text,
// which a page turn would break with a part-empty page.
bool is_wide(const Table& t) { return sum(column_needs(t, true, kSmallTableFont)) > kPortraitWidth; }

// 9 pt for a table on an upright page that needs it; 10 pt else.
const TableFont& table_font(const Table& t, long text_width) {
  return text_width == kPortraitWidth && sum(column_needs(t, true, kTableFont)) > kPortraitWidth ? kSmallTableFont
                                                                                               : kTableFont;
}

std::string rule(const char* side) {
  return std::string("<w:") + side + " w:val=\"single\" w:sz=\"6\" w:space=\"0\" w:color=\"000000\"/>";
}

std::string cell(const Text& text, long width, bool numeric, bool header, const TableFont& font) {
  std::string out = "<w:tc><w:tcPr><w:tcW w:w=\"" + std::to_string(width) + "\" w:type=\"dxa\"/>";
  if (header) out += "<w:tcBorders>" + rule("bottom") + "</w:tcBorders><w:vAlign w:val=\"bottom\"/>";
  out += "</w:tcPr>";
  return out + paragraph(font.style, runs(text), numeric ? "<w:jc w:val=\"right\"/>" : "") + "</w:tc>";
}

std::string table_xml(const Table& t, const std::string& number, long text_width) {
  std::string out = paragraph("TableNumber", run("Table " + number));
  out += paragraph("TableTitle", run(t.title));
  const TableFont& font = table_font(t, text_width);
  const std::vector<long> widths = column_widths(t, text_width, font);
  out += "<w:tbl><w:tblPr><w:tblW w:w=\"" + std::to_string(text_width) +
         "\" w:type=\"dxa\"/><w:tblBorders>" + rule("top") + rule("bottom") +
         "</w:tblBorders><w:tblLayout w:type=\"fixed\"/><w:tblCellMar><w:left w:w=\"" + std::to_string(kCellMargin) +
         "\" w:type=\"dxa\"/><w:right w:w=\"" + std::to_string(kCellMargin) + "\" w:type=\"dxa\"/></w:tblCellMar><w:tblLook w:val=\"0000\"/></w:tblPr><w:tblGrid>";
  for (long w : widths) out += "<w:gridCol w:w=\"" + std::to_string(w) + "\"/>";
  out += "</w:tblGrid><w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>";
  for (std::size_t c = 0; c < t.header.size(); ++c)
    out += cell(t.header[c], widths[c], static_cast<int>(c) >= t.first_numeric_column, true, font);
  out += "</w:tr>";
  for (const auto& row : t.rows) {
    out += "<w:tr><w:trPr><w:cantSplit/></w:trPr>";
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      out += cell(row[c], widths[c], static_cast<int>(c) >= t.first_numeric_column, false, font);
    out += "</w:tr>";
  }
  out += "</w:tbl>";
  if (!t.note.empty()) out += paragraph("TableNote", run("Note.", "<w:i/>") + run(" ") + runs(t.note));
  return out;
}

// ---- figures -------------------------------------------------------------------------------

constexpr long kEmuPerTwip = 635;                    // 914400 EMU per inch
constexpr long kEmuPerPixel = 914400 / 300;          // the figures' PNGs are drawn at 300 dpi
constexpr long kFigureMaxHeight = 7 * 914400;        // leaves room for the caption on the page

// A PNG's width and height in pixels (its IHDR chunk, right after the 8-byte signature);
// 0 x 0 when the bytes are no PNG.
std::pair<long, long> png_size(const std::string& png) {
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0) return {0, 0};
  const auto word = [&](std::size_t at) {
    long v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v * 256 + static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {word(16), word(20)};
}

// The picture's size in the document (EMU): its 300-dpi size, shrunk to the text width and to
// a page's height less the caption, the aspect ratio kept.
std::pair<long, long> picture_extent(const std::string& png, long text_width_twips) {
  const auto [width_px, height_px] = png_size(png);
  double cx = static_cast<double>(width_px) * kEmuPerPixel, cy = static_cast<double>(height_px) * kEmuPerPixel;
  const double shrink = std::min({1.0, static_cast<double>(text_width_twips * kEmuPerTwip) / std::max(cx, 1.0),
                                  static_cast<double>(kFigureMaxHeight) / std::max(cy, 1.0)});
  return {static_cast<long>(cx * shrink), static_cast<long>(cy * shrink)};
}

// An inline picture (DrawingML, ECMA-376 Part 1, 20.4.2.8) of the image part `relationship`.
std::string picture_run(int number, const std::string& relationship, std::pair<long, long> extent) {
  const std::string size = "cx=\"" + std::to_string(extent.first) + "\" cy=\"" + std::to_string(extent.second) + "\"";
  const std::string id = std::to_string(number), name = "Figure " + id;
  return "<w:r><w:drawing><wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\"><wp:extent " + size +
         "/><wp:docPr id=\"" + id + "\" name=\"" + name + "\"/><wp:cNvGraphicFramePr><a:graphicFrameLocks "
         "noChangeAspect=\"1\"/></wp:cNvGraphicFramePr><a:graphic><a:graphicData "
         "uri=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"><pic:pic><pic:nvPicPr><pic:cNvPr id=\"" + id +
         "\" name=\"" + name + "\"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed=\"" + relationship +
         "\"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x=\"0\" y=\"0\"/><a:ext " +
         size + "/></a:xfrm><a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData>"
         "</a:graphic></wp:inline></w:drawing></w:r>";
}

// The relationship id of the n-th picture (word/media/image<n>.png).
std::string image_relationship(int n) { return "rIdImage" + std::to_string(n); }
std::string image_part(int n) { return "media/image" + std::to_string(n) + ".png"; }

// APA 7: "Figure N" in bold, the title in italic title case below it, the picture, the note.
std::string figure_xml(const Figure& f, int number, long text_width) {
  std::string out = paragraph("FigureNumber", run("Figure " + std::to_string(number)));
  out += paragraph("FigureTitle", run(f.title));
  out += paragraph("FigurePicture", picture_run(number, image_relationship(number), picture_extent(f.png, text_width)));
  if (!f.note.empty()) out += paragraph("TableNote", run("Note.", "<w:i/>") + run(" ") + runs(f.note));
  return out;
}

std::string heading_xml(const Heading& h) {
  const std::string style = h.level <= 1 ? "Title" : "Heading" + std::to_string(h.level - 1);
  return paragraph(style, run(h.text));
}

std::string paragraph_xml(const Paragraph& p) {
  switch (p.kind) {
    case Paragraph::Kind::Body: return paragraph("BodyText", runs(p.text));
    case Paragraph::Kind::Small: return paragraph("Small", runs(p.text));
    case Paragraph::Kind::Reference: return paragraph("Reference", runs(p.text));
  }
  return "";
}

std::string list_xml(const List& l) {
  std::string out;
  for (const auto& item : l.items) out += paragraph("ListItem", run("•") + "<w:r><w:tab/></w:r>" + runs(item));
  return out;
}

std::string preformatted_xml(const Preformatted& pre) {
  std::string out;
  std::size_t start = 0;
  while (start < pre.text.size()) {
    const std::size_t end = std::min(pre.text.find('\n', start), pre.text.size());
    out += paragraph("Code", run(pre.text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

// The page setup that ends a section: US Letter with 1-inch margins, upright or turned.
std::string section_properties(bool landscape) {
  const std::string size = landscape ? "<w:pgSz w:w=\"15840\" w:h=\"12240\" w:orient=\"landscape\"/>"
                                     : "<w:pgSz w:w=\"12240\" w:h=\"15840\"/>";
  return "<w:sectPr>" + size +
         "<w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" w:left=\"1440\" w:header=\"720\" "
         "w:footer=\"720\" w:gutter=\"0\"/></w:sectPr>";
}

// Which blocks are set on landscape pages: every section (from one level-1 or level-2 heading
// to the next) that holds a table too wide for an upright page.
std::vector<bool> landscape_blocks(const Document& document) {
  std::vector<bool> landscape(document.blocks.size(), false);
  std::size_t start = 0;
  const auto close_section = [&](std::size_t end) {
    bool wide = false;
    for (std::size_t i = start; i < end; ++i)
      if (const auto* t = std::get_if<Table>(&document.blocks[i])) wide = wide || is_wide(*t);
    for (std::size_t i = start; i < end; ++i) landscape[i] = wide;
    start = end;
  };
  for (std::size_t i = 0; i < document.blocks.size(); ++i) {
    const auto* h = std::get_if<Heading>(&document.blocks[i]);
    if (h && h->level <= 2) close_section(i);
  }
  close_section(document.blocks.size());
  return landscape;
}

// word/document.xml and the PNG of each figure it shows (word/media/image<n>.png, n from 1).
struct Body {
  std::string xml;
  std::vector<std::string> images;
};

Body document_xml(const Document& document) {
  const std::vector<bool> landscape = landscape_blocks(document);
  Body out;
  std::string body;
  int tables = 0;
  for (std::size_t i = 0; i < document.blocks.size(); ++i) {
    const Block& block = document.blocks[i];
    // A page turn: a paragraph whose properties end the section before it.
    if (i > 0 && landscape[i] != landscape[i - 1])
      body += "<w:p><w:pPr>" + section_properties(landscape[i - 1]) + "</w:pPr></w:p>";
    const long text_width = landscape[i] ? kLandscapeWidth : kPortraitWidth;
    if (const auto* h = std::get_if<Heading>(&block)) body += heading_xml(*h);
    if (const auto* p = std::get_if<Paragraph>(&block)) body += paragraph_xml(*p);
    if (const auto* l = std::get_if<List>(&block)) body += list_xml(*l);
    if (const auto* t = std::get_if<Table>(&block)) body += table_xml(*t, table_number(*t, tables), text_width);
    if (const auto* pre = std::get_if<Preformatted>(&block)) body += preformatted_xml(*pre);
    const auto* f = std::get_if<Figure>(&block);
    if (f && !f->png.empty()) {
      out.images.push_back(f->png);
      body += figure_xml(*f, static_cast<int>(out.images.size()), text_width);
    }
    // Links, boxes and disclosures belong to the page: the document flows on.
  }
  const bool last_landscape = !landscape.empty() && landscape.back();
  out.xml = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
            "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
            "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" "
            "xmlns:wp=\"http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing\" "
            "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" "
            "xmlns:pic=\"http://schemas.openxmlformats.org/drawingml/2006/picture\"><w:body>" +
            body + section_properties(last_landscape) + "</w:body></w:document>\n";
  return out;
}

// A paragraph style: id, name, paragraph and run properties (on top of the defaults:
// Times New Roman 12 pt, double spacing, no space between paragraphs).
std::string paragraph_style(const std::string& id, const std::string& name, const std::string& paragraph_properties,
                            const std::string& run_properties) {
  return "<w:style w:type=\"paragraph\" w:styleId=\"" + id + "\"><w:name w:val=\"" + name +
         "\"/><w:basedOn w:val=\"Normal\"/><w:qFormat/><w:pPr>" + paragraph_properties + "</w:pPr><w:rPr>" +
         run_properties + "</w:rPr></w:style>";
}

std::string styles_xml() {
  const std::string single = "<w:spacing w:line=\"240\" w:lineRule=\"auto\"/>";
  return std::string(
             "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
             "<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
             "<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" "
             "w:eastAsia=\"Times New Roman\" w:cs=\"Times New Roman\"/><w:sz w:val=\"24\"/><w:szCs w:val=\"24\"/>"
             "<w:lang w:val=\"en-US\"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after=\"0\" "
             "w:line=\"480\" w:lineRule=\"auto\"/></w:pPr></w:pPrDefault></w:docDefaults>"
             "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/>"
             "<w:qFormat/></w:style>") +
         paragraph_style("Title", "Title", "<w:keepNext/><w:jc w:val=\"center\"/>", "<w:b/>") +
         paragraph_style("Heading1", "heading 1", "<w:keepNext/><w:spacing w:before=\"240\"/><w:jc w:val=\"center\"/>"
                         "<w:outlineLvl w:val=\"0\"/>", "<w:b/>") +
         paragraph_style("Heading2", "heading 2", "<w:keepNext/><w:outlineLvl w:val=\"1\"/>", "<w:b/>") +
         paragraph_style("BodyText", "Body Text", "<w:ind w:firstLine=\"720\"/>", "") +
         paragraph_style("Small", "Byline", "", "<w:color w:val=\"555555\"/><w:sz w:val=\"20\"/>") +
         paragraph_style("Reference", "Reference", "<w:ind w:left=\"720\" w:hanging=\"720\"/>", "") +
         paragraph_style("ListItem", "List Item", "<w:ind w:left=\"720\" w:hanging=\"360\"/>", "") +
         paragraph_style("TableNumber", "Table Number", "<w:keepNext/><w:spacing w:before=\"240\"/>", "<w:b/>") +
         paragraph_style("TableTitle", "Table Title", "<w:keepNext/><w:spacing w:after=\"120\"/>", "<w:i/>") +
         paragraph_style("FigureNumber", "Figure Number", "<w:keepNext/><w:spacing w:before=\"240\"/>", "<w:b/>") +
         paragraph_style("FigureTitle", "Figure Title", "<w:keepNext/><w:spacing w:after=\"120\"/>", "<w:i/>") +
         paragraph_style("FigurePicture", "Figure Picture", "<w:keepNext/>" + single, "") +
         paragraph_style("TableText", "Table Text", single, "<w:sz w:val=\"20\"/><w:szCs w:val=\"20\"/>") +
         paragraph_style("TableTextSmall", "Table Text Small", single, "<w:sz w:val=\"18\"/><w:szCs w:val=\"18\"/>") +
         paragraph_style("TableNote", "Table Note", "<w:spacing w:before=\"120\" w:after=\"240\" w:line=\"240\" "
                         "w:lineRule=\"auto\"/>", "<w:sz w:val=\"20\"/><w:szCs w:val=\"20\"/>") +
         paragraph_style("Code", "Code", single, "<w:rFonts w:ascii=\"Courier New\" w:hAnsi=\"Courier New\"/>"
                         "<w:sz w:val=\"18\"/><w:szCs w:val=\"18\"/>") +
         "<w:style w:type=\"character\" w:styleId=\"CodeChar\"><w:name w:val=\"Code Char\"/><w:rPr>"
         "<w:rFonts w:ascii=\"Courier New\" w:hAnsi=\"Courier New\"/><w:sz w:val=\"18\"/></w:rPr></w:style>"
         "</w:styles>\n";
}

std::string core_xml(const Document& document) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
         "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
         "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>" +
         markup_escape(document.title) + "</dc:title><dc:creator>" + markup_escape(document.author) + "</dc:creator></cp:coreProperties>\n";
}

const char* content_types_xml() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
         "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
         "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
         "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
         "<Default Extension=\"png\" ContentType=\"image/png\"/>"
         "<Override PartName=\"/word/document.xml\" "
         "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
         "<Override PartName=\"/word/styles.xml\" "
         "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>"
         "<Override PartName=\"/docProps/core.xml\" "
         "ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/></Types>\n";
}

const char* package_rels_xml() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
         "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
         "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
         "officeDocument\" Target=\"word/document.xml\"/>"
         "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/"
         "core-properties\" Target=\"docProps/core.xml\"/></Relationships>\n";
}

// The document's relationships: its styles and each figure's picture.
std::string document_rels_xml(std::size_t images) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
      "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
      "styles\" Target=\"styles.xml\"/>";
  for (std::size_t n = 1; n <= images; ++n)
    out += "<Relationship Id=\"" + image_relationship(static_cast<int>(n)) +
           "\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" Target=\"" +
           image_part(static_cast<int>(n)) + "\"/>";
  return out + "</Relationships>\n";
}

}  // namespace

std::string to_docx(const Document& document) {
  const Body body = document_xml(document);
  std::vector<std::pair<std::string, std::string>> parts{{"[Content_Types].xml", content_types_xml()},
                                                         {"_rels/.rels", package_rels_xml()},
                                                         {"word/document.xml", body.xml},
                                                         {"word/_rels/document.xml.rels", document_rels_xml(body.images.size())},
                                                         {"word/styles.xml", styles_xml()},
                                                         {"docProps/core.xml", core_xml(document)}};
  for (std::size_t n = 1; n <= body.images.size(); ++n)
    parts.emplace_back("word/" + image_part(static_cast<int>(n)), body.images[n - 1]);
  return report_detail::zip_archive(parts);
}

}  // namespace spiral::doc
