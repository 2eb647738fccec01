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
