"""``seawall admission install``: the files that deploy the webhook in a cluster: the CA and
serving certificate, and manifests for the TLS Secret, Service, the webhook's
ServiceAccount with a ClusterRole (and binding) to list and watch Namespaces (its namespace
cache, for namespaceSelectors), the Deployment and the ValidatingWebhookConfiguration."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from seawall.admission.certs import issue
from seawall.errors import EnvironmentFailure


@dataclass(frozen=True)
class InstallOptions:
    namespace: str = "seawall-system"
    name: str = "seawall-admission"
    image: str = "seawall:latest"
    replicas: int = 2
    failure_policy: str = "Fail"  # the API server's view: Fail or Ignore
    timeout_seconds: int = 5
    mode: str = "enforce"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def manifests(
    options: InstallOptions, ca_cert: bytes, cert: bytes, key: bytes
) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": options.name}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": f"{options.name}-tls", "namespace": options.namespace},
        "data": {"tls.crt": _b64(cert), "tls.key": _b64(key)},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": options.name, "namespace": options.namespace, "labels": labels},
        "spec": {"selector": labels, "ports": [{"port": 443, "targetPort": 8443}]},
    }
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": options.name, "namespace": options.namespace, "labels": labels},
    }
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": f"{options.name}-namespaces", "labels": labels},
        "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{options.name}-namespaces", "labels": labels},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": f"{options.name}-namespaces",
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": options.name, "namespace": options.namespace}
        ],
    }
    probe = {"httpGet": {"path": "/healthz", "port": 8443, "scheme": "HTTPS"}}
    container = {
        "name": "webhook",
        "image": options.image,
        "imagePullPolicy": "Always",
        "args": [
            "admission",
            "serve",
            "--port",
            "8443",
            "--cert",
            "/tls/tls.crt",
            "--key",
            "/tls/tls.key",
            "--mode",
            options.mode,
            "--failure-policy",
            options.failure_policy.lower(),
            "--timeout",
            str(max(1, options.timeout_seconds - 1)),
            "--exempt-namespace",
            options.namespace,
            "--exempt-namespace",
            "kube-system",
            "--in-cluster",
        ],
        "ports": [{"containerPort": 8443}],
        "livenessProbe": probe,
        "readinessProbe": probe,
        "resources": {
            "limits": {"cpu": "1", "memory": "512Mi"},
            "requests": {"cpu": "100m", "memory": "128Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tls", "mountPath": "/tls", "readOnly": True}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": options.name, "namespace": options.namespace, "labels": labels},
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    # The token lets the namespace cache list and watch Namespaces.
                    "serviceAccountName": options.name,
                    "automountServiceAccountToken": True,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": "tls", "secret": {"secretName": f"{options.name}-tls"}}],
                },
            },
        },
    }
    webhook = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": options.name, "labels": labels},
        "webhooks": [
            {
                "name": f"validate.{options.name}.seawall.dev",
                "admissionReviewVersions": ["v1", "v1beta1"],
                "sideEffects": "None",
                "failurePolicy": options.failure_policy,
                "timeoutSeconds": options.timeout_seconds,
                "clientConfig": {
                    "caBundle": _b64(ca_cert),
                    "service": {
                        "name": options.name,
                        "namespace": options.namespace,
                        "path": "/validate",
                        "port": 443,
                    },
                },
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": [options.namespace, "kube-system"],
                        }
                    ]
                },
                "rules": [
                    {
                        "apiGroups": ["*"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["*"],
                        "scope": "*",
                    }
                ],
            }
        ],
    }
    return [secret, service, account, role, binding, deployment, webhook]


def write_install(options: InstallOptions, directory: Path) -> list[Path]:
    """Write ca.crt, ca.key, tls.crt, tls.key and webhook.yaml into ``directory``."""
    host = f"{options.name}.{options.namespace}.svc"
    certs = issue([host, f"{options.name}.{options.namespace}", options.name])
    documents = manifests(options, certs.ca_cert, certs.cert, certs.key)
    files = {
        "ca.crt": certs.ca_cert,
        "ca.key": certs.ca_key,
        "tls.crt": certs.cert,
        "tls.key": certs.key,
        "webhook.yaml": yaml.safe_dump_all(documents, sort_keys=False).encode(),
    }
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            path = directory / name
            mode = 0o600 if name.endswith(".key") else 0o644  # private keys: owner only
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            written.append(path)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {directory}: {exc.strerror}") from None
    return written
