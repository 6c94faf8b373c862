"""The whole offline pipeline against the song's length, beside the render's own-frames floor (issue 17).

For each song length and resolution: a generated song with timed lyrics goes through the product's CLI in
fresh processes, as a user runs it (``storybeat new`` then ``storybeat run``: analysis, storyboard, prompts,
pictures, render), on a fresh data root, local provider. Reported: wall and CPU of the whole run (the
process tree), each step's wall from the job record, the whole run over the song's length, and the
render's floor: x264 encoding the final video's own frames (decoded to raw first, not timed) with the
render's own settings, in the same run.

    .venv/bin/python bench/bench_pipeline.py            # 60 s and 180 s songs at 720p and 1080p
    .venv/bin/python bench/bench_pipeline.py --quick    # 60 s at 720p
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.audio.sample import make_song  # noqa: E402
from engine.ffmpeg import ffmpeg_path  # noqa: E402
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


def own_frames_floor(mp4: Path, *, width: int, height: int, scratch: Path) -> tuple[float, float]:
    """x264 on the video's own frames with the render's settings: (wall, CPU). The decode is not timed."""
    spec = RenderSpec(width=width, height=height)
    raw = scratch / "frames.yuv"
    subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-i", str(mp4), "-an", "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw)],
                   check=True)
    probe = subprocess.run([ffmpeg_path(), "-i", str(mp4)], capture_output=True, text=True).stderr
    fps = next(line.split(" fps")[0].rsplit(",", 1)[1].strip() for line in probe.splitlines() if " fps" in line)
    size = f"{width}x{height}"
    params = ["-x264-params", spec.x264_params] if spec.x264_params else []
    t0, c0 = time.perf_counter(), children_cpu()
    subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-r", fps,
                    "-i", str(raw), "-c:v", "libx264", "-preset", spec.preset, "-crf", str(spec.crf), *params,
                    "-pix_fmt", "yuv420p", str(scratch / "floor.mp4")], check=True)
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    raw.unlink()
    return wall, cpu


def one(seconds: float, resolution: int) -> dict[str, float | str]:
    """The whole pipeline for one song length and resolution, and its render floor."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        wav, lrc = song(tmp, seconds=seconds)
        env = {**os.environ, "STORYBEAT_DATA": str(tmp / "data"), "GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""}
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
        floor_wall, floor_cpu = own_frames_floor(folder / render["file"], width=render["width"], height=render["height"], scratch=tmp)
        walls = step_walls(job)
        scenes = len(json.loads((folder / "segments.json").read_text())["scenes"])
    return {"song_s": length, "resolution": f"{render['height']}p", "scenes": scenes, "wall": wall, "cpu": cpu,
            "ratio": wall / length, **{f"step_{k}": v for k, v in walls.items()},
            "floor_wall": floor_wall, "floor_cpu": floor_cpu}


def main(argv: list[str] | None = None) -> int:
    """Print the markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    cases = [(60.0, 720)] if args.quick else [(60.0, 720), (60.0, 1080), (180.0, 720), (180.0, 1080)]
    load = os.getloadavg()[0]
    rows = [one(s, r) for s, r in cases]
    print("## Whole pipeline\n")
    print(f"`bench_pipeline.py{' --quick' if args.quick else ''}`: a generated song with timed lyrics through the "
          "CLI in fresh processes (`storybeat new`, `storybeat run`), local provider, fresh data root; "
          f"load {load:.1f} at the start. Goal (issue 17): the whole run within 0.5x the song's length at 720p "
          "and 1.0x at 1080p; the render within 1.1x its own-frames floor (x264 on the final video's own frames, "
          "same settings, same run).\n")
    print("| song | resolution | scenes | whole run wall | / song length | CPU | analyze | segment | prompt | draw | render "
          "| own-frames floor wall | render / floor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        render = float(r.get("step_render", float("nan")))
        print(f"| {float(r['song_s']):.0f} s | {r['resolution']} | {r['scenes']} | {float(r['wall']):.1f} s | "
              f"**{float(r['ratio']):.2f}x** | {float(r['cpu']):.1f} s | "
              + " | ".join(f"{float(r.get(f'step_{k}', float('nan'))):.1f} s" for k in ["analyze", "segment", "prompt", "draw", "render"])
              + f" | {float(r['floor_wall']):.1f} s | {render / float(r['floor_wall']):.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
