"""The human-readable model card (models/MODEL_CARD.md), rendered from the JSON card by train.py."""

from app.ml.evaluate import table

DRIVERS_METHOD = (
    "For each feature, the primary target's calibrated probability is recomputed with that feature set to its "
    "reference value (the fit-period median), all other features unchanged, in one batched predict; "
    "contribution = P(actual) - P(feature at reference). Positive means the feature raises the risk. "
    "The top 5 by absolute contribution are reported; contributions are not additive."
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
| fatalities | log_fatalities_30d/365d, fatal_events_30d, fatality_trend_30d |
| civilian_fatalities | log_civilian_fatalities_30d |
| weapons | standoff_30d (any of vocabulary.STANDOFF_WEAPONS) |
| location.country vs actor1.country | cross_border_30d, and the territorial state-state link |
| retaliation | counted as a response in responses_30d / reciprocated_30d / tit_for_tat_chain_30d |
| state member ISO3 + date | contiguous, rivalry, major_power (models/context.json) |

Stored but not scored: injured, notes, responds_to, location.admin1, latitude/longitude, source,
actor names (beyond the non-state slug), the time of day of a datetime."""


def render(card: dict) -> str:
    """Markdown for people; the JSON card stays the source of truth."""
    splits = "\n".join(
        f"| {k} | {v['file']} | {v['fit']} | {v['validate']} | {v['test']} |" for k, v in card["splits"].items()
    )
    levels = ", ".join(
        f"{k} >= {v:.3f}" if v is not None else f"{k}: never reached" for k, v in card["thresholds"].items()
    )
    targets = "\n".join(f"- `{k}`: {v}" for k, v in card["target_definitions"].items())
    mono = "\n".join(f"- `{k}`: {v}" for k, v in card["monotonic_rationale"].items())
    level_note = (
        "- `critical` is never assigned: no validation cut-off reaches 50% precision on the primary target."
        if card["thresholds"]["critical"] is None
        else "- Levels are modest: `critical` means about even odds of escalation on validation (precision 0.5),\n"
        "  `high` about 0.4, against a fit-period base rate of {:.2f}.".format(card["thresholds"]["elevated"])
    )
    cites = "\n".join(f"- {c}" for c in card["citations"])
    samples = ", ".join(f"{k} {v}" for k, v in card["samples"].items())
    chosen = "; ".join(f"{t}: {v['params']}" for t, v in card["selection"].items())
    files = "\n".join(f"- `{k}` sha256 `{v}`" for k, v in card["data_files"].items())
    return f"""# Model card: escalation-risk {card["version"]}

Reproduce: `{card["training_command"]}` (evaluate: `.venv/bin/python -m app.ml.evaluate`).
Artifact `{card["artifact"]["file"]}` sha256 `{card["artifact"]["sha256"]}`;
scikit-learn {card["libraries"]["scikit-learn"]}.

## Targets (primary: `{card["primary"]}`)
{targets}

## Model
{card["estimator"]}. One model for interstate and non-state dyads: GED alone has few state-state
dyads and MIE none with non-state actors, so the two sources share what transfers (tempo,
severity, casualties, decay) and the `kind_*` features let the trees separate them.
Settings chosen by validation log-loss from a small grid capped at 100 trees per target (one-dyad
latency budget of 5 ms): {chosen}.
Monotonic constraints:
{mono}

## Data and splits (by sample date, 30-day embargo at each edge)
| source | file | fit | validate | test |
|---|---|---|---|---|
{splits}

Samples: every day a dyad has events, plus quiet follow-ups 15/45/90/180/365/730 days after an
event when nothing happened in between. The 1,000-row global GED sample is used for importer
tests only (a random sample has no dyad histories). Samples: {samples}. Data files:
{files}

## Out-of-time test metrics (m = model, p = persistence, c = climatology)
```
{table(card["metrics"])}
```
BSS = Brier skill score (1 - Brier_model / Brier_baseline). Reliability bins are in the JSON card.

## Risk levels (P of the primary target, from validation)
{levels}. Elevated starts at the fit-period base rate; high and critical where validation precision
reaches 0.4 and 0.5 (at least 50 validation samples at or above the cut-off); a level whose
precision is never reached is never assigned.

## Drivers
{card["drivers_method"]}

## Inputs
{_INPUTS}

## Limitations
- `escalation_30d` beats persistence and climatology on both test sets, but modestly (see the
  table: ROC-AUC about 0.67, Brier skill under 0.1). Dense, bloody periods of GED dyads get the
  highest scores yet rarely "escalate" by this definition (the bar is the previous 30 days), and
  GED escalation calibration is no better than persistence's. The secondary targets do better.
- Reciprocity, as the data show it: in MIE (fit + validation), a single answered strike is
  followed by escalation *less* often than a one-sided action (0.15 vs 0.21), while tit-for-tat
  chains of 4+ are followed by escalation more often (0.25). The monotone constraint keeps
  `responses_30d` and `tit_for_tat_chain_30d` from lowering the risk; `reciprocated_30d` is left free.
  The validated model gives all of them about zero weight for a first exchange, so in the seed
  scenario (Iran strikes, Pakistan retaliates) the risk rises through casualties, tempo and the
  dyad's novelty, and the drivers do not name reciprocity. The explicit `retaliation` flag has no
  learnt effect of its own: no training source carries it.
{level_note}
- Training data carry no explicit retaliation flag: reciprocity is learnt from direction (MIE);
  GED clashes are non-directed, so non-state dyads get no reciprocity signal.
- MIE has no location: events are placed on the target's territory, so `cross_border_30d` is
  informative only from GED (e.g. Turkey in Syria) and API data.
- Unknown MIE start days are placed on the last day of the month and multi-day GED events on
  their end date (when their deaths are known), so features never see an event early;
  historical states without ISO3 are skipped.
- Structural context stops at the sources' coverage (contiguity and majors 2016, rivalries
  2010/2020); spells running to the end are treated as ongoing.
- GED slices are three countries (Mexico, Myanmar, Syria): non-state results may not transfer.
- escalation_30d compares with the previous 30 days, so a dyad at a high level can only escalate
  by going higher: after a bloody month the label is harder to reach.

## Citations
{cites}
"""
