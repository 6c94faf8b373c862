"""Render benchmark: encode floor vs storybeat vs MoviePy, incremental re-render, peak memory.

    .venv/bin/python bench/bench_render.py            # full: 60 s side by side at 1080p, 3-min song, 40 scenes
    .venv/bin/python bench/bench_render.py --quick    # shorter videos at 720p
    .venv/bin/python bench/bench_render.py --quick --skip-moviepy --repeat 5   # 5 interleaved rounds

Prints a markdown table.  Side by side, in interleaved rounds: three encode floors
(x264 on already-moving raw frames of the same length, size and preset: the
issue's sliding frames; storybeat's own frames; its own frames with its x264
settings), storybeat's full render, and the classic single ffmpeg filter graph
(zoompan + xfade + ass).  MoviePy is the peer baseline (``pip install moviepy``,
bench only).  Then re-render after one edit and peak memory on a longer song.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.audio.sample import write_wav  # noqa: E402
from engine.fingerprint import file_sha256  # noqa: E402
from engine.render import warp  # noqa: E402
from engine.render.command import escape_option_value  # noqa: E402
from engine.ffmpeg import ffmpeg_path  # noqa: E402
from engine.render.render import render_video, still_name  # noqa: E402
from engine.render.subtitles import FONTS_DIR, to_ass  # noqa: E402
from engine.render.timeline import Clip, RenderSpec, SubtitleLine, Timeline, build_timeline  # noqa: E402

FPS = 30
PRESET = "veryfast"
CRF = 20


def make_image(path: Path, *, seed: int, width: int = 1920, height: int = 1080) -> Path:
    """A picture with shapes, gradients and fine grain (x264 cannot cheat on it)."""
    rng = np.random.default_rng(seed)
    small = rng.random((height // 40, width // 40, 3)) * 255
    base = np.asarray(Image.fromarray(small.astype(np.uint8)).resize((width, height), Image.BICUBIC), np.float32)
    grain = rng.normal(0, 12, (height, width, 1)).astype(np.float32)
    Image.fromarray(np.clip(base + grain, 0, 255).astype(np.uint8)).save(path, compress_level=1)
    return path


def make_wav(path: Path, *, seconds: float, sample_rate: int = 44100) -> Path:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    sig = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))
    return write_wav(path, sig, sample_rate, stereo=True)


def make_song(folder: Path, *, seconds: float, scenes: int) -> tuple[list[Clip], Path, list[SubtitleLine]]:
    """Pictures, a WAV and lyric lines for a synthetic song of equal-length scenes."""
    scene_ms = int(seconds * 1000 / scenes)
    clips = []
    for i in range(scenes):
        img = folder / f"seg_{i:03d}_v1.png"
        if not img.exists():
            make_image(img, seed=i % 12)  # 12 distinct pictures, like the notes' measurement
        energy = 0.3 + 0.6 * ((i * 7) % 10) / 10
        clips.append(Clip(f"seg_{i:03d}", img, file_sha256(img), i * scene_ms, (i + 1) * scene_ms, "happy", energy,
                          tuple(range(i * scene_ms, (i + 1) * scene_ms, 500))))
    lines = [SubtitleLine(f"line number {k} of the song", k * 4000 + 200, k * 4000 + 3600,
                          tuple((w, k * 4000 + 200 + j * 700, k * 4000 + 800 + j * 700)
                                for j, w in enumerate(["line", "number", str(k), "of", "song"])))
             for k in range(int(seconds // 4))]
    return clips, make_wav(folder / f"track_{int(seconds)}.wav", seconds=seconds), lines


def cpu_seconds() -> float:
    """User+system CPU of this process and its waited-for children (ffmpeg): fair when the machine is shared."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class PeakRss:
    """Samples the summed RSS of this process and all its descendants (ffmpeg children included)."""

    def __init__(self, *, interval_s: float = 0.05, root_pid: int | None = None) -> None:
        self.interval_s = interval_s
        self.root_pid = root_pid
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                pid, ppid = int(stat.parent.name), int(fields[1])
                children.setdefault(ppid, []).append(pid)
                rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, IndexError, ValueError):
                continue
        total, todo = 0, [self.root_pid or os.getpid()]
        while todo:
            pid = todo.pop()
            total += rss.get(pid, 0)
            todo.extend(children.get(pid, []))
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._tree_rss())
            time.sleep(self.interval_s)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def encode_floor(clips: list[Clip], *, spec: RenderSpec, frames: int, out: Path) -> tuple[float, float]:
    """x264 encoding already-moving frames (the pictures slide by a pixel a frame) of the same length."""
    w, h = spec.width, spec.height
    planes = []
    for c in clips[:12]:
        img = Image.open(c.image_path).convert("RGB").resize((w + 200, h + 2), Image.BILINEAR)
        y, u, v = (np.asarray(p) for p in img.convert("YCbCr").split())
        planes.append((y, u[::2, ::2], v[::2, ::2]))
    per_clip = frames // len(clips) + 1
    t0, c0 = time.perf_counter(), cpu_seconds()
    proc = subprocess.Popen([ffmpeg_path(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                             "-s", f"{w}x{h}", "-r", str(spec.fps), "-i", "-", "-c:v", "libx264", "-preset",
                             spec.preset, "-crf", str(spec.crf), "-pix_fmt", "yuv420p", str(out)],
                            stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for f in range(frames):
        y, u, v = planes[(f // per_clip) % len(planes)]
        dx = (f % per_clip) % 100 * 2
        proc.stdin.write(np.ascontiguousarray(y[:h, dx:dx + w]).tobytes())
        proc.stdin.write(np.ascontiguousarray(u[: h // 2, dx // 2:dx // 2 + w // 2]).tobytes())
        proc.stdin.write(np.ascontiguousarray(v[: h // 2, dx // 2:dx // 2 + w // 2]).tobytes())
    proc.stdin.close()
    proc.wait()
    return time.perf_counter() - t0, cpu_seconds() - c0


def write_own_frames(tl: Timeline, *, cache: Path, out: Path) -> int:
    """Storybeat's own frames of ``tl`` (camera moves and transitions, no subtitles) as one raw yuv420p file.

    Needs the stills in ``cache`` (from an earlier render of the same timeline); not timed.
    """
    spec = tl.spec
    frames = 0
    with out.open("wb") as fh:
        for chunk in tl.chunks:
            stills = [warp.load_still(cache / still_name(tl.clips[i].clip.image_sha256, timeline=tl),
                                      width=spec.width, height=spec.height) for i in chunk.clip_indexes]
            for buf in warp.chunk_frames(chunk, clips=tl.clips, stills=stills, fps=spec.fps):
                fh.write(buf)
            frames += chunk.dur_frames
    return frames


def encode_raw_file(raw: Path, *, spec: RenderSpec, x264_params: str | None, out: Path) -> tuple[float, float]:
    """x264 encoding a raw yuv420p file (the page cache holds it): the floor on storybeat's own frames.

    With the render's x264 thread count (one per encode: the render runs one per core), so the CPU compares;
    the wall of this single encode does not (it uses one core).
    """
    params = ["-x264-params", x264_params] if x264_params else []
    t0, c0 = time.perf_counter(), cpu_seconds()
    subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                    "-s", f"{spec.width}x{spec.height}", "-r", str(spec.fps), "-i", str(raw), "-c:v", "libx264",
                    "-preset", spec.preset, "-crf", str(spec.crf), *params, "-threads", str(spec.x264_threads),
                    "-pix_fmt", "yuv420p", str(out)], check=True)
    return time.perf_counter() - t0, cpu_seconds() - c0


def filter_graph_args(tl: Timeline, *, audio: Path, ass: Path | None, out: Path) -> list[str]:
    """The classic single-ffmpeg approach: per scene ``zoompan``, chained ``xfade``, ``ass``, AAC audio."""
    spec = tl.spec
    w, h, fps = spec.width, spec.height, spec.fps
    inputs: list[str] = []
    chains: list[str] = []
    by_index = {t.index: t for t in tl.transitions}
    for i, tc in enumerate(tl.clips):
        n = tc.visible_end_frame - tc.visible_start_frame
        m, span = tc.motion, max(1, n - 1)
        inputs += ["-i", str(tc.clip.image_path)]
        z = f"({m.zoom_from}+({m.zoom_to}-{m.zoom_from})*on/{span})"
        cx = f"({m.cx_from}+({m.cx_to}-{m.cx_from})*on/{span})"
        cy = f"({m.cy_from}+({m.cy_to}-{m.cy_from})*on/{span})"
        chains.append(f"[{i}:v]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,"
                      f"zoompan=z='{z}':x='iw*{cx}-iw/zoom/2':y='ih*{cy}-ih/zoom/2':d={n}:s={w}x{h}:fps={fps},"
                      f"format=yuv420p[c{i}]")
    last, length = "c0", tl.clips[0].visible_end_frame - tl.clips[0].visible_start_frame
    for i in range(1, len(tl.clips)):
        t = by_index.get(i - 1)
        cut = t is None or t.kind == "cut"
        dur, kind = (1, "fade") if cut else (t.dur_frames, t.kind)
        chains.append(f"[{last}][c{i}]xfade=transition={kind}:duration={dur / fps:.6f}:"
                      f"offset={(length - dur) / fps:.6f}[x{i}]")
        last = f"x{i}"
        length += tl.clips[i].visible_end_frame - tl.clips[i].visible_start_frame - dur
    tail = f"[{last}]"
    if ass is not None:
        chains.append(f"{tail}ass=filename={escape_option_value(str(ass))}:"
                      f"fontsdir={escape_option_value(str(FONTS_DIR))}[vout]")
        tail = "[vout]"
    return ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", *inputs, "-i", str(audio),
            "-filter_complex", ";".join(chains), "-map", tail, "-map", f"{len(tl.clips)}:a:0",
            "-c:v", "libx264", "-preset", spec.preset, "-crf", str(spec.crf), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", f"{spec.audio_bitrate_k}k", "-frames:v", str(tl.total_frames),
            "-movflags", "+faststart", str(out)]


def filter_graph_render(tl: Timeline, *, audio: Path, ass: Path | None, out: Path) -> tuple[float, float]:
    """Wall time and CPU seconds of the single filter-graph render."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    subprocess.run([ffmpeg_path(), *filter_graph_args(tl, audio=audio, ass=ass, out=out)], check=True)
    return time.perf_counter() - t0, cpu_seconds() - c0


def process_start_row() -> tuple[str, str, str, str]:
    """The fixed CPU a fresh render process pays for the warp: importing numba and loading its compiled kernels."""
    def run(code: str) -> float:
        best = float("inf")
        for _ in range(3):
            c0 = cpu_seconds()
            subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
            best = min(best, cpu_seconds() - c0)
        return best

    base = run("import cv2, numpy")
    warm = run("import cv2, numpy; from engine.render import warp; warp.warm_up()")
    return ("fixed cost of a fresh render process: import numba, load the warp kernels (once per render)", "",
            f"{warm - base:.1f} s", "paid in parallel with the stills; not in the side-by-side rows (warmed up)")


def moviepy_render(clips: list[Clip], *, audio: Path, spec: RenderSpec, seconds: float, out: Path) -> tuple[float, float]:
    """The same kind of video with MoviePy: slow zoom per scene, crossfades, the audio."""
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, vfx

    w, h = spec.width, spec.height
    t0, c0 = time.perf_counter(), cpu_seconds()
    layers = []
    fade = 0.5
    for i, c in enumerate(clips):
        start, end = c.start_ms / 1000, c.end_ms / 1000
        dur = end - start + (fade if i + 1 < len(clips) else 0)
        pic = np.asarray(Image.open(c.image_path).convert("RGB").resize((w, h), Image.BICUBIC))
        clip = (ImageClip(pic).with_duration(dur)
                .resized(lambda t, d=dur: 1.0 + 0.15 * t / d)
                .with_position("center").with_start(start - (fade / 2 if i else 0)))
        if i:
            clip = clip.with_effects([vfx.CrossFadeIn(fade)])
        layers.append(clip)
    video = CompositeVideoClip(layers, size=(w, h)).with_duration(seconds).with_audio(AudioFileClip(str(audio)))
    video.write_videofile(str(out), fps=spec.fps, codec="libx264", preset=spec.preset, audio_codec="aac",
                          ffmpeg_params=["-crf", str(spec.crf), "-pix_fmt", "yuv420p"], logger=None, threads=2)
    return time.perf_counter() - t0, cpu_seconds() - c0


def timed_render(clips: list[Clip], *, audio: Path, lines: list[SubtitleLine], spec: RenderSpec, seconds: float,
                 out: Path, cache: Path, track_memory: bool = True) -> tuple[float, float, int, Any]:
    """Wall time, CPU seconds and peak memory (bytes, process tree) of one storybeat render."""
    tl = build_timeline(clips, duration_ms=int(seconds * 1000), spec=spec, seed=1)
    mem = PeakRss()
    with mem if track_memory else contextlib.nullcontext():
        t0, c0 = time.perf_counter(), cpu_seconds()
        res = render_video(tl, audio_path=audio, subtitles=lines, out_path=out, cache_dir=cache, workers=2)
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return wall, cpu, mem.peak_bytes, res


def song_in_child(tmp: Path, *, seconds: float, scenes: int, height: int, cache: Path,
                  edit: bool = False) -> dict[str, float]:
    """Render the synthetic song in a fresh process (as a worker does), measuring that process tree's peak memory.

    ``edit`` replaces scene 20's picture first (the re-render case; same ``cache``).
    """
    cmd = [sys.executable, __file__, "--child-song", str(tmp), str(seconds), str(scenes), str(height), str(cache)]
    proc = subprocess.Popen([*cmd, *(["--child-edit"] if edit else [])], stdout=subprocess.PIPE, text=True)
    with PeakRss(root_pid=proc.pid) as mem:
        out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"child render failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak"] = mem.peak_bytes
    return result


def child_song(tmp: Path, seconds: float, scenes: int, height: int, cache: Path, *, edit: bool) -> None:
    """The child's side: render and print wall, CPU (render only, and with the process's start-up and imports)
    and the chunk counts.  Making the song's files is not counted (the parent made the pictures already)."""
    startup_cpu = cpu_seconds()
    spec = RenderSpec(width=height * 16 // 9, height=height, fps=FPS, preset=PRESET, crf=CRF)
    clips, audio, lines = make_song(tmp, seconds=seconds, scenes=scenes)
    if edit:
        new_img = tmp / "seg_020_v2.png"
        clips[20] = replace(clips[20], image_path=new_img, image_sha256=file_sha256(new_img))
    wall, cpu, _, res = timed_render(clips, audio=audio, lines=lines, spec=spec, seconds=seconds,
                                     out=tmp / f"song_{scenes}{'_v2' if edit else ''}.mp4", cache=cache, track_memory=False)
    print(json.dumps({"wall": wall, "cpu": cpu, "process_cpu": startup_cpu + cpu, "encoded": res.chunks_encoded,
                      "reused": res.chunks_reused}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter videos at 720p")
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of the side-by-side runs, interleaved; each keeps its least CPU and median wall "
                             "(the machine is shared: the minimum is the least disturbed run)")
    parser.add_argument("--child-song", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--child-edit", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only-song", action="store_true", help="skip the side-by-side runs")
    parser.add_argument("--only-side", action="store_true", help="only the side-by-side runs")
    args = parser.parse_args()
    if args.child_song:
        folder, secs, n, h, cache = args.child_song
        child_song(Path(folder), float(secs), int(n), int(h), Path(cache), edit=args.child_edit)
        return
    side_s, song_s, height = (15.0, 40.0, 720) if args.quick else (60.0, 180.0, 1080)
    width = height * 16 // 9
    spec = RenderSpec(width=width, height=height, fps=FPS, preset=PRESET, crf=CRF)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench_render_") as tmp_s:
        tmp = Path(tmp_s)
        if not args.only_song:
            clips, audio, lines = make_song(tmp, seconds=side_s, scenes=int(side_s // 5))
            frames = int(round(side_s * FPS))
            tl = build_timeline(clips, duration_ms=int(side_s * 1000), spec=spec, seed=1)
            # warm-up render (not timed): numba's compiled kernels, the page cache; leaves the stills
            warm = tmp / "cache_warm"
            render_video(tl, audio_path=audio, subtitles=lines, out_path=tmp / "warm.mp4", cache_dir=warm, workers=2)
            raw = tmp / "own_frames.yuv"
            write_own_frames(tl, cache=warm, out=raw)
            ass = tmp / "subs.ass"  # the filter-graph baseline burns the same lines with libass
            ass.write_text(to_ass(lines, width=spec.width, height=spec.height, size=spec.subtitle_size,
                                  position=spec.subtitle_position), encoding="utf-8")
            contenders: list[tuple[str, Callable[[int], tuple[float, float]]]] = [
                ("floor_slide", lambda k: encode_floor(clips, spec=spec, frames=frames, out=tmp / "floor.mp4")),
                ("floor_own", lambda k: encode_raw_file(raw, spec=spec, x264_params=None, out=tmp / "own.mp4")),
                ("floor_tuned", lambda k: encode_raw_file(raw, spec=spec, x264_params=spec.x264_params,
                                                          out=tmp / "own_tuned.mp4")),
                ("storybeat", lambda k: timed_render(clips, audio=audio, lines=lines, spec=spec, seconds=side_s,
                                                     out=tmp / "ours.mp4", cache=tmp / f"cache_side_{k}",
                                                     track_memory=False)[:2]),  # sampling /proc costs CPU
                ("graph", lambda k: filter_graph_render(tl, audio=audio, ass=ass, out=tmp / "graph.mp4")),
            ]
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in contenders}
            for k in range(max(1, args.repeat)):  # interleaved, each round in a rotated order: drifts in load hit all
                for name, run in contenders[k % len(contenders):] + contenders[:k % len(contenders)]:
                    runs[name].append(run(k))
            raw.unlink()
            cpu = {name: min(c for _, c in r) for name, r in runs.items()}
            wall = {name: statistics.median(w for w, _ in r) for name, r in runs.items()}

            def paired(a: str, b: str) -> float:
                """Median over rounds of a's CPU over b's CPU in the same round."""
                return statistics.median(x[1] / y[1] for x, y in zip(runs[a], runs[b]))

            n = len(runs["storybeat"])
            label = f"{side_s:.0f} s {height}p"
            runs_note = f"least CPU and median wall of {n} interleaved rounds" if n > 1 else "one round"
            rows.append((f"encode floor (the issue's): x264 on sliding raw frames, {label}", f"{wall['floor_slide']:.1f} s",
                         f"{cpu['floor_slide']:.1f} s", f"1.00x ({runs_note})"))
            rows.append((f"encode floor on storybeat's own frames (same preset), {label}", f"{wall['floor_own']:.1f} s",
                         f"{cpu['floor_own']:.1f} s", f"{cpu['floor_own'] / cpu['floor_slide']:.2f}x the issue's floor"))
            rows.append((f"encode floor on storybeat's own frames with its x264 settings, {label}",
                         f"{wall['floor_tuned']:.1f} s", f"{cpu['floor_tuned']:.1f} s",
                         f"{cpu['floor_tuned'] / cpu['floor_slide']:.2f}x the issue's floor"))
            rows.append((f"**storybeat full render** (motion, transitions, subtitles, audio), {label}",
                         f"{wall['storybeat']:.1f} s", f"{cpu['storybeat']:.1f} s",
                         f"**{cpu['storybeat'] / cpu['floor_slide']:.2f}x** the issue's floor (paired "
                         f"{paired('storybeat', 'floor_slide'):.2f}x), {cpu['storybeat'] / cpu['floor_own']:.2f}x own "
                         f"frames, {cpu['storybeat'] / cpu['floor_tuned']:.2f}x own frames + settings; wall "
                         f"{wall['storybeat'] / wall['floor_slide']:.2f}x"))
            rows.append((f"single ffmpeg filter graph (zoompan, xfade, ass, audio), {label}", f"{wall['graph']:.1f} s",
                         f"{cpu['graph']:.1f} s", f"{cpu['graph'] / cpu['floor_slide']:.2f}x the issue's floor; "
                         f"storybeat uses {cpu['storybeat'] / cpu['graph']:.2f}x its CPU"))
            if not args.skip_moviepy:
                mp, mp_cpu = moviepy_render(clips, audio=audio, spec=spec, seconds=side_s, out=tmp / "moviepy.mp4")
                rows.append((f"MoviePy 2 (zoom + crossfade + audio, no subtitles), {side_s:.0f} s {height}p",
                             f"{mp:.1f} s", f"{mp_cpu:.1f} s",
                             f"storybeat {mp / wall['storybeat']:.1f}x faster wall, "
                             f"{mp_cpu / cpu['storybeat']:.1f}x less CPU"))

        if not args.only_side:
            rows.append(process_start_row())
            mem_rows = []
            make_song(tmp, seconds=song_s, scenes=40)  # the pictures, made once here and not in the timed children
            make_image(tmp / "seg_020_v2.png", seed=77)
            for scenes in (10, 40):
                full = song_in_child(tmp, seconds=song_s, scenes=scenes, height=height, cache=tmp / f"cache_{scenes}")
                mem_rows.append((scenes, full))
                if scenes == 40:
                    edit = song_in_child(tmp, seconds=song_s, scenes=scenes, height=height, cache=tmp / "cache_40",
                                         edit=True)
                    rows.append((f"re-render after editing 1 of 40 scenes, {song_s:.0f} s song {height}p "
                                 f"(full: {full['wall']:.1f} s)", f"{edit['wall']:.1f} s", f"{edit['cpu']:.1f} s",
                                 f"{100 * edit['wall'] / full['wall']:.1f}% of full wall, "
                                 f"{100 * edit['cpu'] / full['cpu']:.1f}% CPU "
                                 f"({100 * edit['process_cpu'] / full['process_cpu']:.1f}% counting the fresh process's "
                                 f"start-up); {edit['encoded']} chunks encoded, {edit['reused']} reused"))
            for scenes, full in mem_rows:
                rows.append((f"peak memory (the render process and its ffmpegs), {song_s:.0f} s {height}p, {scenes} scenes",
                             f"{full['wall']:.1f} s", f"{full['cpu']:.1f} s", f"{full['peak'] / 2**20:.0f} MB peak"))
    load = os.getloadavg()[0]
    print(f"\n| measurement ({os.cpu_count()} cores, load {load:.1f}, {Path(ffmpeg_path()).name}) | wall | CPU | note |")
    print("|---|---|---|---|")
    for name, wall_s, cpu_s, note in rows:
        print(f"| {name} | {wall_s} | {cpu_s} | {note} |")
    print("\nCPU is user+system of the process tree (`getrusage`, ffmpeg children included); the machine is shared, so "
          "the side-by-side runs are interleaved rounds.  The issue's floor slides the pictures by whole pixels (x264 "
          "finds exact copies); the own-frames floors encode storybeat's real frames, written to a file first.  Why the "
          "1.2x target is out of reach, and everything tried: [render_speed.md](render_speed.md).")


if __name__ == "__main__":
    main()
