"""statsmodels-style result objects and errors, against the lme4 / metafor values of
tests/reference/rpkg.R (each test names the R call that made its numbers)."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import spiral
from conftest import REPO

REF = REPO / "tests" / "reference" / "rpkg"


def ref(name):
    return json.loads((REF / name).read_text())


def data(name):
    return pd.read_csv(REF / name, float_precision="round_trip")


def test_lmm_result_is_statsmodels_like():
    # lmer(Reaction ~ Days + (Days | Subject), sleepstudy); lmerTest summary() intervals
    fit = spiral.lmm("Reaction ~ Days + (Days | Subject)", data("sleepstudy.csv"))
    r = ref("sleepstudy.json")
    assert isinstance(fit, spiral.LmmResult)
    assert list(fit.params.index) == ["(Intercept)", "Days"]
    np.testing.assert_allclose(fit.params.to_numpy(), list(r["fixef"].values()), rtol=1e-6)
    np.testing.assert_allclose(fit.bse.to_numpy(), fit["fixed"]["std_error"].to_numpy())
    ci = fit.conf_int()
    assert list(ci.columns) == [0, 1]
    np.testing.assert_allclose(ci[0].to_numpy(), r["confint95"]["low"], rtol=1e-5)
    np.testing.assert_allclose(ci[1].to_numpy(), r["confint95"]["high"], rtol=1e-5)
    assert fit.llf == pytest.approx(r["logLik"], rel=1e-7)
    assert fit.aic == pytest.approx(r["AIC"], rel=1e-7)
    assert fit.bic == pytest.approx(r["BIC"], rel=1e-7)
    assert fit.nobs == r["nobs"]
    assert np.sqrt(fit.scale) == pytest.approx(r["sigma"], rel=1e-5)
    assert fit.converged is True and fit.singular is r["isSingular"]
    assert "Days" in fit.summary().as_text()
    assert fit.summary().tables[0].equals(fit["fixed"])  # statsmodels' Summary.tables
    assert fit.to_frame().equals(fit["fixed"])
    cov = fit.cov_params()  # statsmodels' cov_params(): R's vcov() of the fixed effects
    assert list(cov.index) == list(fit.params.index) == list(cov.columns)
    np.testing.assert_allclose(np.sqrt(np.diag(cov.to_numpy())), fit.bse.to_numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="alpha"):
        fit.conf_int(alpha=0.1)


def test_random_effects_per_grouping_factor_as_lme4_ranef():
    # ranef(lmer(Reaction ~ Days + (Days | Subject), sleepstudy))$Subject
    fit = spiral.lmm("Reaction ~ Days + (Days | Subject)", data("sleepstudy.csv"))
    re = fit.random_effects   # refits with ranef=True
    r = ref("sleepstudy.json")["ranef"]["Subject"]
    assert list(re) == ["Subject"]
    assert list(re["Subject"].index) == r["levels"]
    assert list(re["Subject"].columns) == r["terms"]
    for j, term in enumerate(r["terms"]):
        np.testing.assert_allclose(re["Subject"][term].to_numpy(), r["estimate"][j], atol=1e-3)


def test_lmm_fitted_values_residuals_and_predictions_as_lme4():
    # lme4's fitted(), residuals(), predict(re.form = NA / NULL, allow.new.levels = TRUE)
    # (sleepstudy_predict.json, tests/reference/rpkg.R)
    r = ref("sleepstudy_predict.json")
    fit = spiral.lmm("Reaction ~ Days + (Days | Subject)", data("sleepstudy.csv"))
    np.testing.assert_allclose(fit.fittedvalues.to_numpy(), r["fitted"], rtol=1e-6)
    # residuals on the response's scale (they are differences of numbers near 300)
    np.testing.assert_allclose(fit.resid.to_numpy(), r["residuals"], atol=1e-6 * np.abs(r["fitted"]).max())
    np.testing.assert_allclose(fit.predict().to_numpy(), r["predict_fixed"], rtol=1e-6)
    new_rows = pd.DataFrame(r["newdata"])
    np.testing.assert_allclose(fit.predict(new_rows).to_numpy(), r["predict_new_population"], rtol=1e-6)
    with pytest.warns(spiral.SpiralWarning):
        full = fit.predict(new_rows, re_form="full")
    np.testing.assert_allclose(full.to_numpy(), r["predict_new_full"], rtol=1e-6)
    with pytest.raises(spiral.InputError, match="re_form"):
        fit.predict(new_rows, re_form="NULL")
    with pytest.raises(spiral.InputError, match="^newdata: unknown column 'Subject'"):
        fit.predict(pd.DataFrame({"Days": [1.0]}), re_form="full")


def test_meta_result_with_knapp_hartung_intervals():
    # rma(yi, vi, mods = ~ ablat, data = bcg, test = "knha"): ci.lb, ci.ub, confint(.)$random
    res = spiral.meta(data("bcg.csv"), yi="yi", vi="vi", mods="ablat", test="knha")
    r = ref("bcg.json")["knha"]
    assert isinstance(res, spiral.MetaResult)
    assert list(res.params.index) == ["intrcpt", "ablat"]
    np.testing.assert_allclose(res.params.to_numpy(), r["coef"], rtol=1e-5)
    np.testing.assert_allclose(res.conf_int()[0].to_numpy(), r["ci_lb"], rtol=1e-5)
    np.testing.assert_allclose(res.conf_int()[1].to_numpy(), r["ci_ub"], rtol=1e-5)
    np.testing.assert_allclose(res.conf_int_tau2().to_numpy(dtype=float), r["tau2"], rtol=1e-4)
    assert res.nobs == r["nobs"]


def test_meta_fitted_values_residuals_predictions_and_likelihood():
    # metafor's fitted(), residuals(), predict(), logLik(), AIC(), BIC() (bcg.json, tests/reference/rpkg.R)
    d = data("bcg.csv")
    fits = {"knha": spiral.meta(d, yi="yi", vi="vi", mods="ablat", test="knha"), "plain": spiral.meta(d, yi="yi", vi="vi")}
    for name, res in fits.items():
        r = ref("bcg.json")[name]
        np.testing.assert_allclose(res.fittedvalues.to_numpy(), r["fitted"], rtol=1e-5)
        np.testing.assert_allclose(res.resid.to_numpy(), r["residuals"], rtol=1e-5, atol=1e-8)
        predicted = res.predict()
        for column, key in {"pred": "pred", "se": "se", "ci_lb": "ci.lb", "ci_ub": "ci.ub", "pi_lb": "pi.lb",
                            "pi_ub": "pi.ub"}.items():
            np.testing.assert_allclose(predicted[column].to_numpy(), np.atleast_1d(r["predict"][key]), rtol=1e-5)
        assert res.llf == pytest.approx(r["logLik"], rel=1e-6)
        assert res.aic == pytest.approx(r["AIC"], rel=1e-6)
        assert res.bic == pytest.approx(r["BIC"], rel=1e-6)
    with pytest.raises(NotImplementedError, match="new moderator values"):
        fits["knha"].predict(pd.DataFrame({"ablat": [30.0]}))


def test_errors_are_input_and_analysis_errors():
    assert issubclass(spiral.InputError, ValueError) and issubclass(spiral.AnalysisError, ValueError)
    d = data("sleepstudy.csv")
    with pytest.raises(spiral.InputError, match="Dayz"):
        spiral.lmm("Reaction ~ Dayz + (1 | Subject)", d)
    constant = pd.DataFrame({"y": [1.0] * 6, "x": [1.0, 2, 1, 5, 1, 2], "g": list("aabbcc")})
    with pytest.raises(spiral.AnalysisError, match="the fixed effects fit the response exactly"):
        spiral.lmm("y ~ x + (1 | g)", constant)
    # A failing diagnostic is a warning and None, the fit kept (Egger's test with equal SEs).
    equal_se = pd.DataFrame({"yi": [0.1, 0.2, 0.3], "sei": [0.1, 0.1, 0.1]})
    with pytest.warns(spiral.SpiralWarning, match="egger"):
        fit = spiral.meta(equal_se, yi="yi", sei="sei", egger=True)
    assert fit["egger"] is None


def test_bad_input_names_the_argument():
    d = data("sleepstudy.csv")
    with pytest.raises(spiral.InputError, match="^formula: expected a string, got"):
        spiral.lmm(["Reaction ~ Days"], d)
    with pytest.raises(spiral.InputError, match="^data: the data frame has no rows"):
        spiral.lmm("Reaction ~ Days + (1 | Subject)", d.iloc[0:0])
    d["Subject"] = pd.Categorical(d["Subject"].astype(str), categories=sorted(d["Subject"].astype(str).unique()) + ["999"])
    with pytest.raises(spiral.InputError, match=r"^data: categorical 'Subject' has unused categories \('999'\)"):
        spiral.lmm("Reaction ~ Days + (1 | Subject)", d)
    with pytest.raises(spiral.InputError, match="^data: expected a DataFrame"):
        spiral.lmm("Reaction ~ Days + (1 | Subject)", 42)


def test_prep_takes_a_data_frame_and_a_spec_as_text_or_dict():
    sessions = pd.DataFrame({"study": "A", "patient": np.repeat(np.arange(1, 13), 4), "session": np.tile(np.arange(1, 5), 12)})
    sessions["alliance"] = np.sin(np.arange(1, 49))
    sessions["symptoms"] = np.cos(np.arange(1, 49))
    spec = {"data": {"source": "unused.csv", "study": "study", "patient": "patient", "session": "session"},
            "variables": {"process": "alliance", "outcome": "symptoms"}, "model": {"lags": [1]}}
    a = spiral.prep(spec, data=sessions)
    assert len(a) == 48 and {"Pw", "Ow", "Pw_lag1"} <= set(a.columns)
    text = "\n".join(["[data]", 'source = "unused.csv"', 'study = "study"', 'patient = "patient"', 'session = "session"',
                      "[variables]", 'process = "alliance"', 'outcome = "symptoms"', "[model]", "lags = [1]"])
    pd.testing.assert_frame_equal(spiral.prep(text, data=sessions), a)


def test_profile_conf_int_as_lme4_confint_profile():
    # confint(lmer(Reaction ~ Days + (Days | Subject), sleepstudy), method = "profile", level = 0.9,
    # oldNames = FALSE) and of (1 | Subject) + (0 + Days | Subject) at 0.95 (sleepstudy_profile.json);
    # kLmmProfileCi (docs/tolerances.md): 1e-4 relative to the bound or, if larger, the interval's
    # width (as tests/lmm/test_lmm_inference.cpp: a correlation's bound can be near 0)
    def assert_bounds(got, low, high):
        width = np.asarray(high) - np.asarray(low)
        for bound, expected in ((got[0].to_numpy(), low), (got[1].to_numpy(), high)):
            assert np.all(np.abs(bound - expected) <= 1e-4 * np.maximum(np.abs(expected), width))

    r = ref("sleepstudy_profile.json")
    fit = spiral.lmm("Reaction ~ Days + (Days | Subject)", data("sleepstudy.csv"))
    for ci, expected in [(fit.conf_int(alpha=0.1, method="profile"), r["correlated"]["level90_new_names"]),
                         (spiral.lmm("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", data("sleepstudy.csv"))
                          .conf_int(method="profile"), r["uncorrelated"]["level95_new_names"])]:
        assert list(ci.index) == expected["names"]
        assert_bounds(ci, expected["low"], expected["high"])
    # a fit made with confint="profile" has them; its Wald intervals stay the summary's (sleepstudy.json)
    profiled = spiral.lmm("Reaction ~ Days + (Days | Subject)", data("sleepstudy.csv"), confint="profile")
    level95 = r["correlated"]["level95"]
    assert_bounds(profiled.conf_int(method="profile"), level95["low"], level95["high"])
    np.testing.assert_allclose(profiled.conf_int()[0].to_numpy(), ref("sleepstudy.json")["confint95"]["low"], rtol=1e-5)
    with pytest.raises(ValueError, match="method"):
        fit.conf_int(method="boot")


def test_refits_do_not_repeat_the_fits_warnings():
    # random_effects, fittedvalues and predict refit; the fit's own warnings were given once
    frame = data("sleepstudy.csv")
    frame.loc[0, "Reaction"] = np.nan
    with pytest.warns(spiral.SpiralWarning, match="missing values dropped"):
        fit = spiral.lmm("Reaction ~ Days + (Days | Subject)", frame)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit.random_effects, fit.fittedvalues, fit.predict(frame.head(3)), fit.conf_int(method="profile")
    assert [str(w.message) for w in caught] == []
