"""The suite format: every validation error names its place, images normalise, hashes are stable,
and built-in suites materialize once, safely, even when two threads race."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.errors import SuiteError
from bench.ids import image_id
from bench.model import ImageRef, Sample
from suites import folder as folder_mod
from suites.folder import ID_CACHE_FILE, load_suite, validate_suite, write_suite_files
from suites.jsonl import load_jsonl
from suites.materialize import COMPLETE, materialize, suite_folder

EXAMPLE = Path(__file__).resolve().parents[1] / "suites" / "examples" / "tiny"
# The example suite's hash, pinned: it must be the same on every machine. If you edit the example
# on purpose, update it; if it changed without an edit, the hash scheme changed (bump HASH_FORMAT).
EXAMPLE_HASH = "2f0fad4a618ed3d64656c70cdc83a57e135650bab333a5e1e62965930c33f3a2"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _png(path: Path, color=(200, 30, 30), size=(8, 6)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)


def make_suite(root: Path, samples: list, *, yaml_text: str | None = None, images=("img/a.png",)) -> Path:
    """A suite folder: ``samples`` are dicts (written as JSON) or raw strings (written as they are)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "suite.yaml").write_text(yaml_text if yaml_text is not None else "name: t\nversion: '1'\n")
    lines = [s if isinstance(s, str) else json.dumps(s) for s in samples]
    (root / "samples.jsonl").write_text("".join(line + "\n" for line in lines))
    for i, rel in enumerate(images):
        _png(root / rel, color=(40 * i, 100, 200))
    return root


def ok(sid: str = "s1", **over) -> dict:
    return {"id": sid, "image": "img/a.png", "goal": "make it night", **over}


def only_error(root: Path) -> SuiteError:
    errors = validate_suite(root)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# ------------------------------------------------------------------------------ happy paths


def test_example_suite_loads_with_pinned_hash(tmp_path):
    suite = load_suite(EXAMPLE)
    assert suite.ref == "tiny@1" and len(suite.samples) == 3 and suite.info.size == 3
    assert suite.info.hash == EXAMPLE_HASH
    house = suite.sample("house-winter-evening")
    assert [c.kind for c in house.checklist] == ["goal", "goal", "preserve", "quality"]
    assert house.checklist[1].weight == 2.0 and house.truth["target"]["season"] == "winter"
    poster = suite.sample("poster-rainy-night")  # bare strings become goal criteria c1, c2
    assert [(c.id, c.kind) for c in poster.checklist] == [
        ("c1", "goal"),
        ("c2", "goal"),
        ("text", "preserve"),
    ]
    lake = suite.sample("lake-autumn")  # "./images/lake.png" normalised; a palette PNG decoded to RGB
    assert lake.image.path == "images/lake.png" and (lake.image.width, lake.image.height) == (96, 64)
    assert image_id(suite.image(lake)) == lake.image.id
    assert not (EXAMPLE / ID_CACHE_FILE).exists()  # tiny suites leave no sidecar behind


def test_suite_yaml_path_and_version_text(tmp_path):
    root = make_suite(
        tmp_path / "s", [ok()], yaml_text="name: t\nversion: 1.10\ndescription: d\nprimary: ssim\n"
    )
    suite = load_suite(root / "suite.yaml")
    assert suite.info.version == "1.10" and suite.info.primary == "ssim" and suite.info.description == "d"


def test_inline_samples_equal_jsonl_samples(tmp_path):
    root = tmp_path / "inline"
    shutil.copytree(EXAMPLE, root)
    samples = [json.loads(line) for line in (root / "samples.jsonl").read_text().splitlines()]
    (root / "samples.jsonl").unlink()
    import yaml

    meta = yaml.safe_load((root / "suite.yaml").read_text())
    (root / "suite.yaml").write_text(yaml.safe_dump({**meta, "samples": samples}, sort_keys=False))
    assert load_suite(root).info.hash == EXAMPLE_HASH
    # an inline sample's error names suite.yaml and the line the sample starts on
    text = "name: t\nversion: '1'\nsamples:\n  - id: a\n    image: img/a.png\n    goal: x\n  - id: b\n    image: img/a.png\n    gaol: y\n"
    bad = make_suite(tmp_path / "bad", [], yaml_text=text)
    (bad / "samples.jsonl").unlink()
    errors = validate_suite(bad)
    assert {(Path(e.file).name, e.line, e.sample, e.field) for e in errors} == {
        ("suite.yaml", 7, "b", "gaol"),
        ("suite.yaml", 7, "b", "goal"),
    }


def test_jsonl_loader_matches_folder(tmp_path):
    suite = load_jsonl(EXAMPLE / "samples.jsonl", name="tiny", version="1")
    assert suite.info.hash == EXAMPLE_HASH and suite.ref == "tiny@1"
    assert load_jsonl(EXAMPLE / "samples.jsonl").info.name == "samples"
    with pytest.raises(SuiteError, match="no such file"):
        load_jsonl(tmp_path / "nope.jsonl")


# --------------------------------------------------------------------- one test per error


def test_missing_suite_yaml(tmp_path):
    root = make_suite(tmp_path / "s", [ok()])
    (root / "suite.yaml").unlink()
    err = only_error(root)
    assert err.file == str(root / "suite.yaml") and "missing suite.yaml" in err.message
    with pytest.raises(SuiteError, match="no such suite folder"):
        load_suite(tmp_path / "absent")


def test_bad_yaml_names_the_line(tmp_path):
    root = make_suite(tmp_path / "s", [ok()], yaml_text="name: t\nversion: '1'\ndescription: [unclosed\n")
    err = only_error(root)
    assert err.file.endswith("suite.yaml") and err.line == 4 and "not valid YAML" in err.message
    assert str(err).startswith(f"{root / 'suite.yaml'}:4: ")


@pytest.mark.parametrize("missing", ["name", "version"])
def test_missing_name_or_version(tmp_path, missing):
    text = "name: t\n" if missing == "version" else "version: '1'\n"
    err = only_error(make_suite(tmp_path / "s", [ok()], yaml_text=text))
    assert err.file.endswith("suite.yaml") and err.field == missing and f"missing {missing}" in err.message


def test_suite_yaml_unknown_key_and_bad_name(tmp_path):
    root = make_suite(tmp_path / "s", [ok()], yaml_text="name: my suite\nversion: '1'\nprimray: ssim\n")
    errors = validate_suite(root)
    assert [(e.line, e.field) for e in errors] == [(3, "primray"), (1, "name")]
    assert "did you mean 'primary'?" in errors[0].message


def test_line_that_is_not_json(tmp_path):
    root = make_suite(tmp_path / "s", [ok("s1"), "", '{"id": "s2", "image": ', ok("s3")])
    err = only_error(root)
    assert err.file == str(root / "samples.jsonl") and err.line == 3 and "not valid JSON" in err.message


def test_missing_image(tmp_path):
    root = make_suite(tmp_path / "s", [ok(), ok("s2", image="img/nope.png")])
    err = only_error(root)
    assert (err.line, err.sample, err.field) == (
        2,
        "s2",
        "image",
    ) and "missing image file 'img/nope.png'" in err.message
    no_field = only_error(make_suite(tmp_path / "t", [{"id": "s1", "goal": "g"}]))
    assert (no_field.sample, no_field.field) == ("s1", "image")


@pytest.mark.skipif(
    IS_ROOT or os.name == "nt", reason="root reads any file; chmod cannot make one unreadable"
)
def test_unreadable_image(tmp_path):
    root = make_suite(tmp_path / "s", [ok()])
    (root / "img/a.png").chmod(0)
    try:
        err = only_error(root)
    finally:
        (root / "img/a.png").chmod(0o644)
    assert (err.sample, err.field) == ("s1", "image") and "cannot be read" in err.message


def test_unreadable_image_reported_as_unreadable(tmp_path, monkeypatch):
    """The same error as above, on machines where tests run as root: reading fails, not decoding."""
    root = make_suite(tmp_path / "s", [ok()])

    def deny(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(folder_mod, "identify", deny)
    err = only_error(root)
    assert (err.line, err.sample, err.field) == (1, "s1", "image")
    assert "cannot be read: Permission denied" in err.message


def test_image_that_is_a_folder(tmp_path):
    root = make_suite(tmp_path / "s", [ok(image="img")])
    assert "not a regular file" in only_error(root).message


def test_duplicate_id(tmp_path):
    err = only_error(make_suite(tmp_path / "s", [ok("a"), ok("b"), ok("a")]))
    assert (err.line, err.sample, err.field) == (3, "a", "id") and "first on line 1" in err.message


def test_unknown_field_suggests(tmp_path):
    root = make_suite(tmp_path / "s", [ok(gaol="x"), ok("s2", checklist=[{"text": "t", "weigth": 2}])])
    errors = validate_suite(root)
    assert [(e.line, e.sample, e.field) for e in errors] == [
        (1, "s1", "gaol"),
        (2, "s2", "checklist[0].weigth"),
    ]
    assert "did you mean 'goal'?" in errors[0].message and "did you mean 'weight'?" in errors[1].message
    far = only_error(make_suite(tmp_path / "t", [ok(zzzz=1)]))
    assert "known fields: id, image, goal" in far.message


@pytest.mark.parametrize("goal", [None, "", "   "])
def test_empty_goal(tmp_path, goal):
    sample = ok()
    if goal is None:
        del sample["goal"]
    else:
        sample["goal"] = goal
    err = only_error(make_suite(tmp_path / "s", [sample]))
    assert (err.line, err.sample, err.field) == (1, "s1", "goal") and "empty goal" in err.message


def test_checklist_bad_kind(tmp_path):
    root = make_suite(tmp_path / "s", [ok(checklist=["fine", {"id": "k", "text": "t", "kind": "must"}])])
    err = only_error(root)
    assert (err.sample, err.field) == ("s1", "checklist[1].kind")
    assert "'must' is not one of goal, preserve, quality" in err.message


def test_checklist_duplicate_criterion_id(tmp_path):
    # an entry without id is numbered by position, so an explicit "c1" elsewhere collides with it
    root = make_suite(tmp_path / "s", [ok(checklist=["first", {"id": "c1", "text": "again"}])])
    err = only_error(root)
    assert (err.sample, err.field) == (
        "s1",
        "checklist[1].id",
    ) and "duplicate criterion id 'c1'" in err.message


def test_checklist_bad_weight_and_text(tmp_path):
    root = make_suite(tmp_path / "s", [ok(checklist=[{"text": "", "weight": -1}])])
    assert [e.field for e in validate_suite(root)] == ["checklist[0].text", "checklist[0].weight"]


@pytest.mark.parametrize(
    "path, says",
    [
        ("/etc/hostname", "absolute path"),
        ("../outside.png", "leaves the suite folder"),
        ("img/../../outside.png", "leaves the suite folder"),
        ("img/link.png", "resolves outside the suite folder"),
    ],
)
def test_path_leaving_the_folder(tmp_path, path, says):
    root = make_suite(tmp_path / "s", [ok(image=path)])
    _png(tmp_path / "outside.png")
    os.symlink(tmp_path / "outside.png", root / "img" / "link.png")
    err = only_error(root)
    assert (err.sample, err.field) == ("s1", "image") and says in err.message


def test_symlink_inside_the_folder_is_fine(tmp_path):
    root = make_suite(tmp_path / "s", [ok(image="img/inner.png")])
    os.symlink(root / "img" / "a.png", root / "img" / "inner.png")
    assert load_suite(root).samples[0].image.path == "img/inner.png"


@pytest.mark.parametrize("content", [b"not an image at all", "truncated"])
def test_image_not_decodable(tmp_path, content):
    root = make_suite(tmp_path / "s", [ok()])
    if content == "truncated":
        Image.new("RGB", (64, 64), (1, 2, 3)).save(root / "img/a.png")
        data = (root / "img/a.png").read_bytes()
        content = data[: len(data) // 2]
    (root / "img/a.png").write_bytes(content)
    err = only_error(root)
    assert (err.line, err.sample, err.field) == (1, "s1", "image") and "cannot be decoded" in err.message


def test_empty_suite(tmp_path):
    err = only_error(make_suite(tmp_path / "s", ["", "  "]))
    assert err.file.endswith("samples.jsonl") and "no samples" in err.message
    root = make_suite(tmp_path / "t", [])
    (root / "samples.jsonl").unlink()
    err = only_error(root)
    assert err.file.endswith("suite.yaml") and "no samples" in err.message


def test_both_inline_and_jsonl(tmp_path):
    text = "name: t\nversion: '1'\nsamples:\n  - {id: a, image: img/a.png, goal: g}\n"
    err = only_error(make_suite(tmp_path / "s", [ok()], yaml_text=text))
    assert err.field == "samples" and "both inline and in samples.jsonl" in err.message


def test_all_problems_collected_and_first_raised(tmp_path):
    root = make_suite(tmp_path / "s", [ok(goal=""), ok("s2", image="x.png"), "[1, 2]", ok("s1")])
    errors = validate_suite(root)
    assert [(e.line, e.field) for e in errors] == [(1, "goal"), (3, None), (4, "id"), (2, "image")]
    with pytest.raises(SuiteError) as info:
        load_suite(root)
    assert info.value.line == 1 and info.value.field == "goal" and "(and 3 more problems" in str(info.value)


def test_declared_image_id_checked_or_trusted(tmp_path):
    root = make_suite(tmp_path / "s", [ok(image={"path": "img/a.png", "id": "f" * 64, "width": 8})])
    err = only_error(root)
    assert err.field == "image.id" and "does not match" in err.message
    # without a declared height the image is decoded anyway, and the wrong id is caught
    assert "does not match" in str(pytest.raises(SuiteError, load_suite, root, verify_images=False).value)
    lines = (root / "samples.jsonl").read_text().replace('"width": 8', '"width": 8, "height": 6')
    (root / "samples.jsonl").write_text(lines)
    trusted = load_suite(root, verify_images=False)  # no decoding: the declared id is taken as is
    assert trusted.samples[0].image == ImageRef("f" * 64, "img/a.png", 8, 6)


# ------------------------------------------------------------------------------ image modes


def test_every_image_mode_normalised(tmp_path):
    root = tmp_path / "modes"
    (root / "img").mkdir(parents=True)
    red = Image.new("RGB", (10, 6), (255, 0, 0))
    rgba = Image.new("RGBA", (10, 6), (255, 0, 0, 255))
    rgba.save(root / "img/rgba.png")
    red.convert("P").save(root / "img/palette.png")
    grey16 = np.full((6, 10), 65535, np.uint16)
    grey16[:, :5] = 32896  # 32896 / 65535 * 255 = 128.0
    Image.fromarray(grey16).save(root / "img/grey16.png")
    Image.new("CMYK", (10, 6), (0, 255, 255, 0)).save(root / "img/cmyk.jpg", quality=95)
    pattern = np.zeros((6, 10, 3), np.uint8)
    pattern[:, :3] = (255, 0, 0)
    pattern[:3, 3:] = (0, 255, 0)
    pattern[3:, 3:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(pattern).save(root / "img/rotated.jpg", exif=exif, quality=95)
    names = ["rgba.png", "palette.png", "grey16.png", "cmyk.jpg", "rotated.jpg"]
    make_suite(root, [ok(n, image=f"img/{n}") for n in names], images=())

    assert Image.open(root / "img/grey16.png").mode == "I;16"
    assert Image.open(root / "img/cmyk.jpg").mode == "CMYK"
    suite = load_suite(root)
    loaded = {s.id: (s, suite.image(s)) for s in suite.samples}
    for sample, image in loaded.values():
        assert image.mode == "RGB" and image_id(image) == sample.image.id
        assert image.size == (sample.image.width, sample.image.height)
    # opaque RGBA and palette red are exactly the plain RGB red image
    assert loaded["rgba.png"][0].image.id == loaded["palette.png"][0].image.id == image_id(red)
    g = np.asarray(loaded["grey16.png"][1])
    assert (g[:, :5] == 128).all() and (g[:, 5:] == 255).all()
    cmyk = np.asarray(loaded["cmyk.jpg"][1]).astype(int)
    assert loaded["cmyk.jpg"][1].size == (10, 6) and np.abs(cmyk - (255, 0, 0)).max() <= 8
    sample, rotated = loaded["rotated.jpg"]
    assert (sample.image.width, sample.image.height) == (6, 10)
    with Image.open(root / "img/rotated.jpg") as raw:  # the stored pixels, rotated by hand
        by_hand = raw.convert("RGB").transpose(Image.Transpose.ROTATE_270)
    assert np.array_equal(np.asarray(rotated), np.asarray(by_hand))
    assert np.abs(np.asarray(rotated)[0, -1].astype(int) - (255, 0, 0)).max() <= 40  # red band now on top


# ----------------------------------------------------------------------------------- hashes


def test_hash_stable_across_loads_and_folders(tmp_path):
    root = make_suite(tmp_path / "a", [ok("s1"), ok("s2", tags={"complexity": 2})])
    first, again = load_suite(root), load_suite(root)
    assert first.info.hash == again.info.hash and first.samples == again.samples
    copy = tmp_path / "elsewhere" / "b"
    shutil.copytree(root, copy)
    moved = load_suite(copy)
    assert moved.info.hash == first.info.hash and moved.root != first.root
    # paths are not hashed: renaming an image file changes nothing but the path
    (copy / "img/a.png").rename(copy / "img/renamed.png")
    text = (copy / "samples.jsonl").read_text().replace("img/a.png", "img/renamed.png")
    (copy / "samples.jsonl").write_text(text)
    assert load_suite(copy).info.hash == first.info.hash
    # one changed goal, or one changed pixel, gives a different hash
    (copy / "samples.jsonl").write_text(text.replace("make it night", "make it day", 1))
    assert load_suite(copy).info.hash != first.info.hash
    _png(root / "img/a.png", color=(1, 2, 3))
    assert load_suite(root).info.hash != first.info.hash


def test_image_id_cache(tmp_path, monkeypatch):
    root = make_suite(tmp_path / "s", [ok()])
    monkeypatch.setattr(folder_mod, "ID_CACHE_MIN_SECONDS", 0.0)
    first = load_suite(root)
    assert (root / ID_CACHE_FILE).exists()

    def boom(path):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(folder_mod, "identify", boom)
    assert load_suite(root).info.hash == first.info.hash
    monkeypatch.undo()
    _png(root / "img/a.png", color=(9, 9, 9), size=(8, 7))  # size and mtime change: recomputed
    assert load_suite(root).samples[0].image.height == 7


# ------------------------------------------------------------------------------ materialize


def _generator(calls: list, barrier: threading.Barrier | None = None):
    def generate(folder: Path, options: dict) -> None:
        calls.append(options)
        samples = []
        for i in range(options["n"]):
            img = Image.new("RGB", (8, 8), (30 * i, 0, 0))
            rel = f"images/{i}.png"
            (folder / "images").mkdir(exist_ok=True)
            img.save(folder / rel)
            ref = ImageRef(image_id(img), rel, 8, 8)
            samples.append(Sample(id=f"s{i}", image=ref, goal=f"goal {i}", checklist=()))
        write_suite_files(folder, name="gen", version="2", samples=samples)
        if barrier is not None:
            barrier.wait(timeout=10)  # both threads are done generating before either publishes

    return generate


def test_materialize_reuses(tmp_path, monkeypatch):
    monkeypatch.setenv("EDITBENCH_CACHE", str(tmp_path / "cache"))
    calls: list = []
    first = materialize("gen", "2", {"n": 3}, _generator(calls))
    again = materialize("gen", "2", {"n": 3}, _generator(calls))
    assert len(calls) == 1 and first.info.hash == again.info.hash and first.samples == again.samples
    where = suite_folder("gen", "2", {"n": 3})
    assert where.parent == tmp_path / "cache" / "suites" and where.name.startswith("gen-2-")
    assert first.root == again.root == os.path.realpath(where) and (where / COMPLETE).exists()
    assert first.image(first.samples[1]).getpixel((0, 0)) == (30, 0, 0)
    other = materialize("gen", "2", {"n": 2}, _generator(calls))
    assert len(calls) == 2 and other.root != first.root and len(other.samples) == 2


def test_materialize_concurrent_threads(tmp_path):
    calls: list = []
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def work():
        try:
            results.append(materialize("gen", "2", {"n": 2}, _generator(calls, barrier), cache_dir=tmp_path))
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and len(calls) == 2 and len(results) == 2
    assert results[0].info.hash == results[1].info.hash and results[0].root == results[1].root
    assert sorted(p.name for p in (tmp_path / "suites").iterdir()) == [
        suite_folder("gen", "2", {"n": 2}, cache_dir=tmp_path).name
    ]
    assert load_suite(results[0].root).info.hash == results[0].info.hash


def test_materialize_failures_publish_nothing(tmp_path):
    def broken(folder: Path, options: dict) -> None:
        (folder / "suite.yaml").write_text("name: gen\nversion: '2'\n")
        raise RuntimeError("generator crashed")

    with pytest.raises(RuntimeError, match="generator crashed"):
        materialize("gen", "2", {}, broken, cache_dir=tmp_path)

    def invalid(folder: Path, options: dict) -> None:
        write_suite_files(folder, name="gen", version="2", samples=[ok()])  # its image is never written

    with pytest.raises(SuiteError, match="wrote an invalid suite: .*missing image file"):
        materialize("gen", "2", {}, invalid, cache_dir=tmp_path)
    with pytest.raises(SuiteError, match="wrote a suite named gen@2"):
        materialize("other", "2", {"n": 1}, _generator([]), cache_dir=tmp_path)
    assert list((tmp_path / "suites").iterdir()) == []


def test_materialize_damaged_cache_is_reported(tmp_path):
    suite = materialize("gen", "2", {"n": 1}, _generator([]), cache_dir=tmp_path)
    jsonl = Path(suite.root) / "samples.jsonl"
    jsonl.write_text(jsonl.read_text().replace("goal 0", "edited"))
    with pytest.raises(SuiteError, match="changed after it was made; delete"):
        materialize("gen", "2", {"n": 1}, _generator([]), cache_dir=tmp_path)
    with pytest.raises(SuiteError, match="plain JSON"):
        materialize("gen", "2", {"n": object()}, _generator([]), cache_dir=tmp_path)
