"""Alert folding, records and outputs."""

from __future__ import annotations

import http.server
import io
import json
import threading

from seawall.model import Alert, Resource, Rule, Severity
from seawall.runtime.alerts import (
    AlertFolder,
    JsonLinesOutput,
    WebhookOutput,
    alert_record,
    alerts_table,
)


def alert(time: str, name: str = "web", rule: str = "r1") -> Alert:
    return Alert(
        id="",
        rule=Rule(id=rule, title="T", severity=Severity.HIGH, remediation="fix it"),
        time=time,
        resource=Resource(kind="Pod", name=name, namespace="default"),
        evidence={"message": "m"},
        source="k8s_audit",
        tactic="Execution",
    )


def test_repeats_within_the_window_fold_into_one_alert() -> None:
    folder = AlertFolder(window=60)
    first = folder.add(alert("2024-01-01T00:00:00Z"))
    assert first is not None and first.id.startswith("swa-")
    assert folder.add(alert("2024-01-01T00:00:30Z")) is None
    assert folder.add(alert("2024-01-01T00:00:59.5Z")) is None
    other_pod = folder.add(alert("2024-01-01T00:00:40Z", name="db"))
    other_rule = folder.add(alert("2024-01-01T00:00:40Z", rule="r2"))
    assert other_pod is not None and other_rule is not None
    later = folder.add(alert("2024-01-01T00:01:01Z"))
    assert later is not None and later.id != first.id
    final = folder.drain()
    web = [a for a in final if a.resource.name == "web" and a.rule.id == "r1"]
    assert [(a.count, a.last_time) for a in web] == [
        (3, "2024-01-01T00:00:59.5Z"),
        (1, "2024-01-01T00:01:01Z"),
    ]


def test_expire_reports_only_folded_alerts_and_forgets_them() -> None:
    folder = AlertFolder(window=10)
    folder.add(alert("2024-01-01T00:00:00Z"))
    folder.add(alert("2024-01-01T00:00:05Z"))
    folder.add(alert("2024-01-01T00:00:05Z", name="once"))
    updates = folder.expire(now=1704067200 + 100)
    assert [(a.resource.name, a.count) for a in updates] == [("web", 2)]
    assert folder.drain() == []


def test_record_table_and_json_lines() -> None:
    a = AlertFolder().add(alert("2024-01-01T00:00:00Z"))
    assert a is not None
    record = alert_record(a)
    assert record.severity == "high" and record.remediation == "fix it"
    assert record.resource.namespace == "default"
    assert record.rule == "runtime/r1"
    stream = io.BytesIO()
    out = JsonLinesOutput(stream)
    out.write(a)
    assert json.loads(stream.getvalue())["id"] == a.id
    assert "Pod default/web" in alerts_table([a])


def test_webhook_output_posts_json() -> None:
    received: list[dict] = []
    done = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()
            done.set()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = WebhookOutput(f"http://127.0.0.1:{server.server_address[1]}/alerts")
        a = AlertFolder().add(alert("2024-01-01T00:00:00Z"))
        assert a is not None
        out.write(a)
        assert done.wait(10)
        out.close()
    finally:
        server.shutdown()
    assert received[0]["rule"] == "runtime/r1"


def test_webhook_output_survives_a_dead_receiver() -> None:
    out = WebhookOutput("http://127.0.0.1:9/nowhere", timeout=0.5)
    a = AlertFolder().add(alert("2024-01-01T00:00:00Z"))
    assert a is not None
    out.write(a)
    out.close()
    assert out.failed == 1
