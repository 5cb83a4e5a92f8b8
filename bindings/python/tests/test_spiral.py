"""The Python face against the CLI (same numbers to 1e-9) and the R reference values."""
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import spiral
from conftest import reference


def read_csv(repo, name):
    return pd.read_csv(repo / "tests" / "data" / name, float_precision="round_trip")


def same(actual, expected, tol=1e-9):
    """Recursively equal: numbers to `tol` (relative above 1), DataFrames as their records."""
    if isinstance(actual, pd.DataFrame):
        return same(actual.to_dict("records"), expected, tol)
    if isinstance(expected, dict):
        return set(actual) == set(expected) and all(same(actual[k], expected[k], tol) for k in expected)
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(same(a, e, tol) for a, e in zip(actual, expected))
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None or (isinstance(actual, float) and math.isnan(actual)):
            return (expected is None) and (actual is None or math.isnan(actual))
        return abs(actual - expected) <= tol * max(1.0, abs(expected))
    return actual == expected


def in_python_spelling(cli_json):
    """The CLI's JSON with its warnings naming options as Python does (`--re-form` -> `re_form`,
    `--factor=Days` -> `factor = "Days"`)."""
    def argument(m):
        name = m.group(1).replace("-", "_")
        return name if m.group(2) is None else f'{name} = "{m.group(2)}"'
    spelled = dict(cli_json)
    if "warnings" in spelled:
        spelled["warnings"] = [re.sub(r"(?<![\w-])--([a-z0-9-]+)(?:=([A-Za-z0-9_.-]*))?", argument, w)
                               for w in spelled["warnings"]]
    return spelled


def test_lmm_data_frame_gives_the_cli_numbers(repo, cli):
    fit = spiral.lmm("Reaction ~ Days + (Days | Subject)", read_csv(repo, "lmm/sleepstudy.csv"))
    code, expected = cli("lmm", "--data", repo / "tests/data/lmm/sleepstudy.csv",
                         "--formula", "Reaction ~ Days + (Days | Subject)")
    assert code == 0
    assert same(dict(fit), in_python_spelling(expected))


def test_lmm_matches_lme4(repo):
    fit = spiral.lmm("Reaction ~ Days + (Days | Subject)", read_csv(repo, "lmm/sleepstudy.csv"))
    ref = reference("lmm/sleepstudy_reml.json")
    assert fit["criterion"] == pytest.approx(ref["criterion"], rel=1e-6)
    assert list(fit["fixed"]["term"]) == [f["term"] for f in ref["fixed"]]
    np.testing.assert_allclose(fit["fixed"]["estimate"], [f["estimate"] for f in ref["fixed"]], atol=1e-4)
    np.testing.assert_allclose(fit["fixed"]["std_error"], [f["std_error"] for f in ref["fixed"]], atol=1e-3)


def test_lmm_tables_are_data_frames_and_vcov_has_names(repo):
    fit = spiral.lmm("Reaction ~ Days + (Days | Subject)", read_csv(repo, "lmm/sleepstudy.csv"), ranef=True)
    for name in ("fixed", "random", "groups"):
        assert isinstance(fit[name], pd.DataFrame), name
    assert list(fit.vcov.index) == ["(Intercept)", "Days"]
    assert math.sqrt(fit.vcov.loc["Days", "Days"]) == pytest.approx(fit["fixed"]["std_error"][1], rel=1e-12)
    ranef = fit.tables["ranef"]
    assert list(ranef.columns) == ["group", "level", "term", "estimate", "std_error"]
    assert len(ranef) == 36
    assert "Fixed effects" in str(fit) or "Days" in str(fit)


def test_lmm_compare_and_options(repo, cli):
    path = repo / "tests/data/lmm/sleepstudy.csv"
    cmp = spiral.lmm("Reaction ~ Days + (1 | Subject)", str(path), compare="Reaction ~ Days + (Days | Subject)")
    code, expected = cli("lmm", "--data", path, "--formula", "Reaction ~ Days + (1 | Subject)",
                         "--compare", "Reaction ~ Days + (Days | Subject)")
    assert code == 0 and same(dict(cmp), in_python_spelling(expected))
    assert isinstance(cmp["models"], pd.DataFrame)
    ml = spiral.lmm("Reaction ~ Days + (Days | Subject)", str(path), ml=True, df="residual", level=90)
    code, expected = cli("lmm", "--data", path, "--formula", "Reaction ~ Days + (Days | Subject)",
                         "--ml", "--df", "residual", "--level", "90")
    assert ml["method"] == "ML" and same(dict(ml), in_python_spelling(expected))


def test_meta_matches_metafor(repo):
    res = spiral.meta(read_csv(repo, "meta/bcg.csv"), yi="yi", vi="vi", method="REML", test="z", slab="study")
    ref = reference("meta/rma_bcg.json")["REML_z"]
    for key in ("estimate", "std_error", "tau2", "I2", "Q"):
        assert res[key] == pytest.approx(ref[key], rel=1e-5), key
    assert isinstance(res["coefficients"], pd.DataFrame)
    assert list(res.vcov.index) == ["intrcpt"]


def test_meta_data_frame_gives_the_cli_numbers(repo, cli, tmp_path):
    path = repo / "tests/data/meta/bcg.csv"
    res = spiral.meta(read_csv(repo, "meta/bcg.csv"), yi="yi", vi="vi", test="knha", mods="ablat")
    code, expected = cli("meta", "--data", path, "--yi", "yi", "--vi", "vi", "--test", "knha", "--mods", "ablat")
    assert code == 0 and same(dict(res), in_python_spelling(expected))
    res = spiral.meta(read_csv(repo, "meta/bcg.csv"), measure="OR", ai="tpos", bi="tneg", ci="cpos", di="cneg",
                      slab="study", leave1out=True, egger=True, trimfill=True, forest=str(tmp_path / "forest.svg"))
    code, expected = cli("meta", "--data", path, "--measure", "OR", "--ai", "tpos", "--bi", "tneg", "--ci", "cpos",
                         "--di", "cneg", "--slab", "study", "--leave1out", "--egger", "--trimfill")
    assert code == 0 and same(dict(res), in_python_spelling(expected))
    assert (tmp_path / "forest.svg").read_text().lstrip().startswith("<")


def test_meta_leave1out_is_a_data_frame(repo):
    res = spiral.meta(read_csv(repo, "meta/bcg.csv"), yi="yi", sei="sei", leave1out=True, slab="study")
    assert isinstance(res["leave1out"], pd.DataFrame)
    assert len(res["leave1out"]) == res["k"] == 13


def test_panel_data_frame_gives_the_cli_numbers_and_lavaan(repo, cli):
    with pytest.warns(spiral.SpiralWarning, match="dropped"):
        res = spiral.panel(read_csv(repo, "panel/missing2.csv"), "patient", "session", ["alliance", "symptoms"])
    code, expected = cli("panel", "--data", repo / "tests/data/panel/missing2.csv", "--id", "patient",
                         "--time", "session", "--vars", "alliance,symptoms")
    assert code == 0 and same(dict(res), in_python_spelling(expected))
    assert isinstance(res["lagged"], pd.DataFrame)
    ref = reference("panel/riclpm_missing2.json")
    assert res["logLik"] == pytest.approx(ref["logLik"], rel=1e-6)


def test_panel_params_of_free_lagged_effects_are_named_per_wave(repo):
    with pytest.warns(spiral.SpiralWarning):
        res = spiral.panel(read_csv(repo, "panel/missing2.csv"), "patient", "session", ["alliance", "symptoms"],
                           lagged="free")
    names = list(res.params.index)
    assert len(names) == len(set(names)) == len(res["lagged"])
    assert names[0] == f"alliance->alliance@{int(res['lagged']['wave'][0])}"


def test_describe_keeps_categorical_levels_and_sorts_text(repo):
    frame = pd.DataFrame({
        "x": [1.5, None, 3.0],
        "n": pd.array([1, None, 3], dtype="Int64"),
        "b": [True, False, True],
        "arm": pd.Categorical(["ctl", "trt", "ctl"], categories=["trt", "ctl"]),
        "site": ["b", "a", None],
    })
    res = spiral.describe(frame)
    cols = res["columns"].set_index("name")
    assert cols.loc["x", "type"] == "numeric" and cols.loc["x", "missing"] == 1
    assert cols.loc["n", "type"] == "numeric" and cols.loc["n", "missing"] == 1
    assert cols.loc["b", "mean"] == pytest.approx(2 / 3)
    assert list(cols.loc["arm", "levels"]["level"]) == ["trt", "ctl"]
    assert list(cols.loc["arm", "levels"]["n"]) == [1, 2]
    assert list(cols.loc["site", "levels"]["level"]) == ["a", "b"] and cols.loc["site", "missing"] == 1


def test_dict_of_arrays_is_data(repo):
    frame = read_csv(repo, "lmm/sleepstudy.csv")
    arrays = {name: frame[name].to_numpy() for name in frame.columns}
    a = spiral.lmm("Reaction ~ Days + (1 | Subject)", arrays)
    b = spiral.lmm("Reaction ~ Days + (1 | Subject)", frame)
    assert a["criterion"] == b["criterion"]


def test_bad_column_raises_the_cli_message(repo, cli):
    path = repo / "tests/data/lmm/sleepstudy.csv"
    code, stderr = cli("lmm", "--data", path, "--formula", "Reaction ~ Dayz + (1 | Subject)")
    assert code == 2
    message = stderr.strip().removeprefix("spiral: error: ")
    with pytest.raises(ValueError) as error:
        spiral.lmm("Reaction ~ Dayz + (1 | Subject)", str(path))
    assert str(error.value) == message
    with pytest.raises(ValueError, match="Dayz"):
        spiral.lmm("Reaction ~ Dayz + (1 | Subject)", read_csv(repo, "lmm/sleepstudy.csv"))


def test_unknown_option_and_bad_value_are_named(repo):
    frame = read_csv(repo, "lmm/sleepstudy.csv")
    with pytest.raises(ValueError, match="unknown option 'reml'"):
        spiral.lmm("Reaction ~ Days + (1 | Subject)", frame, reml=False)
    with pytest.raises(ValueError, match="^df: "):
        spiral.lmm("Reaction ~ Days + (1 | Subject)", frame, df="kenward")


def test_warnings_are_python_warnings(repo):
    frame = read_csv(repo, "lmm/singular.csv")
    with pytest.warns(spiral.SpiralWarning, match="singular"):
        fit = spiral.lmm("y ~ x + (1 | g)", frame)
    assert fit["singular"] is True
    # The only warning of sleepstudy's fit: Days (0-9) may be categories coded by numbers.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spiral.lmm("Reaction ~ Days + (Days | Subject)", read_csv(repo, "lmm/sleepstudy.csv"))
    assert len(caught) == 1
    assert "column 'Days' holds 10 distinct whole numbers" in str(caught[0].message)


def test_python_values_of_every_kind_reach_the_options(repo):
    # numpy arrays and pandas Index for list options (once: "can only convert an array of
    # size 1"), a pathlib.Path as data (once: "DataFrame constructor not properly called").
    path = repo / "tests/data/panel/complete2.csv"
    frame = pd.read_csv(path)
    by_list = spiral.panel(frame, "patient", "session", ["alliance", "symptoms"])
    for vars in (np.array(["alliance", "symptoms"]), pd.Index(["alliance", "symptoms"])):
        assert spiral.panel(frame, "patient", "session", vars)["logLik"] == by_list["logLik"]
    assert spiral.panel(path, "patient", "session", ["alliance", "symptoms"])["logLik"] == by_list["logLik"]
    # An int beyond 64 bits is a number the option's check judges (once a RuntimeError).
    with pytest.raises(ValueError, match="^level: expected a percentage between 0 and 100"):
        spiral.panel(frame, "patient", "session", ["alliance", "symptoms"], level=10**30)


def test_bad_data_frames_and_values_are_value_errors_with_one_line(repo):
    frame = read_csv(repo, "lmm/sleepstudy.csv")
    twice = pd.concat([frame, frame[["Days"]]], axis=1)
    with pytest.raises(ValueError, match="^data: duplicate column name 'Days'$"):
        spiral.lmm("Reaction ~ Days + (1 | Subject)", twice)
    with pytest.raises(ValueError) as error:
        spiral.lmm(123, frame)
    assert str(error.value) == "formula: expected a string, got 123"


def test_an_ordered_categorical_has_polynomial_contrasts_as_lme4(repo):
    frame = read_csv(repo, "lmm/sleepstudy.csv")
    frame["block"] = pd.Categorical(frame["Days"] // 2, ordered=True)
    fit = spiral.lmm("Reaction ~ block + (1 | Subject)", frame)
    ref = reference("lmm/ordered_block.json")
    assert list(fit["fixed"]["term"]) == [f["term"] for f in ref["fixed"]]
    assert fit["fixed"]["estimate"].tolist() == pytest.approx([f["estimate"] for f in ref["fixed"]], rel=1e-6)


def test_a_bool_column_is_numeric_with_or_without_missing_values(repo):
    frame = read_csv(repo, "lmm/sleepstudy.csv")
    frame["late"] = frame["Days"] >= 5
    plain = spiral.lmm("Reaction ~ late + (1 | Subject)", frame)
    frame["late"] = frame["late"].astype(object)
    frame.loc[2, "late"] = None  # object dtype: it became a factor (term lateTrue)
    with pytest.warns(spiral.SpiralWarning, match="1 rows with missing values dropped"):
        missing = spiral.lmm("Reaction ~ late + (1 | Subject)", frame)
    assert list(missing["fixed"]["term"]) == list(plain["fixed"]["term"]) == ["(Intercept)", "late"]
