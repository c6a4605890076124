"""The run store and the runner: appends, torn lines, resume, SIGKILL, failures, exit codes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import StoreError
from bench.runner import RunOptions, Selection, execute
from bench.spec import parse_spec
from bench.store import RunStore, read_jsonl
from suites.folder import load_suite
from tests.fakes.components import make_tiny_suite

SYSTEMS = [parse_spec("fake-brighten"), parse_spec("fake-brighten:factor=0.7,fail_on=s2")]
JUDGES = [parse_spec("fake-diff")]


@pytest.fixture()
def suite(tmp_path):
    make_tiny_suite(tmp_path / "suite", n=5)
    return load_suite(tmp_path / "suite")


def _records(run_dir, name):
    """Records without telemetry (timings differ between runs; results must not)."""
    out = []
    for _, obj in read_jsonl(Path(run_dir) / f"{name}.jsonl"):
        obj.pop("telemetry", None)
        for st in obj.get("steps", []):
            st.pop("telemetry", None)
            st.pop("cached", None)
        out.append(json.dumps(obj, sort_keys=True))
    return sorted(out)


def test_store_torn_last_line_is_ignored_and_repaired(tmp_path):
    st = RunStore.open(tmp_path / "r", create=True)
    st.append("judgements", {"a": 1})
    st.close()
    with open(st.path("judgements"), "ab") as fh:
        fh.write(b'{"a": 2, "torn')
    assert [o for _, o in read_jsonl(st.path("judgements"))] == [{"a": 1, "v": 1}]
    st2 = RunStore.open(tmp_path / "r", create=True)
    st2.append("judgements", {"a": 3})
    st2.close()
    assert [o["a"] for _, o in read_jsonl(st2.path("judgements"))] == [1, 3]


def test_store_corrupt_middle_line_is_an_error(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"a":1}\nnot json\n{"a":2}\n')
    with pytest.raises(StoreError, match=r"x.jsonl:2"):
        list(read_jsonl(p))


def test_store_images_and_raw(tmp_path):
    from PIL import Image

    st = RunStore.open(tmp_path / "r", create=True)
    img = Image.new("RGB", (5, 4), (10, 20, 30))
    iid = st.images.put(img)
    assert st.images.put(img) == iid and st.images.get(iid).tobytes() == img.tobytes()
    rid = st.put_raw("the raw reply ✓")
    assert st.get_raw(rid) == "the raw reply ✓"
    with pytest.raises(StoreError):
        RunStore.open(tmp_path / "missing")


def test_run_end_to_end_failures_recorded_and_truth_hidden(tmp_path, suite):
    s = execute(str(tmp_path / "runs"), [suite], SYSTEMS, JUDGES, RunOptions(executor="thread", workers=2))
    assert s.trajectories == 10 and s.failed == 1 and s.judgements == 10 and s.unscored == 1
    st = RunStore.open(s.run_dir)
    trajs = st.trajectories()
    failed = [t for t in trajs.values() if t.status == "failed"]
    assert len(failed) == 1 and failed[0].sample_id == "s2" and "scripted failure" in failed[0].error
    # A system that saw truth would have failed (the fake asserts it), so all others are ok.
    assert all(t.final for t in trajs.values() if t.status == "ok")
    judg = st.judgements()
    unscored = [j for j in judg.values() if j.status == "unscored"]
    assert len(unscored) == 1 and unscored[0].sample_id == "s2" and not unscored[0].scores
    meta = st.read_meta()
    assert {c["name"] for c in meta["components"]["systems"]} == {"fake-brighten"}
    assert len(meta["components"]["systems"]) == 2
    assert meta["score_specs"][meta["components"]["judges"][0]["id"]][0]["name"] == "diff"
    assert meta["suites"][0]["name"] == "tiny" and meta["suites"][0]["hash"]
    # samples.jsonl keeps truth for judges, and the source image is in the store
    samples = st.samples()
    assert samples[("tiny@1", "s0")].truth == {"secret": 0}
    assert st.images.has(samples[("tiny@1", "s0")].image.id)


def test_resume_after_partial_run_equals_uninterrupted(tmp_path, suite):
    opts = RunOptions(executor="thread", workers=2)
    full = execute(str(tmp_path / "a"), [suite], SYSTEMS, JUDGES, opts)
    partial_opts = RunOptions(executor="inline", selection=Selection(limit=2))
    p1 = execute(str(tmp_path / "b"), [suite], SYSTEMS, JUDGES, partial_opts)
    assert p1.trajectories == 4
    p2 = execute(str(tmp_path / "b"), [suite], SYSTEMS, JUDGES, RunOptions(executor="process", workers=2))
    assert p2.new_trajectories == 6 and p2.new_judgements == 6
    assert Path(full.run_dir).name == Path(p2.run_dir).name  # the name does not depend on --limit
    for name in ("trajectories", "judgements", "samples"):
        assert _records(full.run_dir, name) == _records(p2.run_dir, name)
    again = execute(str(tmp_path / "b"), [suite], SYSTEMS, JUDGES, opts)
    assert again.new_trajectories == 0 and again.new_judgements == 0
    assert len(list(read_jsonl(Path(p2.run_dir) / "trajectories.jsonl"))) == 10  # no duplicates


def test_torn_trajectory_line_is_redone_on_resume(tmp_path, suite):
    opts = RunOptions(executor="inline")
    s = execute(str(tmp_path / "r"), [suite], SYSTEMS[:1], JUDGES, opts)
    p = Path(s.run_dir) / "trajectories.jsonl"
    data = p.read_bytes().rstrip(b"\n").split(b"\n")
    p.write_bytes(b"\n".join(data[:-1]) + b"\n" + data[-1][: len(data[-1]) // 2])  # tear the last record
    again = execute(str(tmp_path / "r"), [suite], SYSTEMS[:1], JUDGES, opts)
    assert again.new_trajectories == 1 and again.trajectories == 5
    assert len(list(read_jsonl(p))) == 5


def test_retry_failed_redoes_failures_and_rejudges(tmp_path, suite):
    systems = [parse_spec("fake-brighten:fail_on=s2")]
    s = execute(str(tmp_path / "r"), [suite], systems, JUDGES, RunOptions(executor="inline"))
    assert s.failed == 1
    again = execute(str(tmp_path / "r"), [suite], systems, JUDGES, RunOptions(executor="inline", retry_failed=True))
    assert again.new_trajectories == 1 and again.failed == 1  # still fails: deterministic


def test_sample_and_shard_selection(tmp_path, suite):
    s = execute(str(tmp_path / "r"), [suite], SYSTEMS[:1], JUDGES, RunOptions(executor="inline", selection=Selection(samples=("s3",))))
    assert s.trajectories == 1
    shards = [execute(str(tmp_path / f"sh{i}"), [suite], SYSTEMS[:1], JUDGES,
                      RunOptions(executor="inline", selection=Selection(shard=(i, 2)))) for i in range(2)]
    assert sum(x.trajectories for x in shards) == 5
    merged = sorted(_records(shards[0].run_dir, "trajectories") + _records(shards[1].run_dir, "trajectories"))
    whole = execute(str(tmp_path / "whole"), [suite], SYSTEMS[:1], JUDGES, RunOptions(executor="inline"))
    assert merged == _records(whole.run_dir, "trajectories")


_KILL_SCRIPT = """
import sys
from bench import registry
from tests.fakes.components import BrightenSystem, MeanDiffJudge
registry.register("systems", "fake-brighten", BrightenSystem)
registry.register("judges", "fake-diff", MeanDiffJudge)
from bench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _cli_subprocess(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "EDITBENCH_PROGRESS": "0"}
    return subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path, suite):
    args = ["run", "--suite", suite.root, "--system", "fake-brighten:delay=0.15", "--system", "fake-brighten:factor=0.5,delay=0.15",
            "--judge", "fake-diff", "--executor", "inline", "--no-leaderboard", "--name", "k"]
    proc = _cli_subprocess([*args, "--runs-dir", str(tmp_path / "killed")], tmp_path)
    traj = tmp_path / "killed" / "k" / "trajectories.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:
        if traj.exists() and traj.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = traj.read_bytes().count(b"\n")
    assert 3 <= done_before < 10
    resumed = _cli_subprocess([*args, "--runs-dir", str(tmp_path / "killed")], tmp_path)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    clean = _cli_subprocess([*args, "--runs-dir", str(tmp_path / "clean")], tmp_path)
    clean.communicate(timeout=120)
    for name in ("trajectories", "judgements", "samples"):
        assert _records(tmp_path / "killed" / "k", name) == _records(tmp_path / "clean" / "k", name)


def test_cli_exit_codes(tmp_path, suite, capsys):
    base = ["run", "--suite", suite.root, "--judge", "fake-diff", "--executor", "inline", "--no-leaderboard",
            "--runs-dir", str(tmp_path / "runs")]
    assert main([*base, "--system", "fake-brighten"]) == 0
    assert main([*base, "--system", "fake-brighten:fail_on=s1"]) == 1
    capsys.readouterr()
    assert main([*base, "--system", "fake-brigten"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'fake-brighten'" in err and "Traceback" not in err and err.count("\n") == 1
    assert main([*base, "--system", "fake-brighten:nope=1"]) == 2
    assert main(["run", "--suite", str(tmp_path / "nowhere"), "--no-leaderboard"]) == 2
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert main(["run", "--bogus-flag"]) == 2
    cfg = tmp_path / "run.yaml"
    cfg.write_text("suites: [x]\nsystem: [edit-only]\n")
    assert main(["run", "--config", str(cfg)]) == 2
    assert "did you mean 'systems'" in capsys.readouterr().err


def test_cli_config_file_and_report(tmp_path, suite, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"suites: [{suite.root}]\nsystems: [fake-brighten, {{name: fake-brighten, factor: 0.5}}]\n"
        f"judges: [fake-diff]\nrunner_unused: 1\n".replace("runner_unused: 1\n", "")
        + f"runs_dir: {tmp_path / 'runs'}\nexecutor: inline\nleaderboard: false\n"
    )
    assert main(["run", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    run_dir = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("run: ")][0]
    assert main(["report", run_dir, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and all(r["n"] == 5 and r["unscored"] == 0 for r in rows)
    assert rows[0]["mean"] <= rows[1]["mean"]  # lower is better for diff: best first
