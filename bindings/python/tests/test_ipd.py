"""prep and the two-stage IPD functions against R's lme4 + metafor recipe (tests/reference/ipd.R)."""
import csv
import json

import pandas as pd
import pytest

import spiral


def reference_rows(repo, name):
    with open(repo / "tests" / "reference" / "ipd" / name, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def spec(repo):
    return repo / "tests" / "data" / "ipd" / "analysis.toml"


def test_prep_returns_the_prepared_columns(spec):
    prepared = spiral.prep(spec)
    assert isinstance(prepared, pd.DataFrame)
    for column in ("P", "O", "Pm", "Om", "Pw", "Ow", "Pw_lag1", "Ow_lag1", "Pw_lag2"):
        assert column in prepared.columns


def test_ipd_run_pools_as_r(repo, spec, tmp_path):
    with pytest.warns(spiral.SpiralWarning):  # the feedback model fails in one study
        result = spiral.ipd_run(spec, out=tmp_path / "out")
    pooled = result["pooled"]
    assert isinstance(pooled, pd.DataFrame) and isinstance(result["studies"], pd.DataFrame)
    expected = {(r["model"], r["term"]): r for r in reference_rows(repo, "stage2.csv")}
    row = pooled[(pooled["model"] == "process_to_outcome") & (pooled["term"] == "Pw_lag1")].iloc[0]
    ref = expected[("process_to_outcome", "Pw_lag1")]
    assert row["estimate"] == pytest.approx(float(ref["estimate"]), abs=1e-4)
    assert row["std_error"] == pytest.approx(float(ref["std_error"]), abs=1e-3)
    written = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(written["pooled"]) == len(pooled)
    assert isinstance(result.tables["stage1"], pd.DataFrame)


def test_stage1_bundles_then_stage2_equal_ipd_run(spec, tmp_path):
    studies = pd.read_csv(spec.parent / "sessions.csv")["study"].unique()
    paths = []
    for study in studies:
        path = tmp_path / f"{study}.json"
        bundle = spiral.ipd_stage1(spec, study, out=path)
        assert bundle["study"] == str(study) and path.exists()
        paths.append(path)
    with pytest.warns(spiral.SpiralWarning):
        pooled2 = spiral.ipd_stage2(spec, paths)["pooled"]
    with pytest.warns(spiral.SpiralWarning):
        pooled1 = spiral.ipd_run(spec)["pooled"]
    assert list(pooled1["estimate"]) == pytest.approx(list(pooled2["estimate"]), abs=1e-12)


def test_ipd_errors_name_the_problem(spec, tmp_path):
    with pytest.raises(ValueError, match="nowhere"):
        spiral.ipd_stage1(spec, "nowhere")
    with pytest.raises(ValueError, match="missing.toml"):
        spiral.ipd_run(tmp_path / "missing.toml")


def test_ipd_onestage_gives_the_models(spec, tmp_path):
    # The spec without [post] (one stage fits the session-level models only).
    text = spec.read_text().split("[post]")[0].replace('"sessions.csv"', f'"{spec.parent / "sessions.csv"}"')
    (tmp_path / "onestage.toml").write_text(text)
    result = spiral.ipd_onestage(tmp_path / "onestage.toml", out=tmp_path / "one")
    assert isinstance(result["models"], pd.DataFrame)
    assert "process_to_outcome" in list(result["models"]["model"])
    assert (tmp_path / "one" / "onestage.json").exists()
