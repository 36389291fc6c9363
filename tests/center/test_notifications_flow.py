"""Problems to channels, through the outbox, on both backends: the rule's kinds, severity and
scope decide where a problem goes; a healthy image never notifies and the same problem
reported again notifies once; deliveries are signed, retried while the failure may pass and
given up with the reason when it cannot; a job failing for good and a score drop notify."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select, update

from seawall.center.jobs import queue
from seawall.center.jobs.execution import JobContext, JobFailure, Store, execute
from seawall.center.jobs.runner import Worker
from seawall.center.notifications.outbox import deliver_due
from seawall.center.notify import verify_signature
from seawall.center.runtime import Center as Runtime
from seawall.center.store.models import NotificationChannelRow, OutboxRow, ScoreHistory
from seawall.contract import encode
from tests.center.conftest import Center, both_backends
from tests.center.world import JSON
from tests.support import envelopes

SECRET = "webhook-signing-secret"


@dataclass
class Receiver:
    """A webhook receiver answering with the queued statuses (then 200)."""

    url: str
    answers: list[int] = field(default_factory=list)
    bodies: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            found.bodies.append(({k.lower(): v for k, v in self.headers.items()}, body))
            code = found.answers.pop(0) if found.answers else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield found
    server.shutdown()
    server.server_close()


def _runtime(center: Center) -> Runtime:
    runtime: Runtime = center.app.state.center
    return runtime


def _channel(center: Center, name: str, url: str, **rule: Any) -> int:
    owner = center.client("owner")
    channel = {"name": name, "kind": "webhook", "url": url, "secret": SECRET}
    made = owner.post("/api/v1/notifications/channels", json=channel)
    assert made.status_code == 201, made.text
    routing = {"name": f"{name} rule", "channel_id": made.json()["id"], **rule}
    routed = owner.post("/api/v1/notifications/rules", json=routing)
    assert routed.status_code == 201, routed.text
    return int(made.json()["id"])


def _outbox(center: Center) -> list[tuple[str, str, int]]:
    with _runtime(center).sessions() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        return [(row.kind, row.state, row.channel_id) for row in rows]


def _deliver(center: Center) -> int:
    return deliver_due(_runtime(center), "test", dt.datetime.now(dt.UTC))


@both_backends
def test_problems_reach_the_channels_whose_rules_match_and_nothing_else(
    center: Center, advisory_db, receiver: Receiver
) -> None:
    images = _channel(center, "images", receiver.url, kinds=["new_unhealthy_image"],
                      min_severity="medium")  # fmt: skip
    _channel(center, "elsewhere", receiver.url + "/other", kinds=["runtime_alert"],
             scope=["cluster:not-this-one"])  # fmt: skip
    contributor = center.client("contributor")
    scan = envelopes.demo_scan(advisory_db)
    for envelope in (scan, envelopes.alerts("minikube"), scan):  # the same scan twice
        assert contributor.post("/api/v1/ingest", content=encode(envelope), headers=JSON).is_success
    assert _outbox(center) == [("new_unhealthy_image", "pending", images)]
    assert _deliver(center) == 1
    assert _outbox(center) == [("new_unhealthy_image", "sent", images)]
    ((headers, body),) = receiver.bodies
    verify_signature(SECRET, headers["seawall-signature"], body, time.time())
    sent = json.loads(body)["notifications"]
    assert [n["kind"] for n in sent] == ["new_unhealthy_image"]
    assert "seawall/demo:1.0" in sent[0]["title"]
    # fixed: the image turns healthy, which never notifies
    healthy = envelopes.without(scan, [r.rule for r in scan.results])
    assert contributor.post("/api/v1/ingest", content=encode(healthy), headers=JSON).is_success
    assert _deliver(center) == 0 and len(_outbox(center)) == 1


@both_backends
def test_deliveries_are_retried_while_they_may_pass_and_then_given_up(
    center: Center, advisory_db, receiver: Receiver
) -> None:
    _channel(center, "flaky", receiver.url, kinds=["new_unhealthy_image"])
    receiver.answers = [503, 503]
    contributor = center.client("contributor")
    scan = envelopes.demo_scan(advisory_db)
    assert contributor.post("/api/v1/ingest", content=encode(scan), headers=JSON).is_success
    runtime = _runtime(center)
    for attempt in (1, 2):
        assert _deliver(center) == 0
        with runtime.sessions() as session, session.begin():
            row = session.scalars(select(OutboxRow)).one()
            assert (row.state, row.attempts) == ("pending", attempt)
            assert "503" in row.error and row.next_attempt_at > dt.datetime.now(dt.UTC)
            row.next_attempt_at = dt.datetime.now(dt.UTC)  # the back-off has passed
    assert _deliver(center) == 1
    assert [state for _, state, _ in _outbox(center)] == ["sent"]
    assert len(receiver.bodies) == 3
    # a refusal that cannot pass: failed at once, the reason on the row and the channel
    with runtime.sessions() as session, session.begin():
        session.execute(update(OutboxRow).values(state="pending", sent_at=None,
                                                 dedupe_key="another problem"))  # fmt: skip
    receiver.answers = [400]
    assert _deliver(center) == 0
    with runtime.sessions() as session:
        row = session.scalars(select(OutboxRow)).one()
        channel = session.scalars(select(NotificationChannelRow)).one()
        assert row.state == "failed" and "400" in row.error and "400" in channel.last_error
    listed = center.client("owner").get("/api/v1/notifications/outbox?state=failed").json()
    assert [item["kind"] for item in listed] == ["new_unhealthy_image"]


def _broken(context: JobContext, payload: dict[str, Any]) -> Store:
    raise JobFailure("no such image in the registry", retryable=False)


@both_backends
def test_a_job_failing_for_good_and_a_score_drop_notify(
    center: Center, advisory_db, receiver: Receiver
) -> None:
    _channel(center, "ops", receiver.url, kinds=["job_failure", "score_drop"])
    runtime = _runtime(center)
    now = dt.datetime.now(dt.UTC)
    with runtime.sessions() as session, session.begin():
        job, _ = queue.enqueue(session, kind="broken", key="scan:1:gone@sha256:1", payload={},
                               priority=queue.PUSH, now=now, title="scan gone")  # fmt: skip
        session.flush()
        job_id = job.id
        yesterday = (now.date() - dt.timedelta(days=1)).isoformat()
        session.add(ScoreHistory(scope_key="", day=yesterday, score=5, max_score=5,
                                 percent=100.0))  # fmt: skip
    assert execute(runtime, job_id, "w", {"broken": _broken}, queue.QueuePolicy()) == "failed"
    contributor = center.client("contributor")
    scan = envelopes.demo_scan(advisory_db)
    assert contributor.post("/api/v1/ingest", content=encode(scan), headers=JSON).is_success
    Worker(runtime).daily()
    assert sorted(kind for kind, _, _ in _outbox(center)) == ["job_failure", "score_drop"]
    assert _deliver(center) >= 1
    kinds = sorted(n["kind"] for _, body in receiver.bodies
                   for n in json.loads(body)["notifications"])  # fmt: skip
    assert kinds == ["job_failure", "score_drop"]
