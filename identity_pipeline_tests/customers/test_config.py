"""Run config beats the environment, which beats the defaults; bad values name themselves."""

from datetime import datetime

import pytest

from identity_pipeline.customers import config
from identity_pipeline.customers.config import (
    CustomerMetricsConfig,
    CustomerSegmentsConfig,
    metrics_settings,
    segment_thresholds,
)


def test_defaults(monkeypatch: pytest.MonkeyPatch):
    for name in (config.ENV_AS_OF, config.ENV_REPORTING_CURRENCY, config.ENV_ENGAGEMENT_ACTIONS):
        monkeypatch.delenv(name, raising=False)
    settings = metrics_settings(CustomerMetricsConfig())
    assert settings.as_of is None  # the newest event decides
    assert settings.reporting_currency == "USD"
    assert settings.engagement_actions_param == ",page_view,pageview,product_view,add_to_cart,"
    assert segment_thresholds(CustomerSegmentsConfig()).params() == {
        "high_value_min_value": 1000.0,
        "lapsed_after_days": 90,
        "engaged_min_events": 3,
        "engaged_within_days": 30,
    }


def test_environment_then_run_config(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(config.ENV_AS_OF, "2025-03-11T12:00:00+02:00")
    monkeypatch.setenv(config.ENV_ENGAGEMENT_ACTIONS, " video_play, ,scroll ")
    monkeypatch.setenv(config.ENV_ENGAGED_WITHIN_DAYS, "7")
    from_env = metrics_settings(CustomerMetricsConfig())
    assert from_env.as_of == datetime(2025, 3, 11, 10, 0)  # UTC
    assert from_env.engagement_actions == ("video_play", "scroll")
    assert segment_thresholds(CustomerSegmentsConfig()).engaged_within_days == 7
    from_config = metrics_settings(
        CustomerMetricsConfig(as_of="2025-03-01", engagement_actions=["page_view"])
    )
    assert from_config.as_of == datetime(2025, 3, 1, 23, 59, 59, 999999)  # the whole day
    assert from_config.engagement_actions == ("page_view",)
    assert (
        segment_thresholds(CustomerSegmentsConfig(engaged_within_days=0)).params()[
            "engaged_within_days"
        ]
        == 0
    )


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        (config.ENV_LAPSED_AFTER_DAYS, "ninety", "must be a whole number"),
        (config.ENV_HIGH_VALUE_MIN, "-5", "must not be negative"),
        (config.ENV_AS_OF, "yesterday", "not an ISO 8601"),
    ],
)
def test_bad_environment_values_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, message: str
):
    monkeypatch.setenv(env, value)
    with pytest.raises(ValueError, match=message) as failure:
        metrics_settings(CustomerMetricsConfig())
        segment_thresholds(CustomerSegmentsConfig())
    assert env in str(failure.value)


def test_an_action_with_a_comma_is_refused():
    with pytest.raises(ValueError, match="comma"):
        metrics_settings(CustomerMetricsConfig(engagement_actions=["add,to_cart"]))
