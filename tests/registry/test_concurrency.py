"""Crash safety and concurrent writers, with real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.registry.helpers import LABEL, MakeArtifact
from zoo.registry.registry import Registry
from zoo.registry.stores.base import PAUSE_ENV, PAUSE_MARKER

PUBLISH = (
    "import sys\n"
    "from zoo.registry.registry import Registry\n"
    "reg = Registry(sys.argv[1])\n"
    "for src in sys.argv[2:]:\n"
    "    print(reg.publish(src), flush=True)\n"
)


def _spawn(root: Path, *sources: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", PUBLISH, str(root), *map(str, sources)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )


def test_killed_publish_leaves_no_half_version(tmp_path: Path, make_artifact: MakeArtifact
                                               ) -> None:
    root = tmp_path / "reg"
    reg = Registry(root)
    reg.publish(make_artifact(seed=0))
    v1 = reg.verify_files(f"{LABEL}@1")
    with _spawn(root, make_artifact(seed=1), env={PAUSE_ENV: "60"}) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # the hook paused after half of the files
            assert line.strip() == PAUSE_MARKER, proc.stderr.read() if proc.stderr else line
            label_dir = root / "artifacts" / LABEL
            temps = [p for p in label_dir.iterdir() if p.name.startswith(".tmp-")]
            assert temps and any(p.is_file() for p in temps[0].rglob("*"))
            assert reg.versions(LABEL) == [1]  # the half copy is invisible
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert reg.versions(LABEL) == [1]
    assert [e["label"] for e in reg.list(all_versions=True)] == [f"{LABEL}@1"]
    assert reg.verify_files(f"{LABEL}@1") == v1  # the previous version is untouched
    assert reg.publish(make_artifact(seed=2)).selector == 2  # the lock was released
    reg.verify_files(f"{LABEL}@2")
    assert sorted(p.name for p in label_dir.iterdir()) == ["1", "2"]  # stale temp cleaned


def test_two_processes_publish_concurrently(tmp_path: Path, make_artifact: MakeArtifact) -> None:
    root = tmp_path / "reg"
    sources = [make_artifact(seed=i) for i in range(10)]
    procs = [_spawn(root, *sources[:5]), _spawn(root, *sources[5:])]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs += out.split()
    assert sorted(outputs) == sorted(f"{LABEL}@{v}" for v in range(1, 11))
    reg = Registry(root)
    assert reg.versions(LABEL) == list(range(1, 11))
    seeds = set()
    for v in range(1, 11):
        manifest = reg.verify_files(f"{LABEL}@{v}")
        seeds.add(manifest["files"]["model/model.safetensors"]["sha256"])
    assert len(seeds) == 10  # every publish landed as its own intact version
    index = json.loads((root / "index.json").read_text())
    assert reg.reindex() == 10
    rebuilt = json.loads((root / "index.json").read_text())
    assert index["labels"] == rebuilt["labels"]


def test_threads_publish_concurrently(tmp_path: Path, make_artifact: MakeArtifact) -> None:
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path / "reg"
    sources = [make_artifact(seed=i) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        labels = list(pool.map(lambda src: Registry(root).publish(src), sources))
    assert sorted(lab.selector for lab in labels) == list(range(1, 9))
    reg = Registry(root)
    assert [e["version"] for e in reg.list(all_versions=True)] == list(range(1, 9))
