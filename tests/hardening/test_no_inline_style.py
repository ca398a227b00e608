"""No inline style anywhere: the CSP's style-src is 'self' alone, so a style attribute or a <style> block in a
page would be refused by the browser (and reported as a violation). Pages style through classes in static/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.test import Client

from meetings import services as meeting_services
from meetings.models import Meeting
from pledges import services as pledge_services
from tests.conftest import World
from tests.factories import make_pledge
from tests.hardening.test_headers import csp_directives
from tests.meetings.conftest import upcoming_meeting
from tests.test_layout import ROOT, modules

# A style attribute in a tag, or a <style> element.
INLINE_STYLE = re.compile(r"<[a-zA-Z][^<>]*\sstyle\s*=|<style\b", re.IGNORECASE)


def templates() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for package in {name.split(".")[0] for name in modules()}:
        found += (ROOT / package / "templates").rglob("*.html")
    return found


def test_no_template_has_an_inline_style() -> None:
    offending = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in templates()
                 for match in [INLINE_STYLE.search(path.read_text())] if match]
    assert templates(), "the templates were found"
    assert not offending, "inline styles the CSP refuses (use a class in static/):\n" + "\n".join(offending)


def test_no_html_written_in_the_code_has_an_inline_style() -> None:
    """Every string in the code (format_html, format_html_join, mark_safe and the rest alike) and every string
    in our scripts."""
    offending = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and INLINE_STYLE.search(node.value):
                offending.append(f"{name}:{node.lineno}: {node.value[:80]}")
    for script in (ROOT / "static").rglob("*.js"):
        text = script.read_text()
        if INLINE_STYLE.search(text) or re.search(r"setAttribute\(\s*['\"]style['\"]", text):
            offending.append(str(script.relative_to(ROOT)))
    assert not offending, "inline styles the CSP refuses (use a class in static/):\n" + "\n".join(offending)


@pytest.mark.parametrize("url", ["/admin/login/", "/api/v1/docs/"])
def test_the_policy_takes_no_inline_style(client: Client, db: None, url: str) -> None:
    policy = csp_directives(client.get(url).headers["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'"]
    assert not [directive for directive, sources in policy.items() if "'unsafe-inline'" in sources]


def test_the_pages_that_had_inline_styles_have_none(world: World) -> None:
    """The brief's progress bar (the brief list, the meeting's page), a pledge's history and the API docs (whose
    page style is a stylesheet of ours), as rendered."""
    meeting: Meeting = upcoming_meeting(world)
    meeting_services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel)
    pledge_services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=120)
    pages = [(world.secretariat, "/admin/meetings/brief/", 'class="brief-progress brief-queued"'),
             (world.secretariat, f"/admin/meetings/meeting/{meeting.pk}/change/", 'class="brief-progress'),
             (world.ministry_pl, f"/admin/pledges/pledge/{pledge.pk}/history/", 'class="history-changes"'),
             (world.analyst, "/api/v1/docs/", "coalition/api_docs.css")]
    for user, url, drawn in pages:
        client = Client()
        client.force_login(user)
        html = client.get(url).content.decode()
        assert drawn in html, url
        assert not INLINE_STYLE.search(html), f"{url}: {INLINE_STYLE.search(html)}"
