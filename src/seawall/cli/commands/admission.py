"""``seawall admission serve|install``: the validating admission webhook."""

from __future__ import annotations

import enum
import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seawall.cli.commands.k8s import ConfigOpt, NoBuiltinOpt, PolicyOpt, ScanResultsOpt
from seawall.cli.upload import TokenOpt, UploadOpt
from seawall.errors import EnvironmentFailure, InputError

if TYPE_CHECKING:
    from seawall.admission.namespaces import NamespaceCache
    from seawall.policy.kubeapi import KubeApi


class Mode(enum.StrEnum):
    enforce = "enforce"
    audit = "audit"


class FailurePolicy(enum.StrEnum):
    fail = "fail"
    ignore = "ignore"


def register(app: typer.Typer) -> None:
    """Add ``seawall admission`` to the application."""
    group = typer.Typer(help="Kubernetes admission control.", no_args_is_help=True)
    group.command(name="serve")(serve)
    group.command(name="install")(install)
    app.add_typer(group, name="admission")


def serve(
    cert: Annotated[Path, typer.Option(help="Serving certificate (PEM).")],
    key: Annotated[Path, typer.Option(help="Private key of the certificate (PEM).")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",  # noqa: S104
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8443,
    mode: Annotated[
        Mode, typer.Option(help="enforce: deny and warn; audit: allow everything, record.")
    ] = Mode.enforce,
    failure_policy: Annotated[
        FailurePolicy,
        typer.Option(help="When a policy errors or times out: fail (deny) or ignore (allow)."),
    ] = FailurePolicy.fail,
    timeout: Annotated[float, typer.Option(help="Seconds the policies may take.")] = 3.0,
    max_request_bytes: Annotated[
        int, typer.Option(help="Larger AdmissionReviews are refused with 413.")
    ] = 3 * 1024 * 1024,
    read_timeout: Annotated[
        float, typer.Option(help="Seconds a request may take to arrive once it starts.")
    ] = 10.0,
    max_connections: Annotated[
        int, typer.Option(help="Connections open at once; more are closed on arrival.")
    ] = 128,
    max_in_flight: Annotated[
        int, typer.Option(help="Reviews decided at once; more get a 503.")
    ] = 16,
    exempt_namespace: Annotated[
        list[str] | None, typer.Option(help="Namespace whose objects are never checked.")
    ] = None,
    decision_log: Annotated[
        Path | None, typer.Option(help="Append decisions (JSON lines) here; default stdout.")
    ] = None,
    kubeconfig: Annotated[
        Path | None,
        typer.Option(help="Watch Namespaces (for namespaceSelectors) with this kubeconfig."),
    ] = None,
    context: Annotated[str | None, typer.Option(help="kubeconfig context to use.")] = None,
    in_cluster: Annotated[
        bool,
        typer.Option(
            "--in-cluster", help="Watch Namespaces with the pod's service account (in a pod)."
        ),
    ] = False,
    config: ConfigOpt = None,
    policy: PolicyOpt = None,
    scan_results: ScanResultsOpt = None,
    no_builtin: NoBuiltinOpt = False,
    upload: UploadOpt = "",
    token: TokenOpt = "",
    cluster: Annotated[
        str, typer.Option(help="The cluster's name in the center (with --upload).")
    ] = "cluster",
) -> None:
    """Serve AdmissionReview v1/v1beta1 over HTTPS: /validate, /healthz, /metrics; with
    --upload, every decision is also sent to a Seawall center, in batches."""
    import msgspec

    from seawall.admission.decide import AdmissionSettings, Decider, DecisionLog
    from seawall.admission.reporting import ReportedDecisionLog
    from seawall.admission.server import WebhookServer, tls_context
    from seawall.admission.synced import start_synced
    from seawall.cli.commands.k8s import build_engine
    from seawall.policy.engine import PolicyEngine

    engine = build_engine(config, policy, scan_results, not no_builtin)
    assert isinstance(engine, PolicyEngine)
    if exempt_namespace:
        engine.settings = msgspec.structs.replace(
            engine.settings,
            exempt_namespaces=(*engine.settings.exempt_namespaces, *exempt_namespace),
        )
    try:
        settings = AdmissionSettings(
            mode.value,
            failure_policy.value,
            timeout,
            max_request_bytes,
            read_timeout,
            max_connections,
            max_in_flight,
        )
        tls = tls_context(cert, key)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:  # ssl.SSLError is an OSError
        raise InputError(f"cannot load {cert} and {key}: {exc}") from None
    try:
        stream = decision_log.open("a", encoding="utf-8") if decision_log else sys.stdout
    except OSError as exc:
        raise EnvironmentFailure(f"cannot open {decision_log}: {exc.strerror}") from None
    # Template workers start and compile before the first request, not during it.
    engine.supervisor.warm(engine.library.templates.values())
    api = _api(kubeconfig, context, in_cluster)
    namespaces = _namespace_cache(api) if api else None
    synced = start_synced(api, engine.library.sync, _log) if api and engine.library.sync else None
    decisions = DecisionLog(stream)
    if upload:
        from seawall.upload import ingest_url

        ingest_url(upload)  # a bad URL is refused now, not at the first decision
        if not token:
            raise InputError("--upload needs a token", hint="pass --token or set $SEAWALL_TOKEN")
        decisions = ReportedDecisionLog(stream, center=upload, token=token, cluster=cluster)
        decisions.start()
    decider = Decider(engine, settings, decisions, namespaces=namespaces, synced=synced)
    try:
        server = WebhookServer((host, port), decider, tls)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    # Everything loaded so far lives as long as the server: keep it out of the collector's
    # full passes, which would otherwise show up as latency spikes.
    gc.collect()
    gc.freeze()
    # A request arriving while another thread holds the GIL waits up to the switch interval
    # (5 ms by default): shorten it so one slow decision cannot add that to every other.
    sys.setswitchinterval(0.0005)
    print(f"seawall admission: listening on https://{host}:{server.port}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if namespaces is not None:
            namespaces.stop()
        if synced is not None:
            synced.stop()
        if isinstance(decisions, ReportedDecisionLog):
            decisions.stop()


def _log(message: str) -> None:
    print(f"seawall admission: {message}", file=sys.stderr)


def _api(kubeconfig: Path | None, context: str | None, in_cluster: bool) -> KubeApi | None:
    """The Kubernetes API when access is configured, else None (constraints with a
    namespaceSelector on namespaced objects then go to the failure policy, and templates
    that read data.inventory see nothing else in the cluster)."""
    if kubeconfig is None and context is None and not in_cluster:
        return None
    from seawall.policy.kubeapi import connect

    return connect(kubeconfig, context, in_cluster=in_cluster)


def _namespace_cache(api: KubeApi) -> NamespaceCache:
    """A started Namespace cache, awaited briefly."""
    from seawall.admission.namespaces import NamespaceCache

    cache = NamespaceCache(api, log=_log)
    cache.start()
    if not cache.wait_synced(10.0):
        _log("namespaces not listed yet; namespaceSelectors go to the failure policy until then")
    return cache


def install(
    output_dir: Annotated[Path, typer.Option(help="Directory for certificates and manifests.")],
    namespace: Annotated[str, typer.Option(help="Namespace of the webhook.")] = "seawall-system",
    name: Annotated[str, typer.Option(help="Name of the Service and Deployment.")] = (
        "seawall-admission"
    ),
    image: Annotated[str, typer.Option(help="Seawall container image.")] = "seawall:latest",
    replicas: Annotated[int, typer.Option(help="Webhook replicas.")] = 2,
    failure_policy: Annotated[
        FailurePolicy, typer.Option(help="API server failurePolicy: fail or ignore.")
    ] = FailurePolicy.fail,
    timeout: Annotated[int, typer.Option(help="API server timeoutSeconds (1-30).")] = 5,
    mode: Annotated[Mode, typer.Option(help="enforce or audit.")] = Mode.enforce,
) -> None:
    """Write ca.crt, ca.key, tls.crt, tls.key and webhook.yaml (Secret, Service, Deployment,
    ValidatingWebhookConfiguration); apply with kubectl apply -f webhook.yaml."""
    from seawall.admission.install import InstallOptions, write_install

    if not 1 <= timeout <= 30:
        raise InputError("--timeout must be between 1 and 30 seconds")
    options = InstallOptions(
        namespace=namespace,
        name=name,
        image=image,
        replicas=replicas,
        failure_policy=failure_policy.value.capitalize(),
        timeout_seconds=timeout,
        mode=mode.value,
    )
    for path in write_install(options, output_dir):
        typer.echo(str(path))
