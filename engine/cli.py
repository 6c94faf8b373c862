"""Command line: ``python -m engine`` / ``storybeat``. Exit codes: 0 ok, 2 bad input, 3 busy, 4 failed."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from engine import machine
from engine.errors import CancelledError, DiskFullError, InputError, StorybeatError, disk_full
from engine.jobs import queue_run, require_not_busy, resume_plan, seen_jobs
from engine.models import JOB_KINDS, Job, JobKind, ProjectSettings
from engine.providers import default_provider_name
from engine.review import picture_problems, problems_text, write_contact_sheet
from engine.storage import ProjectFolder, list_project_ids
from engine.styles import PRESETS
from engine.usage import estimate_project, read_spend, spend_line

# Deferred on purpose, so the CLI starts fast and a run is on record before the heavy libraries load:
# engine.runner, engine.project and engine.demo import numpy/OpenCV (and, when a step runs, librosa,
# numba, madmom). Each is imported inside the command that needs it.

log = logging.getLogger("engine.cli")

EXIT_OK = 0  # the other exit codes belong to the errors (engine.errors: exit_code)
RUN_LOCK_WAIT_S = 2.0


class ProgressBar:
    """A one-line progress bar on stderr with the step, units and ETA."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._last = ""

    def __call__(self, job: Job) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(job.fraction * width)
        eta = f" ETA {int(job.eta_s) // 60}:{int(job.eta_s) % 60:02d}" if job.eta_s is not None and job.status == "running" else ""
        units = f" {job.done}/{job.total}" if 1 < job.total < 1000 else ""  # scenes, not milliseconds
        line = f"\r[{'#' * filled}{'.' * (width - filled)}] {job.fraction * 100:5.1f}% {job.step}{units}{eta}"
        if line != self._last:
            sys.stderr.write(line.ljust(70))
            sys.stderr.flush()
            self._last = line

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled and self._last:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:  # a second Ctrl-C: stop now, not after the unit
            raise KeyboardInterrupt
        log.warning("signal %d: stopping after the current unit (Ctrl-C again to stop at once)", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _run(project_id: str, *, target: str, kind: JobKind | None, preview: bool, quiet: bool, lock_wait_s: float = 0.0) -> int:
    """Record the run as queued (unless the API queued it for this worker), then run it with a progress bar.

    The job is recorded before the heavy imports of the runner, so a kill in
    the first seconds leaves a dead queued job that ``resume`` continues.
    ``kind`` None: the job the machine's rule gives for the project's state.
    """
    folder = ProjectFolder(project_id)
    stop = _stop_on_signals()
    queued = queue_run(folder, target=target, kind=kind, preview=preview, pid=os.getpid(), lock_wait_s=lock_wait_s)
    from engine.runner import Runner  # numpy, numba, librosa: after the job is on record

    bar = ProgressBar(not quiet)
    try:
        runner = Runner(project_id, target=target, kind=queued.kind, preview=preview, on_progress=bar, stop_event=stop)
        # the lock was ours a moment ago: wait out a short edit that slipped in (it refuses a queued project)
        project = runner.run(lock_wait_s=max(lock_wait_s, RUN_LOCK_WAIT_S))
    finally:
        bar.close()
    problems = problems_text(picture_problems(folder))
    print(f"{project.id}: {project.state} ({machine.status_words(project)})" + (f"; {problems}" if problems else ""))
    if project.renders and project.state == machine.RENDERED:
        print(folder.resolve(project.renders[-1].file))
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    """Create a project from an audio file (+ lyrics) and print its id."""
    from engine.project import create_project, delete_project, upload_track  # numpy: deferred (see the top)

    provider = default_provider_name() if args.provider == "auto" else args.provider
    settings = ProjectSettings(
        style=args.style, aspect=args.aspect, provider=provider, resolution=args.resolution,
        subtitles=not args.no_subtitles, quality=args.quality, encode_speed=args.encode_speed,
    )
    audio = Path(args.audio)
    if not audio.is_file():
        raise FileNotFoundError(f"no such audio file: {audio}")
    lyrics = Path(args.lyrics).read_text(encoding="utf-8-sig") if args.lyrics else None
    project = create_project(settings=settings, name=args.name or audio.stem)
    try:
        upload_track(project.id, audio=audio, original_name=audio.name, lyrics_text=lyrics)
    except BaseException:  # whatever stopped the upload (even Ctrl-C), no empty project is left behind
        delete_project(project.id)
        raise
    print(project.id)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run the pipeline towards a target state (default RENDERED)."""
    return _run(args.id, target=args.target, kind=args.job, preview=args.preview, quiet=args.quiet, lock_wait_s=args.lock_wait)


def _state(project_id: str) -> str:
    return ProjectFolder(project_id).load_project().state


def cmd_render(args: argparse.Namespace) -> int:
    """(Re-)render the video from the latest version of every scene."""
    return _run(args.id, target=machine.RENDERED, kind="render", preview=args.preview, quiet=args.quiet, lock_wait_s=args.lock_wait)


def cmd_resume(args: argparse.Namespace) -> int:
    """Continue interrupted work (one project, or --all)."""
    if not args.all and not args.id:
        raise ValueError("give a project id or --all")
    ids = list_project_ids() if args.all else [args.id]
    code = EXIT_OK
    for project_id in ids:
        try:
            require_not_busy(ProjectFolder(project_id))  # e.g. a worker that is not responding: say so
            plan = resume_plan(project_id)
        except StorybeatError as exc:  # --all: one broken project must not stop the others
            if not args.all:
                raise
            print(f"{project_id}: {exc}", file=sys.stderr)
            code = max(code, exc.exit_code)
            continue
        if plan is None:
            if not args.all:
                print(f"{project_id}: nothing to resume ({_state(project_id)})")
            continue
        target, kind, preview = plan
        try:
            code = max(code, _run(project_id, target=target, kind=kind, preview=preview, quiet=args.quiet))
        except StorybeatError as exc:
            if not args.all:
                raise
            print(f"{project_id}: {exc}", file=sys.stderr)
            code = max(code, exc.exit_code)
    return code


def cmd_status(args: argparse.Namespace) -> int:
    """Show a project's state, jobs and renders."""
    folder = ProjectFolder(args.id)
    project = folder.load_project()
    jobs = seen_jobs(folder)
    if args.json:
        print(json.dumps({
            "project": project.model_dump(mode="json"),
            "allowed": machine.user_triggers(project),
            "status": machine.status_words(project),
            "problems": [{"scene": i, "status": st, "reason": r, "fallback": f} for i, st, r, f in picture_problems(folder)],
            "jobs": {job.kind: job.model_dump(mode="json") for job in jobs},
            "spend": read_spend(folder).to_dict(),
        }, indent=2))
        return EXIT_OK
    print(f"{project.id} {project.name!r}: {project.state} ({machine.status_words(project)})")
    if project.error:
        print(f"  failed in {project.error.step}: {project.error.message}")
    actions = machine.user_triggers(project)  # the runner's own triggers (fail) are no action of the user's
    print(f"  allowed: {', '.join(f'{t} ({machine.TRIGGER_LABELS.get(t, t)})' for t in actions) or '-'}")
    problems = problems_text(picture_problems(folder))
    if problems:
        print(f"  {problems}")
    for job in jobs:
        if job.status == "not_responding":
            print(f"  {job.kind}: not responding at {job.fraction * 100:.0f}% step={job.step}: {job.message}")
        elif job.status != "idle":
            print(f"  {job.kind}: {job.status} {job.fraction * 100:.0f}% step={job.step} errors={len(job.errors)}")
    spend = read_spend(folder)
    if spend.total.calls:
        print(f"  {spend_line(spend)}")
    for note in _notes(folder):
        print(f"  note: {note}")
    counted = _estimated_count(folder)
    if counted is not None and counted[1]:
        print(f"  lyrics: {counted[1]} lines, {counted[0]} estimated" + (f" (storybeat lyrics {project.id})" if counted[0] else ""))
    segments = folder.load_segments()
    locked = [scene.id for scene in segments.scenes if scene.locked] if segments else []
    if locked:
        print(f"  locked: {', '.join(locked)} (storybeat scene {project.id} unlock SCENE)")
    for r in project.renders[-3:]:
        print(f"  render v{r.version}: {folder.resolve(r.file)}")
    if resume_plan(args.id) is not None:
        print(f"  resume with: python -m engine resume {project.id}")
    return EXIT_OK


def _clock(ms: int) -> str:
    return f"{ms // 60_000:02d}:{ms % 60_000 / 1000:06.3f}"


def _notes(folder: ProjectFolder) -> list[str]:
    return [f"{step}: {note}" for step, note in folder.step_notes()]


def _estimated_count(folder: ProjectFolder) -> tuple[int, int] | None:
    analysis = folder.load_analysis()
    if analysis is None:
        return None
    return sum(1 for line in analysis.lyrics if line.timing == "estimated"), len(analysis.lyrics)


def cmd_lyrics(args: argparse.Namespace) -> int:
    """Show the timed lyrics, or import (LRC, enhanced LRC, plain text: aligned again) / export (enhanced LRC)."""
    from engine.audio.lyrics import to_lrc
    from engine.project import current_lyrics, edit_lyrics, timed_lines_from_text  # numpy: deferred (see the top)

    folder = ProjectFolder(args.id)
    folder.load_project()  # NotFoundError for an unknown project
    if args.import_file:
        text = Path(args.import_file).read_text(encoding="utf-8-sig")
        lines = timed_lines_from_text(args.id, text)
        project = edit_lyrics(args.id, lines, hand_set=False)
        print(f"{project.id}: {project.state}, {len(lines)} lines")
    if args.export_file:
        text = to_lrc(current_lyrics(folder).lyrics)
        if args.export_file == "-":
            sys.stdout.write(text)
        else:
            Path(args.export_file).write_text(text, encoding="utf-8")
            print(args.export_file)
    if args.import_file or args.export_file:
        return EXIT_OK
    analysis = current_lyrics(folder)
    for n, line in enumerate(analysis.lyrics, start=1):
        mark = "~" if line.timing == "estimated" else " "
        conf = f" {line.confidence:.2f}" if line.confidence is not None else "     "
        print(f"{n:3d} {mark} {_clock(line.start_ms)}-{_clock(line.end_ms)} {line.timing:9}{conf}  {line.text}")
    estimated = sum(1 for line in analysis.lyrics if line.timing == "estimated")
    print(f"{len(analysis.lyrics)} lines, {estimated} estimated (~): check those, fix with --export / --import")
    return EXIT_OK


def cmd_cast(args: argparse.Namespace) -> int:
    """Show the cast, export it as JSON, replace it (--import a JSON file, or --set MEMBER FIELD=VALUE), or bring a
    member's reference picture (--reference MEMBER FILE; --drawn-reference MEMBER goes back to a drawn one)."""
    import json

    from engine.cast_actions import upload_reference, use_drawn_reference

    from engine.models import CastMemberFields
    from engine.project import current_cast, edit_cast  # numpy: deferred (see the top)

    folder = ProjectFolder(args.id)
    folder.load_project()  # NotFoundError for an unknown project
    if args.reference or args.drawn_reference:
        if args.reference:
            project = upload_reference(args.id, args.reference[0], Path(args.reference[1]).read_bytes())
        else:
            project = use_drawn_reference(args.id, args.drawn_reference)
        print(f"{project.id}: {project.state}")
        return EXIT_OK
    cast = current_cast(folder)
    fields = [CastMemberFields.model_validate(m.model_dump(include=set(CastMemberFields.model_fields))) for m in cast.members]
    if args.import_file:
        raw = json.loads(Path(args.import_file).read_text(encoding="utf-8-sig"))
        members = raw["members"] if isinstance(raw, dict) else raw
        fields = [CastMemberFields.model_validate(m) for m in members]
    for member_id, assignment in args.set or []:
        key, _, value = assignment.partition("=")
        if key not in CastMemberFields.model_fields or key == "id":
            raise InputError(f"--set: no cast field {key!r}; use one of {', '.join(k for k in CastMemberFields.model_fields if k != 'id')}")
        found = [m for m in fields if m.id == member_id]
        if not found:
            raise InputError(f"--set: no cast member {member_id!r}")
        fields = [m if m.id != member_id else CastMemberFields.model_validate(
            {**m.model_dump(), key: value.split(",") if key == "colours" else value}) for m in fields]
    if args.import_file or args.set:
        project = edit_cast(args.id, fields)
        print(f"{project.id}: {project.state}")
        return EXIT_OK
    if args.export_file:
        text = json.dumps({"members": [m.model_dump(mode="json") for m in fields]}, indent=2) + "\n"
        if args.export_file == "-":
            sys.stdout.write(text)
        else:
            Path(args.export_file).write_text(text, encoding="utf-8")
            print(args.export_file)
        return EXIT_OK
    for m in cast.members:
        ref = f"{m.reference.origin} {m.reference.file}" if m.reference else "not drawn yet"
        print(f"{m.id:10} {m.name} ({m.silhouette}, {', '.join(m.colours)}; {m.appears}): {m.description}  [{ref}]")
    return EXIT_OK


def cmd_edit(args: argparse.Namespace) -> int:
    """Edit a scene's intent and/or prompt."""
    from engine.project import edit_scene  # numpy: deferred (see the top)

    if args.intent is None and args.prompt is None and args.negative is None:
        raise ValueError("give --intent, --prompt or --negative")
    project = edit_scene(args.id, args.scene, visual_intent=args.intent, image_prompt=args.prompt, negative_prompt=args.negative)
    print(f"{project.id}: {project.state}")
    return EXIT_OK


def cmd_regenerate(args: argparse.Namespace) -> int:
    """Make a new version of one scene's picture (and draw it unless --no-run)."""
    from engine.project import regenerate_scene  # numpy: deferred (see the top)

    project = regenerate_scene(args.id, args.scene)
    if args.no_run:
        print(f"{project.id}: {project.state}")
        return EXIT_OK
    return _run(args.id, target=machine.IMAGED, kind=None, preview=False, quiet=args.quiet)


def cmd_restore(args: argparse.Namespace) -> int:
    """Make an earlier version of a scene current again."""
    from engine.project import restore_version  # numpy: deferred (see the top)

    project = restore_version(args.id, args.scene, args.version)
    print(f"{project.id}: {project.state}")
    return EXIT_OK


def parse_time_ms(text: str) -> int:
    """A time from the command line: seconds (``12.5``) or minutes:seconds (``1:02.5``) -> milliseconds."""
    minutes, _, seconds = text.strip().rpartition(":")
    try:
        value = (int(minutes) * 60 if minutes else 0) + float(seconds)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use seconds like 12.5 or m:ss like 1:02.5)") from None
    if value < 0:
        raise ValueError(f"a time cannot be negative: {text!r}")
    return round(value * 1000)


def _show_scenes(folder: ProjectFolder) -> None:
    segments = folder.load_segments()
    if segments is None:
        raise InputError("this project has no storyboard yet: run it to SEGMENTED first")
    for scene in segments.scenes:
        lock = "locked" if scene.locked else "      "
        lines = " / ".join(scene.lyric_text.splitlines()) or "(instrumental)"
        print(f"{scene.id}  {_clock(scene.start_ms)}-{_clock(scene.end_ms)}  {lock}  {lines}")


def cmd_scene(args: argparse.Namespace) -> int:
    """Change the storyboard's structure: move a cut, split, merge, lock, or bring a picture; no action lists the scenes."""
    from engine import scene_actions as sa  # numpy: deferred (see the top)

    folder = ProjectFolder(args.id)
    folder.load_project()  # NotFoundError for an unknown project
    action = args.action
    if action is None:
        _show_scenes(folder)
        return EXIT_OK
    snap = not getattr(args, "free", False)
    if action == "move":
        if args.start is None and args.end is None:
            raise ValueError("give --start and/or --end")
        sa.move_cut(args.id, args.scene, start_ms=None if args.start is None else parse_time_ms(args.start),
                    end_ms=None if args.end is None else parse_time_ms(args.end), snap=snap)
    elif action == "split":
        sa.split_scene(args.id, args.scene, parse_time_ms(args.at), snap=snap)
    elif action == "merge":
        sa.merge_scene(args.id, args.scene, args.side)
    elif action in ("lock", "unlock"):
        sa.set_locked(args.id, args.scene, action == "lock")
    elif action == "picture":
        sa.upload_picture(args.id, args.scene, Path(args.file).read_bytes(), focus=(args.focus_x, args.focus_y))
    elif action == "focus":
        sa.set_focus(args.id, args.scene, (args.x, args.y))
    print(f"{args.id}: {folder.load_project().state}")
    _show_scenes(folder)
    return EXIT_OK


def cmd_estimate(args: argparse.Namespace) -> int:
    """Pre-flight estimate of what a run still costs (Gemini calls, tokens, pictures, USD; zero for local)."""
    est = estimate_project(args.id)
    if args.json:
        print(json.dumps(est.to_dict(), indent=2))
        return EXIT_OK
    print(f"{args.id}: provider {est.provider}, {est.scenes} scenes")
    for s in est.steps:
        print(f"  {s.step:8} {s.model:28} {s.calls:4} calls {s.images:4} images  ~${s.cost_usd:.4f}")
    print(f"  total: {est.calls} calls, {est.images} images, {est.prompt_tokens + est.output_tokens} tokens ({est.thinking_tokens} thinking), ~${est.cost_usd:.4f} (list-price estimate)")
    return EXIT_OK


def cmd_machine(args: argparse.Namespace) -> int:
    """Print the state machine (JSON or Mermaid)."""
    if args.mermaid:
        print(machine.mermaid(), end="")
    else:
        print(json.dumps(machine.machine_spec(), indent=2))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """List projects."""
    for project_id in list_project_ids():
        try:
            project = ProjectFolder(project_id).load_project()
        except StorybeatError as exc:  # one broken project must not hide the others
            print(f"{project_id}\tUNREADABLE\t{exc}")
            continue
        print(f"{project.id}\t{project.state}\t{machine.status_words(project)}\t{project.name}")
    return EXIT_OK


def cmd_rename(args: argparse.Namespace) -> int:
    """Give a project a new name."""
    from engine.manage import rename_project

    project = rename_project(args.id, args.name)
    print(f"{project.id}: {project.name}")
    return EXIT_OK


def cmd_duplicate(args: argparse.Namespace) -> int:
    """Copy a project (track, analysis, storyboard, prompts, pictures) to try another style or aspect; prints the new id."""
    from engine.manage import duplicate_project  # numpy (via engine.project): deferred (see the top)

    changes = {k: v for k, v in (("style", args.style), ("aspect", args.aspect), ("resolution", args.resolution)) if v is not None}
    project = duplicate_project(args.id, name=args.name, settings=changes or None)
    print(project.id)
    return EXIT_OK


def cmd_contact_sheet(args: argparse.Namespace) -> int:
    """Write a PNG grid of every scene's current picture with its lyric and version."""
    out = write_contact_sheet(args.id, Path(args.out) if args.out else None)
    print(out)
    return EXIT_OK


def cmd_prune_copies(args: argparse.Namespace) -> int:
    """With a bucket as the storage: remove this machine's working copies untouched for --older-than hours."""
    from engine.working_copies import prune_working_copies

    removed = prune_working_copies(keep_s=None if args.older_than is None else args.older_than * 3600)
    print(f"removed {len(removed)} working cop{'y' if len(removed) == 1 else 'ies'}" + (f": {', '.join(removed)}" if removed else ""))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Offline demo: synthesise the sample song, make a video, print the MP4 path."""
    from engine.demo import DEMO_ID, prepare_demo  # numpy: deferred (see the top)

    started = time.monotonic()
    project_id = prepare_demo(style=args.style)
    code = _run(project_id, target=machine.RENDERED, kind=None, preview=False, quiet=args.quiet)
    log.info("demo %s took %.1f s", DEMO_ID, time.monotonic() - started)
    return code


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of all commands."""
    parser = argparse.ArgumentParser(prog="storybeat", description="Turn a song into an illustrated music video.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("new", cmd_new, "create a project from an audio file; prints its id")
    p.add_argument("audio")
    p.add_argument("--lyrics", help="LRC (timed) or plain text lyrics file")
    defaults = ProjectSettings()  # choices and defaults: the settings' own types, declared once in engine.models
    p.add_argument("--style", default=defaults.style, choices=sorted(PRESETS))
    p.add_argument("--aspect", default=defaults.aspect, choices=ProjectSettings.choices("aspect"))
    p.add_argument("--provider", default="auto", choices=["auto", *ProjectSettings.choices("provider")])
    p.add_argument("--resolution", type=int, default=defaults.resolution, choices=ProjectSettings.choices("resolution"))
    p.add_argument("--quality", default=defaults.quality, choices=ProjectSettings.choices("quality"))
    p.add_argument("--encode-speed", default=defaults.encode_speed, choices=ProjectSettings.choices("encode_speed"),
                   help="fast: ~27%% less encoding CPU for ~25%% bigger files at the same quality")
    p.add_argument("--no-subtitles", action="store_true")
    p.add_argument("--name", default="")
    for name, func, text in (("run", cmd_run, "run the pipeline (default: to RENDERED)"),):
        p = add(name, func, text)
        p.add_argument("id")
        p.add_argument("--target", default=machine.RENDERED, choices=machine.RUN_TARGETS)
        p.add_argument("--preview", action="store_true", help="fast low-resolution render")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--lock-wait", type=float, default=0.0, help=argparse.SUPPRESS)
        p.add_argument("--job", choices=JOB_KINDS, default=None, help=argparse.SUPPRESS)  # the job the API queued
    p = add("resume", cmd_resume, "continue after a crash without redoing finished work")
    p.add_argument("id", nargs="?")
    p.add_argument("--all", action="store_true", help="every interrupted project")
    p.add_argument("--quiet", action="store_true")
    p = add("status", cmd_status, "show a project's state and jobs")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p = add("edit", cmd_edit, "edit a scene's visual intent or prompt")
    p.add_argument("id")
    p.add_argument("scene")
    p.add_argument("--intent")
    p.add_argument("--prompt")
    p.add_argument("--negative")
    p = add("scene", cmd_scene, "list the scenes, or move a cut, split, merge, lock/unlock a scene, or bring its picture")
    p.add_argument("id")
    scene_sub = p.add_subparsers(dest="action")

    def scene_action(name: str, help_text: str) -> argparse.ArgumentParser:
        q = scene_sub.add_parser(name, help=help_text, description=help_text)
        q.add_argument("scene", help="scene id, e.g. seg_003")
        return q

    q = scene_action("move", "move the scene's start and/or end (the neighbour follows), snapped to the beat")
    q.add_argument("--start", help="new start (seconds or m:ss)")
    q.add_argument("--end", help="new end (seconds or m:ss)")
    q.add_argument("--free", action="store_true", help="exactly there: no snapping to the beat")
    q = scene_action("split", "split the scene in two at a time (snapped to the beat)")
    q.add_argument("at", help="where (seconds or m:ss), e.g. a lyric line's start")
    q.add_argument("--free", action="store_true", help="exactly there: no snapping to the beat")
    q = scene_action("merge", "merge the scene with its next or previous neighbour")
    q.add_argument("side", choices=["next", "prev"])
    scene_action("lock", "keep the scene's prompt and picture through a new style, frame or redraw")
    scene_action("unlock", "let the scene follow the style and frame again")
    q = scene_action("picture", "your own picture (PNG, JPEG, WebP) as the scene's new version, cropped to the project's aspect")
    q.add_argument("file")
    q.add_argument("--focus-x", type=float, default=0.5, help="focal point, 0 (left) .. 1 (right)")
    q.add_argument("--focus-y", type=float, default=0.5, help="focal point, 0 (top) .. 1 (bottom)")
    q = scene_action("focus", "crop your picture again around a new focal point (from the kept original)")
    q.add_argument("x", type=float, help="0 (left) .. 1 (right)")
    q.add_argument("y", type=float, help="0 (top) .. 1 (bottom)")
    p = add("lyrics", cmd_lyrics, "show the timed lyrics (~ marks estimated times); import or export them")
    p.add_argument("id")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--import", dest="import_file", metavar="FILE",
                       help="replace the lyrics: LRC, enhanced LRC, or plain text (aligned to the voice again)")
    group.add_argument("--export", dest="export_file", metavar="FILE", help="write the lyrics as enhanced LRC (- for stdout)")
    p = add("cast", cmd_cast, "show the recurring subjects (the cast); export, import or change them")
    p.add_argument("id")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--import", dest="import_file", metavar="FILE", help="replace the cast's members with a JSON file's")
    group.add_argument("--export", dest="export_file", metavar="FILE", help="write the members as JSON (- for stdout)")
    group.add_argument("--set", nargs=2, action="append", metavar=("MEMBER", "FIELD=VALUE"),
                       help="change one field of one member (colours comma-separated), e.g. --set lead colours=#c8283a,#202020")
    group.add_argument("--reference", nargs=2, metavar=("MEMBER", "FILE"),
                       help="your own picture (PNG, JPEG, WebP) as the member's reference: the pictures that show it are drawn again")
    group.add_argument("--drawn-reference", metavar="MEMBER", help="go back to a drawn reference picture for the member")
    p = add("regenerate", cmd_regenerate, "new version of one scene's picture")
    p.add_argument("id")
    p.add_argument("scene")
    p.add_argument("--no-run", action="store_true", help="only add the version; draw it later")
    p.add_argument("--quiet", action="store_true")
    p = add("restore", cmd_restore, "make an earlier version of a scene current")
    p.add_argument("id")
    p.add_argument("scene")
    p.add_argument("version", type=int)
    p = add("render", cmd_render, "render (or re-render) the video")
    p.add_argument("id")
    p.add_argument("--preview", action="store_true", help="fast low-resolution render")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--lock-wait", type=float, default=0.0, help=argparse.SUPPRESS)
    p = add("estimate", cmd_estimate, "what a run still costs with the chosen provider (estimate)")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p = add("machine", cmd_machine, "print the state machine")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true")
    group.add_argument("--mermaid", action="store_true")
    p = add("rename", cmd_rename, "give a project a new name")
    p.add_argument("id")
    p.add_argument("name")
    p = add("duplicate", cmd_duplicate, "copy a project without analysing again (another style or aspect); prints the new id")
    p.add_argument("id")
    p.add_argument("--name", help='default: "<name> (copy)"')
    p.add_argument("--style", choices=sorted(PRESETS))
    p.add_argument("--aspect", choices=ProjectSettings.choices("aspect"))
    p.add_argument("--resolution", type=int, choices=ProjectSettings.choices("resolution"))
    add("list", cmd_list, "list projects")
    p = add("contact-sheet", cmd_contact_sheet, "PNG grid of every scene for review")
    p.add_argument("id")
    p.add_argument("--out")
    p = add("prune-copies", cmd_prune_copies, "with a bucket: remove old local working copies (the bucket keeps all)")
    p.add_argument("--older-than", type=float, metavar="HOURS", help="default: STORYBEAT_WORKING_COPY_KEEP_S")
    p = add("demo", cmd_demo, "offline demo: make a video from the bundled sample song")
    p.add_argument("--style", default=defaults.style, choices=sorted(PRESETS))
    p.add_argument("--quiet", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)  # one line per trigger is noise, even with -v
    try:
        return args.func(args)
    except StorybeatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # a second Ctrl-C: the run is left as a crash would leave it, resumable
        print("\nstopped at once; `python -m engine resume` continues", file=sys.stderr)
        return CancelledError.exit_code
    except BrokenPipeError:  # e.g. `status ID | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (OSError, ValueError) as exc:  # a missing, unreadable or wrong kind of file; a bad value
        print(f"error: {exc}", file=sys.stderr)
        return DiskFullError.exit_code if disk_full(exc) else InputError.exit_code  # a full disk is no bad input
