"""Benchmark of the local pictures over whole songs: shot variety, and the cast's look across scenes.

Run: ``.venv/bin/python bench/bench_cast.py [--quick] [--shots-only]`` (prints markdown tables; ``--shots-only``:
the shot-variety table alone, a couple of minutes: the songs' analysis, no pictures drawn).

Songs: a 3-minute synthetic song (``engine.audio.sample``), the demo song with its lyrics, and the real
excerpts of ``tests/data/real_audio`` (loaded with ``bench.corpus.load_corpus``) joined into one ~3-minute
track. Each is analysed by the real local analysis, storyboarded, and written by the local writer.

1. Shots: the illustrator's plan of every scene (its shot, and its composition = shot + main ground);
   the share of the most common shot and composition, neighbouring scenes with the same shot or
   composition, and the share of choruses in the open shots (wide, high, sky, low).
2. The cast: each scene is drawn with the proposed lead; the lead's figure (its mask from the painter,
   after mirror and tilt) is compared with its reference picture: colour similarity (intersection of
   RGB histograms, 4 bins per channel, of the figure's pixels, 1 = same colours) and silhouette similarity (IoU of
   the figure's mask scaled to a common box; standing figures only, running and dancing poses are listed
   apart). A different member (another silhouette and colours) is measured the same way as a baseline:
   the measure must tell two members apart.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.cast import propose_cast  # noqa: E402
from engine.models import Analysis, CastMember, Scene, StyleBible  # noqa: E402
from engine.providers.local.paint_plan import plan_scene  # noqa: E402
from engine.providers.local.storyboard import build_scenes  # noqa: E402
from engine.providers.local.writer import section_key, style_bible_for, write_prompt  # noqa: E402

OPEN_SHOTS = ("wide", "high", "sky", "low")
INTRO = """What it measures is described in `bench/bench_cast.py`: the shot and composition (shot + main ground) of every
scene as the local illustrator plans it, and the proposed lead drawn in every scene, compared with its
reference picture (RGB histogram intersection, outline IoU) and with the other scenes; a different member
(a wolf) measured the same way is the baseline. Running and dancing poses change the outline on purpose
(about 0.35 IoU with the standing reference), so the outline figure is for standing figures. Contact sheets
of a 3-minute song's pictures with the cast: [local noir](img/cast_local_noir.jpg),
[local synthwave](img/cast_local_synthwave.jpg), [Gemini via the fake server](img/cast_gemini_fake.jpg)
(the fake draws flat cards with the first input image it got pasted into a corner: the wiring only;
`bench/cast_contact_sheets.py`). Mid-transition frames are measured in `tests/engine/test_render_crossfades.py`:
a 1 s fade was a double exposure for 0.60 s (now 0.13 s), the dissolve put 15% of the chroma samples off
their luma (now 0%).
"""
MASK_BOX = (32, 64)


@dataclass(frozen=True)
class Shots:
    """Shot statistics of one storyboard."""

    scenes: int
    top_shot: tuple[str, float]
    top_composition: tuple[str, float]
    shot_repeats: int  # neighbouring scenes with the same shot
    composition_repeats: int
    chorus_open: float  # share of chorus scenes in an open shot
    quiet_loud_verses: int  # loud verse prompts (energy >= 0.7) that say "quiet"


def song_analysis(wav: Path, *, lyrics_text: str | None = None) -> Analysis:
    """The real local analysis of ``wav`` (with LRC lyrics when given)."""
    from engine.audio.features import load_and_analyze, to_analysis
    from engine.providers.local import timed_lyrics

    analysis = to_analysis(load_and_analyze(wav))
    if lyrics_text:
        analysis.lyrics = timed_lyrics(lyrics_text, analysis=analysis)
    return analysis


def storyboard(analysis: Analysis, *, style: str = "noir", seed: int = 0) -> tuple[list[Scene], StyleBible, list[str]]:
    """Scenes, the style bible and each scene's prompt, as the local provider writes them."""
    bible = style_bible_for(analysis, preset_id=style, seed=seed)
    scenes = build_scenes(analysis, min_scene_ms=2500, max_scene_ms=8000, style=bible)
    return scenes, bible, [write_prompt(s, bible=bible)[0] for s in scenes]


def composition(shot: str, grounds: tuple[str, ...], sky: str) -> str:
    """A picture's composition: its shot and what fills it (the main ground, else the sky)."""
    return f"{shot}/{grounds[0] if grounds else sky}"


def shot_stats(scenes: list[Scene], prompts: list[str], *, style: str = "noir", seed: int = 0) -> Shots:
    """Plan every scene as the illustrator does and measure the variety of its shots."""
    plans = [plan_scene(prompt=p, mood=s.mood, energy=s.energy, style=style, seed=seed + s.seat, version=1)
             for s, p in zip(scenes, prompts)]
    shots = [p.shot for p in plans]
    comps = [composition(p.shot, p.grounds, p.sky) for p in plans]
    n = len(plans)
    top_shot, ts = Counter(shots).most_common(1)[0]
    top_comp, tc = Counter(comps).most_common(1)[0]
    chorus = [p.shot for s, p in zip(scenes, plans) if section_key(s.section) == "chorus"]
    loud_verses = [pr for s, pr in zip(scenes, prompts) if section_key(s.section) == "verse" and s.energy >= 0.7]
    return Shots(
        scenes=n, top_shot=(top_shot, ts / n), top_composition=(top_comp, tc / n),
        shot_repeats=sum(a == b for a, b in zip(shots, shots[1:])),
        composition_repeats=sum(a == b for a, b in zip(comps, comps[1:])),
        chorus_open=sum(s in OPEN_SHOTS for s in chorus) / len(chorus) if chorus else float("nan"),
        quiet_loud_verses=sum("quiet" in p.lower() for p in loud_verses),
    )


def colour_histogram(img: Image.Image, mask: Image.Image, bins: int = 4) -> np.ndarray:
    """A normalised RGB histogram (``bins`` per channel) of the pixels under ``mask`` (its core: edges and rim light left out)."""
    from PIL import ImageFilter

    core = np.asarray(mask.filter(ImageFilter.MinFilter(5))) > 200
    rgb = np.asarray(img.convert("RGB"))[core] // (256 // bins)
    hist = np.bincount((rgb[:, 0].astype(int) * bins + rgb[:, 1]) * bins + rgb[:, 2], minlength=bins**3).astype(float)
    total = hist.sum()
    return hist / total if total else hist


def box_mask(mask: Image.Image) -> np.ndarray | None:
    """The figure's mask cropped to its box and scaled to MASK_BOX (bool), or None when the figure is not in the picture."""
    bbox = mask.point(lambda v: 255 if v > 127 else 0).getbbox()
    if bbox is None or bbox[3] - bbox[1] < 8:
        return None
    return np.asarray(mask.crop(bbox).resize(MASK_BOX, Image.BILINEAR)) > 127


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two bool masks."""
    return float((a & b).sum() / max(1, (a | b).sum()))


@dataclass(frozen=True)
class Consistency:
    """How alike a member's figure is across scenes, against its reference."""

    scenes: int
    shown: int  # scenes where the figure is in the frame
    colour: float  # median histogram intersection with the reference
    colour_min: float
    colour_across: float  # median intersection of each scene's figure with the median figure over the scenes
    silhouette: float  # median IoU, standing figures
    silhouette_min: float
    moving: float  # median IoU of running / dancing figures
    other_colour: float  # the same measures of a different member against this reference (baseline)
    other_silhouette: float
    shots: str


def consistency(member: CastMember, other: CastMember, scenes: list[Scene], prompts: list[str], *, style: str,
                size: tuple[int, int] = (640, 360), seed: int = 0) -> Consistency:
    """Draw every scene with ``member`` (and again with ``other``) and compare each figure with ``member``'s reference."""
    from engine.providers.local.illustrator import draw_reference, draw_scene

    ref_masks: dict[str, Image.Image] = {}
    ref = draw_reference(member=member, style=style, seed=seed, width=384, height=512, masks_out=ref_masks)
    ref_hist, ref_box = colour_histogram(ref, ref_masks[member.id]), box_mask(ref_masks[member.id])
    assert ref_box is not None
    colours, stand, moving, o_col, o_sil, shots = [], [], [], [], [], Counter()
    hists: list[np.ndarray] = []
    for s, p in zip(scenes, prompts):
        plan = plan_scene(prompt=p, mood=s.mood, energy=s.energy, style=style, seed=seed + s.seat, version=1)
        for who, sink_c, sink_s in ((member, colours, None), (other, o_col, o_sil)):
            masks: dict[str, Image.Image] = {}
            img = draw_scene(prompt=p, mood=s.mood, energy=s.energy, style=style, seed=seed + s.seat, version=1,
                             width=size[0], height=size[1], cast=[who], masks_out=masks)
            mask = masks.get(who.id)
            box = box_mask(mask) if mask is not None else None
            if box is None or mask is None:
                continue
            visible = np.asarray(mask).astype(bool)
            hist = colour_histogram(img, mask)
            sink_c.append(float(np.minimum(hist, ref_hist).sum()))
            if who is member:
                hists.append(hist)
            cropped = visible[:, 0].any()  # cut by the frame (close-ups): its colours count, its outline does not
            cropped = cropped or visible[:, -1].any() or visible[0].any() or visible[-1].any()
            if who is member:
                shots[plan.shot] += 1
                if not cropped:
                    (stand if plan.pose == "stand" else moving).append(iou(box, ref_box))
            elif sink_s is not None and not cropped and plan.pose == "stand":
                sink_s.append(iou(box, ref_box))

    def med(xs: list[float]) -> float:
        return statistics.median(xs) if xs else float("nan")

    typical = np.median(np.array(hists), axis=0) if hists else np.zeros(1)
    typical = typical / typical.sum() if typical.sum() else typical
    return Consistency(
        scenes=len(scenes), shown=len(colours), colour=med(colours), colour_min=min(colours, default=float("nan")),
        colour_across=med([float(np.minimum(h, typical).sum()) for h in hists]),
        silhouette=med(stand), silhouette_min=min(stand, default=float("nan")), moving=med(moving),
        other_colour=med(o_col), other_silhouette=med(o_sil), shots=", ".join(f"{k} {v}" for k, v in shots.most_common()),
    )


def songs(work: Path, *, quick: bool) -> list[tuple[str, Analysis]]:
    """The benchmark songs, analysed."""
    from bench.corpus import EXCERPTS_DIR, load_corpus
    from engine.audio import sample

    out = []
    wav = work / "synthetic.wav"
    sample.make_song(wav, bpm=128, bars=96, seed=11)  # 96 bars at 128 BPM: 3 minutes
    out.append(("synthetic song, 3:00, 128 BPM", song_analysis(wav)))
    if quick:
        return out
    demo_wav, demo_lrc = sample.make_demo_song(work / "demo")
    out.append(("demo song with lyrics", song_analysis(demo_wav, lyrics_text=demo_lrc.read_text(encoding="utf-8"))))
    import soundfile as sf

    tracks = load_corpus(EXCERPTS_DIR)
    parts, sr = [], 22050
    for t in tracks:
        audio, rate = sf.read(t.audio, dtype="float32", always_2d=False)
        if rate == sr:
            parts.append(audio if audio.ndim == 1 else audio.mean(axis=1))
    joined = work / "real_excerpts.wav"
    sf.write(joined, np.concatenate(parts), sr)
    length = sum(len(p) for p in parts) / sr
    out.append((f"real excerpts joined ({len(parts)} tracks, {length / 60:.0f}:{length % 60:02.0f})", song_analysis(joined)))
    return out


def main() -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the synthetic song only, two styles")
    parser.add_argument("--shots-only", action="store_true", help="the shot-variety table alone (nothing drawn)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        analysed = songs(Path(tmp), quick=args.quick)
    print(INTRO)
    print("## Shot variety (local writer + illustrator plan)\n")
    print("| song | scenes | most common shot | most common composition (shot/ground) | neighbours with the same shot "
          "| same composition | choruses in open shots | loud verses called quiet |")
    print("|---|---|---|---|---|---|---|---|")
    boards = {}
    for name, analysis in analysed:
        scenes, bible, prompts = storyboard(analysis)
        boards[name] = (scenes, bible, prompts)
        st = shot_stats(scenes, prompts)
        print(f"| {name} | {st.scenes} | {st.top_shot[0]} {st.top_shot[1]:.0%} | {st.top_composition[0]} "
              f"{st.top_composition[1]:.0%} ({round(st.top_composition[1] * st.scenes)} of {st.scenes}) | {st.shot_repeats} | {st.composition_repeats} | {st.chorus_open:.0%} "
              f"| {st.quiet_loud_verses} |")
    if args.shots_only:
        return
    print("\n## The cast across scenes (local illustrator)\n")
    print("Colour: median (min) intersection of the figure's RGB histogram (4 bins a channel) with its reference's, and with "
          "the median figure over the scenes; silhouette: "
          "median (min) IoU of the standing figure's outline with the reference's (figures cropped by the frame left out); "
          "baseline: another member measured against the same reference.\n")
    print("| song | style | lead | scenes with the lead in frame | colour vs reference | colour across scenes "
          "| silhouette (standing) | silhouette (running, dancing) | baseline colour | baseline silhouette |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    styles = ("noir", "synthwave") if args.quick else ("noir", "synthwave", "watercolor", "papercut")
    for name, (scenes, bible, prompts) in boards.items():
        lead = propose_cast(bible).members[0]
        other = propose_cast(bible.model_copy(update={"subject": "a silver wolf"})).members[0]
        for style in styles if name == next(iter(boards)) else styles[:1]:
            c = consistency(lead, other, scenes, prompts, style=style)
            print(f"| {name} | {style} | {lead.name} ({lead.silhouette}, {lead.colours[0]}) | {c.shown}/{c.scenes} "
                  f"| {c.colour:.2f} ({c.colour_min:.2f}) | {c.colour_across:.2f} | {c.silhouette:.2f} ({c.silhouette_min:.2f}) | {c.moving:.2f} "
                  f"| {c.other_colour:.2f} | {c.other_silhouette:.2f} |")


if __name__ == "__main__":
    main()
