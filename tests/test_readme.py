"""The README as a test: every command of its code blocks runs, in order, so it cannot rot.

* The set-up block is what CI runs: each of its commands must appear verbatim in
  ``.ci/run`` (which installs from scratch; running it here would reinstall the package).
* The command-line block runs line by line in one fresh ``ZOO_HOME`` and working directory,
  ``.venv/bin/zoo`` replaced by this interpreter's ``python -m zoo.cli``, with these size
  substitutions (the commands' own options, nothing hidden in the product):
  ``--n`` at most 3,000 (16 for the edge-dense 2D sample, ~70 points/s), the paper-format
  training with ``--param epochs=1`` (skipped without ``../shared/data``), and the remote
  registry URL pointed at a local HTTP server that serves the test's own registry.
* The Python blocks run as scripts in the same ``ZOO_HOME`` (the plugin template must at
  least import and register nothing at import time).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared" / "data"
SMALL = {"--sampling edges": 16}
MAX_N = 3_000


def blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced code block, in order."""
    return [(m.group(1), m.group(2))
            for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)]


def small(line: str) -> str:
    """The command at test size: ``--n N`` capped (see the module docstring)."""
    cap = next((v for k, v in SMALL.items() if k in line), MAX_N)
    return re.sub(r"--n (\d+)", lambda m: f"--n {min(int(m.group(1)), cap)}", line)


def test_readme_blocks_are_all_covered() -> None:
    langs = [lang for lang, _ in blocks(README.read_text())]
    assert langs.count("bash") == 2 and langs.count("python") == 2, langs
    assert set(langs) <= {"bash", "python", ""}, "a new kind of block needs a runner here"


def test_setup_block_is_what_ci_runs() -> None:
    setup = blocks(README.read_text())[0][1]
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in setup.splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert len(commands) == 2
    for command in commands:
        assert command in ci, f"README set-up command not run by CI: {command}"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_readme_commands_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.registry.helpers import serve_directory

    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    (work / "configs").symlink_to(ROOT / "configs")
    env = {**os.environ, "ZOO_HOME": str(home), "ZOO_PROGRESS_INTERVAL": "30",
           "PYTHONPATH": str(ROOT)}
    zoo_cmd = f"{shlex.quote(sys.executable)} -m zoo.cli"
    text = README.read_text()
    cli_block = next(body for lang, body in blocks(text) if lang == "bash"
                     and ".venv/bin/zoo plugins" in body)
    python_blocks = [body for lang, body in blocks(text) if lang == "python"]
    ran = []
    with serve_directory(home if home.exists() else _mk(home)) as url:
        for raw in cli_block.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            line = re.sub(r"\s+#.*$", "", line)  # the trailing comment (no '#' in a command)
            cmd = small(line).replace(".venv/bin/zoo", zoo_cmd)
            if "configs/paper8d" in cmd:
                if not SHARED.is_dir():
                    continue
                # the config's data paths are relative to the repository's configs/
                cmd = cmd.replace("configs/", f"{ROOT}/configs/") + " --param epochs=1"
            cmd = cmd.replace("https://example.org/zoo", url)
            t0 = time.perf_counter()
            proc = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, capture_output=True,
                                  text=True, timeout=600)
            print(f"{time.perf_counter() - t0:7.1f} s  {line[:100]}")
            assert proc.returncode == 0, (
                f"README command failed: {line}\n(run as: {cmd})\nstdout:\n{proc.stdout[-3000:]}"
                f"\nstderr:\n{proc.stderr[-3000:]}")
            ran.append(line)
    assert any("zoo demo" in r for r in ran) and any("--dask local" in r for r in ran)
    for body in python_blocks:
        proc = subprocess.run([sys.executable, "-c", body], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"README Python block failed:\n{body}\n{proc.stderr[-3000:]}"


def _mk(path: Path) -> Path:
    path.mkdir(parents=True)
    return path
