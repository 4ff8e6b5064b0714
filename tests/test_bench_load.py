"""The load bench/run.py sends is what the app accepts (no timing here: speed is the bench's).

A bench whose deliveries fail the HMAC, or whose pixel bodies the app rejects, would measure
401s and 400s; these checks keep its load valid when the app changes without a bench run.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import orjson

from server.pixel.events import Limits, validate_event
from server.security.hmac import verify_webhook_hmac

ROOT = Path(__file__).resolve().parent.parent


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_webhook_pool_is_signed_with_the_apps_secret_and_spread_over_the_shops():
    bench = _bench()
    shops = [f"s{n}.myshopify.com" for n in range(3)]
    pool = bench.signed_deliveries(secret="the-secret", shops=shops, now=datetime.now(UTC))
    assert len(pool) == bench.WEBHOOK_POOL
    assert {shop for _, _, shop in pool} == set(shops)
    assert len({body for body, _, _ in pool}) == len(pool)
    for body, signature, _ in pool:
        assert verify_webhook_hmac(body.encode(), signature, ["the-secret"])
        assert not verify_webhook_hmac(body.encode(), signature, ["another-secret"])
        assert isinstance(orjson.loads(body)["id"], int)


def test_pixel_pieces_assemble_into_a_post_whose_events_the_app_accepts():
    bench = _bench()
    pieces = bench.pixel_pieces("the-key")
    # As bench/wrk/post.lua builds a 3-event body.
    events = [
        pieces["event_head"]
        + f"run-pixel20-{seq}"
        + pieces["event_mid"]
        + str(seq)
        + pieces["event_tail"]
        for seq in (1, 2, 3)
    ]
    body = orjson.loads(pieces["head"] + ",".join(events) + "]}")
    assert body["accountID"] == "the-key"
    limits = Limits(max_event_bytes=32768, max_string_chars=2048, max_future_skew_s=86400)
    accepted = [
        validate_event(event, limits=limits, now=datetime.now(UTC)) for event in body["events"]
    ]
    assert [event["event_id"] for event in accepted] == [f"run-pixel20-{n}" for n in (1, 2, 3)]
    assert [event["seq"] for event in accepted] == [1, 2, 3]
