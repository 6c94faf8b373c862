"""The per-project lock when the projects live in a bucket: a lease object ``{id}/.lease``.

Taken by a conditional PUT (If-None-Match: * when there is none; If-Match on
the ETag of a free one, to take it over), so of two machines racing for a
project exactly one wins. The holder renews it every third of
``STORYBEAT_LEASE_TTL_S`` (If-Match on its own last ETag) and gives it back by
writing it released. A lease is free when it was released, when its
holder ran on this machine and that process is gone (found at once, as the
OS frees a disk lock), or when another machine's holder has not renewed it
within the TTL (a dead or cut-off worker). A holder that cannot prove its
lease (a renewal refused, or none for half the TTL and the next one refused)
stops writing: :meth:`Lease.ensure` raises LeaseLostError before every PUT.
Machines' clocks must agree to well under the TTL (NTP).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from engine.config import get_settings
from engine.errors import BusyError, LeaseLostError
from engine.store import Conflict, Store

log = logging.getLogger(__name__)

LEASE_NAME = ".lease"


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> str:
    """When process ``pid`` started (so a recycled pid is not taken for the holder); '' if unknown or gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return ""
    return "" if fields[0] == "Z" else fields[19]


HOST, BOOT = socket.gethostname(), _boot_id()


def _local_holder_alive(body: dict[str, Any]) -> bool | None:
    """For a lease held on this machine: whether its process still runs; None for another machine's lease."""
    if body.get("host") != HOST or body.get("boot") != BOOT or not BOOT:
        return None
    pid = body.get("pid")
    if not isinstance(pid, int):
        return False
    return _start_ticks(pid) == body.get("start") != ""


def lease_free(body: dict[str, Any], *, now: float | None = None) -> bool:
    """Whether a lease (its JSON) may be taken: released, its local holder gone, or expired."""
    if body.get("released"):
        return True
    alive = _local_holder_alive(body)
    if alive is not None:
        return not alive  # a paused process on this machine keeps its project, as a disk lock would
    expires = body.get("expires_at")
    return not isinstance(expires, (int, float)) or expires < (time.time() if now is None else now)


def _parse(data: bytes | None) -> dict[str, Any]:
    try:
        body = json.loads(data or b"")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class Lease:
    """A held lease on one project: renewed by a daemon thread until :meth:`release`."""

    def __init__(self, store: Store, project_id: str, *, ttl_s: float | None = None) -> None:
        self.store = store
        self.project_id = project_id
        self.key = f"{project_id}/{LEASE_NAME}"
        self.ttl_s = ttl_s or get_settings().lease_ttl_s
        self.token = uuid.uuid4().hex
        self.etag: str | None = None
        self._renewed = 0.0
        self._lost = False
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _body(self, *, released: bool = False) -> bytes:
        pid = os.getpid()
        return json.dumps({"host": HOST, "boot": BOOT, "pid": pid, "start": _start_ticks(pid), "token": self.token,
                           "ttl_s": self.ttl_s, "expires_at": 0 if released else time.time() + self.ttl_s,
                           "released": released}).encode()

    def acquire(self, *, wait_s: float = 0.0) -> Lease:
        """Take the lease (BusyError if another live holder has it after ``wait_s``) and start renewing it."""
        deadline = time.monotonic() + wait_s
        while True:
            started = time.monotonic()
            try:
                self.etag = self.store.put(self.key, self._body(), if_absent=True)
                break
            except Conflict:
                pass
            blob = self.store.get(self.key)
            if blob is not None and lease_free(_parse(blob.data)):
                try:
                    self.etag = self.store.put(self.key, self._body(), if_match=blob.etag)
                    break
                except Conflict:
                    pass  # someone else took it first
            if time.monotonic() >= deadline:
                raise BusyError(f"project {self.project_id} is busy: another run is working on it")
            time.sleep(0.05)
        self._renewed = started
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.project_id}", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        with self._guard:
            if self._lost:
                raise LeaseLostError(f"project {self.project_id}: another worker took over this run's lease")
            started = time.monotonic()
            try:
                self.etag = self.store.put(self.key, self._body(), if_match=self.etag)
            except Conflict:
                self._lost = True
                raise LeaseLostError(f"project {self.project_id}: another worker took over this run's lease") from None
            self._renewed = started

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self._renew()
            except LeaseLostError as exc:
                log.error("%s", exc)
                return
            except Exception as exc:  # noqa: BLE001 - a network blip: the next beat tries again
                log.warning("project %s: lease not renewed: %s", self.project_id, exc)

    def ensure(self) -> None:
        """Return if the lease is provably ours, else LeaseLostError (renews first when the last renewal is old)."""
        if self._lost:
            raise LeaseLostError(f"project {self.project_id}: another worker took over this run's lease")
        if time.monotonic() - self._renewed > self.ttl_s / 2:
            self._renew()

    def release(self) -> None:
        """Stop renewing and give the lease back (written released, conditional on our ETag)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._guard:
            if self._lost or self.etag is None:
                return
            try:
                self.store.put(self.key, self._body(released=True), if_match=self.etag)
            except Conflict:
                log.warning("project %s: the lease was taken over before it was given back", self.project_id)
            except Exception as exc:  # noqa: BLE001 - it expires by itself
                log.warning("project %s: lease not given back (it expires in %.0f s): %s", self.project_id, self.ttl_s, exc)


def lease_holder(store: Store, project_id: str) -> int | None:
    """The pid of this machine's process holding the project's lease; 0 when another machine's holder has it; None when free."""
    blob = store.get(f"{project_id}/{LEASE_NAME}")
    if blob is None:
        return None
    body = _parse(blob.data)
    if lease_free(body):
        return None
    return int(body["pid"]) if _local_holder_alive(body) else 0
