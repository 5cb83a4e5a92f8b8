"""spiral from Python: the commands of the `spiral` CLI as functions (specification section 8).

Each function takes the command's options as keyword arguments (dashes become
underscores: ``--process-to-outcome`` -> ``process_to_outcome``; a flag is ``True``; a
list option is a list of strings), ``data`` as a pandas DataFrame, a dict of arrays or a
SOURCE string, and returns the command's JSON as a dict (:class:`Result`) whose arrays of
records are DataFrames, with statsmodels' attributes on top (:mod:`spiral.results`).
Bad input raises :class:`InputError`, an analysis that fails :class:`AnalysisError` (both
ValueErrors) with the CLI's message; the CLI's warnings are issued with ``warnings.warn``
(category :class:`SpiralWarning`).
"""
from __future__ import annotations

import os as _os
import warnings as _warnings
from typing import Any, Dict, Iterable, Optional, Union

import pandas as _pd

from . import _spiral
from ._convert import columns_of, referenced_names
from ._spiral import AnalysisError, InputError
from .results import DsemResult, IpdResult, LmmResult, MetaResult, PanelResult, Result, Summary

__all__ = ["lmm", "meta", "panel", "dsem", "describe", "prep", "ipd_run", "ipd_stage1", "ipd_stage2", "ipd_onestage",
           "simulate_sessions", "power_analysis", "Result", "LmmResult", "MetaResult", "PanelResult", "DsemResult", "IpdResult",
           "Summary", "SpiralWarning", "InputError", "AnalysisError"]

Data = Union[_pd.DataFrame, Dict[str, Any], str, "_os.PathLike[str]"]
PathLike = Union[str, "_os.PathLike[str]"]


class SpiralWarning(UserWarning):
    """A warning of the library (singular fit, dropped rows, ...)."""


def _raw(command: str, data: Optional[Data], options: Dict[str, Any], newdata: Optional[Data] = None) -> Dict[str, Any]:
    if isinstance(data, (str, _os.PathLike)):
        options = dict(options, data=_os.fspath(data))
        data = None
    if isinstance(newdata, (str, _os.PathLike)):
        options = dict(options, newdata=_os.fspath(newdata))
        newdata = None
    columns = None if data is None else columns_of(data, referenced_names(options))
    new_columns = None if newdata is None else columns_of(newdata)
    raw = _spiral.run(command, options, columns, new_columns)
    for message in raw["warnings"]:
        _warnings.warn(message, SpiralWarning, stacklevel=4)
    return raw


def _run(command: str, data: Optional[Data], options: Dict[str, Any], kind=Result, newdata: Optional[Data] = None,
         **extra: Any) -> Result:
    return kind(_raw(command, data, options, newdata), **extra)


def _spec(spec: Union[PathLike, str, Dict[str, Any]]) -> Dict[str, Any]:
    """A spec file, its TOML text or a dict of tables as the library's options."""
    if isinstance(spec, dict):
        return {"spec_text": _toml(spec)}
    if isinstance(spec, _os.PathLike):
        return {"spec": _os.fspath(spec)}
    if not isinstance(spec, str):
        raise InputError(f"spec: expected a file name, TOML text or a dict, got {type(spec).__name__}")
    if "\n" in spec or ("[" in spec and not _os.path.exists(spec)):
        return {"spec_text": spec}
    return {"spec": spec}


def _toml(spec: Dict[str, Any]) -> str:
    def value(table: str, key: str, v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(table, key, item) for item in v) + "]"
        raise InputError(f"spec: [{table}] {key}: expected text, numbers, booleans or a list of them")

    parts = []
    for table, entries in spec.items():
        if not isinstance(entries, dict):
            raise InputError(f"spec: [{table}] must be a dict")
        parts.append("\n".join([f"[{table}]"] + [f"{k} = {value(table, k, v)}" for k, v in entries.items()]))
    return "\n\n".join(parts) + "\n"


def lmm(formula: str, data: Data, **opts: Any) -> Union[LmmResult, Result]:
    """A linear mixed model fitted as lme4's ``lmer()`` (``spiral lmm``).

    Parameters
    ----------
    formula : str
        An lme4 formula, e.g. ``"Reaction ~ Days + (Days | Subject)"``.
    data : DataFrame, dict of arrays, or str
        The data, or a SOURCE (``"file.csv"``, ``"file.sav"``, ``"sqlite:db?table=t"``).
    **opts
        The CLI's options: ``ml=True`` (maximum likelihood), ``df="satterthwaite"|"residual"|"none"``,
        ``ar1=TIMECOL``, ``level=95``, ``ranef=True`` (conditional modes), ``compare=FORMULA``
        (likelihood-ratio test; returns a plain :class:`Result`), ``sep``, ``na``, ``labels``.

    Returns
    -------
    LmmResult
        ``params``, ``bse``, ``tvalues``, ``pvalues``, ``df_resid``, ``conf_int()``,
        ``random_effects``, ``llf``, ``aic``, ``bic``, ``summary()``, ``to_frame()``; the JSON
        keys as a dict (``result["fixed"]`` is a DataFrame).

    Raises
    ------
    InputError
        Bad input (a missing column, a malformed formula, ...), naming it.
    AnalysisError
        The model could not be fitted.
    """
    opts = dict(opts)
    newdata = opts.pop("newdata", None)
    options = dict(opts, formula=formula)
    if opts.get("compare") is not None:
        return _run("lmm", data, options)

    def rerun(**changes: Any) -> Result:  # a change to None removes the option
        return lmm(formula, data, **{k: v for k, v in dict(opts, **changes).items() if v is not None})

    return _run("lmm", data, options, LmmResult, newdata=newdata, rerun=rerun, level=float(opts.get("level", 95)))


def meta(data: Data, **opts: Any) -> MetaResult:
    """A random-effects meta-analysis as metafor's ``rma.uni()`` (``spiral meta``).

    ``data`` is a DataFrame or a SOURCE; the options name its columns: ``yi`` with ``vi`` or
    ``sei``, or ``measure`` with raw columns (``ri``, ``ni``; ``m1i``, ``sd1i``, ``n1i``, ``m2i``,
    ``sd2i``, ``n2i``; ``ai``, ``bi``, ``ci``, ``di``); further ``method``, ``test="z"|"knha"``,
    ``mods`` (a formula string), ``slab``, ``level``, ``influence``, ``leave1out``, ``egger``,
    ``trimfill``, ``forest``, ``funnel``. Returns a :class:`MetaResult` (``params``, ``bse``,
    ``conf_int()`` as the summary prints them, ``tau2``, ``conf_int_tau2()``).
    """
    return _run("meta", data, opts, MetaResult, level=float(opts.get("level", 95)))


def panel(data: Data, id: str, time: str, vars: Iterable[str], **opts: Any) -> PanelResult:
    """An RI-CLPM / CLPM by full-information ML as lavaan (``spiral panel``): ``data`` in long
    form, ``id`` and ``time`` its columns, ``vars`` the two variables; ``model="riclpm"|"clpm"``,
    ``first``, ``last``, ``level``. Returns a :class:`PanelResult` (``params`` the lagged
    effects named ``from->to``)."""
    return _run("panel", data, dict(opts, id=id, time=time, vars=list(vars)), PanelResult)


def dsem(data: Data, id: str, time: str, vars: Iterable[str], **opts: Any) -> DsemResult:
    """Lagged effects that differ between patients: the two-level VAR(1) of dynamic structural
    equation modelling sampled by Gibbs (``spiral dsem``). ``data`` in long form, ``id`` and
    ``time`` its columns, ``vars`` 2 to 4 variables; ``random="all"|"lagged"|"ar"|"none"``,
    ``between`` (moderator columns), ``cluster``, ``chains``, ``iter`` (warmup included),
    ``warmup``, ``thin``, ``seed``, ``threads``, ``first``, ``last``, ``level``,
    ``standardized``, ``draws`` (a CSV file). Returns a :class:`DsemResult` (``posterior``,
    ``draws``, ``params``, ``bse``, ``summary()``)."""
    opts = dict(opts, id=id, time=time, vars=list(vars))
    if isinstance(opts.get("between"), (list, tuple)):
        opts["between"] = list(opts["between"])
    return _run("dsem", data, opts, DsemResult)


def describe(data: Data, **opts: Any) -> Result:
    """Type, n, missing values and range or levels of every column (``spiral describe``)."""
    return _run("describe", data, opts)


def prep(spec: Union[PathLike, str, Dict[str, Any]], data: Optional[Data] = None,
         out: Optional[PathLike] = None) -> _pd.DataFrame:
    """Steps 1-3 of the stage-1 recipe (``spiral prep``): P, O, Pm, Om, Pw, Ow and their lags.

    ``spec`` is a spec file, its TOML text, or a dict of its tables
    (``{"data": {"source": ..., "study": ...}, "variables": {...}, ...}``; relative paths in
    text or a dict are relative to the working directory); ``data`` a DataFrame standing in
    for the spec's ``[data] source``; ``out`` a CSV file to write as well.
    """
    return _run("prep", data, dict(_spec(spec), out=_path(out))).tables["prepared"]


def _path(value: Optional[PathLike]) -> Optional[str]:
    return None if value is None else _os.fspath(value)


def ipd_run(spec: Union[PathLike, str, Dict[str, Any]], out: Optional[PathLike] = None, **opts: Any) -> IpdResult:
    """Two-stage IPD meta-analysis (``spiral ipd run``): stage 1 in every study, stage 2 pools
    (``threads=``); ``out`` also writes the output directory. ``pooled`` holds the pooled
    estimates, ``tables["stage1"]`` the stage-1 ones."""
    return _run("ipd_run", None, dict(opts, **_spec(spec), out=_path(out)), IpdResult)


def ipd_onestage(spec: Union[PathLike, str, Dict[str, Any]], out: Optional[PathLike] = None) -> Result:
    """The stage-1 models once over all studies (``spiral ipd onestage``); ``out`` also writes the directory."""
    return _run("ipd_onestage", None, dict(_spec(spec), out=_path(out)))


def ipd_stage1(spec: Union[PathLike, str, Dict[str, Any]], study: str, out: Optional[PathLike] = None) -> Result:
    """One study's bundle, aggregates only (``spiral ipd stage1``); ``out`` also writes the bundle file."""
    return _run("ipd_stage1", None, dict(_spec(spec), study=str(study), out=_path(out)))


def ipd_stage2(spec: Union[PathLike, str, Dict[str, Any]], bundles: Iterable[PathLike],
               out: Optional[PathLike] = None) -> IpdResult:
    """Pools the bundle files ``bundles`` (``spiral ipd stage2``)."""
    options = dict(_spec(spec), bundles=[_os.fspath(b) for b in bundles], out=_path(out))
    return _run("ipd_stage2", None, options, IpdResult)


def simulate_sessions(**opts: Any) -> Dict[str, Any]:
    """Simulated multi-study session data with known truth (``spiral simulate``): a dict with
    the ``sessions``, ``patients`` and ``truth`` DataFrames and the CLI's ``summary``; files
    are written only when named (``out=``, ``patients_out=``, ``truth=``, ``spec_out=``)."""
    result = _run("simulate", None, opts)
    return dict(result.tables, summary=dict(result))


def power_analysis(spec: PathLike, replications: int = 1000, **opts: Any) -> Result:
    """Power, bias, RMSE and CI coverage of the IPD analysis (``spiral power``), re-simulating
    the spec file's ``[simulate]`` table ``replications`` times; ``results`` is a DataFrame."""
    return _run("power", None, dict(opts, spec=_os.fspath(spec), replications=replications))
