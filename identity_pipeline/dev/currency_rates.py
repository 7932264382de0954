"""Sample exchange rates for the demo: the currencies the event generator writes (USD, GBP,
EUR), as a rates file in the landing area's currency_rates/ folder (customers/rates.py reads
it). Fixed illustrative figures, not market data: a real deployment lands its own rates."""

from __future__ import annotations

from pathlib import Path

SAMPLE_RATES = (("EUR", "USD", 1.08), ("GBP", "USD", 1.27))
"""1 from_currency = rate to_currency."""

FILE_NAME = "sample_rates.csv"


def write_sample_rates(landing: Path) -> Path:
    """landing/currency_rates/sample_rates.csv with SAMPLE_RATES; returns its path."""
    lines = ["from_currency,to_currency,rate", *(f"{a},{b},{r}" for a, b, r in SAMPLE_RATES)]
    path = landing / "currency_rates" / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")  # readers never see half a file
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)
    return path
