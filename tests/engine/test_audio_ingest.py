"""Ingest: every common format in, 44.1 kHz s16 stereo WAV out; bad input refused, nothing left behind."""
from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.ingest import AudioInfo, parse_probe, probe_and_normalise, sniff_container
from engine.fingerprint import file_sha256 as sha256_file
from engine.errors import InputError
from engine.ffmpeg import ffmpeg_path
from tests.engine.songs import song

FORMATS = {"wav": [], "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"], "ogg": ["-c:a", "libvorbis"],
           "flac": ["-c:a", "flac"], "m4a": ["-c:a", "aac", "-b:a", "128k"]}


def _encode(src: Path, dst: Path, *, seconds: float, extra: list[str]) -> Path:
    subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-i", str(src), "-t", str(seconds), *extra, str(dst)],
                   check=True, stdin=subprocess.DEVNULL)
    return dst


@pytest.fixture(scope="module")
def source_wav() -> Path:
    path, _ = song(100.0, 2, 32)
    return path


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_formats_are_normalised(tmp_path: Path, source_wav: Path, fmt: str) -> None:
    src = _encode(source_wav, tmp_path / f"in.{fmt}", seconds=6.0, extra=FORMATS[fmt])
    out = tmp_path / "out" / "track.wav"
    info = probe_and_normalise(src, out)
    assert isinstance(info, AudioInfo)
    assert abs(info.duration_ms - 6000) <= 80  # codec priming/padding only
    assert (info.sample_rate, info.channels) == (44100, 2)
    with wave.open(str(out), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (44100, 2, 2)
    data, _ = sf.read(out)
    assert np.abs(data).max() > 0.1  # real audio came through
    assert not [p for p in out.parent.iterdir() if p.name != "track.wav"]  # no temp files left


def test_format_detected_by_content_not_name(tmp_path: Path, source_wav: Path) -> None:
    flac = _encode(source_wav, tmp_path / "in.flac", seconds=3.0, extra=FORMATS["flac"])
    disguised = tmp_path / "song.mp3"
    disguised.write_bytes(flac.read_bytes())
    info = probe_and_normalise(disguised, tmp_path / "out.wav")
    assert info.container == "flac" and info.codec == "flac"


def test_output_is_deterministic(tmp_path: Path, source_wav: Path) -> None:
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    probe_and_normalise(source_wav, a)
    probe_and_normalise(source_wav, b)
    assert sha256_file(a) == sha256_file(b)


def test_silence_is_accepted(tmp_path: Path) -> None:
    src = tmp_path / "silence.wav"
    sf.write(src, np.zeros(44100 * 3, dtype=np.float32), 44100, subtype="PCM_16")
    info = probe_and_normalise(src, tmp_path / "out.wav")
    assert info.duration_ms == 3000


def _bad_inputs(tmp: Path, source_wav: Path) -> dict[str, Path]:
    cases: dict[str, Path] = {}
    text = tmp / "notes.mp3"
    text.write_text("these are my lyrics, not a song\n" * 50)
    cases["text renamed .mp3"] = text
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    cases["empty"] = empty
    rnd = tmp / "random.ogg"
    rnd.write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    cases["random bytes"] = rnd
    full_wav = source_wav.read_bytes()
    trunc_wav = tmp / "truncated.wav"
    trunc_wav.write_bytes(full_wav[: len(full_wav) // 3])
    cases["truncated wav"] = trunc_wav
    m4a = _encode(source_wav, tmp / "full.m4a", seconds=10.0, extra=FORMATS["m4a"])
    trunc_m4a = tmp / "truncated.m4a"
    trunc_m4a.write_bytes(m4a.read_bytes()[: m4a.stat().st_size // 2])
    cases["truncated m4a"] = trunc_m4a
    flac = _encode(source_wav, tmp / "full.flac", seconds=10.0, extra=FORMATS["flac"])
    trunc_flac = tmp / "truncated.flac"
    trunc_flac.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    cases["truncated flac"] = trunc_flac
    garbage = tmp / "garbage.mp3"
    garbage.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x0a" + bytes(10) + bytes(range(256)) * 40)
    cases["ID3 header then garbage"] = garbage
    cases["1 s clip"] = _encode(source_wav, tmp / "short.wav", seconds=1.0, extra=[])
    return cases


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, source_wav: Path) -> dict[str, Path]:
    return _bad_inputs(tmp_path_factory.mktemp("bad"), source_wav)


@pytest.mark.parametrize(
    "case",
    ["text renamed .mp3", "empty", "random bytes", "truncated wav", "truncated m4a", "truncated flac",
     "ID3 header then garbage", "1 s clip"],
)
def test_bad_input_raises_and_leaves_nothing(tmp_path: Path, bad_inputs: dict[str, Path], case: str) -> None:
    out_dir = tmp_path / "source"
    out_dir.mkdir()
    with pytest.raises(InputError) as err:
        probe_and_normalise(bad_inputs[case], out_dir / "track.wav")
    assert str(err.value)  # a message for humans
    assert list(out_dir.iterdir()) == []


def test_too_long_raises(tmp_path: Path, source_wav: Path) -> None:
    out = tmp_path / "track.wav"
    with pytest.raises(InputError, match="too long"):
        probe_and_normalise(source_wav, out, max_duration_s=10)
    assert not out.exists()


def test_failed_ingest_keeps_an_existing_track(tmp_path: Path, source_wav: Path) -> None:
    out = tmp_path / "track.wav"
    probe_and_normalise(source_wav, out)
    before = sha256_file(out)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(InputError):
        probe_and_normalise(junk, out)
    assert sha256_file(out) == before


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        probe_and_normalise(tmp_path / "nope.wav", tmp_path / "out.wav")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
        (bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(8), "mp3"),
        (b"OggS\x00\x02" + bytes(8), "ogg"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00", "mov"),
        (bytes([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC]), "aac"),
        (b"FORM\x00\x00\x00\x00AIFF", "aiff"),
        (b"hello world, this is text", None),
        (b"", None),
    ],
)
def test_sniff_container(head: bytes, expected: str | None) -> None:
    assert sniff_container(head) == expected


def test_parse_probe_reads_ffmpeg_description() -> None:
    stderr = (
        "Input #0, mp3, from 'x.mp3':\n  Duration: 00:03:05.27, start: 0.025057, bitrate: 128 kb/s\n"
        "  Stream #0:0: Audio: mp3 (mp3float), 44100 Hz, stereo, fltp, 128 kb/s\n"
    )
    probe = parse_probe(stderr)
    assert probe is not None
    assert (probe.duration_ms, probe.codec, probe.sample_rate, probe.channels) == (185270, "mp3", 44100, 2)
    assert parse_probe("Input #0, image2\n  Stream #0:0: Video: png") is None
