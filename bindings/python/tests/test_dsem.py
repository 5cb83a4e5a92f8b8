"""spiral.dsem(): the CLI's JSON for the same seed, with the posterior summaries and the draws as
DataFrames (specification sections 8 and 9); bad input as the CLI's errors."""
import numpy as np
import pandas as pd
import pytest

import spiral

from test_spiral import in_python_spelling, same

OPTS = dict(between=["baseline"], chains=2, iter=300, warmup=100, seed=4)
CLI_OPTS = ["--between", "baseline", "--chains", "2", "--iter", "300", "--warmup", "100", "--seed", "4"]


def small(repo):
    return pd.read_csv(repo / "tests" / "reference" / "dsem" / "small.csv", float_precision="round_trip")


def fit(repo):
    with pytest.warns(spiral.SpiralWarning, match="ESS below 400"):  # 200 draws per chain
        return spiral.dsem(small(repo), "patient", "session", ["alliance", "symptoms"], **OPTS)


def test_dsem_is_the_cli_json_for_the_same_seed(repo, cli):
    res = fit(repo)
    code, expected = cli("dsem", "--data", repo / "tests/reference/dsem/small.csv", "--id", "patient",
                         "--time", "session", "--vars", "alliance,symptoms", *CLI_OPTS)
    assert code == 0, expected
    assert same(dict(res), in_python_spelling(expected), tol=0)
    assert isinstance(res["fixed"], pd.DataFrame)


def test_dsem_summary_params_and_draws(repo):
    res = fit(repo)
    post = res.summary()
    assert list(post.columns) == ["mean", "median", "sd", "conf_low", "conf_high", "rhat", "ess_bulk", "ess_tail"]
    records = pd.concat([res["fixed"], res["moderators"], res["random"], res["innovations"]], ignore_index=True)
    assert len(post) == len(records)
    np.testing.assert_array_equal(post["mean"].to_numpy(), records["mean"].to_numpy())
    np.testing.assert_array_equal(post["rhat"].to_numpy(), records["rhat"].to_numpy())
    row = post.loc["fixed:alliance->symptoms"]
    fixed = res["fixed"]
    record = fixed[(fixed["from"] == "alliance") & (fixed["to"] == "symptoms")].iloc[0]
    assert row["mean"] == record["mean"] and row["sd"] == record["sd"]
    assert res.params["moderator:baseline:alliance->symptoms"] == post.loc["moderator:baseline:alliance->symptoms", "mean"]
    assert res.bse["sd:alliance"] == post.loc["sd:alliance", "sd"]
    draws = res.draws
    assert list(draws.columns[:2]) == ["chain", "iteration"] and list(draws.columns[2:]) == list(post.index)
    assert len(draws) == 2 * 200 and set(draws["chain"]) == {1, 2} and draws["iteration"].iloc[0] == 101
    assert draws[post.index].mean().to_numpy() == pytest.approx(post["mean"].to_numpy(), rel=1e-12, abs=1e-14)
    assert res.conf_int().shape == (len(post), 2)
    with pytest.raises(AttributeError):
        res.pvalues


def test_dsem_bad_input_is_the_cli_error(repo):
    data = pd.DataFrame({"patient": ["a"] * 3 + ["b"] * 3, "session": [1, 2, 3] * 2,
                         "alliance": [1, 2, 1.5, 2, 3, 1], "symptoms": [2, 1, 3, 2, 1, 2],
                         "baseline": [0, 0, 1, 1, 1, 1]})
    with pytest.raises(spiral.InputError, match="between column 'baseline' varies within patient 'a'"):
        spiral.dsem(data, "patient", "session", ["alliance", "symptoms"], between=["baseline"])
    with pytest.raises(spiral.InputError, match="column 'alliance' is constant"):
        spiral.dsem(data.assign(alliance=1.0), "patient", "session", ["alliance", "symptoms"])
    with pytest.raises(spiral.InputError, match="no patient has 3 sessions"):
        spiral.dsem(data[data["session"] < 3], "patient", "session", ["alliance", "symptoms"])
