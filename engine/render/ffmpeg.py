"""Running the ffmpeg binary (located by :func:`engine.ffmpeg.ffmpeg_path`) and probing its output."""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import functools
import logging
import math
import os
import re
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import CancelledError, RenderError
from engine.ffmpeg import ffmpeg_path

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 25


def parse_progress_line(line: str) -> tuple[str, str] | None:
    """A ``key=value`` line of ``-progress`` output as a pair, or None."""
    key, sep, value = line.strip().partition("=")
    return (key, value) if sep and key else None


def _tail(text: str, *, lines: int = STDERR_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


@functools.cache
def _vmsplice() -> Callable[..., int] | None:
    """libc's ``vmsplice`` (Linux), or None where there is none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.vmsplice
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.POINTER(_IoVec), ctypes.c_ulong, ctypes.c_uint]
    fn.restype = ctypes.c_ssize_t
    return fn  # type: ignore[no-any-return]


class FeedPipes:
    """OS pipes that feed raw data into ffmpeg inputs named ``pipe:N`` (see :attr:`urls`).

    On Linux the data is handed over without a copy (``vmsplice``: the pipe refers to this process's
    pages and ffmpeg's ``read`` copies them out), which halves what feeding a frame costs both ends
    (docs/render_speed.md). So a buffer given to a feed must stay unchanged until :attr:`PIPE_BYTES`
    more bytes have been fed after it (the pipe cannot hold more): a frame ring needs
    :meth:`ring_slots` buffers. :class:`FfmpegProcess` keeps the buffers alive until then itself.
    """

    PIPE_BYTES = 1 << 20  # a bigger pipe buffer: fewer context switches per 1.4 MB frame

    def __init__(self, count: int) -> None:
        self.pairs = [os.pipe() for _ in range(count)]
        self._open = {fd for pair in self.pairs for fd in pair}
        self._lock = threading.Lock()
        self.zero_copy = _vmsplice() is not None
        for _, write_fd in self.pairs:
            try:
                fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, self.PIPE_BYTES)
            except (OSError, AttributeError):  # capped by /proc/sys/fs/pipe-max-size: the default still works
                pass
            try:
                if fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) > self.PIPE_BYTES:
                    self.zero_copy = False  # bigger than the rule above assumes: copy instead
            except (OSError, AttributeError):
                self.zero_copy = False

    @classmethod
    def ring_slots(cls, buffer_bytes: int) -> int:
        """How many buffers of ``buffer_bytes`` a producer must cycle through so none is rewritten while fed."""
        return 2 + math.ceil(cls.PIPE_BYTES / max(1, buffer_bytes))

    @property
    def urls(self) -> list[str]:
        """ffmpeg input names of the read ends (the child keeps the same descriptor numbers)."""
        return [f"pipe:{r}" for r, _ in self.pairs]

    @property
    def read_fds(self) -> tuple[int, ...]:
        """The ends ffmpeg reads."""
        return tuple(r for r, _ in self.pairs)

    @property
    def write_fds(self) -> tuple[int, ...]:
        """The ends this process writes."""
        return tuple(w for _, w in self.pairs)

    def close(self, fd: int) -> None:
        """Close one of the pipes' descriptors once (a number is never closed twice: it may be reused)."""
        with self._lock:
            if fd not in self._open:
                return
            self._open.discard(fd)
        try:
            os.close(fd)
        except OSError:
            pass

    def close_all(self) -> None:
        """Close every descriptor still open (after a failure or a cancel)."""
        for fd in (*self.read_fds, *self.write_fds):
            self.close(fd)


def _write_all(fd: int, data: memoryview | bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _splice_all(fd: int, data: np.ndarray) -> None:
    """Hand ``data``'s pages to the pipe (no copy); BrokenPipeError when the reader is gone."""
    splice = _vmsplice()
    assert splice is not None
    address, remaining = data.ctypes.data, data.nbytes
    while remaining:
        iov = _IoVec(address, remaining)
        done = splice(fd, ctypes.byref(iov), 1, 0)
        if done < 0:
            err = ctypes.get_errno()
            if err == errno.EINTR:
                continue
            if err == errno.EPIPE:
                raise BrokenPipeError(err, os.strerror(err))
            raise OSError(err, f"vmsplice: {os.strerror(err)}")
        address, remaining = address + done, remaining - done


class FfmpegProcess:
    """One running ffmpeg with ``-progress pipe:1``: reports frames done, can be killed from another thread.

    ``feeds`` pairs :class:`FeedPipes` with one iterable of byte buffers per pipe; each is
    written by its own thread while ffmpeg runs (a failing iterable kills ffmpeg and is re-raised).
    """

    def __init__(self, args: list[str], *, on_frames: Callable[[int], None] | None = None,
                 feeds: tuple[FeedPipes, list[Iterable[memoryview | bytes | np.ndarray]]] | None = None) -> None:
        self.args = [ffmpeg_path(), *args]
        self.on_frames = on_frames
        self.feeds = feeds
        self._proc: subprocess.Popen[str] | None = None
        self._killed = False
        self._lock = threading.Lock()
        self._feed_error: BaseException | None = None
        self._in_pipe: list[deque[np.ndarray]] = []  # buffers fed without a copy, kept alive (see FeedPipes)

    def _feed(self, pipes: FeedPipes, fd: int, buffers: Iterable[memoryview | bytes | np.ndarray]) -> None:
        recent: deque[np.ndarray] = deque()
        self._in_pipe.append(recent)
        after = 0  # bytes fed after recent[0]
        try:
            for buffer in buffers:
                if not pipes.zero_copy:
                    _write_all(fd, buffer)
                    continue
                data = np.frombuffer(buffer, np.uint8)
                _splice_all(fd, data)
                recent.append(data)
                after += data.nbytes
                while len(recent) > 1 and after - recent[0].nbytes >= FeedPipes.PIPE_BYTES:
                    after -= recent.popleft().nbytes  # read out of the pipe for sure: its memory may be reused
        except BrokenPipeError:
            pass  # ffmpeg stopped reading (it failed, or was killed): its exit code tells
        except BaseException as exc:  # noqa: BLE001 - handed to run(), which re-raises it
            self._feed_error = exc
            self.kill()
        finally:
            pipes.close(fd)

    def kill(self) -> None:
        """Stop ffmpeg at once (the caller decides what error that becomes)."""
        with self._lock:
            self._killed = True
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()

    @property
    def killed(self) -> bool:
        """True once :meth:`kill` was called."""
        return self._killed

    def run(self, *, what: str = "ffmpeg") -> None:
        """Run to the end; RenderError with the stderr tail on failure, CancelledError if killed."""
        log.debug("running %s", " ".join(self.args))
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as err:
            with self._lock:
                pipes, sources = self.feeds if self.feeds is not None else (None, [])
                if self._killed:
                    if pipes:
                        pipes.close_all()
                    raise CancelledError(f"{what} cancelled")
                try:
                    self._proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                  stderr=err, text=True, encoding="utf-8", errors="replace",
                                                  pass_fds=pipes.read_fds if pipes else ())
                except OSError as exc:
                    if pipes:
                        pipes.close_all()
                    raise RenderError(f"{what}: cannot start ffmpeg ({exc})") from exc
            writers: list[threading.Thread] = []
            if pipes:
                for fd in pipes.read_fds:
                    pipes.close(fd)  # only ffmpeg reads; it sees the end of input when the writer closes
                for fd, buffers in zip(pipes.write_fds, sources):
                    writers.append(threading.Thread(target=self._feed, args=(pipes, fd, buffers), daemon=True,
                                                    name=f"ffmpeg-feed-{fd}"))
                for t in writers:
                    t.start()
            proc = self._proc
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    pair = parse_progress_line(line)
                    if pair and pair[0] == "frame" and self.on_frames is not None and pair[1].isdigit():
                        self.on_frames(int(pair[1]))
                code = proc.wait()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                for t in writers:
                    t.join()
                if pipes:
                    pipes.close_all()
                self._in_pipe.clear()  # ffmpeg is gone: nothing reads those pages any more
                proc.stdout.close()
            if self._feed_error is not None:
                raise RenderError(f"{what}: producing frames failed ({self._feed_error})") from self._feed_error
            if self._killed:
                raise CancelledError(f"{what} cancelled")
            if code != 0:
                err.seek(0)
                tail = _tail(err.read())
                raise RenderError(f"{what} failed (ffmpeg exit code {code})", stderr_tail=tail)


@dataclass(frozen=True)
class MediaInfo:
    """What ``ffmpeg -i`` says about a file (ffprobe is not bundled)."""

    duration_ms: int | None
    video_codec: str | None
    pix_fmt: str | None
    width: int | None
    height: int | None
    fps: float | None
    audio_codec: str | None


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)[^,]*, (\w+)(?:\([^)]*\))?, (\d+)x(\d+)")
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)")


def probe(path: Path) -> MediaInfo:
    """Codec, pixel format, size, frame rate and duration of a media file."""
    out = subprocess.run([ffmpeg_path(), "-hide_banner", "-nostdin", "-i", str(path)],
                         capture_output=True, text=True, errors="replace").stderr
    if "Invalid data" in out or "No such file" in out:
        raise RenderError(f"cannot read {path}", stderr_tail=_tail(out))
    d = _DURATION.search(out)
    duration = None if d is None else int(round((int(d[1]) * 3600 + int(d[2]) * 60 + float(d[3])) * 1000))
    v = _VIDEO.search(out)
    fps = _FPS.search(out)
    a = _AUDIO.search(out)
    return MediaInfo(duration_ms=duration, video_codec=v[1] if v else None, pix_fmt=v[2] if v else None,
                     width=int(v[3]) if v else None, height=int(v[4]) if v else None,
                     fps=float(fps[1]) if fps else None, audio_codec=a[1] if a else None)
