"""Message text from Jinja2 templates, user-editable and safe to run.

Each channel renders a batch of notifications through named templates: ``subject`` (e-mail
subject, one line), ``text`` (e-mail text part), ``html`` (e-mail HTML part, the only one
autoescaped), ``slack``, ``teams`` and ``syslog`` (one line per notification). Administrators
may replace any of them; :func:`validate_template` checks a replacement up front and names the
line of the problem, so a broken template is refused when it is saved, not when an alert fires.

A template is code written by a user and run on hostile data, so it runs in Jinja2's
``SandboxedEnvironment`` (no ``_`` attributes, no unsafe calls) with bounds Jinja2 does not
have on its own:

- only listed filters, globals (``range``, ``dict``) and methods (``upper``, ``items``, ...);
- every loop iteration and call counts against a step budget and a deadline;
- every value a template builds (``~``, ``+``, ``*``, joins, macro and block output) is at
  most ``MAX_VALUE`` characters, checked *before* it is built; ``**`` and integer products
  are bounded, ``%`` formatting of strings is refused;
- output is cut at the template's limit, marked ``[truncated]``.

Breaking a bound raises :class:`TemplateProblem` with the template's line when known.

Templates see ``notifications`` (at most ``MAX_LISTED``, most severe first, each the
notification's wire form plus ``where``: its location in words), ``count`` (all of them),
``more`` (those not listed) and ``n`` (the most severe one).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import jinja2
import msgspec
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from seawall.center.notify.message import Notification, Resource, clip, to_wire
from seawall.model import Severity

MAX_SOURCE = 16 * 1024  # characters of a template
MAX_VALUE = 64 * 1024  # characters (or items) of any value a template builds
MAX_STEPS = 50_000  # loop iterations and calls per render
MAX_SECONDS = 1.0  # per render
MAX_RANGE = 10_000  # items of one range()
MAX_INT_BITS = 4096
MAX_LISTED = 50  # notifications listed in one message
TRUNCATED = "\n[truncated]"
_FILENAME = "<template>"  # what Jinja2 names the frames of a template without a file

# Output limits per template (subject and syslog are further made one line).
LIMITS: Mapping[str, int] = {
    "subject": 200,
    "text": 64 * 1024,
    "html": 128 * 1024,
    "slack": 3000,
    "teams": 8000,
    "syslog": 1500,
}
NAMES = tuple(LIMITS)

_ALLOWED_FILTERS = """
    abs attr capitalize count d default dictsort e escape filesizeformat first float forceescape
    groupby int items join last length list lower map max min reject rejectattr replace reverse
    round select selectattr sort string striptags sum title tojson trim truncate unique upper
    urlencode wordcount
""".split()  # noqa: SIM905
_ALLOWED_METHODS = frozenset(
    """
    capitalize endswith get items keys lower lstrip rstrip split startswith strip title upper
    values cycle changed
    """.split()  # noqa: SIM905
)


class TemplateProblem(ValueError):
    """A template that cannot be used, or a render that broke a bound; ``line`` is the
    template line when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass
class _Budget:
    steps: int
    deadline: float

    def tick(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise TemplateProblem(f"template does too much work (over {MAX_STEPS} steps)")
        if self.steps % 256 == 0 and time.monotonic() > self.deadline:
            raise TemplateProblem(f"template took longer than {MAX_SECONDS:g} s")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "notify_template_budget", default=None
)


def _tick() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()


def _check_size(size: int, what: str = "value") -> None:
    if size > MAX_VALUE:
        raise TemplateProblem(f"template builds a {what} over {MAX_VALUE} characters")


def _checked(value: Any) -> Any:
    if isinstance(value, str | list | tuple | dict):
        _check_size(len(value))
    return value


def _steps(iterable: Iterable[Any]) -> Iterator[Any]:
    """Iterate, one step of the budget per item (wraps every ``for`` loop)."""
    for item in iterable:
        _tick()
        yield item


def _range(*args: int) -> Iterator[int]:
    span = range(*args)
    if len(span) > MAX_RANGE:
        raise TemplateProblem(f"range() of more than {MAX_RANGE} items")
    return _steps(span)


def _concat(*items: Any) -> str:
    """``a ~ b``: Jinja2's markup_join / str_join, with the size checked first."""
    _check_size(sum(len(str(item)) for item in items))
    if any(hasattr(item, "__html__") for item in items):
        return Markup("").join(items)
    return "".join(str(item) for item in items)


def _bounded_concat(parts: Iterable[str]) -> str:
    """Macro, block and ``{% set %}`` output, joined after checking its size."""
    collected = list(parts)
    _check_size(sum(len(part) for part in collected), "block")
    return "".join(collected)


def _guard_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        return _checked(func(*args, **kwargs))

    return guarded


@jinja2.pass_eval_context
def _join(eval_ctx: Any, value: Iterable[Any], d: str = "") -> str:
    items = list(value)
    _check_size(len(d) * max(len(items) - 1, 0) + sum(len(str(i)) for i in items))
    return str(FILTERS["join"](eval_ctx, items, d))


@jinja2.pass_eval_context
def _replace(eval_ctx: Any, s: str, old: str, new: str, count: int | None = None) -> str:
    text, old, new = str(s), str(old), str(new)
    times = text.count(old) if old else len(text) + 1
    if count is not None:
        times = min(times, max(count, 0))
    _check_size(len(text) + times * max(len(new) - len(old), 0))
    return str(FILTERS["replace"](eval_ctx, text, old, new, count))


class _Bounded(NodeTransformer):
    """Rewrites a parsed template: loops step the budget, ``~`` checks sizes."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(
            nodes.Name("_sw_steps", "load"), [node.iter], [], None, None, lineno=node.lineno
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(
            nodes.Name("_sw_concat", "load"), list(node.nodes), [], None, None, lineno=node.lineno
        )


class _Environment(SandboxedEnvironment):
    intercepted_binops = frozenset({"+", "*", "%", "**"})

    def __init__(self, *, html: bool) -> None:
        super().__init__(
            autoescape=html,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.concat = _bounded_concat  # type: ignore[method-assign]
        self.filters = {name: _guard_filter(FILTERS[name]) for name in _ALLOWED_FILTERS}
        self.filters["join"] = _guard_filter(_join)
        self.filters["replace"] = _guard_filter(_replace)
        self.globals = {"range": _range, "dict": dict, "_sw_steps": _steps, "_sw_concat": _concat}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        allowed = not callable(value) or attr in _ALLOWED_METHODS
        return allowed and super().is_safe_attribute(obj, attr, value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        return _checked(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        _check_binop(operator, left, right)
        return _checked(super().call_binop(context, operator, left, right))


def _check_binop(operator: str, left: Any, right: Any) -> None:
    sized = (str, list, tuple)
    if operator == "%" and isinstance(left, str):
        raise SecurityError("string formatting with % is not allowed")
    if operator == "+" and isinstance(left, sized) and isinstance(right, sized):
        _check_size(len(left) + len(right))
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, sized) and isinstance(times, int):
                _check_size(len(seq) * max(times, 0))
        if isinstance(left, int) and isinstance(right, int):
            _check_bits(left.bit_length() + right.bit_length())
    if operator == "**" and isinstance(right, int | float):
        if isinstance(left, int | float) and abs(right) > 64 and abs(left) > 1:
            raise TemplateProblem("exponent too large")
        if isinstance(left, int) and isinstance(right, int):
            _check_bits(left.bit_length() * max(right, 0))


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise TemplateProblem(f"number over {MAX_INT_BITS} bits")


_ENVIRONMENTS = {False: _Environment(html=False), True: _Environment(html=True)}


def _line(error: BaseException) -> int | None:
    line = None
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def compile_template(text: str, name: str = "text") -> jinja2.Template:
    """Parse and compile a template for ``name``; TemplateProblem on a syntax error."""
    if name not in LIMITS:
        raise TemplateProblem(f"unknown template {name!r} (expected one of: {', '.join(NAMES)})")
    if len(text) > MAX_SOURCE:
        raise TemplateProblem(f"template longer than {MAX_SOURCE} characters")
    env = _ENVIRONMENTS[name == "html"]
    try:
        tree = env.parse(text)
        tree = _Bounded().visit(tree)
        tree.set_environment(env)
        return env.from_string(tree)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateProblem(error.message or str(error), error.lineno) from None


_WHERE = ("registry", "repository", "cluster", "namespace", "host")


def _where(resource: Mapping[str, str]) -> str:
    return ", ".join(f"{key} {resource[key]}" for key in _WHERE if resource[key])


def context(
    notifications: Sequence[Notification], escape: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """What templates see for a batch (see the module docstring); ``escape`` is applied to
    every string taken from the notifications (Slack's ``&<>`` escaping)."""
    if not notifications:
        raise ValueError("nothing to render: the batch is empty")
    ordered = sorted(notifications, key=lambda n: (-n.severity, n.occurred_at))
    listed = []
    for notification in ordered[:MAX_LISTED]:
        wire = to_wire(notification)
        wire["where"] = _where(wire["resource"])  # type: ignore[arg-type]
        listed.append(_escaped(wire, escape) if escape else wire)
    return {
        "notifications": listed,
        "count": len(notifications),
        "more": len(notifications) - len(listed),
        "n": listed[0],
    }


def _escaped(value: Any, escape: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [_escaped(item, escape) for item in value]
    if isinstance(value, dict):
        return {key: _escaped(item, escape) for key, item in value.items()}
    return value


def render_compiled(template: jinja2.Template, name: str, variables: Mapping[str, Any]) -> str:
    """Run a compiled template within the budgets; output cut at the limit of ``name``."""
    limit = LIMITS[name]
    token = _BUDGET.set(_Budget(MAX_STEPS, time.monotonic() + MAX_SECONDS))
    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate(variables):
            out.append(chunk)
            size += len(chunk)
            if size > limit:
                text = "".join(out)
                return text[: limit - len(TRUNCATED)] + TRUNCATED
    except TemplateProblem as problem:
        raise TemplateProblem(problem.message, problem.line or _line(problem)) from None
    except SecurityError as error:
        raise TemplateProblem(f"not allowed: {error}", _line(error)) from None
    except RecursionError as error:
        raise TemplateProblem("template recurses too deeply", _line(error)) from None
    except Exception as error:
        raise TemplateProblem(f"{type(error).__name__}: {error}", _line(error)) from None
    finally:
        _BUDGET.reset(token)
    return "".join(out)


def one_line(text: str, limit: int) -> str:
    """Whitespace runs (newlines included) as one space, stripped, clipped to ``limit``."""
    return clip(" ".join(text.split()), limit)


DEFAULT_TEMPLATES: Mapping[str, str] = {
    "subject": (
        "[Seawall] {{ n.severity|upper }}: {{ n.title }}"
        "{% if count > 1 %} (and {{ count - 1 }} more){% endif %}"
    ),
    "text": """\
{% for x in notifications %}
[{{ x.severity|upper }}] {{ x.title }}
{{ x.summary }}
Resource: {{ x.resource.type }} {{ x.resource.name }}{% if x.where %} ({{ x.where }}){% endif %}

{% for label, value in x.facts %}
{{ label }}: {{ value }}
{% endfor %}
Occurred: {{ x.occurred_at }}
{% if x.url %}
Details: {{ x.url }}
{% endif %}

{% endfor %}
{% if more %}
... and {{ more }} more.
{% endif %}
""",
    "html": """\
<!DOCTYPE html>
<html><body style="font-family: sans-serif">
{% for x in notifications %}
<h3>[{{ x.severity|upper }}] {{ x.title }}</h3>
<p>{{ x.summary }}</p>
<table>
<tr><th align="left">Resource</th><td>{{ x.resource.type }} {{ x.resource.name }}</td></tr>
{% if x.where %}
<tr><th align="left">Where</th><td>{{ x.where }}</td></tr>
{% endif %}
{% for label, value in x.facts %}
<tr><th align="left">{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}
<tr><th align="left">Occurred</th><td>{{ x.occurred_at }}</td></tr>
</table>
{% if x.url %}
<p><a href="{{ x.url }}">Details</a></p>
{% endif %}
{% endfor %}
{% if more %}
<p>... and {{ more }} more.</p>
{% endif %}
</body></html>
""",
    "slack": """\
{% for x in notifications %}
*[{{ x.severity|upper }}] {{ x.title }}*
{{ x.summary }}
_{{ x.resource.type }} {{ x.resource.name }}{% if x.where %} ({{ x.where }}){% endif %}_
{% endfor %}
{% if more %}
... and {{ more }} more.
{% endif %}
""",
    "teams": """\
{% for x in notifications %}
**[{{ x.severity|upper }}] {{ x.title }}**

{{ x.summary }}

_{{ x.resource.type }} {{ x.resource.name }}{% if x.where %} ({{ x.where }}){% endif %}_

{% endfor %}
{% if more %}
... and {{ more }} more.
{% endif %}
""",
    "syslog": (
        "{{ n.severity|upper }} {{ n.kind }}: {{ n.title }}"
        " resource={{ n.resource.type }}:{{ n.resource.name }}"
        "{% if n.where %} ({{ n.where }}){% endif %}"
        "{% if n.url %} url={{ n.url }}{% endif %}"
    ),
}


def _sample() -> list[Notification]:
    """Two notifications with every field set: what a template is tried on."""
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    resource = Resource(
        type="image",
        name="registry.example/shop/web:1.2",
        registry="registry.example",
        repository="shop/web",
        cluster="prod",
        namespace="shop",
        host="node-1",
    )
    first = Notification(
        kind="new_critical_finding",
        severity=Severity.CRITICAL,
        title="CVE-2024-0001 in openssl 3.0.1",
        summary="A critical vulnerability with a fix available.",
        resource=resource,
        occurred_at=when,
        dedupe_key="finding:sample",
        url="https://seawall.example/findings/1",
        facts=(("Package", "openssl 3.0.1"), ("Fixed in", "3.0.2")),
    )
    return [first, msgspec.structs.replace(first, kind="runtime_alert", severity=Severity.LOW)]


def validate_template(text: str, name: str = "text") -> None:
    """Refuse a template for ``name`` (one of ``NAMES``) that does not parse, uses what the
    sandbox forbids, names an unknown variable, or breaks a bound on sample notifications;
    TemplateProblem says why, with the line number when known."""
    text = render_compiled(compile_template(text, name), name, context(_sample()))
    if text.endswith(TRUNCATED):
        raise TemplateProblem(
            f"template output is over {LIMITS[name]} characters for two notifications"
        )


class Templates:
    """The templates of one channel: the defaults, with the user's replacements validated
    and compiled once."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        sources = dict(DEFAULT_TEMPLATES)
        for name, text in (overrides or {}).items():
            try:
                validate_template(text, name)
            except TemplateProblem as problem:
                message = f"template {name!r}: {problem.message}"
                raise TemplateProblem(message, problem.line) from None
            sources[name] = text
        self._compiled = {name: compile_template(text, name) for name, text in sources.items()}

    def render(
        self,
        name: str,
        notifications: Sequence[Notification],
        escape: Callable[[str], str] | None = None,
    ) -> str:
        """The text of template ``name`` for a batch; TemplateProblem if it breaks a bound."""
        text = render_compiled(self._compiled[name], name, context(notifications, escape))
        return one_line(text, LIMITS[name]) if name in _ONE_LINE else text

    def subject(self, notifications: Sequence[Notification]) -> str:
        """The e-mail subject of a batch: one line, at most 200 characters."""
        return self.render("subject", notifications)


_ONE_LINE = frozenset({"subject", "syslog"})
