"""Billing settings: the defaults, env overrides, and a bad plan table stopping start-up
with one line naming the key."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from server.config import ConfigError, load_config
from tests.billing_helpers import billing_config_file
from tests.helpers import ROOT


def test_defaults_and_env(make_pure_config, pure_env):
    config = make_pure_config()  # APP_ENV=production: no test charges by default
    assert config.billing.required is False and config.billing.test is False
    assert config.billing.mode == "api"
    growth = config.billing.plan("growth")
    assert growth is not None and growth.metered and growth.price_per_1000_events == Decimal("0.5")
    assert make_pure_config(APP_ENV="development").billing.test is True
    env = make_pure_config(BILLING_REQUIRED="true", BILLING_TEST="yes", BILLING_MODE="api")
    assert env.billing.required and env.billing.test
    managed = make_pure_config(BILLING_MODE="managed", BILLING_APP_HANDLE="my-app")
    assert managed.billing.mode == "managed" and managed.billing.app_handle == "my-app"


BAD_PLANS = [
    ('kind = "weekly"', "billing.plans[0].kind: must be recurring or one_time"),
    ('amount = "x"', "billing.plans[0].amount: expected an amount"),
    ("amount = -1", "billing.plans[0].amount: must be >= 0"),
    ("amount = 1.23456", "billing.plans[0].amount: at most 4 decimal places"),
    ('currency = "usd"', "billing.plans[0].currency"),
    ('interval = "WEEKLY"', "billing.plans[0].interval: must be EVERY_30_DAYS or ANNUAL"),
    ("trial_days = 2000", "billing.plans[0].trial_days: at most 1000"),
    ("trial_days = -1", "billing.plans[0].trial_days"),
    ("usage_capped_amount = 5.0", "billing.plans[0].usage_terms: a usage line needs both"),
    ("price_per_1000_events = 1.0", "billing.plans[0].price_per_1000_events: needs"),
    ("included_events = 5", "billing.plans[0].included_events: only with price_per_1000_events"),
    ("colour = 1", "billing.plans[0].colour: not a plan setting"),
    ('handle = "Has Space"', "billing.plans[0].handle"),
    ('name = ""', "billing.plans[0].name: required"),
]


def _plan(line: str) -> str:
    fields = {
        "handle": '"p"',
        "name": '"P"',
        "kind": '"recurring"',
        "amount": "5.0",
        "currency": '"USD"',
    }
    key = line.split("=", 1)[0].strip()
    fields.pop(key, None)
    body = "\n".join(f"{k} = {v}" for k, v in fields.items())
    return f"[[billing.plans]]\n{body}\n{line}\n"


@pytest.mark.parametrize(("line", "message"), BAD_PLANS)
def test_a_bad_plan_names_its_key(pure_env, tmp_path, line, message):
    path = billing_config_file(tmp_path, _plan(line))
    with pytest.raises(ConfigError) as error:
        load_config({**pure_env, "CONFIG_FILE": path})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_plan_rules_across_plans(pure_env, tmp_path):
    annual_usage = _plan('interval = "ANNUAL"').replace(
        "[[billing.plans]]", '[[billing.plans]]\nusage_capped_amount = 1.0\nusage_terms = "t"'
    )
    cases = [
        (annual_usage, "billing.plans[0].interval: Shopify bills usage every 30 days only"),
        (_plan('handle = "p"') + _plan('name = "Q"'), "billing.plans[1]: 'p' is used"),
        (
            _plan('kind = "one_time"').replace(
                "[[billing.plans]]", "[[billing.plans]]\ntrial_days = 3"
            ),
            "billing.plans[0].trial_days: only for recurring plans",
        ),
    ]
    for plans, message in cases:
        path = billing_config_file(tmp_path, plans)
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_config({**pure_env, "CONFIG_FILE": path})
    with pytest.raises(ConfigError, match="BILLING_MODE"):
        load_config({**pure_env, "BILLING_MODE": "free"})
    with pytest.raises(ConfigError, match="BILLING_APP_HANDLE"):
        load_config({**pure_env, "BILLING_MODE": "managed"})
    only_one_time = billing_config_file(tmp_path, _plan('kind = "one_time"'))
    with pytest.raises(ConfigError, match="BILLING_REQUIRED"):
        load_config({**pure_env, "CONFIG_FILE": only_one_time, "BILLING_REQUIRED": "true"})


def test_a_bad_plan_table_stops_start_up_with_one_line(pure_env, tmp_path):
    path = billing_config_file(tmp_path, _plan('interval = "FORTNIGHTLY"'))
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        env={**pure_env, "PATH": "/usr/bin:/bin", "CONFIG_FILE": path},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "config error: billing.plans[0].interval: must be EVERY_30_DAYS or ANNUAL, "
        "got 'FORTNIGHTLY'"
    ]
