"""The SSIM and PSNR judges against scikit-image, on random images made here (no downloads)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bench.ids import component_id
from bench.model import ImageRef, Judgement, Sample, ScoreSpec, Trajectory
from bench.protocols import Judge, JudgeItem
from judges.metrics import LUMA_WEIGHTS, PSNRJudge, SSIMJudge, align, psnr, ssim

SK_SSIM = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)


def _pair(rng: np.random.Generator, h: int, w: int, noise: int = 40) -> tuple[np.ndarray, np.ndarray]:
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    # A smooth-ish image too, so SSIM is not near 0 for every case.
    a = ((a.astype(np.float64) + np.roll(a, 1, axis=0) + np.roll(a, 1, axis=1)) / 3).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-noise, noise + 1, a.shape), 0, 255).astype(np.uint8)
    return a, b


def _item(
    src: np.ndarray | Image.Image,
    res: np.ndarray | Image.Image | None,
    sid: str = "s1",
    *,
    status: str = "ok",
) -> JudgeItem:
    source = src if isinstance(src, Image.Image) else Image.fromarray(src)
    final = res if (res is None or isinstance(res, Image.Image)) else Image.fromarray(res)
    sample = Sample(id=sid, image=ImageRef(id="0" * 64), goal="make it warmer")
    traj = Trajectory(
        suite="t@1",
        sample_id=sid,
        system_id="sys.abc",
        final=None if final is None else "f" * 64,
        status=status,  # type: ignore[arg-type]
        error=None if status == "ok" else "tool crashed",
    )
    return JudgeItem(suite="t@1", sample=sample, source=source, final=final, trajectory=traj)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(32, 48), (11, 11), (64, 37)])
def test_ssim_and_psnr_match_skimage_rgb(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    a, b = _pair(rng, *shape)
    [js] = SSIMJudge().judge([_item(a, b)])
    [jp] = PSNRJudge().judge([_item(a, b)])
    ref_s = structural_similarity(a, b, channel_axis=-1, **SK_SSIM)
    ref_p = peak_signal_noise_ratio(a, b, data_range=255)
    assert js.status == "ok" and jp.status == "ok"
    assert abs(js.scores["ssim"] - ref_s) < 1e-6
    assert abs(jp.scores["psnr"] - ref_p) < 1e-6
    assert 0.0 < ref_s < 1.0  # a real, non-degenerate comparison


def test_luma_matches_skimage_on_float_luminance() -> None:
    rng = np.random.default_rng(7)
    a, b = _pair(rng, 40, 30)
    ya, yb = a.astype(np.float64) @ LUMA_WEIGHTS, b.astype(np.float64) @ LUMA_WEIGHTS
    [js] = SSIMJudge(channel="luma").judge([_item(a, b)])
    [jp] = PSNRJudge(channel="luma").judge([_item(a, b)])
    assert abs(js.scores["ssim"] - structural_similarity(ya, yb, **SK_SSIM)) < 1e-6
    assert abs(jp.scores["psnr"] - peak_signal_noise_ratio(ya, yb, data_range=255)) < 1e-6


def test_luma_ignores_a_pure_chroma_swap_that_rgb_sees() -> None:
    # Two colours with (almost) the same BT.601 luminance: rgb SSIM drops, luma SSIM stays ~1.
    a = np.zeros((24, 24, 3), np.uint8)
    a[:, :12] = (200, 100, 50)
    b = a.copy()
    y = 0.299 * 200 + 0.587 * 100 + 0.114 * 50
    b[:, :12] = (50, int(round((y - 0.299 * 50 - 0.114 * 200) / 0.587)), 200)
    assert ssim(Image.fromarray(a), Image.fromarray(b), channel="luma") > 0.999
    assert ssim(Image.fromarray(a), Image.fromarray(b), channel="rgb") < 0.9


def test_identical_images() -> None:
    a, _ = _pair(np.random.default_rng(1), 20, 20)
    [js] = SSIMJudge().judge([_item(a, a.copy())])
    [jp] = PSNRJudge().judge([_item(a, a.copy())])
    assert js.scores["ssim"] == pytest.approx(1.0, abs=1e-12)
    assert math.isinf(psnr(Image.fromarray(a), Image.fromarray(a)))
    assert jp.scores["psnr"] == 100.0  # +inf stored as the documented cap
    assert "identical" in jp.rationale.lower() and "cap" in jp.rationale
    # The cap survives the store's JSON (inf would have become null, i.e. NaN).
    back = Judgement.from_dict(jp.to_dict())
    assert back.scores["psnr"] == 100.0
    [jc] = PSNRJudge(cap_db=60).judge([_item(a, a.copy())])
    assert jc.scores["psnr"] == 60.0


def test_psnr_above_cap_is_clipped_and_monotone() -> None:
    a = np.full((64, 64, 3), 128, np.uint8)
    b = a.copy()
    b[0, 0, 0] = 129  # MSE = 1/12288 -> PSNR ~ 88.9 dB
    true = peak_signal_noise_ratio(a, b, data_range=255)
    [j] = PSNRJudge(cap_db=80).judge([_item(a, b)])
    assert true > 80 and j.scores["psnr"] == 80.0 and "clipped" in j.rationale
    [j2] = PSNRJudge().judge([_item(a, b)])
    assert j2.scores["psnr"] == pytest.approx(true)


def test_different_sizes_are_aligned_with_lanczos_and_said_so() -> None:
    rng = np.random.default_rng(3)
    a, b = _pair(rng, 30, 40)
    big = Image.fromarray(b).resize((80, 60), Image.NEAREST)
    pair = align(Image.fromarray(a), big)
    assert pair.result.shape == a.shape and pair.resized_from == (80, 60)
    expected = np.asarray(big.resize((40, 30), Image.LANCZOS))
    assert np.array_equal(pair.result, expected)
    [js] = SSIMJudge().judge([_item(a, big)])
    [jp] = PSNRJudge().judge([_item(a, big)])
    assert abs(js.scores["ssim"] - structural_similarity(a, expected, channel_axis=-1, **SK_SSIM)) < 1e-6
    assert abs(jp.scores["psnr"] - peak_signal_noise_ratio(a, expected, data_range=255)) < 1e-6
    for j in (js, jp):
        assert "80x60" in j.rationale and "Lanczos" in j.rationale
    # Same size: no alignment sentence.
    [same] = SSIMJudge().judge([_item(a, b)])
    assert "Lanczos" not in same.rationale


def test_batched_equals_per_item_in_order() -> None:
    rng = np.random.default_rng(11)
    items = []
    for k, (h, w) in enumerate([(20, 30), (33, 17), (20, 30), (12, 12), (20, 30), (33, 17)]):
        a, b = _pair(rng, h, w, noise=10 + 5 * k)
        items.append(_item(a, b, sid=f"s{k}"))
    items.insert(2, _item(items[0].source, None, sid="missing", status="failed"))
    for judge in (SSIMJudge(batch_size=4), PSNRJudge(batch_size=2), SSIMJudge(channel="luma")):
        batched = judge.judge(items)
        single = [judge.judge([it])[0] for it in items]
        assert [j.sample_id for j in batched] == [it.sample.id for it in items]
        assert all(b.same_result(s) for b, s in zip(batched, single, strict=True))


def test_failed_items_never_score_zero() -> None:
    a, b = _pair(np.random.default_rng(5), 16, 16)
    tiny_a, tiny_b = _pair(np.random.default_rng(6), 8, 9)
    items = [
        _item(a, None, sid="failed", status="failed"),
        _item(a, b, sid="refused", status="refused"),
        _item(a, None, sid="nofinal"),
        _item(tiny_a, tiny_b, sid="tiny"),
    ]
    for judge in (SSIMJudge(), PSNRJudge()):
        out = judge.judge(items)
        assert len(out) == len(items)
        for j in out:
            if judge.name == "psnr" and j.sample_id == "tiny":
                assert j.status == "ok" and j.scores["psnr"] > 0  # PSNR has no window: it applies
                continue
            assert j.status == "unscored", j
            assert j.scores == {} and judge.score_name in j.na and j.error
    [tiny] = SSIMJudge().judge([items[3]])
    assert "11-px" in tiny.na["ssim"]


def test_protocol_specs_and_identity() -> None:
    s, p = SSIMJudge(), PSNRJudge()
    for judge in (s, p):
        assert isinstance(judge, Judge)
        assert judge.scope == "sample"
        [spec] = judge.score_specs()
        assert isinstance(spec, ScoreSpec) and spec.higher_is_better
        assert "preserv" in spec.description.lower() and "goal" in spec.description.lower()
        assert "preserv" in judge.info().description.lower()
    assert s.score_specs()[0].min == -1.0 and s.score_specs()[0].max == 1.0
    assert p.score_specs()[0].max == 100.0
    # batch_size is transport: it must not change the id; channel must.
    ids = {component_id("ssim", j.config(), j.version) for j in (SSIMJudge(), SSIMJudge(batch_size=3))}
    assert len(ids) == 1
    assert component_id("ssim", SSIMJudge(channel="luma").config(), "1") not in ids
    with pytest.raises(ValueError):
        SSIMJudge(channel="hsv")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PSNRJudge(cap_db=float("inf"))
