// The Python face of spiral::api (specification section 8): converts Python options and
// columns to the library's JSON and Table, and the results back. No statistics here.
#include <optional>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "spiral/api.hpp"

namespace py = pybind11;
using spiral::Json;

namespace {

// Python value (None, bool, int, float, str, list/tuple, dict, numpy scalar) -> JSON.
Json to_json(const py::handle& value) {
  if (value.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) {
    try {
      return value.cast<long long>();
    } catch (const py::cast_error&) {  // beyond 64 bits: as a float, which the option's check then judges
      return value.cast<double>();
    }
  }
  if (py::isinstance<py::float_>(value)) return value.cast<double>();
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::dict>(value)) {
    Json object = Json::object();
    for (const auto& [key, item] : value.cast<py::dict>()) object[py::str(key).cast<std::string>()] = to_json(item);
    return object;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    Json array = Json::array();
    for (const auto& item : value) array.push_back(to_json(item));
    return array;
  }
  // numpy scalars and arrays, pandas Series and Index: as Python scalars and lists
  if (py::hasattr(value, "tolist")) return to_json(value.attr("tolist")());
  throw spiral::InputError("cannot pass a value of type " + py::str(value.get_type().attr("__name__")).cast<std::string>());
}

// JSON -> Python (dict, list, float, int, str, bool, None); records become DataFrames in Python.
py::object to_python(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return py::none();
    case Json::value_t::boolean: return py::bool_(value.get<bool>());
    case Json::value_t::number_integer: return py::int_(value.get<long long>());
    case Json::value_t::number_unsigned: return py::int_(value.get<unsigned long long>());
    case Json::value_t::number_float: return py::float_(value.get<double>());
    case Json::value_t::string: return py::str(value.get<std::string>());
    case Json::value_t::array: {
      py::list list;
      for (const auto& item : value) list.append(to_python(item));
      return list;
    }
    case Json::value_t::object: {
      py::dict dict;
      for (const auto& item : value.items()) dict[py::str(item.key())] = to_python(item.value());
      return dict;
    }
    default: return py::none();
  }
}

// One column from Python, as spiral/_convert.py prepares it:
// ("numeric", float64 array) | ("factor", int32 codes, levels, ordered) | ("strings", values, missing).
spiral::Column to_column(const std::string& name, const py::tuple& spec) {
  const std::string kind = spec[0].cast<std::string>();
  spiral::Column column;
  column.name = name;
  if (kind == "numeric") {
    const auto values = spec[1].cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
    column.numbers.assign(values.data(), values.data() + values.size());
  } else if (kind == "factor") {
    const auto codes = spec[1].cast<py::array_t<int, py::array::c_style | py::array::forcecast>>();
    column.kind = spiral::Column::Kind::Factor;
    column.codes.assign(codes.data(), codes.data() + codes.size());
    column.levels = spec[2].cast<std::vector<std::string>>();
    column.ordered = spec[3].cast<bool>();
  } else {
    spiral::Table one;
    one.add_factor_from_strings(name, spec[1].cast<std::vector<std::string>>(), spec[2].cast<std::vector<bool>>());
    return std::move(one.column(name));
  }
  return column;
}

// `name` is how messages name the data ("data", "newdata").
spiral::Table to_table(const py::list& columns, const char* name) {
  std::vector<spiral::Column> out;
  out.reserve(columns.size());
  for (const auto& item : columns) {
    const auto pair = item.cast<py::tuple>();
    out.push_back(to_column(pair[0].cast<std::string>(), pair[1].cast<py::tuple>()));
  }
  return spiral::table_from_columns(std::move(out), name);
}

// Table -> [(name, float64 array) | (name, (int32 codes, levels))].
py::list from_table(const spiral::Table& table) {
  py::list columns;
  for (const auto& c : table.columns()) {
    if (c.is_numeric()) columns.append(py::make_tuple(c.name, py::array_t<double>(c.numbers.size(), c.numbers.data())));
    else columns.append(py::make_tuple(c.name, py::make_tuple(py::array_t<int>(c.codes.size(), c.codes.data()), c.levels)));
  }
  return columns;
}

py::dict run(const std::string& command, const py::dict& options, const py::object& columns,
             const py::object& new_columns) {
  const Json json_options = to_json(options);
  std::optional<spiral::Table> table, new_table;
  if (!columns.is_none()) table = to_table(columns.cast<py::list>(), "data");
  if (!new_columns.is_none()) new_table = to_table(new_columns.cast<py::list>(), "newdata");
  const spiral::api::Result result =
      spiral::api::run(command, json_options, table ? &*table : nullptr, new_table ? &*new_table : nullptr);
  py::dict out;
  out["json"] = to_python(result.json);
  out["text"] = result.text;
  out["warnings"] = result.warnings;
  py::dict tables, matrices;
  for (const auto& [name, table] : result.tables) tables[py::str(name)] = from_table(table);
  for (const auto& m : result.matrices) {
    const auto k = static_cast<py::ssize_t>(m.names.size());
    matrices[py::str(m.name)] = py::make_tuple(m.names, py::array_t<double>({k, k}, m.values.data()));
  }
  out["tables"] = tables;
  out["matrices"] = matrices;
  return out;
}

}  // namespace

PYBIND11_MODULE(_spiral, m) {
  m.doc() = "spiral's C++ library (use the functions of the `spiral` package)";
  m.def("run", &run, py::arg("command"), py::arg("options"), py::arg("columns") = py::none(),
        py::arg("new_columns") = py::none());
  m.def("commands", &spiral::api::commands);
  // The CLI's errors: bad input (exit 2) raises InputError, a failed analysis (exit 1)
  // AnalysisError; both are ValueErrors (spiral/__init__.py exports them).
  static py::exception<spiral::InputError> input_error(m, "InputError", PyExc_ValueError);
  static py::exception<spiral::AnalysisError> analysis_error(m, "AnalysisError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const spiral::InputError& e) {
      input_error(e.what());
    } catch (const spiral::AnalysisError& e) {
      analysis_error(e.what());
    }
  });
}
