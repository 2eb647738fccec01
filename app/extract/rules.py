"""From sentences to mentions: each word of force (a trigger) with the state before it, what it hit after it,
when, with what, and the dead. Windows run from the previous trigger (or a clause break) to the next one."""

import bisect
import re
from dataclasses import dataclass, field
from datetime import date

from app.extract import dates, places

Span = tuple[int, int]

# Words of force -> canonical action (app/events/vocabulary.py). "targeted" only adds to a mention found elsewhere.
TRIGGERS = [
    ((r"air ?strikes?|drone strikes?|missile strikes?|strikes?|struck|striking|attack(?:s|ed)?|assault|bombard(?:ed|ment)"
      r"|shell(?:ed|ing)|bomb(?:ed|ing|ings)|fired|launched missiles|raids?|raided|hit|shot down|downed|explosions?"
      r"|offensive|barrage|bombardment|air campaign"), "attack"),
    (r"chemical (?:weapons? )?attack|gas attack|nerve agent attack", "use_of_cbr"),
    (r"clash(?:es|ed)?|skirmish(?:es)?|fought|firefight|brawl|hand-to-hand", "clash"),
    (r"seized|captured|detained", "seizure"),
    (r"violated (?:the |its )?airspace|incursions?|intrusions?", "border_violation"),
    (r"targeted", None),
]
_TRIGGER = re.compile(r"\b(?:" + "|".join(f"(?P<t{i}>{p})" for i, (p, _) in enumerate(TRIGGERS)) + r")\b")
WEAPONS = [
    (r"loitering munitions?|kamikaze drones?|Shahed", "loitering_munition"), (r"stand-?off weapons?", "standoff_weapon"),
    (r"drones?|UAVs?", "drone"), (r"rockets?", "rocket"), (r"(?:ballistic |cruise )?missiles?", "missile"),
    (r"artillery|shell(?:ed|ing|s)", "artillery"), (r"mortars?", "mortar"),
    (r"air ?strikes?|jets?|fighter planes?|aircraft|air force", "airstrike"),
    (r"gunfire|rifles?|small arms|machine guns?|shot dead", "small_arms"), (r"tanks?|armou?red", "armor"),
    (r"warships?|navy|naval|frigates?", "naval"), (r"iron rods|clubs|batons|stones|rocks", "other"),
]
NUMBERS = {w: n for n, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
NUMBERS.update({"thirty": 30, "forty": 40, "fifty": 50, "a dozen": 12, "dozen": 12, "a hundred": 100})
# A number starts only at the first digit of a run and takes commas only as thousands separators: "\d[\d,]*" backtracked
# catastrophically on "1,1,1,...".
_NUM = r"(?P<n>(?<![\d,])(?:\d{1,3}(?:,\d{3})+|\d+)(?!\d|,\d)|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + r")"
_KILLED_ACTIVE = re.compile(rf"\b(?:killed|killing|kills)\s+(?:at least |some |about |around |more than |nearly |up to )?"
                            rf"{_NUM}\b(?P<who>[^.;:]{{0,60}})", re.IGNORECASE)
_KILLED_PASSIVE = re.compile(rf"\b{_NUM}\b(?P<who>[^.;:\d]{{0,90}}?)\b(?:were|was|have been|had been|are|been)?\s*"
                             r"(?:killed|dead|died|lost their lives)\b", re.IGNORECASE)
_NONE_KILLED = re.compile(r"\b(?:no one|nobody|no (?:casualties|deaths|fatalities|one)|no(?: \w+){1,4}? (?:were|was) "
                          r"killed)\b", re.IGNORECASE)
CIVILIAN = re.compile(r"\b(?:civilians?|children|child|women|woman|girls?|boys?|villagers|residents|family|families"
                      r"|worshippers|passengers|students)\b", re.IGNORECASE)
RETALIATION = re.compile(r"\b(?:retaliat\w*|reprisals?|response to|avenge|revenge|responded|returned fire|struck back)\b",
                         re.IGNORECASE)
RESPONSE_BREAK = re.compile(r"\b(?:(?:in |a )?response to|(?:in )?retaliation for|retaliating for|to avenge|"
                            r"in revenge for)\b", re.IGNORECASE)
CLAUSE_BREAK = re.compile(r";|\bwhile\b|\bwhereas\b|\bbut\b|" + RESPONSE_BREAK.pattern, re.IGNORECASE)
LOCATIVE = re.compile(r"\b(?:in|inside|into|on|at|against|over|of|from|near|across|toward|towards|by)\s+(?:the\s+)?$")
SPEAKER = re.compile(r"\s+(?:Foreign|Defen[cs]e|state|officials?|ministry|government|president|prime|army said|"
                     r"military said|media|spokesman|spokesperson|embassy|envoy)", re.IGNORECASE)
REPORTING = re.compile(r"\b(?:said|says|defended|denied|condemned|claimed|confirmed|announced|reported|told|vowed|"
                       r"warned|accused|according|saying|stated|called|blamed|described)\b", re.IGNORECASE)
HYPOTHETICAL = re.compile(r"\b(?:if|would|could|might|may|will|threaten\w*|vow\w*|plans? to|ready to)\s+(?:\w+\s+){0,3}$",
                          re.IGNORECASE)
ANAPHOR = re.compile(r"\b(?:(?i:the|these|those|its|their|this|that|such)|[A-Z]\w+['’]s)\s+(?:\w+\s+){0,2}$")
# A state after one of these is where it happened, not who was hit; after OWNER it is who was hit.
LOCATIVE_BEFORE = re.compile(r"\b(?:in|inside|into|across|near|within|over)\s+(?:the\s+)?(?:(?:north|south|east|west)"
                             r"(?:ern|-eastern|-western)?\s+|central\s+)?$", re.IGNORECASE)
OWNER = re.compile(r"\b(?:used by|belonging to|linked to|run by|operated by|housing|of)\s+(?:the\s+)?$")
TARGET_NOUNS = re.compile(r"\s+(?:targets?|positions?|forces|troops|soldiers|territory|military|bases?|sites?|soil|air|"
                          r"border|posts?|island|navy|naval|ships?|vessels?|city|town|village|jets?|aircraft|warships?|"
                          r"drones?|consulate|embassy)\b")


@dataclass
class Mention:
    sentence: Span
    trigger: Span
    action: str | None
    actor1: tuple[str, Span] | None = None
    targets: list[tuple[str, Span]] = field(default_factory=list)
    place: tuple[str | None, str | None, Span] | None = None  # (country, admin1, span)
    group: tuple[str, Span] | None = None
    on: tuple[date, Span] | None = None
    fatalities: tuple[int, Span] | None = None
    civilians: tuple[int, Span] | None = None
    weapons: dict[str, Span] = field(default_factory=dict)
    retaliation: Span | None = None
    responds_to: "Mention | None" = None
    anaphoric: bool = False
    after_break: bool = False
    orphan: bool = False
    where: list[tuple[str, Span]] = field(default_factory=list)  # the states it happened in, when it names several  # dead counted in a sentence with no act of force: they go to the act told just before


def sentences(text: str) -> list[Span]:
    """Sentence spans: paragraphs split at . ! ? before a capital, not after an abbreviation."""
    out = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        body = para.group()
        for m in re.finditer(r"(?<=[.!?])[\"”’]?\s+(?=[\"“A-Z])", body):
            words = body[max(0, m.start() - 40):m.start()].split()  # one pass: only the word before the break
            before = words[-1] if words else ""
            if re.fullmatch(r"(?:[A-Z]\.)+|Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.|Mr\.|Mrs\.|Dr\.|St\."
                            r"|Gen\.|Col\.|Lt\.|Sgt\.", before):
                continue
            end = para.start() + m.start() + (1 if m.group()[:1] in "\"”’" else 0)
            if end > start:
                out.append((start, end))
            start = para.start() + m.end()
        if para.end() > start:
            out.append((start, para.end()))
    return [(s, e) for s, e in out if text[s:e].strip()]


def _acts(between: str) -> bool:
    """Whether a state named before a trigger is its subject: not when a verb of saying comes between, unless it
    says "it" or "its" did it ("Iran said it targeted", "Pakistan said its strikes")."""
    said = REPORTING.search(between)
    return said is None or bool(re.match(r"\s+(?:that\s+)?(?:it|its|they|their)\b", between[said.end():]))


def number(word: str) -> int | None:
    word = word.lower().replace(",", "")
    return int(word) if word.isdigit() else NUMBERS.get(word)


def casualties(text: str, offset: int, avoid: list[Span]) -> list[tuple[int, int | None, int, Span]]:
    """(dead, civilians among them, position of the verb, span) for each phrase that counts the dead."""
    out = []
    for pattern in (_KILLED_ACTIVE, _KILLED_PASSIVE):
        for m in pattern.finditer(text):
            s = offset + m.start("n")
            if re.search(r"\bno\s+$", text[:m.start("n")], re.IGNORECASE) or any(a <= s < b for a, b in avoid) or any(abs(o[2] - (offset + m.start())) < 5 or
                                                      o[3][0] <= offset + m.start() < o[3][1] for o in out):
                continue
            n = number(m.group("n"))
            if n is None or 1900 <= n <= 2100:
                continue
            who = m.group("who")
            head = who.split(",")[0]
            civilians = n if CIVILIAN.search(head) and not re.search(r"soldiers|troops|militants|personnel", head) \
                else None
            parts = [number(x.group(1)) for x in re.finditer(rf"\b{_NUM.replace('(?P<n>', '(')}\s+(?:\w+\s+)?"
                                                                  rf"{CIVILIAN.pattern}", who, re.IGNORECASE)]
            if civilians is None and re.search(r"\ball (?:of them )?(?:civilians|women|children)", who, re.IGNORECASE):
                civilians = n
            if civilians is None and parts and all(p is not None for p in parts):
                civilians = min(sum(parts), n)
            verb = offset + (m.start() if pattern is _KILLED_ACTIVE else m.end())
            out.append((n, civilians, verb, (offset + m.start(), offset + m.end())))
    for m in _NONE_KILLED.finditer(text):
        out.append((0, None, offset + m.start(), (offset + m.start(), offset + m.end())))
    return out


MAX_SENTENCE_CHARS = 1_000  # past this a "sentence" is not prose: it is not searched (the rules are not linear in it)
MAX_MENTIONS = 200  # acts of force read in one report; the rest is reported, not read


def mentions(text: str, published_on: date, skipped: list[tuple[int, int, str]] | None = None) -> list[Mention]:
    """Every trigger in the report, with what its windows hold, in text order. Sentences not read (too long, or
    past MAX_MENTIONS) go to `skipped` as (start, end, reason)."""
    found: list[Mention] = []
    skipped = skipped if skipped is not None else []
    all_dates = dates.find(text, published_on)
    date_starts = [d[0] for d in all_dates]
    for s0, s1 in sentences(text):
        if len(found) >= MAX_MENTIONS:
            skipped.append((s0, len(text), f"too many events in one report (over {MAX_MENTIONS}): the rest of the "
                                           "report was not read"))
            break
        if s1 - s0 > MAX_SENTENCE_CHARS:
            skipped.append((s0, s1, f"sentence too long to read (over {MAX_SENTENCE_CHARS:,} characters)"))
            continue
        sent = text[s0:s1]
        breaks = [(m.start() + s0, m.end() + s0, bool(RESPONSE_BREAK.fullmatch(m.group())))
                  for m in CLAUSE_BREAK.finditer(sent)]
        states = [(a + s0, b + s0, c, k) for a, b, c, k in places.states(sent)]
        groups = [(a + s0, b + s0, g) for a, b, g in places.groups(sent)]
        subplaces = [(a + s0, b + s0, c, r) for a, b, c, r in places.places(sent)]
        # A group's name can hold a place's ("Baluchistan Liberation Army"): the group wins.
        subplaces = [p for p in subplaces if not any(g[0] <= p[0] < g[1] for g in groups)]
        states = [p for p in states if not any(g[0] <= p[0] < g[1] for g in groups)]
        sdates = all_dates[bisect.bisect_left(date_starts, s0):bisect.bisect_left(date_starts, s1)]
        triggers = []
        for m in _TRIGGER.finditer(sent):
            index = next(i for i in range(len(TRIGGERS)) if m.group(f"t{i}"))
            lead = sent[max(0, m.start() - 200):m.start()]
            if re.search(r"\bto\s+$", lead) or HYPOTHETICAL.search(lead[-60:]):
                continue  # "to strike", "if either side strikes again": no event
            if any(a <= m.start() + s0 < b for a, b, *_ in states + groups):
                continue
            triggers.append((m.start() + s0, m.end() + s0, TRIGGERS[index][1]))
        mine: list[Mention] = []
        for i, (t0, t1, action) in enumerate(triggers):
            left = max([s0, triggers[i - 1][1] if i else s0] + [b for a, b, _ in breaks if b <= t0])
            right = min([s1, triggers[i + 1][0] if i + 1 < len(triggers) else s1] + [a for a, b, _ in breaks if a >= t1])
            mention = Mention((s0, s1), (t0, t1), action)
            mention.after_break = any(r and b <= t0 for a, b, r in breaks)
            mention.anaphoric = bool(ANAPHOR.search(text[max(s0, t0 - 40):t0]))
            before = [s for s in states if left <= s[0] and s[1] <= t0 and not LOCATIVE.search(text[left:s[0]])
                      and _acts(text[s[1]:t0]) and (action is not None or t0 - s[1] <= 25)]
            if before:
                a, b, code, _ = before[-1]
                mention.actor1 = (code, (a, b))
            by = [s for s in states if t1 <= s[0] < right
                  and re.fullmatch(r"\s*(?:\w+\s+){0,2}?by\s+(?:the\s+)?", text[t1:s[0]])]
            if by:
                mention.actor1 = (by[0][2], (by[0][0], by[0][1]))
            after = [s for s in states if t1 <= s[0] < right and s is not (by[0] if by else None)
                     and s[0] - t1 <= 80 and not REPORTING.search(text[t1:s[0]])
                     and not SPEAKER.match(text[s[1]:s[1] + 20])]
            where: list[tuple[str, Span]] = []
            for a, b, code, kind in after:
                lead = text[t1:a]
                if kind == "demonym" and not TARGET_NOUNS.match(text[b:b + 30]):
                    continue
                joined = where and re.fullmatch(r"[\s,]*and\s+(?:\w+\s+){0,3}?(?:in\s+|inside\s+)?(?:the\s+)?"
                                                r"(?:(?:north|south|east|west)\w*\s+|central\s+)?",
                                                text[where[-1][1][1]:a])
                if joined or (not where and LOCATIVE_BEFORE.search(lead) and not OWNER.search(lead)):
                    where.append((code, (a, b)))
                elif where and LOCATIVE_BEFORE.search(lead):
                    continue
                elif not mention.targets:
                    mention.targets.append((code, (a, b)))
            mention.where = where
            sub = [p for p in subplaces if t1 <= p[0] < right and p[2]]
            if sub:
                a, b, code, admin1 = sub[0]
                mention.place = (code, admin1, (a, b))
            elif where or mention.targets:
                code, (a, b) = (where or mention.targets)[0]
                m2 = re.match(r"\s*(?:semiautonomous\s+|northern\s+|southern\s+|eastern\s+|western\s+)?"
                              r"([A-Z][\w\-’' ]{2,40}?)\s+(?:province|region|state|oblast|governorate)", text[b:right])
                admin1 = places.subdivision(code, m2.group(1)) if m2 and text[a:b].endswith(("'s", "’s")) else None
                mention.place = (code, admin1 or None, (a, b + (m2.end() if m2 and admin1 else 0)))
            named = [g for g in groups if t1 <= g[0] < min(right, t1 + 60) and g[2]] or [g for g in groups if left <= g[0] < t0 and g[2]
                                                                              and action is None]
            if named:
                mention.group = (named[0][2], (named[0][0], named[0][1]))
            else:
                generic = places.GENERIC_GROUP.search(text, t1, min(right, t1 + 60))
                if generic:
                    mention.group = ("militants", generic.span())
            later = [d for d in sdates if t1 <= d[0] < right]
            earlier = [d for d in sdates if left <= d[0] < t0 and not REPORTING.search(text[d[1]:t0])]
            if later or earlier:
                d = (later or earlier[::-1])[0]
                mention.on = (d[2], (d[0], d[1]))
            for m in re.finditer(r"\b(?:" + "|".join(f"(?P<w{j}>{p})" for j, (p, _) in enumerate(WEAPONS)) + r")\b",
                                 text[left:right]):
                j = next(j for j in range(len(WEAPONS)) if m.group(f"w{j}"))
                mention.weapons.setdefault(WEAPONS[j][1], (left + m.start(), left + m.end()))
            flag = RETALIATION.search(text, left, right)
            if flag and not mention.after_break and flag.start() < right:
                mention.retaliation = flag.span()
            mine.append(mention)
        for n, civ, verb, span in casualties(sent, s0, [d[:2] for d in sdates]):
            owner = [m for m in mine if m.trigger[1] <= verb] or mine[:1]
            if owner and owner[-1].actor1 is None and not owner[-1].anaphoric and ";" in text[owner[-1].trigger[1]:verb]:
                owner = []  # "no casualties were reported" after "air defences downed drones": the act told before
            if not owner:
                orphan = Mention((s0, s1), span, None, orphan=True)
                orphan.fatalities, orphan.civilians = (n, span), ((civ, span) if civ is not None else None)
                found.append(orphan)
                continue
            target = owner[-1]
            if target.fatalities is None:
                target.fatalities = (n, span)
                target.civilians = (civ, span) if civ is not None else None
        for m in list(mine):  # "its strikes targeted X": the group goes with the strikes
            earlier = [h for h in mine if h.trigger[0] < m.trigger[0] and h.action is not None]
            if m.action is None and earlier and m.actor1 is None:
                head = earlier[-1]
                if m.group and (head.group is None or head.group[0] == "militants"):
                    head.group = m.group
                head.on = head.on or m.on
                mine.remove(m)
        for m in list(mine):
            if m.after_break:
                head = [h for h in mine if not h.after_break and h.trigger[0] < m.trigger[0]]
                cause = next((b for b in breaks if b[2] and b[1] <= m.trigger[0]), None)
                speaker = [x for x in states if x[1] <= (cause[0] if cause else s0) and _acts(text[x[1]:cause[0]])]
                if not head and cause and speaker:  # "Tehran said it was retaliating for ...": an act told before
                    a, b, code, _ = speaker[-1]
                    head = [Mention((s0, s1), (cause[0], cause[1]), None, actor1=(code, (a, b)))]
                    mine.insert(0, head[0])
                if head:
                    head[-1].responds_to = m
                    head[-1].retaliation = head[-1].retaliation or next(
                        (b[:2] for b in breaks if b[2] and b[1] <= m.trigger[0]), None)
        found.extend(mine)
    return found
