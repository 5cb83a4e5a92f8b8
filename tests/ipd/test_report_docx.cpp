// report.docx beside report.html (specification section 5.1): the same document as Word file,
// every APA table a real Word table (w:tbl), every forest plot a figure (PNG), no "nan"; it
// opens in LibreOffice (converted to PDF, its pictures on the pages); the RI-CLPM's fit per
// study as lavaan's fitMeasures() gives it (tests/reference/ipd_report.R: lavaan(model,
// missing = "ml", meanstructure = TRUE, int.ov.free = TRUE, auto.var = TRUE) per study,
// fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"))).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "spiral/document.hpp"
#include "spiral/ipd.hpp"
#include "spiral/table.hpp"
#include "test_support.hpp"
#include "tolerances.hpp"

namespace spiral {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  IpdSpec spec;
  IpdResult result;
  std::string html, docx;
};

// The tests' spec with the RI-CLPM and [labels].
const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    x.spec = load_spec(test::test_path("data/ipd/analysis.toml"));
    x.spec.panel = true;
    x.spec.labels = {{"process", "Alliance (WAI-SR)"}, {"Pw_lag1", "Alliance, previous session (within)"}};
    const IpdData data = load_data(x.spec);
    x.result = run_ipd(x.spec, data.sessions, data.patients_or_null(), 2);
    x.html = ipd_report_html(x.result, x.spec, ipd_forest_svgs(x.result, x.spec));
    x.docx = ipd_report_docx(x.result, x.spec);
    return x;
  }();
  return f;
}

bool has_program(const std::string& name) { return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0; }

std::string write_docx(const std::string& dir_name) {
  const std::string path = test::temp_dir(dir_name) + "/report.docx";
  std::ofstream(path, std::ios::binary) << fixture().docx;
  return path;
}

// One part of the archive, as `unzip -p` reads it.
std::string docx_part(const std::string& part) {
  const std::string path = write_docx("docx-part");
  std::string out;
  FILE* pipe = popen(("unzip -p '" + path + "' '" + part + "'").c_str(), "r");
  if (!pipe) return out;
  char buffer[65536];
  for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  pclose(pipe);
  return out;
}

long occurrences(const std::string& text, const std::string& what) {
  long n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The tables' titles as the page shows them ("<em>Title</em></figcaption>").
std::vector<std::string> page_table_titles(const std::string& html) {
  std::vector<std::string> titles;
  const std::regex caption("<br><em>([^<]*)</em></figcaption>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), caption); it != std::sregex_iterator(); ++it)
    titles.push_back((*it)[1]);
  return titles;
}

// The page without its inline SVG plots (whose path data is no text).
std::string without_figures(std::string html) {
  for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at))
    html.erase(at, html.find("</svg>", at) + 6 - at);
  return html;
}

TEST(IpdReportDocx, HoldsEveryTableOfThePageAsAWordTable) {
  if (!has_program("unzip")) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  const std::string xml = docx_part("word/document.xml");
  ASSERT_FALSE(xml.empty());
  const std::vector<std::string> titles = page_table_titles(fixture().html);
  EXPECT_GE(titles.size(), 20u);
  EXPECT_EQ(occurrences(xml, "<w:tbl>"), static_cast<long>(titles.size()));
  EXPECT_EQ(occurrences(fixture().html, "<figure class=\"apa-table\">"), static_cast<long>(titles.size()));
  for (const auto& title : titles) EXPECT_NE(xml.find("<w:t xml:space=\"preserve\">" + title + "</w:t>"), std::string::npos) << title;
  for (const char* table : {"Fit of the RI-CLPM per Study",
                            "Meta-Regression on Study-Level Moderators: Alliance (WAI-SR) → next-session symptoms",
                            "Stage-1 Estimates per Study, b (SE): RI-CLPM of Alliance (WAI-SR) and symptoms",
                            "Pooled Stage-1 Coefficients: RI-CLPM of Alliance (WAI-SR) and symptoms"})
    EXPECT_NE(xml.find(table), std::string::npos) << table;
  // The Method with its citations, the singular fits explained, the software and its version.
  for (const char* text : {"The process measure, Alliance (WAI-SR) (P)", "Hamaker et al., 2015", "Singular fits.",
                           "Knapp &amp; Hartung, 2003", "The analysis was run with spiral 0."})
    EXPECT_NE(xml.find(text), std::string::npos) << text;
  const std::regex printed_nan("\\b(nan|NaN|inf)\\b");
  EXPECT_FALSE(std::regex_search(xml, printed_nan));
  EXPECT_FALSE(std::regex_search(without_figures(fixture().html), printed_nan));
}

TEST(IpdReportDocx, IsStyledForAManuscript) {
  if (!has_program("unzip")) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  const std::string styles = docx_part("word/styles.xml");
  EXPECT_NE(styles.find("w:ascii=\"Times New Roman\""), std::string::npos);
  EXPECT_NE(styles.find("<w:sz w:val=\"24\"/>"), std::string::npos);  // 12 pt
  EXPECT_NE(styles.find("w:line=\"480\""), std::string::npos);        // double-spaced
  const std::string xml = docx_part("word/document.xml");
  EXPECT_EQ(xml.find("w:insideV"), std::string::npos) << "no vertical rules";
  EXPECT_EQ(xml.find("<w:left w:val"), std::string::npos) << "no vertical rules";
  EXPECT_NE(docx_part("docProps/core.xml").find("<dc:creator>spiral 0."), std::string::npos);
  EXPECT_NE(docx_part("\\[Content_Types].xml").find("wordprocessingml.document.main+xml"), std::string::npos);
}

TEST(IpdReportDocx, LibreOfficeOpensItAndWritesAPdf) {
  if (!has_program("soffice")) GTEST_SKIP() << "soffice is not installed: Debian package libreoffice-writer";
  const std::string docx = write_docx("docx-pdf");
  const std::string dir = fs::path(docx).parent_path().string();
  // A profile of its own, so that a running LibreOffice or another test does not take the call.
  const std::string command = "soffice -env:UserInstallation=file://" + dir + "/profile --headless --convert-to pdf --outdir '" +
                              dir + "' '" + docx + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const std::string pdf = test::read_text(dir + "/report.pdf");
  EXPECT_EQ(pdf.substr(0, 5), "%PDF-");
  EXPECT_GT(pdf.size(), 20000u);
  // Every forest plot is a picture on a page of the PDF (pdfimages lists each image once,
  // its alpha channel as an "smask" row).
  if (!has_program("pdfimages")) GTEST_SKIP() << "pdfimages is not installed: Debian package poppler-utils";
  FILE* pipe = popen(("pdfimages -list '" + dir + "/report.pdf'").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string list;
  char buffer[4096];
  for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) list.append(buffer, n);
  pclose(pipe);
  EXPECT_EQ(std::count(list.begin(), list.end(), '\n') - 2 - occurrences(list, " smask "),
            static_cast<long>(fixture().result.pooled.size()))
      << list;
}

// The .docx holds each pooled term's forest plot as a PNG picture under "Figure N" and the
// plot's title in italics (APA 7), numbered in reading order.
TEST(IpdReportDocx, HoldsEveryForestPlotAsAFigure) {
  if (!has_program("unzip")) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  const std::string xml = docx_part("word/document.xml");
  const long pooled = static_cast<long>(fixture().result.pooled.size());
  EXPECT_EQ(occurrences(xml, "<w:pStyle w:val=\"FigureNumber\"/>"), pooled);
  EXPECT_EQ(occurrences(xml, "<pic:pic>"), pooled);
  EXPECT_NE(xml.find(">Figure " + std::to_string(pooled) + "</w:t>"), std::string::npos);
  EXPECT_NE(xml.find(">Forest Plot of Alliance (WAI-SR) → next-session symptoms: Alliance, previous session (within)</w:t>"),
            std::string::npos);
  const std::string png = docx_part("word/media/image1.png");
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(png.find("pHYs"), std::string::npos) << "the resolution tag";
}

// The bundled example (17 studies) with the mixed models of lag 1 and the RI-CLPM only.
const IpdResult& example() {
  static const IpdResult r = [] {
    IpdSpec spec = load_spec(test::test_path("../examples/analysis.toml"));
    spec.lags = {1};
    spec.cross_level = false;
    spec.post.reset();
    const IpdData data = load_data(spec);
    return run_ipd(spec, data.sessions, data.patients_or_null(), 2);
  }();
  return r;
}

TEST(IpdReportDocx, RiclpmFitPerStudyEqualsLavaan) {
  const Table ref = read_table(test::test_path("reference/ipd_report/panel_fit.csv"));
  ASSERT_EQ(ref.rows(), example().studies.size());
  const double tol = test::tolerance::kPanelFitMeasure;
  long compared = 0;
  for (std::size_t i = 0; i < ref.rows(); ++i) {
    const std::string study = ref.column("study").text(i);
    const ModelFit* panel = nullptr;
    for (const auto& b : example().studies)
      for (const auto& m : b.models)
        if (b.study == study && m.model == "panel") panel = &m;
    ASSERT_TRUE(panel && panel->fit_measures) << study;
    const PanelFitMeasures& f = *panel->fit_measures;
    const auto value = [&](const char* column) { return ref.column(column).numbers.at(i); };
    EXPECT_EQ(panel->n_patients, std::lround(value("n_patients"))) << study;
    EXPECT_EQ(f.chisq_df, std::lround(value("df"))) << study;
    // Where lavaan's EM of the saturated model met a near-singular Sigma (S17, 42 patients), it
    // adds a ridge that spiral does not (src/panel/fiml.cpp): the saturated fits differ there.
    if (ref.column("h1_warning").text(i) == "TRUE") continue;
    EXPECT_TRUE(test::near_relative(f.chisq, value("chisq"), tol)) << study;
    EXPECT_NEAR(f.chisq_p, value("pvalue"), tol) << study;
    EXPECT_NEAR(f.CFI, value("cfi"), tol) << study;
    EXPECT_NEAR(f.TLI, value("tli"), tol) << study;
    EXPECT_NEAR(f.RMSEA, value("rmsea"), tol) << study;
    EXPECT_NEAR(f.SRMR, value("srmr"), tol) << study;
    ++compared;
  }
  EXPECT_EQ(compared, 16);
}

std::string html_text(std::string text) {  // "< .001" as the page writes it
  if (text.rfind("<", 0) == 0) text.replace(0, 1, "&lt;");
  return text;
}

// The table shows each study's fit in APA style: p, CFI, RMSEA and SRMR without the leading
// zero (".802"), TLI, which can exceed 1, with it; a study without a fitted RI-CLPM is not a row.
TEST(IpdReportDocx, RiclpmFitTableShowsEachStudy) {
  const IpdSpec spec = [] {
    IpdSpec s = load_spec(test::test_path("../examples/analysis.toml"));
    s.lags = {1};
    s.cross_level = false;
    s.post.reset();
    return s;
  }();
  const std::string html = ipd_report_html(example(), spec, ipd_forest_svgs(example(), spec));
  const std::size_t table = html.find("Fit of the RI-CLPM per Study");
  ASSERT_NE(table, std::string::npos);
  const std::string rows = html.substr(table, html.find("</table>", table) - table);
  EXPECT_EQ(occurrences(rows, "<tr>"), 1 + static_cast<long>(example().studies.size()));
  for (const auto& b : example().studies) {
    for (const auto& m : b.models) {
      if (m.model != "panel") continue;
      const PanelFitMeasures& f = *m.fit_measures;
      const std::string row = "<tr><td>" + b.study + "</td><td class=\"num\">" + std::to_string(m.n_patients) +
                              "</td><td class=\"num\">" + doc::number(f.chisq, 2) + "</td><td class=\"num\">" +
                              std::to_string(f.chisq_df) + "</td><td class=\"num\">" +
                              html_text(doc::p_value(f.chisq_p)) + "</td><td class=\"num\">" +
                              doc::number_no_leading_zero(f.CFI, 3) + "</td><td class=\"num\">" +
                              doc::number(f.TLI, 3) + "</td><td class=\"num\">" +
                              doc::number_no_leading_zero(f.RMSEA, 3) + "</td><td class=\"num\">" +
                              doc::number_no_leading_zero(f.SRMR, 3) + "</td></tr>";
      EXPECT_NE(rows.find(row), std::string::npos) << row;
    }
  }
  EXPECT_NE(rows.find("<td class=\"num\">.802</td>"), std::string::npos) << "S01's p, as lavaan's 0.8016";
}

// A federated stage 2 shows the same fit table: the bundle carries the fit measures.
TEST(IpdReportDocx, BundlesCarryTheRiclpmFit) {
  const Bundle& b = fixture().result.studies.front();
  const Bundle back = bundle_from_json(json_dump(to_json(b)), "bundle.json");
  ASSERT_EQ(back.models.size(), b.models.size());
  for (std::size_t m = 0; m < b.models.size(); ++m) {
    ASSERT_EQ(back.models[m].fit_measures.has_value(), b.models[m].fit_measures.has_value()) << b.models[m].model;
    if (!b.models[m].fit_measures) continue;
    EXPECT_EQ(back.models[m].fit_measures->chisq, b.models[m].fit_measures->chisq);
    EXPECT_EQ(back.models[m].fit_measures->chisq_df, b.models[m].fit_measures->chisq_df);
    EXPECT_EQ(back.models[m].fit_measures->SRMR, b.models[m].fit_measures->SRMR);
  }
  long with_fit = 0;
  for (const auto& m : b.models) with_fit += m.fit_measures.has_value();
  EXPECT_EQ(with_fit, 1) << "the panel model's";
}

// The tables' numbers as the page and the .docx print them, in document order.
std::vector<std::string> table_numbers(const std::string& text, const std::string& pattern) {
  std::vector<std::string> numbers;
  const std::regex number(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number); it != std::sregex_iterator(); ++it)
    numbers.push_back((*it)[1]);
  return numbers;
}

// APA numbers tables in the order the text shows them: 1, 2, 3 ... in the text, then the
// per-study tables in the appendix as A1, A2 ...; the page and the .docx number alike.
TEST(IpdReport, TablesAreNumberedInReadingOrderWithTheAppendixLast) {
  const std::vector<std::string> page = table_numbers(fixture().html, "<strong>Table ([A-Z]?[0-9]+)</strong>");
  ASSERT_GE(page.size(), 10u);
  std::size_t in_text = 0;
  while (in_text < page.size() && page[in_text] == std::to_string(in_text + 1)) ++in_text;
  ASSERT_GT(in_text, 3u);
  ASSERT_LT(in_text, page.size()) << "the per-study tables are in the appendix";
  for (std::size_t i = in_text; i < page.size(); ++i) {
    std::string appendix_number = "A";  // (appended: GCC 12 gives a false -Wrestrict on "A" + string)
    EXPECT_EQ(page[i], appendix_number += std::to_string(i - in_text + 1));
  }
  EXPECT_LT(fixture().html.find(">References</h2>"), fixture().html.find("<strong>Table A1</strong>"));
  EXPECT_NE(fixture().html.find("Each study&#39;s stage-1 estimates are in Table A1 (Appendix)."), std::string::npos);
  if (!has_program("unzip")) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  EXPECT_EQ(table_numbers(docx_part("word/document.xml"), ">Table ([A-Z]?[0-9]+)</w:t>"), page);
}

// Models and terms by readable names: no code names in the tables' titles, header or cells,
// and no code font in a table of the .docx.
TEST(IpdReport, NamesModelsAndTermsForReaders) {
  const std::string& html = fixture().html;
  for (const auto& title : page_table_titles(html))
    for (const char* code_name : {"process_to_outcome", "outcome_to_process", "panel", "_lag", "early_process"})
      EXPECT_EQ(title.find(code_name), std::string::npos) << title;
  std::string tables;  // but the failed fits' messages, which quote the formula
  for (auto at = html.find("<table>"); at != std::string::npos; at = html.find("<table>", at + 1))
    if (html.substr(html.rfind("<figcaption>", at), at - html.rfind("<figcaption>", at)).find("Left Out") == std::string::npos)
      tables += html.substr(at, html.find("</table>", at) - at);
  for (const char* code_name : {"<code>", "Pw_lag", "Ow_lag", "process_ar", "outcome_ar", ">Pm<", ">Om<", "process_to_outcome"})
    EXPECT_EQ(tables.find(code_name), std::string::npos) << code_name;
  for (const char* name : {"Alliance, previous session (within)", "Symptoms, within-patient, previous session",
                           "Alliance (WAI-SR) → symptoms (cross-lagged)", "Symptoms autoregression",
                           "Alliance (WAI-SR), patient mean", "Alliance (WAI-SR), within-patient, 2 sessions before"})
    EXPECT_NE(tables.find(name), std::string::npos) << name;
  EXPECT_NE(html.find("<h3 id=\"model-panel\">RI-CLPM of Alliance (WAI-SR) and symptoms</h3>"), std::string::npos);
  EXPECT_NE(html.find("Alliance (WAI-SR) → symptoms two sessions later"), std::string::npos);
  if (!has_program("unzip")) GTEST_SKIP() << "unzip is not installed (scripts/install-deps.sh test)";
  const std::string xml = docx_part("word/document.xml");
  for (auto at = xml.find("<w:tbl>"); at != std::string::npos; at = xml.find("<w:tbl>", at + 1))
    EXPECT_EQ(xml.substr(at, xml.find("</w:tbl>", at) - at).find("CodeChar"), std::string::npos);
}

// A table's note explains only what that table shows: the RI-CLPM's and the post-treatment
// regression's per-study tables have no singular fits to explain.
TEST(IpdReport, NotesBelongToTheirTable) {
  const std::string& html = fixture().html;
  const auto note_of = [&](const std::string& title) {
    const std::size_t at = html.find("<em>" + title + "</em>");
    if (at == std::string::npos) return std::string("(no table)");
    const std::size_t end = html.find("</figure>", at);
    const std::size_t note = html.find("<p class=\"note\">", at);
    return note < end ? html.substr(note, end - note) : std::string();
  };
  EXPECT_EQ(note_of("Stage-1 Estimates per Study, b (SE): RI-CLPM of Alliance (WAI-SR) and symptoms").find("singular"),
            std::string::npos);
  EXPECT_NE(note_of("Stage-1 Estimates per Study, b (SE): Alliance (WAI-SR) → next-session symptoms").find("singular"),
            std::string::npos)
      << "the mixed models of the test data have singular fits";
}

// The Method says its numbers equal lmerTest's and lavaan's: both are cited and listed.
TEST(IpdReport, CitesLmerTestAndLavaan) {
  const std::string& html = fixture().html;
  for (const char* text : {"lmerTest (Kuznetsova et al., 2017)", "lavaan (Rosseel, 2012)",
                           "Kuznetsova, A., Brockhoff, P. B., &amp; Christensen, R. H. B. (2017).",
                           "Journal of Statistical Software, 82</em>(13)", "Rosseel, Y. (2012).",
                           "Journal of Statistical Software, 48</em>(2)"})
    EXPECT_NE(html.find(text), std::string::npos) << text;
}

// The forest plots name their coefficient and print minus signs as the tables do.
TEST(IpdReport, ForestPlotsNameTheCoefficient) {
  const std::vector<std::string> svgs = ipd_forest_svgs(fixture().result, fixture().spec);
  ASSERT_EQ(svgs.size(), fixture().result.pooled.size());
  for (const auto& svg : svgs) {
    EXPECT_NE(svg.find("Stage-1 coefficient of "), std::string::npos);
    EXPECT_EQ(svg.find("-0.00"), std::string::npos);
    EXPECT_EQ(svg.find("−0.00<"), std::string::npos);
    EXPECT_FALSE(std::regex_search(svg, std::regex(">([^<]*[ \\[])?-[0-9]"))) << "a hyphen for a minus";
  }
  EXPECT_NE(svgs.front().find("Stage-1 coefficient of Intercept"), std::string::npos);
}

TEST(ApaNumbers, SignsLeadingZerosAndMissingValues) {
  EXPECT_EQ(doc::number(-0.1234, 3), "−0.123");
  EXPECT_EQ(doc::number(-0.0004, 3), "0.000");
  EXPECT_EQ(doc::number(std::nan(""), 2), "–");
  EXPECT_EQ(doc::number_no_leading_zero(0.9512, 3), ".951");
  EXPECT_EQ(doc::number_no_leading_zero(-0.05, 2), "−.05");
  EXPECT_EQ(doc::number_no_leading_zero(1.012, 3), "1.012");
  EXPECT_EQ(doc::number_no_leading_zero(10.5, 1), "10.5");
  EXPECT_EQ(doc::p_value(0.0004), "< .001");
  EXPECT_EQ(doc::p_value(0.0321), ".032");
  EXPECT_EQ(doc::p_value(1.0), "1.000");
  EXPECT_EQ(doc::interval(-0.151, 0.012), "[−0.15, 0.01]");
}

}  // namespace
}  // namespace spiral
