"""Run settings of the scoring assets: Dagster run config first, then environment variables,
then the defaults below. Read when a run starts, never at import.

- as of: the moment the scores describe. Events after it are ignored and "days since" count
  up to it. Unset, it is the newest event in person_journal, so the same journal always
  gives the same scores (tests and reruns are deterministic; the wall clock is never used
  unless the journal is empty).
- reporting currency: every amount is converted into it with `currency_rates`.
- engagement actions: the journal actions counted as engagement events.
- segment thresholds: see select_customer_segments.sql.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from dagster import Config

from identity_pipeline.settings import env_fallback_field

ENV_AS_OF = "IDENTITY_PIPELINE_SCORING_AS_OF"
ENV_REPORTING_CURRENCY = "IDENTITY_PIPELINE_REPORTING_CURRENCY"
DEFAULT_REPORTING_CURRENCY = "USD"
ENV_ENGAGEMENT_ACTIONS = "IDENTITY_PIPELINE_ENGAGEMENT_ACTIONS"
DEFAULT_ENGAGEMENT_ACTIONS = ("page_view", "pageview", "product_view", "add_to_cart")
"""Seed 003's engagement actions (page_view, product_view, add_to_cart), plus `pageview`,
the spelling seed 003's request examples and our event generator use."""

ENV_HIGH_VALUE_MIN = "IDENTITY_PIPELINE_HIGH_VALUE_MIN"
DEFAULT_HIGH_VALUE_MIN = 1000.0
"""Seed 003: predicted_90d_value > 1000 is high value."""
ENV_LAPSED_AFTER_DAYS = "IDENTITY_PIPELINE_LAPSED_AFTER_DAYS"
DEFAULT_LAPSED_AFTER_DAYS = 90
ENV_ENGAGED_MIN_EVENTS = "IDENTITY_PIPELINE_ENGAGED_MIN_EVENTS"
DEFAULT_ENGAGED_MIN_EVENTS = 3
ENV_ENGAGED_WITHIN_DAYS = "IDENTITY_PIPELINE_ENGAGED_WITHIN_DAYS"
DEFAULT_ENGAGED_WITHIN_DAYS = 30

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def currency_code(value: str, where: str) -> str:
    """An ISO 4217 code (three letters, any case and spacing) upper-cased, or ValueError."""
    code = value.strip().upper()
    if not _CURRENCY.match(code):
        raise ValueError(f"{where}: {value!r} is not a three-letter ISO 4217 currency code")
    return code


def parse_as_of(value: str, where: str) -> datetime:
    """ISO 8601 date or timestamp as naive UTC; a bare date means the end of that day."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not an ISO 8601 date or timestamp") from None
    if len(text) == 10:  # YYYY-MM-DD: the whole day counts
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    if moment.tzinfo:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _env_number(name: str, default: float, *, integer: bool) -> float:
    text = (os.environ.get(name) or "").strip()
    if not text:
        return default
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"${name}={text!r} must be {kind}") from None
    if number < 0:
        raise ValueError(f"${name}={text!r} must not be negative")
    return number


class CustomerMetricsConfig(Config):
    """Run config of `customer_metrics` (unset fields fall back to the environment)."""

    as_of: str | None = env_fallback_field(
        "Score as of this ISO 8601 date/timestamp (UTC; a date means its end)",
        ENV_AS_OF,
        "the newest event in person_journal",
    )
    reporting_currency: str | None = env_fallback_field(
        "ISO 4217 code money is reported in", ENV_REPORTING_CURRENCY, DEFAULT_REPORTING_CURRENCY
    )
    engagement_actions: list[str] | None = env_fallback_field(
        "Journal actions that count as engagement events",
        f"{ENV_ENGAGEMENT_ACTIONS} (comma-separated)",
        ", ".join(DEFAULT_ENGAGEMENT_ACTIONS),
    )


class CustomerSegmentsConfig(Config):
    """Run config of `customer_segments` (unset fields fall back to the environment)."""

    high_value_min_value: float | None = env_fallback_field(
        "high_value: predicted_90d_value above this (reporting currency)",
        ENV_HIGH_VALUE_MIN,
        f"{DEFAULT_HIGH_VALUE_MIN:g} (seed 003)",
    )
    lapsed_after_days: int | None = env_fallback_field(
        "lapsed: last purchase more than this many whole days before as_of",
        ENV_LAPSED_AFTER_DAYS,
        DEFAULT_LAPSED_AFTER_DAYS,
    )
    engaged_min_events: int | None = env_fallback_field(
        "engaged_no_purchase: at least this many engagement events",
        ENV_ENGAGED_MIN_EVENTS,
        DEFAULT_ENGAGED_MIN_EVENTS,
    )
    engaged_within_days: int | None = env_fallback_field(
        "engaged_no_purchase: last engagement event at most this many whole days before as_of",
        ENV_ENGAGED_WITHIN_DAYS,
        DEFAULT_ENGAGED_WITHIN_DAYS,
    )


@dataclass(frozen=True)
class MetricsSettings:
    as_of: datetime | None  # None: the newest event in person_journal
    reporting_currency: str
    engagement_actions: tuple[str, ...]

    @property
    def engagement_actions_param(self) -> str:
        """The list as the SQL reads it: ',a,b,c,'."""
        return "," + ",".join(self.engagement_actions) + ","


def metrics_settings(config: CustomerMetricsConfig) -> MetricsSettings:
    as_of: datetime | None = None
    if config.as_of:
        as_of = parse_as_of(config.as_of, "customer_metrics config as_of")
    elif os.environ.get(ENV_AS_OF, "").strip():
        as_of = parse_as_of(os.environ[ENV_AS_OF], f"${ENV_AS_OF}")
    if config.reporting_currency:
        currency = currency_code(config.reporting_currency, "reporting_currency")
    else:
        raw = os.environ.get(ENV_REPORTING_CURRENCY) or DEFAULT_REPORTING_CURRENCY
        currency = currency_code(raw, f"${ENV_REPORTING_CURRENCY}")
    if config.engagement_actions is not None:
        actions = tuple(a.strip() for a in config.engagement_actions if a.strip())
        where = "engagement_actions"
    elif os.environ.get(ENV_ENGAGEMENT_ACTIONS, "").strip():
        actions = tuple(a.strip() for a in os.environ[ENV_ENGAGEMENT_ACTIONS].split(","))
        actions = tuple(a for a in actions if a)
        where = f"${ENV_ENGAGEMENT_ACTIONS}"
    else:
        actions, where = DEFAULT_ENGAGEMENT_ACTIONS, "default"
    if any("," in a for a in actions):
        raise ValueError(f"{where}: an engagement action may not contain a comma")
    return MetricsSettings(as_of, currency, actions)


@dataclass(frozen=True)
class SegmentThresholds:
    high_value_min_value: float
    lapsed_after_days: int
    engaged_min_events: int
    engaged_within_days: int

    def params(self) -> dict[str, object]:
        return {
            "high_value_min_value": self.high_value_min_value,
            "lapsed_after_days": self.lapsed_after_days,
            "engaged_min_events": self.engaged_min_events,
            "engaged_within_days": self.engaged_within_days,
        }


def segment_thresholds(config: CustomerSegmentsConfig) -> SegmentThresholds:
    def pick(value: float | None, env: str, default: float, *, integer: bool) -> float:
        if value is None:
            return _env_number(env, default, integer=integer)
        if value < 0:
            raise ValueError(f"customer_segments config: {value} must not be negative")
        return value

    high = pick(
        config.high_value_min_value, ENV_HIGH_VALUE_MIN, DEFAULT_HIGH_VALUE_MIN, integer=False
    )
    lapsed = pick(
        config.lapsed_after_days, ENV_LAPSED_AFTER_DAYS, DEFAULT_LAPSED_AFTER_DAYS, integer=True
    )
    events = pick(
        config.engaged_min_events, ENV_ENGAGED_MIN_EVENTS, DEFAULT_ENGAGED_MIN_EVENTS, integer=True
    )
    within = pick(
        config.engaged_within_days,
        ENV_ENGAGED_WITHIN_DAYS,
        DEFAULT_ENGAGED_WITHIN_DAYS,
        integer=True,
    )
    return SegmentThresholds(float(high), int(lapsed), int(events), int(within))
