"""The CIS Docker Benchmark 1.6.0 against a real Docker host.

``collect`` gathers one :class:`~seawall.hardening.docker.facts.HostFacts` snapshot (Engine
API in parallel, the daemon's command line and daemon.json, audit rules, host files); each
check in ``section1`` ... ``section7`` registers itself under its CIS id and reads only that
snapshot; ``audit`` runs them and builds Findings from the ``cis-docker`` rule catalog.
"""
