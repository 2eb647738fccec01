"""The dashboard in a real headless browser (Debian's chromium, driven by Playwright) against a real server.

Skipped when chromium or Playwright is missing, unless REQUIRE_BROWSER=1 (CI sets it, so CI fails instead).
The screenshots land in tests/artifacts/ for people to look at.
"""

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION
from tests.servers import Server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
KEY = "dashboard-test-bootstrap-key-0123456789abcdef"  # >= 32 characters
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_or_skip():
    missing = None
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing = f"no chromium at {CHROMIUM} (apt-get install chromium, or `make browser`)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = missing or "the playwright package is not installed"
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    return sync_playwright


@pytest.fixture
def browser():
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def server(database_url):
    s = Server(database_url, env={"ESCALATION_BOOTSTRAP_API_KEY": KEY})
    try:
        yield s
    finally:
        s.stop()


def _status_reads(page, start: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#ranking-status")).to_have_text(re.compile(f"^{start}"))


def _post(base: str, path: str, body) -> httpx.Response:
    r = httpx.post(f"{base}{path}", json=body, headers={"X-API-Key": KEY}, timeout=120)
    assert r.status_code in (200, 201), r.text
    return r


def _axe(page, view: str) -> None:
    """No serious or critical accessibility violation (axe-core, run in the page)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
           for v in found if v["impact"] in ("serious", "critical")]
    assert not bad, f"{view}: {bad}"


def _keyed_page(browser, width: int = 1280, height: int = 800):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.add_init_script(f"sessionStorage.setItem('escalation-risk.api-key', {KEY!r})")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def _feed_length(base: str) -> int:
    items, cursor = [], None
    while True:
        page = httpx.get(f"{base}/v1/assessments", params={"after": cursor, "limit": 1000} if cursor else {"limit": 1000},
                         headers={"X-API-Key": KEY}).json()
        items += page["items"]
        if not page["items"]:
            return len(items)
        cursor = page["next_cursor"]


def test_seed_scenario_in_the_dashboard(server, browser):
    from playwright.sync_api import expect

    base = server.base
    _post(base, "/v1/events/batch", [IRAN_STRIKE, PAKISTAN_RETALIATION])
    assert httpx.get(f"{base}/v1/dyads").status_code == 401  # keys are on: the page must ask for one
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sizes: dict[str, int] = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if "/dashboard" in r.url else None)
    page.goto(f"{base}/dashboard")

    page.locator("#key-form").wait_for(state="visible")  # asked once ...
    page.fill("#key", KEY)
    page.click("#key-form button[type=submit]")
    row = page.locator('#ranking tr[data-dyad="IRN--PAK"]')
    row.wait_for()
    assert "Iran – Pakistan" in row.inner_text() and "interstate" in row.inner_text()  # names, not ids
    page.screenshot(path=str(ARTIFACTS / "dashboard-ranking.png"), full_page=True)
    _axe(page, "ranking")
    page.fill("#country", "pak")  # filters: a country's dyads, then a minimum level
    page.click("#filters button[type=submit]")
    _status_reads(page, "2 dyads")
    assert "country=PAK" in page.url
    page.select_option("#min-level", "critical")
    page.click("#filters button[type=submit]")
    _status_reads(page, "0 dyads")
    expect(page.locator("#ranking-empty")).to_contain_text("none at critical or above")
    expect(page.locator("#ranking-empty")).to_contain_text("your data runs 2024-01-16 to 2024-01-18")
    page.fill("#country", "")
    page.select_option("#min-level", "")
    page.click("#filters button[type=submit]")
    _status_reads(page, "3 dyads")

    page.goto(f"{base}/dashboard#dyad/IRN--PAK?as_of=2024-02-20")
    page.locator("#chart svg path.risk").wait_for()
    assert page.locator("#chart svg circle.stored").count() == 1  # what was said on the day
    assert page.locator("#chart svg rect.event").count() == 2  # both events on the time axis
    assert page.locator("#chart svg polygon.band").count() == 1
    api = httpx.get(f"{base}/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-02-20"},
                    headers={"X-API-Key": KEY}).json()
    rows = page.locator("#waterfall .wf-row")
    assert rows.count() == len(api["drivers"]) + 2  # the baseline, each theme, the probability
    assert api["drivers"][0]["label"] in rows.nth(1).inner_text()
    assert f"{api['probability'] * 100:.1f}%" in rows.last.inner_text()
    severity = page.locator("#waterfall details", has_text="severity")
    severity.locator("summary").click()
    expect(severity.locator("li").first).to_contain_text("2024-01-18: Pakistan → Iran")  # the facts behind a theme
    page.locator("#chart svg").focus()
    page.keyboard.press("Home")
    expect(page.locator("#chart-readout")).to_contain_text("2023-11-17")  # the first date of the line
    page.keyboard.press("End")
    expect(page.locator("#chart-readout")).to_contain_text("2024-02-20")
    assert page.locator("#events tbody tr").count() == 2
    assert "Pakistan Armed Forces" in page.locator("#events").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    _axe(page, "dyad")

    page.reload()  # ... and kept for the browser session
    page.locator("#chart svg path.risk").wait_for()
    assert page.locator("#key-form").is_hidden()
    assert page.evaluate("sessionStorage.getItem('escalation-risk.api-key')") == KEY
    assert sum(n for url, n in sizes.items() if "world.json" not in url) < 200_000, sizes


def test_another_front_reads_in_the_waterfall(server, browser):
    """Contagion's facts are other dyads, not events: the waterfall names the front and its dead."""
    from playwright.sync_api import expect

    from tests.factories import IRAQ

    base = server.base
    _post(base, "/v1/events/batch", [IRAQ, IRAN_STRIKE, PAKISTAN_RETALIATION])
    page, errors = _keyed_page(browser)
    page.goto(f"{base}/dashboard#dyad/IRN--PAK?as_of=2024-01-18")
    page.locator("#chart svg path.risk").wait_for()
    contagion = page.locator("#waterfall details", has_text="contagion")
    contagion.locator("summary").click()
    expect(contagion.locator("li").first).to_have_text("Iran – Iraq: 4 killed")
    assert not errors, errors


def test_drafts_from_a_report_beside_its_text_and_the_ticked_ones_posted(server, browser):
    """Issue 26: the seed report pasted, its drafts listed beside it, a draft's words marked in the text, the
    ticked drafts posted (one left out), and nothing stored before."""
    from playwright.sync_api import expect

    report = (Path(__file__).resolve().parents[3] / "shared" / "seed" / "2024-01-pakistan-iran-strikes.txt")
    base = server.base
    page, errors = _keyed_page(browser)
    # a character outside the BMP first: the service's offsets count code points, JavaScript's strings UTF-16 units
    text = "\N{FIRE} " + report.read_text()
    page.goto(f"{base}/dashboard#extract")
    page.fill("#report-text", text)
    page.fill("#report-date", "2024-01-18")
    page.click("#extract-form button[type=submit]")
    expect(page.locator("#extract-status")).to_contain_text("4 draft events")
    rows = page.locator("#drafts tbody tr")
    assert rows.count() == 4
    assert _events_stored(base) == 0  # drafting stores nothing
    expect(page.locator("#report-marked mark").first).to_be_visible()
    rows.nth(3).click()  # Pakistan's answer: its words marked, among them its weapons and its dead
    marked = page.locator("#report-marked mark").all_inner_texts()
    drafted = httpx.post(f"{base}/v1/extract", json={"text": text, "published_on": "2024-01-18"},
                         headers={"X-API-Key": KEY}).json()["evidence"][3]["fields"]
    assert marked and set(marked) <= {e["text"] for e in drafted.values()}, marked  # each mark on its words exactly
    assert any(m.startswith("drone") for m in marked) and any("nine" in m for m in marked), marked
    assert "Pakistan" in rows.nth(3).inner_text() and "(retaliation)" in rows.nth(3).inner_text()
    rows.nth(1).locator("input").uncheck()  # leave the strike on Syria out
    page.click("#drafts-post")
    expect(page.locator("#drafts-posted")).to_have_text("posted: 3 created")
    assert _events_stored(base) == 3
    page.click("#drafts-post")  # the same drafts again: the same events
    expect(page.locator("#drafts-posted")).to_have_text("posted: 3 unchanged")
    rows.nth(2).locator("input").uncheck()  # Iran's strike, already stored: the answer still names it, unchanged
    page.click("#drafts-post")
    expect(page.locator("#drafts-posted")).to_have_text("posted: 2 unchanged")
    page.screenshot(path=str(ARTIFACTS / "dashboard-extract.png"), full_page=True)
    _axe(page, "extract")
    assert not errors, errors


def _events_stored(base: str) -> int:
    return len(httpx.get(f"{base}/v1/events", params={"limit": 100}, headers={"X-API-Key": KEY}).json()["items"])


def test_an_as_of_date_changes_the_picture_and_travels_in_the_link(server, browser):
    from playwright.sync_api import expect

    base = server.base
    _post(base, "/v1/events/batch", [IRAN_STRIKE, PAKISTAN_RETALIATION])
    page, errors = _keyed_page(browser)
    page.goto(f"{base}/dashboard")
    risk = page.locator('#ranking tr[data-dyad="IRN--PAK"] td.num').nth(1)
    risk.wait_for()
    today = risk.inner_text()
    page.fill("#as-of", "2024-01-19")
    page.locator("#as-of").dispatch_event("change")
    _status_reads(page, "3 dyads, ranked by risk as of 2024-01-19")
    assert "as_of=2024-01-19" in page.url
    on_19th = httpx.get(f"{base}/v1/risk", params={"a": "IRN", "b": "PAK", "as_of": "2024-01-19"},
                        headers={"X-API-Key": KEY}).json()
    expect(risk).to_contain_text(f"{on_19th['probability'] * 100:.1f}%")
    assert risk.inner_text() != today
    colleague, _ = _keyed_page(browser)  # the same link shows the same picture
    colleague.goto(page.url)
    _status_reads(colleague, "3 dyads, ranked by risk as of 2024-01-19")
    assert colleague.locator('#ranking tr[data-dyad="IRN--PAK"] td.num').nth(1).inner_text() == risk.inner_text()
    page.fill("#as-of", "2023-06-01")
    page.locator("#as-of").dispatch_event("change")
    expect(page.locator("#ranking-empty")).to_have_text(
        "No dyad has an event by 2023-06-01; your data runs 2024-01-16 to 2024-01-18: pick a date within it.")
    assert not errors


def test_a_posted_event_shows_on_the_open_pages_within_two_seconds(server, browser):
    from playwright.sync_api import expect

    base = server.base
    _post(base, "/v1/events/batch", [IRAN_STRIKE, PAKISTAN_RETALIATION])
    ranking, errors = _keyed_page(browser)
    ranking.goto(f"{base}/dashboard")
    _status_reads(ranking, "3 dyads")
    dyad, _ = _keyed_page(browser)
    dyad.goto(f"{base}/dashboard#dyad/IRN--PAK")
    dyad.locator("#chart svg path.risk").wait_for()
    expect(ranking.locator("#live")).to_have_text("● live")
    expect(dyad.locator("#live")).to_have_text("● live")
    dyad.locator("#chart svg").focus()  # a reader on the chart's first date keeps it through the redraw
    dyad.keyboard.press("Home")
    first = dyad.locator("#chart-readout b").inner_text()
    again = {**IRAN_STRIKE, "source_event_id": "live-test", "occurred_on": "2024-01-25", "fatalities": 30,
             "civilian_fatalities": 0}
    india = {**IRAN_STRIKE, "source_event_id": "live-test-2", "actor1": {"name": "India", "country": "IND", "kind": "state"},
             "actor2": {"name": "Pakistan", "country": "PAK", "kind": "state"}, "location": {"country": "PAK"}}
    _post(base, "/v1/events/batch", [again, india])
    expect(ranking.locator('#ranking tr[data-dyad="IND--PAK"]')).to_be_visible(timeout=2000)  # no reload
    expect(dyad.locator("#events tbody tr")).to_have_count(3, timeout=2000)
    assert dyad.locator("#chart-readout b").inner_text() == first
    assert dyad.evaluate("document.activeElement.closest('#chart') !== null")
    assert not errors


def test_a_dropped_stream_resumes_from_its_last_id(database_url, browser):
    """The page's server goes away; an event is posted through another while it is gone; when it is back, the
    page's stream resumes after the last assessment it saw, so the missed one still reaches the screen."""
    from playwright.sync_api import expect

    env = {"ESCALATION_BOOTSTRAP_API_KEY": KEY}
    first, other = Server(database_url, env=env), Server(database_url, env=env)
    try:
        _post(first.base, "/v1/events/batch", [IRAN_STRIKE, PAKISTAN_RETALIATION])
        page, errors = _keyed_page(browser)
        page.goto(f"{first.base}/dashboard")
        _status_reads(page, "3 dyads")
        expect(page.locator("#live")).to_have_text("● live")
        first.stop()
        expect(page.locator("#live")).to_have_text("○ reconnecting")
        india = {**IRAN_STRIKE, "source_event_id": "while-away", "actor1": {"name": "India", "country": "IND",
                 "kind": "state"}, "actor2": {"name": "Pakistan", "country": "PAK", "kind": "state"},
                 "location": {"country": "PAK"}}
        _post(other.base, "/v1/events", india)  # made while the page's stream is down
        first = Server(database_url, port=first.port, env=env)
        expect(page.locator("#live")).to_have_text("● live", timeout=10_000)
        expect(page.locator('#ranking tr[data-dyad="IND--PAK"]')).to_be_visible(timeout=5_000)
        assert not errors
    finally:
        first.stop()
        other.stop()


def test_a_what_if_shows_beside_the_current_answer_and_stores_nothing(server, browser):
    from playwright.sync_api import expect

    base = server.base
    _post(base, "/v1/events/batch", [IRAN_STRIKE, PAKISTAN_RETALIATION])
    feed = _feed_length(base)
    page, errors = _keyed_page(browser)
    page.goto(f"{base}/dashboard#dyad/IRN--PAK?as_of=2024-01-20")
    page.locator("#chart svg path.risk").wait_for()
    event = page.locator("#whatif-events fieldset").first
    event.locator("[name=on]").fill("2024-01-20")
    event.locator("[name=by]").select_option("IRN")
    event.locator("[name=fatalities]").fill("30")
    event.locator("[name=weapons]").select_option(["missile", "drone"])
    assert event.locator("[name=where]").input_value() == "PAK"  # the target's territory
    page.click("#whatif button[type=submit]")
    expect(page.locator("#whatif-result")).to_contain_text("Nothing was stored")
    expected = httpx.post(f"{base}/v1/risk/what-if", headers={"X-API-Key": KEY}, json={
        "a": "IRN", "b": "PAK", "as_of": "2024-01-20", "events": [{
            "source": "dashboard-what-if", "source_event_id": "what-if-1", "occurred_on": "2024-01-20",
            "actor1": {"name": "Iran", "country": "IRN", "kind": "state"},
            "actor2": {"name": "Pakistan", "country": "PAK", "kind": "state"}, "location": {"country": "PAK"},
            "action": "attack", "fatalities": 30, "weapons": ["drone", "missile"], "retaliation": False}]}).json()
    expect(page.locator("#whatif-result .whatif-answer")).to_contain_text(f"{expected['probability'] * 100:.1f}%")
    assert page.locator("#chart svg path.whatif").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-what-if.png"), full_page=True)
    assert _feed_length(base) == feed  # no assessment, so no feed entry
    assert len(httpx.get(f"{base}/v1/events", headers={"X-API-Key": KEY}).json()["items"]) == 2
    assert not errors


def test_country_and_map_views_at_desktop_and_phone_widths(server, browser):
    from playwright.sync_api import expect

    base = server.base
    _post(base, "/v1/events/batch", [IRAN_STRIKE, PAKISTAN_RETALIATION])
    for width, height, tag in ((1280, 800, ""), (390, 844, "-phone")):
        page, errors = _keyed_page(browser, width, height)
        page.goto(f"{base}/dashboard#country/IRN?as_of=2024-01-20")
        expect(page.locator("#country-title")).to_have_text("Iran: every front as of 2024-01-20")
        expect(page.locator("#country-dyads tbody tr")).to_have_count(2)
        assert page.locator("#country-dyads svg.spark polyline").count() == 2
        page.screenshot(path=str(ARTIFACTS / f"dashboard-country{tag}.png"), full_page=True)
        _axe(page, f"country{tag}")
        page.goto(f"{base}/dashboard#map?as_of=2024-01-20")
        expect(page.locator("#map-status")).to_have_text("2 countries with a dyad as of 2024-01-20, 1 interstate links")
        assert page.locator("#map path.country.level-fill-elevated").count() == 2  # Iran and Pakistan
        assert page.locator("#map line.link").count() == 1
        assert page.locator("#map path.country").count() > 170
        page.screenshot(path=str(ARTIFACTS / f"dashboard-map{tag}.png"), full_page=True)
        _axe(page, f"map{tag}")
        page.goto(f"{base}/dashboard#dyad/IRN--PAK?as_of=2024-01-20")
        page.locator("#chart svg path.risk").wait_for()
        page.screenshot(path=str(ARTIFACTS / f"dashboard-dyad{tag}.png"), full_page=True)
        if tag:  # nothing wider than a phone's screen but the scrolling tables
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert not errors


def test_a_ranking_of_1000_dyads_renders_in_under_a_second(server, browser):
    base = server.base
    groups = [{"source": "load", "source_event_id": f"g{i}", "occurred_on": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
               "actor1": {"name": ["Iran", "Pakistan", "India", "Turkey"][i % 4],
                          "country": ["IRN", "PAK", "IND", "TUR"][i % 4], "kind": "state"},
               "actor2": {"name": f"Armed group {i}", "kind": "non_state"},
               "location": {"country": ["IRN", "PAK", "IND", "TUR"][i % 4]}, "action": "attack",
               "fatalities": i % 9} for i in range(1000)]
    _post(base, "/v1/events/batch", groups)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.add_init_script(f"sessionStorage.setItem('escalation-risk.api-key', {KEY!r})")
    timings = []
    for _ in range(2):  # the first load also scores every dyad as of today; the second reads the cache
        page.goto(f"{base}/dashboard")
        status = page.locator("#ranking-status[data-ms]")
        status.wait_for()
        assert status.get_attribute("data-count") == "1000"
        timings.append(int(status.get_attribute("data-ms")))
    assert page.locator("#ranking tbody tr").count() == 1000
    headers = {"X-API-Key": KEY}
    compact = len(httpx.get(f"{base}/dashboard/ranking", headers=headers, timeout=60).content)
    full = sum(len(httpx.get(f"{base}/v1/dyads", params={"limit": 500, "cursor": c} if c else {"limit": 500},
                             headers=headers, timeout=60).content) for c in (None, "500"))
    print(f"ranking of 1,000 dyads: fetched and rendered in {timings[0]} ms cold, {timings[1]} ms warm; "
          f"/dashboard/ranking {compact / 1000:.0f} KB, /v1/dyads (2 pages) {full / 1000:.0f} KB")
    assert timings[1] < 1000, timings


SYRIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ucdp-ged-slices" / "data4ds4da_ucdp_syria_df.csv"


@pytest.mark.shared_data
def test_the_workbench_on_imported_real_data(database_url, browser):
    """UCDP GED's Syria 2016-19 slice, imported as a user would: a past date shows its crises, today says why it is
    quiet, and the densest dyad's page stays short and quick."""
    import subprocess
    import sys
    import time

    from playwright.sync_api import expect

    if not SYRIA.is_file():
        pytest.skip("../shared/data is absent")
    imported = subprocess.run([sys.executable, "-m", "app.cli", "import", "ucdp_ged", str(SYRIA)], capture_output=True,
                              text=True, env={**os.environ, "ESCALATION_DATABASE_URL": database_url}, timeout=600)
    assert imported.returncode == 0, imported.stderr[-2000:]
    s = Server(database_url, env={"ESCALATION_BOOTSTRAP_API_KEY": KEY})
    try:
        page, errors = _keyed_page(browser)
        page.goto(f"{s.base}/dashboard#?as_of=2018-06-30")
        _status_reads(page, "")
        status = page.locator("#ranking-status[data-ms]")
        status.wait_for(timeout=60_000)
        assert int(status.get_attribute("data-count")) > 20
        assert "Syria – " in page.locator("#ranking tbody tr").first.inner_text()
        assert page.locator("#ranking tbody .level-elevated, #ranking tbody .level-high, "
                            "#ranking tbody .level-critical").count() > 0
        page.screenshot(path=str(ARTIFACTS / "dashboard-ged-ranking.png"))
        page.goto(f"{s.base}/dashboard#?min_level=elevated")
        expect(page.locator("#ranking-empty")).to_contain_text("your data runs 2016-", timeout=60_000)
        dense = httpx.get(f"{s.base}/dashboard/ranking", params={"as_of": "2018-06-30"}, headers={"X-API-Key": KEY},
                          timeout=120).json()
        busiest = max(dense["items"], key=lambda r: r["event_count"])
        started = time.perf_counter()
        page.goto(f"{s.base}/dashboard#dyad/{busiest['id']}?as_of=2018-06-30")
        page.locator("#chart svg path.risk").wait_for(timeout=60_000)
        shown = time.perf_counter() - started
        view = httpx.get(f"{s.base}/dashboard/dyads/{busiest['id']}", params={"as_of": "2018-06-30"},
                         headers={"X-API-Key": KEY}, timeout=120).json()
        total, listed = sum(m["events"] for m in view["marks"]), len(view["events"])
        assert total > 1000 and listed == 1000 and view["events_truncated"]  # the newest listed; every day marked
        assert page.locator("#events tbody tr").count() == 25  # paginated, newest first
        expect(page.locator("#events-page")).to_have_text("page 1 of 40")
        height = page.evaluate("document.documentElement.scrollHeight")
        page.screenshot(path=str(ARTIFACTS / "dashboard-ged-dyad.png"), full_page=True)
        print(f"GED Syria: {dense['total']} dyads as of 2018-06-30; {busiest['id']} ({total} events by then) drawn in "
              f"{shown:.2f} s, {height} px tall")
        assert height < 5000 and shown < 5, (height, shown)
        page.goto(f"{s.base}/dashboard#map?as_of=2018-06-30")
        expect(page.locator("#map-status")).to_contain_text("countries with a dyad as of 2018-06-30", timeout=60_000)
        assert page.locator("#map path.country:not(.none)").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "dashboard-ged-map.png"))
        assert not errors
    finally:
        s.stop()
