"""Benchmark the API under load: GET /projects/{id} latency with 100 clients polling at the UI's rate
(every 1.5 s), idle and while a render runs; the same clients back to back (saturation: the server's
throughput and CPU per request); and 100 SSE clients (time to first event, events delivered).
Then the pollers alone through a whole uncached render, with the worker at the configured niceness
(STORYBEAT_WORKER_NICE, default 10) and, for comparison, at nice 0 (the API's own priority).
Prints a markdown table.

Usage: .venv/bin/python bench/bench_api.py [--pollers 100] [--sse 100] [--seconds 20]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def make_wav(*, seconds: float, bpm: float = 112.0) -> bytes:
    """A synthetic song of about ``seconds`` (engine.audio.sample, the test songs' generator)."""
    sys.path.insert(0, str(REPO))
    from engine.audio.sample import make_song

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.wav"
        make_song(path, bpm=bpm, bars=max(2, round(seconds * bpm / 240)), seed=7)
        return path.read_bytes()


def start_server(data: Path, *, worker_nice: int | None = None) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    """``python -m api`` on a free port with its own data root (workers at ``worker_nice``; None: the default)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBEAT_")}
    env.update(STORYBEAT_DATA=str(data), PYTHONPATH=str(REPO))
    if worker_nice is not None:
        env["STORYBEAT_WORKER_NICE"] = str(worker_nice)
    proc = subprocess.Popen([sys.executable, "-m", "api", "--port", str(port), "--log-level", "warning"], cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def wait_idle(client: httpx.Client, project_id: str, timeout_s: float = 600) -> dict:
    """Poll until no worker runs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        p = client.get(f"/projects/{project_id}").json()
        if not p["busy"] and p["jobs"]["pipeline"]["status"] not in ("queued", "running") and p["jobs"]["render"]["status"] not in ("queued", "running"):
            return p
        time.sleep(0.5)
    raise RuntimeError("timeout")


UI_POLL_S = 1.5  # frontend/js/api.js POLL_MS


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def pollers(
    base: str, project_id: str, *, n: int, seconds: float, busy_check, interval_s: float, warmup_s: float = 0.0
) -> tuple[list[float], float, int]:
    """``n`` clients (one connection each) GET the project every ``interval_s`` (0: back to back) for ``seconds``
    (or until ``busy_check()`` is false); latencies in ms, the seconds measured, and all requests sent.

    Clients start at random offsets within one interval, as independent browser timers do.
    Requests in the first ``warmup_s`` (the burst of new connections) are not counted.
    """
    latencies: list[float] = []
    count_from = time.monotonic() + warmup_s
    stop_at = count_from + seconds
    rng = random.Random(7)
    sent = 0
    host, port = base.removeprefix("http://").split(":")
    request = f"GET /projects/{project_id} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()

    async def one(offset: float) -> None:
        # a bare HTTP/1.1 keep-alive client: httpx's per-request cost made the load generator, not the
        # server, the bottleneck when 100 clients run back to back on the same two cores
        nonlocal sent
        await asyncio.sleep(offset)
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.monotonic() < stop_at and busy_check():
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                sent += 1
                if time.monotonic() >= count_from:
                    latencies.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    raise RuntimeError(f"GET /projects/{project_id}: HTTP {status}")
                await asyncio.sleep(max(0.0, interval_s - (time.perf_counter() - t0)))
        finally:
            writer.close()

    await asyncio.gather(*(one(rng.uniform(0, interval_s)) for _ in range(n)))
    return latencies, max(1e-9, min(time.monotonic(), stop_at) - count_from), sent


async def sse_clients(base: str, project_id: str, *, n: int, seconds: float) -> tuple[list[float], list[int]]:
    """``n`` SSE clients: ms to the first event, and events each received within ``seconds``."""
    firsts: list[float] = []
    counts: list[int] = []
    limits = httpx.Limits(max_connections=n + 5, max_keepalive_connections=n + 5)
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(30, read=seconds + 30), limits=limits) as client:
        async def one() -> None:
            t0 = time.perf_counter()
            count = 0
            first = None
            try:
                async with asyncio.timeout(seconds):
                    async with client.stream("GET", f"/projects/{project_id}/events") as resp:
                        async for line in resp.aiter_lines():
                            if line.startswith("event: "):
                                count += 1
                                if first is None:
                                    first = (time.perf_counter() - t0) * 1000
            except TimeoutError:
                pass
            if first is not None:
                firsts.append(first)
            counts.append(count)

        await asyncio.gather(*(one() for _ in range(n)))
    return firsts, counts


def polls_during_render(base: str, data: Path, project_id: str, *, n: int) -> tuple[list[float], float, float]:
    """Start a full (uncached) render and poll at the UI's rate until it ends: latencies, seconds measured, render seconds."""
    # a real render: an unchanged project is not rendered again, and its segments would come from the cache
    pulse = httpx.get(f"{base}/projects/{project_id}", timeout=30).json()["settings"]["beat_pulse"]
    httpx.patch(f"{base}/projects/{project_id}", json={"beat_pulse": not pulse}, timeout=30).raise_for_status()
    shutil.rmtree(data / "projects" / project_id / "renders" / "cache", ignore_errors=True)
    httpx.post(f"{base}/projects/{project_id}/render", json={"preview": False}, timeout=30).raise_for_status()
    started = time.monotonic()
    done = threading.Event()

    def watch() -> None:  # a thread, so the pollers' event loop never blocks on it
        while not done.is_set():
            if not httpx.get(f"{base}/projects/{project_id}", timeout=30).json()["busy"]:
                done.set()
            done.wait(0.5)

    threading.Thread(target=watch, daemon=True).start()
    latencies, span, _ = asyncio.run(pollers(base, project_id, n=n, seconds=600, busy_check=lambda: not done.is_set(),
                                             interval_s=UI_POLL_S, warmup_s=UI_POLL_S))
    while not done.is_set():
        time.sleep(0.2)
    return latencies, span, time.monotonic() - started


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100)."""
    if not values:
        return float("nan")
    return float(np.percentile(np.array(values), q))


def main() -> int:
    """Run both scenarios and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pollers", type=int, default=100)
    parser.add_argument("--sse", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--song-s", type=float, default=30.0)
    parser.add_argument("--worker-nice", type=int, default=None, help="STORYBEAT_WORKER_NICE of the server (default: its default)")
    parser.add_argument("--skip-nice-compare", action="store_true", help="skip the render at normal worker priority")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        proc, base = start_server(data, worker_nice=args.worker_nice)
        try:
            with httpx.Client(base_url=base, timeout=60) as c:
                pid = c.post("/projects", json={"name": "bench", "settings": {"provider": "local"}}).json()["id"]
                c.post(f"/projects/{pid}/upload", files={"audio": ("bench.wav", make_wav(seconds=args.song_s), "audio/wav")}).raise_for_status()
                c.post(f"/projects/{pid}/run", json={"target": "IMAGED"}).raise_for_status()
                wait_idle(c, pid)
                rows: list[tuple[str, int, list[float], float, tuple[float, float, float] | None]] = []

                def measured(label: str, interval_s: float, seconds: float, warmup_s: float) -> None:
                    cpu0, own0, wall0 = server_cpu_s(proc.pid), time.process_time(), time.monotonic()
                    lat, span, sent = asyncio.run(pollers(base, pid, n=args.pollers, seconds=seconds, busy_check=lambda: True,
                                                          interval_s=interval_s, warmup_s=warmup_s))
                    wall = time.monotonic() - wall0
                    server_s = server_cpu_s(proc.pid) - cpu0
                    rows.append((label, args.pollers, lat, span,
                                 (server_s * 1000 / max(1, sent), 100 * server_s / wall, 100 * (time.process_time() - own0) / wall)))

                measured(f"GET /projects/{{id}}, idle, every {UI_POLL_S:g} s (the UI's rate)", UI_POLL_S, 10.0, UI_POLL_S)
                measured("GET /projects/{id}, idle, back to back (saturation)", 0.0, 8.0, 2.0)
                c.post(f"/projects/{pid}/render", json={"preview": False}).raise_for_status()
                render_started = time.monotonic()

                done = threading.Event()

                def watch_render() -> None:  # a thread, so the pollers' event loop never blocks on it
                    while not done.is_set():
                        job = httpx.get(f"{base}/projects/{pid}/jobs", timeout=10).json()["render"]
                        if job["status"] not in ("queued", "running"):
                            done.set()
                        done.wait(0.5)

                watcher = threading.Thread(target=watch_render, daemon=True)
                watcher.start()

                def cached_rendering() -> bool:
                    return not done.is_set()

                async def under_load() -> tuple[tuple[list[float], float, int], tuple[list[float], list[int]]]:
                    return await asyncio.gather(
                        pollers(base, pid, n=args.pollers, seconds=args.seconds, busy_check=cached_rendering, interval_s=UI_POLL_S),
                        sse_clients(base, pid, n=args.sse, seconds=min(args.seconds, 10.0)),
                    )

                (busy, busy_span, _), (sse_first, sse_counts) = asyncio.run(under_load())
                rows.append((f"GET /projects/{{id}}, render running, every {UI_POLL_S:g} s, with the SSE clients",
                             args.pollers, busy, busy_span, None))
                project = wait_idle(c, pid)
                done.set()
                render_s = time.monotonic() - render_started
                sys.path.insert(0, str(REPO))
                from engine.config import Settings

                nice = args.worker_nice if args.worker_nice is not None else Settings.model_fields["worker_nice"].default
                lat, span, niced_s = polls_during_render(base, data, pid, n=args.pollers)
                rows.append((f"GET /projects/{{id}}, full render running (worker nice {nice}), every {UI_POLL_S:g} s, pollers only",
                             args.pollers, lat, span, None))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        plain_s = None
        if not args.skip_nice_compare:  # the same render with the worker at the API's own priority (before issue 19)
            proc, base = start_server(data, worker_nice=0)
            try:
                lat, span, plain_s = polls_during_render(base, data, pid, n=args.pollers)
                rows.append((f"GET /projects/{{id}}, full render running (worker nice 0), every {UI_POLL_S:g} s, pollers only",
                             args.pollers, lat, span, None))
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    print("| scenario | clients | requests | req/s | p50 ms | p99 ms | max ms | server CPU ms/request | server CPU | bench client CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, clients, lat, span, cpu in rows:
        cpu_cells = f"{cpu[0]:.2f} | {cpu[1]:.0f}% | {cpu[2]:.0f}%" if cpu is not None else "– | – | –"
        print(f"| {label} | {clients} | {len(lat)} | {len(lat) / span:.0f} | {pct(lat, 50):.1f} | {pct(lat, 99):.1f} | "
              f"{max(lat) if lat else float('nan'):.1f} | {cpu_cells} |")
    print(f"| SSE first event, render running | {args.sse} | {len(sse_first)} connected | | {pct(sse_first, 50):.1f} | "
          f"{pct(sse_first, 99):.1f} | {max(sse_first) if sse_first else float('nan'):.1f} | | | |")
    print()
    print(f"SSE events per client: median {statistics.median(sse_counts) if sse_counts else 0}, min {min(sse_counts) if sse_counts else 0}; "
          f"render of a {args.song_s:.0f} s song took {render_s:.1f} s (state {project['state']}); "
          f"uncached renders with pollers: {niced_s:.1f} s at nice {nice}"
          + (f", {plain_s:.1f} s at nice 0." if plain_s is not None else "."))
    print("Back to back, latency is queueing: the server's whole CPU goes to answering, and the load generator shares "
          "the same two cores. At the UI's rate the server is far from that limit.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
