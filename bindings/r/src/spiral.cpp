// The R face of spiral::api (specification section 8): converts R options and data frames to
// the library's JSON and Table, and the results back to lists and data frames.
// No statistics here.
#include <Rcpp.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "spiral/api.hpp"

using spiral::Json;

namespace {

// ---------------------------------------------------------------------- R -> JSON

Json scalar_json(SEXP x, R_xlen_t i) {
  switch (TYPEOF(x)) {
    case LGLSXP: return LOGICAL(x)[i] == NA_LOGICAL ? Json(nullptr) : Json(LOGICAL(x)[i] != 0);
    case INTSXP: return INTEGER(x)[i] == NA_INTEGER ? Json(nullptr) : Json(INTEGER(x)[i]);
    case REALSXP: return ISNAN(REAL(x)[i]) ? Json(nullptr) : Json(REAL(x)[i]);
    case STRSXP: return STRING_ELT(x, i) == NA_STRING ? Json(nullptr) : Json(std::string(CHAR(STRING_ELT(x, i))));
    default: throw spiral::InputError(std::string("cannot pass an R value of type ") + Rf_type2char(TYPEOF(x)));
  }
}

// NULL and list() -> null, a length-1 vector -> a scalar, a longer vector -> an array, a
// named list -> an object, an unnamed list -> an array. Factors arrive as character (R/spiral.R).
Json to_json(SEXP x) {
  if (Rf_isNull(x) || (TYPEOF(x) == VECSXP && Rf_xlength(x) == 0)) return nullptr;
  if (TYPEOF(x) == VECSXP) {
    const SEXP names = Rf_getAttrib(x, R_NamesSymbol);
    Json out = Rf_isNull(names) ? Json::array() : Json::object();
    for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) {
      if (out.is_array()) out.push_back(to_json(VECTOR_ELT(x, i)));
      else out[CHAR(STRING_ELT(names, i))] = to_json(VECTOR_ELT(x, i));
    }
    return out;
  }
  if (Rf_xlength(x) == 1) return scalar_json(x, 0);
  Json out = Json::array();
  for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) out.push_back(scalar_json(x, i));
  return out;
}

// ------------------------------------------------------------------ data.frame -> Table

spiral::Column to_column(const std::string& name, SEXP x) {
  spiral::Column c;
  c.name = name;
  const R_xlen_t n = Rf_xlength(x);
  if (Rf_isFactor(x)) {  // codes 1..k (NA) -> 0..k-1 (-1), levels in R's order
    c.kind = spiral::Column::Kind::Factor;
    c.codes.reserve(static_cast<std::size_t>(n));
    for (R_xlen_t i = 0; i < n; ++i) c.codes.push_back(INTEGER(x)[i] == NA_INTEGER ? -1 : INTEGER(x)[i] - 1);
    c.levels = Rcpp::as<std::vector<std::string>>(Rf_getAttrib(x, R_LevelsSymbol));
    c.ordered = Rf_inherits(x, "ordered");  // polynomial contrasts, as model.matrix() gives it
    return c;
  }
  switch (TYPEOF(x)) {
    case REALSXP: c.numbers.assign(REAL(x), REAL(x) + n); return c;
    case LGLSXP:  // as model.matrix() codes a logical: a factor FALSE/TRUE, so terms are named xTRUE
      c.kind = spiral::Column::Kind::Factor;
      c.levels = {"FALSE", "TRUE"};
      c.codes.reserve(static_cast<std::size_t>(n));
      for (R_xlen_t i = 0; i < n; ++i) c.codes.push_back(LOGICAL(x)[i] == NA_LOGICAL ? -1 : LOGICAL(x)[i]);
      return c;
    case INTSXP: {
      c.numbers.reserve(static_cast<std::size_t>(n));
      for (R_xlen_t i = 0; i < n; ++i) c.numbers.push_back(INTEGER(x)[i] == NA_INTEGER ? spiral::NA : INTEGER(x)[i]);
      return c;
    }
    case STRSXP: {  // text -> factor with byte-order levels, as the readers do
      std::vector<std::string> values(static_cast<std::size_t>(n));
      std::vector<bool> missing(static_cast<std::size_t>(n));
      for (R_xlen_t i = 0; i < n; ++i) {
        missing[i] = STRING_ELT(x, i) == NA_STRING;
        if (!missing[i]) values[i] = Rf_translateCharUTF8(STRING_ELT(x, i));
      }
      spiral::Table one;
      one.add_factor_from_strings(name, values, missing);
      return std::move(one.column(name));
    }
    default:
      throw spiral::InputError("data: column '" + name + "' has an unsupported type (" + Rf_type2char(TYPEOF(x)) + ")");
  }
}

// `name` is how messages name the data ("data", "newdata").
spiral::Table to_table(SEXP frame, const char* name) {
  const SEXP names = Rf_getAttrib(frame, R_NamesSymbol);
  std::vector<spiral::Column> columns;
  for (R_xlen_t j = 0; j < Rf_xlength(frame); ++j) columns.push_back(to_column(CHAR(STRING_ELT(names, j)), VECTOR_ELT(frame, j)));
  return spiral::table_from_columns(std::move(columns), name);
}

// ---------------------------------------------------------------------- JSON -> R

SEXP to_r(const Json& value);

bool is_scalar(const Json& v) { return v.is_primitive(); }

// An array of scalars (null = NA) as one atomic vector; nullptr when the types mix.
SEXP atomic_vector(const Json& array) {
  bool any_string = false, any_number = false, any_bool = false;
  for (const auto& v : array) {
    any_string |= v.is_string();
    any_number |= v.is_number();
    any_bool |= v.is_boolean();
  }
  if (any_string + any_number + any_bool > 1) return nullptr;
  const auto n = static_cast<R_xlen_t>(array.size());
  R_xlen_t i = 0;
  if (any_string) {
    Rcpp::CharacterVector out(n);
    for (const auto& v : array) out[i++] = v.is_null() ? NA_STRING : Rf_mkCharCE(v.get<std::string>().c_str(), CE_UTF8);
    return out;
  }
  if (any_bool || !any_number) {
    Rcpp::LogicalVector out(n);
    for (const auto& v : array) out[i++] = v.is_null() ? NA_LOGICAL : v.get<bool>();
    return out;
  }
  Rcpp::NumericVector out(n);
  for (const auto& v : array) out[i++] = v.is_null() ? NA_REAL : v.get<double>();
  return out;
}

// An array of equally long arrays of numbers (a correlation matrix) as an R matrix.
SEXP numeric_matrix(const Json& array) {
  const std::size_t cols = array.front().size();
  for (const auto& row : array)
    for (const auto& v : row)
      if (!row.is_array() || row.size() != cols || !(v.is_number() || v.is_null())) return nullptr;
  Rcpp::NumericMatrix out(static_cast<int>(array.size()), static_cast<int>(cols));
  for (std::size_t i = 0; i < array.size(); ++i)
    for (std::size_t j = 0; j < cols; ++j)
      out(i, j) = array[i][j].is_null() ? NA_REAL : array[i][j].get<double>();
  return out;
}

// An array of records as a data frame: a column per key (first-appearance order), atomic
// when its values are scalars, else a list column.
SEXP data_frame(const Json& records) {
  std::vector<std::string> keys;
  for (const auto& r : records)
    for (const auto& item : r.items())
      if (std::find(keys.begin(), keys.end(), item.key()) == keys.end()) keys.push_back(item.key());
  Rcpp::List columns(keys.size());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    Json column = Json::array();
    bool scalars = true;
    for (const auto& r : records) {
      column.push_back(r.contains(keys[k]) ? r[keys[k]] : Json(nullptr));
      scalars &= is_scalar(column.back());
    }
    SEXP atomic = scalars ? atomic_vector(column) : nullptr;
    if (atomic) {
      columns[k] = atomic;
      continue;
    }
    Rcpp::List list(column.size());
    for (std::size_t i = 0; i < column.size(); ++i) list[i] = to_r(column[i]);
    list.attr("class") = "AsIs";
    columns[k] = list;
  }
  columns.attr("names") = keys;
  columns.attr("row.names") = Rcpp::IntegerVector::create(NA_INTEGER, -static_cast<int>(records.size()));
  columns.attr("class") = "data.frame";
  return columns;
}

SEXP array_to_r(const Json& array) {
  if (array.empty()) return Rcpp::List(0);
  bool records = true, scalars = true, arrays = true;
  for (const auto& v : array) {
    records &= v.is_object();
    scalars &= is_scalar(v);
    arrays &= v.is_array();
  }
  if (records) return data_frame(array);
  if (scalars)
    if (SEXP atomic = atomic_vector(array)) return atomic;
  if (arrays)
    if (SEXP matrix = numeric_matrix(array)) return matrix;
  Rcpp::List out(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) out[i] = to_r(array[i]);
  return out;
}

SEXP to_r(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return Rcpp::LogicalVector::create(NA_LOGICAL);
    case Json::value_t::boolean: return Rcpp::wrap(value.get<bool>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return Rcpp::wrap(value.get<double>());
    case Json::value_t::string: return Rcpp::wrap(value.get<std::string>());
    case Json::value_t::array: return array_to_r(value);
    case Json::value_t::object: {
      Rcpp::List out(value.size());
      std::vector<std::string> names;
      std::size_t i = 0;
      for (const auto& item : value.items()) {
        names.push_back(item.key());
        out[i++] = to_r(item.value());
      }
      out.attr("names") = names;
      return out;
    }
    default: return R_NilValue;
  }
}

// ------------------------------------------------------------------ Table -> data.frame

SEXP from_table(const spiral::Table& table) {
  Rcpp::List columns(table.cols());
  std::vector<std::string> names;
  for (std::size_t j = 0; j < table.cols(); ++j) {
    const spiral::Column& c = table.columns()[j];
    names.push_back(c.name);
    if (c.is_numeric()) {  // missing (NaN) -> R's NA
      Rcpp::NumericVector numbers(c.numbers.size());
      for (std::size_t i = 0; i < c.numbers.size(); ++i) numbers[i] = spiral::is_na(c.numbers[i]) ? NA_REAL : c.numbers[i];
      columns[j] = numbers;
      continue;
    }
    Rcpp::IntegerVector codes(c.codes.size());
    for (std::size_t i = 0; i < c.codes.size(); ++i) codes[i] = c.codes[i] < 0 ? NA_INTEGER : c.codes[i] + 1;
    codes.attr("levels") = c.levels;
    codes.attr("class") = "factor";
    columns[j] = codes;
  }
  columns.attr("names") = names;
  columns.attr("row.names") = Rcpp::IntegerVector::create(NA_INTEGER, -static_cast<int>(table.rows()));
  columns.attr("class") = "data.frame";
  return columns;
}

SEXP from_matrix(const spiral::api::NamedMatrix& m) {
  const int k = static_cast<int>(m.names.size());
  Rcpp::NumericMatrix out(k, k);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) out(i, j) = m.values[static_cast<std::size_t>(i * k + j)];
  out.attr("dimnames") = Rcpp::List::create(m.names, m.names);
  return out;
}

Rcpp::List result_to_r(const spiral::api::Result& result) {
  Rcpp::List tables, matrices;
  for (const auto& [name, table] : result.tables) tables[name] = from_table(table);
  for (const auto& m : result.matrices) matrices[m.name] = from_matrix(m);
  return Rcpp::List::create(Rcpp::Named("json") = to_r(result.json), Rcpp::Named("text") = result.text,
                            Rcpp::Named("warnings") = result.warnings, Rcpp::Named("tables") = tables,
                            Rcpp::Named("matrices") = matrices);
}

}  // namespace

// spiral:::spiral_run(command, options, data, newdata): data and newdata (lmm's predict) are
// data.frames or NULL.
extern "C" SEXP spiral_run(SEXP command, SEXP options, SEXP data, SEXP newdata) {
  BEGIN_RCPP
  const std::string name = Rcpp::as<std::string>(command);
  const Json json_options = to_json(options);
  std::optional<spiral::Table> table, new_table;
  if (!Rf_isNull(data)) table = to_table(data, "data");
  if (!Rf_isNull(newdata)) new_table = to_table(newdata, "newdata");
  return result_to_r(spiral::api::run(name, json_options, table ? &*table : nullptr, new_table ? &*new_table : nullptr));
  END_RCPP
}

extern "C" void R_init_spiral(DllInfo* dll) {
  static const R_CallMethodDef methods[] = {{"spiral_run", reinterpret_cast<DL_FUNC>(&spiral_run), 4},
                                            {nullptr, nullptr, 0}};
  R_registerRoutines(dll, nullptr, methods, nullptr, nullptr);
  R_useDynamicSymbols(dll, FALSE);
}
