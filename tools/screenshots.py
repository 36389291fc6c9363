"""Screenshots of the dashboard's main pages, as docs/screenshots/*.png.

Usage: python tools/screenshots.py [OUT_DIR]   (run from the repository root)

A center is made in a temporary folder (SQLite) and filled with the real result envelopes the
tests use (tests/support/envelopes.py: the demo image scan, host audits, a Kubernetes scan,
run-time alerts), plus two variants of the demo image and a few past days of score history,
so that the pages have something to show. Alerts are moved to the last two weeks. It is
served by uvicorn on a free port of 127.0.0.1 and Debian's Chromium (/usr/bin/chromium, no
browser is downloaded) is driven through Playwright.

The browser tests (tests/center/test_browser.py) use the same center, server and browser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"  # noqa: S105 (the demo users' password)
OWNER, CONTRIBUTOR, READER = "olivia", "carlos", "rita"


@dataclass
class DemoCenter:
    app: Any  # FastAPI
    advisory_db: Path

    def session(self) -> Any:
        return self.app.state.center.sessions()


def _variant(scan: Any, digest: str, reference: str, drop: tuple[str, ...]) -> Any:
    """The demo image scan as another image: another digest and name, some findings fixed,
    fingerprints of its own."""
    asset = msgspec.structs.replace(
        scan.asset, id=digest, config_digest=digest, name=reference, references=(reference,)
    )
    results = tuple(
        msgspec.structs.replace(
            r, fingerprint=hashlib.sha256((digest + r.fingerprint).encode()).hexdigest()[:32]
        )
        for r in scan.results
        if r.rule not in drop
    )
    return msgspec.structs.replace(scan, asset=asset, results=results)


def _recent_alerts(batch: Any, now: dt.datetime) -> Any:
    """The recorded alerts moved to the last two weeks (one every few hours, newest last)."""
    moved = []
    count = len(batch.alerts)
    for index, alert in enumerate(batch.alerts):
        when = now - dt.timedelta(days=13 * (count - 1 - index) / max(1, count - 1), hours=2)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        moved.append(msgspec.structs.replace(alert, time=stamp, last_time=stamp))
    return msgspec.structs.replace(batch, alerts=tuple(moved))


def fill(center: DemoCenter, *, history: bool = True, names: dict[str, str] | None = None) -> None:
    """The demo data, ingested as an upload would be; ``names`` renames the demo host (for
    the escaping tests)."""
    from tests.support import envelopes

    from seawall.center.ingest import ingest
    from seawall.center.posture import score
    from seawall.center.security.roles import Principal, Role
    from seawall.center.security.scope import EVERYTHING
    from seawall.center.store.models import ScoreHistory

    now = dt.datetime.now(dt.UTC)
    scan = envelopes.demo_scan(center.advisory_db)
    batch = [
        scan,
        _variant(scan, "sha256:" + "1" * 64, "ghcr.io/acme/shop-api:2.4.1", ("osv/CVE-2026-0002",)),
        _variant(
            scan,
            "sha256:" + "2" * 64,
            "ghcr.io/acme/billing:1.9.0",
            ("osv/CVE-2026-0002", "osv/CVE-2026-0001"),
        ),
        envelopes.host_audit(name=(names or {}).get("host", "build-01")),
        envelopes.host_audit(
            name="web-02",
            engine_id="K2LM:7QPA:ZX3D:J6XW:N5TE:Q4AB:2R7V:HS3E:QK6N:UJ2D:TB7G:MD5C",
            containers=(
                ("shop-api", "ghcr.io/acme/shop-api:2.4.1", "sha256:" + "1" * 64, True),
                ("billing", "ghcr.io/acme/billing:1.9.0", "sha256:" + "2" * 64, True),
                ("backup", "ghcr.io/acme/billing:1.9.0", "sha256:" + "2" * 64, False),
            ),
            privileged=(),
        ),
        envelopes.k8s_scan("shop"),
        _recent_alerts(envelopes.alerts("minikube"), now),
    ]
    owner = Principal(name=OWNER, role=Role.OWNER, scope=EVERYTHING)
    for envelope in batch:
        with center.session() as session, session.begin():
            ingest(session, envelope, owner, now)
    if history:
        with center.session() as session, session.begin():
            today = score.compute(session, EVERYTHING)
            for days, share in ((12, 0.55), (9, 0.62), (6, 0.7), (3, 0.82), (1, 0.9)):
                share *= today.percent / 100
                session.merge(
                    ScoreHistory(
                        scope_key="",
                        day=(now.date() - dt.timedelta(days=days)).isoformat(),
                        score=today.max_score * share,
                        max_score=today.max_score,
                        percent=round(100 * share, 1),
                    )
                )


def make_center(root: Path, *, database_url: str = "") -> DemoCenter:
    """A new center in ``root`` with an owner, a contributor and a reader (password
    :data:`PASSWORD`)."""
    from tests.support.advisorydb import demo_database

    from seawall.center.accounts import create_user
    from seawall.center.app import create_app
    from seawall.center.config import CenterConfig

    root.mkdir(parents=True, exist_ok=True)
    advisory_db = demo_database(root / "advisories")
    config = CenterConfig(
        data_dir=root / "data",
        database_url=database_url or f"sqlite:///{root / 'center.db'}",
        advisory_db=advisory_db,
        secure_cookies=False,
    )
    app = create_app(config, background=False)
    now = dt.datetime.now(dt.UTC)
    with app.state.center.sessions() as session, session.begin():
        create_user(session, OWNER, PASSWORD, "owner", [], now)
        create_user(session, CONTRIBUTOR, PASSWORD, "contributor", [], now)
        create_user(session, READER, PASSWORD, "reader", [], now)
    return DemoCenter(app=app, advisory_db=advisory_db)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on 127.0.0.1; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the center did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (sync API)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def sign_in(page: Any, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/overview")


PAGES = (
    ("overview", "/overview"),
    ("inventory", "/inventory/images"),
    ("image", "/images/sha256:6a7975bd9c80f56440afe80aa59c1552bc16f7533ae0d6ed3e548aedeb2b218e"),
    ("host", "/hosts/{host}"),
    ("recommendations", "/recommendations"),
    ("recommendation", "/recommendations/image-vulnerabilities"),
    ("findings", "/findings"),
    ("alerts", "/alerts"),
    ("alert", "/alerts/{alert}"),
    ("settings", "/settings"),
)


def ids(center: DemoCenter) -> dict[str, int]:
    """Ids the page addresses need: the demo host, and an alert with evidence."""
    from sqlalchemy import select

    from seawall.center.store.models import AlertRow, Asset

    with center.session() as session:
        host = session.scalar(select(Asset.id).where(Asset.type == "host").order_by(Asset.id))
        alert = session.scalar(
            select(AlertRow.id).where(AlertRow.rule_id == "runtime/k8s-exec-attach")
        ) or session.scalar(select(AlertRow.id).order_by(AlertRow.id))
    return {"host": int(host or 0), "alert": int(alert or 0)}


def shoot(base: str, center: DemoCenter, out: Path, launched: Any) -> list[Path]:
    """Every page of :data:`PAGES` at desktop width, the overview at phone width, and the
    overview and an image in dark mode."""
    out.mkdir(parents=True, exist_ok=True)
    known = ids(center)
    written = []
    shots: list[tuple[str, dict[str, Any], tuple[tuple[str, str], ...]]] = [
        ("", {"viewport": {"width": 1360, "height": 900}}, PAGES),
        (
            "phone-",
            {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2},
            (("overview", "/overview"), ("alert", "/alerts/{alert}")),
        ),
        (
            "dark-",
            {"viewport": {"width": 1360, "height": 900}, "color_scheme": "dark"},
            (("overview", "/overview"), PAGES[2]),
        ),
    ]
    for prefix, options, pages in shots:
        context = launched.new_context(**options)
        page = context.new_page()
        sign_in(page, base, OWNER)
        for name, path in pages:
            page.goto(base + path.format(**known))
            page.wait_for_load_state("networkidle")
            target = out / f"{prefix}{name}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
        context.close()
    return written


def main(argv: list[str]) -> int:
    import tempfile

    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    with tempfile.TemporaryDirectory(prefix="seawall-shots-") as folder:
        center = make_center(Path(folder))
        fill(center)
        with serve(center.app) as base, browser() as launched:
            for path in shoot(base, center, out, launched):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
