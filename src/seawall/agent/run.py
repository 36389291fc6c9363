"""``seawall agent``: the long-running reporter on a Docker host.

Threads: the main thread runs rounds (the CIS Docker assessment of the host, then an
inventory of each image a running container uses, once per digest) and, between rounds,
resends the spool; the run-time watcher (:mod:`seawall.runtime.watch`) follows the Docker
event stream into its bounded queue, its consumer thread evaluates events, and alerts go
to a bounded batching queue (:class:`AlertUpload`) whose thread hands each batch (about a
second's worth) to the same :class:`~seawall.agent.delivery.Delivery`.

Stopping (SIGTERM, SIGINT, or the end of ``--once``) lets the upload in flight finish; the
watcher's last alerts then go to the spool, the status file is written, and the process
exits 0, or 3 when the center refused the token.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from seawall.agent.delivery import Delivery, Outcome
from seawall.agent.reported import ReportedImages
from seawall.agent.spool import Spool
from seawall.contract import Envelope, encode
from seawall.contract.envelope import Asset, AssetType
from seawall.errors import DaemonError, EnvironmentFailure, SeawallError
from seawall.model import Alert
from seawall.runtime.alerts import QueuedOutput

log = logging.getLogger("seawall.agent")

RETRY_TICK = 1.0  # seconds between looks at the spool while waiting for the next round


@dataclass
class AgentConfig:
    center: str
    token: str
    spool_dir: Path
    interval: float = 3600.0
    once: bool = False
    spool_max_bytes: int = 256 << 20
    spool_max_files: int = 10_000
    name: str = ""
    docker_host: str = ""
    root: Path = Path("/")
    cache_dir: Path | None = None
    events: bool = True
    images: bool = True
    rules: list[Path] = field(default_factory=list)
    fold_window: float = 60.0
    alert_linger: float = 1.0
    image_memory: int = 4096  # digests remembered as reported
    max_backoff: float = 60.0
    node_audit: str = "auto"  # CIS Kubernetes node audit: auto (on Kubernetes nodes), on, off
    cluster: str = ""  # the Kubernetes cluster the node belongs to
    # Cluster mode (instead of a Docker host): the API server to list, the audit webhook.
    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False
    audit_webhook: str = ""  # HOST:PORT
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def cluster_mode(self) -> bool:
        return self.kubeconfig is not None or self.in_cluster


class AlertUpload(QueuedOutput):
    """Alerts in batches (up to ``batch_size``, or what came within ``linger`` seconds of
    the first) as ``alerts`` envelopes about the host, through the delivery."""

    def __init__(
        self, delivery: Delivery, asset: Asset, *, linger: float = 1.0, queue_size: int = 10_000
    ) -> None:
        self.delivery, self.asset = delivery, asset
        super().__init__("agent-alerts", queue_size=queue_size, batch_size=500, linger=linger)

    def deliver(self, batch: list[Alert]) -> None:
        from seawall.report.envelope.runtime import alerts_envelope

        body = encode(alerts_envelope(self.asset, batch))
        self.delivery.submit(body, f"{len(batch)} alert(s)")


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.stop = threading.Event()
        self.spool = Spool(config.spool_dir, config.spool_max_bytes, config.spool_max_files)
        self.delivery = Delivery(
            config.center, config.token, self.spool, max_backoff=config.max_backoff
        )
        self.reported = ReportedImages(config.image_memory)
        self.rounds = 0
        self._watcher: Any = None
        self._events: threading.Thread | None = None
        self._event_stream: Any = None
        self._consumer: threading.Thread | None = None
        self._reader: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self) -> None:
        """Rounds until stopped (one with ``once``); raises the delivery's fatal error."""
        if self.config.cluster_mode:
            self._run_cluster()
            return
        from seawall.inventory.scan import InventoryReader

        client = self._docker()
        dropped_before = self.spool.dropped
        try:
            host = self._host_asset(client)
            log.info(
                "agent %s reporting to %s (spool %s: %d waiting, %d dropped so far)",
                host.name,
                self.config.center,
                self.config.spool_dir,
                len(self.spool),
                self.spool.dropped,
            )
            if self.config.events and not self.config.once:
                self._start_watcher(host)
            self._reader = InventoryReader(workers=1)
            while not self.stop.is_set():
                self._round(client, host)
                if self.config.once or self.delivery.fatal is not None:
                    break
                self._wait(time.monotonic() + self.config.interval)
        finally:
            self._shutdown()
            client.close()
        self._verdict(dropped_before)

    def _verdict(self, dropped_before: int) -> None:
        if self.delivery.fatal is not None:
            raise self.delivery.fatal
        dropped = self.spool.dropped - dropped_before
        if self.config.once and (dropped or self.delivery.refused):
            raise EnvironmentFailure(
                f"results lost: {dropped} dropped from the spool, "
                f"{self.delivery.refused} refused by the center",
                hint=f"see the log and {self.config.spool_dir}",
            )

    def _run_cluster(self) -> None:
        """Cluster mode: the cluster's posture each round, audit-webhook alerts between."""
        dropped_before = self.spool.dropped
        try:
            cluster = self._cluster_asset()
            log.info(
                "agent for cluster %s reporting to %s (spool %s: %d waiting, %d dropped so far)",
                cluster.name,
                self.config.center,
                self.config.spool_dir,
                len(self.spool),
                self.spool.dropped,
            )
            if self.config.audit_webhook and not self.config.once:
                self._start_webhook(cluster)
            while not self.stop.is_set():
                self.rounds += 1
                self.delivery.retry()
                self._posture(cluster)
                self.spool.save_status(rounds=self.rounds)
                if self.config.once or self.delivery.fatal is not None:
                    break
                self._wait(time.monotonic() + self.config.interval)
        finally:
            self._shutdown()
        self._verdict(dropped_before)

    def _cluster_asset(self) -> Asset:
        from seawall.policy.cluster import cluster_identity
        from seawall.report.envelope.kubernetes import cluster_asset

        config = self.config
        identity = cluster_identity(config.kubeconfig, config.context, in_cluster=config.in_cluster)
        return cluster_asset(config.name or config.context or "cluster", identity.uid)

    def _posture(self, cluster: Asset) -> None:
        """Workloads and RBAC against the built-in policies, as ``k8s scan`` lists a cluster."""
        from seawall.policy.cluster import cluster_identity, list_cluster
        from seawall.policy.engine import PolicyEngine
        from seawall.policy.kubeversion import cluster_version_findings
        from seawall.policy.settings import load_settings
        from seawall.report.envelope.kubernetes import k8s_envelope

        config = self.config
        engine = PolicyEngine(load_settings(None), None, None, builtin=True)
        try:
            objects = list(
                list_cluster(
                    config.kubeconfig,
                    config.context,
                    wanted=engine.cares_about,
                    warn=log.warning,
                    in_cluster=config.in_cluster,
                )
            )
        except SeawallError as exc:
            log.error("cluster listing failed: %s", exc)
            return
        findings = engine.findings(objects, passes=True)
        version = cluster_identity(config.kubeconfig, config.context, in_cluster=config.in_cluster)
        findings += cluster_version_findings(version.version, cluster.name)
        envelope = k8s_envelope(cluster, objects, findings)
        self._submit(envelope, "cluster posture")

    def _start_webhook(self, cluster: Asset) -> None:
        from seawall.runtime.options import detection_context, load_detection
        from seawall.runtime.watch import WatchConfig, Watcher

        ruleset = load_detection(self.config.rules, [])
        config = WatchConfig(
            fold_window=self.config.fold_window,
            context=detection_context(cluster=cluster.name),
            asset=cluster,
        )
        output = AlertUpload(self.delivery, cluster, linger=self.config.alert_linger)
        watcher = Watcher(ruleset, config, [output])
        watcher.add_webhook(self.config.audit_webhook, self.config.tls_cert, self.config.tls_key)
        self._watcher = watcher
        self._consumer = threading.Thread(target=watcher.run, name="agent-detector", daemon=True)
        self._consumer.start()
        log.info("watching: %s", "; ".join(watcher.sources))

    def _wait(self, until: float) -> None:
        while not self.stop.is_set() and self.delivery.fatal is None:
            left = until - time.monotonic()
            if left <= 0:
                return
            self.stop.wait(min(left, RETRY_TICK))
            self.delivery.retry()

    def _shutdown(self) -> None:
        self.stop.set()
        self.delivery.closing = True  # the upload in flight finishes; the rest is spooled
        if self._watcher is not None:
            if self._event_stream is not None:
                self._event_stream.stop()
            if self._events is not None:
                self._events.join(timeout=10)
            self._watcher.stopping.set()
            if self._consumer is not None:
                self._consumer.join(timeout=30)
            self._watcher.stop()  # sources stopped, the alert queue flushed
            if self._watcher.bad.total():
                log.warning("run-time input skipped: %s", self._watcher.bad.summary())
        if self._reader is not None:
            self._reader.close()
        self.delivery.close()
        log.info(
            "agent stopped after %d round(s): %d delivered, %d waiting in the spool, "
            "%d dropped in all",
            self.rounds,
            self.delivery.delivered,
            len(self.spool),
            self.spool.dropped,
        )

    # -- the Docker host ---------------------------------------------------------------------

    def _docker(self) -> Any:
        from seawall.image.docker_engine import docker_client

        client = docker_client(self.config.docker_host, timeout=60)
        try:
            client.ping()
        except Exception as exc:
            client.close()
            raise DaemonError(
                f"cannot reach the Docker daemon: {exc}",
                hint="is dockerd running? set DOCKER_HOST or --docker-host",
            ) from None
        return client

    def _host_asset(self, client: Any) -> Asset:
        """The host as the audit names it (Engine ID), with ``--name`` when given."""
        info = client.info()
        name = self.config.name or str(info.get("Name") or "") or "unknown"
        identity = str(info.get("ID") or "") or f"name:{name}"
        return Asset(type=AssetType.HOST, id=identity, name=name)

    def _start_watcher(self, host: Asset) -> None:
        from seawall.runtime.options import detection_context, load_detection
        from seawall.runtime.watch import WatchConfig, Watcher

        ruleset = load_detection(self.config.rules, [])
        config = WatchConfig(
            fold_window=self.config.fold_window,
            context=detection_context(host=host.name),
            docker_host=self.config.docker_host,
            asset=host,
        )
        output = AlertUpload(self.delivery, host, linger=self.config.alert_linger)
        watcher = Watcher(ruleset, config, [output])
        self._watcher = watcher
        self._events = threading.Thread(
            target=self._follow_events, args=(watcher,), name="agent-events", daemon=True
        )
        self._events.start()
        self._consumer = threading.Thread(target=watcher.run, name="agent-detector", daemon=True)
        self._consumer.start()
        log.info("watching: Docker Engine events")

    def _follow_events(self, watcher: Any) -> None:
        """The engine's events into the watcher's queue; when the stream ends (the engine
        restarted, the connection broke) it is opened again from where it ended, since the
        engine keeps its recent events."""
        from seawall.image.docker_engine import docker_client
        from seawall.runtime.sources.docker_events import DockerEventStream

        since = watcher.started
        delay = 1.0
        while not self.stop.is_set():
            client = None
            try:
                client = docker_client(self.config.docker_host, timeout=60)
                stream = DockerEventStream(client, watcher.bad)
                self._event_stream = stream
                if self.stop.is_set():
                    return
                for event in stream.events(since):
                    watcher.offer(event)
                    delay = 1.0
                problem = "the stream ended"
            except Exception as exc:
                problem = str(exc) or type(exc).__name__
            finally:
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close()
            if self.stop.is_set():
                return
            since = time.time()
            log.warning("Docker events: %s; following again in %.0f s", problem, delay)
            self.stop.wait(delay)
            delay = min(delay * 2, self.config.max_backoff)

    # -- one round ---------------------------------------------------------------------------

    def _round(self, client: Any, host: Asset) -> None:
        self.rounds += 1
        self.delivery.retry()
        self._audit(host)
        if self.config.node_audit != "off" and not self.stop.is_set():
            self._node_audit(host)
        if self.config.images and not self.stop.is_set():
            self._inventories(client)
        self.spool.save_status(rounds=self.rounds)

    def _audit(self, host: Asset) -> None:
        from seawall.hardening.docker.audit import AuditOptions, audit_host
        from seawall.hardening.docker.collect import CollectOptions
        from seawall.report.envelope.host import host_envelope

        try:
            audit = audit_host(
                AuditOptions(
                    collect=CollectOptions(endpoint=self.config.docker_host, root=self.config.root)
                )
            )
        except SeawallError as exc:
            log.error("host audit failed: %s", exc)
            return
        if not audit.assessed:
            log.error(
                "host audit: nothing could be assessed: %s",
                audit.inventory.get("error", "every check failed"),
            )
            return
        envelope = host_envelope(audit)
        self._submit(_report_as(envelope, host, self._agent_attributes()), "host audit")

    def _node_audit(self, host: Asset) -> None:
        """The CIS Kubernetes Benchmark on this host when it is a Kubernetes node (``auto``:
        a kubelet, a control plane or a known layout was found), reported as its node."""
        from seawall.hardening.kubernetes.audit import NodeAuditOptions, audit_node
        from seawall.hardening.kubernetes.collect import NodeOptions
        from seawall.report.envelope.node import node_envelope

        try:
            audit = audit_node(NodeAuditOptions(node=NodeOptions(root=self.config.root)))
        except SeawallError as exc:
            log.error("node audit failed: %s", exc)
            return
        inventory = audit.inventory
        if (
            self.config.node_audit == "auto"
            and not inventory["components"]
            and (inventory["layout"] == "unknown")
        ):
            return  # not a Kubernetes node
        if not audit.assessed:
            log.error("node audit: nothing could be assessed")
            return
        envelope = node_envelope(audit, cluster=self.config.cluster)
        node = msgspec.structs.replace(host, name=host.name or envelope.asset.name)
        self._submit(_report_as(envelope, node, self._agent_attributes()), "node audit")

    def _agent_attributes(self) -> dict[str, str]:
        """What the center hears about the agent itself, beside the host's details."""
        from seawall import __version__

        return {
            "agent": __version__,
            "agent_spool_dropped": str(self.spool.dropped),
            "agent_spool_rejected": str(self.spool.status.get("rejected", 0)),
        }

    def _inventories(self, client: Any) -> None:
        """Each image a running container uses, once per digest (see ReportedImages)."""
        try:
            containers = client.api.containers()  # running ones
        except Exception as exc:
            log.error("listing containers failed: %s", exc)
            return
        images = sorted({str(c.get("ImageID") or "") for c in containers} - {""})
        for image_id in images:
            if self.stop.is_set():
                return
            if image_id in self.reported:
                continue
            outcome = self._inventory(client, image_id)
            if outcome in (Outcome.DELIVERED, Outcome.SPOOLED, Outcome.REJECTED):
                self.reported.add(image_id)

    def _inventory(self, client: Any, image_id: str) -> Outcome | None:
        from seawall.image.source import SourceOptions
        from seawall.inventory.scan import InventoryOptions
        from seawall.report.envelope.image import inventory_envelope

        options = InventoryOptions(
            source="docker-daemon",
            source_options=SourceOptions(docker_host=self.config.docker_host),
            cache_dir=self.config.cache_dir,
        )
        try:
            inventory = self._reader.read(image_id, options)
        except SeawallError as exc:
            log.error("image %s: %s", image_id, exc)
            return None
        envelope = inventory_envelope(inventory)
        tags = _tags(client, image_id)
        if tags:
            asset = msgspec.structs.replace(envelope.asset, name=tags[0], references=tags)
            envelope = msgspec.structs.replace(envelope, asset=asset)
        return self._submit(envelope, f"inventory of {tags[0] if tags else image_id}")

    def _submit(self, envelope: Envelope, what: str) -> Outcome:
        return self.delivery.submit(encode(envelope), what)


def _report_as(envelope: Envelope, host: Asset, attributes: dict[str, str]) -> Envelope:
    """The audit's envelope about ``host`` (its ``--name``), with the agent's attributes."""
    asset = msgspec.structs.replace(
        envelope.asset,
        name=host.name,
        attributes={**envelope.asset.attributes, **attributes},
    )
    return msgspec.structs.replace(envelope, asset=asset)


def _tags(client: Any, image_id: str) -> tuple[str, ...]:
    with contextlib.suppress(Exception):
        tags: Sequence[Any] = client.api.inspect_image(image_id).get("RepoTags") or ()
        return tuple(str(t) for t in tags if t and t != "<none>:<none>")
    return ()
