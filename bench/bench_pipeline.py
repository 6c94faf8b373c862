"""The whole offline pipeline against the song's length, beside the render's own-frames floor (issue 17).

For each song length and resolution: a generated song with timed lyrics goes through the product's CLI in
fresh processes, as a user runs it (``storybeat new`` then ``storybeat run``: analysis, storyboard, prompts,
pictures, render), on a fresh data root, local provider. Reported: wall and CPU of the whole run (the
process tree), each step's wall from the job record, the whole run over the song's length, and the
render's floor: x264 encoding the final video's own frames (decoded to raw first, not timed) with the
render's own settings, in the same run; and the render alone again (fresh process, empty cache).

This host moves the same x264 encode by up to 10% from one run to the next, more than the margin the goal
leaves, so the render (stills and AAC cached) and the floor are measured ``--pairs`` times (5: the median
stands through two disturbed pairs), interleaved (render, floor, floor, render, ...): reported are the median
of the paired ratios and the ratio of the least CPU of each.

    .venv/bin/python bench/bench_pipeline.py            # 60 s and 180 s songs at 720p and 1080p
    .venv/bin/python bench/bench_pipeline.py --quick    # 60 s at 720p
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.audio.sample import make_song  # noqa: E402
from engine.ffmpeg import ffmpeg_path  # noqa: E402
from engine.render import command  # noqa: E402
from engine.render.ffmpeg import probe  # noqa: E402
from engine.render.timeline import RenderSpec  # noqa: E402

LYRICS = ["Streetlights hum a song in blue", "We are running with the night", "Hold on tight, the city's ours",
          "Hearts like neon burning bright"]


def children_cpu() -> float:
    """User + system seconds of every finished child process so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def song(folder: Path, *, seconds: float) -> tuple[Path, Path]:
    """A generated song of about ``seconds`` (120 BPM, verse/chorus) and an LRC with a line every 4 bars."""
    bars = max(4, round(seconds / 2.0))
    wav = folder / f"song_{int(seconds)}s.wav"
    half = bars // 2
    make_song(wav, bpm=120, bars=bars, sections=[("verse", half // 2), ("chorus", half - half // 2),
                                                 ("verse", (bars - half) // 2), ("chorus", bars - half - (bars - half) // 2)], seed=5)
    lrc = folder / f"song_{int(seconds)}s.lrc"
    lines = [f"[{int(t // 60):02d}:{t % 60:05.2f}]{LYRICS[k % len(LYRICS)]}" for k, t in enumerate(range(1, int(seconds) - 4, 8))]
    lrc.write_text("\n".join(lines) + "\n")
    return wav, lrc


def run_cli(args: list[str], *, env: dict[str, str]) -> str:
    """``python -m engine ARGS`` in a fresh process; its stdout."""
    out = subprocess.run([sys.executable, "-m", "engine", *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout


def step_walls(job: dict) -> dict[str, float]:
    """Each step's wall seconds from a job record."""
    walls = {}
    for step in job.get("steps", []):
        if step.get("started_at") and step.get("finished_at"):
            a = datetime.fromisoformat(step["started_at"].replace("Z", "+00:00"))
            b = datetime.fromisoformat(step["finished_at"].replace("Z", "+00:00"))
            walls[step["name"]] = (b - a).total_seconds()
    return walls


FLOOR_PIECE_FRAMES = 240  # the render's longest chunk (8 s at 30 fps)


def own_frames_floor(mp4: Path, *, width: int, height: int, scratch: Path) -> tuple[float, float]:
    """x264 on the video's own frames with the render's exact encoder settings, as the render runs it: (wall, CPU).

    The video is cut in pieces of the render's chunk length; two at a time are decoded to raw files (not timed),
    then encoded by two ffmpegs at once (timed), each with ``command.video_encoder_args`` (threads included),
    like the render's two chunk encodes; so the floor's wall is comparable to the render step's.
    """
    spec = RenderSpec(width=width, height=height)
    total = int(round(probe(mp4).duration_ms / 1000 * spec.fps))  # type: ignore[operator]
    size = f"{width}x{height}"
    wall = cpu = 0.0
    for start in range(0, total, 2 * FLOOR_PIECE_FRAMES):
        raws = []
        for k, first in enumerate(range(start, min(total, start + 2 * FLOOR_PIECE_FRAMES), FLOOR_PIECE_FRAMES)):
            raw = scratch / f"piece_{k}.yuv"
            subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-ss", f"{first / spec.fps:.6f}", "-i", str(mp4), "-an",
                            "-frames:v", str(min(FLOOR_PIECE_FRAMES, total - first)), "-f", "rawvideo",
                            "-pix_fmt", "yuv420p", str(raw)], check=True)
            raws.append(raw)
        t0, c0 = time.perf_counter(), children_cpu()
        procs = [subprocess.Popen([ffmpeg_path(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size,
                                   "-r", str(spec.fps), "-i", str(raw), *command.video_encoder_args(spec), "-f", "mp4",
                                   str(raw.with_suffix(".mp4"))]) for raw in raws]
        if any(proc.wait() != 0 for proc in procs):
            raise RuntimeError("the floor's x264 encode failed")
        wall, cpu = wall + time.perf_counter() - t0, cpu + children_cpu() - c0
        for raw in raws:
            raw.unlink()
    return wall, cpu


RENDER_ALONE = """
import json, resource, sys, time
from pathlib import Path
from engine.config import get_settings
from engine.providers.local import local_provider
from engine.render import warp
from engine.render.render import render_video
from engine.steps import render as step
from engine.steps.common import StepContext
from engine.storage import ProjectFolder

def cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

warp.warm_up()  # a fresh process's fixed cost (numba's kernels), not the render's work
folder = ProjectFolder(sys.argv[1])
ctx = StepContext(folder=folder, project=folder.load_project(), provider=local_provider())
cache, out = Path(sys.argv[3]), {}
for label in sys.argv[4].split(","):
    if label == "frames":  # the stills and the AAC stay cached (each made once per picture / per song)
        for chunk in cache.glob("chunk_*.mp4"):
            chunk.unlink()
    t0, c0 = time.perf_counter(), cpu()
    clips, subtitles, spec, duration_ms = step.build_inputs(ctx)
    timeline = step.plan_timeline(ctx, clips, spec=spec, duration_ms=duration_ms)
    render_video(timeline, audio_path=folder.track_wav, subtitles=subtitles, out_path=Path(sys.argv[2]),
                 cache_dir=cache, workers=get_settings().render_workers)
    out[label] = {"wall": time.perf_counter() - t0, "cpu": cpu() - c0}
print(json.dumps(out))
"""


def render_alone(pid: str, *, env: dict[str, str], scratch: Path,
                 labels: tuple[str, ...] = ("empty", "frames")) -> dict[str, dict[str, float]]:
    """The render by itself from the project's pictures, in a fresh process (all its kernels loaded first, not counted).

    ``empty``: an empty cache (stills, AAC and chunks made); ``frames``: again with the stills and the AAC cached
    (what the own-frames floor compares with: each still is made once per picture, the AAC once per song).
    """
    out = subprocess.run([sys.executable, "-c", RENDER_ALONE, pid, str(scratch / "alone.mp4"), str(scratch / "alone_cache"),
                          ",".join(labels)],
                         env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def render_against_floor(pid: str, mp4: Path, *, env: dict[str, str], scratch: Path, width: int, height: int,
                         pairs: int) -> dict[str, float]:
    """The render (stills and AAC cached) and its own-frames floor, ``pairs`` times each, interleaved (ABBA...).

    Returns the median render and floor CPU, the median of the paired ratios, and the least-CPU ratio.
    """
    renders, floors = [], []
    for k in range(max(1, pairs)):
        for what in (("render", "floor") if k % 2 == 0 else ("floor", "render")):
            if what == "render":
                renders.append(render_alone(pid, env=env, scratch=scratch, labels=("frames",))["frames"]["cpu"])
            else:
                floors.append(own_frames_floor(mp4, width=width, height=height, scratch=scratch)[1])
    return {"pair_render_cpu": statistics.median(renders), "pair_floor_cpu": statistics.median(floors),
            "pair_ratio_median": statistics.median(r / f for r, f in zip(renders, floors)),
            "pair_ratio_least": min(renders) / min(floors), "pairs": float(len(renders))}


def one(seconds: float, resolution: int, *, ahead: str = "auto", pairs: int = 3) -> dict[str, float | str]:
    """The whole pipeline for one song length and resolution, the render alone, and its own-frames floor."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        wav, lrc = song(tmp, seconds=seconds)
        env = {**os.environ, "STORYBEAT_DATA": str(tmp / "data"), "GEMINI_API_KEY": "", "GOOGLE_API_KEY": "",
               "STORYBEAT_ENCODE_AHEAD": ahead}
        t0, c0 = time.perf_counter(), children_cpu()
        pid = run_cli(["new", str(wav), "--lyrics", str(lrc), "--provider", "local", "--resolution", str(resolution)],
                      env=env).strip().splitlines()[-1]
        run_cli(["run", pid, "--quiet"], env=env)
        wall, cpu = time.perf_counter() - t0, children_cpu() - c0
        folder = tmp / "data" / "projects" / pid
        project = json.loads((folder / "project.json").read_text())
        job = json.loads((folder / "jobs" / "pipeline.json").read_text())
        render = project["renders"][-1]
        length = render["duration_ms"] / 1000
        alone = render_alone(pid, env=env, scratch=tmp)
        floor_wall, floor_cpu = own_frames_floor(folder / render["file"], width=render["width"], height=render["height"], scratch=tmp)
        paired = render_against_floor(pid, folder / render["file"], env=env, scratch=tmp, width=render["width"],
                                      height=render["height"], pairs=pairs)
        walls = step_walls(job)
        scenes = len(json.loads((folder / "segments.json").read_text())["scenes"])
    return {"song_s": length, "resolution": f"{render['height']}p", "scenes": scenes, "wall": wall, "cpu": cpu,
            "ratio": wall / length, **{f"step_{k}": v for k, v in walls.items()}, "ahead": ahead,
            "alone_wall": alone["empty"]["wall"], "alone_cpu": alone["empty"]["cpu"],
            "frames_wall": alone["frames"]["wall"], "frames_cpu": alone["frames"]["cpu"],
            "floor_wall": floor_wall, "floor_cpu": floor_cpu, **paired}


def main(argv: list[str] | None = None) -> int:
    """Print the markdown section (paste it into docs/benchmarks.md, or let bench/run_all.py do it)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the 60 s song at 720p only")
    parser.add_argument("--ahead", choices=["auto", "on", "off", "both"], default="auto",
                        help="encoding ahead while drawing (STORYBEAT_ENCODE_AHEAD; auto: the product's default, off "
                             "with the local illustrator); both: each case on and off")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every case, interleaved")
    parser.add_argument("--pairs", type=int, default=5, help="render (frames cached) and floor measured this many "
                        "more times each, interleaved, for the median of the paired ratios")
    args = parser.parse_args(argv)
    cases = [(60.0, 720)] if args.quick else [(60.0, 720), (60.0, 1080), (180.0, 720), (180.0, 1080)]
    modes = ["on", "off"] if args.ahead == "both" else [args.ahead]
    load0 = os.getloadavg()[0]
    rows = []
    for k in range(max(1, args.repeat)):
        for s, r in cases:
            for a in (modes if k % 2 == 0 else modes[::-1]):
                rows.append(one(s, r, ahead=a, pairs=args.pairs))
    rows.sort(key=lambda r: (float(r["song_s"]), int(str(r["resolution"]).rstrip("p")), r["ahead"] == "off"))
    load1 = os.getloadavg()[0]
    flags = " ".join(f for f in ["--quick" if args.quick else "", f"--ahead {args.ahead}" if args.ahead != "auto" else "",
                                 f"--repeat {args.repeat}" if args.repeat > 1 else "",
                                 f"--pairs {args.pairs}" if args.pairs != parser.get_default("pairs") else ""] if f)
    print(f"`bench_pipeline.py{' ' + flags if flags else ''}`: a generated song with timed lyrics through the "
          "CLI in fresh processes (`storybeat new`, `storybeat run`), local provider, fresh data root; "
          f"load average {load0:.1f} at the start, {load1:.1f} at the end ({os.cpu_count()} cores). "
          "Goal (issue 17): the whole run within 0.5x the song's length at 720p and 1.0x at 1080p; the render "
          "within 1.1x its own-frames floor. *Render alone*: the same render again in a fresh process from the "
          "pictures (numba's kernels loaded first, not counted), with an empty cache, then with only the stills and "
          "the AAC cached (*frames*: each still is made once per picture, the AAC once per song). *Own-frames "
          "floor*: x264 on the final video's own frames (decoded to raw first, not timed) with the render's exact "
          "encoder settings, two 8 s pieces at a time like the render's chunk encodes, in the same run. CPU is "
          "the fairer number on a shared machine. *Render against floor, paired*: the frames render and the floor "
          f"{args.pairs} more times each, interleaved (render, floor, floor, render, ...), because this host moves "
          "the same encode by up to 10% between runs: the median CPU of each, the **median of the paired ratios** "
          "(the goal's number) and the ratio of the least CPU of each.\n")
    print("| song | resolution | scenes | encode ahead | whole run wall | **/ song length** | run CPU | analyze | "
          "segment | prompt | draw | render step | own-frames floor wall / CPU | render alone, empty cache: wall / CPU "
          "| / floor (CPU) | render alone, frames: wall / CPU | / floor (CPU) | paired: render / floor CPU (medians) "
          "| **paired ratio, median** | least / least |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        f = {k: float(v) for k, v in r.items() if isinstance(v, float | int)}
        steps = " | ".join(f"{f.get(f'step_{k}', float('nan')):.1f} s" for k in ["analyze", "segment", "prompt", "draw", "render"])
        print(f"| {f['song_s']:.0f} s | {r['resolution']} | {r['scenes']} | {r['ahead']} | {f['wall']:.1f} s | "
              f"**{f['ratio']:.2f}x** | {f['cpu']:.1f} s | {steps} | {f['floor_wall']:.1f} s / {f['floor_cpu']:.1f} s | "
              f"{f['alone_wall']:.1f} s / {f['alone_cpu']:.1f} s | {f['alone_cpu'] / f['floor_cpu']:.2f}x | "
              f"{f['frames_wall']:.1f} s / {f['frames_cpu']:.1f} s | {f['frames_cpu'] / f['floor_cpu']:.2f}x | "
              f"{f['pair_render_cpu']:.1f} s / {f['pair_floor_cpu']:.1f} s | **{f['pair_ratio_median']:.2f}x** | "
              f"{f['pair_ratio_least']:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
