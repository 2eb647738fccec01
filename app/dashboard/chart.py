"""A dyad's risk over time as a self-contained SVG: drawn on the server, so the page needs no chart library."""

from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape

W, H = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 56  # the plot area's margins; events sit in the bottom band
LEVEL_COLOURS = {"low": "#4c9a2a", "elevated": "#d4a017", "high": "#e06c00", "critical": "#c0162c"}


@dataclass(frozen=True, slots=True)
class Point:
    on: date
    probability: float
    level: str
    stored: bool = True  # an assessment made when an event arrived (a dot); else a date sampled between them


@dataclass(frozen=True, slots=True)
class Mark:
    on: date
    label: str  # shown as the mark's tooltip
    hostility: int  # 1 (none) .. 5 (war): the mark's height


def _ticks(start: date, end: date) -> list[date]:
    """Month starts, thinned to at most eight ticks."""
    months = []
    d = date(start.year, start.month, 1)
    while d <= end:
        if d >= start:
            months.append(d)
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    step = max(1, -(-len(months) // 8))
    return months[::step] or [start]


def render(points: list[Point], marks: list[Mark], thresholds: dict[str, float | None], title: str) -> str:
    """Probability (0 to the highest value or threshold shown) against date, level cut-offs dashed, events below."""
    days = [p.on for p in points] + [m.on for m in marks]
    if not days:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} 60" role="img">'
                f'<title>{escape(title)}</title><text x="8" y="30">no assessments yet</text></svg>')
    start, end = min(days), max(days)
    if end - start < timedelta(days=30):
        end = start + timedelta(days=30)
    cuts = {k: v for k, v in thresholds.items() if v is not None}
    top = min(1.0, max([p.probability for p in points] + [0.05]) * 1.15)  # thresholds above it are left out
    span = (end - start).days or 1
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(d: date) -> float:
        return LEFT + (d - start).days / span * plot_w

    def y(p: float) -> float:
        return TOP + (1 - p / top) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="chart" '
           f'font-family="system-ui, sans-serif" font-size="11"><title>{escape(title)}</title>',
           f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>']
    for i in range(5):
        p = top * i / 4
        out.append(f'<text x="{LEFT - 6}" y="{y(p) + 4:.1f}" text-anchor="end" fill="#555">{p:.0%}</text>')
    for n, (name, cut) in enumerate(sorted(cuts.items(), key=lambda kv: kv[1])):
        if cut <= top:
            colour = LEVEL_COLOURS.get(name, "#888")
            # Cut-offs can sit close together: their labels alternate sides so they stay readable.
            label_x, anchor = (W - RIGHT - 4, "end") if n % 2 else (LEFT + 4, "start")
            out.append(f'<line class="threshold" x1="{LEFT}" x2="{W - RIGHT}" y1="{y(cut):.1f}" y2="{y(cut):.1f}" '
                       f'stroke="{colour}" stroke-dasharray="4 3"/><text x="{label_x}" y="{y(cut) - 3:.1f}" '
                       f'text-anchor="{anchor}" fill="{colour}">{escape(name)} ≥ {cut:.1%}</text>')
    for tick in _ticks(start, end):
        out.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}" '
                   f'stroke="#999"/><text x="{x(tick):.1f}" y="{H - 4}" text-anchor="middle" fill="#555">'
                   f'{tick:%b %Y}</text>')
    if points:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(p.on):.1f},{y(p.probability):.1f}" for i, p in enumerate(points))
        out.append(f'<path class="risk" d="{path}" fill="none" stroke="#1f4e8c" stroke-width="2"/>')
        for p in (p for p in points if p.stored):
            out.append(f'<circle class="point" cx="{x(p.on):.1f}" cy="{y(p.probability):.1f}" r="3.5" '
                       f'fill="{LEVEL_COLOURS.get(p.level, "#1f4e8c")}"><title>{p.on}: {p.probability:.1%} '
                       f'({escape(p.level)})</title></circle>')
    band = TOP + plot_h + 18
    for m in marks:
        height = 3 + 3 * m.hostility
        out.append(f'<rect class="event" x="{x(m.on) - 2:.1f}" y="{band - height / 2:.1f}" width="4" '
                   f'height="{height}" fill="#6b4fa0"><title>{m.on}: {escape(m.label)}</title></rect>')
    out.append(f'<text x="4" y="{band + 4}" fill="#6b4fa0">events</text></svg>')
    return "".join(out)
