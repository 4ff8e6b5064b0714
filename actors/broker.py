"""Builds the Dramatiq broker: Redis (default), RabbitMQ for amqp:// URLs, StubBroker in tests.

Importing this module installs a placeholder StubBroker so actor modules can be imported
(and their options validated) anywhere; `setup_broker` then binds every actor to the
real broker for this process.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

import server.flows  # noqa: F401  (every flow registers its part before an actor runs)
from actors.encoder import OrjsonEncoder
from actors.heartbeat import WorkerHeartbeat
from actors.middleware import ActorMetrics, OrphanGuard, WorkerPools
from actors.scheduler import SyncScheduler
from actors.sweeper import OutboxSweeper
from server.config import Config

# Every module that declares actors; workers import all of them.
ACTOR_MODULES: tuple[str, ...] = (
    "actors.system",
    "actors.shops",
    "actors.pixel",
    "actors.sync",
    "actors.webhooks",
    "actors.billing",
    "actors.flow",
)

# One wire format everywhere (web and workers import this module first).
dramatiq.set_encoder(OrjsonEncoder())

_placeholder = StubBroker()
_placeholder.add_middleware(AsyncIO())
dramatiq.set_broker(_placeholder)


def build_broker(config: Config, *, stub: bool = False) -> dramatiq.Broker:
    """A broker for the config's BROKER_URL (or REDIS_URL), with our middleware."""
    url = config.broker_url
    broker: dramatiq.Broker
    if stub:
        broker = StubBroker()
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    else:
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url, namespace=config.broker.namespace)  # type: ignore[no-untyped-call]
    # AsyncIO first: WorkerPools runs its coroutines on the loop AsyncIO starts.
    broker.add_middleware(AsyncIO())
    broker.add_middleware(WorkerPools(config))
    if not stub:
        broker.add_middleware(ActorMetrics(config.redis.url))
        broker.add_middleware(SyncScheduler(config))
        broker.add_middleware(OutboxSweeper(config))
        broker.add_middleware(WorkerHeartbeat(config))
        broker.add_middleware(OrphanGuard())
    return broker


def iter_actors() -> Iterator[dramatiq.Actor[Any, Any]]:
    """Every actor the project declares."""
    seen: set[str] = set()
    for name in ACTOR_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            # Modules import each other's actors: each is yielded once.
            if isinstance(value, dramatiq.Actor) and value.actor_name not in seen:
                seen.add(value.actor_name)
                yield value


def setup_broker(config: Config, *, stub: bool = False) -> dramatiq.Broker:
    """Build the broker, make it global and bind every actor to it."""
    broker = build_broker(config, stub=stub)
    dramatiq.set_broker(broker)
    for actor in iter_actors():
        actor.broker = broker
        broker.declare_actor(actor)
    return broker
