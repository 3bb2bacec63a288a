"""The ``zoo`` command line.

Exit codes: 0 success; 1 an error the message explains (with its fix); 2 usage error
(bad option, malformed label); 3 not found (unknown label, version, alias or plugin);
4 integrity or verification failure (hash mismatch, re-prediction off tolerance);
130 interrupted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from zoo import errors

EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_INTEGRITY = 1, 2, 3, 4


def _exit_code(exc: errors.ZooError) -> int:
    if isinstance(exc, errors.LabelSyntaxError | errors.ConfigError):
        return EXIT_USAGE
    if isinstance(exc, errors.UnknownLabelError | errors.UnknownPluginError):
        return EXIT_NOT_FOUND
    if isinstance(exc, errors.IntegrityError | errors.VerificationError):
        return EXIT_INTEGRITY
    return EXIT_ERROR


class ZooGroup(click.Group):
    """Turns ZooErrors into one-line messages and documented exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.ZooError as exc:
            click.secho(f"error: {exc}", err=True, fg="red")
            ctx.exit(_exit_code(exc))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


def _console():
    """A rich console; when not writing to a terminal, wide enough not to wrap labels."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=200)


def _registry(url: str | None):
    from zoo.api import local_registry

    return local_registry(url)


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="amplitude-zoo", prog_name="zoo")
@click.option("-v", "--verbose", count=True,
              help="More messages on stderr (-v: debug, e.g. per-iteration training metrics).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """amplitude-zoo: train, store, find and evaluate high-precision amplitude regressors.

    Labels read PROCESS/<D>d/TERM/HELICITY[@VERSION|ALIAS], e.g. qqbar-zz-4l/8d/f11/LLR@best.
    Results go to stdout; progress and log messages to stderr (plain lines with rate and
    ETA when stderr is not a terminal). Listing and reporting verbs take --json.
    """
    from zoo.progress import configure_logging

    configure_logging(-1 if quiet else verbose)


# -- plugins ------------------------------------------------------------------------------
@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins and what each registers."""
    from zoo import plugin_manager

    infos = plugin_manager.plugins()
    if as_json:
        click.echo(json.dumps([vars(i) for i in infos], indent=2))
        return
    from rich.table import Table

    table = Table(title="zoo plugins (entry-point group 'zoo')")
    for col in ("plugin", "module", "distribution", "registers"):
        table.add_column(col)
    for info in infos:
        regs = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(info.registered.items()))
        table.add_row(info.name, info.module, f"{info.distribution} {info.version}", regs or "-")
    _console().print(table)


# -- registry -----------------------------------------------------------------------------
def _fmt_frac(v: Any) -> str:
    return f"{100 * v:.3f}%" if isinstance(v, int | float) else "-"


@cli.command("list")
@click.argument("pattern", default="*")
@click.option("--where", "where", multiple=True, metavar="FIELD OP VALUE",
              help="Filter on card fields, e.g. 'metrics.test.frac_lt_1pct>=0.99', "
                   "'disk_size_bytes<=2e6' or a calibration field 'coverage_2sigma>=0.9' "
                   "(short for uncertainty.coverage_2sigma). Repeatable.")
@click.option("--all-versions", is_flag=True,
              help="Every version, not only each registry's latest (and the best).")
@click.option("--registry", "registry_url", default=None, help="Registry path or URL (default: local + bundled).")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(pattern: str, where: tuple[str, ...], all_versions: bool, registry_url: str | None,
             as_json: bool) -> None:
    """List stored amplitudes matching PATTERN (fnmatch wildcards per label field).

    Local and bundled entries are shown together: per label one `latest` mark (what a
    label without selector loads: the local latest if stored locally) and one `best` mark
    (what @best loads, compared across both registries).
    """
    from zoo.api import list_models

    entries = list_models(pattern, where=where, all_versions=all_versions, registry=registry_url)
    if as_json:
        click.echo(json.dumps(entries, indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title=f"amplitudes matching {pattern!r}")
    for col in ("label", "aliases", "regressor", "params", "dtype", "<1%", "<0.1%", "2σ cover",
                "disk", "registry"):
        table.add_column(col)
    for e in entries:
        card = e["card"]
        test = card.get("metrics", {}).get("test", {})
        table.add_row(
            e["label"], ",".join(e.get("aliases", [])) or "-", card.get("regressor", {}).get("name", "?"),
            str(card.get("n_parameters", "?")), str(card.get("dtype", "?")),
            _fmt_frac(test.get("frac_lt_1pct")), _fmt_frac(test.get("frac_lt_0p1pct")),
            _fmt_frac((card.get("uncertainty") or {}).get("coverage_2sigma")),
            _fmt_bytes(card.get("disk_size_bytes")), _where(e["registry"]),
        )
    _console().print(table)
    if not entries:
        click.echo("no stored amplitude matches; train one with `zoo train` or fetch one with `zoo fetch`",
                   err=True)


def _fmt_bytes(n: Any) -> str:
    if not isinstance(n, int | float):
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


@cli.command("show")
@click.argument("name")
@click.option("--registry", "registry_url", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the whole card as JSON.")
def show_cmd(name: str, registry_url: str | None, as_json: bool) -> None:
    """Show the card of NAME: provenance, plugins, hyperparameters, metrics."""
    from zoo.api import load

    amp = load(name, registry=registry_url, verify=False)
    card = amp.card
    if as_json:
        click.echo(json.dumps(card, indent=2, sort_keys=True))
        return
    from rich.table import Table

    from zoo.training.metrics import format_table

    console = _console()
    head = Table(show_header=False, title=f"{amp.label}")
    head.add_column("field")
    head.add_column("value")
    if amp.label.base != amp.canonical.base:
        head.add_row("resolved via", f"{amp.canonical} ({amp.resolution.element.name})")
    reg = card.get("regressor", {})
    rows = [
        ("regressor", f"{reg.get('name')} v{reg.get('version')} ({reg.get('distribution')} "
                      f"{reg.get('distribution_version')})"),
        ("hyperparameters", json.dumps(reg.get("params", {}))),
        ("transforms", " -> ".join(t["name"] + json.dumps(t.get("params", {})) for t in card.get("transforms", [])) or "-"),
        ("parameters", str(card.get("n_parameters"))),
        ("dtype", str(card.get("dtype"))),
        ("disk size", _fmt_bytes(card.get("disk_size_bytes"))),
        ("data provenance", str(card.get("data", {}).get("provenance"))),
        ("data", json.dumps({k: v for k, v in card.get("data", {}).items() if k.startswith("n_")})),
        ("training time", f"{card.get('training_time_s', '-')} s"),
        ("throughput", f"{card.get('throughput_points_per_s', '-')} points/s"),
        ("created", f"{card.get('created_at')} (zoo {card.get('zoo_version')})"),
        ("published", f"{card.get('published_at', '-')} as version {card.get('version', '-')}"),
        ("registry", amp.registry_url),
    ]
    unc = card.get("uncertainty")
    if isinstance(unc, dict) and "calibration_scale" in unc:
        fracs = ", ".join(f"{k} {100 * v:.2f}%" for k, v in unc.get("exact_fraction", {}).items())
        rows.append(("uncertainty", (
            f"coverage 1σ {100 * unc['coverage_1sigma']:.1f}%, 2σ {100 * unc['coverage_2sigma']:.1f}%; "
            f"pulls mean {unc['pull_mean']:.3g} width {unc['pull_width']:.3g}; sharpness "
            f"{unc['sharpness']:.3g}; k {unc.get('vouch_k', '-')}; exact at rtol {fracs}; "
            f"{unc['n_calibration']} points: {unc['calibration_source']}")))
    for k, v in rows:
        head.add_row(k, v)
    console.print(head)
    test = card.get("metrics", {}).get("test")
    if test:
        console.print(format_table(test, None))


@cli.command("verify")
@click.argument("name", required=False)
@click.option("--all", "all_", is_flag=True, help="Verify every stored version (local and bundled).")
@click.option("--registry", "registry_url", default=None)
@click.option("--json", "as_json", is_flag=True,
              help='One JSON list: [{"label", "registry", "ok", "error"}].')
def verify_cmd(name: str | None, all_: bool, registry_url: str | None, as_json: bool) -> None:
    """Check hashes and re-predict the reference points of NAME (or --all).

    NAME is checked exactly as stored when it is stored (any version or alias), else
    through the canonical version that answers it. --all checks every stored version of
    every registry, reports each, and exits 4 if any failed.
    """
    from zoo import api

    if bool(name) == all_:
        raise click.UsageError("give either NAME or --all")
    if name:
        try:
            lab = api.verify(name, registry=registry_url)
        except errors.ZooError as exc:
            if as_json:
                click.echo(json.dumps([{"label": name, "registry": None, "ok": False,
                                        "error": str(exc)}], indent=2))
            raise
        click.echo(json.dumps([{"label": str(lab), "registry": None, "ok": True, "error": None}],
                              indent=2) if as_json else f"ok      {lab}")
        return
    report = []
    for reg in api.search_order(registry_url):
        for entry in reg.list(all_versions=True):
            row = {"label": entry["label"], "registry": reg.url, "ok": True, "error": None}
            try:
                api.verify_in(reg, reg.resolve(entry["label"]))
                if not as_json:
                    click.echo(f"ok      {entry['label']}  ({_where(reg.url)})")
            except errors.ZooError as exc:
                row.update(ok=False, error=str(exc))
                if not as_json:
                    click.secho(f"FAILED  {entry['label']}  ({_where(reg.url)}): {exc}",
                                fg="red", err=True)
            report.append(row)
    failed = sum(not r["ok"] for r in report)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    elif not report:
        click.echo("nothing to verify")
    else:
        click.echo(f"verified {len(report)} versions: {len(report) - failed} ok, {failed} failed")
    if failed:
        sys.exit(EXIT_INTEGRITY)


def _where(url: str) -> str:
    """How a listing names a registry: bundled, local (a path) or its URL."""
    from zoo.api import bundled_registry

    if url == bundled_registry().url:
        return "bundled"
    return "local" if url.startswith("file://") else url


@cli.command("export")
@click.argument("name")
@click.option("--to", "to", required=True, type=click.Path(dir_okay=True), help="Output file or folder.")
@click.option("--format", "fmt", default="bundle", show_default=True,
              help="bundle (tar.gz of the artifact) or an exporter plugin's name (e.g. onnx).")
@click.option("--registry", "registry_url", default=None)
def export_cmd(name: str, to: str, fmt: str, registry_url: str | None) -> None:
    """Export NAME as a self-contained bundle or through an exporter plugin."""
    from zoo import plugin_manager
    from zoo.api import load

    if fmt == "bundle":
        from zoo.api import locate

        reg, lab, _ = locate(name, registry=registry_url)
        out = reg.export_bundle(lab, to)
        click.echo(f"exported {lab} to {out}")
        return
    exporter = plugin_manager.get("exporters", fmt)
    amp = load(name, registry=registry_url)
    out = exporter(amp, Path(to))
    click.echo(f"exported {name} as {fmt} to {out}{_onnx_outputs(amp, Path(out))}")


def _onnx_outputs(amp: Any, out: Path) -> str:
    """For an ONNX file: which outputs it has and, without sigma, why not."""
    if out.suffix != ".onnx" or not out.is_file():
        return ""
    import onnx

    from zoo.runtime.onnx_export import sigma_status

    names = [o.name for o in onnx.load(str(out), load_external_data=False).graph.output]
    if "sigma" in names:
        return f" (outputs {', '.join(names)}: sigma is the calibrated uncertainty of y)"
    why = sigma_status(amp.model) or "its plugin refused the ONNX form of its uncertainty"
    return f" (output {', '.join(names)} only, no sigma: {why})"


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--registry", "registry_url", default=None)
def import_cmd(path: str, registry_url: str | None) -> None:
    """Import a bundle (tar.gz) as a new version; hashes are checked, unsafe paths refused."""
    from zoo.progress import get_logger, task

    get_logger().info("importing %s: checking every member, then extracting and verifying",
                      path)
    with task(f"importing {Path(path).name}", unit="bytes") as advance:
        lab = _registry(registry_url).import_bundle(path, on_bytes=advance)
    click.echo(f"imported {lab}")


@cli.command("fetch")
@click.argument("name")
@click.option("--from", "source", default=None, help="Registry URL or path (default: the bundled registry).")
@click.option("--registry", "registry_url", default=None, help="Destination (default: local registry).")
def fetch_cmd(name: str, source: str | None, registry_url: str | None) -> None:
    """Copy NAME from a remote or the bundled registry into the local one (hashes checked)."""
    from zoo import resolver
    from zoo.api import bundled_registry
    from zoo.labels import parse
    from zoo.registry.registry import Registry

    lab = parse(name)
    canon = resolver.resolve(lab).canonical.with_selector(lab.selector)
    from zoo.progress import get_logger, task

    src = bundled_registry() if source is None else Registry(source)
    resolved = src.resolve(canon)
    size = src.card(resolved).get("disk_size_bytes")
    get_logger().info("fetching %s from %s", resolved, src.url)
    with task(f"fetching {resolved}", total=size, unit="bytes") as advance:
        got = _registry(registry_url).fetch(resolved, src, on_bytes=advance)
    via = "" if canon.base == lab.base else f" (canonical label of {lab.key})"
    click.echo(f"fetched {got}{via} from {src.url}")


@cli.command("rm")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--registry", "registry_url", default=None)
def rm_cmd(name: str, yes: bool, registry_url: str | None) -> None:
    """Remove one published version NAME@VERSION from the local registry."""
    from zoo.labels import parse

    lab = parse(name)
    if not isinstance(lab.selector, int):
        raise errors.LabelSyntaxError(f"zoo rm needs an explicit version, e.g. {lab.key}@1")
    reg = _registry(registry_url)
    reg.resolve(lab)
    if not yes and not click.confirm(f"remove {lab} from {reg.url}?", default=False):
        click.echo("kept")
        sys.exit(EXIT_ERROR)
    reg.remove(lab)
    click.echo(f"removed {lab}")


@cli.command("reindex")
@click.option("--registry", "registry_url", default=None)
def reindex_cmd(registry_url: str | None) -> None:
    """Rebuild the registry index from the cards on disk."""
    n = _registry(registry_url).reindex()
    click.echo(f"indexed {n} versions")


@cli.command("alias")
@click.argument("name")
@click.argument("alias")
@click.option("--remove", is_flag=True, help="Remove the alias instead.")
@click.option("--registry", "registry_url", default=None)
def alias_cmd(name: str, alias: str, remove: bool, registry_url: str | None) -> None:
    """Point ALIAS at NAME@VERSION (or --remove it)."""
    from zoo.labels import parse

    reg = _registry(registry_url)
    lab = parse(name)
    if remove:
        reg.remove_alias(lab.base, alias)
        click.echo(f"removed alias {alias} of {lab.key}")
    else:
        if not isinstance(lab.selector, int):
            lab = reg.resolve(lab)
        reg.set_alias(lab, alias)
        click.echo(f"{lab.key}@{alias} -> {lab.selector}")


@cli.command("resolve")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True,
              help='{"requested", "canonical", "via", "canonical_is_requested"}.')
def resolve_cmd(name: str, as_json: bool) -> None:
    """Show the canonical label and coordinate map answering NAME."""
    from zoo import resolver

    res = resolver.resolve(name)
    if as_json:
        click.echo(json.dumps({"requested": str(res.requested), "canonical": str(res.canonical),
                               "via": res.element.name,
                               "canonical_is_requested": bool(res.is_canonical)}, indent=2))
        return
    click.echo(f"{res.requested} -> {res.canonical} via {res.element.name}")


def main() -> None:
    from zoo import plugin_manager
    from zoo.cli.jobs import register_jobs
    from zoo.cli.predict import register_commands

    register_jobs(cli)
    register_commands(cli)
    try:
        plugin_manager.add_commands(cli)
    except errors.ZooError as exc:
        click.secho(f"error: {exc}", err=True, fg="red")
        sys.exit(_exit_code(exc))
    cli(prog_name="zoo")


if __name__ == "__main__":
    main()
