"""spiral's Python module against statsmodels' MixedLM, in one process on the same DataFrame:
400 patients x 7 sessions of bench/data.R's lagged data, REML, random intercept and slope
of Pw_lag1 per patient (median of 5 fits each).
Usage: /usr/bin/python3 bench/bindings.py BENCH_DATA_DIR   (prints a row for bench/run.sh)"""
import statistics
import sys
import time
import warnings

import pandas as pd
import spiral
import statsmodels.formula.api as smf

d = pd.read_csv(f"{sys.argv[1]}/lmm_lagged.csv")
d = d[d["patient"] <= 400].dropna(subset=["Pw_lag1", "Ow_lag1"]).reset_index(drop=True)
formula = "O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session"


def median_seconds(fit, n=5):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fit()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fit_spiral():
    return spiral.lmm(formula + " + (1 + Pw_lag1 | patient)", d)


def fit_statsmodels():
    return smf.mixedlm(formula, d, groups=d["patient"], re_formula="~Pw_lag1").fit(reml=True)


warnings.simplefilter("ignore")
s, m = fit_spiral(), fit_statsmodels()
t_spiral, t_statsmodels = median_seconds(fit_spiral), median_seconds(fit_statsmodels)
fixed = s["fixed"].set_index("term")["estimate"]
print(f"py_lmm_vs_statsmodels {t_spiral:.6f} {t_statsmodels:.6f} {fixed['Pw_lag1']:.10g} {m.fe_params['Pw_lag1']:.10g}")
