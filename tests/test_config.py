"""Config: defaults from config.toml, env overrides, masking, and one-line errors."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from server.config import MASK, ConfigError, Secret, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_come_from_config_toml(secrets_env, tmp_path):
    config = load_config({**secrets_env, "APP_ENV": "production", "VAR_DIR": str(tmp_path)})
    assert config.shopify.api_version == "2026-10"
    assert config.shopify.admin_origin == "https://{shop}"
    assert config.app.port == 8080
    assert config.database.url == ""
    assert config.pixel.max_events_per_request == 500
    assert config.shopify.shop_origin("x.myshopify.com") == "https://x.myshopify.com"


def test_env_overrides_every_contract_name(secrets_env, tmp_path):
    key2 = Fernet.generate_key().decode()
    env = {
        **secrets_env,
        "APP_ENV": "production",
        "VAR_DIR": str(tmp_path),
        "SCOPES": "read_products, write_pixels",
        "SHOPIFY_APP_URL": "https://app.example.com/",
        "SHOPIFY_API_VERSION": "2026-07",
        "SHOPIFY_ADMIN_ORIGIN": "http://127.0.0.1:9000/{shop}",
        "DATABASE_URL": "postgres://u:pw@db:5432/app",
        "REDIS_URL": "redis://cache:6379/1",
        "BROKER_URL": "amqp://guest:guest@mq:5672/",
        "TOKEN_ENCRYPTION_KEYS": f"{secrets_env['TOKEN_ENCRYPTION_KEYS']},{key2}",
        "PORT": "9001",
        "HOST": "0.0.0.0",
    }
    config = load_config(env)
    assert config.shopify.api_key == "test-api-key"
    assert config.shopify.api_secret.reveal() == secrets_env["SHOPIFY_API_SECRET"]
    assert config.shopify.scopes == ("read_products", "write_pixels")
    assert config.app.url == "https://app.example.com"
    assert config.shopify.api_version == "2026-07"
    assert config.shopify.shop_origin("s.myshopify.com") == "http://127.0.0.1:9000/s.myshopify.com"
    assert config.database.url == "postgres://u:pw@db:5432/app"
    assert config.redis.url == "redis://cache:6379/1"
    assert config.broker_url == "amqp://guest:guest@mq:5672/"
    assert [k.reveal() for k in config.security.token_encryption_keys] == [
        secrets_env["TOKEN_ENCRYPTION_KEYS"],
        key2,
    ]
    assert config.security.session_secret.reveal() == secrets_env["SESSION_SECRET"]
    assert (config.app.host, config.app.port) == ("0.0.0.0", 9001)


def test_broker_url_falls_back_to_redis_url(make_pure_config):
    config = make_pure_config(BROKER_URL="")
    assert config.broker_url == config.redis.url


def test_config_is_frozen(pure_config):
    with pytest.raises(dataclasses.FrozenInstanceError):
        pure_config.app.port = 1  # type: ignore[misc]


def test_repr_masks_every_secret(make_pure_config, secrets_env):
    config = make_pure_config(
        DATABASE_URL="postgres://user:hunter22secret@db/app",
        SHOPIFY_PREVIOUS_API_SECRET="previous-secret-value",
    )
    text = repr(config) + str(config)
    for value in [*secrets_env.values(), "hunter22secret", "previous-secret-value"]:
        if value != "test-api-key":
            assert value not in text
    assert MASK in text
    assert str(Secret("abc")) == f"Secret('{MASK}')"
    assert config.database.display_url == f"postgres://user:{MASK}@db/app"


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ({"SHOPIFY_API_SECRET": ""}, "SHOPIFY_API_SECRET"),
        ({"TOKEN_ENCRYPTION_KEYS": ""}, "TOKEN_ENCRYPTION_KEYS"),
        ({"TOKEN_ENCRYPTION_KEYS": "not-a-fernet-key"}, "TOKEN_ENCRYPTION_KEYS"),
        ({"SESSION_SECRET": "short"}, "SESSION_SECRET"),
        ({"DATABASE_URL": "mysql://db/app"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://cache"}, "REDIS_URL"),
        ({"BROKER_URL": "kafka://x"}, "BROKER_URL"),
        ({"SHOPIFY_APP_URL": "not a url"}, "SHOPIFY_APP_URL"),
        ({"SHOPIFY_ADMIN_ORIGIN": "https://example.com"}, "SHOPIFY_ADMIN_ORIGIN"),
        ({"SHOPIFY_API_VERSION": "2026-13"}, "SHOPIFY_API_VERSION"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"SCOPES": "read products"}, "SCOPES"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"WORKER_PROCESSES": "0"}, "WORKER_PROCESSES"),
    ],
)
def test_invalid_values_name_the_key(make_pure_config, override, names):
    with pytest.raises(ConfigError) as info:
        make_pure_config(**override)
    message = str(info.value)
    assert names in message
    assert "\n" not in message


def test_development_mode_generates_and_keeps_secrets(tmp_path):
    env = {"APP_ENV": "development", "VAR_DIR": str(tmp_path)}
    first = load_config(env)
    second = load_config(env)
    assert first.shopify.api_secret.reveal()
    assert first.shopify.api_secret == second.shopify.api_secret
    assert first.security.token_encryption_keys == second.security.token_encryption_keys
    assert (tmp_path / "dev-secrets.toml").stat().st_mode & 0o077 == 0


def test_cli_reports_bad_config_in_one_line_without_traceback(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "APP_ENV": "production",
        "VAR_DIR": str(tmp_path),
        "SHOPIFY_API_SECRET": "s",
        "TOKEN_ENCRYPTION_KEYS": "bogus",
        "SESSION_SECRET": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://127.0.0.1:1/x",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TOKEN_ENCRYPTION_KEYS" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_without_stores_says_which_is_missing(tmp_path, secrets_env):
    env = {
        "PATH": "/usr/bin:/bin",
        "APP_ENV": "production",
        "VAR_DIR": str(tmp_path),
        **secrets_env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "server", "worker"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_broker_namespace_is_configurable_and_checked(make_pure_config):
    from actors.broker import build_broker

    broker = build_broker(make_pure_config(BROKER_NAMESPACE="tenant-a"))
    try:
        assert broker.namespace == "tenant-a"
    finally:
        broker.close()
    with pytest.raises(ConfigError, match="BROKER_NAMESPACE"):
        make_pure_config(BROKER_NAMESPACE="has spaces")
