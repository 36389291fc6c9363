"""Supervised template evaluation: a template that allocates without bound or runs for
minutes costs only its own worker and becomes a policy error naming it; the other
templates of the batch, and the next evaluations, are answered as usual."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.model import Status
from seawall.policy.engine import PolicyEngine
from seawall.policy.gatekeeper.budget import (
    MEMORY_VARIABLE,
    TIMEOUT_VARIABLE,
    WORKERS_VARIABLE,
    Budget,
)
from seawall.policy.manifests import parse_manifests
from seawall.policy.request import Review
from tests.policy.hostile import (
    HUNGRY,
    HUNGRY_CEL_TEMPLATE,
    HUNGRY_REGO,
    OWNER,
    OWNER_REGO,
    SLOW,
    SLOW_CEL_TEMPLATE,
    constraint_template,
    library,
    pod,
)

TIGHT = Budget(timeout=1.5, memory_mb=128, workers=1)


def evaluate(engine: PolicyEngine, text: str, review: Review | None = None) -> dict[str, str]:
    obj = parse_manifests(text, "pod")[0]
    return {d.finding.rule.id: d.finding.evidence for d in engine.evaluate(obj, review)}


def test_a_cel_template_that_allocates_without_bound_exceeds_its_memory_budget() -> None:
    roomy = Budget(timeout=30, memory_mb=128, workers=1)
    engine = PolicyEngine(library=library(HUNGRY_CEL_TEMPLATE), builtin=False, budget=roomy)
    found = evaluate(engine, pod(data=100_000))
    assert "K8sHungryCel/c exceeded its budget (memory: 128 MB)" in found["K8sHungryCel/c"]


def test_a_template_that_allocates_without_bound_exceeds_its_memory_budget() -> None:
    engine = PolicyEngine(library=library(HUNGRY, OWNER), builtin=False, budget=TIGHT)
    found = evaluate(engine, pod())
    assert "K8sHungry/c exceeded its budget (memory: 128 MB)" in found["K8sHungry/c"]
    assert found["K8sOwner/c"] == "needs an owner label"  # evaluated on a fresh worker
    assert evaluate(engine, pod())["K8sOwner/c"] == "needs an owner label"


@pytest.mark.parametrize("template", [SLOW, SLOW_CEL_TEMPLATE], ids=["rego", "cel"])
def test_a_template_that_runs_for_minutes_exceeds_its_time_budget(template: str) -> None:
    engine = PolicyEngine(library=library(OWNER, template), builtin=False, budget=TIGHT)
    started = time.monotonic()
    found = evaluate(engine, pod(containers=3000))
    assert time.monotonic() - started < 10
    (slow,) = (rule for rule in found if rule != "K8sOwner/c")
    if slow.startswith("K8sSlowCel"):  # the CEL runtime stops the comprehension itself
        assert "Iteration budget exceeded" in found[slow]
    else:
        assert f"{slow} exceeded its budget (time: 1.5s)" in found[slow]
    assert found["K8sOwner/c"] == "needs an owner label"


def test_the_request_deadline_stops_an_evaluation_before_its_budget() -> None:
    engine = PolicyEngine(library=library(SLOW), builtin=False, budget=Budget(timeout=60))
    started = time.monotonic()
    found = evaluate(engine, pod(), Review(deadline=time.monotonic() + 0.5))
    assert time.monotonic() - started < 5
    assert "exceeded its budget (time: the request's deadline)" in found["K8sSlow/c"]


def test_a_budget_error_is_an_error_finding_with_the_constraints_action() -> None:
    engine = PolicyEngine(library=library(HUNGRY), builtin=False, budget=TIGHT)
    (decision,) = engine.evaluate(parse_manifests(pod(), "pod")[0])
    assert decision.finding.status is Status.ERROR and decision.action == "deny"


def test_budget_from_the_environment() -> None:
    budget = Budget.from_environment(
        {"SEAWALL_POLICY_TIMEOUT": "2.5", "SEAWALL_POLICY_MEMORY_MB": "300"}
    )
    assert budget == Budget(timeout=2.5, memory_mb=300, workers=Budget().workers)
    assert Budget.from_environment({}) == Budget()


@given(
    st.sampled_from([TIMEOUT_VARIABLE, MEMORY_VARIABLE, WORKERS_VARIABLE]),
    st.text(max_size=12).filter(lambda t: t.strip() != ""),
)
def test_a_bad_budget_variable_is_an_input_error(name: str, value: str) -> None:
    try:
        Budget.from_environment({name: value})
    except InputError as exc:
        assert name in str(exc)


BROKEN_REGO = 'package k8sbroken\nviolation[{"msg": m}] { m := 1 / 0 }\n'
KINDS = {"owner": OWNER_REGO, "hungry": HUNGRY_REGO, "broken": BROKEN_REGO}


def renamed(rego: str, package: str) -> str:
    """``rego`` in package ``package`` (each template of a library needs its own)."""
    return f"package {package}\n" + rego.split("\n", 1)[1]


@settings(max_examples=8, deadline=None)
@given(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5))
def test_each_outcome_of_a_batch_belongs_to_its_own_policy(kinds: list[str]) -> None:
    names = [f"K8sT{i}{kind.title()}" for i, kind in enumerate(kinds)]
    documents = [
        constraint_template(name, renamed(KINDS[kind], name.lower()))
        for name, kind in zip(names, kinds, strict=True)
    ]
    engine = PolicyEngine(library=library(*documents), builtin=False, budget=TIGHT)
    found = evaluate(engine, pod())
    for name, kind in zip(names, kinds, strict=True):
        evidence = found[f"{name}/c"]
        if kind == "owner":
            assert evidence == "needs an owner label"
        elif kind == "hungry":
            assert f"{name}/c exceeded its budget (memory: 128 MB)" in evidence
        else:
            assert "policy error" in evidence and "budget" not in evidence


def test_warming_starts_every_worker_only_when_there_are_templates() -> None:
    budget = Budget(timeout=5, memory_mb=200, workers=2)  # a pool of its own
    engine = PolicyEngine(library=library(OWNER), builtin=False, budget=budget)
    before = len(multiprocessing.active_children())
    engine.supervisor.warm([])
    assert len(multiprocessing.active_children()) == before
    engine.supervisor.warm(engine.library.templates.values())
    assert len(multiprocessing.active_children()) == before + 2
    assert evaluate(engine, pod())["K8sOwner/c"] == "needs an owner label"
    assert len(multiprocessing.active_children()) == before + 2  # warm workers were reused
    engine.supervisor.stop()
    assert len(multiprocessing.active_children()) == before


def test_a_scan_waits_for_a_template_out_of_time_only_once() -> None:
    engine = PolicyEngine(library=library(SLOW, OWNER), builtin=False, budget=TIGHT)
    objects = [parse_manifests(pod(f"p{i}"), "pods")[0] for i in range(4)]
    started = time.monotonic()
    findings = engine.findings(objects)
    assert time.monotonic() - started < 4  # one time budget (1.5 s), not four
    slow = [f.evidence for f in findings if f.rule.id == "K8sSlow/c"]
    assert len(slow) == 4 and "exceeded its budget (time: 1.5s)" in slow[0]
    assert all("not evaluated: K8sSlow/c exceeded its time budget on Pod team/p0" in e
               for e in slow[1:])  # fmt: skip
    assert sum(f.rule.id == "K8sOwner/c" for f in findings) == 4
