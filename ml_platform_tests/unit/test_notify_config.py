"""Notification configuration from environment variables (pure: no network): channels appear only
when configured and keep their secrets as ``dg.EnvVar`` references, resolved by Dagster at run time."""

from __future__ import annotations

import dagster as dg

from ml_platform.resources.notify import Notification, notifier_from_env


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
    assert notifier.slack is not None and isinstance(notifier.slack.url, dg.EnvVar)
    assert notifier.webhook is not None and notifier.webhook.token == dg.EnvVar("ML_PLATFORM_WEBHOOK_TOKEN")
    assert notifier.email is not None and notifier.email.password == dg.EnvVar("ML_PLATFORM_SMTP_PASSWORD")
    assert notifier.email.port == 2525 and notifier.email.recipients == ["a@example.org", "b@example.org"]
    assert "pw" not in repr(notifier) and "t0ken" not in repr(notifier)
    assert notifier.run_url("abc") == "http://127.0.0.1:3000/runs/abc"


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
