"""How fast the center answers with a realistic amount of data, on SQLite and PostgreSQL.

The issue's targets, with 10,000 images, 1,000,000 findings, 100,000 alerts and 500 hosts in
the store (``center_data.py`` generates it):

* every page (API list or detail, dashboard page): server time at most 300 ms at the median
  and 1 s at p99;
* a filtered findings list from the API: at most 100 ms (median);
* ingest of one image scan (300 packages, 100 findings): at most 50 ms (median);
* the secure score updated at most 1 s after an ingest;
* the server's RSS below 500 MB throughout.

The real server runs in a subprocess (uvicorn, as ``seawall serve`` runs it) on a fresh copy
of the cached store, with an owner token, a scoped reader token and a signed-in owner for the
dashboard. The application is wrapped in a middleware that adds a ``Server-Timing`` header
(from the request's arrival to its response headers), so the figures are the server's time,
not the client's. Every GET route of the application without path parameters is discovered
and timed (so dashboard pages are covered as they land), plus the detail routes whose
parameters can be filled from the store, plus filtered lists. The server's RSS is sampled
from /proc every 50 ms from start to stop. Never fails: it reports.

    .venv/bin/python bench/center_speed.py                 # both backends, full size
    .venv/bin/python bench/center_speed.py --quick         # small store, fewer requests
    .venv/bin/python bench/center_speed.py --backend sqlite --requests 200 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import httpx  # noqa: E402

import center_data  # noqa: E402

PAGE_MEDIAN_MS, PAGE_P99_MS = 300.0, 1000.0
FILTERED_MS = 100.0
INGEST_MS = 50.0
SCORE_DELAY_MS = 1000.0
RSS_MB = 500.0
PASSWORD = "bench password that is long enough"
SKIPPED_PREFIXES = ("/api/v1/export/",)  # streams of whole lists, not pages


# -- the server side ---------------------------------------------------------------------


class ServerTiming:
    """ASGI middleware: ``Server-Timing: app;dur=MS`` on every response (the time from the
    request's arrival to the start of its response)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={ms:.3f}".encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, timed)


def get_routes(routes: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Every GET route of the application, with its full path. Routers included with
    ``include_router`` may be kept as included routers (newer FastAPI) rather than copied
    into the application's list: they are walked with the prefix they were included under."""
    from starlette.routing import Route

    found: list[dict[str, Any]] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found += get_routes(inner.routes, prefix + str(getattr(context, "prefix", "")))
        elif isinstance(route, Route) and "GET" in (route.methods or ()):
            found.append({"path": prefix + route.path, "name": route.name})
    return found


def serve(url: str, port: int, routes_file: str) -> None:
    """The server process: the real application, as ``seawall serve`` runs it."""
    import uvicorn

    from seawall.center.app import create_app
    from seawall.center.config import CenterConfig

    config = CenterConfig(
        data_dir=center_data.WORK / "data",
        database_url=url,
        advisory_db=center_data.WORK / "no-advisory-database.db",  # no matching in the bench
    )
    app = create_app(config)
    routes = get_routes(app.routes)
    Path(routes_file).write_text(json.dumps(routes))
    uvicorn.run(
        ServerTiming(app),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        proxy_headers=True,
        timeout_keep_alive=5,
        limit_concurrency=200,
    )


# -- measuring -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Row:
    group: str
    name: str
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    target: str = ""
    verdict: str = ""
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.server_ms) if self.server_ms else float("nan")

    @property
    def p99(self) -> float:
        return percentile(self.server_ms, 0.99) if self.server_ms else float("nan")


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        path = Path(f"/proc/{self.pid}/status")
        while not self._halt.is_set():
            try:
                for line in path.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.samples.append((time.monotonic(), int(line.split()[1]) / 1024))
            except OSError:
                return
            self._halt.wait(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    @property
    def max_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=float("nan"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    base: str
    routes: list[dict[str, Any]]
    rss: RssSampler


@contextlib.contextmanager
def server(url: str) -> Iterator[Running]:

    port = _free_port()
    routes_file = center_data.WORK / f"routes-{os.getpid()}.json"
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"}
    log = (center_data.WORK / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, str(port), str(routes_file)],
        env=env,
        stdout=log,
        stderr=log,
    )
    rss = RssSampler(process.pid)
    rss.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}): see server.log")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in 300 s")
            time.sleep(0.2)
        routes = json.loads(routes_file.read_text())
        yield Running(process, base, routes, rss)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        rss.stop()
        log.close()
        routes_file.unlink(missing_ok=True)


# -- what the store holds, to fill paths and filters -------------------------------------------


@dataclass
class Samples:
    images: list[tuple[int, str]]  # (id, config digest): running, with findings
    hosts: list[int]
    clusters: list[int]
    workloads: list[int]
    findings: list[int]
    alerts: list[int]
    scans: list[int]
    users: list[int]
    exceptions: list[int]
    rules: list[str]  # common advisories (on many images)
    packages: list[str]
    host_names: list[str]
    recommendations: list[str] = field(default_factory=list)


def prepare(url: str) -> tuple[dict[str, str], Samples]:
    """Tokens and a user in the store; objects to fill paths and filters with."""
    from sqlalchemy import func, select

    from seawall.center.accounts import create_token, create_user
    from seawall.center.posture.catalog import RECOMMENDATIONS
    from seawall.center.store.database import connect, sessions
    from seawall.center.store.models import (
        AlertRow,
        Asset,
        ExceptionRow,
        FindingRow,
        Scan,
        User,
    )

    engine = connect(url)
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    with sessions(engine)() as session, session.begin():
        hosts = list(
            session.scalars(select(Asset.id).where(Asset.type == "host").order_by(Asset.id))
        )
        host_names = list(
            session.scalars(select(Asset.name).where(Asset.type == "host").order_by(Asset.id))
        )
        scope = [f"host:{host_names[len(host_names) // 3]}"]
        _, owner = create_token(session, "bench-owner", "owner", [], None, "bench", now)
        _, reader = create_token(session, "bench-reader", "reader", scope, None, "bench", now)
        create_user(session, "bench-owner", PASSWORD, "owner", [], now)
        running = list(
            session.execute(
                select(Asset.id, Asset.key)
                .where(Asset.type == "image", Asset.running.is_(True))
                .order_by(Asset.id)
            ).all()
        )
        images = rng.sample(running, min(20, len(running)))
        max_finding = int(session.scalar(select(func.max(FindingRow.id))) or 0)
        max_alert = int(session.scalar(select(func.max(AlertRow.id))) or 0)
        common_rules = list(
            session.scalars(
                select(FindingRow.rule_id)
                .where(FindingRow.source_id.in_([i for i, _ in images[:5]]))
                .group_by(FindingRow.rule_id)
                .order_by(FindingRow.rule_id)
                .limit(200)
            )
        )
        samples = Samples(
            images=images,
            hosts=rng.sample(hosts, min(20, len(hosts))),
            clusters=list(session.scalars(select(Asset.id).where(Asset.type == "cluster"))),
            workloads=rng.sample(
                list(session.scalars(select(Asset.id).where(Asset.type == "workload"))), 20
            )
            if session.scalar(select(func.count()).where(Asset.type == "workload"))
            else [],
            findings=[rng.randint(1, max_finding) for _ in range(50)],
            alerts=[rng.randint(1, max_alert) for _ in range(50)],
            scans=list(session.scalars(select(Scan.id).order_by(Scan.id.desc()).limit(20))),
            users=list(session.scalars(select(User.id))),
            exceptions=list(session.scalars(select(ExceptionRow.id))),
            rules=rng.sample(common_rules, min(10, len(common_rules))),
            packages=["openssl", "curl", "libxml2", "zlib1g", "libc6"],
            host_names=host_names,
            recommendations=[r.id for r in RECOMMENDATIONS],
        )
    engine.dispose()
    return {"owner": owner, "reader": reader}, samples


# -- the cases -------------------------------------------------------------------------------

_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def _values_for(path: str, samples: Samples) -> list[dict[str, str]] | str:
    """Ways to fill the path parameters of ``path`` from the store (or why not)."""
    names = _PARAM.findall(path)
    segments = [s for s in path.removeprefix("/api/v1").split("/") if s and "{" not in s]
    kind = segments[0] if segments else ""
    options: dict[str, list[str]] = {}
    for name in names:
        if name == "digest":
            options[name] = [d for _, d in samples.images]
        elif kind == "images":
            options[name] = [str(i) for i, _ in samples.images]
        elif kind in (
            "hosts",
            "clusters",
            "workloads",
            "findings",
            "alerts",
            "scans",
            "users",
            "exceptions",
        ):
            options[name] = [str(v) for v in getattr(samples, kind)]
        elif kind == "recommendations":
            options[name] = samples.recommendations
        else:
            return f"no value for {{{name}}}"
        if not options[name]:
            return f"nothing in the store for {{{name}}}"
    count = max((len(v) for v in options.values()), default=1)
    return [{k: v[i % len(v)] for k, v in options.items()} for i in range(count)]


@dataclass
class Case:
    group: str
    name: str
    paths: list[str]  # cycled through
    token: str = "owner"  # or reader, or "" for the session cookie
    target: str = "page"  # page, filtered, none
    params: list[dict[str, Any]] = field(default_factory=lambda: [{}])


def cases(routes: list[dict[str, Any]], samples: Samples) -> tuple[list[Case], list[str]]:
    found: list[Case] = []
    skipped: list[str] = []
    for route in sorted(routes, key=lambda r: (not r["path"].startswith("/api"), r["path"])):
        path = route["path"]
        if path.startswith(SKIPPED_PREFIXES) or path in ("/healthz",):
            skipped.append(f"{path} (not a page)")
            continue
        group = "api" if path.startswith("/api/") else "page"
        token = "owner" if group == "api" else ""
        if "{" not in path:
            found.append(Case(group + " list" if group == "api" else group, path, [path], token))
            continue
        values = _values_for(path, samples)
        if isinstance(values, str):
            skipped.append(f"{path} ({values})")
            continue
        concrete = [_PARAM.sub(lambda m, v=v: v[m.group(1)], path) for v in values]  # type: ignore[misc]
        found.append(Case(group + " detail" if group == "api" else group, path, concrete, token))
    image_ids = [str(i) for i, _ in samples.images]
    filtered = [
        ("severity=critical", {"severity": "critical"}),
        ("severity=high,critical", {"severity": "high,critical"}),
        ("package=<name>", [{"package": p} for p in samples.packages]),
        ("rule=<advisory>", [{"rule": r} for r in samples.rules]),
        ("rule=<id without namespace>", [{"rule": r.partition("/")[2]} for r in samples.rules]),
        ("source=<image id>", [{"source": i} for i in image_ids]),
        ("asset=<image id>&state=all", [{"asset": i, "state": "all"} for i in image_ids]),
        ("kind=configuration", {"kind": "configuration"}),
        ("state=resolved", {"state": "resolved"}),
        ("state=suppressed", {"state": "suppressed"}),
        ("sort=first_seen", {"sort": "first_seen"}),
        ("q=<text>", [{"q": p} for p in samples.packages]),
    ]
    for name, params in filtered:
        found.append(
            Case(
                "findings filtered",
                f"/api/v1/findings?{name}",
                ["/api/v1/findings"],
                target="filtered",
                params=params if isinstance(params, list) else [params],
            )
        )
    found.append(
        Case(
            "findings filtered",
            "/api/v1/findings (scoped reader, one host)",
            ["/api/v1/findings"],
            token="reader",
            target="filtered",
        )
    )
    found.append(
        Case(
            "findings filtered",
            "/api/v1/findings?severity=critical (scoped reader)",
            ["/api/v1/findings"],
            token="reader",
            target="filtered",
            params=[{"severity": "critical"}],
        )
    )
    found.append(
        Case(
            "findings filtered",
            "/api/v1/images/{digest}/findings?state=all",
            [f"/api/v1/images/{d}/findings" for _, d in samples.images],
            target="filtered",
            params=[{"state": "all"}],
        )
    )
    other = [
        ("/api/v1/images", "healthy=false", {"healthy": "false"}),
        ("/api/v1/images", "sort=critical", {"sort": "critical"}),
        ("/api/v1/images", "q=<text>", {"q": "svc-12"}),
        ("/api/v1/images", "registry=<host>", {"registry": center_data.REGISTRIES[1]}),
        ("/api/v1/hosts", "sort=critical", {"sort": "critical"}),
        ("/api/v1/alerts", "severity=critical", {"severity": "critical"}),
        ("/api/v1/alerts", "status=new", {"status": "new"}),
        ("/api/v1/workloads", "cluster=<id>", {"cluster": str((samples.clusters or [0])[0])}),
        ("/api/v1/scans", "asset=<image id>", {"asset": image_ids[0]}),
    ]
    for path, name, params in other:
        found.append(Case("api list", f"{path}?{name}", [path], params=[params]))
    for path in ("/api/v1/images", "/api/v1/hosts", "/api/v1/alerts", "/api/v1/score"):
        found.append(Case("api list", f"{path} (scoped reader)", [path], token="reader"))
    return found, skipped


class Client:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        import httpx

        self.http = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
        self.tokens = tokens
        self.cookie = ""

    def sign_in(self) -> None:
        page = self.http.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert token, "no login_csrf on /login"
        answer = self.http.post(
            "/login",
            data={
                "name": "bench-owner",
                "password": PASSWORD,
                "login_csrf": token.group(1),
                "next": "/",
            },
        )
        assert answer.status_code == 303, answer.status_code
        self.cookie = answer.cookies.get("seawall_session") or ""
        self.http.cookies.clear()

    def get(self, path: str, token: str, params: dict[str, Any]) -> tuple[int, float, float, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[token]}"} if token else {}
        cookies = {"seawall_session": self.cookie} if not token else None
        start = time.perf_counter()
        try:
            answer = self.http.get(path, params=params, headers=headers, cookies=cookies)
        except httpx.HTTPError as exc:  # the server dropped the connection: an error row
            return 599, float("nan"), float("nan"), httpx.Response(599, text=repr(exc))
        client = (time.perf_counter() - start) * 1000
        self.http.cookies.clear()
        return answer.status_code, _server_ms(answer.headers), client, answer


def _server_ms(headers: Any) -> float:
    match = re.search(r"app;dur=([\d.]+)", headers.get("server-timing", ""))
    return float(match.group(1)) if match else float("nan")


def run_case(client: Client, case: Case, requests: int) -> Row:
    row = Row(case.group, case.name)
    variants = [(p, q) for p in case.paths for q in case.params]
    random.Random(case.name).shuffle(variants)
    for path, params in variants[:2]:  # warm-up, not counted
        client.get(path, case.token, params)
    for i in range(requests):
        path, params = variants[i % len(variants)]
        code, server_ms, client_ms, answer = client.get(path, case.token, params)
        row.statuses[code] = row.statuses.get(code, 0) + 1
        row.server_ms.append(server_ms)
        row.client_ms.append(client_ms)
        if code >= 400 and not row.note:
            row.note = f"{code}: {answer.text[:80]}"
    if case.target == "page":
        row.target = f"{PAGE_MEDIAN_MS:.0f} / {PAGE_P99_MS:.0f}"
        row.verdict = "ok" if row.median <= PAGE_MEDIAN_MS and row.p99 <= PAGE_P99_MS else "SLOW"
    elif case.target == "filtered":
        row.target = f"{FILTERED_MS:.0f} / {PAGE_P99_MS:.0f}"
        row.verdict = "ok" if row.median <= FILTERED_MS and row.p99 <= PAGE_P99_MS else "SLOW"
    if any(code >= 400 for code in row.statuses):
        row.verdict = "ERROR"
    return row


def measure_ingest(client: Client, count: int, size: center_data.Size) -> tuple[Row, Row, Row]:
    """``count`` fresh image scans (300 packages, 100 findings each, never seen before),
    each followed by polling the score until it counts the new image."""
    import msgspec

    pools = center_data.Pools()
    salt = f"fresh{os.getpid()}x{int(time.time())}"
    bodies = []
    for index in range(count + 2):
        envelope, _ = center_data.image_envelopes(
            pools, index, findings=100, resolved=0, packages=300, salt=salt
        )
        bodies.append(msgspec.json.encode(envelope))
    ingest_row = Row("ingest", "POST /api/v1/ingest (image scan: 300 packages, 100 findings)")
    delay_row = Row("ingest", "score reflects the ingest (from sending it)")
    score_row = Row("ingest", "GET /api/v1/score right after an ingest")
    headers = {
        "Authorization": f"Bearer {client.tokens['owner']}",
        "Content-Type": "application/json",
    }

    def assessed() -> tuple[int, float]:
        answer = client.http.get("/api/v1/score", headers=headers)
        control = next(
            c for c in answer.json()["controls"] if c["id"] == "remediate-vulnerabilities"
        )
        return control["healthy"] + control["unhealthy"], _server_ms(answer.headers)

    for index, body in enumerate(bodies):
        before, _ = assessed()
        start = time.perf_counter()
        answer = client.http.post("/api/v1/ingest", content=body, headers=headers)
        sent = (time.perf_counter() - start) * 1000
        if answer.status_code != 201 and not ingest_row.note:
            ingest_row.note = f"{answer.status_code}: {answer.text[:80]}"
        polls = 0
        while True:
            now_assessed, score_ms = assessed()
            polls += 1
            if now_assessed > before or polls > 200:
                break
        delay = (time.perf_counter() - start) * 1000
        if index < 2:
            continue  # warm-up
        ingest_row.server_ms.append(_server_ms(answer.headers))
        ingest_row.client_ms.append(sent)
        delay_row.server_ms.append(delay)
        delay_row.client_ms.append(delay)
        score_row.server_ms.append(score_ms)
        if polls > 200:
            delay_row.note = "the score never counted the new image"
    ingest_row.target = f"{INGEST_MS:.0f} median"
    ingest_row.verdict = "ok" if ingest_row.median <= INGEST_MS else "SLOW"
    delay_row.target = f"{SCORE_DELAY_MS:.0f} p99"
    delay_row.verdict = "ok" if delay_row.p99 <= SCORE_DELAY_MS and not delay_row.note else "SLOW"
    score_row.target = f"{PAGE_MEDIAN_MS:.0f} / {PAGE_P99_MS:.0f}"
    score_row.verdict = (
        "ok" if score_row.median <= PAGE_MEDIAN_MS and score_row.p99 <= PAGE_P99_MS else "SLOW"
    )
    return ingest_row, delay_row, score_row


# -- the report --------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def print_table(title: str, rows: list[Row], rss: Row, skipped: list[str]) -> None:
    print()
    print(title)
    headers = (
        "group",
        "what",
        "n",
        "median ms",
        "p99 ms",
        "max ms",
        "client median",
        "target ms (median / p99)",
        "",
    )
    table = [headers]
    for row in rows:
        table.append(
            (
                row.group,
                row.name,
                str(len(row.server_ms)),
                _fmt(row.median),
                _fmt(row.p99),
                _fmt(max(row.server_ms, default=float("nan"))),
                _fmt(statistics.median(row.client_ms) if row.client_ms else float("nan")),
                row.target,
                row.verdict + (f" ({row.note})" if row.note else ""),
            )
        )
    table.append(
        (
            "server",
            rss.name,
            str(len(rss.server_ms)),
            "-",
            "-",
            _fmt(max(rss.server_ms, default=float("nan"))),
            "-",
            rss.target,
            rss.verdict,
        )
    )
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    for n, line in enumerate(table):
        print("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |")
        if n == 0:
            print("| " + " | ".join("-" * w for w in widths) + " |")
    if skipped:
        print("not timed: " + "; ".join(skipped))
    slow = [r for r in rows if r.verdict in ("SLOW", "ERROR")]
    print(
        f"{len(rows) - len(slow)} of {len(rows)} rows within target"
        + (": missed " + ", ".join(f"{r.name}" for r in slow) if slow else "")
    )


def bench_backend(
    backend: str, size: center_data.Size, requests: int, ingests: int
) -> dict[str, Any]:
    tag = "sqlite" if backend == "sqlite" else "pg"
    url, drop = center_data.fresh_copy(size, backend, tag)
    try:
        center_data.sync_indexes(url)
        tokens, samples = prepare(url)
        with server(url) as running:
            started_mb = running.rss.max_mb
            client = Client(running.base, tokens)
            client.sign_in()
            found, skipped = cases(running.routes, samples)
            rows = []
            for case in found:
                rows.append(run_case(client, case, requests))
                print(
                    f"  {rows[-1].name}: median {_fmt(rows[-1].median)} ms, p99 "
                    f"{_fmt(rows[-1].p99)} ms {rows[-1].verdict}",
                    flush=True,
                )
            rows.extend(measure_ingest(client, ingests, size))
            for row in rows[-3:]:
                print(f"  {row.name}: median {_fmt(row.median)} ms {row.verdict}", flush=True)
            time.sleep(0.2)
            rss = Row("server", f"RSS, MB (at start {started_mb:.0f})")
            rss.server_ms = [mb for _, mb in running.rss.samples]
            rss.target = f"< {RSS_MB:.0f}"
            rss.verdict = "ok" if running.rss.max_mb < RSS_MB else "HIGH"
        load = os.getloadavg()
        title = (
            f"center speed on {'SQLite' if backend == 'sqlite' else 'PostgreSQL'} "
            f"({size.name}: {size.label}); {requests} requests per row, {ingests} ingests; "
            f"load average {load[0]:.1f}"
        )
        print_table(title, rows, rss, skipped)
        return {
            "backend": backend,
            "size": size.name,
            "rows": [
                {
                    "group": r.group,
                    "name": r.name,
                    "median_ms": r.median,
                    "p99_ms": r.p99,
                    "server_ms": r.server_ms,
                    "client_ms": r.client_ms,
                    "statuses": r.statuses,
                    "verdict": r.verdict,
                }
                for r in rows
            ],
            "rss_max_mb": max(rss.server_ms, default=0),
            "skipped": skipped,
        }
    finally:
        drop()


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small store, 20 requests a row")
    parser.add_argument("--requests", type=int, help="requests per row (default 100)")
    parser.add_argument("--ingests", type=int, help="image scans ingested (default 30)")
    parser.add_argument("--json", type=Path, help="write every timing here")
    args = parser.parse_args()
    size = center_data.QUICK if args.quick else center_data.FULL
    requests = args.requests or (20 if args.quick else 100)
    ingests = args.ingests or (10 if args.quick else 30)
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    results = []
    for backend in backends:
        results.append(bench_backend(backend, size, requests, ingests))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
