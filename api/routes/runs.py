"""Runs: start the pipeline, render, resume, cancel, and read the jobs."""
from __future__ import annotations

from fastapi import APIRouter, Response, status

from engine import machine
from engine.jobs import resume_plan
from engine.errors import StateError

from api import processes
from api.deps import FolderDep
from api.errors import responses
from api.http import StrictJSONRoute
from api.schemas import CancelResult, JobsPublic, RenderRequest, RunAccepted, RunRequest
from api.views import JSON_TYPE, jobs_json

router = APIRouter(prefix="/projects/{project_id}", tags=["runs"], route_class=StrictJSONRoute)

ACCEPTED = status.HTTP_202_ACCEPTED


@router.post("/run", response_model=RunAccepted, status_code=ACCEPTED, responses=responses(401, 404, 409, 422))
def run(folder: FolderDep, body: RunRequest | None = None) -> RunAccepted:
    """Start the Generate pipeline towards ``target`` (default RENDERED) in a detached worker."""
    body = body or RunRequest()
    pid, job = processes.start(folder, target=body.target, kind=None, preview=body.preview)  # the job the state gives
    return RunAccepted(pid=pid, job=job)


@router.post("/render", response_model=RunAccepted, status_code=ACCEPTED, responses=responses(401, 404, 409, 422))
def render(folder: FolderDep, body: RenderRequest | None = None) -> RunAccepted:
    """(Re-)render the video from the latest version of every scene."""
    body = body or RenderRequest()
    pid, job = processes.start(folder, target=machine.RENDERED, kind="render", preview=body.preview)
    return RunAccepted(pid=pid, job=job)


@router.post("/resume", response_model=RunAccepted, status_code=ACCEPTED, responses=responses(401, 404, 409))
def resume(folder: FolderDep) -> RunAccepted:
    """Continue interrupted or failed work without redoing finished steps (409 if there is nothing to resume)."""
    with processes.start_guard(folder):
        plan = resume_plan(folder.id)
    if plan is None:
        project = folder.load_project()
        raise StateError(
            f"nothing to resume: project is {project.state} and no run was interrupted",
            state=project.state, allowed=machine.allowed_triggers(project),
        )
    target, kind, preview = plan
    pid, job = processes.start(folder, target=target, kind=kind, preview=preview)
    return RunAccepted(pid=pid, job=job)


@router.post("/cancel", response_model=CancelResult, status_code=ACCEPTED, responses=responses(401, 404))
def cancel(folder: FolderDep) -> CancelResult:
    """Ask the running worker to stop after its current unit (it records ``cancelled``)."""
    return CancelResult(stopped=processes.stop(folder))


@router.get("/jobs", response_model=JobsPublic, responses=responses(401, 404))
async def jobs(folder: FolderDep) -> Response:
    """Progress, errors and usage of the pipeline and render jobs."""
    return Response(jobs_json(folder), media_type=JSON_TYPE)  # polled: as GET /projects/{id}
