"""The CIS Kubernetes Benchmark's section 5 (policies) as the k8s rules assess it: each
rule's ``cis-k8s-1.12`` mapping names checks of the cis-k8s catalog, and
docs/cis-kubernetes-policies.md lists every section-5 check with exactly the rules that map
it."""

from __future__ import annotations

import re
from pathlib import Path

from seawall.model import Rule
from seawall.rules import catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "cis-kubernetes-policies.md"
KEY = "cis-k8s-1.12"
RULES = catalog("k8s")
CIS = catalog("cis-k8s")
POLICIES = {i: r for i, r in CIS.items() if r.mappings.get("target") == "policies"}
VERDICTS = ("same", "partial", "none")
RULE_NAME = re.compile(r"`((?:pss|bp|rbac|image|control-plane)-[a-z0-9-]+)`")


def _mapped(rule: Rule) -> list[str]:
    """The CIS check ids of ``rule``'s mapping (``"5.2.3,5.2.4"``)."""
    return [p.strip() for p in rule.mappings.get(KEY, "").split(",") if p.strip()]


def _mapping_rules(check: str) -> set[str]:
    return {i for i, rule in RULES.items() if check in _mapped(rule)}


def _table() -> list[list[str]]:
    """The rows of the doc's table: check, title, assessment, rules, match."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Check |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 5, line
        rows.append(cells)
    return rows


def _rows_by_check() -> dict[str, list[str]]:
    rows = _table()
    checks = [row[0] for row in rows]
    assert len(checks) == len(set(checks)), "a check is listed twice"
    return {row[0]: row for row in rows}


def _gaps() -> list[str]:
    """The check ids the doc's Gaps section lists, in order."""
    text = DOC.read_text(encoding="utf-8").split("\n## Gaps\n", 1)[1]
    return re.findall(r"^- \*\*(\d+(?:\.\d+)+)\*\*: \S", text, flags=re.MULTILINE)


def test_policies_section_is_in_the_catalog() -> None:
    assert len(POLICIES) == 34
    assert all(i.startswith("5.") for i in POLICIES)
    assert {i for i in CIS if i.startswith("5.")} == set(POLICIES)


def test_every_mapping_names_catalog_checks() -> None:
    section_5 = 0
    for rule_id, rule in RULES.items():
        for check in _mapped(rule):
            if check.startswith("5."):
                # Checks of the policies section: exact ids, never a whole section.
                assert check in POLICIES, f"{rule_id}: {check} is not a policies check"
                section_5 += 1
            else:
                # Rules judging the control plane's mirror pods map node checks (or sections).
                assert check in CIS or any(i.startswith(f"{check}.") for i in CIS), (
                    f"{rule_id}: {check} is not in the cis-k8s catalog"
                )
    assert section_5, "no rule maps a policies check"


def test_doc_lists_every_policies_check_once_as_the_catalog_has_it() -> None:
    rows = _rows_by_check()
    assert list(rows) == list(POLICIES)  # every check, in the catalog's order
    for check, (_, title, assessment, _, _) in rows.items():
        assert title == POLICIES[check].title, check
        assert assessment == POLICIES[check].mappings["assessment"], check


def test_doc_rules_exist_and_match_the_mappings() -> None:
    for check, (_, _, _, rules, match) in _rows_by_check().items():
        named = RULE_NAME.findall(rules)
        assert rules == "—" or rules == ", ".join(f"`{r}`" for r in named), check
        assert set(named) <= set(RULES), f"{check}: unknown rule {set(named) - set(RULES)}"
        assert set(named) == _mapping_rules(check), (
            f"{check}: the doc names {sorted(named)}, k8s.yaml maps {sorted(_mapping_rules(check))}"
        )
        mentioned = set(RULE_NAME.findall(match))
        assert mentioned <= set(RULES), f"{check}: unknown rule {mentioned - set(RULES)}"
        verdict = match.split(maxsplit=1)[0].rstrip(":,")
        assert verdict in VERDICTS, f"{check}: {match!r}"
        assert (verdict == "none") == (not named), check


def test_gaps_are_the_checks_no_rule_assesses() -> None:
    unassessed = [c for c, row in _rows_by_check().items() if row[4] == "none"]
    assert unassessed
    assert _gaps() == unassessed
