"""Encoding ahead while drawing: draw + render with it on and off, with the local illustrator and a remote-like one.

A song is analysed, storyboarded and prompted once; then, in interleaved rounds, a copy runs the draw and render
steps (``Runner``, in process) with ``STORYBEAT_ENCODE_AHEAD`` on and off.  "remote-like" is the local
illustrator made to wait ``--wait`` seconds per picture first, as a provider answering over the network does
(the core is free meanwhile); its name is not "local", so the ahead-encoder uses every render worker.
Reported: the walls of the draw and render steps and of both together, and the CPU (process tree).

    .venv/bin/python bench/bench_ahead.py [--seconds 60] [--resolution 720] [--wait 1.0] [--repeat 2]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import song  # noqa: E402
from engine import machine  # noqa: E402
from engine import project as actions  # noqa: E402
from engine.config import get_settings  # noqa: E402
from engine.models import ProjectSettings  # noqa: E402
from engine.providers.base import Provider  # noqa: E402
from engine.providers.local import local_provider  # noqa: E402
from engine.runner import Runner  # noqa: E402
from engine.storage import ProjectFolder  # noqa: E402


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class RemoteLike:
    """The local illustrator, answering after ``wait_s`` of idle waiting (like a provider over the network)."""

    def __init__(self, wait_s: float) -> None:
        self.inner = local_provider().illustrator
        self.name, self.version, self.wait_s = "remote-like", self.inner.version, wait_s

    def model_for(self, s):  # type: ignore[no-untyped-def]
        """The inner illustrator's model."""
        return self.inner.model_for(s)

    def draw_reference(self, **kw):  # type: ignore[no-untyped-def]
        """The inner illustrator's reference picture."""
        return self.inner.draw_reference(**kw)

    def draw(self, **kw):  # type: ignore[no-untyped-def]
        """Wait, then draw locally."""
        time.sleep(self.wait_s)
        return self.inner.draw(**kw)


def one(template: Path, root: Path, *, provider: Provider | None, ahead: bool) -> dict[str, float]:
    """Draw and render a copy of the prompted template; step walls and CPU."""
    os.environ["STORYBEAT_DATA"] = str(root)
    os.environ["STORYBEAT_ENCODE_AHEAD"] = "on" if ahead else "off"
    get_settings.cache_clear()
    shutil.copytree(template, root / "projects" / template.name)
    c0 = cpu_seconds()
    Runner(template.name, provider=provider).run()
    cpu = cpu_seconds() - c0
    job = ProjectFolder(template.name).load_job("pipeline")
    walls = {s.name: (s.finished_at - s.started_at).total_seconds() for s in job.steps
             if s.started_at is not None and s.finished_at is not None}
    shutil.rmtree(root)
    return {"draw": walls.get("draw", 0.0), "render": walls.get("render", 0.0), "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    """Print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--resolution", type=int, default=720, choices=[720, 1080])
    parser.add_argument("--wait", type=float, default=1.0, help="seconds the remote-like illustrator waits per picture")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_ahead_") as tmp_s:
        tmp = Path(tmp_s)
        wav, lrc = song(tmp, seconds=args.seconds)
        os.environ["STORYBEAT_DATA"] = str(tmp / "tpl")
        get_settings.cache_clear()
        project = actions.create_project(settings=ProjectSettings(resolution=args.resolution), project_id="ahead-bench")
        actions.upload_track(project.id, audio=wav, original_name=wav.name, lyrics_text=lrc.read_text())
        Runner(project.id, target=machine.PROMPTED).run()
        scenes = len(ProjectFolder(project.id).load_segments().scenes)  # type: ignore[union-attr]
        template = tmp / "tpl" / "projects" / project.id
        base = local_provider()
        illustrators: list[tuple[str, Provider | None]] = [
            ("local", None),
            (f"remote-like ({args.wait:.1f} s wait a picture)",
             Provider(name="local", analyst=base.analyst, storyboarder=base.storyboarder, writer=base.writer,
                      illustrator=RemoteLike(args.wait))),  # type: ignore[arg-type]
        ]
        results: dict[tuple[str, bool], list[dict[str, float]]] = {}
        for k in range(args.repeat):
            for label, provider in illustrators:
                for ahead in ((True, False) if k % 2 == 0 else (False, True)):
                    results.setdefault((label, ahead), []).append(
                        one(template, tmp / f"run_{k}_{ahead}", provider=provider, ahead=ahead))
    load1 = os.getloadavg()[0]
    print(f"`bench_ahead.py --seconds {args.seconds:.0f} --resolution {args.resolution} --wait {args.wait} --repeat "
          f"{args.repeat}`: draw + render of a prompted {args.seconds:.0f} s song ({scenes} scenes, {args.resolution}p), "
          f"encoding ahead on and off, interleaved; median walls, least CPU of {args.repeat} rounds; load average "
          f"{load0:.1f} at the start, {load1:.1f} at the end ({os.cpu_count()} cores).\n")
    print("| illustrator | encode ahead | draw wall | render wall | draw + render wall | vs off | CPU |")
    print("|---|---|---|---|---|---|---|")
    for label, _ in illustrators:
        off = statistics.median(r["draw"] + r["render"] for r in results[(label, False)])
        for ahead in (True, False):
            rs = results[(label, ahead)]
            both = statistics.median(r["draw"] + r["render"] for r in rs)
            print(f"| {label} | {'on' if ahead else 'off'} | {statistics.median(r['draw'] for r in rs):.1f} s | "
                  f"{statistics.median(r['render'] for r in rs):.1f} s | {both:.1f} s | {both / off:.2f}x | "
                  f"{min(r['cpu'] for r in rs):.1f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
