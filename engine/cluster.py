"""Workers across machines: the Dask cluster that runs a render's chunk encodes and the local pictures.

``STORYBEAT_CLUSTER`` unset (the default): every unit runs on this machine as
always, and nothing here is imported or started (Dask is imported lazily, on
the first unit submitted). Set, it names the cluster:

* ``tcp://host:port``: a running ``dask scheduler``;
* a path ending in ``.json``: the scheduler file ``dask scheduler --scheduler-file`` writes;
* ``local:N``: an in-process ``LocalCluster`` of N worker processes (one box, tests).

The cluster needs the bucket (``STORYBEAT_STORAGE``): a unit reads its inputs
from it and uploads its output to it. The rules of a unit (the functions in
``engine/render/remote.py`` and ``engine/steps/draw_units.py``):

* it is self-contained: its inputs are keys in the bucket (pictures, stills) or
  recomputed on the worker (a still from its picture), never data scattered by
  the runner;
* it writes its output under its content fingerprint (the same key a
  single-machine run writes) in one PUT, so a unit done twice (a worker lost
  after its upload, a retry) writes the same bytes to the same key;
* the runner, which holds the project's lease, is the only one who records
  state (project.json, prompts.json); it fetches each finished output into
  its working copy (``sync.adopt``);
* a worker whose tools differ (``remote.tool_versions``) refuses the unit.

A worker that dies takes its running units with it; the scheduler runs them
again on another worker (Dask's own rescheduling), and a unit that raised is
tried ``STORYBEAT_CLUSTER_RETRIES`` more times.
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from engine.config import get_settings
from engine.errors import CancelledError, InputError, RenderError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class ClusterTarget:
    """What ``STORYBEAT_CLUSTER`` names: ``kind`` is 'address', 'file' or 'local' (``value``: N workers)."""

    kind: str
    value: str


def parse_cluster(value: str) -> ClusterTarget | None:
    """The setting as a ClusterTarget; None for '' (this machine); InputError for anything else."""
    value = value.strip()
    if not value:
        return None
    if value.startswith("local:"):
        count = value.split(":", 1)[1]
        if not count.isdigit() or not 1 <= int(count) <= 64:
            raise InputError(f"STORYBEAT_CLUSTER={value!r}: expected local:N with N from 1 to 64")
        return ClusterTarget("local", count)
    if value.startswith(("tcp://", "tls://")) and len(value.split("://", 1)[1]) > 0:
        return ClusterTarget("address", value)
    if value.endswith(".json"):
        return ClusterTarget("file", value)
    raise InputError(f"STORYBEAT_CLUSTER={value!r}: expected tcp://host:port, a scheduler .json file or local:N")


def configured() -> bool:
    """Whether units go to a cluster (the setting is set; InputError if it is malformed or there is no bucket)."""
    target = parse_cluster(get_settings().cluster)
    if target is None:
        return False
    from engine.store import get_store

    if get_store() is None:
        raise InputError("STORYBEAT_CLUSTER needs STORYBEAT_STORAGE=s3://...: the workers read and write the bucket")
    return True


_lock = threading.Lock()
_clients: dict[str, Any] = {}  # setting -> distributed.Client (one per process)
_local_clusters: list[Any] = []


def client() -> Any:
    """The process's Dask client for the configured cluster (connected, or the local cluster started, once)."""
    setting = get_settings().cluster
    target = parse_cluster(setting)
    if target is None:
        raise InputError("no cluster configured (STORYBEAT_CLUSTER is unset)")
    with _lock:
        existing = _clients.get(setting)
        if existing is not None and existing.status == "running":
            return existing
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("STORYBEAT_CLUSTER is set but Dask is not installed: pip install 'storybeat[cluster]'") from None
        timeout = get_settings().cluster_timeout_s
        try:
            if target.kind == "local":
                cluster = LocalCluster(n_workers=int(target.value), threads_per_worker=1, processes=True,
                                       dashboard_address="127.0.0.1:0", host="127.0.0.1")
                _local_clusters.append(cluster)
                made = Client(cluster, timeout=timeout)
            elif target.kind == "file":
                if not Path(target.value).is_file():
                    raise InputError(f"STORYBEAT_CLUSTER: scheduler file {target.value} does not exist")
                made = Client(scheduler_file=target.value, timeout=timeout)
            else:
                made = Client(target.value, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise RenderError(f"cannot reach the cluster {setting}: {exc}") from None
        _clients[setting] = made
        log.info("connected to the cluster %s (%d workers)", setting, len(made.scheduler_info().get("workers", {})))
        return made


def close() -> None:
    """Close this process's clients and stop the local cluster it started (at exit; tests)."""
    with _lock:
        for made in _clients.values():
            try:
                made.close()
            except Exception:  # noqa: BLE001 - going away anyway
                pass
        _clients.clear()
        for cluster in _local_clusters:
            try:
                cluster.close()
            except Exception:  # noqa: BLE001
                pass
        _local_clusters.clear()


atexit.register(close)


class StopSignal:
    """A named Dask Event the runner sets on Stop; a unit polls it and kills its own work."""

    def __init__(self) -> None:
        self.name = f"storybeat-stop-{uuid.uuid4().hex}"

    def set(self) -> None:
        """Tell the running units to stop."""
        try:
            from distributed import Event

            Event(self.name, client=client()).set()
        except Exception as exc:  # noqa: BLE001 - the units are cancelled anyway
            log.warning("could not signal the workers to stop: %s", exc)


def watch_stop(name: str | None, on_stop: Callable[[], None], done: threading.Event, *, poll_s: float = 0.5) -> None:
    """On a worker: call ``on_stop`` once if the runner sets the stop event ``name`` before ``done`` is set."""
    if not name:
        return
    from distributed import Event, get_client

    event = Event(name, client=get_client())

    def loop() -> None:
        while not done.is_set():
            try:
                if event.wait(timeout=poll_s):
                    on_stop()
                    return
            except Exception:  # noqa: BLE001 - the scheduler went away: the unit is lost anyway
                time.sleep(poll_s)

    threading.Thread(target=loop, daemon=True, name="unit-stop-watch").start()


def run_units(fn: Callable[[Any], T], units: Iterable[tuple[str, Any]], *, on_done: Callable[[Any, T], None],
              should_stop: Callable[[], bool] | None = None, stop: StopSignal | None = None,
              what: str = "unit") -> int:
    """Run ``fn(unit)`` for each (label, unit) on the cluster; ``on_done(unit, result)`` on this thread as each ends.

    The first failure cancels the rest and is raised (a RenderError or the unit's own error); ``should_stop()``
    true cancels everything (and sets ``stop``) and raises CancelledError. Returns how many ran.
    """
    units = list(units)
    if not units:
        return 0
    made = client()
    retries = get_settings().cluster_retries
    futures = {made.submit(fn, unit, key=f"{label}-{uuid.uuid4().hex[:8]}", pure=False, retries=retries): unit
               for label, unit in units}
    pending = set(futures)
    try:
        while pending:
            for fut in [f for f in pending if f.done()]:
                pending.discard(fut)
                try:
                    result = fut.result()
                except (RenderError, CancelledError, InputError, KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # noqa: BLE001 - KilledWorker (lost too often), the scheduler gone
                    # (the future then ends cancelled at once: FutureCancelledError)
                    raise RenderError(f"a {what} failed on the cluster: {type(exc).__name__}: {exc}") from None
                on_done(futures[fut], result)
            if should_stop is not None and should_stop():
                raise CancelledError(f"{what}s cancelled")
            if pending:
                time.sleep(0.05)
    except BaseException:
        if stop is not None and pending:
            stop.set()
        try:
            made.cancel(list(pending), force=True)
        except Exception:  # noqa: BLE001
            pass
        raise
    return len(futures)
