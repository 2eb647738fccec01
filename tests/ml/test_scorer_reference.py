"""Scores from the vectorised path equal the per-event reference: drivers (labels, facts, sums) word for
word, and a row scored alone equals the same row in a batch."""

import random

from app.ml.scorer import TOP_DRIVERS, Scorer
from tests.ml import reference
from tests.ml.test_features_reference import items_for

MEMBERS = ("IRN", "PAK", "nsa:jaish-al-adl", "civ:PAK")


def test_drivers_equal_the_reference(scorer: Scorer):
    rng = random.Random(5)
    items = items_for(rng, 300)
    names = dict(zip(("AAA", "BBB", "CCC"), MEMBERS))  # real member ids, so the labels name countries and groups
    items = [([f.__class__(**{**{s: getattr(f, s) for s in f.__slots__}, "initiator": names[f.initiator],
                              "target": names.get(f.target)}) for f in facts], as_of, ctx)
             for facts, as_of, ctx in items]
    scores = scorer.score_many(items)
    labels = set()
    for (facts, as_of, ctx), score in zip(items, scores):
        expected = reference.drivers(facts, as_of, ctx, score.features, score.explanation["contributions"],
                                     TOP_DRIVERS)
        assert score.drivers == expected
        labels |= {d["label"].split(";")[0].split(" ")[0] for d in score.drivers}
    assert {"Iran", "Pakistan", "no"} <= labels  # the histories did reach the labels that name who struck


def test_a_row_alone_equals_the_row_in_a_batch(scorer: Scorer):
    items = items_for(random.Random(9), 60)
    for item, in_batch in zip(items, scorer.score_many(items)):
        alone = scorer.score(*item)
        assert alone == in_batch
