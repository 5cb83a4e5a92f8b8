"""simulate_sessions: the same options give the CLI's bytes; data come back as DataFrames."""
import subprocess

import pandas as pd
import pytest

import spiral
from conftest import CLI

OPTIONS = dict(studies=3, patients=90, sessions=5, seed=7, process_to_outcome=-0.2, missing=0.1,
               therapists_per_study=3)


def test_simulate_writes_the_cli_files(tmp_path):
    sim = spiral.simulate_sessions(out=str(tmp_path / "py.csv"), truth=str(tmp_path / "py.json"), **OPTIONS)
    args = [str(CLI), "simulate", "--out", str(tmp_path / "cli.csv"), "--truth", str(tmp_path / "cli.json")]
    for key, value in OPTIONS.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    subprocess.run(args, check=True, capture_output=True)
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert (tmp_path / "py.json").read_bytes() == (tmp_path / "cli.json").read_bytes()
    for name in ("sessions", "patients", "truth"):
        assert isinstance(sim[name], pd.DataFrame)
    written = pd.read_csv(tmp_path / "py.csv", float_precision="round_trip")
    assert len(written) == len(sim["sessions"])
    # the data frame holds what the file holds (it held the values before rounding to 4 decimals)
    for column in ("alliance", "symptoms"):
        pd.testing.assert_series_equal(sim["sessions"][column], written[column])
    truth = sim["truth"].set_index(["model", "term"])["value"]
    assert truth[("process_to_outcome", "Pw_lag1")] == pytest.approx(-0.2)


def test_simulate_bad_option_is_named():
    with pytest.raises(ValueError, match="sessions"):
        spiral.simulate_sessions(sessions=1)
    with pytest.raises(ValueError, match="unknown option 'studys'"):
        spiral.simulate_sessions(studys=3)


def test_power_analysis_gives_the_cli_numbers(tmp_path):
    spec = tmp_path / "analysis.toml"
    spiral.simulate_sessions(out=str(tmp_path / "s.csv"), patients_out=str(tmp_path / "p.csv"),
                             spec_out=str(spec), **OPTIONS)
    res = spiral.power_analysis(spec, replications=2, threads=1)
    cli = subprocess.run([str(CLI), "power", "--spec", str(spec), "--replications", "2", "--threads", "1",
                          "--format", "json"], check=True, capture_output=True, text=True)
    import json
    expected = json.loads(cli.stdout)
    assert res["replications"] == expected["replications"] == 2
    assert isinstance(res["results"], pd.DataFrame)
    got = res["results"].set_index(["model", "term"])["mean_estimate"]
    for row in expected["results"]:
        assert got[(row["model"], row["term"])] == pytest.approx(row["mean_estimate"], rel=1e-9)
