"""The learned-metric judges (LPIPS, CLIP, DINOv2, FID, KID) on tiny random-weight networks made here.

Every network is built from its library's own classes with seeded random weights and saved to a
temporary folder, so the judges load them through their real loading paths (a torchvision state
dict, an open_clip local folder, ``from_pretrained``, a torch-fidelity weights file) and nothing is
downloaded. Each metric is checked against an independent computation: the library's own
per-image path, a cosine recomputed by hand from the model's embeddings, or a numpy/scipy
implementation of the formula.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from bench.errors import JudgeError
from bench.ids import component_id
from bench.model import ImageRef, Sample, Trajectory
from bench.protocols import Judge, JudgeItem

torch = pytest.importorskip("torch")
pytest.importorskip("lpips")
pytest.importorskip("open_clip")
pytest.importorskip("torchmetrics")

from judges.learned._runtime import clear_model_cache  # noqa: E402
from judges.learned.clip_judge import CLIPJudge  # noqa: E402
from judges.learned.dino_judge import DINOJudge  # noqa: E402
from judges.learned.fid_judge import FIDJudge, KIDJudge  # noqa: E402
from judges.learned.lpips_judge import LPIPSJudge  # noqa: E402

# ----------------------------------------------------------------------------- fixtures


def _image(seed: int, h: int, w: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (h, w, 3)).astype(np.float64)
    a = (a + np.roll(a, 1, 0) + np.roll(a, 1, 1) + np.roll(a, (1, 1), (0, 1))) / 4  # some spatial correlation
    return Image.fromarray(a.astype(np.uint8))


def _edit(img: Image.Image, seed: int, noise: int = 40) -> Image.Image:
    a = np.asarray(img).astype(int)
    b = np.clip(a + np.random.default_rng(seed).integers(-noise, noise + 1, a.shape), 0, 255)
    return Image.fromarray(b.astype(np.uint8))


def _item(
    src: Image.Image,
    res: Image.Image | None,
    sid: str = "s1",
    *,
    system: str = "sys.a",
    status: str = "ok",
    goal: str = "make it look like winter",
    description: str | None = None,
) -> JudgeItem:
    sample = Sample(id=sid, image=ImageRef(id="0" * 64), goal=goal, description=description)
    traj = Trajectory(
        suite="t@1",
        sample_id=sid,
        system_id=system,
        final=None if res is None else "f" * 64,
        status=status,
        error=None if status == "ok" else "tool crashed",
    )  # type: ignore[arg-type]
    return JudgeItem(suite="t@1", sample=sample, source=src, final=res, trajectory=traj)  # type: ignore[arg-type]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny networks run faster on one thread, and a busy CI machine does not make them spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _fresh_models():
    clear_model_cache()
    yield
    clear_model_cache()


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("learned-weights")


@pytest.fixture(scope="module")
def alexnet_features(weights_dir):
    """A seeded random AlexNet backbone saved as torchvision names it (features.* only)."""
    import torchvision

    torch.manual_seed(0)
    tv = torchvision.models.alexnet(weights=None)
    sd = {k: v for k, v in tv.state_dict().items() if k.startswith("features.")}
    path = weights_dir / "alexnet-owt-7be5be79.pth"
    torch.save(sd, path)
    return path


@pytest.fixture(scope="module")
def tiny_clip(weights_dir):
    """A tiny open_clip model in open_clip's hub layout (config + weights), random weights."""
    import open_clip

    folder = weights_dir / "tiny-clip"
    folder.mkdir()
    cfg = {
        "embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
    }
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": {}}))
    torch.manual_seed(0)
    model = open_clip.create_model("local-dir:" + str(folder))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


@pytest.fixture(scope="module")
def tiny_dino(weights_dir):
    from transformers import Dinov2Config, Dinov2Model

    folder = weights_dir / "tiny-dino"
    torch.manual_seed(0)
    cfg = Dinov2Config(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        patch_size=8,
        image_size=32,
        initializer_range=0.2,
    )
    Dinov2Model(cfg).save_pretrained(folder)
    return folder


# ----------------------------------------------------------------------------- LPIPS


def _lpips_reference(net: str, backbone, monkeypatch):
    """The lpips package's own network with the given torchvision backbone, built the way it loads real weights."""
    import lpips
    import lpips.pretrained_networks as pn

    monkeypatch.setattr(pn.tv, "alexnet" if net == "alex" else "vgg16", lambda *a, **k: backbone)
    return lpips.LPIPS(net=net, pretrained=True, pnet_rand=False, verbose=False).eval()


def test_lpips_batched_matches_the_library_per_pair(alexnet_features, monkeypatch):
    import lpips
    import torchvision

    tv = torchvision.models.alexnet(weights=None)
    tv.load_state_dict(torch.load(alexnet_features), strict=False)
    ref = _lpips_reference("alex", tv, monkeypatch)
    sizes = [(64, 64), (64, 80), (64, 64), (72, 64), (64, 64)]
    items = [
        _item(_image(k, h, w), _edit(_image(k, h, w), 100 + k, 20 * k + 5), f"s{k}")
        for k, (h, w) in enumerate(sizes)
    ]
    items.insert(2, _item(items[0].source, None, "failed", status="failed"))
    judge = LPIPSJudge(net="alex", weights=str(alexnet_features), device="cpu", batch_size=2)
    out = judge.judge(items)
    assert [j.sample_id for j in out] == [it.sample.id for it in items]
    values = []
    for it, j in zip(items, out, strict=True):
        if it.final is None:
            assert j.status == "unscored" and j.scores == {} and "lpips" in j.na
            continue
        with torch.no_grad():
            want = float(ref(lpips.im2tensor(np.asarray(it.source)), lpips.im2tensor(np.asarray(it.final))))
        assert j.status == "ok" and j.scores["lpips"] == pytest.approx(want, abs=1e-5)
        values.append(want)
    assert (
        len(set(round(v, 6) for v in values)) == len(values) and min(values) > 0
    )  # real, distinct comparisons
    # Weights given as the folder holding the torchvision file: same numbers.
    again = LPIPSJudge(weights=str(alexnet_features.parent), device="cpu").judge(items[:1])
    assert again[0].scores["lpips"] == pytest.approx(out[0].scores["lpips"], abs=1e-6)


def test_lpips_vgg_from_a_full_lpips_state_dict_and_size_alignment(tmp_path, monkeypatch):
    import lpips

    torch.manual_seed(1)
    with pytest.warns(UserWarning):  # torchvision's 'pretrained' deprecation inside lpips
        full = lpips.LPIPS(net="vgg", pnet_rand=True, verbose=False).eval()
    path = tmp_path / "lpips-vgg.pth"
    torch.save(full.state_dict(), path)
    src = _image(3, 48, 48)
    big = _edit(src, 4).resize((64, 60), Image.NEAREST)
    [j] = LPIPSJudge(net="vgg", weights=str(path), device="cpu").judge([_item(src, big)])
    aligned = big.resize(src.size, Image.LANCZOS)
    with torch.no_grad():
        want = float(full(lpips.im2tensor(np.asarray(src)), lpips.im2tensor(np.asarray(aligned))))
    assert j.scores["lpips"] == pytest.approx(want, abs=1e-5)
    assert "64x60" in j.rationale and "Lanczos" in j.rationale
    [same] = LPIPSJudge(net="vgg", weights=str(path), device="cpu").judge([_item(src, src.copy())])
    assert same.scores["lpips"] == pytest.approx(0.0, abs=1e-6)


def test_lpips_without_weights_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    judge = LPIPSJudge(device="cpu")
    item = _item(_image(0, 64, 64), _image(1, 64, 64))
    with pytest.raises(JudgeError) as err:
        judge.judge([item])
    msg = str(err.value)
    assert "alexnet-owt-7be5be79.pth" in msg and "weights=PATH" in msg and "download=true" in msg
    bogus = tmp_path / "not-weights.pth"
    torch.save({"foo": torch.zeros(1)}, bogus)
    with pytest.raises(JudgeError, match="features.0.weight"):
        LPIPSJudge(weights=str(bogus), device="cpu").judge([item])


# ----------------------------------------------------------------------------- CLIP


def _clip_reference(folder):
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms("local-dir:" + str(folder))
    return model.eval(), preprocess, open_clip.get_tokenizer("local-dir:" + str(folder))


def _unit(x):
    x = np.asarray(x, dtype=np.float64).ravel()
    return x / np.linalg.norm(x)


def test_clip_scores_match_a_hand_computation(tiny_clip):
    model, preprocess, tok = _clip_reference(tiny_clip)
    src = [_image(10 + k, 32, 32) for k in range(3)]
    res = [_edit(s, 20 + k) for k, s in enumerate(src)]
    desc = "a street of red houses at noon"
    items = [
        _item(src[0], res[0], "a", description=desc, goal="make it snowy"),
        _item(src[1], res[1], "b", goal="make it a watercolour painting"),
        _item(src[2], res[2], "c", description="a beach", goal="add a sunset"),
    ]
    judge = CLIPJudge(model=str(tiny_clip), device="cpu", batch_size=2)
    out = judge.judge(items)
    with torch.no_grad():

        def img(im):
            return _unit(model.encode_image(preprocess(im)[None]))

        def txt(t):
            return _unit(model.encode_text(tok([t])))

        for it, j in zip(items, out, strict=True):
            e_res, e_src = img(it.final), img(it.source)
            assert j.scores["clip_text"] == pytest.approx(float(e_res @ txt(it.sample.goal)), abs=1e-5)
            assert j.scores["clip_image"] == pytest.approx(float(e_res @ e_src), abs=1e-5)
            if it.sample.description is None:
                assert "clip_dir" not in j.scores and "description" in j.na["clip_dir"]
                continue
            d_img = e_res - e_src
            d_txt = txt(f"{it.sample.description} {it.sample.goal}") - txt(it.sample.description)
            want = float(d_img @ d_txt / np.linalg.norm(d_img) / np.linalg.norm(d_txt))
            assert j.scores["clip_dir"] == pytest.approx(want, abs=1e-4)
    # direction_target=goal uses the goal alone as the target text.
    [g] = CLIPJudge(model=str(tiny_clip), direction_target="goal", device="cpu").judge(items[:1])
    with torch.no_grad():
        d_img = img(res[0]) - img(src[0])
        d_txt = txt("make it snowy") - txt(desc)
    assert g.scores["clip_dir"] == pytest.approx(float(_unit(d_img) @ _unit(d_txt)), abs=1e-4)


def test_clip_resizes_on_device_like_the_library_and_never_scores_no_direction(tiny_clip):
    model, preprocess, _ = _clip_reference(tiny_clip)
    src, res = _image(30, 40, 56), _image(31, 50, 36)  # both non-square, of different sizes
    [j] = CLIPJudge(model=str(tiny_clip), device="cpu").judge([_item(src, res)])
    with torch.no_grad():
        want = float(
            _unit(model.encode_image(preprocess(res)[None]))
            @ _unit(model.encode_image(preprocess(src)[None]))
        )
    assert j.scores["clip_image"] == pytest.approx(
        want, abs=2e-2
    )  # device bicubic vs PIL bicubic: ~1/255 per pixel
    [same] = CLIPJudge(model=str(tiny_clip), device="cpu").judge(
        [_item(src, src.copy(), description="a town")]
    )
    assert same.status == "ok" and same.scores["clip_image"] == pytest.approx(1.0, abs=1e-5)
    assert "clip_dir" not in same.scores and "no direction" in same.na["clip_dir"]


def test_clip_without_weights_is_a_clear_error(tmp_path):
    item = _item(_image(0, 32, 32), _image(1, 32, 32))
    with pytest.raises(JudgeError, match="pretrained=PATH"):
        CLIPJudge(model="ViT-B-32", pretrained=None, device="cpu").judge([item])
    with pytest.raises(JudgeError, match="neither a file nor a tag"):
        CLIPJudge(model="ViT-B-32", pretrained="no-such-tag", device="cpu").judge([item])
    empty = tmp_path / "clip-no-weights"
    empty.mkdir()
    (empty / "open_clip_config.json").write_text("{}")
    with pytest.raises(JudgeError, match="holds no weights"):
        CLIPJudge(model=str(empty), device="cpu").judge([item])


# ----------------------------------------------------------------------------- DINO


def test_dino_cosines_match_a_hand_computation(tiny_dino):
    from transformers import Dinov2Model

    ref = Dinov2Model.from_pretrained(tiny_dino).eval()
    src = [_image(40 + k, 32, 32) for k in range(3)]
    items = [_item(s, _edit(s, 50 + k, 30 * k + 10), f"s{k}") for k, s in enumerate(src)]
    out = DINOJudge(model=str(tiny_dino), size=32, device="cpu", batch_size=4).judge(items)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])

    def tokens(im):
        x = (np.asarray(im, np.float64) / 255.0 - mean) / std
        with torch.no_grad():
            return (
                ref(pixel_values=torch.tensor(x.transpose(2, 0, 1)[None], dtype=torch.float32))
                .last_hidden_state[0]
                .numpy()
            )

    for it, j in zip(items, out, strict=True):
        a, b = tokens(it.source).astype(np.float64), tokens(it.final).astype(np.float64)
        cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
        assert j.scores["dino_cls"] == pytest.approx(cos[0], abs=1e-5)
        assert j.scores["dino_patch"] == pytest.approx(cos[1:].mean(), abs=1e-5)
        assert cos.shape == (1 + 16,)  # 32 px / patch 8 -> 4x4 patches, plus CLS
    assert out[0].scores["dino_patch"] > out[2].scores["dino_patch"]  # more noise, less structure kept
    # A result of another size is aligned to the source first, and the rationale says so.
    [r] = DINOJudge(model=str(tiny_dino), size=32, device="cpu").judge(
        [_item(src[0], src[0].resize((48, 40)))]
    )
    assert "48x40" in r.rationale and r.scores["dino_cls"] > 0.9


def test_dino_errors(tiny_dino):
    item = _item(_image(0, 32, 32), _image(1, 32, 32))
    with pytest.raises(JudgeError, match="multiple of the model's patch size"):
        DINOJudge(model=str(tiny_dino), size=36, device="cpu").judge([item])
    with pytest.raises(JudgeError, match="download=true"):
        DINOJudge(model="editbench-test/no-such-dinov2", device="cpu").judge([item])


# ----------------------------------------------------------------------------- FID and KID


def _frechet(f1: np.ndarray, f2: np.ndarray) -> float:
    from scipy import linalg

    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]

    def k(a, b):
        return (a @ b.T / d + 1.0) ** 3

    m = x.shape[0]
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return float(
        (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / m**2
    )


def _set_items(n: int, system: str = "sys.a") -> list[JudgeItem]:
    return [
        _item(_image(60 + k, 32, 32), _edit(_image(60 + k, 32, 32), 90 + k, 60), f"s{k}", system=system)
        for k in range(n)
    ]


def test_fid_and_kid_on_dino_features_match_numpy(tiny_dino):
    from transformers import Dinov2Model

    items = _set_items(24)
    ref = Dinov2Model.from_pretrained(tiny_dino).eval()
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])

    def feats(images):
        x = np.stack([(np.asarray(im, np.float64) / 255.0 - mean) / std for im in images]).transpose(
            0, 3, 1, 2
        )
        with torch.no_grad():
            return (
                ref(pixel_values=torch.tensor(x, dtype=torch.float32))
                .last_hidden_state[:, 0]
                .double()
                .numpy()
            )

    real, fake = feats([it.source for it in items]), feats([it.final for it in items])
    opts = dict(features="dinov2", model=str(tiny_dino), size=32, device="cpu", batch_size=5)
    [fid] = FIDJudge(**opts).judge(items)
    assert fid.scope == "set" and fid.sample_id == "*" and fid.status == "ok"
    assert fid.scores["fid"] == pytest.approx(_frechet(real, fake), rel=1e-3, abs=1e-3)
    assert fid.scores["fid"] > 0.1 and fid.rationale["n_real"] == 24
    [kid] = KIDJudge(subset_size=24, subsets=3, **opts).judge(items)  # subsets of the whole set: exact MMD²
    assert kid.scores["kid"] == pytest.approx(_mmd2_unbiased(real, fake), rel=1e-4, abs=1e-9)
    assert kid.scores["kid_std"] == pytest.approx(0.0, abs=1e-9)
    # Random subsets come from a fixed seed: the same number on every run, another seed another number.
    a = KIDJudge(subset_size=8, subsets=5, **opts).judge(items)[0].scores["kid"]
    b = KIDJudge(subset_size=8, subsets=5, **opts).judge(items)[0].scores["kid"]
    c = KIDJudge(subset_size=8, subsets=5, seed=1, **opts).judge(items)[0].scores["kid"]
    assert a == b and a != c
    # A system that changes nothing: FID ~0; KID, unbiased, is negative for a set against itself.
    same = [_item(it.source, it.source.copy(), it.sample.id) for it in items[:6]]
    assert FIDJudge(**opts).judge(same)[0].scores["fid"] == pytest.approx(0.0, abs=1e-3)
    k_same = KIDJudge(subset_size=6, **opts).judge(same)[0].scores["kid"]
    assert k_same < 0 and k_same == pytest.approx(_mmd2_unbiased(real[:6], real[:6]), rel=1e-4)


def test_set_judges_need_two_results(tiny_dino):
    opts = dict(features="dinov2", model=str(tiny_dino), size=32, device="cpu")
    for judge in (FIDJudge(**opts), KIDJudge(**opts)):
        [j] = judge.judge(_set_items(1))
        assert j.status == "unscored" and j.scores == {} and set(j.na) == set(judge.SCORES)
        assert "at least 2" in j.error


@pytest.fixture(scope="module")
def inception_weights_file(weights_dir):
    """torch-fidelity's FID InceptionV3 architecture with seeded random weights, saved as its weights file."""
    pytest.importorskip("torch_fidelity")
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    with pytest.MonkeyPatch.context() as mp:  # build the architecture without its download
        mp.setattr(fe, "load_state_dict_from_url", lambda *a, **k: None)
        mp.setattr(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None)
        torch.manual_seed(0)
        net = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    path = weights_dir / "weights-inception-2015-12-05-6726825d.pth"
    torch.save(net.state_dict(), path)
    return path


def test_fid_on_inception_matches_torchmetrics_standard_path(inception_weights_file, tmp_path, monkeypatch):
    from torchmetrics.image.fid import FrechetInceptionDistance

    items = _set_items(3)  # dims=64 keeps the eigen-decomposition small; the network runs in full either way
    [j] = FIDJudge(feature_extractor_weights_path=str(inception_weights_file), dims=64, device="cpu").judge(
        items
    )
    ref = FrechetInceptionDistance(feature=64, feature_extractor_weights_path=str(inception_weights_file))
    to = lambda ims: torch.from_numpy(np.stack([np.asarray(i) for i in ims])).permute(0, 3, 1, 2)  # noqa: E731
    ref.update(to([it.source for it in items]), real=True)
    ref.update(to([it.final for it in items]), real=False)
    assert j.status == "ok" and j.scores["fid"] == pytest.approx(float(ref.compute()), rel=1e-3)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(JudgeError, match="feature_extractor_weights_path=PATH"):
        FIDJudge(dims=64, device="cpu").judge(items)


# ----------------------------------------------------------------------------- protocol and identity


def test_protocol_specs_and_identity(alexnet_features, tmp_path):
    judges = [LPIPSJudge(), CLIPJudge(), DINOJudge(), FIDJudge(), KIDJudge()]
    for j in judges:
        assert isinstance(j, Judge) and j.info().kind == "metric"
        for spec in j.score_specs():
            assert spec.description
    assert [j.scope for j in judges] == ["sample", "sample", "sample", "set", "set"]
    assert (
        not LPIPSJudge().score_specs()[0].higher_is_better
        and not FIDJudge().score_specs()[0].higher_is_better
    )

    def jid(j):
        return component_id(j.name, j.config(), j.version, extra=j.identity_extra())

    w = str(alexnet_features)
    # device, batch_size and download are transport; dtype and net change numbers.
    assert (
        len(
            {
                jid(LPIPSJudge(weights=w)),
                jid(LPIPSJudge(weights=w, device="cpu", batch_size=3, download=True)),
            }
        )
        == 1
    )
    assert jid(LPIPSJudge(weights=w, dtype="bfloat16")) != jid(LPIPSJudge(weights=w))
    assert jid(LPIPSJudge(weights=w, net="vgg")) != jid(LPIPSJudge(weights=w))
    # A local path counts by content, not by where it is.
    copy = tmp_path / "elsewhere.pth"
    copy.write_bytes(alexnet_features.read_bytes())
    assert jid(LPIPSJudge(weights=str(copy))) == jid(LPIPSJudge(weights=w))
    assert LPIPSJudge(weights=w).config()["weights"].startswith("sha256:")
    # Built from a command-line spec through the registry, as `--judge lpips:...` does.
    from bench import registry
    from bench.components import build_component
    from bench.spec import parse_spec

    registry.register("judges", "lpips", "judges.learned.lpips_judge:LPIPSJudge")
    built = build_component("judges", parse_spec(f"lpips:net=alex,weights='{w}',device=cpu,download=false"))
    assert built.id == jid(LPIPSJudge(weights=w)) and built.obj.device == "cpu"
    with pytest.raises(ValueError):
        LPIPSJudge(net="squeeze")
    with pytest.raises(ValueError):
        CLIPJudge(dtype="int8")
    with pytest.raises(ValueError):
        FIDJudge(features="inception", model="x")


# ----------------------------------------------------------------------------- through the runner


def test_a_run_with_every_learned_judge(tmp_path, alexnet_features, tiny_clip, tiny_dino):
    """Spec strings -> registry -> runner -> store: sample and set scopes, statuses for what cannot be scored."""
    from bench import registry
    from bench.runner import RunOptions, execute
    from bench.spec import parse_spec
    from bench.store import RunStore
    from suites.folder import load_suite
    from tests.fakes.components import make_tiny_suite

    for name, target in {
        "lpips": "judges.learned.lpips_judge:LPIPSJudge",
        "clip": "judges.learned.clip_judge:CLIPJudge",
        "dino": "judges.learned.dino_judge:DINOJudge",
        "fid": "judges.learned.fid_judge:FIDJudge",
        "kid": "judges.learned.fid_judge:KIDJudge",
    }.items():
        registry.register("judges", name, target)
    make_tiny_suite(tmp_path / "suite", n=4)  # 32x24 images, no descriptions
    suite = load_suite(tmp_path / "suite")
    systems = [parse_spec("fake-brighten"), parse_spec("fake-brighten:factor=0.7,fail_on=s2")]
    dino = f"model='{tiny_dino}',size=32,device=cpu"
    judges = [
        parse_spec(f"lpips:weights='{alexnet_features}',device=cpu"),
        parse_spec(f"clip:model='{tiny_clip}',device=cpu"),
        parse_spec(f"dino:{dino}"),
        parse_spec(f"fid:features=dinov2,{dino}"),
        parse_spec(f"kid:features=dinov2,{dino}"),
    ]
    summary = execute(
        str(tmp_path / "runs"), [suite], systems, judges, RunOptions(executor="inline", workers=1)
    )
    store = RunStore.open(summary.run_dir)
    by_judge: dict[str, list] = {}
    for j in store.judgements().values():
        by_judge.setdefault(j.judge_id.split(".")[0], []).append(j)
    assert sorted(len(v) for v in by_judge.values()) == [2, 2, 8, 8, 8]  # two sets per set judge
    for j in by_judge["lpips"]:  # 24 px is under AlexNet's 31-px minimum: unscored, never 0
        assert j.status == "unscored" and not j.scores
    for name in ("clip", "dino"):
        ok = [j for j in by_judge[name] if j.status == "ok"]
        assert len(ok) == 7 and all(j.scores for j in ok)  # the failed trajectory is unscored by the runner
    assert all("clip_dir" in j.na for j in by_judge["clip"] if j.status == "ok")
    for name in ("fid", "kid"):
        assert {j.sample_id for j in by_judge[name]} == {"*"} and all(
            j.scope == "set" for j in by_judge[name]
        )
        assert all(j.status == "ok" and j.rationale["n"] in (3, 4) for j in by_judge[name])
    specs = store.read_meta()["score_specs"]
    assert any(s["name"] == "kid_std" for v in specs.values() for s in v)
