"""The vectorised features equal the per-event reference implementation, value for value."""

import random
from datetime import date, timedelta

import numpy as np
import pytest

from app.events.facts import DYAD_KINDS, DyadContext, EventFact, FactColumns, Fronts
from app.ml import features
from app.ml.features import FEATURE_NAMES, build_matrix
from tests.ml import reference

START = date(2000, 1, 1)


def random_history(rng: random.Random, n: int, members=("AAA", "BBB"), span: int = 900) -> list[EventFact]:
    """Dense, tied and mixed histories: same-day events, flags, clashes, missing targets, de-escalations."""
    out = []
    for _ in range(n):
        a, b = rng.sample(members, 2)
        deesc = rng.random() < 0.15
        out.append(EventFact(
            occurred_on=START + timedelta(days=rng.randrange(0, span)), initiator=a,
            target=None if rng.random() < 0.05 else b,
            hostility=1 if deesc else rng.randint(1, 5), rung=rng.randint(0, 10),
            fatalities=rng.choice([0, 0, 0, 1, 3, 40, 250]), civilian_fatalities=rng.choice([0, 0, 2]),
            retaliation=rng.random() < 0.15, deescalation=deesc, directed=rng.random() > 0.2,
            cross_border=rng.random() < 0.3, standoff=rng.random() < 0.3,
        ))
    return out


def items_for(rng: random.Random, dyads: int) -> list:
    items = []
    for _ in range(dyads):
        shape = rng.random()
        if shape < 0.1:
            facts = []
        elif shape < 0.3:  # a burst: many events within a few weeks, long tit-for-tat chains
            facts = random_history(rng, rng.randrange(1, 80), span=rng.choice([3, 20, 60]))
        elif shape < 0.4:  # more than two members (training histories can have them)
            facts = random_history(rng, rng.randrange(1, 40), members=("AAA", "BBB", "CCC"))
        else:
            facts = random_history(rng, rng.randrange(1, 60))
        ctx = DyadContext(kind=rng.choice([*DYAD_KINDS, "reference"]), contiguous=rng.random() < 0.5,
                          rivalry=rng.random() < 0.3, major_power=rng.random() < 0.3,
                          past_armed_conflict=rng.random() < 0.3,
                          fronts=Fronts(k := rng.choice([0, 0, 1, 4]), rng.randrange(0, 50) * (k > 0)))
        for _ in range(rng.choice([1, 1, 1, 3])):  # some dyads at several dates, as training asks
            as_of = START + timedelta(days=rng.randrange(-30, 1000))
            items.append((facts, as_of, ctx))
    return items


def assert_equal_to_reference(items: list) -> None:
    new = build_matrix(items)
    old = reference.build_matrix(items)
    # every feature of the registry has its per-event reference: a feature added without one fails here
    assert sorted(reference.REFERENCE_NAMES) == sorted(FEATURE_NAMES)
    for k, name in enumerate(reference.REFERENCE_NAMES):
        if name.startswith("decayed_deaths_"):  # a sum of floats, added in another order by the reference
            np.testing.assert_allclose(new[:, FEATURE_NAMES.index(name)], old[:, k], rtol=1e-12, err_msg=name)
        else:
            np.testing.assert_array_equal(new[:, FEATURE_NAMES.index(name)], old[:, k], err_msg=name)


@pytest.mark.parametrize("seed", range(6))
def test_features_equal_the_reference_on_random_batches(seed):
    assert_equal_to_reference(items_for(random.Random(seed), 150))


def test_ranked_reciprocity_keys_give_the_same_features(monkeypatch):
    """Keys too large for the (key, position) stamps are ranked first: the features do not change."""
    items = items_for(random.Random(7), 150)
    direct = build_matrix(items)
    monkeypatch.setattr(features, "_STAMP_LIMIT", 0)  # every batch takes the ranked path
    np.testing.assert_array_equal(build_matrix(items), direct)
    assert_equal_to_reference(items)


def test_one_row_at_a_time_equals_the_batch_and_columns_equal_lists():
    items = items_for(random.Random(42), 40)
    batch = build_matrix(items)
    for i, item in enumerate(items):
        np.testing.assert_array_equal(build_matrix([item])[0], batch[i])
        columns = (FactColumns.of(item[0]), item[1], item[2])
        np.testing.assert_array_equal(build_matrix([columns])[0], batch[i])
    assert_equal_to_reference([(list(FactColumns.of(f)), d, c) for f, d, c in items])


def test_edge_dates_and_empty_batches():
    facts = random_history(random.Random(1), 30)
    assert build_matrix([]).shape == (0, len(FEATURE_NAMES))
    assert_equal_to_reference([([], START, DyadContext(kind="state_state"))])
    assert_equal_to_reference([(facts, f.occurred_on + timedelta(days=d), DyadContext(kind="state_state"))
                               for f in facts for d in (-1, 0, 1, 29, 30, 31, 90, 91, 364, 365, 366)])
