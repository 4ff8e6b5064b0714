"""What the app subscribes to, and the rule every model must declare for privacy."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import ClassVar

import pytest
from tortoise import Tortoise, fields
from tortoise.models import Model

from models.privacy import PrivacyRule
from server.config import load_config
from server.db import MODEL_MODULES
from server.sync.changes import DATA_TOPICS
from server.webhook_topics import (
    COMPLIANCE_TOPICS,
    SUBSCRIBED_TOPICS,
    SUBSCRIPTION_OPTIONS,
    TOPICS,
    SubscriptionOptions,
)
from server.webhooks.subscriptions import AppTomlError, app_toml_options, plan_subscriptions
from server.webhooks.topics import graphql_topic, rest_topic

ROOT = Path(__file__).resolve().parent.parent
URI = "https://app.example.test/webhooks"

# ------------------------------------------------------------------ shopify.app.toml


def test_shopify_app_toml_declares_the_topics_scopes_and_version():
    app = tomllib.loads((ROOT / "shopify.app.toml").read_text())
    subscriptions = app["webhooks"]["subscriptions"]
    topics = [t for s in subscriptions for t in s.get("topics", [])]
    compliance = [t for s in subscriptions for t in s.get("compliance_topics", [])]
    assert sorted(topics) == sorted(SUBSCRIBED_TOPICS)
    assert sorted(compliance) == sorted(COMPLIANCE_TOPICS)
    assert all(s["uri"] == "/webhooks" for s in subscriptions)
    defaults = load_config({"SHOPIFY_API_SECRET": "x"}, path=ROOT / "config.toml")
    assert app["webhooks"]["api_version"] == defaults.shopify.api_version
    assert app["access_scopes"]["scopes"].split(",") == list(defaults.shopify.scopes)
    # Each topic's filter, include_fields and metafield_namespaces: as registration asks.
    assert app_toml_options(app) == SUBSCRIPTION_OPTIONS


def test_the_toml_reading_sees_each_option_and_refuses_bad_entries():
    app = {
        "webhooks": {
            "subscriptions": [
                {"topics": ["app/uninstalled"], "uri": "/webhooks"},
                {
                    "topics": ["products/update", "products/create"],
                    "uri": "/webhooks",
                    "filter": "vendor:Acme",
                    "include_fields": ["id", "title"],
                    "metafield_namespaces": ["custom"],
                },
                {"compliance_topics": ["shop/redact"], "uri": "/webhooks"},
            ]
        }
    }
    options = app_toml_options(app)
    wanted = SubscriptionOptions("vendor:Acme", ("id", "title"), ("custom",))
    assert options == {
        "app/uninstalled": SubscriptionOptions(),
        "products/update": wanted,
        "products/create": wanted,
    }
    assert options != {t: SUBSCRIPTION_OPTIONS[t] for t in options}  # the check would fail
    for bad in (
        {"topics": ["a/b"], "filter": 1},
        {"topics": ["a/b"], "include_fields": "id"},
        {"topics": ["a/b"], "metafield_namespaces": [1]},
    ):
        with pytest.raises(AppTomlError):
            app_toml_options({"webhooks": {"subscriptions": [bad]}})
    twice = [{"topics": ["a/b"]}, {"topics": ["a/b"]}]
    with pytest.raises(AppTomlError):
        app_toml_options({"webhooks": {"subscriptions": twice}})


def test_every_handled_topic_is_subscribed_and_data_topics_await_the_sync():
    assert set(TOPICS) == set(SUBSCRIBED_TOPICS) | set(COMPLIANCE_TOPICS)
    assert set(COMPLIANCE_TOPICS) | {"app/uninstalled"} | set(DATA_TOPICS) <= set(TOPICS)
    assert len(DATA_TOPICS) == 9
    assert graphql_topic("orders/updated") == "ORDERS_UPDATED"
    assert all(rest_topic(graphql_topic(t)) == t for t in SUBSCRIBED_TOPICS)


# ------------------------------------------------------------------ registration plan


def sub(sub_id: str, topic: str, uri: str = URI) -> dict:
    return {"id": sub_id, "topic": topic, "uri": uri}


def test_plan_creates_what_is_missing_and_nothing_twice():
    plan = plan_subscriptions([], topics=SUBSCRIBED_TOPICS, uri=URI)
    assert sorted(plan.create) == sorted(graphql_topic(t) for t in SUBSCRIBED_TOPICS)
    done = [sub(str(i), t) for i, t in enumerate(plan.create)]
    assert plan_subscriptions(done, topics=SUBSCRIBED_TOPICS, uri=URI).empty


def test_plan_updates_a_subscription_whose_options_differ():
    options = {"orders/create": SubscriptionOptions(filter="financial_status:paid")}
    existing = [
        {**sub("1", "ORDERS_CREATE"), "filter": None, "includeFields": []},
        {**sub("2", "APP_UNINSTALLED"), "filter": "", "includeFields": []},
    ]
    topics = ("app/uninstalled", "orders/create")
    plan = plan_subscriptions(existing, topics=topics, uri=URI, options=options)
    assert plan.update == ("1",) and not plan.create and not plan.delete
    existing[0]["filter"] = "financial_status:paid"
    assert plan_subscriptions(existing, topics=topics, uri=URI, options=options).empty


def test_plan_moves_a_stale_uri_and_drops_extras_and_unknown_topics():
    existing = [
        sub("1", "APP_UNINSTALLED", "https://old.example/webhooks"),
        sub("2", "ORDERS_CREATE"),
        sub("3", "ORDERS_CREATE", "https://old.example/webhooks"),  # a second copy
        sub("4", "CARTS_UPDATE"),  # not wanted
    ]
    plan = plan_subscriptions(existing, topics=("app/uninstalled", "orders/create"), uri=URI)
    assert plan.update == ("1",)
    assert sorted(plan.delete) == ["3", "4"]
    assert plan.create == ()


# ------------------------------------------------------------------ privacy rules

IDENTIFYING = ("shop", "customer", "email", "phone", "client_id", "ip_address")


def rule_problems(models: list[type[Model]]) -> list[str]:
    """Models that link to a shop or a customer without a (valid) privacy rule."""
    problems = []
    linked: set[type[Model]] = set()
    # A model links to a shop if it (or a model it references) has an FK to Shop.
    changed = True
    while changed:
        changed = False
        for model in models:
            refs = {model._meta.fields_map[f].related_model for f in model._meta.fk_fields}
            if model not in linked and any(r.__name__ == "Shop" or r in linked for r in refs):
                linked.add(model)
                changed = True
    for model in models:
        names = set(model._meta.fields_map)
        identifying = [n for n in names if any(word in n for word in IDENTIFYING)]
        rule = getattr(model, "privacy", None)
        needs = model in linked or identifying or model.__name__ == "Shop"
        if needs and not isinstance(rule, PrivacyRule):
            problems.append(f"{model.__name__}: links to a shop or customer but has no rule")
            continue
        if not isinstance(rule, PrivacyRule):
            continue
        keys = [rule.shop_field, *rule.customer_fields.values(), *rule.anonymise]
        for key in keys:
            if key.split("__", 1)[0] not in names and key.split("__", 1)[0] not in {
                f"{fk}_id" for fk in model._meta.fk_fields
            }:
                problems.append(f"{model.__name__}: rule names unknown field {key!r}")
        if rule.customer_fields and rule.on_customer_redact == "none":
            problems.append(f"{model.__name__}: holds customers but redact does nothing")
        if rule.on_customer_redact == "anonymise" and not rule.anonymise:
            problems.append(f"{model.__name__}: anonymise without values")
        unknown = set(rule.customer_fields) - {
            "id",
            "gid",
            "email",
            "phone",
            "order_id",
            "order_gid",
        }
        if unknown:
            problems.append(f"{model.__name__}: unknown customer keys {sorted(unknown)}")
    return problems


@pytest.fixture
async def registered_models():
    """Every model the app registers with Tortoise (no database needed)."""
    await Tortoise.init(
        config={
            "connections": {"default": "postgres://u@127.0.0.1:1/none"},
            "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        },
        _create_db=False,
    )
    try:
        yield [m for app in Tortoise.apps.values() for m in app.values()]
    finally:
        await Tortoise._reset_apps()


async def test_every_model_that_links_to_a_shop_or_customer_has_a_privacy_rule(
    registered_models,
):
    names = {m.__name__ for m in registered_models}
    assert {"Shop", "WebhookDelivery", "ComplianceRequest", "PrivacyAudit"} <= names
    assert rule_problems(registered_models) == []


def test_the_rule_check_catches_a_forgotten_table():
    class Forgotten(Model):
        id = fields.BigIntField(primary_key=True)
        customer_email = fields.CharField(max_length=255)

        class Meta:
            app = "forgotten"

    class WrongRule(Model):
        id = fields.BigIntField(primary_key=True)
        shop_domain = fields.CharField(max_length=255)
        privacy: ClassVar[PrivacyRule] = PrivacyRule(shop_field="shop_id")

        class Meta:
            app = "forgotten"

    problems = rule_problems([Forgotten, WrongRule])
    assert any(p.startswith("Forgotten:") for p in problems)
    assert any("WrongRule: rule names unknown field 'shop_id'" in p for p in problems)
