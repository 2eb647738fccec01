"""The model card: the JSON card (source of truth, served by GET /v1/model) and its Markdown rendering."""

import math
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sklearn
import skops

from app.ml import artifact, dataset, evaluate, families
from app.ml.context import CONTEXT_FILES
from app.ml.evaluate import table
from app.ml.features import FEATURE_NAMES
from app.ml.labels import DEFINITIONS, PRIMARY, TARGETS

EXPLANATION_METHOD = (
    "The shipped model is additive in log-odds: logit P = intercept + sum of one spline (or flag) term per "
    "feature, then Platt scaling, which is affine in log-odds (a * logit + b). explanation.baseline is the "
    "calibrated log-odds of the reference pair: no recorded events, no structural ties (not contiguous, no "
    "rivalry, no past armed conflict, no major power) and no dyad-kind flag; explanation.contributions[feature] "
    "is the calibrated change of that feature's term from its reference value, so a dyad with no events has "
    "structural contributions only. baseline + sum(contributions) equals "
    "the primary probability's log-odds exactly (floating point). drivers group the contributions into "
    "analyst themes (retaliation, casualties, tempo, severity, de-escalation, structural context); a theme's "
    "contribution is the sum of its features', positive raises the risk, and each driver names the facts "
    "behind it in a plain-language label."
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
    "Palmer, G., McManus, R. W., D'Orazio, V., Kenwick, M. R., Karstens, M., Bloch, C., Dietrich, N., Kahn, K., "
    "Ritter, K. & Soules, M. J. (2022). The MID5 Dataset, 2011-2014. Conflict Management and Peace Science 39(4).",
    "Gleditsch, N. P., Wallensteen, P., Eriksson, M., Sollenberg, M. & Strand, H. (2002). Armed Conflict "
    "1946-2001: A New Dataset. Journal of Peace Research 39(5); UCDP/PRIO Armed Conflict Dataset, CC BY 4.0.",
    "Sarkees, M. R. & Wayman, F. (2010). Resort to War: 1816-2007. CQ Press (COW inter-state wars).",
    "Gleditsch, K. S. & Ward, M. D. (1999). A revised list of independent states since the Congress of Vienna. "
    "International Interactions 25(4).",
]

_INPUTS = """\
| event field | feeds |
|---|---|
| occurred_on | every window (7/30/365 days), days_since_last, history_days, labels |
| actor1/actor2 (member ids) | the dyad; direction -> responses_30d, reciprocated_30d, tit_for_tat_chain_30d, |
|  | response_lag_days |
| actor kind | kind_* one-hot (via the dyad id) |
| action / ACLED types / cameo_code | hostility (max/last/trend, use_of_force_30d), rung, deescalation_30d; |
|  | clash and war are non-directed |
| fatalities | log_fatalities_7d/30d/365d, fatal_events_30d, fatality_trend_30d |
| civilian_fatalities | log_civilian_fatalities_30d |
| weapons | standoff_30d (any of vocabulary.STANDOFF_WEAPONS) |
| location.country vs actor1.country | cross_border_30d, and the territorial state-state link |
| retaliation | counted as a response in responses_30d / reciprocated_30d / tit_for_tat_chain_30d |
| de-escalation actions (talks, agreement, ceasefire, withdrawal) | deescalation_30d, deescalated_since_fighting |
| state member ISO3 + date | contiguous, rivalry, major_power, past_armed_conflict (models/context.json) |

Stored but not scored: injured, notes, responds_to, location.admin1, latitude/longitude, source,
actor names (beyond the non-state slug), the time of day of a datetime."""




def build(*, argv, data_dir: Path, ds: dataset.Dataset, metrics: dict, selections: dict, shipped: str,
          losses: dict, margin: float, term_reference: np.ndarray, kind_split: dict, findings: dict,
          episodes: dict, thresholds: dict) -> dict:
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
        "estimator": f"per target: {shipped} family (app/ml/families.py), Platt-calibrated "
        "(CalibratedClassifierCV(FrozenEstimator, method='sigmoid')) on the validation period",
        "family": shipped,
        "family_choice": {
            "rule": f"additive ships unless boosting's validation log-loss on {PRIMARY} is lower by more "
            f"than {margin:.0%}",
            "validation_log_loss": losses,
        },
        "selection": selections,
        "kind_split_check": kind_split,
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
        "findings": findings,
        "thresholds": thresholds,
        "term_reference": [float(v) for v in term_reference],
        "smooth_features": list(families.SMOOTH),
        "explanation_method": EXPLANATION_METHOD,
        "citations": CITATIONS,
    }


BAR_AUC, BAR_BSS = 0.03, 0.05


def _bar(card: dict) -> str:
    """One row per test set and baseline: the model against the textbook persistence and against recent_violence."""
    rows = []
    for name, r in card["metrics"][card["primary"]].items():
        for base in ("persistence", "recent_violence"):
            lift = (r["model"]["roc_auc"] or 0) - (r[base]["roc_auc"] or 0)
            bss = r[f"bss_vs_{base}"]
            auc_ok, bss_ok = lift >= BAR_AUC, bss >= BAR_BSS
            verdict = "MEETS both" if auc_ok and bss_ok else (
                "MISSES both" if not auc_ok and not bss_ok else
                f"meets {'AUC' if auc_ok else 'BSS'}, MISSES {'BSS' if auc_ok else 'AUC'}")
            ci = r["intervals"][base]
            if auc_ok and ci["auc_lift_95"][0] < 0:
                verdict += " (AUC lift's interval includes 0)"
            rows.append(f"| {name} | {base} | {r['n']} | {round(r['positive_rate'] * r['n'])} | "
                        f"{r['model']['roc_auc']:.3f} | {r[base]['roc_auc']:.3f} | {lift:+.3f} "
                        f"[{ci['auc_lift_95'][0]:+.3f}, {ci['auc_lift_95'][1]:+.3f}] | {bss:+.3f} "
                        f"[{ci['bss_95'][0]:+.3f}, {ci['bss_95'][1]:+.3f}] | {verdict} |")
    return "\n".join(rows)


def bar_summary(card: dict) -> dict[str, dict[str, bool]]:
    """{test set: {baseline: bar met}} for the primary target."""
    return {name: {base: (r["model"]["roc_auc"] or 0) - (r[base]["roc_auc"] or 0) >= BAR_AUC
                   and r[f"bss_vs_{base}"] >= BAR_BSS for base in ("persistence", "recent_violence")}
            for name, r in card["metrics"][card["primary"]].items()}


def _reliability(card: dict) -> str:
    return "\n".join(f"- {name}: {r['model']['reliability']}" for name, r in card["metrics"][card["primary"]].items())


def _episodes(card: dict) -> str:
    f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    return "\n".join(
        f"| {k} | {e['n']} | {e['positives']} | {f(e['auc_model'])} | {f(e['auc_fatalities_so_far'])} | "
        f"{f(e['auc_persistence'])} | {f(e['auc_recent_violence'])} |" for k, e in card["episode_benchmark"].items())


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


def _persistence_tables(card: dict) -> str:
    return "; ".join(f"{name} {r['persistence_table']['0']:.4f} / {r['persistence_table']['1']:.4f}"
                     for name, r in card["metrics"][card["primary"]].items())


def _boot(card: dict) -> str:
    return "; ".join(f"{name}: {r['intervals']['persistence']['resamples']} resamples of its "
                     f"{r['intervals']['persistence']['dyads']} dyads" for name, r in card["metrics"][card["primary"]].items())


def _bar_sentence(card: dict) -> str:
    met = bar_summary(card)
    parts = []
    for base in ("persistence", "recent_violence"):
        ok = [n for n, m in met.items() if m[base]]
        missed = [n for n, m in met.items() if not m[base]]
        parts.append(f"Against {base}: met on {', '.join(ok) or 'no test set'}; "
                     f"missed on {', '.join(missed) or 'no test set'}.")
    return " ".join(parts)


def render(card: dict) -> str:
    """Markdown for people; the JSON card stays the source of truth."""
    splits = "\n".join(
        f"| {k} | {v['file']} | {v['fit']} | {v['validate']} | {v['test']} |" for k, v in card["splits"].items()
    )
    levels = ", ".join(
        f"{k} >= {v['cut']} (validation precision {v['validation_precision']}, n = {v['validation_support']})"
        for k, v in card["thresholds"].items()
    )
    targets = "\n".join(f"- `{k}`: {v}" for k, v in card["target_definitions"].items())
    cites = "\n".join(f"- {c}" for c in card["citations"])
    samples = ", ".join(f"{k} {v}" for k, v in card["samples"].items())
    files = "\n".join(f"- `{k}` sha256 `{v}`" for k, v in card["data_files"].items())
    losses = ", ".join(f"{k} {v:.4f}" for k, v in card["family_choice"]["validation_log_loss"].items())
    others = "\n".join(f"{k}:\n{table(m)}" for k, m in card["metrics_other_family"].items())
    return f"""# Model card: escalation-risk {card["version"]}

Reproduce: `{card["training_command"]}` (evaluate: `.venv/bin/python -m app.ml.evaluate`).
Artifact `{card["artifact"]["file"]}` sha256 `{card["artifact"]["sha256"]}`;
scikit-learn {card["libraries"]["scikit-learn"]}. Training is deterministic (one thread, fixed seeds);
`tests/ml/test_train.py` retrains and compares every metric with this card to 1e-6.

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
settings (L2 strength C, and the weight of a GED fit sample against an interstate one, since GED has
far fewer fit samples) are chosen per target on validation log-loss ({_settings(card)});
boosting is fit unweighted.
One model for interstate and non-state dyads, with `kind_*` flags: separate additive fits for
interstate and other dyads were compared on validation (primary target, uncalibrated log-loss:
one model {card["kind_split_check"]["one_model"]:.4f}, separate fits {card["kind_split_check"]["separate_by_kind"]:.4f}){_kind_verdict(card)}.

## Explanation
{card["explanation_method"]}

## Data and splits (by sample date, 30-day embargo at each edge; cut-off {card["cutoff"]})
| source | file | fit | validate | test |
|---|---|---|---|---|
{splits}

Nothing dated after {card["cutoff"]} fits, calibrates or chooses settings. MIE ends in 2014, so the
interstate test period is 2005-2014 (never fit or used to choose settings); GED slices give 2018-2023.
Interstate histories: MIE days + ICB v14 crisis triggers (trigger type mapped to the ladder) and
agreed terminations + MID 5 settlements as agreements (app/ml/crises.py). Samples: every day a
dyad has events, every ICB trigger date (a crisis as it breaks out, labelled by the MIE fatalities
that followed), plus quiet follow-ups 15/45/90/180/365/730 days after an event. Structural context
is point-in-time (previous year's contiguity, rivalry, major power; armed conflict in earlier years
from COW wars and UCDP/PRIO ACD). Samples: {samples}. Data files:
{files}

## Out-of-time test metrics (m = model, p = persistence, r = recent_violence, c = climatology)
```
{table(card["metrics"])}
```
BSS = Brier skill score (1 - Brier_model / Brier_baseline). Reliability of the primary target
(equal-width bins of P: [mean P, observed rate, n]; all targets in the JSON card):
{_reliability(card)}

Three baselines, each fit on the fit period of the test set's own source (never on the test period):
- `persistence` (p), the textbook forecast: the target's own value over the previous 30 days, (t-30, t]
  (for `serious_violence_30d`: were there >= 25 deaths in the dyad in the last 30 days; the other targets
  by their own definitions, `app/ml/labels.py`), turned into a probability as the fit-period frequency of
  the target given that value. Primary target, P(serious violence | value 0 / 1): {_persistence_tables(card)}.
- `recent_violence` (r), a stronger baseline: a logistic regression on recent violence only (events,
  log deaths and max hostility over the last 30 days).
- `climatology` (c): the fit-period base rate.

The other family on the same test sets:
```
{others}
```

### The bar for the primary target (ROC-AUC >= baseline + 0.03 and Brier skill vs baseline >= 0.05)
Shown against both the textbook persistence and the stronger recent_violence baseline. In brackets:
95% intervals from a dyad-level bootstrap of the test set ({_boot(card)}; whole dyads drawn with
replacement, since a dyad's samples are correlated in time); the verdict uses the point figures.
| test set | baseline | n | positives | ROC-AUC model | ROC-AUC baseline | lift [95%] | BSS vs baseline [95%] | bar |
|---|---|---|---|---|---|---|---|---|
{_bar(card)}

{_bar_sentence(card)}

## Episode benchmark (episodes after the fit period, scored as the service would from events)
| set | episodes (dyad-dates) | serious violence followed | AUC model | AUC fatalities so far | AUC persistence | AUC recent_violence |
|---|---|---|---|---|---|---|
{_episodes(card)}

How episodes are defined (nothing was tuned on them; the validation rows are shown for reference):
{_episode_definitions(card)}

"Fatalities so far" = the dyad's deaths over the year up to the episode's date. ICB v14 ends in 2017
and MIE in 2014: no interstate crisis after 2014 has daily events in the shared data to score it from,
so episodes after the cut-off (2018-2023) come from GED flare-ups.

## What the data say about reciprocity and de-escalation
{_findings(card)}

## Risk levels (P of the primary target)
{levels}.

## Inputs
{_INPUTS}

## Limitations
- The bar is missed where the table above says MISSES: serious violence within 30 days is highly
  persistent in dense GED dyads (recent_violence alone reaches a high ROC-AUC there), and the
  interstate test period 2005-2014 holds very few serious-violence samples, so its ROC-AUC is noisy.
- The ICB episode sets have few crises with serious violence after them: their AUCs are indicative.
- ICB trigger events may duplicate an MIE event on the same day (counted twice in tempo).
- Training data carry no explicit retaliation flag: reciprocity is learnt from direction (MIE, ICB);
  GED clashes are non-directed, so non-state dyads get no reciprocity signal.
- MIE has no location: events are placed on the target's territory.
- Structural context stops at the sources' coverage (contiguity and majors 2016, rivalries 2010/2020,
  ACD 2024); spells running to the end are treated as ongoing.
- GED slices are three countries (Mexico, Myanmar, Syria): non-state results may not transfer.

## Citations
{cites}
"""
