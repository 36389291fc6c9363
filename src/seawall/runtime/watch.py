"""``seawall runtime watch``: live sources -> one queue -> detector -> outputs.

Every source runs in its own thread and only enqueues (the audit webhook answers the API
server at once, whatever the detector is doing); one consumer thread decodes webhook
batches, evaluates events and writes alerts. When the queue is full new input is dropped
and counted rather than blocking the API server or the engine's event stream. Only
activity after the start is read: files are followed from their end and Docker events
from the start time.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seawall.contract.envelope import Asset
from seawall.errors import EnvironmentFailure, InputError
from seawall.model import Alert
from seawall.runtime import webhook
from seawall.runtime.alerts import AlertFolder, Detector, JsonLinesOutput, Output, WebhookOutput
from seawall.runtime.badinput import BadInput
from seawall.runtime.events import Event
from seawall.runtime.files import FileFollower
from seawall.runtime.rules.loader import RuleSet
from seawall.runtime.sources import auditd, k8s_audit
from seawall.safety.limits import max_bytes

DEFAULT_AUDITD_LOG = Path("/var/log/audit/audit.log")
QUEUE_SIZE = 50_000
log = logging.getLogger("seawall.runtime")


@dataclass
class WatchConfig:
    audit_logs: list[Path] = field(default_factory=list)
    audit_webhook: str = ""  # HOST:PORT
    tls_cert: Path | None = None
    tls_key: Path | None = None
    docker: bool | None = None  # None: when the engine answers
    docker_host: str = ""
    auditd_logs: list[Path] | None = None  # None: the default log when readable
    output: Path | None = None
    record_docker: Path | None = None  # append enriched Docker events, replayable
    webhooks: list[str] = field(default_factory=list)
    fold_window: float = 60.0
    context: dict[str, dict[str, str]] = field(default_factory=dict)
    duration: float = 0.0
    upload: str = ""  # a Seawall center's URL: alerts are sent there in batches
    token: str = ""
    asset: Asset | None = None  # what the uploaded alerts are about


class _WebhookBatch:
    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


Item = Event | _WebhookBatch


class Watcher:
    """The running pipeline; start with :meth:`start`, stop with :meth:`stop`."""

    def __init__(self, ruleset: RuleSet, config: WatchConfig, outputs: list[Output]) -> None:
        self.config = config
        self.bad = BadInput()
        self.queue: queue.Queue[Item] = queue.Queue(QUEUE_SIZE)
        self.detector = Detector(ruleset, AlertFolder(config.fold_window), config.context)
        self.outputs = outputs
        self.started = time.time()
        self.stopping = threading.Event()
        self._stoppers: list[Callable[[], None]] = []
        self._threads: list[threading.Thread] = []
        self.sources: list[str] = []
        self.webhook_port = 0
        self._parser = k8s_audit.AuditParser(self.bad)
        self._parser.max_bytes = max_bytes("WEBHOOK_BODY")  # a batch: an EventList

    # -- producers ------------------------------------------------------------------------

    def offer(self, item: Item) -> None:
        """Enqueue without blocking; count the drop when the detector is behind."""
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.bad("input dropped (queue full)")

    def _thread(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=self._guard(name, target), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _guard(self, name: str, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except Exception as exc:
                if not self.stopping.is_set():
                    log.error("source %s stopped: %s", name, exc)

        return run

    def add_audit_log(self, path: Path) -> None:
        parser = k8s_audit.AuditParser(self.bad)

        def on_line(line: bytes) -> None:
            for event in parser.parse(line):
                self.offer(event)

        follower = FileFollower(path, on_line, self.bad, max_bytes("AUDIT_EVENT"))
        self._stoppers.append(follower.stop)
        self._thread(f"audit-log {path}", follower.run)
        self.sources.append(f"Kubernetes audit log {path}")

    def add_auditd_log(self, path: Path) -> None:
        assembler = auditd.AuditAssembler(self.bad, auditd.container_of_pid, auditd.comm_of_pid)

        def on_line(line: bytes) -> None:
            for event in assembler.feed(line.decode("utf-8", "replace")):
                self.offer(event)

        def on_idle() -> None:
            for event in assembler.flush():
                self.offer(event)

        follower = FileFollower(path, on_line, self.bad, max_bytes("AUDITD_LINE"), on_idle=on_idle)
        self._stoppers.append(follower.stop)
        self._thread(f"auditd {path}", follower.run)
        self.sources.append(f"auditd log {path}")

    def add_docker(self, client: Any, record: Path | None = None) -> None:
        from seawall.runtime.sources.docker_events import DockerEventStream, record_line

        stream = DockerEventStream(client, self.bad)
        since = self.started
        try:
            dump = record.open("ab") if record is not None else None
        except OSError as exc:
            raise EnvironmentFailure(f"cannot write {record}: {exc.strerror}") from None

        def run() -> None:
            for event in stream.events(since):
                if dump is not None:
                    dump.write(record_line(event) + b"\n")
                    dump.flush()
                self.offer(event)

        self._stoppers.append(stream.stop)
        self._thread("docker-events", run)
        self.sources.append("Docker Engine events")

    def add_webhook(self, address: str, cert: Path | None, key: Path | None) -> None:
        server = webhook.listen(
            address,
            cert,
            key,
            on_batch=lambda body: self.offer(_WebhookBatch(body)),
            on_refused=lambda why: self.bad("refused webhook request", why),
        )
        self.webhook_port = server.port
        self._stoppers.append(server.shutdown)
        self._thread("audit-webhook", server.serve_forever)
        host = str(server.server_address[0])
        self.sources.append(f"Kubernetes audit webhook on {host}:{self.webhook_port}")

    # -- consumer -------------------------------------------------------------------------

    def emit(self, alert: Alert) -> None:
        for output in self.outputs:
            output.write(alert)

    def run(self, until: float = 0.0) -> None:
        """Consume until :meth:`stop` (or the ``until`` wall time); then flush the folder."""
        next_expiry = time.time() + 1.0
        while not self.stopping.is_set() and (not until or time.time() < until):
            try:
                item = self.queue.get(timeout=0.2)
            except queue.Empty:
                item = None
            if isinstance(item, _WebhookBatch):
                events = self._parser.parse(item.data)
            else:
                events = [item] if item is not None else []
            for event in events:
                for alert in self.detector.process(event):
                    self.emit(alert)
            now = time.time()
            if now >= next_expiry:
                for alert in self.detector.folder.expire(now):
                    self.emit(alert)
                next_expiry = now + 1.0
        for alert in self.detector.folder.drain():
            if alert.count > 1:
                self.emit(alert)

    def stop(self) -> None:
        self.stopping.set()
        for stop in self._stoppers:
            with contextlib.suppress(Exception):  # stopping what may be dead already
                stop()
        for output in self.outputs:
            output.close()


def build_watcher(ruleset: RuleSet, config: WatchConfig) -> Watcher:
    """A watcher with the configured sources and outputs added (not yet consuming)."""
    outputs: list[Output] = []
    if config.output is not None:
        try:
            outputs.append(JsonLinesOutput(config.output.open("ab")))
        except OSError as exc:
            raise EnvironmentFailure(f"cannot write {config.output}: {exc.strerror}") from None
    else:
        outputs.append(JsonLinesOutput())
    outputs.extend(WebhookOutput(url) for url in config.webhooks)
    if config.upload:
        from seawall.runtime.upload import UploadOutput
        from seawall.upload import ingest_url

        if config.asset is None or not config.token:
            raise InputError("--upload needs a token", hint="pass --token or set $SEAWALL_TOKEN")
        ingest_url(config.upload)  # a bad URL is a usage error now, not a lost batch later
        outputs.append(UploadOutput(config.upload, config.token, config.asset))
    watcher = Watcher(ruleset, config, outputs)
    for path in config.audit_logs:
        watcher.add_audit_log(path)
    if config.audit_webhook:
        watcher.add_webhook(config.audit_webhook, config.tls_cert, config.tls_key)
    auditd_logs = config.auditd_logs
    if auditd_logs is None:
        readable = DEFAULT_AUDITD_LOG.is_file() and _readable(DEFAULT_AUDITD_LOG)
        auditd_logs = [DEFAULT_AUDITD_LOG] if readable else []
    for path in auditd_logs:
        watcher.add_auditd_log(path)
    if config.docker is not False:
        client = _docker(config.docker_host, required=config.docker is True)
        if client is not None:
            watcher.add_docker(client, config.record_docker)
    if not watcher.sources:
        raise InputError(
            "nothing to watch",
            hint="give --audit-log, --audit-webhook, --auditd-log, or run where Docker answers",
        )
    return watcher


def _readable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return True
    except OSError:
        return False


def _docker(host: str, required: bool) -> Any:
    from seawall.errors import DaemonError
    from seawall.image.docker_engine import docker_client

    try:
        client = docker_client(host, timeout=30)
        client.ping()
    except DaemonError:
        if required:
            raise
        return None
    except Exception as exc:
        if required:
            raise DaemonError(f"cannot reach the Docker daemon: {exc}") from None
        return None
    return client


def run_watch(ruleset: RuleSet, config: WatchConfig, log: Callable[[str], None]) -> None:
    """Run until interrupted (or ``config.duration`` seconds)."""
    watcher = build_watcher(ruleset, config)
    log("watching: " + "; ".join(watcher.sources))
    until = time.time() + config.duration if config.duration else 0.0
    try:
        watcher.run(until)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
        summary = f"{watcher.detector.events} events"
        if watcher.bad.total():
            summary += f"; skipped: {watcher.bad.summary()}"
        log(summary)
