"""On API start: jobs that claim to run but whose worker died are marked ``interrupted`` (then resumable)."""
from __future__ import annotations

import logging

from engine.config import Settings
from engine.errors import BusyError, StorybeatError
from engine.jobs import DEAD_WORKER_MESSAGE, job_is_dead
from engine.lock import project_lock
from engine.models import JOB_KINDS
from engine.storage import ProjectFolder, list_project_ids

log = logging.getLogger(__name__)


def mark_interrupted(config: Settings) -> list[tuple[str, str]]:
    """Rewrite every dead running/queued job as ``interrupted``; returns (project_id, kind) of each."""
    marked: list[tuple[str, str]] = []
    for project_id in list_project_ids(config.projects_dir):
        folder = ProjectFolder(project_id, root=config.projects_dir)
        try:
            jobs = [folder.load_job(kind) for kind in JOB_KINDS]
            dead = [j for j in jobs if job_is_dead(j, stale_after_s=config.stale_after_s)]
            if not dead:
                continue
            with project_lock(folder):  # a live worker holds it: then nothing is dead
                for job in dead:
                    job.status = "interrupted"
                    job.message = job.message or DEAD_WORKER_MESSAGE
                    folder.save_job(job)
                    marked.append((project_id, job.kind))
                    log.warning("project %s: %s job interrupted (worker pid %s gone)", project_id, job.kind, job.pid)
        except BusyError:
            continue
        except StorybeatError as exc:
            log.warning("project %s: cannot check jobs: %s", project_id, exc)
    return marked
