"""Configuration from the environment: documented values are taken, bad ones named."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from api.settings import Settings, WebhookSettings
from store.database import PostgresOptions


def test_zero_webhook_concurrency_turns_the_worker_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMELINE_WEBHOOK_CONCURRENCY", "0")
    assert WebhookSettings().concurrency == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMELINE_WEBHOOK_CONCURRENCY", "-1"),
        ("TIMELINE_WEBHOOK_TIMEOUT", "soon"),
        ("TIMELINE_WEBHOOK_RETRY_SCHEDULE", "0,five"),
        ("TIMELINE_WEBHOOK_SECRET_OVERLAP", "a day"),
        ("TIMELINE_WEBHOOK_SECRET_OVERLAP", "-1"),
        ("TIMELINE_WEBHOOK_SECRET_OVERLAP", "2592001"),
        ("TIMELINE_DELIVERY_RETENTION", "30d"),
        ("TIMELINE_DELIVERY_RETENTION", "-86400"),
        ("TIMELINE_DELIVERY_RETENTION", "nan"),
        ("TIMELINE_WRITE_RATE_LIMIT", "many"),
        ("TIMELINE_PG_STATEMENT_TIMEOUT", "30s"),
        ("TIMELINE_PG_IDLE_IN_TRANSACTION_TIMEOUT", "-1"),
        ("TIMELINE_PG_POOL_SIZE", "0"),
        ("TIMELINE_PG_POOL_SIZE", "2.5"),
    ],
)
def test_a_bad_value_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings()


def test_the_secret_overlap_is_a_day_and_the_retention_thirty_days_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TIMELINE_WEBHOOK_SECRET_OVERLAP", raising=False)
    monkeypatch.delenv("TIMELINE_DELIVERY_RETENTION", raising=False)
    settings = WebhookSettings()
    assert settings.secret_overlap == 86_400
    assert settings.delivery_retention == 30 * 86_400


def test_the_secret_overlap_and_the_retention_are_read_in_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIMELINE_WEBHOOK_SECRET_OVERLAP", "3600")
    monkeypatch.setenv("TIMELINE_DELIVERY_RETENTION", "0")
    settings = WebhookSettings()
    assert (settings.secret_overlap, settings.delivery_retention) == (3600, 0)


def test_the_write_rate_limit_is_read_as_writes_per_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIMELINE_WRITE_RATE_LIMIT", "30/10")
    assert Settings().write_rate_limit == (30, 10)
    monkeypatch.setenv("TIMELINE_WRITE_RATE_LIMIT", "0")
    assert Settings().write_rate_limit is None


def test_the_postgres_sessions_are_bounded_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().postgres == PostgresOptions(
        statement_timeout=30, idle_in_transaction_timeout=60, pool_size=10
    )
    monkeypatch.setenv("TIMELINE_PG_STATEMENT_TIMEOUT", "2.5")
    monkeypatch.setenv("TIMELINE_PG_IDLE_IN_TRANSACTION_TIMEOUT", "0")
    monkeypatch.setenv("TIMELINE_PG_POOL_SIZE", "4")
    assert Settings().postgres == PostgresOptions(
        statement_timeout=2.5, idle_in_transaction_timeout=0, pool_size=4
    )


def test_the_timeouts_become_libpq_options_that_the_urls_own_follow() -> None:
    bounded = PostgresOptions(statement_timeout=1.5, idle_in_transaction_timeout=60)
    assert bounded.connect_args(make_url("postgresql://db.example/timeline")) == {
        "options": "-c statement_timeout=1500 -c idle_in_transaction_session_timeout=60000"
    }
    given = make_url("postgresql://db.example/timeline?options=-c%20statement_timeout%3D5000")
    assert bounded.connect_args(given)["options"].endswith(" -c statement_timeout=5000")
    assert PostgresOptions().connect_args(given) == {}  # the URL's options, left as they are
