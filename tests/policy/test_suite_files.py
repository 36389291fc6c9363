"""``seawall policy verify`` reads suites as hostile input: every file a suite names must be
inside its directory and a regular file; anything else is one error line (exit 2), never a
hang, a read outside the suite or a traceback."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.policy.gatekeeper.suite import run_suite
from tests.policy.hostile import pod
from tests.policy.support import GATEKEEPER
from tests.support.limits import assert_one_line_refusal, run_limited

SOURCE = GATEKEEPER / "general" / "allowedrepos"


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A copy of a library suite, to be tampered with."""
    directory = tmp_path / "suite"
    shutil.copytree(SOURCE, directory)
    return directory


def point(suite: Path, field: str, target: str) -> Path:
    """The suite with the first ``field:`` (template, constraint, object) set to ``target``."""
    path = suite / "suite.yaml"
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        key, _, _ = line.strip().lstrip("- ").partition(":")
        if key == field:
            indent = line[: len(line) - len(line.lstrip())]
            prefix = "- " if line.strip().startswith("- ") else ""
            lines[number] = f"{indent}{prefix}{field}: {target}"
            break
    else:
        raise AssertionError(f"no {field} in {path}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("field", ["template", "constraint", "object"])
@pytest.mark.parametrize("target", ["../outside.yaml", "/etc/passwd", "samples/../../x.yaml"])
def test_a_path_outside_the_suite_is_refused(suite: Path, field: str, target: str) -> None:
    (suite.parent / "outside.yaml").write_text("kind: Secret\n")
    result = run_limited("policy", "verify", str(point(suite, field, target)), timeout=60)
    assert_one_line_refusal(result, "outside the suite's directory", target)


def test_a_symlink_leading_out_of_the_suite_is_refused(suite: Path) -> None:
    (suite.parent / "elsewhere.yaml").write_text((suite / "template.yaml").read_text())
    (suite / "linked.yaml").symlink_to(suite.parent / "elsewhere.yaml")
    result = run_limited("policy", "verify", str(point(suite, "template", "linked.yaml")))
    assert_one_line_refusal(result, "leads outside the suite's directory", "linked.yaml")


def test_a_symlink_inside_the_suite_is_followed(suite: Path) -> None:
    (suite / "linked.yaml").symlink_to(suite / "template.yaml")
    result = run_limited("policy", "verify", str(point(suite, "template", "linked.yaml")))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("field", ["template", "object"])
def test_a_fifo_is_refused_without_reading_it(suite: Path, field: str) -> None:
    os.mkfifo(suite / "pipe.yaml")
    result = run_limited("policy", "verify", str(point(suite, field, "pipe.yaml")), timeout=60)
    assert_one_line_refusal(result, "pipe.yaml", "a FIFO")


def test_the_suite_itself_may_not_be_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "suite.yaml")
    result = run_limited("policy", "verify", str(tmp_path / "suite.yaml"), timeout=60)
    assert_one_line_refusal(result, "a FIFO")


@pytest.mark.parametrize("target", ['"a\\0b.yaml"', "[template.yaml]", "''"])
def test_a_path_that_is_not_a_file_name_is_one_line(suite: Path, target: str) -> None:
    result = run_limited("policy", "verify", str(point(suite, "template", target)))
    assert_one_line_refusal(result, "a test needs template, constraint and case object paths")


def test_a_missing_file_is_one_line(suite: Path) -> None:
    result = run_limited("policy", "verify", str(point(suite, "constraint", "nope.yaml")))
    assert_one_line_refusal(result, "nope.yaml", "no such file")


def test_a_yaml_bomb_in_a_case_object_is_refused(suite: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    (suite / "bomb.yaml").write_text(bomb)
    result = run_limited("policy", "verify", str(point(suite, "object", "bomb.yaml")), timeout=60)
    assert_one_line_refusal(result, "bomb.yaml", "nodes")


NAMES = st.sampled_from(["template.yaml", "constraint.yaml", "pod.yaml", "../x.yaml", "/etc"])
SUITE_KEYS = ["name", "template", "constraint", "cases", "object", "assertions", "violations"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.text(max_size=5), NAMES)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(SUITE_KEYS),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(VALUES, min_size=1, max_size=3))
def test_any_suite_structure_runs_or_is_an_input_error(tests: object) -> None:
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory)
        shutil.copy(SOURCE / "template.yaml", base / "template.yaml")
        constraint = SOURCE / "samples" / "repo-must-be-openpolicyagent" / "constraint.yaml"
        shutil.copy(constraint, base / "constraint.yaml")
        (base / "pod.yaml").write_text(pod())
        suite = {"kind": "Suite", "apiVersion": "test.gatekeeper.sh/v1alpha1", "tests": tests}
        (base / "suite.yaml").write_text(json.dumps(suite))
        with contextlib.suppress(InputError):
            for result in run_suite(base / "suite.yaml"):
                assert isinstance(result.passed, bool)
