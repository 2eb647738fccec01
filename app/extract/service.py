"""A report's mentions resolved into draft events: mentions of one act merged, dates and places filled from the
mentions that name them, each field with its evidence. Nothing is read from or written to the database."""

import bisect
import copy
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from pydantic import ValidationError

from app import errors
from app.events.schemas import EventCreate
from app.extract import places, rules
from app.extract.schemas import MAX_TEXT_CHARS, DraftEvidence, Evidence, ExtractResult, Unresolved

CONFIDENCE = {"date": 0.85, "actor1": 0.85, "actor2": 0.75, "location": 0.8, "action": 0.8, "fatalities": 0.75,
              "civilian_fatalities": 0.7, "weapons": 0.8, "retaliation": 0.75, "responds_to": 0.7}


@dataclass
class Draft:
    actor1: tuple[str, tuple[int, int]]
    location: tuple[str, str | None, tuple[int, int]] | None
    on: tuple[date, tuple[int, int]] | None
    action: str
    mentions: list[rules.Mention] = field(default_factory=list)
    actor2: tuple[str, str, tuple[int, int]] | None = None  # (name, kind, span): a state's name is its code
    fatalities: tuple[int, tuple[int, int]] | None = None
    civilians: tuple[int, tuple[int, int]] | None = None
    weapons: dict[str, tuple[int, int]] = field(default_factory=dict)
    retaliation: tuple[int, int] | None = None
    responds_to: "Draft | None" = None


def check_text(text: str) -> None:
    """Refuse what is not one report: empty, too long, or not text."""
    if not text.strip():
        raise errors.InvalidInput("text is empty", field="text")
    if len(text) > MAX_TEXT_CHARS:
        raise errors.PayloadTooLarge(f"text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}", field="text")
    controls = sum(1 for c in text if unicodedata.category(c) in ("Cc", "Cs", "Co") and c not in "\n\r\t")
    # A lone surrogate (JSON lets "\ud800" through) is not text either: it cannot even be encoded.
    if "\x00" in text or controls > max(2, len(text) // 100) or re.search("[\ud800-\udfff]", text):
        raise errors.InvalidInput("text looks binary (NUL or control characters): send the report as plain text",
                                  field="text")


def _fold(d: Draft, m: rules.Mention) -> None:
    d.mentions.append(m)
    if m.group and (d.actor2 is None or d.actor2[1] == "state" or d.actor2[0] == "militants") and \
            not (d.actor2 and d.actor2[1] == "non_state" and m.group[0] == "militants"):
        d.actor2 = (m.group[0], "non_state", m.group[1])
    if d.actor2 is None and m.targets and m.targets[0][0] != d.actor1[0]:
        d.actor2 = (m.targets[0][0], "state", m.targets[0][1])
    if m.place and m.place[0] and (d.location is None or (d.location[1] is None and m.place[1]
                                                          and m.place[0] == d.location[0])):
        d.location = m.place
    d.on = d.on or m.on
    if d.fatalities is None and m.fatalities:
        d.fatalities, d.civilians = m.fatalities, m.civilians
    for w, span in m.weapons.items():
        d.weapons.setdefault(w, span)
    d.retaliation = d.retaliation or m.retaliation


def _key_place(m: rules.Mention) -> str | None:
    return m.place[0] if m.place and m.place[0] else None


def _resolve(found: list[rules.Mention], text: str) -> tuple[list[Draft], list[Unresolved]]:
    drafts: list[Draft] = []
    unresolved: list[Unresolved] = []
    owner: dict[int, Draft] = {}
    actors = [m for m in found if m.actor1]
    starts = sorted({m.sentence[0] for m in found})
    # Anaphora: "were killed in the strikes" gives its dead, weapons and motive to the act named just before.
    for m in found:
        denied = re.search(r"\b(?:denied|denies|deny|no|not|never)\b", text[m.sentence[0]:m.trigger[0]])
        if m.actor1 is None and m.anaphoric and not m.after_break and m.on is None and not denied:
            prior = [a for a in actors if a.trigger[0] < m.trigger[0] and not a.after_break and a.action
                     and _sentences_between(starts, a, m) <= 1]
            if prior:
                p = prior[-1]
                if p.fatalities is None:
                    p.fatalities, p.civilians = m.fatalities, m.civilians
                for w, span in m.weapons.items():
                    p.weapons.setdefault(w, span)
                p.retaliation = p.retaliation or m.retaliation
    # A narrative keeps its time and place: an act told without them takes those of the act told just before
    # ("South Korea returned fire", "then seized the vessels"), within two sentences.
    for m in actors:  # a dated act with no place, in the place its actor was just told acting
        prior = [a for a in actors if a.trigger[0] < m.trigger[0] and a.action and not a.after_break
                 and _sentences_between(starts, a, m) <= 2]
        if m.place is None and m.action and m.on is not None:
            same = [a for a in prior if a.actor1[0] == m.actor1[0] and a.place]
            if same:
                m.place = same[-1].place
    # Each dated act with a place opens a draft (one per target state it names); undated ones join a draft.
    for m in actors:
        if m.on is None or _key_place(m) is None or m.action is None:
            continue
        targets = m.where if len(m.where) > 1 else [None]
        for n, t in enumerate(targets):
            mm = m if t is None else _split(m, t, first=n == 0)
            place = _key_place(mm)
            d = next((d for d in drafts if d.actor1[0] == mm.actor1[0] and d.on[0] == mm.on[0]
                      and d.location[0] == place and d.action == mm.action), None)
            if d is None:
                d = Draft(actor1=mm.actor1, location=None, on=None, action=mm.action)
                drafts.append(d)
            _fold(d, mm)
            owner[id(m)] = d
    for m in actors:
        if id(m) in owner:
            continue
        place = _key_place(m)
        same = [d for d in drafts if d.actor1[0] == m.actor1[0] and (place is None or d.location[0] == place)
                and (m.on is None or d.on[0] == m.on[0]) and m.action in (None, d.action)]
        if not same and m.on is not None and place is None:
            same = [d for d in drafts if d.actor1[0] == m.actor1[0] and d.on[0] == m.on[0]]
        if m.on is None and place is None and len(same) > 1:
            continue  # "Tehran's strikes" with three Iranian strikes drafted: which one is not said
        if not same and m.on is None and m.action and not m.after_break:
            inherited = _inherit(m, actors, starts)
            if inherited is not None:
                d = Draft(actor1=m.actor1, location=None, on=None, action=m.action)
                m.on, m.inherited = inherited, True
                if m.place is None:
                    m.place = next((a.place for a in reversed(actors) if a.trigger[0] < m.trigger[0]
                                    and a.actor1[0] == m.actor1[0] and a.place), None)
                if m.place is not None:
                    drafts.append(d)
                    _fold(d, m)
                    owner[id(m)] = d
                    continue
        if same:
            before = [d for d in same if d.mentions[0].trigger[0] < m.trigger[0]]
            d = (before or same)[-1]
            _fold(d, m)
            owner[id(m)] = d
        elif m.action is not None:
            why = "no date for this act" if m.on is None else "no place: where it happened is not named"
            unresolved.append(_unresolved(text, m, why))
    for m in found:
        if m.actor1 is None and m.action and not m.anaphoric and (m.targets or m.place or m.fatalities):
            unresolved.append(_unresolved(text, m, "no acting state named"))
    for m in found:  # dead counted apart ("no one was killed"): the act told last before them, if it has none
        if m.orphan:
            before = [d for d in drafts if d.mentions[0].trigger[0] < m.trigger[0] and d.fatalities is None]
            if before:
                last = max(before, key=lambda d: max(x.trigger[0] for x in d.mentions if x.trigger[0] < m.trigger[0]))
                last.fatalities, last.civilians = m.fatalities, m.civilians
    for m in actors:
        if id(m) in owner and m.responds_to is not None and id(m.responds_to) in owner:
            owner[id(m)].responds_to = owner[id(m.responds_to)]
    for d in drafts:
        if d.retaliation and d.responds_to is None:
            d.responds_to = _answered(d, drafts)
    return drafts, unresolved


def _inherit(m: rules.Mention, actors: list[rules.Mention], starts: list[int]):
    """A narrative keeps its time: an act told with no date ("South Korea returned fire", "then seized the
    vessels") takes the date of the act told just before it, within two sentences, when it has a place or its
    actor was just placed."""
    prior = [a for a in actors if a.trigger[0] < m.trigger[0] and a.action and not a.after_break and a.on
             and _sentences_between(starts, a, m) <= 2]
    placed = m.place or any(a.actor1[0] == m.actor1[0] and a.place for a in prior)
    return prior[-1].on if prior and placed else None


def _split(m: rules.Mention, where, first: bool) -> rules.Mention:
    """One of the acts of "struck targets in Iraq and Syria"; the dead counted go with the first."""
    mm = copy.copy(m)
    mm.place = m.place if m.place and m.place[0] == where[0] else (where[0], None, where[1])
    if not first:
        mm.fatalities = mm.civilians = None
    return mm


def _sentences_between(starts: list[int], a: rules.Mention, b: rules.Mention) -> int:
    return bisect.bisect_right(starts, b.sentence[0]) - bisect.bisect_right(starts, a.sentence[0])


def _answered(d: Draft, drafts: list[Draft]) -> Draft | None:
    """The latest earlier act by the state this one hits, against this one's state."""
    hit = {d.location[0], d.actor2[0] if d.actor2 else None}
    earlier = [e for e in drafts if e is not d and e.on[0] <= d.on[0] and e.actor1[0] in hit
               and d.actor1[0] in {e.location[0], e.actor2[0] if e.actor2 else None}]
    return max(earlier, key=lambda e: e.on[0]) if earlier else None


def _unresolved(text: str, m: rules.Mention, why: str) -> Unresolved:
    s, e = m.sentence
    return Unresolved(start=s, end=e, sentence=text[s:e], reason=why)


def _refused(record: dict) -> str | None:
    try:
        EventCreate.model_validate(record)
    except ValidationError as exc:
        return exc.errors()[0]["msg"]
    return None


def _link(drafts: list[Draft]) -> None:
    """Keep only answers that a batch can take as they are: to another draft in `drafts`, dated on or before the
    answer, with no cycle."""
    keep = {id(d) for d in drafts}
    for d in drafts:
        r = d.responds_to
        if r is None:
            continue
        if r is d or id(r) not in keep or r.on[0] > d.on[0]:
            d.responds_to = None
            continue
        seen, x = {id(d)}, r
        while x is not None and id(x) not in seen:
            seen.add(id(x))
            x = x.responds_to
        if x is not None:  # following the answers leads back to d: a cycle
            d.responds_to = None


def _ordered(drafts: list[Draft]) -> list[Draft]:
    """Oldest first, then in text order, an answered act always before its answer, as a batch requires."""
    out: list[Draft] = []
    done: set[int] = set()

    def emit(d: Draft) -> None:
        if id(d) in done:
            return
        done.add(id(d))
        if d.responds_to is not None:
            emit(d.responds_to)
        out.append(d)

    for d in sorted(drafts, key=lambda d: (d.on[0], d.mentions[0].trigger[0])):
        emit(d)
    return out


def _sid(text: str, d: Draft, digest: str | None = None) -> str:
    digest = digest or hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]
    other = re.sub(r"[^a-z0-9]+", "-", places.fold(d.actor2[0]) if d.actor2 else "none").strip("-")[:30]
    return f"{digest}:{d.on[0].isoformat()}:{d.actor1[0]}:{other}:{d.location[0]}:{d.action}"


def _ev(text: str, span: tuple[int, int], name: str, confidence: float | None = None) -> Evidence:
    return Evidence(start=span[0], end=span[1], text=text[span[0]:span[1]],
                    confidence=confidence if confidence is not None else CONFIDENCE[name])


def _event(text: str, d: Draft, source: str, url: str | None, ids: dict[int, str]) -> tuple[dict, dict]:
    a1 = d.actor1[0]
    record = {"source": source, "source_event_id": ids[id(d)], "occurred_on": d.on[0].isoformat(),
              "actor1": {"name": places.readable(a1), "country": a1, "kind": "state"},
              "location": {"country": d.location[0]}, "action": d.action}
    fields = {"occurred_on": _ev(text, d.on[1], "date"), "actor1": _ev(text, d.actor1[1], "actor1"),
              "location.country": _ev(text, d.location[2], "location"), "action": _ev(text, d.mentions[0].trigger,
                                                                                     "action")}
    actor2 = d.actor2 or (d.location[0], "state", d.location[2])
    if actor2[0] != a1:
        if actor2[1] == "state":
            record["actor2"] = {"name": places.readable(actor2[0]), "country": actor2[0], "kind": "state"}
        else:
            name = actor2[0] if actor2[0] != "militants" else f"Militants ({places.readable(d.location[0])})"
            record["actor2"] = {"name": name, "kind": "non_state"}
        fields["actor2"] = _ev(text, actor2[2], "actor2", None if d.actor2 else 0.5)
    if d.location[1]:
        record["location"]["admin1"] = d.location[1]
        fields["location.admin1"] = _ev(text, d.location[2], "location", 0.7)
    if d.fatalities:
        record["fatalities"] = d.fatalities[0]
        fields["fatalities"] = _ev(text, d.fatalities[1], "fatalities")
        if d.civilians:
            record["civilian_fatalities"] = d.civilians[0]
            fields["civilian_fatalities"] = _ev(text, d.civilians[1], "civilian_fatalities")
    if d.weapons:
        record["weapons"] = sorted(d.weapons)
        for w, span in d.weapons.items():
            fields[f"weapons.{w}"] = _ev(text, span, "weapons")
    if d.retaliation:
        record["retaliation"] = True
        fields["retaliation"] = _ev(text, d.retaliation, "retaliation")
    if d.responds_to is not None and id(d.responds_to) in ids:
        record["responds_to"] = ids[id(d.responds_to)]
        fields["responds_to"] = _ev(text, d.responds_to.mentions[0].trigger, "responds_to")
    s, e = d.mentions[0].sentence
    record["notes"] = (f"drafted from {url}: " if url else "drafted from a report: ") + text[s:e][:3500]
    return record, fields


def extract(text: str, published_on: date, source: str = "extract", url: str | None = None) -> ExtractResult:
    """Draft events from a report; nothing is stored."""
    check_text(text)
    skipped: list[tuple[int, int, str]] = []
    drafts, unresolved = _resolve(rules.mentions(text, published_on, skipped), text)
    unresolved += [Unresolved(start=s, end=e, sentence=text[s:min(e, s + 200)], reason=why) for s, e, why in skipped]
    digest = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]
    ids = {id(d): _sid(text, d, digest) for d in drafts}
    # A draft the contract refuses is reported, never returned half-valid, and no answer may name it.
    valid: list[Draft] = []
    for d in drafts:
        record, _ = _event(text, d, source, url, {i: v for i, v in ids.items() if i == id(d)})
        why = _refused(record)
        if why:
            s, e = d.mentions[0].sentence
            unresolved.append(Unresolved(start=s, end=e, sentence=text[s:e],
                                         reason=f"draft refused by the event contract: {why}"))
        else:
            valid.append(d)
    _link(valid)
    ids = {id(d): ids[id(d)] for d in valid}
    events, evidence = [], []
    for d in _ordered(valid):
        record, fields = _event(text, d, source, url, ids)
        try:
            event = EventCreate.model_validate(record)
        except ValidationError as exc:
            s, e = d.mentions[0].sentence
            unresolved.append(Unresolved(start=s, end=e, sentence=text[s:e],
                                         reason=f"draft refused by the event contract: {exc.errors()[0]['msg']}"))
            continue
        events.append(event)
        evidence.append(DraftEvidence(source_event_id=event.source_event_id, fields=fields,
                                      confidence=min(f.confidence for f in fields.values())))
    if not events and not unresolved:
        unresolved.append(Unresolved(start=0, end=min(len(text), 200), sentence=text[:200],
                                     reason="no sentence describes an act of force between states"))
    unresolved.sort(key=lambda u: u.start)
    return ExtractResult(events=events, evidence=evidence, unresolved=unresolved)
