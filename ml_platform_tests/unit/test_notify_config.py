"""Notification configuration from environment variables (pure: no network): channels appear only
when configured and keep their secrets as ``dg.EnvVar`` references, resolved by Dagster at run time."""

from __future__ import annotations

import pytest

from ml_platform.integrations.notify import Notification, notifier_from_env


def test_no_variables_no_channels() -> None:
    assert notifier_from_env({}).channels() == {}


def test_channels_from_env_keep_secrets_as_env_vars() -> None:
    notifier = notifier_from_env(
        {
            "ML_PLATFORM_SLACK_WEBHOOK_URL": "https://hooks.example/T/B/x",
            "ML_PLATFORM_WEBHOOK_URL": "https://alerts.example/in",
            "ML_PLATFORM_WEBHOOK_TOKEN": "t0ken",
            "ML_PLATFORM_SMTP_HOST": "smtp.example",
            "ML_PLATFORM_SMTP_PORT": "2525",
            "ML_PLATFORM_SMTP_TO": "a@example.org, b@example.org",
            "ML_PLATFORM_SMTP_PASSWORD": "pw",
            "ML_PLATFORM_SMTP_USER": "u",
        },
        dagster_ui_url="http://127.0.0.1:3000/",
    )
    assert sorted(notifier.channels()) == ["email", "slack", "webhook"]
    setups = notifier.channels()
    assert setups["slack"].secrets == {"url": "ML_PLATFORM_SLACK_WEBHOOK_URL"}
    assert setups["webhook"].secrets["token"] == "ML_PLATFORM_WEBHOOK_TOKEN"
    assert setups["email"].secrets["password"] == "ML_PLATFORM_SMTP_PASSWORD"
    assert "pw" not in repr(notifier) and "t0ken" not in repr(notifier)
    assert notifier.run_url("abc") == "http://127.0.0.1:3000/runs/abc"


def test_a_channel_resolves_its_secrets_through_env_vars_only_when_built(monkeypatch) -> None:
    environ = {"ML_PLATFORM_SMTP_HOST": "smtp.example", "ML_PLATFORM_SMTP_PORT": "2525"}
    environ |= {"ML_PLATFORM_SMTP_TO": "a@example.org, b@example.org", "ML_PLATFORM_SMTP_PASSWORD": "pw"}
    setup = notifier_from_env(environ).channels()["email"]
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    email = setup.build()
    assert email.host == "smtp.example" and email.password == "pw"  # type: ignore[attr-defined]
    assert email.port == 2525 and email.recipients == ["a@example.org", "b@example.org"]  # type: ignore[attr-defined]
    monkeypatch.delenv("ML_PLATFORM_SMTP_PASSWORD")
    with pytest.raises(ValueError, match="password comes from ML_PLATFORM_SMTP_PASSWORD, which is not set"):
        setup.build()


def test_plain_text_rendering_lists_fields_and_links() -> None:
    text = Notification(
        "run_failure",
        "p",
        "p: run failed",
        "boom",
        {"partition": "2024-01-02"},
        {"dagster_run": "http://x/runs/1"},
    ).as_text()
    assert text.splitlines()[0] == "p: run failed"
    assert "partition: 2024-01-02" in text and "dagster_run: http://x/runs/1" in text
