"""The panel result's statsmodels-style accessors against lavaan 0.6-14: tests/reference/panel.R
section generics (RI-CLPM on missing2.csv: vcov(fit) of the lagged labels, fitMeasures(fit), AIC,
BIC) and section groups (lavaan's group = )."""
import math
import warnings

import pandas as pd
import pytest

import spiral
from conftest import reference


def fit_missing2(repo):
    frame = pd.read_csv(repo / "tests" / "data" / "panel" / "missing2.csv", float_precision="round_trip")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spiral.panel(frame, "patient", "session", ["alliance", "symptoms"])


def test_cov_params_fit_measures_and_criteria_equal_lavaans(repo):
    ref = reference("panel/generics_riclpm_missing2.json")
    res = fit_missing2(repo)
    cov = res.cov_params()
    assert list(cov.index) == ref["terms"] == list(res.params.index)
    for i, row in enumerate(ref["vcov"]):  # vcov(fit)[labels, labels]
        for j, value in enumerate(row):
            assert cov.iloc[i, j] == pytest.approx(value, rel=2e-4, abs=1e-10)
    assert list(res.bse) == pytest.approx([math.sqrt(v) for v in cov.to_numpy().diagonal()], rel=1e-12)
    measures = res.fit_measures()
    assert list(measures.index) == ["npar", "logl", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic"]
    for name, value in ref["fit_measures"].items():  # fitMeasures(fit)
        assert measures[name] == pytest.approx(value, rel=1e-5, abs=1e-5), name
    assert res.aic == pytest.approx(ref["AIC"], rel=1e-8) and res.bic == pytest.approx(ref["BIC"], rel=1e-8)
    assert res.llf == pytest.approx(ref["fit_measures"]["logl"], rel=1e-8)
    assert list(res.conf_int().columns) == [0, 1]


def test_params_of_free_groups_are_named_by_group(repo):
    ref = reference("panel/groups_wages_free.json")  # lavaan(..., group = "sex"), labels per group
    frame = pd.read_csv(repo / "tests" / "data" / "panel" / "wages_long.csv")
    res = spiral.panel(frame, "worker", "year", ["lwage", "wks"], group="sex", equal_groups="none")
    assert list(res.params.index)[:2] == ["female:lwage->lwage", "female:wks->lwage"]
    assert res.cov_params().shape == (8, 8)
    assert res.llf == pytest.approx(ref["logLik"], rel=1e-7)
    assert res.fit_measures()["df"] == ref["chisq_df"]
