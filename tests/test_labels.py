"""bench.labels: the HumanLabel record, page exports, CSV and JSONL files, merging, validation."""

from __future__ import annotations

import json

import pytest

from bench.labels import (
    CSV_COLUMNS,
    HumanLabel,
    LabelError,
    blind_token,
    load_labels,
    merge_labels,
    read_labels,
    run_key,
    validate_labels,
    write_csv_labels,
)
from bench.results import load_results
from bench.runner import RunOptions, execute
from bench.spec import parse_spec
from suites.folder import load_suite
from tests.fakes.components import make_tiny_suite

SYSTEMS = ["fake-brighten", "fake-brighten:factor=0.7", "fake-brighten:factor=0.4,fail_on=s2"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished run: 4 samples x 3 systems (the third fails on s2), judged by fake-diff."""
    root = tmp_path_factory.mktemp("labels-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDITBENCH_CACHE", str(root / "cache"))
        make_tiny_suite(root / "suite", n=4)
        s = execute(str(root / "runs"), [load_suite(root / "suite")], [parse_spec(x) for x in SYSTEMS],
                    [parse_spec("fake-diff")], RunOptions(executor="inline"))
    res = load_results([s.run_dir])
    ids = {res.display(i): i for i in res.systems}
    yield res, [ids[x] for x in SYSTEMS]  # display names are the specs
    for st in res.stores:
        st.close()


def _export(path, labels, **head):
    """A file laid out as the page writes it: a header object, then one label a line."""
    doc = {"format": "editbench-labels", "v": 1, "run_key": "k", "mode": "rate", "blinded": True, **head}
    text = json.dumps(doc)[:-1] + ',\n"labels": [\n' + ",\n".join(json.dumps(x) for x in labels) + "\n]}\n"
    path.write_text(text)
    return path


def _rating(annotator="alice", sample="s0", system="sys", dim="overall", value="pass", **kw):
    return {"annotator": annotator, "suite": "tiny@1", "sample_id": sample, "system_id": system, "dimension": dim,
            "value": value, **kw}


# ----------------------------------------------------------------------------- the record


def test_human_label_round_trip_key_and_equality():
    lab = HumanLabel("alice", "tiny@1", "s0", system_id="sys.1", dimension="overall", value="pass", time="t1")
    assert HumanLabel.from_dict(lab.to_dict()) == lab
    assert lab == lab.replace(time="t2")  # time is not part of equality
    assert lab.key == ("alice", "tiny@1", "s0", "rate", "sys.1", "overall")
    rk = HumanLabel("bob", "tiny@1", "s0", ranking=("a", "b"), dimension="ranking", candidates=("a", "b", "c"), task="rank")
    rk.check()
    back = HumanLabel.from_dict(json.loads(json.dumps(rk.to_dict())))
    assert back == rk and back.ranking == ("a", "b") and back.is_ranking
    for bad, msg in [
        (dict(annotator="al ice"), "annotator"),
        (dict(value="great"), "value"),
        (dict(dimension="Overall"), "dimension"),
        (dict(system_id=None), "system_id"),
        (dict(ranking=("a",)), "ranking"),
    ]:
        with pytest.raises(ValueError, match=msg):
            lab.replace(**bad).check()
    with pytest.raises(ValueError, match="twice"):
        rk.replace(ranking=("a", "a")).check()
    with pytest.raises(ValueError, match="candidates"):
        rk.replace(ranking=("a", "z")).check()
    with pytest.raises(ValueError, match="rank"):
        rk.replace(task="rate").check()


def test_blind_token_and_run_key_are_stable_and_distinct():
    t = blind_token("tiny@1", "s0", "sys.1")
    assert t == blind_token("tiny@1", "s0", "sys.1") and t.startswith("b:")
    assert t != blind_token("tiny@1", "s1", "sys.1") and "sys" not in t
    a = run_key([{"name": "r", "suites": [{"name": "tiny", "version": "1", "hash": "h"}]}])
    assert a == run_key([{"name": "r", "suites": [{"name": "tiny", "version": "1", "hash": "h"}]}])
    assert a != run_key([{"name": "r", "suites": [{"name": "tiny", "version": "1", "hash": "h2"}]}])


# ----------------------------------------------------------------------------- files


def test_page_export_reads_and_errors_name_the_line(tmp_path):
    good = _export(tmp_path / "a.json", [_rating(dim=d) for d in ("edit_quality", "overall")])
    ls = read_labels(good)
    assert len(ls) == 2 and ls.files[0].blinded and ls.files[0].run_key == "k"
    assert [o.line for o in ls.origins] == [3, 4]
    bad = _export(tmp_path / "b.json", [_rating(), _rating(dim="plan_quality"), _rating(dim="x", value="great")])
    with pytest.raises(LabelError, match=r"b.json:5: .*value"):
        read_labels(bad)
    unknown = _export(tmp_path / "c.json", [_rating(), {**_rating(dim="plan_quality"), "colour": 1}])
    with pytest.raises(LabelError, match=r"c.json:4: .*unknown field 'colour'"):
        read_labels(unknown)
    (tmp_path / "d.json").write_text('{"format": "editbench-labels",\n "labels": [\n{"annotator": }\n]}')
    with pytest.raises(LabelError, match=r"d.json:3: not valid JSON"):
        read_labels(tmp_path / "d.json")
    (tmp_path / "e.json").write_text('{"labels": []}')
    with pytest.raises(LabelError, match=r"e.json:1: not an editbench label export"):
        read_labels(tmp_path / "e.json")
    with pytest.raises(LabelError, match="no such label file"):
        read_labels(tmp_path / "missing.json")


def test_csv_round_trip_and_documented_columns(tmp_path):
    labels = [
        HumanLabel("alice", "tiny@1", "s0", system_id="sys.1", dimension="overall", value="partial", note='say "hi", ok'),
        HumanLabel("alice", "tiny@1", "s0", ranking=("sys.2", "sys.1"), dimension="ranking",
                   candidates=("sys.1", "sys.2", "sys.3"), task="rank", time="2024-01-01T00:00:00Z"),
        HumanLabel("alice", "tiny@1", "s0", system_id="sys.2", dimension="overall", value="pass", task="rank"),
    ]
    p = tmp_path / "l.csv"
    write_csv_labels(labels, p)
    back = read_labels(p)
    assert list(back.labels) == labels and [o.line for o in back.origins] == [2, 3, 4]
    assert p.read_text().splitlines()[0] == ",".join(CSV_COLUMNS)
    # A minimal hand-written file: only the required columns plus what a row needs; BOM, blank line.
    (tmp_path / "m.csv").write_text("\ufeffannotator,suite,sample_id,dimension,value,system_id,ranking\n"
                                    "bob,tiny,s1,overall,PASS,fake-brighten,\n\n"
                                    "bob,tiny,s1,ranking,,,a > b\n")
    m = read_labels(tmp_path / "m.csv")
    assert m.labels[0].value == "pass" and m.labels[1].ranking == ("a", "b") and m.labels[1].task == "rank"
    assert [o.line for o in m.origins] == [2, 4]


@pytest.mark.parametrize("text, where, msg", [
    ("annotator,suite,sample_id,dimension,valeu\n", 1, "unknown column 'valeu'"),
    ("annotator,suite,sample_id,value\n", 1, "missing column 'dimension'"),
    ("annotator,suite,sample_id,dimension,value,system_id\na,t,s0,overall,pass,x\na,t,s0,overall,good,x\n", 3, "value"),
    ("annotator,suite,sample_id,dimension,value,system_id\na,t,s0,overall,pass,x\n\na,t,s1,overall\n", 4, "cells"),
    ("annotator,suite,sample_id,dimension,value,system_id\na,t,s0,overall,pass,\n", 2, "system_id"),
    ("annotator,suite,sample_id,dimension,value,system_id,ranking\na,t,s0,ranking,,,\n", 2, "ranking"),
    ("", 1, "empty file"),
])
def test_csv_errors_name_file_and_line(tmp_path, text, where, msg):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(LabelError, match=rf"bad.csv:{where}: .*{msg}"):
        read_labels(p)


def test_jsonl_errors_name_the_line(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_text(json.dumps(_rating()) + "\n\n" + json.dumps(_rating(value="meh")) + "\n")
    with pytest.raises(LabelError, match=r"l.jsonl:3: .*value"):
        read_labels(p)


# ----------------------------------------------------------------------------- merging


def test_two_annotators_merge_cleanly_and_conflicts_are_explained(tmp_path):
    dims = ("edit_quality", "plan_quality", "reasoning_quality", "overall")
    alice = _export(tmp_path / "alice.json", [_rating("alice", s, "sys", d) for s in ("s0", "s1") for d in dims])
    bob = _export(tmp_path / "bob.json", [_rating("bob", s, "sys", d, "fail") for s in ("s0", "s1") for d in dims])
    merged = load_labels([alice, bob])
    assert len(merged) == 16 and merged.annotators == ["alice", "bob"] and len(merged.files) == 2
    # Exporting twice (a later, larger export) merges to the union, without duplicates.
    again = _export(tmp_path / "alice2.json", [_rating("alice", "s0", "sys", d) for d in dims] + [_rating("alice", "s2")])
    assert len(load_labels([alice, bob, again])) == 17
    # The same key with a different answer: the later time wins if both have one ...
    old = _export(tmp_path / "old.json", [_rating("carol", time="2024-01-01T00:00:00Z")])
    new = _export(tmp_path / "new.json", [_rating("carol", value="fail", time="2024-02-01T00:00:00Z")])
    assert merge_labels(read_labels(new), read_labels(old)).labels[0].value == "fail"
    # ... and is an error naming both places if not.
    x = _export(tmp_path / "x.json", [_rating("dave")])
    y = _export(tmp_path / "y.json", [_rating("dave", value="partial")])
    with pytest.raises(LabelError, match=r"y.json:3: conflicts with the label at .*x.json:3"):
        load_labels([x, y])
    frame = merged.frame()
    assert set(frame["unit"]) == {"tiny@1/s0", "tiny@1/s1"} and frame["origin"].str.contains("alice.json").any()


# ----------------------------------------------------------------------------- validation


def test_validation_resolves_tokens_names_and_suites(tmp_path, run):
    res, ids = run
    token = blind_token("tiny@1", "s1", ids[1])
    p = _export(tmp_path / "t.json", [
        _rating(sample="s1", system=token),
        _rating(sample="s1", system="fake-brighten:factor=0.7", dim="edit_quality"),  # unique display name
        {"annotator": "alice", "suite": "tiny", "sample_id": "s1", "dimension": "ranking", "task": "rank",
         "ranking": [blind_token("tiny@1", "s1", ids[0])], "candidates": [blind_token("tiny@1", "s1", i) for i in ids]},
        _rating(sample="s1", system=blind_token("tiny@1", "s1", ids[0]), task="rank"),
    ])
    v = validate_labels(read_labels(p), res)
    assert [lab.system_id for lab in v.labels] == [ids[1], ids[1], None, ids[0]]
    assert v.labels[2].suite == "tiny@1" and v.labels[2].ranking == (ids[0],) and set(v.labels[2].candidates) == set(ids)
    # A CSV ranking without candidates gets every system with a result for the sample.
    c = tmp_path / "c.csv"
    c.write_text(f"annotator,suite,sample_id,dimension,ranking\nbob,tiny@1,s0,ranking,{ids[2]} > {ids[0]}\n")
    assert set(validate_labels(read_labels(c), res).labels[0].candidates) == set(ids)


@pytest.mark.parametrize("label, msg", [
    (_rating(sample="s9"), "no sample 's9'"),
    ({**_rating(), "suite": "other@1"}, "unknown suite 'other@1'"),
    (_rating(system="nobody"), "unknown system 'nobody'"),
    (_rating(system="fake-brighten"), "ambiguous"),  # the registered name of all three systems
    (_rating(system=blind_token("tiny@1", "s1", "x")), "blinded result"),
])
def test_validation_errors_name_file_and_line(tmp_path, run, label, msg):
    res, _ = run
    p = _export(tmp_path / "v.json", [_rating(system="fake-brighten:factor=0.7"), label])
    with pytest.raises(LabelError, match=rf"v.json:4, sample '\w+': .*{msg}"):
        validate_labels(read_labels(p), res)


def test_blind_token_of_another_sample_and_rank_ratings_of_a_non_winner_are_errors(tmp_path, run):
    res, ids = run
    p = _export(tmp_path / "w.json", [_rating(sample="s0", system=blind_token("tiny@1", "s1", ids[0]))])
    with pytest.raises(LabelError, match=r"w.json:3.*not a result of this sample"):
        validate_labels(read_labels(p), res)
    rank = {"annotator": "alice", "suite": "tiny@1", "sample_id": "s0", "dimension": "ranking", "task": "rank",
            "ranking": [ids[0], ids[1]]}
    q = _export(tmp_path / "q.json", [rank, _rating(system=ids[1], task="rank")])
    with pytest.raises(LabelError, match=r"q.json:4.*rating is of the winner"):
        validate_labels(read_labels(q), res)
    r = _export(tmp_path / "r.json", [_rating(system=ids[1], task="rank")])
    with pytest.raises(LabelError, match=r"r.json:3.*needs alice's ranking"):
        validate_labels(read_labels(r), res)
    empty = _export(tmp_path / "e.json", [])
    with pytest.raises(LabelError, match="no labels"):
        validate_labels(read_labels(empty), res)
