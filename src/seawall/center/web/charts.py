"""The dashboard's charts, drawn on the server as SVG: no JavaScript, no chart library.

Each function returns markup that is safe to put in a page as it is: every text it carries
(labels, titles) is escaped here, numbers are formatted here, and colours come from CSS
classes (``sev-critical``, ``state-healthy``, ...) so that light and dark themes apply. The
charts scale to their container (``viewBox`` with ``width="100%"``) and say what they show
to screen readers (``role="img"`` with a label, ``<title>`` on each mark).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

SEVERITIES = ("critical", "high", "medium", "low", "unknown")


def _n(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _svg(
    width: int, height: int, label: str, body: list[str], extra_class: str = "", fit: str = "meet"
) -> Markup:
    classes = f"chart {extra_class}".strip()
    aspect = "none" if fit == "stretch" else "xMidYMid meet"
    # every text in ``body`` was escaped where it was written; numbers are formatted here
    return Markup(  # noqa: S704
        f'<svg class="{classes}" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="{aspect}" role="img" aria-label="{escape(label)}" '
        f'focusable="false" xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>"
    )


def score_ring(percent: float, size: int = 140) -> Markup:
    """The secure score as a ring filled to ``percent``, the number in its middle."""
    percent = max(0.0, min(100.0, percent))
    radius = size / 2 - 10
    circumference = 2 * 3.141592653589793 * radius
    filled = circumference * percent / 100
    level = "good" if percent >= 70 else "fair" if percent >= 40 else "poor"
    centre = size / 2
    body = [
        f'<circle class="ring-track" cx="{_n(centre)}" cy="{_n(centre)}" r="{_n(radius)}" '
        'fill="none" stroke-width="12"/>',
        f'<circle class="ring-value ring-{level}" cx="{_n(centre)}" cy="{_n(centre)}" '
        f'r="{_n(radius)}" fill="none" stroke-width="12" stroke-linecap="round" '
        f'stroke-dasharray="{_n(filled)} {_n(circumference)}" '
        f'transform="rotate(-90 {_n(centre)} {_n(centre)})"/>',
        f'<text class="ring-text" x="{_n(centre)}" y="{_n(centre + 9)}" text-anchor="middle">'
        f"{_n(percent)}%</text>",
    ]
    return _svg(size, size, f"Secure score {_n(percent)} percent", body, "ring")


def trend(points: Sequence[tuple[str, float]], label: str = "Secure score trend") -> Markup:
    """A line of ``(day, percent)`` points on a 0-100 scale (days oldest first)."""
    width, height = 600, 170
    left, right, top, bottom = 34, 12, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    body = []
    for value in (0, 50, 100):
        y = top + plot_h * (1 - value / 100)
        body.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{_n(y)}" y2="{_n(y)}"/>'
            f'<text class="axis" x="{left - 6}" y="{_n(y + 4)}" text-anchor="end">{value}%</text>'
        )
    if not points:
        body.append(
            f'<text class="empty" x="{width / 2:.0f}" y="{height / 2:.0f}" '
            'text-anchor="middle">No score recorded yet</text>'
        )
        return _svg(width, height, f"{label}: no data yet", body, "trend")
    step = plot_w / max(1, len(points) - 1)
    xy = []
    for index, (_, percent) in enumerate(points):
        x = left + (index * step if len(points) > 1 else plot_w / 2)
        y = top + plot_h * (1 - max(0.0, min(100.0, percent)) / 100)
        xy.append((x, y))
    line = " ".join(f"{_n(x)},{_n(y)}" for x, y in xy)
    base = top + plot_h
    if len(xy) > 1:
        area = f"{_n(xy[0][0])},{_n(base)} {line} {_n(xy[-1][0])},{_n(base)}"
        body.append(f'<polygon class="trend-area" points="{area}"/>')
        body.append(f'<polyline class="trend-line" fill="none" points="{line}"/>')
    for (x, y), (day, percent) in zip(xy, points, strict=True):
        body.append(
            f'<circle class="trend-dot" cx="{_n(x)}" cy="{_n(y)}" r="3.5">'
            f"<title>{escape(day)}: {_n(percent)}%</title></circle>"
        )
    first, last = points[0][0], points[-1][0]
    body.append(
        f'<text class="axis" x="{left}" y="{height - 6}">{escape(first)}</text>'
        f'<text class="axis" x="{width - right}" y="{height - 6}" text-anchor="end">'
        f"{escape(last)}</text>"
    )
    summary = f"{label}: {_n(points[0][1])}% on {first}, {_n(points[-1][1])}% on {last}"
    return _svg(width, height, summary, body, "trend")


def stacked_days(
    days: Mapping[str, Mapping[str, int]], label: str = "Alerts by severity per day"
) -> Markup:
    """One bar per day, stacked by severity (``{day: {severity: count}}``, oldest first)."""
    width, height = 600, 190
    left, right, top, bottom = 34, 8, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(v.values()) for v in days.values()]
    peak = max(totals, default=0)
    scale_top = _nice(peak)
    body = []
    for value in (0, scale_top // 2, scale_top) if scale_top else (0,):
        y = top + plot_h * (1 - (value / scale_top if scale_top else 0))
        body.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{_n(y)}" y2="{_n(y)}"/>'
            f'<text class="axis" x="{left - 6}" y="{_n(y + 4)}" text-anchor="end">{value}</text>'
        )
    count = max(1, len(days))
    slot = plot_w / count
    bar = max(2.0, slot * 0.62)
    for index, (day, by_severity) in enumerate(days.items()):
        x = left + index * slot + (slot - bar) / 2
        y = top + plot_h
        for severity in SEVERITIES:
            value = by_severity.get(severity, 0)
            if not value or not scale_top:
                continue
            h = plot_h * value / scale_top
            y -= h
            body.append(
                f'<rect class="sev-{severity}" x="{_n(x)}" y="{_n(y)}" width="{_n(bar)}" '
                f'height="{_n(h)}" rx="1.5"><title>{escape(day)}: {value} {severity}</title></rect>'
            )
        if index % max(1, count // 7) == 0 or index == count - 1:
            body.append(
                f'<text class="axis" x="{_n(x + bar / 2)}" y="{height - 8}" '
                f'text-anchor="middle">{escape(day[5:])}</text>'
            )
    total = sum(totals)
    if not total:
        body.append(
            f'<text class="empty" x="{width / 2:.0f}" y="{height / 2:.0f}" '
            'text-anchor="middle">No alerts in this period</text>'
        )
    first = next(iter(days), "")
    return _svg(width, height, f"{label}: {total} alerts since {first}", body, "bars")


def _nice(peak: int) -> int:
    """A round even number at or above ``peak`` for the top of an axis (0 for no data)."""
    if peak <= 0:
        return 0
    magnitude = 1
    while True:
        for base in (2, 4, 10):
            if base * magnitude >= peak:
                return base * magnitude
        magnitude *= 10


def health_bar(healthy: int, unhealthy: int, unassessed: int, label: str) -> Markup:
    """A horizontal bar split into healthy, unhealthy and not assessed parts."""
    width, height = 300, 14
    total = healthy + unhealthy + unassessed
    body = [f'<rect class="bar-track" x="0" y="0" width="{width}" height="{height}" rx="7"/>']
    x = 0.0
    for name, value in (("unhealthy", unhealthy), ("healthy", healthy), ("none", unassessed)):
        if not value or not total:
            continue
        w = width * value / total
        body.append(
            f'<rect class="state-{name}" x="{_n(x)}" y="0" width="{_n(w)}" height="{height}">'
            f"<title>{value} {name.replace('none', 'not assessed')}</title></rect>"
        )
        x += w
    summary = f"{label}: {healthy} healthy, {unhealthy} unhealthy, {unassessed} not assessed"
    return _svg(width, height, summary, body, "hbar", "stretch")


def severity_bar(counts: Mapping[str, int], label: str) -> Markup:
    """A thin horizontal bar of counts by severity (open findings of one resource)."""
    width, height = 120, 8
    total = sum(counts.get(s, 0) for s in SEVERITIES)
    body = [f'<rect class="bar-track" x="0" y="0" width="{width}" height="{height}" rx="4"/>']
    x = 0.0
    for severity in SEVERITIES:
        value = counts.get(severity, 0)
        if not value or not total:
            continue
        w = width * value / total
        body.append(
            f'<rect class="sev-{severity}" x="{_n(x)}" y="0" width="{_n(w)}" height="{height}">'
            f"<title>{value} {severity}</title></rect>"
        )
        x += w
    parts = ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES if counts.get(s, 0))
    return _svg(width, height, f"{label}: {parts or 'nothing open'}", body, "sbar", "stretch")


def meter(value: float, maximum: float, label: str) -> Markup:
    """A progress bar of ``value`` out of ``maximum`` (a control's points)."""
    width, height = 200, 8
    share = value / maximum if maximum else 0.0
    level = "good" if share >= 0.7 else "fair" if share >= 0.4 else "poor"
    body = [
        f'<rect class="bar-track" x="0" y="0" width="{width}" height="{height}" rx="4"/>',
        f'<rect class="meter-{level}" x="0" y="0" width="{_n(width * share)}" height="{height}" '
        'rx="4"/>',
    ]
    summary = f"{label}: {_n(value)} of {_n(maximum)} points"
    return _svg(width, height, summary, body, "meter", "stretch")
