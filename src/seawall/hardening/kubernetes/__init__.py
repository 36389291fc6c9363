"""The CIS Kubernetes Benchmark on a node: the host it runs on, or a node filesystem mounted
at ``--root``.

``layout`` recognises how the node was installed (kubeadm, k3s, RKE2, EKS, GKE, AKS) and where
that puts each file; ``components`` reads each component's effective flags (its running
process, else its static pod manifest or systemd unit), ``k3s`` rebuilds those of the
components k3s runs inside its own process; ``kubelet`` merges the kubelet's
flags, config file and drop-ins; ``collect`` builds one :class:`NodeFacts` snapshot; the
``section*`` modules register one check per benchmark id and read only that snapshot;
``audit`` runs them with the ``cis-k8s`` rule catalog.
"""
