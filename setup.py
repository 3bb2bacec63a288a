"""Build hook: a wheel ships ``registry/bundled`` packed as one tar.xz.

See ``registry/packed.py`` (why, and how it is unpacked on first use) and docs/bundle.md.
Editable installs keep reading the folder in the source tree.
"""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPy(build_py):
    def run(self) -> None:
        folder = Path(self.build_lib) / "zoo" / "registry" / "bundled"
        editable = getattr(self, "editable_mode", False)
        if not editable:
            shutil.rmtree(folder, ignore_errors=True)  # no stale files of an earlier build
        super().run()
        if editable or not folder.is_dir():
            return
        spec = importlib.util.spec_from_file_location("_zoo_packed", HERE / "registry" / "packed.py")
        packed = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(packed)
        packed.pack(folder, folder.parent / packed.ARCHIVE)
        shutil.rmtree(folder)


setup(cmdclass={"build_py": BuildPy})
