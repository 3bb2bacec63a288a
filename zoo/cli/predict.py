"""The ``zoo predict`` command and ``zoo generate --dask``: streaming, resumable, distributed."""

from __future__ import annotations

import click
import numpy as np

from zoo import errors


@click.command("predict")
@click.argument("name")
@click.option("--input", "input_path", required=True, type=click.Path(),
              help="Points: PATH.zarr (x, optional f00), PATH.npz (x, optional f00) or PATH.csv.")
@click.option("--output", "output", required=True, type=click.Path(),
              help="Output Zarr group (array y); rerunning resumes it.")
@click.option("--chunk", type=int, default=65_536, show_default=True, help="Rows per chunk.")
@click.option("--registry", "registry_url", default=None)
@click.option("--dask", "scheduler", default=None, metavar="ADDRESS|local",
              help="Distribute the chunks of a Zarr input over Dask workers.")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Workers of --dask local.")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda[:N]",
              help="Where a network runs (auto: a CUDA GPU when torch sees one).")
@click.option("--header/--no-header", "header", default=None,
              help="CSV input: the first line names the columns (--header) or is a point "
                   "(--no-header). Default: a header exactly when a first-line field is not "
                   "a number.")
@click.option("--uncertainty", is_flag=True,
              help="Also write sigma: the calibrated one-standard-deviation uncertainty of y.")
@click.option("--rtol", type=float, default=None, metavar="R",
              help="Guarded prediction: the exact function of the process answers wherever the "
                   "model cannot vouch for a relative error <= R; writes an 'exact' column.")
def predict_cmd(name: str, input_path: str, output: str, chunk: int, registry_url: str | None,
                scheduler: str | None, workers: int, device: str, header: bool | None,
                uncertainty: bool, rtol: float | None) -> None:
    """Predict NAME at the points of --input into a Zarr --output, chunk by chunk.

    Memory stays bounded for Zarr inputs; finished chunks are recorded, so an
    interrupted run resumes where it stopped. With --dask the workers load NAME from the
    same registry (ZOO_HOME is passed along). --uncertainty adds the array sigma, --rtol
    the guarded values and the bool array exact (a model without a calibrated uncertainty,
    or a label without an exact process, is refused before anything is written).
    """
    from zoo.runtime import distributed

    try:
        source = distributed.open_points(input_path, distributed.label_helicity(name),
                                         header=header)
    except errors.InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--input") from exc
    from zoo.progress import task

    amp = None
    if not scheduler or uncertainty or rtol is not None:
        from zoo.api import load

        try:
            amp = load(name, registry=registry_url, device="cpu" if scheduler else device)
        except errors.ConfigError as exc:
            raise click.BadParameter(str(exc), param_hint="--device") from exc
        if uncertainty or rtol is not None:  # refuse before the output exists
            x0, f0 = source.rows(0, min(1, source.n))
            distributed.amplitude_predictor(amp, uncertainty=uncertainty, rtol=rtol)(x0, f0)
    with task(f"predicting {name}", total=source.n) as advance:
        if scheduler:
            meta = distributed.dask_predict(name, input_path, output, scheduler=scheduler,
                                            registry=registry_url, chunk=chunk,
                                            n_workers=workers, on_chunk=advance,
                                            uncertainty=uncertainty, rtol=rtol)
        else:
            meta = distributed.predict_file(amp, input_path, output, chunk=chunk,
                                            on_chunk=advance, header=header,
                                            uncertainty=uncertainty, rtol=rtol)
    state = "complete" if meta["complete"] else "incomplete (rerun to resume)"
    head = {True: ", first line taken as a header", False: ", no header line"}.get(
        source.header, "")
    extra = (" with sigma" if uncertainty else "") + (
        f", guarded at rtol {rtol:g} (array exact)" if rtol is not None else "")
    click.echo(f"read {source.n} points from {input_path}{head}; wrote "
               f"{meta.get('n_written', meta['n'])} predictions of {meta['label']}{extra} to "
               f"{output}: {state}")
    if rtol is not None and meta["complete"]:
        import zarr

        arr = zarr.open_group(output, mode="r")["exact"]
        n_exact = sum(int(np.count_nonzero(arr[lo:lo + chunk]))
                      for lo in range(0, source.n, chunk))
        click.echo(f"{n_exact} of {source.n} points answered by the exact function")


def add_dask_generate(generate_cmd: click.Command) -> click.Command:
    """Give ``zoo generate`` the options ``--dask`` and ``--workers`` (same semantics)."""
    original = generate_cmd.callback

    def callback(process: str, n: int, seed: int, out: str, terms: str | None, chunk: int,
                 sampling: str = "uniform", scheduler: str | None = None,
                 workers: int = 2) -> None:
        if not scheduler:
            return original(process=process, n=n, seed=seed, out=out, terms=terms, chunk=chunk,
                            sampling=sampling)
        from zoo.runtime.distributed import dask_generate

        key = "/".join(process.split("/")[:2])
        from zoo.progress import task

        with task(f"generating {key} on dask", total=n) as advance:
            meta = dask_generate(key, out, n=n, seed=seed, chunk=chunk, scheduler=scheduler,
                                 sampling=sampling,
                                 terms=terms.split(",") if terms else None, n_workers=workers,
                                 on_chunk=advance)
        click.echo(f"wrote {n} points of {key} to {out} on dask "
                   f"(provenance {meta['provenance'][:16]}...)")

    if any(p.name == "scheduler" for p in generate_cmd.params):
        return generate_cmd  # already extended
    generate_cmd.params.append(click.Option(
        ["--dask", "scheduler"], default=None, metavar="ADDRESS|local",
        help="Compute the chunks on Dask workers (a scheduler address, or local)."))
    generate_cmd.params.append(click.Option(
        ["--workers"], type=int, default=2, show_default=True, help="Workers of --dask local."))
    generate_cmd.callback = callback
    return generate_cmd


def register_commands(cli: click.Group) -> None:
    """Add ``predict`` and ``--dask`` on ``generate`` (call after the job commands)."""
    cli.add_command(predict_cmd)
    gen = cli.commands.get("generate")
    if gen is not None:
        add_dask_generate(gen)
