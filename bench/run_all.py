"""Run every benchmark and write docs/benchmarks.md (``make bench``; ``--quick`` for shorter runs).

Each bench script prints a markdown section; this collects them with the
machine's description and the load at the start, so numbers can be read in
context. Speed is measured here, never asserted in tests.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "benchmarks.md"

BENCHES: list[tuple[str, str, list[str], list[str]]] = [
    # (title, script, full args, quick args)
    ("Listening on real music", "bench_beats.py", [], ["--methods", "storybeat,librosa,madmom-downbeats"]),
    ("Audio analysis", "bench_analysis.py", [], []),
    ("Lyrics alignment", "bench_lyrics.py", [], ["--quick"]),
    ("Lyrics alignment (sung-like voice)", "bench_lyrics.py", ["--sung", "--levels", "6", "12"], ["--sung", "--quick", "--levels", "6"]),
    ("Storyboard", "bench_storyboard.py", [], ["--quick"]),
    ("Illustrator", "bench_illustrator.py", [], ["--reps", "2", "--scenes", "12"]),
    ("Pictures over a song", "bench_cast.py", [], ["--quick"]),
    ("Render", "bench_render.py", [], ["--quick", "--skip-moviepy"]),
    ("Workers across machines", "bench_cluster.py", [], ["--quick"]),
    ("Whole pipeline", "bench_pipeline.py", [], ["--quick"]),
    ("x264 settings", "bench_x264.py", ["--seconds", "20", "--repeat", "3"], ["--seconds", "10", "--repeat", "1"]),
    ("x264 threads", "bench_threads.py", [], ["--seconds", "10", "--repeat", "2", "--resolutions", "720"]),
    ("Encoding ahead", "bench_ahead.py", ["--repeat", "3"], ["--seconds", "30", "--repeat", "1"]),
    ("API", "bench_api.py", [], ["--pollers", "30", "--sse", "30", "--seconds", "8"]),
]


def machine_line() -> str:
    """CPU, cores, Python and the 1-minute load when the run started."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load {load:.1f} at start"


def split_sections(text: str) -> tuple[str, dict[str, str]]:
    """The preamble before the first '## ' heading, and each '## ' section by title."""
    head, *rest = ("\n" + text).split("\n## ")
    return head.strip("\n"), {part.split("\n", 1)[0].strip(): "## " + part.rstrip() for part in rest}


def merge_sections(old: str, new: str) -> str:
    """Replace (or add) the sections of ``new`` in ``old``, keeping the others and their order."""
    old_head, old_parts = split_sections(old)
    new_head, new_parts = split_sections(new)
    merged = {**old_parts, **new_parts}
    order = list(old_parts) + [t for t in new_parts if t not in old_parts]
    return "\n\n".join([new_head or old_head, *(merged[t] for t in order)]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benches (all, or those named) and rewrite docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("only", nargs="*", help="titles or script names to run (default: all)")
    args = parser.parse_args(argv)
    sections = [
        "# Benchmarks",
        "",
        f"Made by `make bench` (`bench/run_all.py{' --quick' if args.quick else ''}`) on "
        f"{dt.date.today().isoformat()}: {machine_line()}.",
        "Wall times on a shared 2-core machine are noisy; where a bench reports CPU seconds, those are the fairer number.",
        "",
    ]
    failed = 0
    for title, script, full, quick in BENCHES:
        if args.only and title not in args.only and script not in args.only:
            continue
        cmd = [sys.executable, str(REPO / "bench" / script), *(quick if args.quick else full)]
        started = time.monotonic()
        print(f"== {title}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        took = time.monotonic() - started
        body = proc.stdout.strip()
        if proc.returncode != 0:
            failed += 1
            body += f"\n\n**bench failed (exit {proc.returncode})**\n\n```\n{proc.stderr[-2000:]}\n```"
        body = "\n".join("##" + line if line.startswith("#") else line for line in body.splitlines())
        sections += [f"## {title}", "", f"`{' '.join(Path(c).name if i == 1 else c for i, c in enumerate(cmd[1:], 1))}` ({took:.0f} s)", "", body, ""]
    if args.only and OUT.exists():
        OUT.write_text(merge_sections(OUT.read_text(), "\n".join(sections)))
    else:
        OUT.write_text("\n".join(sections) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
