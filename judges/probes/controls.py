"""Control probes: results whose right verdict is known, synthesised from a run's own samples.

For a seeded subset of a run's samples, each with one real result (a trajectory that finished
``ok``), seven controls are made. Each has an **expected direction per criterion kind**
(:data:`EXPECT`): ``"fail"`` — the judge should find the criteria of that kind unmet (a ``fail``
verdict, or a score below the real result's on the same sample); ``"pass"`` — met (a ``pass``
verdict, or a score no lower than the real result's); ``None`` — nothing is known. ``overall``
is the expectation for a judge's overall score (one not tied to a criterion kind).

=====================  ====================================================  ====  ====  ====  ====
control                what the judge is shown                               goal  pres  qual  all
=====================  ====================================================  ====  ====  ====  ====
``identity``           the source returned unchanged                         fail  pass  —     —
``blank``              one flat colour (the source's mean colour)            fail  fail  fail  fail
``noise``              noise with the source's per-channel mean and spread   fail  fail  fail  fail
``mismatched_result``  another sample's result (and its trajectory)          fail  fail  —     fail
``mismatched_goal``    this result judged against another sample's goal      fail  —     —     fail
``degraded``           this result blurred, then JPEG at quality 8           —     fail  fail  fail
``over_edit``          this result with its tiles deranged (layout gone)     —     fail  —     fail
=====================  ====================================================  ====  ====  ====  ====

(pres = preserve, qual = quality, all = overall.)

Why these images: the blank and the noise keep the source's colour statistics (its mean colour;
its per-channel mean and spread, channels moving together), and the over-edit keeps the real
result's colour histogram exactly, so a judge cannot pass them by reading a global colour shift:
only by failing to look at content. ``identity`` has no expectation on quality (the source may
look fine) nor overall (doing nothing can outscore a poor edit on a preservation-heavy judge).

Controls built from one image (identity, blank, noise, degraded, over-edit) get a synthetic
trajectory with no plan, so a judge of plans finds nothing to judge there (N/A, undecidable); the
two mismatches keep a plan (the other sample's, or this one's under another goal), so plan judges
are tested on exactly those. Synthetic trajectories are never written to ``trajectories.jsonl``;
control images go to the run's content-addressed image store, so pages can show them.

Everything here is deterministic in (run seed, suite, sample id): the subset, the real result
chosen for each sample, the partner sample of the mismatches and the noise.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from bench.ids import content_hash, derive_seed, image_id
from bench.model import Sample, Trajectory
from bench.store import RunStore

log = logging.getLogger(__name__)

#: Bump when a control's synthesis or expectation changes: stored control records of another
#: version are not reused.
CONTROLS_VERSION = "1"

KINDS = ("goal", "preserve", "quality", "overall")

EXPECT: dict[str, dict[str, str | None]] = {
    "identity": {"goal": "fail", "preserve": "pass", "quality": None, "overall": None},
    "blank": {"goal": "fail", "preserve": "fail", "quality": "fail", "overall": "fail"},
    "noise": {"goal": "fail", "preserve": "fail", "quality": "fail", "overall": "fail"},
    "mismatched_result": {"goal": "fail", "preserve": "fail", "quality": None, "overall": "fail"},
    "mismatched_goal": {"goal": "fail", "preserve": None, "quality": None, "overall": "fail"},
    "degraded": {"goal": None, "preserve": "fail", "quality": "fail", "overall": "fail"},
    "over_edit": {"goal": None, "preserve": "fail", "quality": None, "overall": "fail"},
}
CONTROLS: tuple[str, ...] = tuple(EXPECT)
#: The system id a control's synthetic trajectory carries (``control:blank``...).
CONTROL_SYSTEM_PREFIX = "control:"

JPEG_QUALITY = 8
BLUR_FRACTION = 0.02  # Gaussian blur radius as a fraction of the short side (at least 2 px)
TILE_GRID = 4  # over-edit: a 4 x 4 grid of tiles, deranged


@dataclass(frozen=True)
class RealResult:
    """One sample of the subset with the real result the controls are compared against."""

    suite: str
    sample: Sample
    trajectory: Trajectory


@dataclass(frozen=True)
class ControlCase:
    """One control to judge: the sample the judge sees, the synthetic trajectory, the image."""

    control: str
    real: RealResult
    sample: Sample  # what the judge sees (another sample's goal for ``mismatched_goal``)
    trajectory: Trajectory  # synthetic (never stored in trajectories.jsonl)
    image_id: str  # the control result, in the run's image store
    partner: str | None = None  # the other sample of a mismatch

    @property
    def expect(self) -> dict[str, str | None]:
        return EXPECT[self.control]

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What a stored control record is found by (with the judge id and version)."""
        return (
            self.real.suite,
            self.real.sample.id,
            self.control,
            self.real.trajectory.system_id,
            self.image_id,
        )


# ----------------------------------------------------------------------------- choosing samples


def _ok(t: Trajectory) -> bool:
    return t.status == "ok" and bool(t.final)


def choose_real_results(
    store: RunStore, n: int, seed: int, suites: Sequence[str] | None = None
) -> list[RealResult]:
    """A seeded subset of ``n`` samples that have a real result, with one real result each.

    Samples are ordered by a hash of (seed, suite, sample id), so the subset does not depend on the
    order records were written, and the same for every judge. Among a sample's ``ok`` trajectories
    one that changed the image is preferred (a control is compared against an actual edit), chosen
    by a hash of (seed, suite, sample, system).
    """
    samples = store.samples()
    by_sample: dict[tuple[str, str], list[Trajectory]] = {}
    for t in store.trajectories().values():
        if _ok(t) and (t.suite, t.sample_id) in samples and (suites is None or t.suite in suites):
            by_sample.setdefault((t.suite, t.sample_id), []).append(t)
    order = sorted(by_sample, key=lambda k: content_hash([seed, "controls", k[0], k[1]], 16))
    out = []
    for key in order[: max(0, n)]:
        sample = samples[key]
        trajs = sorted(
            by_sample[key], key=lambda t: content_hash([seed, "real", key[0], key[1], t.system_id], 16)
        )
        edited = [t for t in trajs if t.final != sample.image.id]
        out.append(RealResult(key[0], sample, (edited or trajs)[0]))
    return out


_WORD = re.compile(r"[a-z0-9']+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def choose_partner(
    store_samples: Mapping[tuple[str, str], Sample],
    with_result: Mapping[tuple[str, str], Trajectory],
    real: RealResult,
    seed: int,
) -> tuple[Sample, Trajectory] | None:
    """The other sample of the same suite whose goal shares the fewest words with this one's.

    Only samples with a result of their own and a different source image qualify (a mismatch on
    the same picture would not be a mismatch). Ties go by a seeded hash. ``None`` when no other
    sample qualifies (a one-sample suite): the two mismatch controls are then skipped.
    """
    mine = _words(real.sample.goal)
    best: tuple[float, str, Sample, Trajectory] | None = None
    for (suite, sid), t in with_result.items():
        if suite != real.suite or sid == real.sample.id:
            continue
        other = store_samples[(suite, sid)]
        if other.image.id == real.sample.image.id or other.goal.strip() == real.sample.goal.strip():
            continue
        theirs = _words(other.goal)
        overlap = len(mine & theirs) / max(1, len(mine | theirs))
        cand = (overlap, content_hash([seed, "partner", suite, real.sample.id, sid], 16), other, t)
        if best is None or cand[:2] < best[:2]:
            best = cand
    return None if best is None else (best[2], best[3])


def _partner_results(store: RunStore, real: RealResult, seed: int) -> dict[tuple[str, str], Trajectory]:
    """Per other sample of the suite, one ``ok`` result: the real result's system's when it has one."""
    out: dict[tuple[str, str], Trajectory] = {}
    for t in sorted(store.trajectories().values(), key=lambda t: t.key):
        if t.suite != real.suite or not _ok(t) or not store.images.has(str(t.final)):
            continue
        key = (t.suite, t.sample_id)
        if key not in out or t.system_id == real.trajectory.system_id:
            out[key] = t
    return out


# ----------------------------------------------------------------------------- images


def blank_like(source: Image.Image) -> Image.Image:
    """A flat image of the source's size in the source's mean colour."""
    arr = np.asarray(source.convert("RGB"), dtype=np.float64)
    colour = tuple(int(round(v)) for v in arr.reshape(-1, 3).mean(axis=0))
    return Image.new("RGB", source.size, colour)


def noise_like(source: Image.Image, seed: int) -> Image.Image:
    """Gaussian noise with the source's per-channel mean and standard deviation, channels moving
    together (one normal draw per pixel), so no colour cast and no extra saturation is added."""
    arr = np.asarray(source.convert("RGB"), dtype=np.float64).reshape(-1, 3)
    mean, std = arr.mean(axis=0), arr.std(axis=0)
    w, h = source.size
    z = np.random.default_rng(seed).standard_normal((h, w, 1))
    out = np.clip(np.rint(mean + z * np.maximum(std, 16.0)), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "RGB")


def degrade(result: Image.Image) -> Image.Image:
    """A heavy blur (radius 2% of the short side, at least 2 px), then JPEG at quality 8."""
    img = result.convert("RGB")
    radius = max(2.0, BLUR_FRACTION * min(img.size))
    blurred = img.filter(ImageFilter.GaussianBlur(radius))
    buf = io.BytesIO()
    blurred.save(buf, format="JPEG", quality=JPEG_QUALITY)
    buf.seek(0)
    with Image.open(buf) as im:
        return im.convert("RGB")


def derange_tiles(result: Image.Image, seed: int, grid: int = TILE_GRID) -> Image.Image:
    """The result cut into ``grid x grid`` equal tiles, every tile moved to another tile's place.

    The colour histogram is unchanged (so a colour goal the real result met is still met), the
    layout is not: everything a preserve criterion protects has moved. A seeded permutation is
    made a derangement by sending each tile to the next place in a random cycle.
    """
    img = result.convert("RGB")
    w, h = img.size
    tw, th = w // grid, h // grid
    if tw < 1 or th < 1:
        return img.transpose(Image.Transpose.ROTATE_180)
    cells = [(i % grid, i // grid) for i in range(grid * grid)]
    cycle = list(np.random.default_rng(seed).permutation(len(cells)))
    dest = {cycle[i]: cycle[(i + 1) % len(cycle)] for i in range(len(cycle))}
    out = img.copy()
    for src_i, dst_i in dest.items():
        sx, sy = cells[src_i]
        dx, dy = cells[dst_i]
        tile = img.crop((sx * tw, sy * th, (sx + 1) * tw, (sy + 1) * th))
        out.paste(tile, (dx * tw, dy * th))
    return out


# ----------------------------------------------------------------------------- cases


def _synthetic(real: RealResult, control: str, final: str, plan: Any = None) -> Trajectory:
    return Trajectory(
        suite=real.suite,
        sample_id=real.sample.id,
        system_id=CONTROL_SYSTEM_PREFIX + control,
        plan=plan,
        final=final,
        status="ok",
    )


def with_goal_of(sample: Sample, other: Sample) -> Sample:
    """``sample`` (its id, image, description and context) asking for ``other``'s edit: goal,
    checklist, preserve list, reference and truth (the truth's checks belong to the checklist)."""
    return sample.replace(
        goal=other.goal,
        checklist=other.checklist,
        preserve=other.preserve,
        reference=other.reference,
        truth=other.truth,
    )


def make_cases(
    store: RunStore, reals: Sequence[RealResult], seed: int, controls: Sequence[str] = CONTROLS
) -> list[ControlCase]:
    """Every requested control for every real result; images are written to the run's store.

    A control that cannot be made is skipped with a log line: the two mismatches when the suite
    has no other sample with a result, image controls when the real result cannot be loaded.
    """
    unknown = [c for c in controls if c not in EXPECT]
    if unknown:
        from bench.errors import UsageError

        raise UsageError(f"unknown control {unknown[0]!r}; known: {', '.join(CONTROLS)}")
    samples = store.samples()
    cases: list[ControlCase] = []
    for real in reals:
        try:
            source = store.images.get(real.sample.image.id)
            result = store.images.get(real.trajectory.final)  # type: ignore[arg-type]
        except Exception as err:  # a damaged store loses this sample's controls, not the probe
            log.warning("controls: %s %s: cannot load images (%s); skipped", real.suite, real.sample.id, err)
            continue
        partner = None
        if "mismatched_result" in controls or "mismatched_goal" in controls:
            partner = choose_partner(samples, _partner_results(store, real, seed), real, seed)
            if partner is None:
                log.info(
                    "controls: %s %s: no other sample with a result; mismatches skipped",
                    real.suite,
                    real.sample.id,
                )
        base_seed = derive_seed(seed, real.suite, real.sample.id, "controls", CONTROLS_VERSION)
        for control in controls:
            made = _make_one(store, real, control, source, result, partner, base_seed)
            if made is not None:
                cases.append(made)
    return cases


def _make_one(
    store: RunStore,
    real: RealResult,
    control: str,
    source: Image.Image,
    result: Image.Image,
    partner: tuple[Sample, Trajectory] | None,
    seed: int,
) -> ControlCase | None:
    plan = real.trajectory.plan
    if control == "identity":
        iid = real.sample.image.id or image_id(source)
        return ControlCase(control, real, real.sample, _synthetic(real, control, iid), iid)
    if control in ("mismatched_result", "mismatched_goal"):
        if partner is None:
            return None
        other, other_traj = partner
        if control == "mismatched_result":
            final = str(other_traj.final)
            return ControlCase(
                control,
                real,
                real.sample,
                _synthetic(real, control, final, other_traj.plan),
                final,
                partner=other.id,
            )
        final = str(real.trajectory.final)
        return ControlCase(
            control,
            real,
            with_goal_of(real.sample, other),
            _synthetic(real, control, final, plan),
            final,
            partner=other.id,
        )
    if control == "blank":
        img = blank_like(source)
    elif control == "noise":
        img = noise_like(source, seed)
    elif control == "degraded":
        img = degrade(result)
    else:  # over_edit
        img = derange_tiles(result, seed)
    iid = store.images.put(img)
    return ControlCase(control, real, real.sample, _synthetic(real, control, iid), iid)
