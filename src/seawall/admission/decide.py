"""From an AdmissionRequest to a verdict: run the policy engine within the timeout, apply
enforcement actions (deny, warn, dryrun), the mode (enforce or audit) and the failure
policy, and record every decision."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import IO, Any

import msgspec

from seawall.admission.namespaces import NamespaceCache
from seawall.admission.review import AdmissionRequest
from seawall.admission.synced import SyncedObjects
from seawall.contract.envelope import AdmissionDecision
from seawall.model import Status
from seawall.policy.engine import Decision, PolicyEngine
from seawall.policy.objects import CLUSTER_SCOPED_KINDS, KubeObject, normalise
from seawall.policy.request import Review

MODES = ("enforce", "audit")
FAILURE_POLICIES = ("fail", "ignore")
REPORT_GRACE = 0.25  # seconds
NO_API = "the webhook has no Kubernetes API access (--kubeconfig, --context or --in-cluster)"


@dataclass(frozen=True)
class AdmissionSettings:
    mode: str = "enforce"  # audit: record only, always allow
    failure_policy: str = "fail"  # what an erroring or slow policy means: deny or allow
    timeout: float = 3.0  # seconds the engine may take before the failure policy applies
    max_request_bytes: int = 3 * 1024 * 1024
    read_timeout: float = 10.0  # seconds a request may take to arrive, once it starts
    max_connections: int = 128  # open at once; more are closed on arrival
    max_in_flight: int = 16  # reviews being decided at once; more get a 503

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if not self.timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        if self.max_request_bytes < 1:
            raise ValueError("max request bytes must be positive")
        if not self.read_timeout > 0:
            raise ValueError("read timeout must be a positive number of seconds")
        if self.max_connections < 1 or self.max_in_flight < 1:
            raise ValueError("connection and review limits must be positive")
        if self.failure_policy not in FAILURE_POLICIES:
            raise ValueError(f"failure policy must be one of {', '.join(FAILURE_POLICIES)}")


@dataclass
class Verdict:
    allowed: bool
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    violations: list[tuple[str, str]] = field(default_factory=list)  # (rule id, action)
    errors: list[str] = field(default_factory=list)


class DecisionLog:
    """Every decision as one JSON line (to a file, or stdout for container logs)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, entry: AdmissionDecision) -> None:
        line = msgspec.json.encode(entry).decode()
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


def _describe(decision: Decision) -> str:
    finding = decision.finding
    fix = finding.fix
    text = f"[{finding.rule.id}] {finding.message or finding.evidence}"
    return f"{text} (fix: {fix})" if fix else text


class Decider:
    def __init__(
        self,
        engine: PolicyEngine,
        settings: AdmissionSettings,
        log: DecisionLog | None = None,
        clock: Callable[[], float] = time.monotonic,
        namespaces: NamespaceCache | None = None,
        synced: SyncedObjects | None = None,
    ) -> None:
        self.engine = engine
        self.namespaces = namespaces
        # referential data, for the templates that read data.inventory (when any does)
        referential = any(t.uses_inventory for t in engine.library.templates.values())
        self.synced = synced if referential else None
        self.settings = settings
        self.log = log
        self._clock = clock
        self._pool = ThreadPoolExecutor(settings.max_in_flight, thread_name_prefix="policy")

    def _namespace(self, obj: KubeObject) -> tuple[Mapping[str, Any] | None, str]:
        """The Namespace of ``obj`` for namespaceSelectors, or None and why it is unknown.
        A Namespace under review is its own: the request's object, not the cache's (older)
        copy; the cache itself learns only from the API server, as a request may be denied."""
        if obj.kind == "Namespace":
            return obj.raw, ""
        if obj.kind in CLUSTER_SCOPED_KINDS or not obj.namespace:
            return None, ""
        if self.namespaces is None:
            return None, NO_API
        return self.namespaces.lookup(obj.namespace)

    def _evaluate(self, request: AdmissionRequest) -> list[Decision]:
        raw = request.object if request.object is not None else request.old_object
        obj = normalise(raw or {}, "admission", request.namespace)
        namespace_object, unknown = self._namespace(obj)
        review = Review(
            operation=request.operation,
            old_object=request.old_object,
            user_info=request.user_info,
            namespace_object=namespace_object,
            namespace_unknown=unknown,
            dry_run=request.dry_run,
            uid=request.uid,
            deadline=time.monotonic() + self.settings.timeout,  # templates stop by then
            inventory=self.synced.inventory() if self.synced else None,
        )
        return self.engine.evaluate(obj, review)

    def decide(self, request: AdmissionRequest) -> Verdict:
        started = self._clock()
        verdict = Verdict(allowed=True)
        if request.operation == "CONNECT" or (
            request.object is None and request.old_object is None
        ):
            decisions: list[Decision] = []
        else:
            future = self._pool.submit(self._evaluate, request)
            try:
                # Templates stop at the timeout themselves; the grace lets the engine report
                # which ones it stopped, rather than only that time ran out.
                decisions = future.result(timeout=self.settings.timeout + REPORT_GRACE)
            except FutureTimeout:
                decisions = []
                verdict.errors.append(f"policy evaluation took more than {self.settings.timeout}s")
            except Exception as exc:  # the engine itself failed: the failure policy decides
                decisions = []
                verdict.errors.append(f"policy evaluation failed: {type(exc).__name__}: {exc}")
        denials: list[str] = []
        for decision in decisions:
            verdict.violations.append((decision.finding.rule.id, decision.action))
            if decision.finding.status is Status.ERROR:
                verdict.errors.append(f"[{decision.finding.rule.id}] {decision.finding.evidence}")
            elif decision.action == "deny" and decision.finding.status is Status.FAIL:
                denials.append(_describe(decision))
            elif decision.action == "warn" or decision.finding.status is Status.WARN:
                verdict.warnings.append(_describe(decision))
        if verdict.errors:
            if self.settings.failure_policy == "fail":
                denials.extend(f"policy error: {e}" for e in verdict.errors)
            else:
                verdict.warnings.extend(f"policy error ignored: {e}" for e in verdict.errors)
        self._record(request, verdict, denials, self._clock() - started)
        if self.settings.mode == "audit":
            verdict.warnings = []  # audit only records
        elif denials:
            verdict.allowed = False
            verdict.message = "denied by seawall: " + "; ".join(denials)
        return verdict

    def _record(
        self, request: AdmissionRequest, verdict: Verdict, denials: list[str], seconds: float
    ) -> None:
        """Log the decision (in audit mode, what enforce mode would have done)."""
        if self.log is None:
            return
        self.log.write(
            AdmissionDecision(
                time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                uid=request.uid,
                operation=request.operation,
                kind=request.kind,
                namespace=request.namespace,
                name=request.name,
                user=str(request.user_info.get("username", "")),
                mode=self.settings.mode,
                allowed=not denials or self.settings.mode == "audit",
                would_deny=bool(denials),
                violations=tuple(denials),
                warnings=tuple(verdict.warnings),
                errors=tuple(verdict.errors),
                dryrun=tuple(rule for rule, action in verdict.violations if action == "dryrun"),
                ms=round(seconds * 1000, 3),
            )
        )
