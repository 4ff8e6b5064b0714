"""Waking workers after a commit: sends off the event loop, ids merged while the thread is busy."""

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
