"""Charts for metadata: real PNGs of the promised size that change with the numbers."""

import struct
from datetime import date, timedelta

import pytest

from identity_pipeline.reporting.charts import (
    DPI,
    OTHERS,
    PNG_SIGNATURE,
    WIDTH_INCHES,
    image_of,
    mapping_status_markdown,
    markdown_image,
    stacked_daily_bars,
    status_bars,
    status_markdown,
    top_series,
)

DAYS = [date(2025, 3, 1) + timedelta(days=i) for i in range(14)]


def size_of(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR is the first chunk)."""
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_stacked_bars_are_a_png_that_fits_the_metadata_column() -> None:
    series = {f"cmp-{i:02d}": [float(i + d) for d in range(14)] for i in range(9)}
    png = stacked_daily_bars(DAYS, series, title="value", unit="USD")
    width, height = size_of(png)
    assert width == round(WIDTH_INCHES * DPI)  # 448 px
    assert 150 < height < 300
    assert len(png) < 40_000  # small enough to live in the event log
    # Same numbers, same bytes; other numbers, another picture.
    assert stacked_daily_bars(DAYS, series, title="value", unit="USD") == png
    changed = {**series, "cmp-00": [100.0] * 14}
    assert stacked_daily_bars(DAYS, changed, title="value", unit="USD") != png


def test_stacked_bars_need_one_value_per_day() -> None:
    with pytest.raises(ValueError, match="cmp-1"):
        stacked_daily_bars(DAYS, {"cmp-1": [1.0]}, title="t", unit="USD")


def test_small_campaigns_are_drawn_together() -> None:
    series = {"a": [1.0, 1.0], "b": [5.0, 0.0], "c": [0.0, 2.0], "d": [3.0, 3.0]}
    assert top_series(series, 2) == {"d": [3.0, 3.0], "b": [5.0, 0.0], OTHERS: [1.0, 3.0]}
    assert top_series(series, 4) == {
        "d": [3.0, 3.0],
        "b": [5.0, 0.0],
        "a": [1.0, 1.0],
        "c": [0.0, 2.0],
    }
    drawn = stacked_daily_bars(DAYS[:2], series, title="t", unit="USD", top=2)
    assert drawn != stacked_daily_bars(DAYS[:2], series, title="t", unit="USD", top=4)


def test_empty_days_still_draw() -> None:
    assert size_of(stacked_daily_bars(DAYS, {}, title="t", unit="USD"))[0] == 448


def test_status_bars_and_markdown_round_trip() -> None:
    counts = {"mapped": 2111, "opted out": 42, "invalid": 3, "still due": 0}
    png = status_bars(counts, title="UID2")
    assert size_of(png)[0] == 448
    assert status_bars({**counts, "invalid": 300}, title="UID2") != png
    text = status_markdown(counts, title="UID2")
    assert text.startswith("![UID2](data:image/png;base64,")
    assert image_of(text) == png


def test_markdown_image_refuses_what_is_not_a_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        markdown_image(b"GIF89a", "x")
    with pytest.raises(ValueError, match="no embedded PNG"):
        image_of("just text")


def test_mapping_status_chart_names_each_status() -> None:
    by_status = {"mapped": 10, "optout": 2, "error": 1}
    assert mapping_status_markdown(by_status, 3, failed="error", title="ID5") == status_markdown(
        {"mapped": 10, "opted out": 2, "error": 1, "still due": 3}, title="ID5"
    )
    # A status nobody has yet is drawn as 0; a negative remainder is no remainder.
    assert mapping_status_markdown({}, -1, failed="invalid", title="UID2") == status_markdown(
        {"mapped": 0, "opted out": 0, "invalid": 0, "still due": 0}, title="UID2"
    )
