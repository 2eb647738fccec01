"""The evaluation protocol (app/ml/baselines.py): inputs point-in-time, baselines as defined, the best-baseline
rule, the dyad bootstrap, the bar's verdict and the backtest's periods."""

from datetime import date

import numpy as np
import pytest

from app.ml import baselines, dataset
from app.ml.features import INDEX, History
from app.ml.labels import TARGETS
from tests.ml.helpers import fact

D0 = date(2010, 1, 1)


def test_inputs_read_only_events_on_or_before_the_date():
    days = [0, 3, 10, 45]
    h = History([fact(date.fromordinal(D0.toordinal() + k), fatalities=n) for k, n in zip(days, (4, 0, 6, 100))])
    t = np.array([D0.toordinal() + 10, D0.toordinal() + 40])
    out = baselines.inputs(h, t)
    assert list(out["deaths_30d"]) == [10, 0]  # (t-30, t]: at day 40, day 10 is 30 days back: out; day 45 not yet
    assert list(out["events_30d"]) == [3, 0]
    for half_life in baselines.HALF_LIVES:  # the recursion equals the direct sum over past events, and sees no future
        direct = [sum(n * 2 ** (-(tt - D0.toordinal() - k) / half_life) for k, n in zip(days, (4, 0, 6, 100))
                      if D0.toordinal() + k <= tt) for tt in t]
        np.testing.assert_allclose(out[f"decayed_{half_life}"], direct, rtol=1e-12)


def test_inputs_of_an_empty_history_are_zero():
    out = baselines.inputs(History([]), np.array([D0.toordinal()]))
    assert all(v.tolist() == [0.0] for v in out.values())


def _dataset(n: int = 600, seed: int = 0) -> dataset.Dataset:
    """A synthetic set: deaths drive the target; fit / val / test thirds of one test set, 60 dyads."""
    rng = np.random.default_rng(seed)
    deaths = rng.gamma(0.5, 20, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(np.log1p(deaths) - 2.5)))).astype(np.int8)
    X = np.zeros((n, len(INDEX)))
    X[:, INDEX["log_fatalities_30d"]] = np.log1p(deaths)
    base = {"deaths_30d": deaths, "events_30d": rng.poisson(3, n).astype(float),
            **{f"decayed_{h}": deaths * (1 + 0.01 * h) for h in baselines.HALF_LIVES}}
    split = np.array(["fit", "val", "test"] * (n // 3), dtype=object)
    return dataset.Dataset(
        X=X, y={t: y for t in TARGETS}, split=split, test_set=np.full(n, "ged_global", dtype=object),
        kind=np.full(n, "state_nonstate", dtype=object), episode=np.zeros(n, bool),
        dyad=np.array([f"A--B{k % 60}" for k in range(n)], dtype=object), flare_up=np.zeros(n, bool),
        y_prev={t: (deaths > 25).astype(np.int8) for t in TARGETS}, base=base,
        day=np.arange(n) + D0.toordinal(), events_read={}, skipped={}, files=[])


def test_every_baseline_is_fitted_in_its_fixed_order_with_its_settings():
    ds = _dataset()
    fitted = baselines.fit_for_test_set(ds, "serious_violence_30d", "ged_global")
    assert tuple(fitted) == baselines.NAMES
    assert fitted["decayed_deaths"].half_life in baselines.HALF_LIVES
    assert fitted["deaths_and_events"].half_life == fitted["decayed_deaths"].half_life
    assert set(fitted["decayed_deaths"].tried) == {str(h) for h in baselines.HALF_LIVES}
    fit = ds.split == "fit"
    p = fitted["climatology"].model.predict_proba(np.zeros((1, 1)))[0, 1]
    assert p == pytest.approx(ds.y["serious_violence_30d"][fit].mean(), abs=2e-3)  # the fit-period base rate
    # persistence: the fit frequency of the target given its previous condition
    prev, y = ds.y_prev["serious_violence_30d"][fit], ds.y["serious_violence_30d"][fit]
    got = fitted["persistence"].model.predict_proba(np.array([[0.0], [1.0]]))[:, 1]
    np.testing.assert_allclose(got, [y[prev == 0].mean(), y[prev == 1].mean()], atol=2e-3)  # lbfgs' tolerance


def test_platt_is_kept_only_where_it_lowers_validation_log_loss():
    ds = _dataset()
    val = ds.split == "val"
    y = ds.y["serious_violence_30d"]
    for b in baselines.fit_for_test_set(ds, "serious_violence_30d", "ged_global").values():
        raw = b.model.predict_proba(baselines._design(ds, val, b.name, b.target, b.half_life))[:, 1]
        raw_loss = -np.mean(y[val] * np.log(raw) + (1 - y[val]) * np.log(1 - raw))
        if b.calibrator is None:
            assert b.validation_log_loss == pytest.approx(raw_loss, rel=1e-9)
        else:
            assert b.validation_log_loss < raw_loss


def test_the_best_baseline_is_chosen_by_auc_for_auc_and_by_brier_for_skill():
    scores = {"a": {"roc_auc": 0.9, "brier": 0.2}, "b": {"roc_auc": 0.8, "brier": 0.1}, "c": {"roc_auc": None,
                                                                                              "brier": 0.3}}
    assert baselines.best(scores) == {"by_auc": "a", "by_brier": "b"}


def test_the_bootstrap_resamples_whole_dyads_and_is_seeded():
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.3).astype(int)
    groups = np.repeat(np.arange(40), 10)
    good, noise = np.clip(np.where(y, 0.8, 0.2) + rng.normal(0, 0.2, 400), 0, 1), rng.random(400)
    ci = baselines.bootstrap(y, good, noise, noise, groups, n=200)
    assert ci["dyads"] == 40 and ci["resamples"] == 200
    assert 0 < ci["auc_diff_ci90"][0] < ci["auc_diff_ci90"][1] and ci["bss_ci90"][0] > 0
    assert ci == baselines.bootstrap(y, good, noise, noise, groups, n=200)
    same = baselines.bootstrap(y, noise, noise, noise, groups, n=50)
    assert same["auc_diff_ci90"] == [0.0, 0.0] and same["bss_ci90"] == [0.0, 0.0]


def test_the_bar_needs_enough_positives_and_dyads_and_each_condition():
    rng = np.random.default_rng(2)
    y = (rng.random(2000) < 0.3).astype(int)
    groups = np.repeat(np.arange(100), 20)
    good = np.clip(np.where(y, 0.7, 0.1) + rng.normal(0, 0.05, 2000), 0.01, 0.99)
    weak = np.clip(np.where(y, 0.5, 0.25) + rng.normal(0, 0.2, 2000), 0.01, 0.99)
    assert baselines.compare(y, good, {"w": weak}, groups)["bar"] == "met"
    assert baselines.compare(y, weak, {"w": good}, groups)["bar"].startswith("missed: Brier skill")
    few = baselines.compare(y[:200], good[:200], {"w": weak[:200]}, groups[:200])  # 10 dyads
    assert few["claimed"] is False and few["bar"] == "not claimed"


def test_backtest_fits_before_each_year_and_tests_on_it():
    ds = _dataset(n=3000)
    ds.day = np.linspace(date(2000, 1, 1).toordinal(), date(2017, 12, 31).toordinal(), 3000).astype(np.int64)
    seen = []

    def fit_model(fit, val):
        seen.append((ds.day[fit].max(), ds.day[val].min(), ds.day[val].max()))
        return lambda rows: np.full(int(rows.sum()), 0.3)

    rows = baselines.backtest(ds, "serious_violence_30d", ("ged_global",), fit_model, log=lambda _: None)
    assert [r["year"] for r in rows] == list(baselines.BACKTEST_YEARS)
    for r, (fit_last, val_first, val_last) in zip(rows, seen):
        start = date(r["year"], 1, 1).toordinal()
        assert val_last + 30 < start and fit_last + 30 < val_first  # embargo: no label window crosses an edge
        assert date.fromordinal(int(val_first)).year == r["year"] - baselines.BACKTEST_VALIDATION_YEARS
        assert r["n"] > 0 and r["best_baseline"] in baselines.NAMES
