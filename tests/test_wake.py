"""Waking workers after a commit: sends off the event loop, ids merged while the thread is
busy or while the actor's interval holds them back."""

from __future__ import annotations

import threading

from server.wake import MAX_IDS_PER_MESSAGE, Waker


def _queued_ids(stub_broker, queue: str) -> list[list[int]]:
    return [message.args[0] for message in _messages(stub_broker, queue)]


def _messages(stub_broker, queue: str):
    from dramatiq import Message

    return [Message.decode(raw) for raw in list(stub_broker.queues[queue].queue)]


async def test_ids_sent_while_the_thread_is_busy_ride_in_one_message(stub_broker):
    waker = Waker(name="test-wake")
    release = threading.Event()
    started = threading.Event()

    def busy() -> bool:
        started.set()
        release.wait(10)
        return True

    assert waker._submit(busy)  # the thread is taken by something slow
    started.wait(10)
    waker.send_ids("process_webhooks", [1])
    waker.send_ids("process_webhooks", [2, 3])
    waker.send_ids("process_privacy_webhooks", [7])
    waker.send_ids("process_webhooks", [4])
    release.set()
    await waker.idle()
    assert _queued_ids(stub_broker, "webhooks") == [[1, 2, 3, 4]]
    assert _queued_ids(stub_broker, "privacy") == [[7]]
    # Once taken by the thread, a message is closed: later ids start the next one.
    waker.send_ids("process_webhooks", [5])
    await waker.idle()
    assert _queued_ids(stub_broker, "webhooks") == [[1, 2, 3, 4], [5]]
    await waker.close()


async def test_a_message_carries_at_most_max_ids(stub_broker):
    waker = Waker(name="test-wake")
    release = threading.Event()
    assert waker._submit(lambda: release.wait(10))
    many = list(range(MAX_IDS_PER_MESSAGE))
    waker.send_ids("process_webhooks", many)
    waker.send_ids("process_webhooks", [MAX_IDS_PER_MESSAGE])
    release.set()
    await waker.idle()
    assert _queued_ids(stub_broker, "webhooks") == [many, [MAX_IDS_PER_MESSAGE]]
    await waker.close()


async def test_a_send_to_a_closed_waker_is_dropped_not_raised(stub_broker):
    waker = Waker(name="test-wake")
    await waker.close()
    waker.send_ids("process_webhooks", [1])
    waker.send_ids("process_webhooks", [2])
    assert waker.dropped == 2  # the second is dropped too: it did not ride on a dead batch
    assert not stub_broker.queues["webhooks"].queue


async def test_an_actors_wake_ups_leave_at_most_once_per_interval(stub_broker):
    import asyncio

    interval = 0.2
    waker = Waker(name="test-wake", interval_s=interval)
    loop = asyncio.get_running_loop()
    first_at = loop.time()
    waker.send_ids("process_webhooks", [1])  # nothing sent lately: leaves at once
    waker.send_ids("process_webhooks", [2])  # within the interval: held...
    waker.send_ids("process_webhooks", [3])  # ...and these ride together
    waker.send_ids("process_privacy_webhooks", [7])  # another actor has its own interval
    deadline = loop.time() + 10
    while len(_queued_ids(stub_broker, "webhooks")) < 2 and loop.time() < deadline:
        await asyncio.sleep(0.01)
    second_at = loop.time()
    assert _queued_ids(stub_broker, "webhooks") == [[1], [2, 3]]
    assert second_at - first_at >= interval
    assert _queued_ids(stub_broker, "privacy") == [[7]]
    # Held ids are not lost on close: they are sent before the thread stops.
    waker.send_ids("process_webhooks", [4])
    waker.send_ids("process_webhooks", [5])
    await waker.close()
    sent = [i for ids in _queued_ids(stub_broker, "webhooks") for i in ids]
    assert sent == [1, 2, 3, 4, 5]
