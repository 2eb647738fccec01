"""Sample dates, time-ordered splits with an embargo, the context table and the evaluation helpers."""

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from app.ml import artifact, dataset, evaluate
from app.ml.context import ContextTable, build_table

MODELS = Path(__file__).resolve().parents[2] / "models"


def test_quiet_follow_ups_only_where_nothing_happened():
    d0 = date(2000, 1, 1).toordinal()
    days = np.array([d0, d0 + 20, d0 + 20])
    out = set(dataset.sample_days(days, d0 + 10_000) - d0)
    assert {0, 15, 20, 35, 65, 110, 200, 385, 750} == out  # 45 after day 0 would pass day 20: dropped


def test_sample_days_stop_where_the_horizon_leaves_the_data():
    d0 = date(2000, 1, 1).toordinal()
    assert dataset.sample_days(np.array([d0]), d0 + 100).max() == d0 + 90


def test_splits_are_time_ordered_with_an_embargo():
    source = dataset.SOURCES[0]
    days = np.array(
        [
            date(y, m, d).toordinal()
            for y, m, d in [(1994, 12, 1), (1994, 12, 15), (1995, 1, 1), (2004, 11, 30), (2004, 12, 15), (2005, 1, 1)]
        ]
    )
    assert list(dataset._split(days, source)) == ["fit", "", "val", "val", "", "test"]


def test_validation_stays_before_the_cut_off():
    for source in dataset.SOURCES:
        assert date(source.val_end, 12, 31) <= dataset.CUTOFF


def test_only_training_sources_fit_the_model():
    assert dataset.TRAINING_SETS == ("mie_interstate", "ged_global")
    assert set(dataset.TEST_SETS) == {"mie_interstate", "ged_global", "ged_slices"}


def test_thresholds_on_a_known_case():
    p = np.linspace(0, 1, 1000)
    y = (np.random.default_rng(0).random(1000) < p).astype(int)
    cuts = evaluate.thresholds(p, y)
    assert [c["cut"] for c in cuts.values()] == [0.05, 0.2, 0.5]
    assert cuts["critical"]["validation_support"] == 500 and cuts["critical"]["validation_precision"] > 0.7


def test_a_flare_up_is_an_event_day_after_90_quiet_days():
    d0 = date(2018, 1, 1).toordinal()
    events = np.array([d0, d0 + 5, d0 + 95, d0 + 96, d0 + 187, d0 + 300])
    samples = np.array([d0, d0 + 5, d0 + 50, d0 + 95, d0 + 96, d0 + 187, d0 + 300])
    # first event; 95 - 5 = 90 days is not >= 90 quiet days before it; 187 - 96 = 91 is; 300 too
    assert list(samples[dataset.flare_ups(events, samples)] - d0) == [0, 187, 300]


@pytest.mark.shared_data
def test_bundled_context_table_is_reproducible_from_the_data(data_dir: Path):
    table = build_table(data_dir)
    assert table == json.loads((MODELS / artifact.CONTEXT).read_text())
    ctx = ContextTable(table)
    assert ctx.context_for("IND", "PAK", date(2024, 1, 1)).rivalry
    assert not ctx.context_for("IRN", "PAK", date(2024, 1, 1)).rivalry
    assert ctx.context_for("DEU", "FRA", date(1870, 7, 1)).major_power
    # point in time: a conflict counts only from the year after it was fought (ACD: Armenia-Azerbaijan 2020)
    assert ctx.context_for("IND", "PAK", date(2024, 1, 1)).past_armed_conflict
    assert not ctx.context_for("ARM", "AZE", date(1991, 1, 1)).past_armed_conflict
    assert not ctx.context_for("NOR", "SWE", date(2024, 1, 1)).past_armed_conflict


@pytest.mark.shared_data
def test_card_records_the_data_files_it_was_trained_on(data_dir: Path):
    card = json.loads((MODELS / artifact.CARD).read_text())
    for name, digest in card["data_files"].items():
        assert artifact.sha256(data_dir / name) == digest, name
