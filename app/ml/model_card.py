"""The model card: the JSON card (source of truth, served by GET /v1/model) and its Markdown rendering."""

import math
import platform
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sklearn
import skops

from app.ml import artifact, baselines, dataset, evaluate, families, risk_model
from app.ml.context import CONTEXT_FILES
from app.ml.evaluate import table
from app.ml.features import FEATURE_NAMES, FEATURES
from app.ml.labels import DEFINITIONS, PRIMARY, TARGETS

EXPLANATION_METHOD = (
    "The shipped model is additive in log-odds: logit P = intercept + sum of one spline (or flag) term per "
    "feature, then Platt scaling fitted on validation separately for interstate dyads and the others, which is "
    "affine in log-odds (a * logit + b). explanation.baseline is the calibrated log-odds of the reference pair "
    "(no recorded events, no structural ties: not contiguous, no rivalry, no past armed conflict, no major "
    "power; no dyad-kind flag) under the dyad's own kind's calibration; explanation.contributions[feature] is "
    "the calibrated change of that feature's term from its reference value, so a dyad with no events has "
    "structural contributions only. baseline + sum(contributions) equals "
    "the primary probability's log-odds exactly (floating point). drivers group the contributions into "
    "analyst themes (retaliation, casualties, tempo, severity, de-escalation, contagion, structural context); "
    "a theme's "
    "contribution is the sum of its features', positive raises the risk, and each driver names the facts "
    "behind it in a plain-language label."
)

INTERVAL_METHOD = (
    "Every primary probability carries interval {{low, high, level}}. The logistic layer of the shipped model "
    "(its spline design held fixed) is refitted on {draws} bootstrap samples of the fit period's dyads (whole "
    "dyads drawn with replacement; their counts multiply the sample weights), and each refit's per-kind Platt "
    "scaling on a bootstrap sample of the validation period's dyads. The interval is the central {level:.0%} "
    "of a dyad's {draws} draws, widened to contain the probability itself. It measures how much the answer "
    "rests on which dyads happened to be in the data (wide where few similar dyads were seen), not the noise of "
    "one outcome: the check below says how often the observed rate of a bin of test samples falls inside."
)

CITATIONS = [
    "Gibler, D. M. & Miller, S. V. (2024). The Militarized Interstate Events (MIE) dataset, 1816-2014. "
    "Conflict Management and Peace Science 41(2).",
    "Sundberg, R. & Melander, E. (2013). Introducing the UCDP Georeferenced Event Dataset. Journal of Peace "
    "Research 50(4): 523-532. UCDP GED, CC BY 4.0.",
    "Davies, S., Pettersson, T. & Oberg, M. (2023). Organized violence 1989-2022. Journal of Peace Research 60(4) "
    "(UCDP GED release paper).",
    "Miller, S. V. (2022). peacesciencer: An R package for quantitative peace science research. Conflict "
    "Management and Peace Science 39(6).",
    "Stinnett, D. M., Tir, J., Schafer, P., Diehl, P. F. & Gochman, C. (2002). The Correlates of War Project "
    "Direct Contiguity Data, Version 3. Conflict Management and Peace Science 19(2).",
    "Correlates of War Project (2017). State System Membership List, v2016.",
    "Thompson, W. R. & Dreyer, D. R. (2012). Handbook of International Rivalries, 1494-2010. CQ Press.",
    "Thompson, W. R., Sakuwa, K. & Suhas, P. H. (2022). Analyzing Strategic Rivalries in World Politics. Springer.",
    "Brecher, M., Wilkenfeld, J., Beardsley, K., James, P. & Quinn, D. (2021). International Crisis Behavior "
    "Data Codebook, Version 14. ICB v14 data.",
    "Brecher, M., Wilkenfeld, J., Beardsley, K., James, P. & Quinn, D. (2023). International Crisis Behavior "
    "Data Codebook, Version 15. ICB v15 data (crises to 2019: the episode benchmark after the cut-off).",
    "Davies, S., Pettersson, T. & Oberg, M. (2021). Organized violence 1989-2020. Journal of Peace Research 58(4) "
    "(UCDP GED 21.1, the global file's release).",
    "Palmer, G., McManus, R. W., D'Orazio, V., Kenwick, M. R., Karstens, M., Bloch, C., Dietrich, N., Kahn, K., "
    "Ritter, K. & Soules, M. J. (2022). The MID5 Dataset, 2011-2014. Conflict Management and Peace Science 39(4).",
    "Gleditsch, N. P., Wallensteen, P., Eriksson, M., Sollenberg, M. & Strand, H. (2002). Armed Conflict "
    "1946-2001: A New Dataset. Journal of Peace Research 39(5); UCDP/PRIO Armed Conflict Dataset, CC BY 4.0.",
    "Sarkees, M. R. & Wayman, F. (2010). Resort to War: 1816-2007. CQ Press (COW inter-state wars).",
    "Gleditsch, K. S. & Ward, M. D. (1999). A revised list of independent states since the Congress of Vienna. "
    "International Interactions 25(4).",
]

# The card's names for what features read (FEATURES' `reads`), in the order the inputs table lists them.
_FIELDS = {
    "occurred_on": "occurred_on (the windows of every feature, 7 to 365 days; and on its own:)",
    "actors": "actor1 / actor2 member ids (direction: who struck whom)",
    "actor kind": "actor kind (via the dyad id)",
    "action": "action / ACLED types / cameo_code (hostility 1-5, rung 0-10, de-escalation)",
    "fatalities": "fatalities",
    "civilian_fatalities": "civilian_fatalities",
    "weapons": "weapons (any of vocabulary.STANDOFF_WEAPONS)",
    "location.country": "location.country vs actor1.country",
    "retaliation": "retaliation (counted as a response)",
    "context": "state member ISO3 + date (models/context.json)",
    "other dyads' events": "the members' other dyads' events: dates and fatalities (app/ml/fronts.py)",
}
assert {r for f in FEATURES for r in f.reads} <= set(_FIELDS), "every field a feature reads has its card name"


def _inputs() -> str:
    """The inputs tables, from the feature registry: which event field feeds which features, then each feature."""
    fields = ["| event field | feeds |", "|---|---|"] + [
        f"| {label} | {', '.join(f.name for f in FEATURES if key in f.reads)} |" for key, label in _FIELDS.items()]
    each = ["| feature | driver theme | term | what it is |", "|---|---|---|---|"] + [
        f"| {f.name} | {f.theme} | {f.shape} | {f.unit} |" for f in FEATURES]
    return "\n".join(fields) + "\n\n" + "\n".join(each) + """

The labels read fatalities and the actors' members over the 30 days after the as-of date. Clash and war are
non-directed acts (no initiator: they feed no reciprocity). A state acting on another state's territory also
links the two states' dyad (`territorial`), whose features read that event too.

Stored but not scored: injured, notes, responds_to, location.admin1, latitude/longitude, source,
actor names (beyond the non-state slug), the time of day of a datetime."""




def build(*, argv, data_dir: Path, ds: dataset.Dataset, metrics: dict, selections: dict, shipped: str,
          losses: dict, margin: float, term_reference: np.ndarray, kind_split: dict, additions: dict, findings: dict,
          episodes: dict, thresholds: dict, backtest: list | None, calibration_check: dict) -> dict:
    """The JSON card (artifact.save adds the artifact hash and version)."""
    return {
        "name": "escalation-risk",
        "trained_on": datetime.now(UTC).strftime("%Y%m%d"),
        "training_command": ".venv/bin/python -m app.ml.train" + (" " + " ".join(argv) if argv else ""),
        "data_files": {f: artifact.sha256(data_dir / f) for f in ds.files + CONTEXT_FILES},
        "libraries": {
            "python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "skops": skops.__version__,
        },
        "features": list(FEATURE_NAMES),
        "targets": list(TARGETS),
        "primary": PRIMARY,
        "target_definitions": DEFINITIONS,
        "estimator": f"per target: {shipped} family (app/ml/families.py), shipped as an AdditiveRisk "
        "(app/ml/risk_model.py: the learnt terms as plain arrays), Platt-calibrated on the validation period per "
        "dyad kind (interstate, others); the primary target with 20 bootstrap draws for its intervals",
        "family": shipped,
        "family_choice": {
            "rule": f"additive ships unless boosting's validation log-loss on {PRIMARY} is lower by more "
            f"than {margin:.0%}",
            "validation_log_loss": losses,
        },
        "selection": selections,
        "kind_split_check": kind_split,
        "additions_check": additions,
        "calibration_check": calibration_check,
        "splits": {
            s.name: {
                "fit": f"<= {s.fit_end}",
                "validate": f"{s.fit_end + 1}-{s.val_end}",
                "test": f"{s.val_end + 1}-01-01 to {s.coverage_end.isoformat()}",
                "file": s.path,
            }
            for s in dataset.SOURCES
        },
        "cutoff": dataset.CUTOFF.isoformat(),
        "embargo_days": 30,
        "samples": {
            f"{t}/{s}": int(((ds.test_set == t) & (ds.split == s)).sum())
            for t in evaluate.TEST_SETS
            for s in ("fit", "val", "test")
        },
        "skipped_rows": ds.skipped,
        "events_read": ds.events_read,
        "metrics": metrics[shipped],
        "metrics_other_family": {f: m for f, m in metrics.items() if f != shipped},
        "episode_benchmark": episodes,
        "backtest": backtest,
        "protocol": {"baselines": list(baselines.NAMES), "half_lives_days": list(baselines.HALF_LIVES),
                     "bootstrap_resamples": baselines.BOOTSTRAP, "interval_level": baselines.LEVEL,
                     "bar": {"min_positives": baselines.MIN_POSITIVES, "min_dyads": baselines.MIN_DYADS,
                             "bss": baselines.BSS_BAR, "bss_ci90_low": baselines.BSS_LOW_BAR,
                             "auc_slack": baselines.AUC_SLACK},
                     "backtest_years": list(baselines.BACKTEST_YEARS),
                     "backtest_validation_years": baselines.BACKTEST_VALIDATION_YEARS},
        "findings": findings,
        "thresholds": thresholds,
        "term_reference": [float(v) for v in term_reference],
        "smooth_features": list(families.SMOOTH),
        "explanation_method": EXPLANATION_METHOD,
        "interval_method": INTERVAL_METHOD.format(draws=risk_model.DRAWS, level=risk_model.LEVEL),
        "citations": CITATIONS,
    }


def _f(x: float | None, fmt: str = ".3f") -> str:
    return "-" if x is None else format(x, fmt)


def _ci(ci: list | None) -> str:
    return "" if not ci else f" [{ci[0]:+.3f}, {ci[1]:+.3f}]"


def _claims(card: dict) -> Iterator[tuple[str, str | None, dict]]:
    """(test set, None or "interstate dyads", its entry): each primary-target result the bar is judged on."""
    for name, r in card["metrics"][card["primary"]].items():
        yield name, None, r
        if "interstate" in r:
            yield name, "interstate dyads", r["interstate"]


def verdict_line(card: dict) -> str:
    """The bar's verdict in one line: where it is missed comes first (test sets, and their interstate dyads), each
    with its test period and both figures the bar reads."""
    labelled = [(f"{name}'s {subset}" if subset else name, name, e) for name, subset, e in _claims(card)]
    missed = [f"{label}, test {_test_period(card, name)}: Brier skill {_f(e['bss_vs_best']['value'], '+.3f')}"
              f"{_ci(e['bss_vs_best']['ci90'])} against {e['best_baseline']['by_brier']}, ROC-AUC "
              f"{_f(e['auc_diff_vs_best']['value'], '+.3f')}{_ci(e['auc_diff_vs_best']['ci90'])} against "
              f"{e['best_baseline']['by_auc']}, {e['dyads']} dyads"
              for label, name, e in labelled if e["bar"].startswith("missed")]
    met = [label for label, _, e in labelled if e["bar"] == "met"]
    unclaimed = [label for label, _, e in labelled if e["bar"] == "not claimed"]
    head = (f"**The bar is missed on {'; and on '.join(missed)}.**" if missed
            else "**The bar is met on every claimed test set.**")
    return (f"{head} Met on {', '.join(met) or 'none'}; not claimed, too few positives or dyads: "
            f"{', '.join(unclaimed) or 'none'}. Bar: Brier skill against the best baseline >= {baselines.BSS_BAR} "
            f"with its 90% interval's low end >= {baselines.BSS_LOW_BAR}, and ROC-AUC no more than "
            f"{baselines.AUC_SLACK} below the best baseline's, on every test set (and interstate subset) with >= "
            f"{baselines.MIN_POSITIVES} positives and >= {baselines.MIN_DYADS} dyads.")


def _test_period(card: dict, test_set: str) -> str:
    """The test period of a test set's sources, as the card's splits give them (one per source, if they differ)."""
    periods = [card["splits"][s.name]["test"] for s in dataset.SOURCES
               if s.test_set == test_set and s.name in card["splits"]]
    return "; ".join(dict.fromkeys(periods)) or "?"


def _bar(card: dict) -> str:
    rows = []
    for name, subset, e in _claims(card):
        b = e["best_baseline"]
        rows.append(
            f"| {f'{name}, {subset}' if subset else name} | {e['n']} | {e['positives']} | {e['dyads']} | "
            f"{_f(e['model']['roc_auc'])} | "
            f"{b['by_auc']} {_f(e['baselines'][b['by_auc']]['roc_auc'] if b['by_auc'] else None)} | "
            f"{_f(e['auc_diff_vs_best']['value'], '+.4f')}{_ci(e['auc_diff_vs_best']['ci90'])} | "
            f"{e['model']['brier']:.4f} | {b['by_brier']} {e['baselines'][b['by_brier']]['brier']:.4f} | "
            f"{_f(e['bss_vs_best']['value'], '+.3f')}{_ci(e['bss_vs_best']['ci90'])} | {e['bar']} |")
    return "\n".join(rows)


def _all_baselines(card: dict) -> str:
    rows = []
    for name, r in card["metrics"][card["primary"]].items():
        for base, sc in {"model": r["model"], **r["baselines"]}.items():
            st = r["baseline_settings"].get(base, {})
            note = ", ".join(([f"half-life {st['half_life_days']} d"] if "half_life_days" in st else [])
                             + (["Platt"] if st.get("platt") else []))
            rows.append(f"| {name} | {base} | {_f(sc['roc_auc'])} | {_f(sc['pr_auc'])} | {sc['brier']:.4f} | "
                        f"{sc['ece']:.4f} | {note} |")
    return "\n".join(rows)


def _interval_check(card: dict) -> str:
    out = []
    for name, r in card["metrics"][card["primary"]].items():
        for label, e in ((name, r), (f"{name}, interstate dyads", r.get("interstate"))):
            if e is None or "intervals" not in e:
                continue
            c = e["intervals"]
            out.append(f"- {label}: observed rate inside in {c['bins_inside']:.0%} of bins "
                       f"({c['samples_in_bins_inside']:.0%} "
                       f"of samples); mean width {c['mean_width']:.4f}; bins {c['bins']}")
    return "\n".join(out)


def _backtest(card: dict) -> str:
    if not card.get("backtest"):
        return "Not run for this card (`--no-backtest`)."
    rows = ["| year | test set | n | positives | best baseline (Brier) | Brier model | Brier best | BSS vs best |",
            "|---|---|---|---|---|---|---|---|"]
    rows += [f"| {b['year']} | {b['test_set']} | {b['n']} | {b['positives']} | {b['best_baseline']} | "
             f"{b['brier_model']:.4f} | {b['brier_best']:.4f} | {_f(b['bss_vs_best'], '+.3f')} |"
             for b in card["backtest"]]
    return "\n".join(rows)


def _reliability(card: dict) -> str:
    out = []
    for name, r in card["metrics"][card["primary"]].items():
        out.append(f"- {name}: {r['model']['reliability']}")
        if "interstate" in r:
            out.append(f"- {name}, interstate dyads: {r['interstate']['model']['reliability']}")
    return "\n".join(out)


def _episodes(card: dict) -> str:
    f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    return "\n".join(
        f"| {k} | {e['n']} | {e['positives']} | {f(e['auc_model'])} | {f(e['auc_fatalities_so_far'])} | "
        + " | ".join(f(e[f"auc_{b}"]) for b in baselines.NAMES if b != "climatology") + " |"
        for k, e in card["episode_benchmark"].items())


def _episode_definitions(card: dict) -> str:
    seen = dict.fromkeys(e["definition"] for e in card["episode_benchmark"].values())
    return "\n".join(f"- {d}." for d in seen)


def _findings(card: dict) -> str:
    r, d = card["findings"]["reciprocity"], card["findings"]["deescalation"]
    rate = lambda x: f"{x['rate']:.3f} (n = {x['n']})"  # noqa: E731
    return f"""Measured on {card["findings"]["scope"]}; P = share of samples followed by serious violence.
- **Reciprocity.** After a one-sided use of force in the last 30 days: P = {rate(r["one_sided_strike_30d"])};
  after a strike that was answered: P = {rate(r["answered_strike_30d"])}; in tit-for-tat chains of 3+:
  P = {rate(r["tit_for_tat_chain_3plus"])}. Raw rates mix dyads at very different stages of a conflict;
  the fitted model, holding tempo, casualties and severity fixed, gives `reciprocated_30d` a calibrated
  log-odds term of {r["model_log_odds_reciprocated"]:+.3f} (answered vs not, among dyads with a strike in 30 days).
  No sign is forced: the model uses what the data give.
- **De-escalation.** After heavy fighting ({d["heavy_fighting_definition"]}), with no de-escalation since
  the last use of force: P = {rate(d["no_deescalation_since_fighting"])}; with an agreement, ceasefire, talks or
  withdrawal after the last use of force (within 90 days): P = {rate(d["agreement_or_ceasefire_since_fighting"])}.
  Learnt from {card["events_read"].get("mid5:agreement", 0)} MID 5 dispute settlements (negotiated or imposed,
  one agreement per side-A/side-B pair) and {card["events_read"].get("icb:agreement", 0)} ICB crisis terminations by formal,
  semi-formal or tacit agreement (MIE carries no de-escalation events; GED none at all). The model's
  calibrated log-odds term for `deescalated_since_fighting` is {d["model_log_odds_deescalated"]:+.3f}
  (a factor of {math.exp(d["model_log_odds_deescalated"]):.2f} on the odds)."""


def _settings(card: dict) -> str:
    out = []
    for target, sel in card["selection"][card["family"]].items():
        setting = min(sel["tried"], key=lambda t: t[0])[1]
        grid = {k: sorted({t[1][k] for t in sel["tried"]}) for k in setting}
        edge = [f"{'largest' if v == grid[k][-1] else 'smallest'} {k}" for k, v in setting.items()
                if len(grid[k]) > 1 and v in (grid[k][0], grid[k][-1])]
        out.append(f"{target} " + ", ".join(f"{k} = {v:g}" for k, v in setting.items())
                   + (f" (the grid's {' and '.join(edge)})" if edge else ""))
    return "; ".join(out)


def _kind_verdict(card: dict) -> str:
    k = card["kind_split_check"]
    return ": separate fits do not beat one model" if k["separate_by_kind"] >= k["one_model"] else (
        ": separate fits would be lower, but the serving path scores one model per target")


def render(card: dict) -> str:
    """Markdown for people; the JSON card stays the source of truth."""
    splits = "\n".join(
        f"| {k} | {v['file']} | {v['fit']} | {v['validate']} | {v['test']} |" for k, v in card["splits"].items()
    )
    levels = "\n".join(
        f"- {k} >= {v['cut']}: validation precision {v['validation_precision']} (n = {v['validation_support']})"
        + ("; interstate dyads {interstate[validation_precision]} (n = {interstate[validation_support]}), others "
           "{other[validation_precision]} (n = {other[validation_support]})".format(**v["by_kind"]) if "by_kind" in v
           else "")
        for k, v in card["thresholds"].items()
    )
    targets = "\n".join(f"- `{k}`: {v}" for k, v in card["target_definitions"].items())
    cites = "\n".join(f"- {c}" for c in card["citations"])
    samples = ", ".join(f"{k} {v}" for k, v in card["samples"].items())
    files = "\n".join(f"- `{k}` sha256 `{v}`" for k, v in card["data_files"].items())
    losses = ", ".join(f"{k} {v:.4f}" for k, v in card["family_choice"]["validation_log_loss"].items())
    others = "\n".join(f"{k}:\n{table(m)}" for k, m in card["metrics_other_family"].items())
    return f"""# Model card: escalation-risk {card["version"]}

{verdict_line(card)}

Reproduce: `{card["training_command"]}` (evaluate: `.venv/bin/python -m app.ml.evaluate`).
Artifact `{card["artifact"]["file"]}` sha256 `{card["artifact"]["sha256"]}`;
scikit-learn {card["libraries"]["scikit-learn"]}. Training is deterministic (one thread, fixed seeds) and every
logistic fit converged (Newton steps to a gradient of 1e-8), so a retrain gives this card on any machine:
`tests/ml/test_train.py` retrains and compares every metric with it to 1e-6.

## Targets (primary: `{card["primary"]}`)
{targets}

`escalation_30d` (v1's primary: worse than the previous 30 days) was dropped: it is relative, so a
dyad in a bloody month can hardly "escalate" and a ceasefire after a war scored like the war; it
ranked and calibrated worse than the secondary targets in v1's card, and analysts asked for the
absolute question. `use_of_force_30d` and `fatal_30d` are kept as secondary targets.

## Model
{card["estimator"]}. Two families compared out of time (app/ml/families.py): a regularised
logistic GAM (asinh + cubic B-splines per count feature, flags as they are, L2 penalty chosen on
validation) and gradient boosting (HistGradientBoosting, <= 100 trees). {card["family_choice"]["rule"]}.
Validation log-loss on the primary target: {losses}: the additive model ships. The additive
settings (L2 strength C, and the weight of a GED fit sample against an interstate MIE one) are chosen
per target on validation log-loss ({_settings(card)}); boosting is fit unweighted. Calibration is fitted
per dyad kind (interstate, others) on validation: validation log-loss of the primary target with one
calibration {card["calibration_check"]["one_calibration"]:.5f}, per kind {card["calibration_check"]["per_kind"]:.5f}.
One model for interstate and non-state dyads, with `kind_*` flags: separate additive fits for
interstate and other dyads were compared on validation (primary target, uncalibrated log-loss:
one model {card["kind_split_check"]["one_model"]:.4f}, separate fits {card["kind_split_check"]["separate_by_kind"]:.4f}){_kind_verdict(card)}.
Inputs added since v3.1 were each measured on validation before they stayed (primary target, uncalibrated
log-loss, chosen setting): {card["additions_check"]["with_all"]:.5f} with every input; without contagion (the
members' other fronts in the last 30 days, app/ml/fronts.py; v3.2) {card["additions_check"]["without"]["contagion"]:.5f};
without deadliness (the deadliest single event of the past year and its deaths per fatal event; v3.3)
{card["additions_check"]["without"]["deadliness"]:.5f}.

## Explanation
{card["explanation_method"]}

## Uncertainty
{card["interval_method"]}

Check on the test sets (primary target; equal-width bins of P: [mean P, mean low, mean high, observed rate,
n, observed inside]):
{_interval_check(card)}

## Data and splits (by sample date, 30-day embargo at each edge; cut-off {card["cutoff"]})
| source | file | fit | validate | test |
|---|---|---|---|---|
{splits}

Nothing dated after {card["cutoff"]} fits, calibrates or chooses settings. MIE ends in 2014, so the
interstate test period is 2005-2014: MIE's events of those years never fit or chose settings, but GED
global's fit period (<= 2013) holds state-against-state and territorial state-state pairs of the same
years, so it is out of time for MIE's events, not for every interstate pair. The model learns non-state,
one-sided and state-based dyads from UCDP GED global 21.1 (fit <= 2013, validation 2014-2017, test
2018-2020). That file keeps only events with a precise location (where_prec 1-2): conflicts fought
where locations are vague (rural insurgencies, large battles reported by region) lose more of their
events and deaths than others, so their labels (>= 25 deaths in 30 days) are reached less often and
their risk is learnt lower than the full release would give. The three GED slices (Mexico, Myanmar,
Syria; every precision, to 2023) are test sets only: their baselines use their own fit and validation
periods, the model never fits them.
Interstate histories: MIE days + ICB v14 crisis triggers (trigger type mapped to the ladder) and
agreed terminations + MID 5 settlements as agreements (app/ml/crises.py). Samples: every day a
dyad has events, every ICB trigger date (a crisis as it breaks out, labelled by the MIE fatalities
that followed), plus quiet follow-ups 15/45/90/180/365/730 days after an event. Structural context
is point-in-time (previous year's contiguity, rivalry, major power; armed conflict in earlier years
from COW wars and UCDP/PRIO ACD). Samples: {samples}. Data files:
{files}

## The bar: the model against the best baseline of each test set (primary target, test periods only)
{verdict_line(card)}

Each baseline is fitted on its test set's own fit period and recalibrated on that set's validation period
(Platt) where that lowers validation log-loss (`app/ml/baselines.py`, fixed before any v3 model was fitted;
never renamed). The best baseline is the one with the highest test ROC-AUC (for the AUC difference) and the
one with the lowest test Brier score (for the Brier skill). In brackets: 90% intervals from
{card["protocol"]["bootstrap_resamples"]} resamples of whole dyads with replacement (a dyad's samples are
correlated in time).

| test set | n | positives | dyads | ROC-AUC model | best by AUC | AUC diff [90%] | Brier model | best by Brier | Brier skill [90%] | bar |
|---|---|---|---|---|---|---|---|---|---|---|
{_bar(card)}

Every baseline on every test set (primary target):

| test set | forecast | ROC-AUC | PR-AUC | Brier | ECE | settings |
|---|---|---|---|---|---|---|
{_all_baselines(card)}

Baselines: `climatology` (the fit-period base rate); `persistence` (the target's own condition over
(t-30, t], binary); `deaths_30d` (logistic on log1p of deaths in (t-30, t]); `decayed_deaths` (logistic on
log1p of exponentially decayed past deaths, half-life chosen on validation from
{", ".join(str(h) for h in card["protocol"]["half_lives_days"])} days); `deaths_and_events` (that term and
log1p of events in the last 30 days); `recent_violence` (v2's: events, log deaths and max hostility over 30 days).

All targets (the secondary targets carry no intervals):
```
{table(card["metrics"])}
```
Reliability of the primary target (equal-width bins of P: [mean P, observed rate, n]):
{_reliability(card)}

### Rolling-origin backtest (primary target)
For each year Y, the shipped family's settings procedure and every baseline are refitted on samples before
Y (validation: the {card["protocol"]["backtest_validation_years"]} years before Y, fit: everything earlier,
30-day embargo) and tested on the samples dated in Y; the Brier skill is against that year's best baseline
by Brier.

{_backtest(card)}

The other family on the same test sets:
```
{others}
```

## Episode benchmark (episodes after the fit period, scored as the service would from events)
| set | episodes (dyad-dates) | serious violence followed | AUC model | AUC fatalities so far | AUC persistence | AUC deaths_30d | AUC decayed_deaths | AUC deaths_and_events | AUC recent_violence |
|---|---|---|---|---|---|---|---|---|---|
{_episodes(card)}

How episodes are defined (nothing was tuned on them; the validation rows are shown for reference):
{_episode_definitions(card)}

"Fatalities so far" = the dyad's deaths over the year up to the episode's date. ICB v14 ends in 2017
and MIE in 2014: no interstate crisis after 2014 has daily events in the shared data to score it from,
so episodes after the cut-off come from GED flare-ups (2018-2023) and ICB v15's crises (2018-2019 out of
time; 2015-2017 inside GED global's validation period, shown apart).

## What the data say about reciprocity and de-escalation
{_findings(card)}

## Risk levels (P of the primary target)
What each level meant on the validation period (the share of samples at or above the cut that were followed
by serious violence), overall and per dyad kind:
{levels}

## Inputs
{_inputs()}

## Limitations
- The bar is judged only on test sets with enough positives and dyads. MIE's interstate test period
  2005-2014 holds 12 serious-violence samples: its figures are reported, never claimed. GED global's
  interstate dyads after 2014 are a few pairs (Iran-Israel, India-Pakistan) plus territorial links.
- The interval measures the spread of refits on other samples of the training dyads, not the noise of one
  outcome: on MIE's quiet decade and on GED's interstate dyads the observed rates mostly fall outside it
  (see "Uncertainty").
- Contagion (`other_fronts_30d`, `log_other_front_deaths_30d`) is counted within one source: MIE's interstate
  fronts from MIE, GED's from GED (global, or each slice alone). A state at war with a group that GED does not
  record (imprecise locations) shows fewer fronts than it has; MIE has no non-state fronts at all.
- ICB v15's crises of 2015-2017 fall in GED global's validation period (settings and calibration were
  chosen there), so only its 2018-2019 set is out of time; both are small (see the episode table).
- GED global is dated by each event's first day (the reduced file has no end date), and has no civilian
  deaths: one-sided violence counts all its deaths as civilian, the rest none.
- The ICB episode sets have few crises with serious violence after them: their AUCs are indicative.
- ICB trigger events may duplicate an MIE event on the same day (counted twice in tempo).
- Training data carry no explicit retaliation flag: reciprocity is learnt from direction (MIE, ICB);
  GED clashes are non-directed, so non-state dyads get no reciprocity signal.
- MIE has no location: events are placed on the target's territory.
- Structural context stops at the sources' coverage (contiguity and majors 2016, rivalries 2010/2020,
  ACD 2024); spells running to the end are treated as ongoing.
- GED global keeps precise locations only: see "Data and splits" for the bias.

## Citations
{cites}
"""
