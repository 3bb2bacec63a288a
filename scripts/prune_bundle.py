"""Prune the bundled registry to what a new user needs (docs/bundle.md).

Keeps the default of every label (its ``latest``, which must also be its ``best``) plus the
versions named by ``--keep``, and removes every other version with :meth:`Registry.remove`:
the artifact directory goes, its number is recorded in the label's ``.retired.json`` (never
reused by a later publish) and ``index.json`` is rewritten. Published files of the kept
versions are not touched.

    python scripts/prune_bundle.py --dry-run
    python scripts/prune_bundle.py --keep qqbar-zz-4l/2d/f11/L--@1 --keep qqbar-zz-4l/8d/f11/LLL@1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.labels import as_label
from zoo.registry.registry import Registry

BUNDLED = Path(__file__).resolve().parents[1] / "registry" / "bundled"


def plan(reg: Registry, keep: list[str]) -> tuple[list[str], list[str]]:
    """(kept, removed) ``key@version`` lists; exits if a label's latest is not its best."""
    extra = {as_label(k).key: set() for k in keep}
    for k in keep:
        lab = as_label(k)
        if not isinstance(lab.selector, int):
            sys.exit(f"--keep needs an explicit version, e.g. {lab.key}@1; got {k}")
        extra[lab.key].add(lab.selector)
    kept, removed = [], []
    for entry in reg.list(all_versions=True):
        key, v = entry["key"], entry["version"]
        latest = int(reg.resolve(f"{key}@latest").selector)  # type: ignore[arg-type]
        best = int(reg.resolve(f"{key}@best").selector)  # type: ignore[arg-type]
        if latest != best:
            sys.exit(f"{key}: latest @{latest} is not best @{best}; publish or choose first")
        (kept if v == latest or v in extra.get(key, ()) else removed).append(f"{key}@{v}")
    return kept, removed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--registry", default=str(BUNDLED), help="Registry to prune (default: the bundle).")
    ap.add_argument("--keep", action="append", default=[], metavar="LABEL@V",
                    help="Also keep this version (repeatable).")
    ap.add_argument("--dry-run", action="store_true", help="Print the plan, remove nothing.")
    args = ap.parse_args(argv)
    reg = Registry(args.registry)
    kept, removed = plan(reg, args.keep)
    for lab in kept:
        print(f"keep    {lab}")
    for lab in removed:
        print(f"remove  {lab}")
        if not args.dry_run:
            reg.remove(lab)
    print(f"{len(kept)} kept, {len(removed)} {'to remove' if args.dry_run else 'removed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
