"""Exchange rates for customer scoring, from the landing area's `currency_rates/` folder.

Each `.csv` file there has a header row `from_currency,to_currency,rate`: 1 from_currency =
rate to_currency. When the folder holds files, they replace `currency_rates` as a whole (in
the caller's transaction); with none, the table is left as it is, so rates written directly
into DuckDB stay in use. A bad file fails the run naming the file, line and field: a rate
silently skipped would put money in the wrong column, so nothing is half-applied.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from identity_pipeline.customers.config import currency_code

COLUMNS = ("from_currency", "to_currency", "rate")


class CurrencyRatesError(ValueError):
    """A rates file we cannot use; the message names file, line and field."""


@dataclass(frozen=True)
class Rate:
    from_currency: str
    to_currency: str
    rate: float
    source_file: str
    line: int


def read_rates(folder: Path) -> list[Rate]:
    """Every rate in folder/*.csv (sorted by name); CurrencyRatesError on anything unusable."""
    rates: list[Rate] = []
    seen: dict[tuple[str, str], Rate] = {}
    paths = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    for path in paths:
        name = path.name
        if name.startswith("."):
            continue  # a file still being written
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [c.strip().lower() for c in reader.fieldnames or []]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise CurrencyRatesError(
                    f"currency_rates/{name}: header lacks {', '.join(missing)} "
                    f"(expected {','.join(COLUMNS)})"
                )
            reader.fieldnames = header
            for row in reader:
                line = reader.line_num
                where = f"currency_rates/{name} line {line}"
                source = currency_code(row["from_currency"] or "", f"{where} from_currency")
                target = currency_code(row["to_currency"] or "", f"{where} to_currency")
                try:
                    rate = float((row["rate"] or "").strip())
                except ValueError:
                    raise CurrencyRatesError(f"{where} rate: not a number") from None
                if not math.isfinite(rate) or rate <= 0:
                    raise CurrencyRatesError(f"{where} rate: must be a positive number")
                if source == target:
                    raise CurrencyRatesError(f"{where}: from_currency equals to_currency")
                item = Rate(source, target, rate, name, line)
                earlier = seen.get((source, target))
                if earlier is not None:
                    raise CurrencyRatesError(
                        f"{where}: {source}->{target} is also given in "
                        f"currency_rates/{earlier.source_file} line {earlier.line}"
                    )
                seen[(source, target)] = item
                rates.append(item)
    return rates


def replace_rates(con: duckdb.DuckDBPyConnection, rates: list[Rate], loaded_at: datetime) -> None:
    """Replace currency_rates with `rates` (the caller holds the transaction)."""
    con.execute("DELETE FROM currency_rates")
    if rates:
        con.executemany(
            "INSERT INTO currency_rates "
            "(from_currency, to_currency, rate, source_file, loaded_at) VALUES (?, ?, ?, ?, ?)",
            [(r.from_currency, r.to_currency, r.rate, r.source_file, loaded_at) for r in rates],
        )
