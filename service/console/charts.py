"""Server-drawn SVG charts: bars, a heat map, a Sankey diagram. No script and no inline style
(the console's CSP forbids both): presentation attributes only. Every chart has a title and a
description for screen readers, and the page shows its numbers beside it in a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from markupsafe import Markup

# Okabe-Ito: told apart with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000", "#999999", "#7F3C8D")
INK = "#1f2933"
FONT = 'font-family="system-ui, sans-serif"'


def _svg(width: int, height: int, title: str, desc: str, body: list[str], ident: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" class="chart" '
            f'aria-labelledby="{ident}-t {ident}-d" {FONT} font-size="13">'
            f'<title id="{ident}-t">{escape(title)}</title>'
            f'<desc id="{ident}-d">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, content: str, anchor: str = "start", fill: str = INK,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}" dominant-baseline="middle">{escape(content)}</text>')


@dataclass(frozen=True)
class Series:
    name: str
    color: str


def stacked_bars(ident: str, title: str, rows: Sequence[tuple[str, Sequence[int]]],
                 series: Sequence[Series], width: int = 640) -> Markup:
    """Horizontal bars, one per row, stacked by series, with the row's total at its end."""
    legend = len(series) > 1  # one series is named by the chart's heading
    bar, gap, left, right, top = 18, 8, 48, 64, 34 if legend else 6
    height = top + max(1, len(rows)) * (bar + gap) + 10
    most = max((sum(values) for _, values in rows), default=0) or 1
    scale = (width - left - right) / most
    body: list[str] = []
    x: float = left
    for item in series if legend else ():
        body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{item.color}"/>')
        body.append(_text(x + 16, 12, item.name))
        x += 24 + 7.5 * len(item.name)
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar + gap)
        body.append(_text(left - 8, y + bar / 2, label, "end"))
        x = left
        for value, item in zip(values, series, strict=True):
            if value:
                w = value * scale
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                            f'fill="{item.color}"><title>{escape(label)}, {escape(item.name)}: '
                            f'{value}</title></rect>')
                x += w
        body.append(_text(x + 6, y + bar / 2, f"{sum(values):,}"))
    if not rows:
        body.append(_text(left, top + bar / 2, "nothing in this period"))
    desc = "; ".join(f"{label}: {sum(values)}" for label, values in rows) or "no data"
    return _svg(width, height, title, desc, body, ident)


def _blend(share: float) -> str:
    """White to dark blue; `share` from 0 to 1."""
    low, high = (247, 251, 255), (8, 48, 107)
    r, g, b = (round(a + (c - a) * share) for a, c in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_map(ident: str, title: str, row_labels: Sequence[str], column_labels: Sequence[str],
             cells: Sequence[Sequence[int]], row_axis: str, column_axis: str) -> Markup:
    """A matrix of counts, darker for more, each cell labelled with its count."""
    cell, left, top = 46, 150, 70
    width = left + cell * len(column_labels) + 20
    height = top + cell * len(row_labels) + 20
    most = max((max(row, default=0) for row in cells), default=0) or 1
    body = [_text(left + cell * len(column_labels) / 2, 14, column_axis, "middle", weight="bold"),
            _text(10, top - 14, row_axis, weight="bold")]
    for j, label in enumerate(column_labels):
        body.append(_text(left + j * cell + cell / 2, top - 14, label, "middle"))
    for i, label in enumerate(row_labels):
        y = top + i * cell
        body.append(_text(left - 8, y + cell / 2, label, "end"))
        for j, value in enumerate(cells[i]):
            share = value / most
            x = left + j * cell
            body.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                        f'fill="{_blend(share)}" stroke="#d0d7de"><title>{escape(label)} → '
                        f'{escape(column_labels[j])}: {value}</title></rect>')
            ink = "#ffffff" if share > 0.5 else INK
            body.append(_text(x + cell / 2 - 1, y + cell / 2, f"{value:,}", "middle", ink))
    desc = f"{row_axis} by {column_axis}; largest cell {most}"
    return _svg(width, height, title, desc, body, ident)


def sankey(ident: str, title: str, flows: Sequence[tuple[str, str, int]], width: int = 760
           ) -> Markup:
    """Origins on the left, destinations on the right, bands as wide as the counts."""
    origins = _totals(flows, 0)
    destinations = _totals(flows, 1)
    gap, top, node_w, left, right = 10, 30, 14, 70, 70
    inner = max(220, 24 * max(len(origins), len(destinations)))
    total = sum(count for _, _, count in flows) or 1
    scale = (inner - gap * (max(len(origins), len(destinations)) - 1)) / total
    height = top + inner + 20
    x0, x1 = left, width - right - node_w
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(origins)}
    y_out = _stack(origins, scale, gap, top)
    y_in = _stack(destinations, scale, gap, top)
    body = [_text(x0, 12, "registered in", weight="bold"),
            _text(x1 + node_w, 12, "turned up in", "end", weight="bold")]
    out_at = dict(y_out)
    in_at = dict(y_in)
    for origin, destination, count in sorted(flows, key=lambda f: (list(origins).index(f[0]),
                                                                    list(destinations).index(f[1]))):
        w = count * scale
        a, b = out_at[origin], in_at[destination]
        start, mid = x0 + node_w, (x0 + node_w + x1) / 2
        path = (f"M{start},{a:.1f} C{mid},{a:.1f} {mid},{b:.1f} {x1},{b:.1f} "
                f"L{x1},{b + w:.1f} C{mid},{b + w:.1f} {mid},{a + w:.1f} {start},{a + w:.1f} Z")
        body.append(f'<path d="{path}" fill="{colors[origin]}" fill-opacity="0.45">'
                    f'<title>{escape(origin)} → {escape(destination)}: {count}</title></path>')
        out_at[origin] += w
        in_at[destination] += w
    for name, y in y_out.items():
        h = origins[name] * scale
        body.append(f'<rect x="{x0}" y="{y:.1f}" width="{node_w}" height="{max(h, 1):.1f}" '
                    f'fill="{colors[name]}"/>')
        body.append(_text(x0 - 6, y + h / 2, f"{name} {origins[name]:,}", "end"))
    for name, y in y_in.items():
        h = destinations[name] * scale
        body.append(f'<rect x="{x1}" y="{y:.1f}" width="{node_w}" height="{max(h, 1):.1f}" '
                    f'fill="#52606d"/>')
        body.append(_text(x1 + node_w + 6, y + h / 2, f"{name} {destinations[name]:,}"))
    if not flows:
        body.append(_text(width / 2, top + 40, "no hits between Member States", "middle"))
    desc = "; ".join(f"{a} to {b}: {n}" for a, b, n in flows) or "no flows"
    return _svg(width, height, title, desc, body, ident)


def _totals(flows: Sequence[tuple[str, str, int]], side: int) -> dict[str, int]:
    totals: dict[str, int] = {}
    for flow in flows:
        name = flow[side]
        assert isinstance(name, str)
        totals[name] = totals.get(name, 0) + flow[2]
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def _stack(totals: dict[str, int], scale: float, gap: float, top: float) -> dict[str, float]:
    positions: dict[str, float] = {}
    y = top
    for name, total in totals.items():
        positions[name] = y
        y += total * scale + gap
    return positions


__all__ = ["PALETTE", "Series", "heat_map", "sankey", "stacked_bars"]
