"""[sync] settings and the scheduler's one-tick-per-period claim."""

from __future__ import annotations

import pytest
import redis

from actors.scheduler import SyncScheduler, schedule_key
from server.config import ConfigError


def test_sync_defaults_and_env_overrides(make_pure_config):
    config = make_pure_config()
    assert config.sync.interval_s == 900 and config.sync.bulk_threshold == 5000
    tuned = make_pure_config(
        SYNC_INTERVAL_S="60", SYNC_OVERLAP_S="0", SYNC_BULK_THRESHOLD="10", SYNC_LEASE_S="5"
    )
    assert (tuned.sync.interval_s, tuned.sync.overlap_s) == (60, 0)
    assert (tuned.sync.bulk_threshold, tuned.sync.lease_s) == (10, 5)


@pytest.mark.parametrize(
    ("override", "name"),
    [
        ({"SYNC_INTERVAL_S": "0"}, "SYNC_INTERVAL_S (sync.interval_s)"),
        ({"SYNC_INTERVAL_S": "soon"}, "SYNC_INTERVAL_S (sync.interval_s)"),
        ({"SYNC_OVERLAP_S": "-1"}, "SYNC_OVERLAP_S (sync.overlap_s)"),
        ({"SYNC_BULK_THRESHOLD": "-5"}, "SYNC_BULK_THRESHOLD (sync.bulk_threshold)"),
        ({"SYNC_LEASE_S": "0"}, "SYNC_LEASE_S (sync.lease_s)"),
    ],
)
def test_bad_sync_settings_name_the_key(make_pure_config, override, name):
    with pytest.raises(ConfigError, match=name.replace("(", r"\(").replace(")", r"\)")):
        make_pure_config(**override)


def test_page_sizes_are_capped_at_250(tmp_path, pure_env):
    from server.config import DEFAULT_CONFIG_FILE, load_config

    text = DEFAULT_CONFIG_FILE.read_text().replace(
        "customers_page_size = 250", "customers_page_size = 251"
    )
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"sync.customers_page_size: must be between 1 and 250"):
        load_config(pure_env, path=path)


def test_one_scheduler_wins_each_period(make_config, stub_broker, redis_url):
    config = make_config(SYNC_INTERVAL_S="60")
    client = redis.Redis.from_url(redis_url)
    schedulers = [SyncScheduler(config) for _ in range(3)]
    now_s = 1_900_000_000.0 + 0.5
    period = int(now_s // 60)
    try:
        client.delete(schedule_key(period), schedule_key(period + 1))
        wins = [s.tick(client, stub_broker, now_s=now_s) for s in schedulers]
        assert wins.count(True) == 1
        assert [s.tick(client, stub_broker, now_s=now_s + 60) for s in schedulers].count(True) == 1
        queued = [stub_broker.queues["sync"].get_nowait() for _ in range(2)]
        assert stub_broker.queues["sync"].empty()
        assert {m.decode() for m in queued} and all(
            b"schedule_incremental_syncs" in m for m in queued
        )
    finally:
        client.delete(schedule_key(period), schedule_key(period + 1))
        client.close()
