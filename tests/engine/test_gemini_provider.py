"""The Gemini provider's roles: pure timing repair, and each role through the real SDK against the fake server."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from PIL import Image

from engine.config import Settings
from engine.errors import ProviderError
from engine.models import Analysis, EnergyCurve, LyricLine, ProjectSettings, PromptVersion, Section, StyleBible
from engine.providers.base import StepIO
from engine.providers.gemini import GeminiClient, gemini_provider
from engine.providers.gemini.align import (
    align_lines, proposed_cuts, repair_line_times, snap_scene_cuts, snap_starts,
)
from engine.providers.gemini.analyst import enrich_analysis
from engine.usage import UsageDelta, estimate_run, expected_scenes, input_image_tokens
from engine.providers.gemini.schemas import (
    AnalysisAnswer, AnswerLyricLine, AnswerScene, AnswerSection, AnswerStyleBible, StoryboardAnswer,
)
from engine.providers.gemini.storyboard import UnusableStoryboard, scenes_from_answer
from engine.providers.gemini.writer import bible_from_answer
from engine.steps.segment import check_scenes
from engine.storyboard import candidate_points
from engine.styles import get_preset
from tests.fakes import DEFAULT_API_KEY, Fault, FakeGemini, fake_gemini  # noqa: F401 (fixture)

BEAT_MS = 500
DURATION_MS = 20_000


# --------------------------------------------------------------------------- helpers


def synthetic_analysis(*, duration_ms: int = DURATION_MS, lyrics: bool = True) -> Analysis:
    """A hand-made analysis: 120 BPM grid, two sections, rising energy, three lyric lines."""
    beats = list(range(BEAT_MS, duration_ms, BEAT_MS))
    hop = 50
    n = duration_ms // hop
    rms = [round(0.2 + 0.7 * i / n, 3) for i in range(n)]
    lines = [
        LyricLine(index=0, text="neon rain on the river", start_ms=2000, end_ms=5000, source="lrc"),
        LyricLine(index=1, text="we drive into the night", start_ms=8000, end_ms=11000, source="lrc"),
        LyricLine(index=2, text="the city never sleeps", start_ms=14000, end_ms=17000, source="lrc"),
    ] if lyrics else []
    return Analysis(
        duration_ms=duration_ms, tempo_bpm=120.0, beats_ms=beats, downbeats_ms=beats[3::4],
        onsets_ms=[b + 7 for b in beats], energy=EnergyCurve(hop_ms=hop, rms=rms, onset=rms, brightness=rms),
        mood="driving", sections=[
            Section(index=0, label="verse", start_ms=0, end_ms=10_000, energy=0.4, mood="calm"),
            Section(index=1, label="chorus", start_ms=10_000, end_ms=duration_ms, energy=0.8, mood="euphoric"),
        ], lyrics=lines, summary="120 BPM",
    )


class Sink:
    """Collects usage reports like the runner's job tracker."""

    def __init__(self) -> None:
        self.deltas: list[UsageDelta] = []

    def io(self) -> StepIO:
        return StepIO(on_usage=self.deltas.append)


@pytest.fixture
def client(fake_gemini: FakeGemini) -> GeminiClient:  # noqa: F811
    c = GeminiClient(DEFAULT_API_KEY, base_url=fake_gemini.base_url, sleep=lambda s: None, requests_per_minute=0)
    yield c
    c.close()


@pytest.fixture
def provider(client: GeminiClient):  # type: ignore[no-untyped-def]
    from engine.providers.local import local_provider

    return gemini_provider(Settings(), client=client, local=local_provider())


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        return im.size


# --------------------------------------------------------------------------- align: lyric lines


line_lists = st.lists(
    st.tuples(st.text(alphabet="abc ", min_size=0, max_size=6), st.integers(-5000, 40_000), st.integers(-5000, 40_000)),
    max_size=30,
)


@hsettings(max_examples=300, deadline=None)
@given(lines=line_lists, duration_ms=st.integers(1000, 30_000))
def test_repaired_lines_are_ordered_inside_the_track_and_keep_every_line(lines, duration_ms) -> None:  # type: ignore[no-untyped-def]
    out = repair_line_times(lines, duration_ms=duration_ms)
    assert [line.text for line in out] == [t.strip() for t, _, _ in lines if t.strip()]
    for line in out:
        assert 0 <= line.start_ms < line.end_ms <= duration_ms
    for a, b in zip(out, out[1:]):
        assert a.start_ms < b.start_ms and a.end_ms <= b.start_ms


@hsettings(max_examples=200, deadline=None)
@given(lines=line_lists, duration_ms=st.integers(1000, 30_000), onsets=st.lists(st.integers(0, 30_000), max_size=60))
def test_aligned_lines_stay_valid(lines, duration_ms, onsets) -> None:  # type: ignore[no-untyped-def]
    out = align_lines(lines, duration_ms=duration_ms, onsets_ms=onsets)
    for line in out:
        assert 0 <= line.start_ms < line.end_ms <= duration_ms
    for a, b in zip(out, out[1:]):
        assert a.start_ms < b.start_ms and a.end_ms <= b.start_ms


def test_valid_lines_are_not_moved_and_snap_to_onsets() -> None:
    given_lines = [("one", 1000, 3000), ("two", 4000, 6000), ("three", 7000, 9000)]
    repaired = repair_line_times(given_lines, duration_ms=10_000)
    assert [(x.start_ms, x.end_ms, x.moved) for x in repaired] == [(1000, 3000, False), (4000, 6000, False), (7000, 9000, False)]
    snapped = snap_starts(repaired, onsets_ms=[1120, 3950, 7600])
    assert [x.start_ms for x in snapped] == [1120, 3950, 7000]  # 7600 is outside the 250 ms window
    assert not any(x.moved for x in snapped)


def test_hallucinated_times_are_moved_and_flagged() -> None:
    given_lines = [("a", 1000, 2000), ("b", 500, 1500), ("c", 3000, 4000), ("d", 99_000, 99_500)]
    out = repair_line_times(given_lines, duration_ms=10_000)
    assert [x.moved for x in out] == [False, True, False, True]
    assert out[1].start_ms >= out[0].start_ms + 400
    assert out[-1].end_ms <= 10_000


def test_drifting_clock_is_rescaled_to_the_track() -> None:
    # Gemini's clock ran 50 % fast: half the lines end past the 10 s track.
    given_lines = [(f"l{i}", i * 3000, i * 3000 + 2000) for i in range(5)]  # ends at 14 s
    out = repair_line_times(given_lines, duration_ms=10_000)
    assert out[-1].end_ms == 10_000
    assert out[2].start_ms == round(6000 * 10_000 / 14_000)
    assert all(0 <= x.start_ms < x.end_ms <= 10_000 for x in out)


# --------------------------------------------------------------------------- align: scene cuts


@hsettings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(-1000, 25_000), max_size=25), min_ms=st.integers(1500, 3000), extra_ms=st.integers(3000, 6000))
def test_snapped_cuts_cover_the_track_on_the_beat_within_bounds(cuts, min_ms, extra_ms) -> None:  # type: ignore[no-untyped-def]
    analysis = synthetic_analysis()
    max_ms = 2 * min_ms + 3 * BEAT_MS + extra_ms  # the planner's guarantee holds for these bounds
    out = snap_scene_cuts(cuts, duration_ms=DURATION_MS, beats_ms=analysis.beats_ms, downbeats_ms=analysis.downbeats_ms,
                          energy=analysis.energy, min_scene_ms=min_ms, max_scene_ms=max_ms)
    points = {p.ms for p in candidate_points(duration_ms=DURATION_MS, beats_ms=analysis.beats_ms, downbeats_ms=analysis.downbeats_ms)}
    assert out[0] == 0 and out[-1] == DURATION_MS
    assert all(a < b for a, b in zip(out, out[1:]))
    assert all(c in points for c in out[1:-1])
    lengths = [b - a for a, b in zip(out, out[1:])]
    assert all(min_ms <= n <= max_ms for n in lengths), lengths


def test_proposed_cuts_follow_gemini_where_the_grid_allows() -> None:
    analysis = synthetic_analysis()
    spans = [(0, 4130), (4130, 8890), (8890, 20_000)]
    cuts = snap_scene_cuts(proposed_cuts(spans, duration_ms=DURATION_MS), duration_ms=DURATION_MS,
                           beats_ms=analysis.beats_ms, downbeats_ms=analysis.downbeats_ms, energy=analysis.energy,
                           min_scene_ms=2500, max_scene_ms=8000)
    assert cuts[:3] == [0, 4000, 9000]
    assert cuts[-1] == DURATION_MS and len(cuts) >= 5  # the 11 s tail was split


# --------------------------------------------------------------------------- pure mapping of answers


def test_storyboard_answer_becomes_scenes_covering_the_track() -> None:
    analysis = synthetic_analysis()
    answer = StoryboardAnswer(scenes=[
        AnswerScene(start_ms=0, end_ms=4100, lyric_text="", visual_intent="a car under neon rain", mood="calm", energy=0.3),
        AnswerScene(start_ms=4100, end_ms=9000, lyric_text="x", visual_intent="the river of lights", mood="", energy=0.5),
        AnswerScene(start_ms=9000, end_ms=31_000, lyric_text="x", visual_intent="the skyline explodes", mood="euphoric", energy=0.9),
    ])
    scenes = scenes_from_answer(answer, analysis=analysis, settings=ProjectSettings())
    check_scenes(scenes, duration_ms=DURATION_MS)
    assert scenes[0].visual_intent == "a car under neon rain"
    assert scenes[1].mood == "calm"  # no mood from Gemini: the section's
    assert "we drive into the night" in " ".join(s.lyric_text for s in scenes)  # lyrics from the analysis
    assert scenes[-1].section == "chorus"
    assert [s.id for s in scenes] == [f"seg_{i + 1:03d}" for i in range(len(scenes))]


@pytest.mark.parametrize("scenes", [
    [],
    [AnswerScene(start_ms=0, end_ms=3000, lyric_text="", visual_intent="too little", mood="m", energy=0.1)],
    [AnswerScene(start_ms=0, end_ms=20_000, lyric_text="", visual_intent="   ", mood="m", energy=0.1)],
])
def test_unusable_storyboard_says_what_is_wrong(scenes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnusableStoryboard) as err:  # a ValueError: the client feeds it back in its repair call
        scenes_from_answer(StoryboardAnswer(scenes=scenes), analysis=synthetic_analysis(), settings=ProjectSettings())
    assert "visual_intent" in str(err.value) or "cover only" in str(err.value)


def test_bible_falls_back_to_the_preset_palette_and_keeps_its_negative() -> None:
    preset = get_preset("noir")
    bible = bible_from_answer(AnswerStyleBible(palette=["red", "#12345", "#abcdef"], setting="rainy docks",
                                               subject="a detective", look="ink", negative="Colourful, cats"), preset=preset)
    assert bible.palette == list(preset.palette)
    assert bible.negative.startswith(preset.negative) and bible.negative.endswith("cats")
    assert "colourful" in bible.negative and "Colourful" not in bible.negative  # merged case-insensitively


def test_enrich_keeps_signal_timing_and_user_lyrics() -> None:
    local = synthetic_analysis()
    answer = AnalysisAnswer(language="en", mood="wistful", genre="synthpop", summary="a night drive",
                            lyrics=[AnswerLyricLine(text="hallucinated", start_ms=0, end_ms=90_000)],
                            sections=[AnswerSection(label="x", start_ms=0, end_ms=20_000, mood="dreamy", energy=0.5)])
    kept = enrich_analysis(local, answer, keep_local_lyrics=True)
    assert kept.lyrics == local.lyrics and kept.beats_ms == local.beats_ms
    assert (kept.provider, kept.language, kept.mood) == ("gemini", "en", "wistful")
    assert [s.mood for s in kept.sections] == ["dreamy", "dreamy"] and "a night drive" in kept.summary
    transcribed = enrich_analysis(local.model_copy(update={"lyrics": []}), answer, keep_local_lyrics=False)
    assert [(x.source, x.moved) for x in transcribed.lyrics] == [("gemini", True)]
    assert transcribed.lyrics[0].end_ms <= DURATION_MS


# --------------------------------------------------------------------------- roles over the wire


def test_storyboarder_against_the_fake(provider, fake_gemini: FakeGemini) -> None:  # noqa: F811
    sink = Sink()
    scenes = provider.storyboarder.storyboard(synthetic_analysis(), settings=ProjectSettings(), io=sink.io())
    check_scenes(scenes, duration_ms=DURATION_MS)
    assert fake_gemini.count("generateContent") == 1
    body = fake_gemini.calls_to("generateContent")[0].body
    assert "duration_ms: 20000" in json.dumps(body) and body["generationConfig"]["responseMimeType"] == "application/json"
    assert len(sink.deltas) == 1 and sink.deltas[0].calls == 1 and sink.deltas[0].prompt_tokens > 0
    assert sink.deltas[0].est_cost_usd > 0


def test_malformed_json_is_retried_then_used(provider, fake_gemini: FakeGemini) -> None:  # noqa: F811
    fake_gemini.add_fault("generateContent", Fault("malformed"))
    scenes = provider.storyboarder.storyboard(synthetic_analysis(), settings=ProjectSettings(), io=StepIO())
    check_scenes(scenes, duration_ms=DURATION_MS)
    assert fake_gemini.count("generateContent") == 2


def test_writer_makes_bible_and_prompts_in_one_call(provider, fake_gemini: FakeGemini) -> None:  # noqa: F811
    analysis = synthetic_analysis()
    settings = ProjectSettings(style="cosmic")
    scenes = provider.storyboarder.storyboard(analysis, settings=settings, io=StepIO())
    before = fake_gemini.count("generateContent")
    bible = provider.writer.style_bible(analysis, scenes, settings=settings, io=StepIO())
    prompts = provider.writer.write(scenes, bible=bible, settings=settings, io=StepIO())
    assert fake_gemini.count("generateContent") - before == 1
    assert set(prompts) == {s.id for s in scenes}
    negatives = [item.strip() for item in get_preset("cosmic").negative.split(",")]
    assert all(p[0] and all(item in p[1] for item in negatives) for p in prompts.values())
    assert bible.preset == "cosmic" and len(bible.palette) >= 3
    # Later (saved bible, one edited scene): one call for just that scene.
    again = provider.writer.write(scenes[:1], bible=bible, settings=settings, io=StepIO())
    assert set(again) == {scenes[0].id} and fake_gemini.count("generateContent") - before == 2
    assert "The style bible is fixed" in json.dumps(fake_gemini.calls_to("generateContent")[-1].body)


def test_writer_missing_prompt_costs_one_repair_then_fails(client: GeminiClient, fake_gemini: FakeGemini) -> None:  # noqa: F811
    from engine.providers.local import local_provider

    def responder(model: str, request: dict) -> dict | None:
        if request["_kind"] == "prompts":
            return {"style_bible": {"palette": [], "setting": "s", "subject": "t", "look": "l", "negative": ""},
                    "scenes": [{"id": "seg_001", "image_prompt": "a cat", "negative_prompt": "", "style_hints": []}]}
        return None

    fake_gemini.responder = responder
    provider = gemini_provider(Settings(), client=client, local=local_provider())
    analysis = synthetic_analysis()
    scenes = provider.storyboarder.storyboard(analysis, settings=ProjectSettings(), io=StepIO())
    before = fake_gemini.count("generateContent")
    with pytest.raises(ProviderError) as err:
        provider.writer.style_bible(analysis, scenes, settings=ProjectSettings(), io=StepIO())
    assert err.value.retried and "seg_002" in str(err.value)  # nobody asks a third time
    assert fake_gemini.count("generateContent") - before == 2  # the call and its one repair
    repair = fake_gemini.calls_to("generateContent")[-1].body["contents"][-1]["parts"][0]["text"]
    assert "no image_prompt for seg_002" in repair


def _draw(provider, *, quality: str = "fast", aspect: str = "16:9", io_: StepIO | None = None):  # type: ignore[no-untyped-def]
    analysis = synthetic_analysis()
    settings = ProjectSettings(quality=quality, aspect=aspect)  # type: ignore[arg-type]
    scene = scenes_from_answer(StoryboardAnswer(scenes=[AnswerScene(
        start_ms=0, end_ms=20_000, lyric_text="", visual_intent="a lighthouse", mood="calm", energy=0.2)]),
        analysis=analysis, settings=settings)[0]
    bible = StyleBible(preset="watercolor", palette=["#112233", "#445566", "#778899"], setting="a cliff",
                       subject="a keeper", look="soft washes")
    version = PromptVersion(version=1, image_prompt="a lighthouse at dusk", negative_prompt="text")
    return provider.illustrator.draw(scene=scene, prompt=version, bible=bible, settings=settings, width=320, height=180,
                                     seed=1, io=io_ or StepIO())


def test_illustrator_draws_with_aspect_model_and_bible(provider, fake_gemini: FakeGemini) -> None:  # noqa: F811
    sink = Sink()
    drawing = _draw(provider, io_=sink.io())
    assert drawing.png is not None and png_size(drawing.png) == (320, 180)
    assert drawing.model == "gemini-2.5-flash-image"
    call = fake_gemini.calls_to("generateContent")[0]
    assert call.model == "gemini-2.5-flash-image"
    assert call.body["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"
    text = json.dumps(call.body)
    assert "a lighthouse at dusk" in text and "#445566" in text and "soft washes" in text
    assert [(d.calls, d.images) for d in sink.deltas] == [(1, 1)] and sink.deltas[0].est_cost_usd > 0.01


def test_pro_quality_uses_the_pro_model_and_skips_thought_images(provider, fake_gemini: FakeGemini) -> None:  # noqa: F811
    fake_gemini.add_fault("generateContent", Fault("thought_images", count=2))
    drawing = _draw(provider, quality="pro", aspect="9:16")
    assert drawing.png is not None and png_size(drawing.png) == (320, 180)
    call = fake_gemini.calls_to("generateContent")[0]
    assert call.model == "gemini-3-pro-image-preview"
    assert call.body["generationConfig"]["imageConfig"] == {"aspectRatio": "9:16", "imageSize": "1K"}
    # The final (non-thought) picture: the fake draws its disc centred only on the final one.
    from tests.fakes.gemini_server import make_png, request_text

    expected = make_png(prompt=request_text(call.body), aspect_ratio="9:16")
    from engine.providers.gemini.illustrator import fit_image

    fitted = io.BytesIO()
    fit_image(expected, width=320, height=180).save(fitted, format="PNG")
    assert drawing.png == fitted.getvalue()


@pytest.mark.parametrize("fault, reason", [
    (Fault("image_blocked", reason="IMAGE_SAFETY"), "IMAGE_SAFETY"),
    (Fault("prompt_blocked", reason="PROHIBITED_CONTENT"), "prompt blocked: PROHIBITED_CONTENT"),
    (Fault("text_only"), "NO_IMAGE"),
])
def test_refusals_become_blocked_drawings_without_retry(provider, fake_gemini: FakeGemini, fault: Fault, reason: str) -> None:  # noqa: F811
    fake_gemini.add_fault("generateContent", fault)
    drawing = _draw(provider)
    assert drawing.png is None and drawing.blocked_reason.startswith(reason)
    assert fake_gemini.count("generateContent") == 1


def test_rate_limit_with_delay_then_success(provider, fake_gemini: FakeGemini, client: GeminiClient) -> None:  # noqa: F811
    waits: list[float] = []
    client._sleep = waits.append  # the client's injectable sleep (no real waiting in tests)
    fake_gemini.add_fault("generateContent", Fault.rate_limited(retry_delay_s=7.0))
    fake_gemini.add_fault("generateContent", Fault.http(503))
    drawing = _draw(provider)
    assert drawing.png is not None and fake_gemini.count("generateContent") == 3
    # the server's RetryInfo delay of 7 s, then the 503's backoff after a second try (2 s), each + up to 10 % jitter
    # (slept in short slices, so a Stop is seen at once)
    assert 9.0 <= sum(waits) <= 9.9 and max(waits) <= 0.1 + 1e-9


# --------------------------------------------------------------------------- the estimate


def test_estimate_counts_calls_images_and_cost() -> None:
    config = Settings()
    fast = estimate_run(ProjectSettings(provider="gemini"), duration_ms=180_000, config=config)
    n = expected_scenes(duration_ms=180_000, min_scene_ms=2500, max_scene_ms=8000)
    assert fast.scenes == n and fast.images == n + 1 and fast.calls == 4 + n  # + the lead's reference picture
    assert [s.step for s in fast.steps] == ["analyze", "segment", "prompt", "cast", "draw"]
    assert fast.steps[0].prompt_tokens >= 180 * 32  # the audio
    pro = estimate_run(ProjectSettings(provider="gemini", quality="pro"), duration_ms=180_000, config=config)
    assert pro.cost_usd > fast.cost_usd > 0
    assert estimate_run(ProjectSettings(provider="local"), duration_ms=180_000, config=config).cost_usd == 0
    left = estimate_run(ProjectSettings(provider="gemini"), analysis=synthetic_analysis(), scenes=4, images=1,
                        references=0, steps=("draw",), config=config)
    assert (left.calls, left.images, left.scenes) == (1, 1, 4)
    assert json.loads(json.dumps(left.to_dict()))["images"] == 1
    # continuity: each picture but the first scene's also sends the previous picture as an input image
    settings = ProjectSettings(provider="gemini")
    plain = estimate_run(settings, duration_ms=180_000, config=config).steps[-1]
    linked = estimate_run(settings.model_copy(update={"continuity": True}), duration_ms=180_000, config=config).steps[-1]
    assert linked.prompt_tokens - plain.prompt_tokens == (n - 1) * input_image_tokens(1600, 900) == (n - 1) * 258 * 3 * 2
    assert input_image_tokens(384, 200) == 258 and input_image_tokens(768, 1024) == 516


def test_analyst_keeps_user_lyrics_and_asks_only_for_the_rest(provider, fake_gemini: FakeGemini, tmp_path: Path) -> None:  # noqa: F811
    from engine.audio.sample import make_song

    wav = tmp_path / "song.wav"
    make_song(wav, bpm=120, bars=8, sections=None, seed=5)
    lrc = "[00:02.00]first line of the song\n[00:07.00]second line of the song\n"
    sink = Sink()
    analysis = provider.analyst.analyze(wav=wav, lyrics_text=lrc, settings=ProjectSettings(), io=sink.io())
    assert [line.text for line in analysis.lyrics] == ["first line of the song", "second line of the song"]
    assert all(line.source != "gemini" for line in analysis.lyrics)
    assert analysis.provider == "gemini" and analysis.language == "en" and analysis.beats_ms
    assert fake_gemini.count("upload.start") == 1 and fake_gemini.count("generateContent") == 1
    text = json.dumps(fake_gemini.calls_to("generateContent")[0].body)
    assert "do not transcribe" in text and "second line of the song" in text and f"duration_ms: {analysis.duration_ms}" in text
    assert [d.calls for d in sink.deltas] == [1]  # the upload and polls are not model calls
