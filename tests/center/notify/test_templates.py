"""Templates: hostile ones refused or bounded with a clear error, defaults never fail."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.center.notify import Notification, Resource, TemplateProblem, Templates
from seawall.center.notify.message import KINDS
from seawall.center.notify.templates import (
    LIMITS,
    NAMES,
    TRUNCATED,
    compile_template,
    context,
    render_compiled,
    validate_template,
)
from seawall.model import Severity
from tests.center.notify.conftest import make_notification

HOSTILE = {
    "mro": ("hello\n{{ ''.__class__.__mro__ }}", 2, "unsafe"),
    "globals": ("{{ n.get.__globals__ }}", 1, "unsafe|no attribute '__globals__'"),
    "method": ("{{ n.title.replace('a', 'b') }}", 1, "unsafe"),
    "big range": ("{% for i in range(10**8) %}{% endfor %}", 1, "range"),
    "nested loops": (
        "{% for a in n.summary %}{% for b in n.summary %}{% for c in n.summary %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        1,
        "too much work|longer than",
    ),
    "exponential macro": (
        "{% macro f(k) %}{% if k %}{{ f(k-1) }}{{ f(k-1) }}{% endif %}{% endmacro %}\n{{ f(60) }}",
        1,
        "too much work|longer than",
    ),
    "doubling concat": (
        "{% macro f(k) %}{% if k %}{% set x = f(k-1) %}{{ x ~ x }}{% else %}ab{% endif %}"
        "{% endmacro %}{{ f(60) }}",
        1,
        "over 65536 characters",
    ),
    "string repeat": ("\n\n{{ 'x' * 999999999 }}", 3, "over 65536 characters"),
    "power": ("{{ 10 ** 999999999 }}", 1, "exponent"),
    "percent format": ("{{ '%0999999999d' % 1 }}", 1, "formatting"),
    "join bomb": ("{{ (n.summary * 30)|join(n.summary * 30) }}", 1, "over 65536"),
    "replace bomb": ("{{ (n.summary * 30)|replace('', n.summary * 30) }}", 1, "over 65536"),
    "format filter": ("{{ 'x'|format }}", 1, "No filter named 'format'"),
    "recursion": ("{% for x in 'ab' recursive %}{{ loop('ab') }}{% endfor %}", 1, "recurs"),
    "gigantic output": (
        "{% for i in range(10000) %}{% for j in range(9) %}{{ n.summary }}{% endfor %}{% endfor %}",
        None,
        "output is over",
    ),
    "syntax": ("line 1\n{% for %}", 2, "Expected an expression"),
    "unknown variable": ("a\nb\n{{ n.titel }}", 3, "titel"),
    "include": ("{% include '/etc/passwd' %}", 1, "loader"),
    "too long": ("x" * 20_000, None, "longer than"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_templates_are_refused(name: str) -> None:
    text, line, message = HOSTILE[name]
    started = time.monotonic()
    with pytest.raises(TemplateProblem, match=message) as caught:
        validate_template(text)
    assert caught.value.line == line
    assert time.monotonic() - started < 3


def test_user_template_errors_name_the_template() -> None:
    with pytest.raises(TemplateProblem, match="template 'subject'"):
        Templates({"subject": "{{ nope }}"})
    with pytest.raises(TemplateProblem, match="unknown template"):
        Templates({"body": "x"})


def test_user_templates_replace_defaults() -> None:
    templates = Templates({"subject": "{{ count }} x {{ n.kind }}\n\nline two"})
    batch = [make_notification(), make_notification(dedupe_key="2")]
    assert templates.subject(batch) == "2 x new_critical_finding line two"
    assert "[CRITICAL]" in templates.render("text", batch)


def test_html_is_escaped_and_text_is_not() -> None:
    batch = [make_notification(title="<b>x</b> & y")]
    templates = Templates()
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in templates.render("html", batch)
    assert "<b>x</b> & y" in templates.render("text", batch)


def test_long_batches_list_fifty_and_count_the_rest() -> None:
    batch = [make_notification(dedupe_key=str(i)) for i in range(120)]
    text = Templates().render("text", batch)
    assert text.count("[CRITICAL]") == 50
    assert "... and 70 more." in text


def test_output_is_cut_at_the_limit() -> None:
    loop = "{% for i in range(5000) %}{{ n.summary }}{% endfor %}"
    with pytest.raises(TemplateProblem, match="output is over 3000"):
        validate_template(loop, "slack")  # refused up front...
    text = render_compiled(compile_template(loop, "slack"), "slack", context([make_notification()]))
    assert len(text) == 3000 and text.endswith(TRUNCATED)  # ...and cut if it ran anyway


_text = st.text(max_size=3000)
_resources = st.builds(
    Resource,
    type=_text,
    name=_text,
    registry=_text,
    repository=_text,
    cluster=_text,
    namespace=_text,
    host=_text,
)
_notifications = st.builds(
    Notification,
    kind=st.sampled_from(sorted(KINDS)),
    severity=st.sampled_from(list(Severity)),
    title=_text,
    summary=st.text(max_size=20_000),
    resource=_resources,
    occurred_at=st.datetimes(timezones=st.just(dt.UTC)),
    dedupe_key=st.text(min_size=1, max_size=500),
    url=_text,
    facts=st.lists(st.tuples(_text, _text), max_size=40).map(tuple),
)
_DEFAULTS = Templates()


@settings(max_examples=60, deadline=None)
@given(st.lists(_notifications, min_size=1, max_size=60))
def test_default_templates_never_fail_and_stay_bounded(batch: list[Notification]) -> None:
    for name in NAMES:
        text = _DEFAULTS.render(name, batch)
        assert len(text) <= LIMITS[name]
        if name in ("subject", "syslog"):
            assert "\n" not in text and "\r" not in text
        assert text.endswith(TRUNCATED) or len(text) < LIMITS[name]
