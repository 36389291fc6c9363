"""From rule matches to alerts: evidence, folding of repeats, and the output channels.

Repeats of one rule on one resource within a window (event time) fold into the first alert,
which carries a ``count`` and a ``last_time``. A watcher writes each alert when it first
fires and writes it again, same id, with its final count once its window closes, so readers
see new threats at once and repeats without a flood. ``replay`` prints the folded alerts at
the end.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import IO

import httpx
import msgspec

from seawall.contract.build import resource_ref
from seawall.contract.envelope import AlertRecord, severity_name
from seawall.model import Alert, Resource
from seawall.runtime.events import Event, SourceSpec, Value
from seawall.runtime.rules.compiler import getter
from seawall.runtime.rules.index import CompiledRule
from seawall.runtime.rules.loader import RuleSet
from seawall.runtime.timeutil import epoch_from_iso, iso_from_epoch

RULE_NAMESPACE = "runtime"

log = logging.getLogger("seawall.runtime")
MAX_EVIDENCE = 1024  # characters per evidence value


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _text(value: Value) -> str:
    if isinstance(value, tuple):
        text = ", ".join(_scalar(v) for v in dict.fromkeys(value))
    else:
        text = _scalar(value)
    return text if len(text) <= MAX_EVIDENCE else text[: MAX_EVIDENCE - 3] + "..."


def render_output(rule: CompiledRule, event: Event) -> str:
    """The rule's output template with ``%field`` replaced by the event's values."""
    return "".join(
        part.text if part.field is None else (_text(getter(part.field)(event)) or "<none>")
        for part in rule.output
    )


def build_alert(
    rule: CompiledRule, event: Event, spec: SourceSpec, context: Mapping[str, str], now: float
) -> Alert:
    """An alert for one match: the evidence is every field the rule looked at."""
    evidence = {"message": render_output(rule, event)}
    for field in rule.evidence:
        value = _text(getter(field)(event))
        if value:
            evidence[field.name] = value
    resource = spec.resource(event)
    if context:
        resource = msgspec.structs.replace(resource, attributes={**context, **resource.attributes})
    when = spec.time(event) or iso_from_epoch(now)
    return Alert(
        id="",
        rule=rule.rule,
        time=when,
        resource=resource,
        evidence=evidence,
        source=spec.name,
        tactic=rule.tactic,
        technique=rule.technique,
    )


def _fold_key(alert: Alert) -> tuple[str, ...]:
    r = alert.resource
    return (alert.rule.id, r.kind, r.namespace, r.name, r.id, *sorted(r.attributes.items()))  # type: ignore[arg-type]


def _alert_id(alert: Alert) -> str:
    digest = hashlib.sha256(repr((_fold_key(alert), alert.time)).encode()).hexdigest()
    return f"swa-{digest[:16]}"


class AlertFolder:
    """Folds repeats of a rule on a resource within ``window`` seconds of the first one."""

    def __init__(self, window: float = 60.0, max_open: int = 100_000) -> None:
        self.window = window
        self.max_open = max_open
        self._open: dict[tuple[str, ...], tuple[float, Alert]] = {}
        self.closed: list[Alert] = []

    def add(self, alert: Alert) -> Alert | None:
        """The new alert (with its id) when it opens a window; None when folded."""
        key = _fold_key(alert)
        when = epoch_from_iso(alert.time)
        current = self._open.get(key)
        if current is not None and when - current[0] <= self.window:
            first, folded = current
            self._open[key] = (
                first,
                msgspec.structs.replace(folded, count=folded.count + 1, last_time=alert.time),
            )
            return None
        if current is not None:
            self._close(key)
        if len(self._open) >= self.max_open:
            self._close(next(iter(self._open)))
        opened = msgspec.structs.replace(alert, id=_alert_id(alert), last_time=alert.time)
        self._open[key] = (when, opened)
        return opened

    def _close(self, key: tuple[str, ...]) -> Alert:
        _, alert = self._open.pop(key)
        self.closed.append(alert)
        return alert

    def expire(self, now: float) -> list[Alert]:
        """Close windows older than ``now``; the closed alerts that folded repeats."""
        old = [k for k, (first, _) in self._open.items() if now - first > self.window]
        updates = [a for a in (self._close(k) for k in old) if a.count > 1]
        self.closed.clear()
        return updates

    def drain(self) -> list[Alert]:
        """Every alert, closed or open, with its final count, in order of first time."""
        for key in list(self._open):
            self._close(key)
        alerts, self.closed = self.closed, []
        return sorted(alerts, key=lambda a: (epoch_from_iso(a.time), a.rule.id))


def alert_record(alert: Alert) -> AlertRecord:
    """The contract's record of an alert (flat, stable; the rule by namespaced id and the
    severity by name): what ``watch`` streams and what an ``alerts`` envelope lists."""
    return AlertRecord(
        id=alert.id,
        rule=f"{RULE_NAMESPACE}/{alert.rule.id}",
        title=alert.rule.title,
        severity=severity_name(alert.rule.severity),
        time=alert.time,
        last_time=alert.last_time or alert.time,
        count=alert.count,
        source=alert.source,
        tactic=alert.tactic,
        technique=alert.technique,
        resource=resource_ref(alert.resource),
        evidence=dict(alert.evidence),
        remediation=alert.rule.remediation,
    )


def json_line(alert: Alert) -> bytes:
    return msgspec.json.encode(alert_record(alert)) + b"\n"


def alerts_table(alerts: Iterable[Alert]) -> str:
    """A plain text table: time, severity, rule, resource, count, message."""
    rows = [("TIME", "SEVERITY", "RULE", "RESOURCE", "COUNT", "WHAT")]
    for a in alerts:
        rows.append(
            (
                a.time[:19],
                a.rule.severity.name.lower(),
                a.rule.id,
                _resource_label(a.resource),
                str(a.count),
                a.evidence.get("message", a.rule.title),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r[:5], widths, strict=True)) + "  " + r[5]
        for r in rows
    )


def _resource_label(resource: Resource) -> str:
    label = resource.label
    container = resource.attributes.get("container")
    return f"{label} [{container}]" if container and resource.kind == "Pod" else label


class Output:
    """Where alerts go; ``write`` must not block the detector for long."""

    def write(self, alert: Alert) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Flush and release (default: nothing to do)."""


class JsonLinesOutput(Output):
    """One JSON object per line to a stream (stdout by default) or an appended file."""

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self.stream = stream or sys.stdout.buffer
        self._lock = threading.Lock()

    def write(self, alert: Alert) -> None:
        with self._lock:
            self.stream.write(json_line(alert))
            self.stream.flush()

    def close(self) -> None:
        if self.stream is not sys.stdout.buffer:
            self.stream.close()


class QueuedOutput(Output):
    """Delivers alerts from a background thread: a bounded queue (when the receiver is slower
    than the alerts, new ones are dropped and counted) and batches of up to ``batch_size``
    alerts, or what arrived within ``linger`` seconds of the first. A failed delivery is
    counted and logged once; the thread goes on."""

    def __init__(
        self, name: str, *, queue_size: int = 1000, batch_size: int = 1, linger: float = 0.0
    ) -> None:
        self.dropped = 0
        self.failed = 0
        self.batch_size, self.linger = batch_size, linger
        self._queue: queue.Queue[Alert | None] = queue.Queue(queue_size)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def write(self, alert: Alert) -> None:
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1

    def deliver(self, batch: list[Alert]) -> None:
        """Send ``batch``; raise to have it counted as failed."""
        raise NotImplementedError

    def _send(self, batch: list[Alert]) -> None:
        try:
            self.deliver(batch)
        except Exception as exc:  # a delivery problem never stops the watcher
            self.failed += 1
            if self.failed == 1:
                log.warning("%s failed: %s (logged once)", self._thread.name, exc)

    def _run(self) -> None:
        batch: list[Alert] = []
        deadline = 0.0
        finished = False
        while not finished:
            try:
                item = self._queue.get(
                    timeout=max(0.0, deadline - time.monotonic()) if batch else None
                )
            except queue.Empty:
                item = None
            else:
                finished = item is None
                if item is not None:
                    if not batch:
                        deadline = time.monotonic() + self.linger
                    batch.append(item)
            full = len(batch) >= self.batch_size or time.monotonic() >= deadline
            if batch and (finished or full):
                self._send(batch)
                batch = []

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)


class WebhookOutput(QueuedOutput):
    """POSTs each alert as JSON (the contract's alert record) to a URL."""

    def __init__(self, url: str, timeout: float = 5.0, queue_size: int = 1000) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout)
        super().__init__("alert-webhook", queue_size=queue_size)

    def deliver(self, batch: list[Alert]) -> None:
        for alert in batch:
            reply = self._client.post(
                self.url,
                content=msgspec.json.encode(alert_record(alert)),
                headers={"Content-Type": "application/json"},
            )
            reply.raise_for_status()

    def close(self) -> None:
        super().close()
        self._client.close()


class Detector:
    """Evaluates events against a rule set and folds the matches into alerts."""

    def __init__(
        self,
        rules: RuleSet,
        folder: AlertFolder | None = None,
        context: Mapping[str, Mapping[str, str]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.rules = rules
        self.folder = folder or AlertFolder()
        self.context = context or {}
        self.clock = clock or time.time
        self.events = 0

    def process(self, event: Event) -> list[Alert]:
        """New alerts raised by ``event`` (folded repeats return nothing)."""
        self.events += 1
        matched = self.rules.matches(event)
        if not matched:
            return []
        spec = self.rules.sources[event.source]
        context = self.context.get(event.source, {})
        out = []
        for rule in matched:
            alert = self.folder.add(build_alert(rule, event, spec, context, self.clock()))
            if alert is not None:
                out.append(alert)
        return out
