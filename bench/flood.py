#!/usr/bin/env python3
"""A bounded slow-client flood against a Gatehouse on loopback, with /healthz probed meanwhile.

    bench/flood.py PORT [--connections N] [--seconds S]

Opens N connections (at most 20000) to 127.0.0.1:PORT: most send unfinished headers, one in
four announces a 200 kB body and sends 3 bytes. It probes /healthz on fresh connections every
0.25 s for S seconds, then reports how many flood connections the server closed, when, and the
probe latencies. Only ever connects to 127.0.0.1.
"""
import argparse
import asyncio
import resource
import statistics
import time

HEADERS = b"GET /healthz HTTP/1.1\r\nHost: flood\r\nX-Slow: "
BODY = (b"POST /token HTTP/1.1\r\nHost: flood\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 200000\r\n\r\nabc")


async def slow_client(port, i, opened_at, closed_at, limit):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    opened_at[i] = time.monotonic()
    writer.write(BODY if i % 4 == 0 else HEADERS)
    try:
        await writer.drain()
        while await asyncio.wait_for(reader.read(1024), limit):
            pass
        closed_at[i] = time.monotonic()
    except (OSError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()


async def probe(port):
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(64), 30)
        writer.close()
        return answer.split(b"\r\n", 1)[0].decode(), time.monotonic() - started
    except (OSError, asyncio.TimeoutError) as e:
        return f"failed: {e!r}", time.monotonic() - started


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=15)
    args = ap.parse_args()
    n = min(args.connections, 20000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    opened_at, closed_at = {}, {}
    start = time.monotonic()
    flood = [asyncio.create_task(slow_client(args.port, i, opened_at, closed_at, args.seconds + 30))
             for i in range(n)]
    await asyncio.sleep(0.5)
    probes = []
    deadline = start + args.seconds
    while time.monotonic() < deadline:
        probes.append(await probe(args.port))
        await asyncio.sleep(0.25)
    await asyncio.wait(flood, timeout=max(1.0, deadline + 30 - time.monotonic()))
    for t in flood:
        t.cancel()
    held = [closed_at[i] - opened_at[i] for i in closed_at]
    ok = [t for s, t in probes if s.startswith("HTTP/1.1 200")]
    print(f"flood: {len(opened_at)} of {n} connections opened, {len(closed_at)} closed by the server")
    if held:
        print(f"  held {min(held):.2f} s .. {max(held):.2f} s (median {statistics.median(held):.2f} s)")
    print(f"healthz: {len(ok)} of {len(probes)} probes answered 200", end="")
    if ok:
        print(f", latency median {statistics.median(ok) * 1000:.1f} ms, max {max(ok) * 1000:.1f} ms")
    else:
        print()
    for s, t in probes:
        if not s.startswith("HTTP/1.1 200"):
            print(f"  probe: {s} after {t:.2f} s")


asyncio.run(main())
