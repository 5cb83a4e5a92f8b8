"""spiral from Python: the commands of the `spiral` CLI as functions (specification section 8).

Each function takes the command's options as keyword arguments (dashes become
underscores: ``--process-to-outcome`` -> ``process_to_outcome``; a flag is ``True``; a
list option is a list of strings), ``data`` as a pandas DataFrame, a dict of arrays or a
SOURCE string, and returns the command's JSON as a dict (:class:`Result`) whose arrays of
records are DataFrames. Bad input raises ValueError with the CLI's message; the CLI's
warnings are issued with ``warnings.warn`` (category :class:`SpiralWarning`).
"""
import os as _os
import warnings as _warnings

import pandas as _pd

from . import _spiral
from ._convert import columns_of, frame_of, with_frames

__all__ = ["lmm", "meta", "panel", "describe", "prep", "ipd_run", "ipd_stage1", "ipd_stage2", "ipd_onestage", "simulate_sessions", "power_analysis",
           "Result", "SpiralWarning"]


class SpiralWarning(UserWarning):
    """A warning of the library (singular fit, dropped rows, ...)."""


class Result(dict):
    """A command's JSON as a dict. ``text`` is the CLI's text table (``print(result)``
    shows it), ``tables`` further data frames (``ranef``), ``vcov`` the covariance matrix
    of the coefficients where the command has one (else None)."""

    def __init__(self, raw):
        super().__init__(with_frames(raw["json"]))
        self.text = raw["text"]
        self.warnings = list(raw["warnings"])
        self.tables = {name: frame_of(columns) for name, columns in raw["tables"].items()}
        self.vcov = None
        if "vcov" in raw["matrices"]:
            names, values = raw["matrices"]["vcov"]
            self.vcov = _pd.DataFrame(values, index=names, columns=names)

    def __str__(self):
        return self.text


def _run(command, data, options):
    if isinstance(data, (str, _os.PathLike)):
        options = dict(options, data=_os.fspath(data))
        data = None
    columns = None if data is None else columns_of(data)
    result = Result(_spiral.run(command, options, columns))
    for message in result.warnings:
        _warnings.warn(message, SpiralWarning, stacklevel=3)
    return result


def lmm(formula, data, **opts):
    """``spiral lmm``: a linear mixed model as lme4/lmerTest (``compare=``, ``ranef=True``, ``ml=True``, ...)."""
    return _run("lmm", data, dict(opts, formula=formula))


def meta(data, **opts):
    """``spiral meta``: random-effects meta-analysis as metafor's rma.uni (``yi=``, ``vi=``, ``method=``, ...)."""
    return _run("meta", data, opts)


def panel(data, id, time, vars, **opts):
    """``spiral panel``: RI-CLPM / CLPM by FIML as lavaan (``model=``, ``first=``, ``last=``, ``level=``)."""
    return _run("panel", data, dict(opts, id=id, time=time, vars=vars))


def describe(data, **opts):
    """``spiral describe``: type, n, missing, range or levels of every column."""
    return _run("describe", data, opts)


def prep(spec, out=None):
    """``spiral prep``: steps 1-3 of the stage-1 recipe (P, O, Pm, Om, Pw, Ow, lags) as a DataFrame;
    ``out`` also writes the CSV."""
    return _run("prep", None, {"spec": str(spec), "out": _path(out)}).tables["prepared"]


def _path(value):
    return None if value is None else str(value)


def ipd_run(spec, out=None, **opts):
    """``spiral ipd run``: stage 1 for every study + stage 2 (``threads=``); ``out`` also writes the
    output directory. The stage-1 estimates are in ``result.tables["stage1"]``."""
    return _run("ipd_run", None, dict(opts, spec=str(spec), out=_path(out)))


def ipd_onestage(spec, out=None):
    """``spiral ipd onestage``: the stage-1 models once over all studies; ``out`` also writes the directory."""
    return _run("ipd_onestage", None, {"spec": str(spec), "out": _path(out)})


def ipd_stage1(spec, study, out=None):
    """``spiral ipd stage1``: one study's bundle (aggregates only); ``out`` also writes the bundle file."""
    return _run("ipd_stage1", None, {"spec": str(spec), "study": str(study), "out": _path(out)})


def ipd_stage2(spec, bundles, out=None):
    """``spiral ipd stage2``: pools the bundle files ``bundles`` (a list of paths)."""
    return _run("ipd_stage2", None, {"spec": str(spec), "bundles": [str(b) for b in bundles], "out": _path(out)})


def simulate_sessions(**opts):
    """``spiral simulate``: a dict with the ``sessions``, ``patients`` and ``truth`` DataFrames and
    the CLI's ``summary``; files are written only when named (``out=``, ``patients_out=``, ...)."""
    result = _run("simulate", None, opts)
    return dict(result.tables, summary=dict(result))


def power_analysis(spec, replications=1000, **opts):
    """``spiral power``: power, bias, RMSE and CI coverage of the IPD analysis, re-simulating the
    spec's ``[simulate]`` table ``replications`` times; ``results`` is a DataFrame."""
    return _run("power", None, dict(opts, spec=str(spec), replications=replications))
