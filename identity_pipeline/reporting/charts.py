"""Small charts for asset metadata, rendered to PNG and embedded in Markdown.

The Dagster UI renders Markdown metadata, including images given as `data:` URIs, which is
how Dagster's docs attach plots to a materialization. Charts take plain numbers (no SQL, no
DuckDB) and return PNG bytes; `markdown_image` wraps them for `MetadataValue.md`.

matplotlib is imported when a chart is drawn, not when the definitions load, and draws through
its Agg backend on a bare `Figure` (no pyplot, no display, no global state), so it works in a
code server, a daemon or a test alike.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH_INCHES, DPI = 5.6, 80  # 448 px wide: fits the metadata column of the asset page
OTHERS = "other campaigns"
STATUS_COLORS = {
    "mapped": "#2e7d32",
    "opted out": "#6d4c41",
    "invalid": "#c62828",
    "error": "#c62828",
    "still due": "#f9a825",
}


def _figure(height_inches: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_INCHES, height_inches), dpi=DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No Software/date chunks: the same numbers give the same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def markdown_image(png: bytes, alt: str) -> str:
    """Markdown showing `png` inline (a base64 data URI, as Dagster's docs do for plots)."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG image")
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def image_of(markdown: str) -> bytes:
    """The PNG bytes a `markdown_image` holds (the first, if several); ValueError if none."""
    marker = "](data:image/png;base64,"
    if marker not in markdown:
        raise ValueError("no embedded PNG image")
    encoded = markdown.split(marker, 1)[1].split(")", 1)[0]
    return base64.b64decode(encoded, validate=True)


def top_series(series: Mapping[str, Sequence[float]], top: int) -> dict[str, list[float]]:
    """The `top` series with the largest totals (largest first, ties by name), then the rest
    summed position by position as "other campaigns"."""
    ranked = sorted(series, key=lambda name: (-sum(series[name]), name))
    shown = {name: list(series[name]) for name in ranked[:top]}
    rest = ranked[top:]
    if rest:
        length = len(series[rest[0]])
        shown[OTHERS] = [sum(series[name][i] for name in rest) for i in range(length)]
    return shown


def stacked_daily_bars(
    days: Sequence[date],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    unit: str,
    top: int = 6,
) -> bytes:
    """One bar per day, stacked by series (campaigns); the `top` largest series by total are
    drawn on their own, the rest together as "other campaigns"."""
    for name, values in series.items():
        if len(values) != len(days):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(days)} days")
    shown = top_series(series, top)
    figure = _figure(2.9)
    axes = figure.subplots()
    positions = list(range(len(days)))
    bottom = [0.0] * len(days)
    for name, values in shown.items():
        color = "#bdbdbd" if name == OTHERS else None
        axes.bar(positions, values, bottom=bottom, label=name, width=0.8, color=color)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title(title, fontsize=10)
    axes.set_ylabel(unit, fontsize=8)
    step = max(1, len(days) // 7)
    axes.set_xticks(positions[::step], [d.strftime("%m-%d") for d in days[::step]], fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    if shown:
        axes.legend(fontsize=6, frameon=False, loc="upper left", ncols=3)
        axes.set_ylim(0, max(bottom, default=0) * 1.35 or 1)
    else:
        axes.text(
            0.5, 0.5, "no attributed value in these days", ha="center", transform=axes.transAxes
        )
    return _png(figure)


def status_bars(counts: Mapping[str, int], *, title: str) -> bytes:
    """Horizontal bars, one per status (in the given order), each labelled with its count."""
    figure = _figure(0.45 + 0.3 * max(len(counts), 1))
    axes = figure.subplots()
    labels = list(counts)
    values = [counts[label] for label in labels]
    colors = [STATUS_COLORS.get(label, "#1565c0") for label in labels]
    positions = list(range(len(labels)))
    axes.barh(positions, values, color=colors, height=0.6)
    axes.set_yticks(positions, labels, fontsize=8)
    axes.invert_yaxis()  # first status on top
    largest = max(values, default=0)
    for position, value in zip(positions, values, strict=True):
        axes.text(value + largest * 0.01, position, f"{value:,}", va="center", fontsize=8)
    axes.set_xlim(0, largest * 1.15 or 1)
    axes.set_xticks([])
    axes.spines[["top", "right", "bottom"]].set_visible(False)
    axes.set_title(title, fontsize=10, loc="left")
    return _png(figure)


def status_markdown(counts: Mapping[str, int], *, title: str) -> str:
    """`status_bars` as Markdown for MetadataValue.md."""
    return markdown_image(status_bars(counts, title=title), title)


def mapping_status_markdown(
    by_status: Mapping[str, int], still_due: int, *, failed: str, title: str
) -> str:
    """The status chart of a mapping table (UID2 or ID5): mapped, opted out, `failed` (the
    table's status for identities the service refused: 'invalid' or 'error') and still due."""
    counts = {
        "mapped": int(by_status.get("mapped", 0)),
        "opted out": int(by_status.get("optout", 0)),
        failed: int(by_status.get(failed, 0)),
        "still due": max(still_due, 0),
    }
    return status_markdown(counts, title=title)
