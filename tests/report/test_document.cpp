// A document rendered as HTML and as .docx (include/spiral/document.hpp): the same text in
// both, escaped; tables numbered in order; groups closed; a table too wide for an upright
// page set on a landscape page in the .docx. (No numbers from R here: the renderers print
// what they are given.)
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "spiral/document.hpp"
#include "test_support.hpp"

namespace spiral::doc {
namespace {

bool has_unzip() { return std::system("command -v unzip >/dev/null 2>&1") == 0; }

// One part of the .docx of `d`, as `unzip -p` reads it.
std::string docx_part(const Document& d, const std::string& part) {
  const std::string path = test::temp_dir("document") + "/d.docx";
  std::ofstream(path, std::ios::binary) << to_docx(d);
  std::string out;
  FILE* pipe = popen(("unzip -p '" + path + "' '" + part + "'").c_str(), "r");
  if (!pipe) return out;
  char buffer[65536];
  for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  pclose(pipe);
  return out;
}

std::string document_xml(const Document& d) { return docx_part(d, "word/document.xml"); }

Table table(const std::string& title, std::size_t columns) {
  Table t;
  t.title = title;
  for (std::size_t c = 0; c < columns; ++c) t.header.push_back({"col" + std::to_string(c)});
  std::vector<Text> row;
  for (std::size_t c = 0; c < columns; ++c) row.push_back({"[−0.123, 0.456]"});
  t.rows.push_back(row);
  t.note = {em("p"), " < .05 & more"};
  return t;
}

Document sample() {
  Document d;
  d.title = "A & B";
  d.author = "spiral test";
  d.blocks.push_back(Heading{1, "Title <1>", ""});
  d.blocks.push_back(Paragraph{{"x < y & ", em("b"), " = ", code("O ~ P"), "\x01"}});
  d.blocks.push_back(Begin{Begin::Kind::Disclosure, "More"});
  d.blocks.push_back(table("Narrow", 3));
  d.blocks.push_back(End{});
  d.blocks.push_back(Heading{2, "Wide", "wide"});
  d.blocks.push_back(table("Wide", 12));
  return d;
}

TEST(Document, HtmlEscapesTextNumbersTablesAndClosesGroups) {
  const std::string html = to_html(sample());
  EXPECT_NE(html.find("<title>A &amp; B</title>"), std::string::npos);
  EXPECT_NE(html.find("<p>x &lt; y &amp; <em>b</em> = <code>O ~ P</code>"), std::string::npos);
  EXPECT_NE(html.find("<strong>Table 1</strong><br><em>Narrow</em>"), std::string::npos);
  EXPECT_NE(html.find("<strong>Table 2</strong><br><em>Wide</em>"), std::string::npos);
  EXPECT_NE(html.find("<details><summary>More</summary>"), std::string::npos);
  EXPECT_NE(html.find("</figure>\n</details>"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"note\"><em>Note.</em> <em>p</em> &lt; .05 &amp; more</p>"), std::string::npos);
  EXPECT_NE(html.find("<h2 id=\"wide\">Wide</h2>"), std::string::npos);
}

TEST(Document, DocxHoldsTheSameTextAsWordTablesAndTurnsWideOnes) {
  if (!has_unzip()) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  const std::string xml = document_xml(sample());
  ASSERT_FALSE(xml.empty());
  EXPECT_NE(xml.find(">x &lt; y &amp; </w:t>"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos) << "no character XML 1.0 forbids";
  EXPECT_NE(xml.find("<w:rStyle w:val=\"CodeChar\"/></w:rPr><w:t xml:space=\"preserve\">O ~ P</w:t>"), std::string::npos);
  EXPECT_NE(xml.find(">Table 1</w:t>"), std::string::npos);
  EXPECT_NE(xml.find(">Table 2</w:t>"), std::string::npos);
  EXPECT_EQ(xml.find("More"), std::string::npos) << "a disclosure's label belongs to the page";
  // Two tables; the first section upright, the wide table's section turned, then the end.
  std::size_t tables = 0;
  for (auto at = xml.find("<w:tbl>"); at != std::string::npos; at = xml.find("<w:tbl>", at + 1)) ++tables;
  EXPECT_EQ(tables, 2u);
  const std::size_t turn = xml.find("<w:pPr><w:sectPr><w:pgSz w:w=\"12240\" w:h=\"15840\"/>");
  ASSERT_NE(turn, std::string::npos) << "the upright section ends before the wide table";
  EXPECT_LT(xml.find(">Narrow</w:t>"), turn);
  EXPECT_GT(xml.find(">Wide</w:t>"), turn);
  EXPECT_NE(xml.find("w:orient=\"landscape\"/>", turn), std::string::npos);
  EXPECT_NE(xml.find("<w:tblW w:w=\"12960\""), std::string::npos) << "the wide table spans the turned page";
  EXPECT_NE(xml.find("<w:tblW w:w=\"9360\""), std::string::npos) << "the narrow one the upright page";
}

// A table with a number of its own (an appendix's "A1") keeps it and does not take one of
// the text's numbers: the next unnumbered table is Table 2, on the page and in the .docx.
TEST(Document, AppendixTablesKeepTheirOwnNumbers) {
  Document d;
  d.blocks.push_back(table("First", 3));
  Table appendix = table("Appendix", 3);
  appendix.number = "A1";
  d.blocks.push_back(appendix);
  d.blocks.push_back(table("Second", 3));
  const std::string html = to_html(d);
  EXPECT_NE(html.find("<strong>Table 1</strong><br><em>First</em>"), std::string::npos);
  EXPECT_NE(html.find("<strong>Table A1</strong><br><em>Appendix</em>"), std::string::npos);
  EXPECT_NE(html.find("<strong>Table 2</strong><br><em>Second</em>"), std::string::npos);
  if (!has_unzip()) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  const std::string xml = document_xml(d);
  const std::size_t a1 = xml.find(">Table A1</w:t>");
  ASSERT_NE(a1, std::string::npos);
  EXPECT_LT(xml.find(">Table 1</w:t>"), a1);
  EXPECT_GT(xml.find(">Table 2</w:t>"), a1);
  EXPECT_EQ(xml.find(">Table 3</w:t>"), std::string::npos);
}

// A table that fits an upright page at 9 pt (numbers unbroken) stays in the flow of the text:
// no page turn, which would leave the page before it part empty.
TEST(Document, DocxKeepsATableThatFitsAt9PtUpright) {
  if (!has_unzip()) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  Document d;
  d.blocks.push_back(Heading{2, "Results", "results"});
  d.blocks.push_back(table("Seven columns", 7));
  const std::string xml = document_xml(d);
  ASSERT_FALSE(xml.empty());
  EXPECT_EQ(xml.find("landscape"), std::string::npos);
  EXPECT_NE(xml.find("<w:pStyle w:val=\"TableTextSmall\"/>"), std::string::npos);
  EXPECT_EQ(xml.find("<w:pStyle w:val=\"TableText\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<w:tblW w:w=\"9360\""), std::string::npos);
}

TEST(Document, DocxOfADocumentWithoutWideTablesStaysUpright) {
  if (!has_unzip()) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  Document d;
  d.blocks.push_back(table("Narrow", 4));
  const std::string xml = document_xml(d);
  ASSERT_FALSE(xml.empty());
  EXPECT_EQ(xml.find("landscape"), std::string::npos);
  EXPECT_NE(xml.find("<w:pgSz w:w=\"12240\" w:h=\"15840\"/>"), std::string::npos);
}

// The start of a PNG of width x height pixels: its signature and IHDR chunk (enough for the
// .docx, which reads the size from it).
std::string png_header(unsigned width, unsigned height) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  for (unsigned v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((v >> shift) & 0xFF);
  return png + std::string("\x08\x02\0\0\0", 5);
}

// A figure in the .docx: "Figure N" (bold style) and the italic title above the picture, the
// note below, the PNG as word/media/image<N>.png with its relationship and content type, sized
// by its 300 dpi and shrunk to the text width; the page shows the SVG and neither caption.
TEST(Document, DocxHoldsFiguresAsPicturesWithApaCaptions) {
  Document d;
  d.blocks.push_back(table("First", 3));
  d.blocks.push_back(Figure{"<svg>one</svg>", png_header(2400, 1200), "Forest Plot of A & B", {em("b"), " per study"}});
  d.blocks.push_back(Figure{"<svg>two</svg>", png_header(900, 600), "Second", {}});
  d.blocks.push_back(Figure{"<svg>page only</svg>", "", "", {}});
  const std::string html = to_html(d);
  EXPECT_NE(html.find("<figure class=\"forest\"><svg>one</svg></figure>"), std::string::npos);
  EXPECT_NE(html.find("<svg>page only</svg>"), std::string::npos);
  EXPECT_EQ(html.find("Forest Plot of"), std::string::npos) << "the page keeps the SVG's own title";
  if (!has_unzip()) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  const std::string xml = document_xml(d);
  const std::size_t first = xml.find("<w:pStyle w:val=\"FigureNumber\"/></w:pPr><w:r><w:t xml:space=\"preserve\">Figure 1</w:t>");
  ASSERT_NE(first, std::string::npos);
  EXPECT_GT(first, xml.find(">Table 1</w:t>"));
  EXPECT_NE(xml.find("<w:pStyle w:val=\"FigureTitle\"/></w:pPr><w:r><w:t xml:space=\"preserve\">Forest Plot of A &amp; B</w:t>"),
            std::string::npos);
  EXPECT_NE(xml.find(">Figure 2</w:t>"), std::string::npos);
  EXPECT_EQ(xml.find(">Figure 3</w:t>"), std::string::npos) << "a figure without a PNG belongs to the page";
  EXPECT_NE(xml.find("<a:blip r:embed=\"rIdImage1\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<a:blip r:embed=\"rIdImage2\"/>"), std::string::npos);
  // 2400 px at 300 dpi is 8 in: shrunk to the 6.5 in text width (5943600 EMU), the ratio kept.
  EXPECT_NE(xml.find("<wp:extent cx=\"5943600\" cy=\"2971800\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<wp:extent cx=\"2743200\" cy=\"1828800\"/>"), std::string::npos) << "3 x 2 in as drawn";
  EXPECT_NE(xml.find("<w:i/></w:rPr><w:t xml:space=\"preserve\">Note.</w:t>", first), std::string::npos);
  EXPECT_EQ(docx_part(d, "word/media/image1.png"), png_header(2400, 1200));
  EXPECT_EQ(docx_part(d, "word/media/image2.png"), png_header(900, 600));
  const std::string rels = docx_part(d, "word/_rels/document.xml.rels");
  EXPECT_NE(rels.find("Id=\"rIdImage2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/image\" "
                      "Target=\"media/image2.png\""),
            std::string::npos);
  EXPECT_NE(docx_part(d, "\\[Content_Types].xml").find("<Default Extension=\"png\" ContentType=\"image/png\"/>"),
            std::string::npos);
}

}  // namespace
}  // namespace spiral::doc
