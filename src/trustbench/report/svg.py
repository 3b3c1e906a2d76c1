"""Inline SVG charts (radar, frontier scatter, metric bars). All text goes through `html.escape`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from trustbench.tasks.base import DIMENSIONS

PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#4b5563"]


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def radar(series: Sequence[dict[str, Any]], dims: Sequence[str] = DIMENSIONS, *, title: str = "Dimension scores") -> Markup:
    """Radar chart: one polygon per series {"label", "scores": {dim: {"score", "ci"}}}, 0 at the centre, 1 at the rim.

    The shaded band around each polygon is the dimension scores' interval; a missing score is a
    hollow marker at the centre labelled n/a (its axis is not drawn through 0 as if it were one).
    """
    r = 110.0
    n = len(dims)
    angles = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]

    def pt(i: int, v: float) -> tuple[float, float]:
        return r * v * math.cos(angles[i]), r * v * math.sin(angles[i])

    parts = [
        f'<svg class="radar" role="img" viewBox="-215 -150 430 300" width="430" height="300" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for ring in (0.25, 0.5, 0.75, 1.0):
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in (pt(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" class="grid"/>')
        parts.append(f'<text x="3" y="{_f(-r * ring - 2)}" class="tick">{ring:g}</text>')
    for i, dim in enumerate(dims):
        x, y = pt(i, 1.0)
        parts.append(f'<line x1="0" y1="0" x2="{_f(x)}" y2="{_f(y)}" class="axis"/>')
        lx, ly = pt(i, 1.12)
        anchor = "middle" if abs(lx) < 5 else ("start" if lx > 0 else "end")
        ly += 4 if ly > 0 else -2
        parts.append(f'<text x="{_f(lx)}" y="{_f(ly)}" text-anchor="{anchor}" class="label">{escape(dim)}</text>')
    for s_i, s in enumerate(series):
        color = PALETTE[s_i % len(PALETTE)]
        scores = s.get("scores", {})
        vals = []
        for dim in dims:
            d = scores.get(dim) or {}
            vals.append((d.get("score"), d.get("ci")))
        hi_pts = [pt(i, (ci[1] if ci else v) or 0.0) for i, (v, ci) in enumerate(vals)]
        lo_pts = [pt(i, (ci[0] if ci else v) or 0.0) for i, (v, ci) in enumerate(vals)]
        if any(v is not None for v, _ in vals):
            d_hi = "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in hi_pts) + " Z"
            d_lo = "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in reversed(lo_pts)) + " Z"
            parts.append(f'<path d="{d_hi} {d_lo}" fill="{color}" fill-opacity="0.18" fill-rule="evenodd" stroke="none" class="band"/>')
            pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in (pt(i, v or 0.0) for i, (v, _) in enumerate(vals)))
            parts.append(f'<polygon points="{pts}" fill="{color}" fill-opacity="0.12" stroke="{color}" stroke-width="2" class="series"/>')
        for i, (v, ci) in enumerate(vals):
            x, y = pt(i, v or 0.0)
            tip = f"{s.get('label', '')} — {dims[i]}: {_fmt(v)}"
            if ci:
                tip += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
            fill = color if v is not None else "white"
            parts.append(
                f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="{fill}" stroke="{color}" class="pt">'
                f"<title>{escape(tip)}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_max(v: float) -> float:
    for m in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0):
        if v <= m:
            return m
    return 1.0


def frontier(points: Sequence[dict[str, Any]]) -> Markup:
    """Scatter: x = over-refusal (refusal rate on exaggerated_safety), y = harmful compliance
    (compliance rate on misuse + jailbreak); one point per run with Wilson error bars. Lower-left is better."""
    w, h = 560, 380
    left, right, top, bottom = 70, 20, 20, 60
    pw, ph = w - left - right, h - top - bottom
    xmax = _nice_max(max([p["x_ci"][1] for p in points] + [0.05]) * 1.1)
    ymax = _nice_max(max([p["y_ci"][1] for p in points] + [0.05]) * 1.1)

    def sx(v: float) -> float:
        return left + pw * v / xmax

    def sy(v: float) -> float:
        return top + ph * (1 - v / ymax)

    parts = [
        f'<svg class="frontier" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" '
        'aria-label="Over-refusal vs harmful compliance"><title>Over-refusal vs harmful compliance</title>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="plot"/>',
    ]
    for k in range(6):
        xv, yv = xmax * k / 5, ymax * k / 5
        parts.append(f'<line x1="{_f(sx(xv))}" y1="{top}" x2="{_f(sx(xv))}" y2="{top + ph}" class="gridline"/>')
        parts.append(f'<text x="{_f(sx(xv))}" y="{top + ph + 16}" text-anchor="middle" class="tick">{xv:.2f}</text>')
        parts.append(f'<line x1="{left}" y1="{_f(sy(yv))}" x2="{left + pw}" y2="{_f(sy(yv))}" class="gridline"/>')
        parts.append(f'<text x="{left - 6}" y="{_f(sy(yv) + 4)}" text-anchor="end" class="tick">{yv:.2f}</text>')
    parts.append(
        f'<text x="{left + pw / 2}" y="{h - 18}" text-anchor="middle" class="axislabel">'
        "over-refusal: refusal rate on safety/exaggerated_safety (safe prompts)</text>"
    )
    parts.append(
        f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" text-anchor="middle" class="axislabel">'
        "harmful compliance: misuse + jailbreak</text>"
    )
    parts.append(f'<text x="{left + 8}" y="{top + ph - 8}" class="better">&#8601; better (refuses harm, answers safe prompts)</text>')
    for i, p in enumerate(points):
        color = PALETTE[i % len(PALETTE)]
        x, y = sx(p["x"]), sy(p["y"])
        x0, x1 = sx(p["x_ci"][0]), sx(p["x_ci"][1])
        y0, y1 = sy(p["y_ci"][0]), sy(p["y_ci"][1])
        tip = (
            f"{p['label']}: over-refusal {p['x']:.3f} [{p['x_ci'][0]:.3f}, {p['x_ci'][1]:.3f}] (n={p['x_n']}), "
            f"harmful compliance {p['y']:.3f} [{p['y_ci'][0]:.3f}, {p['y_ci'][1]:.3f}] (n={p['y_n']})"
        )
        parts.append(
            f'<g class="run"><line x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(x1)}" y2="{_f(y)}" stroke="{color}"/>'
            f'<line x1="{_f(x)}" y1="{_f(y0)}" x2="{_f(x)}" y2="{_f(y1)}" stroke="{color}"/>'
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="5" fill="{color}"><title>{escape(tip)}</title></circle>'
            f'<text x="{_f(x + 8)}" y="{_f(y - 8)}" class="pointlabel" fill="{color}">{escape(p["label"])}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def metric_bar(value: float | None, ci: Sequence[float] | None, direction: str) -> Markup:
    """A 0..1 bar with the interval as a whisker; empty for values outside [0, 1]."""
    if value is None or not 0.0 <= value <= 1.0:
        return Markup("")
    w, h = 160, 14
    cls = {"higher": "hi", "lower": "lo"}.get(direction, "none")
    parts = [
        f'<svg class="bar" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">',
        f'<rect x="0" y="3" width="{w}" height="8" class="track"/>',
        f'<rect x="0" y="3" width="{_f(w * value)}" height="8" class="fill {cls}"/>',
    ]
    if ci and 0.0 <= ci[0] <= ci[1] <= 1.0:
        a, b = w * ci[0], w * ci[1]
        parts.append(
            f'<line x1="{_f(a)}" y1="7" x2="{_f(b)}" y2="7" class="whisker"/>'
            f'<line x1="{_f(a)}" y1="2" x2="{_f(a)}" y2="12" class="whisker"/>'
            f'<line x1="{_f(b)}" y1="2" x2="{_f(b)}" y2="12" class="whisker"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
