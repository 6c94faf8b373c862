"""Cluster benchmark: a 3-minute render on this machine alone vs on a Dask cluster of 1 and of 2 workers.

    .venv/bin/python bench/bench_cluster.py              # 3-minute song, 40 scenes, preview size, 2 interleaved rounds
    .venv/bin/python bench/bench_cluster.py --quick      # 1-minute song, 1 round
    .venv/bin/python bench/bench_cluster.py --full-size  # at 720p

Everything runs on this machine: moto's S3 server (tests/fakes/s3_server.py) as
the bucket, two Dask schedulers on loopback (one with 1 worker, one with 2;
each worker 1 thread, its own scratch folder). Each round renders every mode
from an empty cache (the chunk keys in the bucket and the workers' stills are
removed first), in interleaved order. CPU seconds are the runner's plus the
workers' (their ffmpeg children included). Prints a markdown table.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_render import cpu_seconds, make_song  # noqa: E402
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """CPU seconds of a process and its waited-for children (utime, stime, cutime, cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / TICK


def wait_file(path: Path, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


class Cluster:
    """A scheduler with ``n`` workers on loopback."""

    def __init__(self, root: Path, n: int, env: dict[str, str]) -> None:
        self.file = root / f"scheduler{n}.json"
        self.scratch = [root / f"c{n}w{i}" for i in range(n)]
        self.procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                        "--port", "0", "--no-dashboard", "--scheduler-file", str(self.file)],
                                       env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        wait_file(self.file, self.procs[0], "the scheduler")
        self.workers = []
        for i, scratch in enumerate(self.scratch):
            scratch.mkdir()
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(self.file), "--nthreads", "1",
                 "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}"],
                env={**env, "TMPDIR": str(scratch)}, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.procs += self.workers
        from distributed import Client

        with Client(scheduler_file=str(self.file), timeout=60) as client:
            client.wait_for_workers(n, timeout=120)
            client.run(_warm_up)  # the warp kernels loaded on every worker, as a long-lived worker has them

    def cpu(self) -> float:
        """CPU seconds of the workers so far."""
        return sum(proc_cpu(p.pid) for p in self.workers)

    def clear(self) -> None:
        """Forget the workers' stills (every mode starts from nothing)."""
        for scratch in self.scratch:
            for path in scratch.rglob("still_*.yuv"):
                path.unlink()

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def _warm_up() -> None:
    from engine.render import warp

    warp.warm_up()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 1-minute song, 1 round")
    parser.add_argument("--full-size", action="store_true", help="720p instead of the preview size")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    seconds, scenes = (60, 14) if args.quick else (180, 40)
    repeat = args.repeat or (1 if args.quick else 2)

    tmp = Path(tempfile.mkdtemp(prefix="storybeat-bench-cluster-"))
    port_file = tmp / "s3port"
    s3 = subprocess.Popen([sys.executable, "-m", "tests.fakes.s3_server", "--port", "0", "--port-file", str(port_file)],
                          cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clusters: list[Cluster] = []
    try:
        wait_file(port_file, s3, "the S3 server")
        endpoint = f"http://127.0.0.1:{port_file.read_text()}"
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, **CREDS, "PYTHONPATH": str(REPO)}
        os.environ.update({**CREDS, "STORYBEAT_DATA": str(tmp / "data"), "STORYBEAT_S3_ENDPOINT_URL": endpoint,
                           "STORYBEAT_STORAGE": f"s3://{bucket}/projects"})
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
        from engine import cluster, sync
        from engine.config import get_settings
        from engine.render.render import render_video
        from engine.render.timeline import build_timeline, render_spec

        images = tmp / "data" / "projects" / "bench1" / "images"
        images.mkdir(parents=True)
        clips, audio, lines = make_song(images, seconds=seconds, scenes=scenes)
        store = sync.store()
        for clip in clips:
            store.put_file(sync.key_of(clip.image_path), clip.image_path)  # type: ignore[union-attr, arg-type]
        spec = render_spec(aspect="16:9", resolution=720, preview=not args.full_size)
        timeline = build_timeline(clips, duration_ms=seconds * 1000, spec=spec, seed=3)
        cache = images.parent / "renders" / "cache"
        clusters = [Cluster(tmp, 1, env), Cluster(tmp, 2, env)]
        modes = {"this machine alone": None, "cluster, 1 worker": clusters[0], "cluster, 2 workers": clusters[1]}
        rows: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in modes}
        for rnd in range(repeat):
            order = list(modes) if rnd % 2 == 0 else list(reversed(modes))
            for mode in order:
                target = modes[mode]
                shutil.rmtree(cache, ignore_errors=True)
                for key in store.list("bench1/renders/"):  # type: ignore[union-attr]
                    store.delete(key)  # type: ignore[union-attr]
                if target is not None:
                    target.clear()
                    os.environ["STORYBEAT_CLUSTER"] = str(target.file)
                else:
                    os.environ.pop("STORYBEAT_CLUSTER", None)
                get_settings.cache_clear()
                load = os.getloadavg()[0]
                cpu0, wcpu0, s3cpu0, t0 = (cpu_seconds(), target.cpu() if target else 0.0, proc_cpu(s3.pid),
                                           time.perf_counter())
                render_video(timeline, audio_path=audio, subtitles=lines, out_path=images.parent / "renders" / "out.mp4",
                             cache_dir=cache, workers=get_settings().render_workers)
                wall = time.perf_counter() - t0
                cpu = cpu_seconds() - cpu0 + (target.cpu() - wcpu0 if target else 0.0)
                s3cpu = proc_cpu(s3.pid) - s3cpu0
                rows[mode].append((wall, cpu, load, s3cpu))
                print(f"round {rnd + 1} {mode}: {wall:.1f} s wall, {cpu:.1f} s CPU (+{s3cpu:.1f} s the S3 server), "
                      f"load {load:.1f}", file=sys.stderr)
        cluster.close()
        size = f"{spec.width}x{spec.height}"
        print(f"A {seconds} s song, {scenes} scenes, {size}{' preview' if spec.preview else ''} ({len(timeline.chunks)} chunks), "
              f"from an empty cache; {repeat} interleaved round(s) on {os.cpu_count()} cores. CPU: the runner's "
              "plus the workers' (ffmpeg included); the S3 server's (moto, one request at a time) apart. Load: the 1-minute "
              "load average when each render started.\n")
        print("| where the chunks are encoded | wall s, least (each round) | CPU s, least (each round) | "
              "S3 server CPU s | load (each round) |")
        print("|---|---:|---:|---:|---:|")
        for mode, values in rows.items():
            each = lambda i: " / ".join(f"{v[i]:.1f}" for v in values)  # noqa: E731
            print(f"| {mode} | {min(v[0] for v in values):.1f} ({each(0)}) | {min(v[1] for v in values):.1f} ({each(1)}) | "
                  f"{each(3)} | {each(2)} |")
    finally:
        for c in clusters:
            c.stop()
        s3.kill()
        s3.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
