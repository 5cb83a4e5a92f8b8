"""Data frames in and out of spiral's C++ library (specification section 8)."""
import re

import numpy as np
import pandas as pd

from ._spiral import InputError


def referenced_names(options):
    """The names the options' text refers to (columns in formulas and column options)."""
    names = set()
    for value in options.values():
        for text in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(text, str):
                names.update(re.split(r"[^A-Za-z0-9._]+", text))
    return names


def columns_of(data, used=()):
    """A pandas DataFrame (or a dict of arrays) as the columns the library reads.

    Numeric, integer and boolean columns are numeric (missing = NaN); a Categorical keeps
    its categories in pandas' order; any other column is text whose levels the library
    sorts in byte order, as its readers do. A frame without rows, and a Categorical the
    options use (``used``) with categories no row has, are an InputError naming ``data``.
    """
    if not isinstance(data, (pd.DataFrame, dict)):
        raise InputError(f"data: expected a DataFrame, a dict of arrays or a SOURCE string, got {type(data).__name__}")
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated) > 0:
        raise InputError(f"data: duplicate column name '{duplicated[0]}'")
    if len(frame) == 0:
        raise InputError("data: the data frame has no rows")
    for name in frame.columns:
        if str(name) in used:
            _check_categories(frame[name], str(name))
    return [(str(name), _column(frame[name])) for name in frame.columns]


def _check_categories(series, name):
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return
    present = set(series.dropna().unique())
    unused = [c for c in series.cat.categories if c not in present]
    if unused:
        shown = ", ".join(f"'{c}'" for c in unused[:3])
        raise InputError(f"data: categorical '{name}' has unused categories ({shown}): "
                         "drop them with .cat.remove_unused_categories()")


def _column(series):
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [str(level) for level in series.cat.categories]
        return ("factor", series.cat.codes.to_numpy(dtype=np.int32), levels, bool(series.cat.ordered))
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return ("numeric", series.to_numpy(dtype=np.float64, na_value=np.nan))
    if _is_bool_with_missing(series):  # True/False/None: object dtype, but a bool column all the same
        return ("numeric", np.array([np.nan if pd.isna(v) else float(v) for v in series], dtype=np.float64))
    missing = series.isna().to_numpy()
    values = ["" if m else str(v) for v, m in zip(series.to_numpy(dtype=object), missing)]
    return ("strings", values, missing.tolist())


def _is_bool_with_missing(series):
    present = series.dropna()
    return series.dtype == object and len(present) > 0 and all(isinstance(v, (bool, np.bool_)) for v in present)


def frame_of(columns):
    """The library's table as a DataFrame (factors become Categoricals)."""
    data = {}
    for name, values in columns:
        if isinstance(values, tuple):
            codes, levels = values
            data[name] = pd.Categorical.from_codes(codes, categories=levels)
        else:
            data[name] = values
    return pd.DataFrame(data)


def is_records(value):
    return isinstance(value, list) and len(value) > 0 and all(isinstance(v, dict) for v in value)


def with_frames(value):
    """JSON as Python objects with every array of records (fixed, coefficients, lagged,
    pooled, results, leave1out, random, ...) as a DataFrame, recursively."""
    if isinstance(value, dict):
        return {key: with_frames(item) for key, item in value.items()}
    if is_records(value):
        return pd.DataFrame([{key: with_frames(item) for key, item in record.items()} for record in value])
    if isinstance(value, list):
        return [with_frames(item) for item in value]
    return value
