"""The README's two commands are the ones CI and a newcomer run: keep them true."""

import re
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Install and the two commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_ci_runs_the_readme_test_command():
    cmds = _commands()
    test_cmd = [c for c in cmds if "pytest" in c]
    assert len(test_cmd) == 1
    assert test_cmd[0] in (ROOT / ".ci" / "run").read_text()


def test_readme_default_command_is_a_real_cli_invocation():
    run_cmd = [c for c in _commands() if "editbench run" in c]
    assert run_cmd and run_cmd[0].endswith("editbench run")
    from bench.cli import cli

    result = CliRunner().invoke(cli, ["run", "--help"])
    assert result.exit_code == 0 and "offline default" in result.output


def test_readme_names_only_registered_components():
    from bench import registry

    text = (ROOT / "README.md").read_text()
    table = text.split("## What is built in", 1)[1].split("### The offline default", 1)[0]
    for kind, row in (("suites", "| suites |"), ("systems", "| systems |"), ("judges", "| judges |")):
        line = next(ln for ln in table.splitlines() if ln.startswith(row))
        names = re.findall(r"`([a-z][a-z0-9-]+)`", line.split("|")[2])
        assert names, kind
        known = set(registry.names(kind))
        assert set(names) <= known, (kind, set(names) - known)
