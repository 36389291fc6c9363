"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the center
served by uvicorn on a free port of 127.0.0.1, filled with the real result envelopes.

An owner signs in, sees the score, opens an image and its findings, dismisses an alert with a
reason (htmx swaps the triage panel in place); a Reader sees no such control and is refused
when trying anyway. Screenshots of the main pages (and a phone-width and a dark one) go to
``$SEAWALL_ARTIFACTS`` or the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tools.screenshots import (
    CHROMIUM,
    OWNER,
    READER,
    DemoCenter,
    browser,
    fill,
    ids,
    make_center,
    serve,
    shoot,
    sign_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DemoCenter]]:
    center = make_center(tmp_path_factory.mktemp("center"))
    fill(center)
    with serve(center.app) as base:
        yield base, center
    center.app.state.center.engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser() as launched:
        yield launched


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1360, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    assert not errors, errors  # no CSP violation, no script error


def test_an_owner_reads_the_posture_and_dismisses_an_alert(
    running: tuple[str, DemoCenter], page: Any
) -> None:
    base, center = running
    sign_in(page, base, OWNER)
    assert page.get_by_role("heading", name="Secure score").is_visible()
    ring = page.locator("svg.ring")
    assert re.fullmatch(r"Secure score [\d.]+ percent", ring.get_attribute("aria-label") or "")
    assert page.get_by_text(OWNER, exact=True).is_visible()

    # the inventory, an image, its findings with the layer that brought them
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inventory").click()
    page.get_by_role("link", name="seawall/demo:1.0").click()
    page.wait_for_url(re.compile(r"/images/sha256:"))
    findings = page.locator("#results tbody tr")
    assert findings.count() == 4
    assert page.get_by_text("ADD debian-12-rootfs.tar /").first.is_visible()
    page.get_by_role("link", name="CVE-2026-0002").click()
    assert page.get_by_text("5.2.15-2+deb12u1", exact=True).is_visible()

    # an alert, dismissed with a reason: htmx posts and swaps the triage panel in place
    page.goto(f"{base}/alerts/{ids(center)['alert']}")
    url = page.url
    page.get_by_label("Reason for dismissing").fill("expected: incident 4711 debugging")
    page.get_by_role("button", name="Dismiss").click()
    triage = page.locator("#triage")
    triage.get_by_text("Dismissed by").wait_for()
    assert "incident 4711" in triage.inner_text()
    assert page.url == url  # no navigation: the panel alone was replaced
    assert page.get_by_role("button", name="Reopen").is_visible()

    # filtering the findings list as you type (htmx), the address follows
    page.goto(f"{base}/findings")
    page.get_by_label("Search").fill("requests")
    page.wait_for_url(re.compile(r"q=requests"))
    rows = page.locator("#results tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3  # the demo image and its two variants
    assert all("requests" in row for row in rows.all_inner_texts())


def test_a_reader_has_no_controls_and_is_refused(
    running: tuple[str, DemoCenter], page: Any
) -> None:
    base, center = running
    alert = ids(center)["alert"]
    sign_in(page, base, READER)
    assert page.get_by_role("link", name="Settings").count() == 0
    page.goto(f"{base}/alerts/{alert}")
    assert page.get_by_role("button", name="Dismiss").count() == 0
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    # trying anyway, with the session's own CSRF token as htmx would send it
    token = json.loads(page.get_attribute("body", "hx-headers") or "{}")["X-CSRF-Token"]
    answer = page.request.post(
        f"{base}/alerts/{alert}/status",
        form={"status": "acknowledged", "csrf_token": token},
        max_redirects=0,
    )
    assert answer.status == 403
    assert page.request.get(f"{base}/settings").status == 403


def test_the_keyboard_reaches_the_content_first(running: tuple[str, DemoCenter], page: Any) -> None:
    base, _ = running
    sign_in(page, base, OWNER)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("e => e === document.activeElement")
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


def test_screenshots_of_the_main_pages(
    running: tuple[str, DemoCenter], chromium: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base, center = running
    folder = os.environ.get("SEAWALL_ARTIFACTS")
    out = Path(folder) / "screenshots" if folder else tmp_path_factory.mktemp("screenshots")
    written = shoot(base, center, out, chromium)
    names = {p.name for p in written}
    for expected in ("overview", "inventory", "image", "host", "recommendations", "alerts",
                     "settings", "phone-overview", "dark-overview"):  # fmt: skip
        assert f"{expected}.png" in names
    assert all(p.stat().st_size > 10_000 for p in written)
