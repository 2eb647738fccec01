"""Load through the balancer of compose.scale.yaml, then check what two replicas on one PostgreSQL stored.

Run by tests/docker/test_scale_out.sh (`make scale-test`) once the balancer answers /health/ready:

    .venv/bin/python tests/docker/scale_load.py --base http://127.0.0.1:PORT --key KEY [--stats URL]

Writers (threads, `--writers`) each post `--batches` batches to POST /v1/events/batch, one after another:
`--batch-size` events of their own, `--shared` events whose keys another writer sends too (writers w and
w+2 send the same content, so the same event arrives twice, in concurrent batches), and from the second
batch on `--revisions` of their own events of the batch before with more fatalities (revisions). A batch
answered 502/503/504 or not at all is sent again as it was (a batch is keyed: a resend stores nothing
twice). Meanwhile a poller follows the change feed, GET /v1/assessments?after=<next_cursor>, through
the balancer too, until it has read an empty page after the last writer finished.

Then, asserted (exit 1 on a failure):
- every batch was acknowledged (200), and every acknowledged event is stored exactly once (GET /v1/events,
  all pages): the stored keys are the acknowledged keys, one id each, the id the acknowledgements gave;
  revised events at revision 2 with the revised fatalities, shared ones as sent;
- the feed the poller read has strictly increasing ids, consecutive from 1 (no gap, no duplicate), and is
  identical to a full re-read of the feed from 0 after the load;
- every assessment's dyad is a dyad of the stored events, and every such dyad has an assessment;
- both replicas answered requests (the balancer's X-Served-By header; HAProxy's statistics with --stats).
Figures are printed, and written as JSON with --json.
"""

import argparse
import csv
import hashlib
import io
import json
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta

import httpx

COUNTRIES = ["IRN", "PAK", "IND", "AFG", "IRQ", "SYR", "ISR", "LBN", "SAU", "YEM", "TUR", "RUS", "UKR", "ARM",
             "AZE", "CHN"]
ACTIONS = ["attack", "attack", "clash", "show_of_force", "border_violation", "threat_to_use_force", "talks",
           "ceasefire"]
SHARED_COUNTRIES = ["EGY", "LBY", "SDN", "ETH"]  # --disjoint: the shared keys' own dyads
WEAPONS = ["drone", "rocket", "missile", "artillery", "small_arms", "airstrike"]
START = date(2023, 1, 1)
RETRY_STATUSES = {502, 503, 504}


def _h(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def event(source: str, key: str, fatalities_bonus: int = 0, countries: list[str] = COUNTRIES) -> dict:
    """A valid event, a pure function of its key and countries (two writers sending one key send the same event)."""
    h = _h(key)
    n = len(countries)
    a, b = countries[h % n], countries[(h % n + 1 + h // 16 % (n - 1)) % n]  # two different states
    action = ACTIONS[h // 256 % len(ACTIONS)]
    item = {"source": source, "source_event_id": key, "occurred_on": (START + timedelta(days=h // 4096 % 700)).isoformat(),
            "actor1": {"name": f"{a} armed forces", "country": a, "kind": "state"},
            "actor2": {"name": f"{b} armed forces", "country": b, "kind": "state"},
            "location": {"country": b}, "action": action}
    if action in ("attack", "clash"):
        item["weapons"] = [WEAPONS[h // 8192 % len(WEAPONS)]]
        item["fatalities"] = h // 65536 % 12 + fatalities_bonus
    elif fatalities_bonus:
        item["fatalities"] = fatalities_bonus
    return item


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.served_by: Counter = Counter()
        self.by_kind: Counter = Counter()  # (replica, "writes" | "polls")
        self.requests = 0
        self.errors: list[str] = []

    def saw(self, response: httpx.Response) -> None:
        with self.lock:
            self.requests += 1
            self.served_by[response.headers.get("x-served-by", "?")] += 1
            self.by_kind[response.headers.get("x-served-by", "?"),
                         "writes" if response.request.method == "POST" else "polls"] += 1


def writer(w: int, args, source: str, stats: Stats, acks: dict, expected: dict, counts: Counter) -> None:
    headers = {"X-API-Key": args.key}
    prev_own: list[str] = []
    # --disjoint: each writer's own events between 4 countries of its own (6 dyads), so no two writers
    # wait on each other's dyad locks; otherwise everyone's events spread over all 120 dyads.
    own_countries = COUNTRIES[4 * w % len(COUNTRIES):][:4] if args.disjoint else COUNTRIES
    shared_countries = SHARED_COUNTRIES if args.disjoint else COUNTRIES
    with httpx.Client(base_url=args.base, headers=headers, timeout=120) as client:
        for b in range(args.batches):
            own = [f"w{w}-b{b}-{i}" for i in range(args.batch_size)]
            shared = [f"shared-b{b}-{j}" for j in range(args.shared) if j % 2 == w % 2]
            revised = prev_own[:args.revisions]
            items = ([event(source, k, countries=own_countries) for k in own]
                     + [event(source, k, countries=shared_countries) for k in shared]
                     + [event(source, k, fatalities_bonus=100, countries=own_countries) for k in revised])
            for n in range(args.max_attempts):
                try:
                    r = client.post("/v1/events/batch", json={"items": items})
                except httpx.TransportError as exc:
                    with stats.lock:
                        counts["retries"] += 1
                    time.sleep(0.5 * (n + 1))
                    continue
                stats.saw(r)
                if r.status_code in RETRY_STATUSES:
                    with stats.lock:
                        counts["retries"] += 1
                        counts[f"status_{r.status_code}"] += 1
                    time.sleep(float(r.headers.get("retry-after") or 0.5 * (n + 1)))
                    continue
                break
            else:
                with stats.lock:
                    stats.errors.append(f"writer {w} batch {b}: no answer after {args.max_attempts} attempts")
                return
            with stats.lock:
                counts["items_posted"] += len(items)
                counts["batches_posted"] += 1
            if r.status_code != 200:
                with stats.lock:
                    stats.errors.append(f"writer {w} batch {b}: {r.status_code} {r.text[:300]}")
                return
            body = r.json()
            with stats.lock:
                counts["batches_acknowledged"] += 1
                for item, result in zip(items, body["items"]):
                    key = item["source_event_id"]
                    counts["items_acknowledged"] += 1
                    counts[f"ack_{result['status']}"] += 1
                    acks.setdefault(key, set()).add(result["id"])
                    expected[key] = item  # a writer's revision comes after its first version was acknowledged
            prev_own = own


def poller(args, stats: Stats, done: threading.Event, feed: list, poll_counts: Counter) -> None:
    cursor, empty_after_done = "0", False
    with httpx.Client(base_url=args.base, headers={"X-API-Key": args.key}, timeout=60) as client:
        while not empty_after_done:
            finished = done.is_set()  # read before the poll: an empty page after it means the feed is drained
            r = client.get("/v1/assessments", params={"after": cursor, "limit": args.poll_limit})
            stats.saw(r)
            poll_counts["polls"] += 1
            if r.status_code in RETRY_STATUSES:
                poll_counts["retries"] += 1
                time.sleep(0.2)
                continue
            if r.status_code != 200:
                stats.errors.append(f"poll after {cursor}: {r.status_code} {r.text[:300]}")
                return
            page = r.json()
            feed.extend(page["items"])
            if page["items"]:
                poll_counts["pages"] += 1
            elif finished:
                empty_after_done = True
            else:
                time.sleep(args.poll_interval)
            cursor = page["next_cursor"]


def read_all(client: httpx.Client, path: str, params: dict, cursor_param: str) -> tuple[list, int]:
    items, cursor, requests = [], None, 0
    while True:
        r = client.get(path, params={**params, **({cursor_param: cursor} if cursor is not None else {})})
        requests += 1
        r.raise_for_status()
        page = r.json()
        items.extend(page["items"])
        if path == "/v1/assessments":
            if not page["items"]:
                return items, requests
            cursor = page["next_cursor"]
        else:
            if page["next_cursor"] is None:
                return items, requests
            cursor = page["next_cursor"]


def haproxy_counts(url: str) -> dict:
    """Requests each replica answered, from HAProxy's CSV statistics (`stot`: sessions, one per request
    with http-server-close), and its check status."""
    rows = list(csv.DictReader(io.StringIO(httpx.get(url.rstrip("/") + ";csv", timeout=10).text.lstrip("# "))))
    return {r["svname"]: {"sessions": int(r["stot"]), "status": r["status"], "http_2xx": int(r.get("hrsp_2xx") or 0),
                          "http_5xx": int(r.get("hrsp_5xx") or 0)}
            for r in rows if r["pxname"] == "replicas" and r["svname"] not in ("FRONTEND", "BACKEND")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, help="the balancer's URL")
    p.add_argument("--key", required=True, help="an API key with ingest and read scopes (the bootstrap key)")
    p.add_argument("--stats", help="HAProxy's statistics URL (…/stats)")
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--batches", type=int, default=20, help="batches per writer")
    p.add_argument("--batch-size", type=int, default=1000, help="own events per batch")
    p.add_argument("--shared", type=int, default=40, help="shared keys per batch round (each sent by 2 writers)")
    p.add_argument("--revisions", type=int, default=20, help="own events of the previous batch revised per batch")
    p.add_argument("--disjoint", action="store_true", help="each writer's own events on dyads of its own")
    p.add_argument("--poll-limit", type=int, default=1000)
    p.add_argument("--poll-interval", type=float, default=0.05)
    p.add_argument("--max-attempts", type=int, default=8)
    p.add_argument("--source", default=f"scale-{int(time.time())}")
    p.add_argument("--json", help="write the figures here as JSON")
    args = p.parse_args()
    if args.writers < 3 and args.shared:
        print("note: with fewer than 3 writers the shared keys are sent once", file=sys.stderr)

    stats, acks, expected, counts, poll_counts, feed = Stats(), {}, {}, Counter(), Counter(), []
    done = threading.Event()
    threads = [threading.Thread(target=writer, args=(w, args, args.source, stats, acks, expected, counts))
               for w in range(args.writers)]
    poll = threading.Thread(target=poller, args=(args, stats, done, feed, poll_counts))
    started = time.perf_counter()
    poll.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    write_seconds = time.perf_counter() - started
    done.set()
    poll.join(timeout=120)
    drained_seconds = time.perf_counter() - started
    load_requests = stats.requests
    load_served = dict(stats.served_by)

    failures = list(stats.errors)
    if poll.is_alive():
        failures.append("the poller did not reach the feed's head within 120 s of the last write")

    def check(ok: bool, what: str) -> None:
        print(("ok: " if ok else "FAIL: ") + what)
        if not ok:
            failures.append(what)

    # Events: every acknowledged one stored exactly once, under the id it was acknowledged with.
    with httpx.Client(base_url=args.base, headers={"X-API-Key": args.key}, timeout=120) as client:
        events, event_requests = read_all(client, "/v1/events", {"limit": 1000, "include_retracted": "true"}, "cursor")
        reread, feed_requests = read_all(client, "/v1/assessments", {"limit": 1000}, "after")
    stored = [e for e in events if e["source"] == args.source]
    by_key: dict[str, list] = {}
    for e in stored:
        by_key.setdefault(e["source_event_id"], []).append(e)
    print("== events")
    check(counts["batches_acknowledged"] == args.writers * args.batches,
          f"{counts['batches_acknowledged']} of {args.writers * args.batches} batches acknowledged "
          f"({counts['retries']} resent)")
    check(all(len(ids) == 1 for ids in acks.values()),
          "every acknowledged key was acknowledged with one id, whichever replica and writer sent it")
    check(set(by_key) == set(acks), f"stored keys = acknowledged keys ({len(by_key)} stored, {len(acks)} acknowledged)")
    check(all(len(v) == 1 for v in by_key.values()) and len(stored) == len(by_key),
          f"each stored once: {len(stored)} rows for {len(by_key)} keys")
    check(all({e["id"]} == acks.get(k) for k, (e,) in ((k, v[:1]) for k, v in by_key.items())),
          "each stored under the id its acknowledgement gave")
    wrong = [k for k, (e, *_) in by_key.items()
             if (e.get("fatalities"), e["action"], e["occurred_on"], e["actor1"]["country"], e["actor2"]["country"])
             != (expected[k].get("fatalities"), expected[k]["action"], expected[k]["occurred_on"],
                 expected[k]["actor1"]["country"], expected[k]["actor2"]["country"])]
    check(not wrong, f"each stored as last acknowledged ({len(wrong)} differ{': ' + ', '.join(wrong[:5]) if wrong else ''})")
    revised_keys = {k for k, item in expected.items() if (item.get("fatalities") or 0) >= 100}
    check(all(by_key[k][0]["revision"] == 2 for k in revised_keys if k in by_key)
          and all(e["revision"] == 1 for k, (e, *_) in by_key.items() if k not in revised_keys),
          f"{len(revised_keys)} revised events at revision 2, the others at 1")
    shared_keys = {k for k in acks if k.startswith("shared-")}
    print(f"   {len(shared_keys)} shared keys (each sent by 2 writers), acknowledged as "
          f"created {counts['ack_created']}, unchanged {counts['ack_unchanged']}, revised {counts['ack_revised']}")

    # The feed: what the poller saw, in order, without gaps or repeats, is the feed re-read from 0.
    print("== change feed")
    ids = [a["id"] for a in feed]
    check(bool(ids) and ids[0] == 1 and all(b == a + 1 for a, b in zip(ids, ids[1:])),
          f"the poller read {len(ids)} assessments, ids 1..{ids[-1] if ids else 0} strictly increasing, "
          f"no gap, no duplicate")
    check(feed == reread, f"identical to a full re-read from 0 ({len(reread)} assessments)")
    event_dyads = {d["id"] for e in stored for d in e["dyads"]}
    feed_dyads = {a["dyad_id"] for a in reread}
    check(feed_dyads <= event_dyads, f"every assessment's dyad is one the events touched ({len(feed_dyads)} dyads)")
    check(event_dyads <= feed_dyads, f"every dyad the events touched has an assessment ({len(event_dyads)} dyads)")
    event_ids = {e["id"] for e in stored}
    check(all(a["trigger_event_id"] is None or a["trigger_event_id"] in event_ids for a in reread),
          "every assessment's trigger is a stored event")

    print("== replicas")
    replicas = {k: v for k, v in load_served.items() if k != "?"}
    check(len(replicas) >= 2 and all(v > 0 for v in replicas.values()) and "?" not in load_served,
          "both replicas served the load: " + ", ".join(f"{k} {v}" for k, v in sorted(load_served.items())))
    haproxy = haproxy_counts(args.stats) if args.stats else {}
    if haproxy:
        check(all(v["sessions"] > 0 and v["status"] == "UP" for v in haproxy.values()) and len(haproxy) == 2,
              "HAProxy: " + ", ".join(f"{k} {v['status']} {v['sessions']} requests ({v['http_5xx']} 5xx)"
                                      for k, v in sorted(haproxy.items())))

    figures = {
        "writers": args.writers, "batches": args.writers * args.batches,
        "events_posted": counts["items_posted"], "events_acknowledged": counts["items_acknowledged"],
        "distinct_events_acknowledged": len(acks), "events_stored": len(stored),
        "created": counts["ack_created"], "unchanged": counts["ack_unchanged"], "revised": counts["ack_revised"],
        "batches_resent": counts["retries"], "assessments_in_feed": len(feed), "dyads": len(event_dyads),
        "feed_polls": poll_counts["polls"], "feed_pages_with_items": poll_counts["pages"],
        "load_requests": load_requests, "requests_per_replica": replicas,
        "writes_per_replica": {k: stats.by_kind[k, "writes"] for k in replicas},
        "haproxy_requests_per_replica": {k: v["sessions"] for k, v in haproxy.items()},
        "write_seconds": round(write_seconds, 2), "feed_drained_seconds": round(drained_seconds, 2),
        "events_per_second": round(counts["items_acknowledged"] / write_seconds),
    }
    print("== figures")
    print(f"events posted {figures['events_posted']} in {figures['batches']} batches by {args.writers} writers "
          f"({len(acks)} distinct keys: {len(shared_keys)} shared, {len(revised_keys)} revised); "
          f"acknowledged {figures['events_acknowledged']}; stored {figures['events_stored']}")
    print(f"assessments in feed {figures['assessments_in_feed']} over {figures['dyads']} dyads, read in "
          f"{figures['feed_polls']} polls ({figures['feed_pages_with_items']} with items)")
    print("requests per replica (X-Served-By): " + ", ".join(
              f"{k} {v} ({stats.by_kind[k, 'writes']} writes, {stats.by_kind[k, 'polls']} polls)"
              for k, v in sorted(replicas.items()))
          + (f"; HAProxy totals (with the test's probes and the re-reads after the load): "
             + ", ".join(f"{k} {v}" for k, v in sorted(figures["haproxy_requests_per_replica"].items()))
             if haproxy else ""))
    print(f"wall time {figures['write_seconds']} s for the writes ({figures['events_per_second']} events/s "
          f"acknowledged, {round(len(acks) / write_seconds)} distinct/s), feed drained at "
          f"{figures['feed_drained_seconds']} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    if failures:
        print(f"FAIL: {len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
