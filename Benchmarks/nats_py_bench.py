#!/usr/bin/env python3
"""nats-py counterpart of gordon-nats-bench: same modes, same flags, same JSON line.

Modes:
  core (default)  --pubs N publishers share --msgs messages on one subject (nc.publish in a
                  loop, then await nc.flush()); --subs N subscribers each count every message.
  --js            JetStream publish with ack into a stream this run creates and deletes.
                  Uses js.publish_async (nats-py >= 2.7: pipelined, at most --window acks
                  outstanding via publish_async_max_pending) and js.publish_async_completed();
                  falls back to js.publish (one ack at a time) when the installed nats-py has
                  no publish_async. --sync forces js.publish.
  --req           request/reply latency: one responder connection, --msgs sequential
                  nc.request calls.

Publishers are timed (time.perf_counter_ns, monotonic) from the first publish until the
last flush() returns (core) or the last PubAck arrives (js); subscribers from the same start
until their last message.
"""

import argparse
import asyncio
import collections
import json
import math
import secrets
import sys
import time

import nats
from nats.js.api import StorageType

try:
    from importlib.metadata import version as _pkg_version

    NATS_PY_VERSION = _pkg_version("nats-py")
except Exception:  # pragma: no cover - metadata missing
    NATS_PY_VERSION = getattr(nats, "__version__", "unknown")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="nats_py_bench.py", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="nats://127.0.0.1:4222", help="NATS server URL")
    p.add_argument("--msgs", type=int, default=1_000_000, help="messages in total (requests with --req)")
    p.add_argument("--size", type=int, default=128, help="payload size in bytes")
    p.add_argument("--pubs", type=int, default=1, help="publishing connections")
    p.add_argument("--subs", type=int, default=0, help="subscribing connections (core mode)")
    p.add_argument("--js", action="store_true", help="JetStream publish with ack")
    p.add_argument("--window", type=int, default=1000, help="JetStream: acks outstanding per publisher")
    p.add_argument("--ack-batch", type=int, default=1,
                   help="JetStream: when the window is full, wait for this many of the oldest acks "
                        "(1: the library's own window, publish_async_max_pending)")
    p.add_argument("--sync", action="store_true", help="JetStream: js.publish, one ack at a time")
    p.add_argument("--storage", default="file", choices=["file", "memory"], help="JetStream stream storage")
    p.add_argument("--req", action="store_true", help="request/reply latency")
    p.add_argument("--warmup", type=int, default=100, help="request/reply: unmeasured requests first")
    p.add_argument("--subject", default="bench", help="subject prefix (a random token is appended)")
    p.add_argument("--idle-timeout", type=float, default=5.0,
                   help="seconds without a new message after which a subscriber is given up")
    p.add_argument("--json", action="store_true", help="print one JSON line of results")
    a = p.parse_args(argv)
    if a.msgs <= 0 or a.size < 0 or a.pubs <= 0 or a.subs < 0 or a.window <= 0:
        p.error("--msgs, --pubs, --window must be positive; --size, --subs not negative")
    if not 1 <= a.ack_batch <= a.window:
        p.error("--ack-batch must be in 1..--window")
    if a.js and a.req:
        p.error("--js and --req are separate modes")
    if a.js and a.subs:
        p.error("--subs is for core mode only")
    return a


def split(total, parts):
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def grouped(v):
    return f"{v:,.0f}"


def r3(v):
    return None if v is None or not math.isfinite(v) else round(v, 3)


async def connect(url, name):
    return await nats.connect(url, name=name, allow_reconnect=False)


async def run_core(a, report):
    subject = f"{a.subject}.{secrets.token_hex(6)}"
    payload = b"a" * a.size
    expected = a.msgs

    class Progress:
        def __init__(self):
            self.received = 0
            self.finished_at = None

    progress = [Progress() for _ in range(a.subs)]
    sub_conns = []
    for i in range(a.subs):
        nc = await connect(a.url, f"bench-sub-{i}")
        p = progress[i]

        async def cb(msg, p=p):
            p.received += 1
            if p.received == expected:
                p.finished_at = time.perf_counter_ns()

        # Room for every message: the bench measures the client, not the drop policy.
        await nc.subscribe(subject, cb=cb, pending_msgs_limit=max(expected, 512 * 1024),
                           pending_bytes_limit=max(expected * (a.size + 64), 128 * 1024 * 1024))
        await nc.flush()
        sub_conns.append(nc)
    pub_conns = [await connect(a.url, f"bench-pub-{i}") for i in range(a.pubs)]

    async def publisher(nc, count):
        publish = nc.publish
        for _ in range(count):
            await publish(subject, payload)
        await nc.flush(timeout=60)

    start = time.perf_counter_ns()
    await asyncio.gather(*(publisher(nc, n) for nc, n in zip(pub_conns, split(a.msgs, a.pubs))))
    publish_end = time.perf_counter_ns()

    subs_end = publish_end
    if progress:
        last_total, last_change = -1, time.perf_counter_ns()
        while True:
            total = sum(p.received for p in progress)
            if total != last_total:
                last_total, last_change = total, time.perf_counter_ns()
            if all(p.finished_at is not None for p in progress):
                break
            if time.perf_counter_ns() - last_change > a.idle_timeout * 1e9:
                break
            await asyncio.sleep(0.005)
        ends = [p.finished_at for p in progress if p.finished_at is not None]
        subs_end = max(ends) if ends else last_change
        if any(p.finished_at is None for p in progress):
            subs_end = max(subs_end, last_change)

    pub_s = (publish_end - start) / 1e9
    report.update(pubs=a.pubs, subs=a.subs, pub_seconds=r3(pub_s), pub_msgs_per_sec=r3(a.msgs / pub_s),
                  pub_mb_per_sec=r3(a.msgs * a.size / pub_s / 1e6))
    if not a.json:
        print(f"nats-py {NATS_PY_VERSION} core publish: {a.msgs} msgs of {a.size} B, {a.pubs} pub(s), {a.subs} sub(s)")
        print(f"  Pub stats: {grouped(a.msgs / pub_s)} msgs/sec ~ {a.msgs * a.size / pub_s / 1e6:.2f} MB/sec ({pub_s:.2f} s)")
    if a.subs:
        received = sum(p.received for p in progress)
        sub_s = (subs_end - start) / 1e9
        report.update(sub_seconds=r3(sub_s), sub_received=received, sub_expected=a.msgs * a.subs,
                      sub_msgs_per_sec=r3(received / sub_s), sub_mb_per_sec=r3(received * a.size / sub_s / 1e6))
        if not a.json:
            print(f"  Sub stats: {grouped(received / sub_s)} msgs/sec ~ {received * a.size / sub_s / 1e6:.2f} MB/sec "
                  f"({sub_s:.2f} s, received {received} of {a.msgs * a.subs})")
    for nc in pub_conns + sub_conns:
        await nc.close()


async def run_js(a, report):
    token = secrets.token_hex(6)
    subject = f"{a.subject}.js.{token}"
    stream = f"BENCH_{token}"
    payload = b"a" * a.size

    admin = await connect(a.url, "bench-admin")
    jsm = admin.jsm()
    await jsm.add_stream(name=stream, subjects=[subject],
                         storage=StorageType.FILE if a.storage == "file" else StorageType.MEMORY)
    pub_conns = [await connect(a.url, f"bench-js-pub-{i}") for i in range(a.pubs)]

    probe = pub_conns[0].jetstream()
    method = "js.publish_async" if hasattr(probe, "publish_async") and not a.sync else "js.publish"
    errors = []

    async def publisher(nc, count):
        if method == "js.publish":
            js = nc.jetstream()
            publish = js.publish
            for _ in range(count):
                await publish(subject, payload)
            return
        def done(fut):
            if fut.cancelled() or fut.exception() is not None:
                errors.append(fut.exception() or "cancelled")

        if a.ack_batch == 1:
            # The library's own bounded window: publish_async blocks on its semaphore.
            js = nc.jetstream(publish_async_max_pending=a.window)
            publish_async = js.publish_async
            for _ in range(count):
                fut = await publish_async(subject, payload)
                fut.add_done_callback(done)
            await asyncio.wait_for(js.publish_async_completed(), timeout=60)
            return
        # Our own window, as the Swift bench keeps it: when full, await the oldest acks.
        js = nc.jetstream(publish_async_max_pending=2 * a.window)
        publish_async = js.publish_async
        pending = collections.deque()
        for _ in range(count):
            if len(pending) >= a.window:
                for _ in range(min(a.ack_batch, len(pending))):
                    await pending.popleft()
            fut = await publish_async(subject, payload)
            fut.add_done_callback(done)
            pending.append(fut)
        while pending:
            await pending.popleft()

    start = time.perf_counter_ns()
    try:
        await asyncio.gather(*(publisher(nc, n) for nc, n in zip(pub_conns, split(a.msgs, a.pubs))))
        end = time.perf_counter_ns()
    finally:
        try:
            stored = (await jsm.stream_info(stream)).state.messages
        except Exception:
            stored = None
        try:
            await jsm.delete_stream(stream)
        except Exception:
            pass
        for nc in pub_conns + [admin]:
            await nc.close()
    if errors:
        raise RuntimeError(f"{len(errors)} publishes failed, first: {errors[0]!r}")

    s = (end - start) / 1e9
    report.update(pubs=a.pubs, window=1 if method == "js.publish" else a.window,
                  ack_batch=1 if method == "js.publish" else a.ack_batch, sync=method == "js.publish",
                  storage=a.storage, method=method, pub_seconds=r3(s), pub_msgs_per_sec=r3(a.msgs / s),
                  pub_mb_per_sec=r3(a.msgs * a.size / s / 1e6), stored=stored or 0)
    if not a.json:
        shape = "one at a time" if method == "js.publish" else f"window {a.window}"
        if method != "js.publish" and a.ack_batch > 1:
            shape += f", acks awaited {a.ack_batch} at a time"
        print(f"nats-py {NATS_PY_VERSION} JetStream publish ({method}, {shape}): {a.msgs} msgs of {a.size} B, "
              f"{a.pubs} pub(s), {a.storage} storage")
        print(f"  Pub stats: {grouped(a.msgs / s)} msgs/sec ~ {a.msgs * a.size / s / 1e6:.2f} MB/sec "
              f"({s:.2f} s, stream holds {stored})")


async def run_req(a, report):
    subject = f"{a.subject}.req.{secrets.token_hex(6)}"
    payload = b"a" * a.size

    responder = await connect(a.url, "bench-responder")

    async def respond(msg):
        await responder.publish(msg.reply, msg.data)

    await responder.subscribe(subject, cb=respond)
    await responder.flush()

    requester = await connect(a.url, "bench-requester")
    for _ in range(a.warmup):
        await requester.request(subject, payload, timeout=5)

    request = requester.request
    clock = time.perf_counter_ns
    latencies = []
    start = clock()
    for _ in range(a.msgs):
        sent = clock()
        reply = await request(subject, payload, timeout=5)
        latencies.append(clock() - sent)
        if len(reply.data) != a.size:
            raise RuntimeError(f"reply of {len(reply.data)} bytes, expected {a.size}")
    elapsed = (clock() - start) / 1e9
    await requester.close()
    await responder.close()

    latencies.sort()

    def percentile(q):
        rank = max(math.ceil(q * len(latencies)) - 1, 0)
        return latencies[min(rank, len(latencies) - 1)] / 1000

    mean = sum(latencies) / len(latencies) / 1000
    report.update(req_per_sec=r3(a.msgs / elapsed), p50_us=r3(percentile(0.5)), p90_us=r3(percentile(0.9)),
                  p99_us=r3(percentile(0.99)), max_us=r3(latencies[-1] / 1000), mean_us=r3(mean))
    if not a.json:
        print(f"nats-py {NATS_PY_VERSION} request/reply: {a.msgs} sequential requests of {a.size} B (after {a.warmup} warm-up)")
        print(f"  {grouped(a.msgs / elapsed)} req/sec; latency us: p50 {percentile(0.5):.2f}, p90 {percentile(0.9):.2f}, "
              f"p99 {percentile(0.99):.2f}, max {latencies[-1] / 1000:.2f}, mean {mean:.2f}")


async def main(argv):
    a = parse_args(argv)
    report = {"client": "nats-py", "client_version": NATS_PY_VERSION,
              "mode": "req" if a.req else "js" if a.js else "core", "msgs": a.msgs, "size": a.size}
    if a.req:
        await run_req(a, report)
    elif a.js:
        await run_js(a, report)
    else:
        await run_core(a, report)
    if a.json:
        print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
