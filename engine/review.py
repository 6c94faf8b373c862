"""Review helpers: the contact sheet of a project's storyboard."""
from __future__ import annotations

import io
from pathlib import Path

from engine.contact_sheet import SheetItem, make_contact_sheet
from engine.errors import InputError
from engine.storage import ProjectFolder, atomic_write_bytes, read_bytes


def _clock(ms: int) -> str:
    return f"{ms // 60000}:{ms // 1000 % 60:02d}"


def write_contact_sheet(project_id: str, out: Path | None = None) -> Path:
    """Write ``<project>/contact_sheet.png`` (or ``out``): the cast's references, then every scene's current picture,
    lyric and version. The pictures are read where the project is kept (from the bucket, when it is the storage and
    this machine has no working copy of the project), and the sheet is published there too."""
    folder = ProjectFolder(project_id)
    project = folder.load_project()
    segments, prompts = folder.load_segments(), folder.load_prompts()
    if segments is None or prompts is None:
        raise InputError("no pictures yet: run the pipeline to IMAGED first")
    by_id = {sp.id: sp for sp in prompts.scenes}
    items = []
    cast = folder.load_cast()
    for member in cast.members if cast else []:  # the cast's reference pictures first: who every scene shows
        if member.reference is not None:
            path = folder.resolve(member.reference.file)
            items.append(SheetItem(image_path=path, image_bytes=read_bytes(path), scene_id=f"cast: {member.name}",
                                   time_text=f"{member.reference.origin} reference", lyric=member.description, version=1,
                                   contain=True))
    for scene in segments.scenes:
        latest = by_id[scene.id].latest
        if latest.image is None or latest.image.file is None:
            continue
        path = folder.resolve(latest.image.file)
        items.append(
            SheetItem(
                image_path=path, image_bytes=read_bytes(path), scene_id=scene.id,
                time_text=f"{_clock(scene.start_ms)}-{_clock(scene.end_ms)}",
                lyric=scene.lyric_text or f"({scene.section}, {scene.mood})", version=latest.version,
            )
        )
    if not any(not it.contain for it in items):
        raise InputError("no pictures yet: run the pipeline to IMAGED first")
    sheet = make_contact_sheet(items, title=f"{project.name or project.id} - {project.settings.style}")
    target = out or folder.path / "contact_sheet.png"
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", optimize=True)
    atomic_write_bytes(target, buf.getvalue())  # never half a sheet; with a bucket, published
    return target


def picture_problems(folder: ProjectFolder) -> list[tuple[str, str, str, bool]]:
    """The scenes whose current picture is not a plain success: (scene id, status, reason, drawn by the local
    fallback), in time order; a blocked picture was replaced by a local drawing (fallback), a failed one is missing."""
    segments, prompts = folder.load_segments(), folder.load_prompts()
    if segments is None or prompts is None:
        return []
    by_id = {sp.id: sp for sp in prompts.scenes}
    out = []
    for scene in segments.scenes:
        sp = by_id.get(scene.id)
        image = sp.latest.image if sp else None
        if image is not None and (image.status != "ok" or image.fallback):
            out.append((scene.id, image.status, image.reason, image.fallback))
    return out


def problems_text(problems: list[tuple[str, str, str, bool]]) -> str:
    """One line for people: "1 scene needs attention: seg_001 blocked by the safety filter (...), drawn locally"."""
    if not problems:
        return ""
    parts = []
    for scene_id, status, reason, fallback in problems:
        what = {"blocked": "blocked by the safety filter", "failed": "picture failed"}.get(status, status)
        parts.append(f"{scene_id} {what}" + (f" ({reason})" if reason else "") + (", drawn locally instead" if fallback else ""))
    n = len(problems)
    return f"{n} scene{'s' if n > 1 else ''} need{'s' if n == 1 else ''} attention: " + "; ".join(parts)
