"""Result objects in statsmodels' manner (specification section 8.1).

Every result is still the command's JSON as a dict (``result["fixed"]``), with the
statsmodels attributes on top: ``params``, ``bse``, ``tvalues``, ``pvalues``,
``conf_int()``, ``summary()``, ``to_frame()``; a mixed model adds ``random_effects``.
Numbers are the library's; nothing is computed here.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, List, Optional

import pandas as pd

from ._convert import frame_of, with_frames
from ._spiral import InputError


class Summary:
    """The CLI's text table, laid out as R's ``summary()`` (statsmodels' ``Summary``)."""

    def __init__(self, text: str, tables: Optional[List[pd.DataFrame]] = None) -> None:
        self.text = text
        #: the summary's tables as DataFrames (the main table of estimates), as statsmodels' ``Summary.tables``
        self.tables: List[pd.DataFrame] = list(tables or [])

    def as_text(self) -> str:
        """The table as text."""
        return self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


class Result(dict):
    """A command's JSON as a dict, with the CLI's ``text`` (``print(result)`` shows it), the
    ``warnings`` it gave, further data frames in ``tables`` (``ranef``, ``stage1``, ...) and
    ``vcov``, the covariance matrix of the coefficients where the command has one (else None).
    """

    #: the key of the main table of estimates (``fixed``, ``coefficients``, ``lagged``, ...)
    table_key: Optional[str] = None

    def __init__(self, raw: Dict[str, Any], rerun: Optional[Callable[..., "Result"]] = None) -> None:
        super().__init__(with_frames(raw["json"]))
        self.text: str = raw["text"]
        self.warnings: List[str] = list(raw["warnings"])
        self.tables: Dict[str, pd.DataFrame] = {name: frame_of(columns) for name, columns in raw["tables"].items()}
        self.vcov: Optional[pd.DataFrame] = None
        if "vcov" in raw["matrices"]:
            names, values = raw["matrices"]["vcov"]
            self.vcov = pd.DataFrame(values, index=names, columns=names)
        self._rerun = rerun

    def __str__(self) -> str:
        return self._text_without_warnings()

    def _text_without_warnings(self) -> str:
        """The text table without its "warning: ..." lines, which ``warnings.warn`` showed."""
        shown = {f"warning: {w}" for w in self.warnings}
        return "".join(line for line in self.text.splitlines(keepends=True) if line.rstrip("\n") not in shown)

    def summary(self) -> Summary:
        """The CLI's text table (R's ``summary()`` layout); ``.tables`` holds the table of estimates."""
        try:
            tables = [self.to_frame()]
        except AttributeError:
            tables = []
        return Summary(self._text_without_warnings(), tables)

    def cov_params(self) -> pd.DataFrame:
        """The sampling covariance matrix of ``params``, indexed as ``params`` (R's ``vcov()``: the
        fixed effects of a mixed model, the coefficients of a meta-analysis, the lagged effects
        of a panel model, the robust one under ``se="robust"``)."""
        if self.vcov is None:
            self._unavailable("cov_params()", "the result has no covariance matrix")
        return self.vcov.copy()

    def to_frame(self) -> pd.DataFrame:
        """The main table of estimates as a DataFrame (a copy)."""
        return self._table().copy()

    def _table(self) -> pd.DataFrame:
        table = self.get(self.table_key) if self.table_key else None
        if not isinstance(table, pd.DataFrame):
            raise AttributeError(f"a {type(self).__name__} has no table of estimates")
        return table

    def _names(self) -> List[str]:
        return list(self._table()["term"])

    def _column(self, column: str) -> pd.Series:
        return pd.Series(self._table()[column].to_numpy(dtype=float), index=self._names(), name=column)

    @property
    def params(self) -> pd.Series:
        """The estimates, indexed by term."""
        return self._column("estimate")

    @property
    def bse(self) -> pd.Series:
        """The standard errors."""
        return self._column("std_error")

    @property
    def tvalues(self) -> pd.Series:
        """The test statistics (t or z)."""
        return self._column("statistic")

    @property
    def pvalues(self) -> pd.Series:
        """The p-values the summary prints."""
        return self._column("p_value")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """The confidence intervals the summary prints, as statsmodels' DataFrame with columns
        0 (lower) and 1 (upper). ``alpha`` must be the fit's (``level=`` percent)."""
        level = self._level()
        if abs((1 - alpha) * 100 - level) > 1e-9:
            raise ValueError(f"alpha: the intervals were computed at level {level:g}; refit with level={100 * (1 - alpha):g}")
        return pd.DataFrame({0: self._column("conf_low").to_numpy(), 1: self._column("conf_high").to_numpy()},
                            index=self._names())

    def _level(self) -> float:
        return 95.0

    def _unavailable(self, what: str, why: str):
        raise NotImplementedError(f"{what}: not available for a {type(self).__name__}: {why}")


class _Likelihood:
    """``llf``, ``aic`` and ``bic``: the fit's log-likelihood and information criteria, as the
    command's JSON gives them."""

    @property
    def llf(self) -> float:
        """The log-likelihood (REML or ML, as the fit)."""
        return float(self["logLik"])  # type: ignore[index]

    @property
    def aic(self) -> float:
        return float(self["AIC"])  # type: ignore[index]

    @property
    def bic(self) -> float:
        return float(self["BIC"])  # type: ignore[index]


class LmmResult(_Likelihood, Result):
    """``spiral.lmm()``: a linear mixed model with lme4/lmerTest numbers, in the manner of
    statsmodels' ``MixedLMResults``."""

    table_key = "fixed"

    def __init__(self, raw: Dict[str, Any], rerun: Optional[Callable[..., Result]] = None, level: float = 95.0) -> None:
        super().__init__(raw, rerun)
        self._fit_level = level

    def _level(self) -> float:
        return self._fit_level

    def conf_int(self, alpha: float = 0.05, method: str = "wald") -> pd.DataFrame:
        """Confidence intervals as statsmodels' DataFrame with columns 0 (lower) and 1 (upper).

        ``method="wald"``: the fixed effects' intervals the summary prints (Satterthwaite's t);
        ``alpha`` must be the fit's (``level=`` percent). ``method="profile"``: lme4's
        ``confint(fit, method = "profile", oldNames = FALSE)``, rows for the random-effect SDs
        and correlations (``sd_(Intercept)|Subject``, ``cor_Days.(Intercept)|Subject``, ...),
        ``sigma`` and the fixed effects, at level ``1 - alpha`` (refits with
        ``confint="profile"`` unless the fit has them at that level).
        """
        if method not in ("wald", "profile"):
            raise InputError(f"method: expected 'wald' or 'profile', got {method!r}")
        level = 100 * (1 - alpha)
        has_profile = self.get("random_ci") is not None
        if method == "wald":
            # a fit made with confint="profile" holds profile intervals in its table
            return (self._refit("conf_int", confint=None) if has_profile else super()).conf_int(alpha)
        fit = self if has_profile and abs(level - self._level()) < 1e-9 else self._refit("conf_int", confint="profile", level=level)
        bounds = pd.concat([fit["random_ci"][["conf_low", "conf_high"]], fit["fixed"][["conf_low", "conf_high"]]])
        names = _lme4_parameter_names(fit["random"]) + list(fit["fixed"]["term"])
        if len(names) != len(bounds):
            self._unavailable("conf_int", "the profile of this model's parameters has no lme4 names")
        return pd.DataFrame({0: bounds["conf_low"].to_numpy(dtype=float), 1: bounds["conf_high"].to_numpy(dtype=float)},
                            index=names)

    def _refit(self, what: str, why: str = "this result cannot be refitted", **changes: Any) -> "LmmResult":
        """The fit again with ``changes`` (for an output it does not hold); the warnings this fit
        gave when it was made are not given again, new ones are."""
        if self._rerun is None:
            self._unavailable(what, why)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = self._rerun(**changes)
        for warning in caught:
            if str(warning.message) not in self.warnings:
                warnings.warn(warning.message, stacklevel=3)
        return result  # type: ignore[return-value]

    @property
    def fe_params(self) -> pd.Series:
        """The fixed effects (as ``params``)."""
        return self.params

    @property
    def df_resid(self) -> pd.Series:
        """The degrees of freedom of each fixed effect's t test (Satterthwaite by default)."""
        return self._column("df")

    @property
    def nobs(self) -> int:
        return int(self["n_obs"])

    @property
    def scale(self) -> float:
        """The residual variance (sigma squared)."""
        return float(self["sigma"]) ** 2

    @property
    def converged(self) -> bool:
        return bool(self["converged"])

    @property
    def singular(self) -> bool:
        return bool(self["singular"])

    @property
    def random_effects(self) -> Dict[str, pd.DataFrame]:
        """The conditional modes (BLUPs) per grouping factor: a DataFrame with a row per level
        and a column per term, as lme4's ``ranef()`` (refits with ``ranef=True`` if needed)."""
        modes = self.tables.get("ranef")
        if modes is None:
            modes = self._refit("random_effects", "fit with ranef=True", ranef=True).tables["ranef"]
        modes = modes.astype({"group": str, "level": str, "term": str})
        out = {}
        for group in pd.unique(modes["group"]):
            rows = modes[modes["group"] == group]
            wide = rows.pivot(index="level", columns="term", values="estimate")
            wide = wide.loc[pd.unique(rows["level"]), pd.unique(rows["term"])]
            wide.index.name, wide.columns.name = None, None
            out[group] = wide
        return out

    def _model_rows(self) -> pd.DataFrame:
        """The model's rows with .fitted, .resid and .fixed (refits once with augment=True)."""
        rows = self.tables.get("augment")
        if rows is None:
            rows = self._refit("fitted values", "fit with augment=True", augment=True).tables["augment"]
            self.tables["augment"] = rows
        return rows

    @property
    def fittedvalues(self) -> pd.Series:
        """The fitted values with the conditional modes (lme4's ``fitted()``), one per model row."""
        return self._model_rows()[".fitted"].astype(float).rename("fittedvalues")

    @property
    def resid(self) -> pd.Series:
        """The response minus the fitted values (lme4's ``residuals()``)."""
        return self._model_rows()[".resid"].astype(float).rename("resid")

    def predict(self, exog: Any = None, re_form: str = "NA") -> pd.Series:
        """Predictions: as statsmodels' ``MixedLMResults.predict``, the fixed part alone by
        default (``re_form="NA"``, lme4's ``re.form = NA``); ``re_form="full"`` adds the
        conditional modes (a level the fit never saw gets the population prediction, with a
        warning). ``exog`` is a DataFrame or SOURCE of new rows with the model's columns;
        None predicts the model's own rows."""
        if re_form not in ("NA", "full"):
            raise InputError(f"re_form: expected 'NA' or 'full', got {re_form!r}")
        if exog is None:
            return self._model_rows()[".fixed" if re_form == "NA" else ".fitted"].astype(float).rename("predicted")
        predicted = self._refit("predict", newdata=exog, predict=True, re_form=re_form).tables["predict"]
        return predicted[".fitted"].astype(float).rename("predicted")


def _lme4_parameter_names(random: pd.DataFrame) -> List[str]:
    """lme4's names of the variance parameters (``oldNames = FALSE``): per random term the
    lower triangle column by column (``sd_`` on the diagonal, ``cor_<row>.<column>`` below),
    then ``sigma``."""
    names = []
    for group, terms in zip(random["group"], random["terms"]):
        for j, column in enumerate(terms):
            for i in range(j, len(terms)):
                names.append(f"sd_{column}|{group}" if i == j else f"cor_{terms[i]}.{column}|{group}")
    return names + ["sigma"]


class MetaResult(_Likelihood, Result):
    """``spiral.meta()``: a random-effects meta-analysis with metafor's numbers."""

    table_key = "coefficients"

    def __init__(self, raw: Dict[str, Any], rerun: Optional[Callable[..., Result]] = None, level: float = 95.0) -> None:
        super().__init__(raw, rerun)
        self._fit_level = level

    def _level(self) -> float:
        return self._fit_level

    @property
    def tau2(self) -> float:
        return float(self["tau2"])

    def conf_int_tau2(self) -> pd.Series:
        """tau^2 with its Q-profile interval (metafor's ``confint(rma)``)."""
        return pd.Series({"estimate": self["tau2"], "ci_lb": self["tau2_conf_low"], "ci_ub": self["tau2_conf_high"]})

    @property
    def nobs(self) -> int:
        """k, less the number of coefficients under REML (metafor's nobs.rma)."""
        return int(self["k"]) - (len(self["coefficients"]) if self["method"] == "REML" else 0)

    def _per_study(self, column: str) -> pd.Series:
        studies = self["studies"]
        return pd.Series(studies[column].to_numpy(dtype=float), index=list(studies["slab"]), name=column)

    @property
    def fittedvalues(self) -> pd.Series:
        """Each study's fitted value (metafor's ``fitted(rma)``), indexed by study label."""
        return self._per_study("fitted")

    @property
    def resid(self) -> pd.Series:
        """Each study's observed minus fitted effect (metafor's ``residuals(rma)``)."""
        return self._per_study("residual")

    def predict(self, exog: Any = None) -> pd.DataFrame:
        """metafor's ``predict(rma)``: the fitted values with their confidence and prediction
        intervals (columns pred, se, ci_lb, ci_ub, pi_lb, pi_ub; no PI for a fixed-effect
        model), one row for a model without moderators, else one per study. Predictions for
        new moderator values (``exog``) are not available."""
        if exog is not None:
            self._unavailable("predict(exog)", "predictions for new moderator values are not available yet")
        studies = self["studies"]
        columns = {"pred": "fitted", "se": "fitted_se", "ci_lb": "fitted_conf_low", "ci_ub": "fitted_conf_high"}
        if self["method"] != "FE":
            columns.update({"pi_lb": "pi_low", "pi_ub": "pi_high"})
        table = pd.DataFrame({name: studies[key].to_numpy(dtype=float) for name, key in columns.items()},
                             index=list(studies["slab"]))
        return table.iloc[:1].reset_index(drop=True) if len(self["coefficients"]) == 1 else table


class PanelResult(_Likelihood, Result):
    """``spiral.panel()``: an RI-CLPM / CLPM with lavaan's numbers; ``params`` are the lagged
    effects named ``from->to`` (``from->to@wave`` under ``lagged="free"``)."""

    table_key = "lagged"

    def _names(self) -> List[str]:
        """``from->to``; under ``lagged="free"`` each wave's effect as ``from->to@wave``."""
        table = self._table()
        names = [f"{a}->{b}" for a, b in zip(table["from"], table["to"])]
        if "wave" in table.columns:
            names = [f"{name}@{int(wave)}" for name, wave in zip(names, table["wave"])]
        if "group" in table.columns:
            names = [f"{group}:{name}" for group, name in zip(table["group"], names)]
        return names

    def fit_measures(self) -> pd.Series:
        """lavaan's ``fitMeasures()`` by its names: npar, logl, chisq, df, pvalue, cfi, tli, rmsea,
        srmr, aic, bic (NaN where the fit has none)."""
        keys = {"npar": "n_parameters", "logl": "logLik", "chisq": "chisq", "df": "chisq_df", "pvalue": "chisq_p",
                "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "aic": "AIC", "bic": "BIC"}
        values = {name: self.get(key) for name, key in keys.items()}
        return pd.Series({name: float("nan") if value is None else float(value) for name, value in values.items()})


class IpdResult(Result):
    """``spiral.ipd_run()``/``ipd_stage2()``: the pooled estimates in ``pooled``; ``params`` are
    indexed by (model, term)."""

    table_key = "pooled"

    def _names(self) -> List[str]:
        table = self._table()
        return [f"{m}:{t}" for m, t in zip(table["model"], table["term"])]


class DsemResult(Result):
    """``spiral.dsem()``: a dynamic structural equation model sampled by Gibbs. The JSON's
    ``fixed``, ``moderators``, ``random`` and ``innovations`` are DataFrames of posterior
    summaries; ``posterior`` has every parameter's summary (one row each, indexed by the names of
    the draws' columns: ``fixed:alliance->symptoms``, ``moderator:baseline:alliance->symptoms``,
    ``sd:alliance->symptoms``, ``innovation:symptoms~~alliance``); ``draws`` the kept draws
    (``chain``, ``iteration``, one column per parameter); ``params`` the posterior means and
    ``bse`` the posterior SDs; ``summary()`` returns ``posterior`` (as ``arviz.summary()`` does)
    and ``print(result)`` the CLI's table."""

    def __init__(self, raw: Dict[str, Any]) -> None:
        super().__init__(raw)
        posterior = self.tables["posterior"]
        self.posterior: pd.DataFrame = posterior.set_index(posterior["parameter"].astype(str)).drop(columns="parameter")
        self.posterior.index.name = "parameter"
        self.draws: pd.DataFrame = self.tables["draws"]

    def summary(self) -> pd.DataFrame:  # type: ignore[override]
        """Every parameter's posterior mean, median, SD, credible interval, R-hat and ESS."""
        return self.posterior.copy()

    def to_frame(self) -> pd.DataFrame:
        """The posterior summaries as a DataFrame (a copy)."""
        return self.posterior.copy()

    @property
    def params(self) -> pd.Series:
        """The posterior means, indexed by parameter."""
        return self.posterior["mean"].rename("estimate")

    @property
    def bse(self) -> pd.Series:
        """The posterior SDs."""
        return self.posterior["sd"].rename("std_error")

    @property
    def tvalues(self) -> pd.Series:
        raise AttributeError("a DsemResult has no test statistics: read posterior (credible intervals)")

    @property
    def pvalues(self) -> pd.Series:
        raise AttributeError("a DsemResult has no p values: read posterior (credible intervals)")

    def conf_int(self, alpha: Optional[float] = None) -> pd.DataFrame:
        """The credible intervals of the fit's level (``alpha`` must be None or match it)."""
        if alpha is not None:
            raise InputError("alpha: a DSEM's credible intervals are those of its level; refit with level=")
        return self.posterior[["conf_low", "conf_high"]].copy()

