"""The documentation: the site builds with every link and anchor checked (mkdocs --strict), every page is in the
navigation and linked from the README, and the README keeps the two commands."""

import re
import subprocess
import sys

import yaml

from tests.servers import ROOT


def test_the_site_builds_strict(tmp_path):
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").is_file()


def test_every_page_is_in_the_navigation_and_the_readme():
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    listed = {page for entry in nav for page in entry.values()}
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert listed == pages
    readme = (ROOT / "README.md").read_text()
    assert set(re.findall(r"\]\(docs/([\w-]+\.md)\)", readme)) == pages
    assert "make serve" in readme and "make test" in readme  # the two commands stay where a newcomer starts


def test_the_readme_and_the_site_lead_with_the_card_s_verdict_and_its_figures():
    """The model figures the README and the site's first page quote are the bundled card's: a retrain that changes
    them fails here until the prose follows. The README quotes the Brier skill of every claimed set; both quote
    each missed set's."""
    import json

    card = json.loads((ROOT / "models" / "escalation.card.json").read_text())
    readme, index = (ROOT / "README.md").read_text(), (ROOT / "docs" / "index.md").read_text()
    lead = " ".join(readme.split("\n\n")[1].split())  # the paragraph under the title, lines joined
    assert lead.startswith("**Model quality first:") and card["version"] in lead

    def figure(e: dict) -> str:
        low, high = e["bss_vs_best"]["ci90"]
        return f"{e['bss_vs_best']['value']:+.3f} [{low:+.3f}, {high:+.3f}]"

    for r in card["metrics"][card["primary"]].values():
        for e in (r, r.get("interstate")):
            if e is None or not e["claimed"]:
                continue
            assert figure(e) in lead, figure(e)
            if e["bar"].startswith("missed"):
                assert figure(e) in " ".join(index.split())
