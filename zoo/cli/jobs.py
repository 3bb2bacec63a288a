"""The ``zoo`` commands that compute: generate, train, evaluate, demo."""

from __future__ import annotations

import json

import click

from zoo import errors


@click.command("generate")
@click.argument("process")
@click.option("--n", "n", type=int, required=True, help="Number of points.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out", type=click.Path(), required=True, help="Output Zarr group (PATH.zarr).")
@click.option("--terms", default=None, help="Comma-separated terms (default: all of the process).")
@click.option("--chunk", type=int, default=65_536, show_default=True, help="Rows per chunk.")
@click.option("--sampling", default="uniform", show_default=True, metavar="uniform|edges:F",
              help="Point density: uniform (test sets), or F times denser at the faces of the "
                   "domain than at its centre (training sets for local fits, e.g. edges:10).")
def generate_cmd(process: str, n: int, seed: int, out: str, terms: str | None, chunk: int,
                 sampling: str = "uniform") -> None:
    """Generate N points of PROCESS (e.g. qqbar-zz-4l/8d) into a Zarr group; resumable."""
    from zoo import plugin_manager
    from zoo.training.generate import generate

    key = "/".join(process.split("/")[:2])
    proc = plugin_manager.get("processes", key)
    from zoo.progress import task

    with task(f"generating {key}", total=n) as advance:
        meta = generate(proc, out, n=n, seed=seed, chunk=chunk, sampling=sampling,
                        terms=terms.split(",") if terms else None, on_chunk=advance)
    click.echo(f"wrote {n} points of {key} to {out} (provenance {meta['provenance'][:16]}...)")


def _apply_overrides(cfg, regressor, params, transforms):
    from zoo.training.loop import TrainConfig

    raw = cfg.__dict__.copy() if cfg else {}
    if regressor:
        raw["regressor"] = regressor
    if params:
        raw.setdefault("params", {})
        raw["params"] = {**raw["params"], **{k: _parse_value(v) for k, v in (p.split("=", 1) for p in params)}}
    if transforms:
        raw["transforms"] = [{"name": t} for t in transforms.split(",") if t]
    return TrainConfig.from_dict(raw)


def _parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.command("train")
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False), help="TOML training config.")
@click.option("--label", default=None, help="Canonical label to train (overrides the config).")
@click.option("--data", default=None, help="Data path (default: generate from the process).")
@click.option("--test-data", default=None, help="Separate test data path.")
@click.option("--source", default=None, help="Reader name (default: sniffed).")
@click.option("--regressor", default=None, help="Regressor plugin name.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Hyperparameter override.")
@click.option("--transforms", default=None, help="Comma-separated transform chain (no params).")
@click.option("--n", type=int, default=None, help="Generated points when no data is given.")
@click.option("--seed", type=int, default=None)
@click.option("--checkpoint-dir", default=None, type=click.Path(), help="Periodic checkpoints here.")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --checkpoint-dir.")
@click.option("--publish/--no-publish", default=False, help="Publish into the registry when done.")
@click.option("--registry", "registry_url", default=None)
@click.option("--alias", "aliases", multiple=True, help="Alias(es) to set on the published version.")
@click.option("--save", "save_dir", default=None, type=click.Path(), help="Also write the artifact here.")
def train_cmd(config, label, data, test_data, source, regressor, params, transforms, n, seed,
              checkpoint_dir, resume, publish, registry_url, aliases, save_dir) -> None:
    """Train a regressor for a label, print its test metrics, optionally publish it."""
    from zoo.training.loop import TrainConfig, train
    from zoo.training.metrics import format_table

    overrides = {"label": label, "data": data, "test_data": test_data, "source": source, "n": n,
                 "seed": seed, "checkpoint_dir": checkpoint_dir}
    if config:
        cfg = TrainConfig.from_file(config, **overrides)
    else:
        if not label:
            raise click.UsageError("give --config FILE or --label LABEL")
        cfg = TrainConfig.from_dict({k: v for k, v in overrides.items() if v is not None})
    cfg = _apply_overrides(cfg, regressor, params, transforms)
    if resume and not cfg.checkpoint_dir:
        raise click.UsageError("--resume needs --checkpoint-dir (or checkpoint_dir in the config)")
    model, test = train(cfg, resume=resume, progress=True)
    from rich.console import Console

    Console().print(format_table(model.card["metrics"]["test"], {
        "parameters": model.card.get("n_parameters"),
        "training time (s)": model.card.get("training_time_s"),
        "points/s": model.card.get("throughput_points_per_s"),
    }))
    f00 = test.f00 if any(getattr(s, "source", "") == "data" for s in model.chain.steps) else None
    if save_dir:
        model.save(save_dir, reference_x=test.x, reference_f00=None if f00 is None else f00)
        click.echo(f"saved artifact to {save_dir}")
    if publish:
        from zoo.api import publish as publish_model

        lab = publish_model(model, registry=registry_url, aliases=aliases, reference_x=test.x,
                            reference_f00=f00)
        click.echo(f"published {lab}")


@click.command("evaluate")
@click.argument("name")
@click.option("--data", required=True, help="Data to evaluate on (any reader).")
@click.option("--source", default=None)
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Reader option.")
@click.option("--scale", type=click.Choice(["abs", "f00"]), default=None,
              help="Denominator of delta (default: the one recorded in the card).")
@click.option("--histogram", type=click.Path(dir_okay=False), default=None, help="Write a PNG of delta.")
@click.option("--registry", "registry_url", default=None)
@click.option("--json", "as_json", is_flag=True)
def evaluate_cmd(name, data, source, options, scale, histogram, registry_url, as_json) -> None:
    """Evaluate NAME on data: the precision table on the physical quantity."""
    from zoo.api import load
    from zoo.training.loop import evaluate, read_data
    from zoo.training.metrics import delta_histogram_png, format_table

    amp = load(name, registry=registry_url)
    opts = {k: _parse_value(v) for k, v in (o.split("=", 1) for o in options)}
    recorded = amp.card.get("training", {})
    opts = {**recorded.get("data_options", {}), **opts} if not opts else opts
    ds = read_data(data, source=source or recorded.get("source"), label=amp.canonical.key, options=opts)
    if amp.label.base != amp.canonical.base:
        raise errors.ConfigError("evaluate a canonical label (data are stored per canonical label)")
    scale = scale or recorded.get("metric_scale", "abs")
    table, y_pred = evaluate(amp.model, ds, scale=scale, progress=True)
    pulls = None
    if amp.model.calibration is not None:  # the stored calibration, measured on these data
        from zoo.runtime.uncertainty import K_FLOOR, assess
        from zoo.runtime.uncertainty import pulls as pull_values
        from zoo.training.loop import _needs_data_f00

        if scale == "f00" and ds.f00 is None:
            raise errors.ConfigError("scale 'f00' needs f00 in the data")
        f00 = ds.f00 if _needs_data_f00(amp.model.chain) else None
        y_u, sigma = amp.model.predict(ds.x, f00, return_uncertainty=True)
        table["uncertainty"] = assess(ds.y, y_u, sigma, scale=ds.f00 if scale == "f00" else None,
                                      k=float(amp.model.calibration.get("vouch_k", K_FLOOR)))
        pulls = pull_values(ds.y, y_u, sigma)
    if as_json:
        click.echo(json.dumps(table, indent=2))
    else:
        from rich.console import Console

        Console().print(format_table(table, {"parameters": amp.card.get("n_parameters"),
                                             "disk size (bytes)": amp.card.get("disk_size_bytes")}))
        unc = table.get("uncertainty")
        if unc:
            click.echo("uncertainty on these data: coverage 1σ {:.1%}, 2σ {:.1%}; pulls mean "
                       "{:.3g}, width {:.3g}; sharpness {:.3g}; sent to the exact code at rtol "
                       "{}".format(unc["coverage_1sigma"], unc["coverage_2sigma"],
                                   unc["pull_mean"], unc["pull_width"], unc["sharpness"],
                                   ", ".join(f"{k}: {v:.1%}"
                                             for k, v in unc["exact_fraction"].items())))
    if histogram:
        delta_histogram_png(ds.y, y_pred, histogram, scale=ds.f00 if scale == "f00" else None,
                            title=str(amp.label), pulls=pulls)
        click.echo(f"wrote {histogram}")


@click.command("calibrate")
@click.argument("name")
@click.option("--n", "n", type=int, default=20_000, show_default=True,
              help="Fresh points of the process to calibrate on.")
@click.option("--faces", type=float, default=0.2, show_default=True,
              help="Fraction of them within 1e-6..1e-3 of the faces (beam x2 in {0,1}, "
                   "threshold x1 = 0, or the faces the process declares).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--registry", "registry_url", default=None,
              help="Where NAME is looked up and the calibrated version published "
                   "(default: found in local + bundled, published locally).")
@click.option("--alias", "aliases", multiple=True, help="Alias(es) for the new version.")
@click.option("--json", "as_json", is_flag=True, help="Print the calibration record as JSON.")
def calibrate_cmd(name, n, faces, seed, registry_url, aliases, as_json) -> None:
    """Calibrate the uncertainty of NAME on fresh points and publish it as a new version
    (published versions never change): coverage, pulls, sharpness and the fractions sent to
    the exact code go into the card's "uncertainty" record."""
    from zoo.api import calibrate

    lab, record = calibrate(name, n=n, faces=faces, seed=seed, registry=registry_url,
                            aliases=aliases)
    if as_json:
        click.echo(json.dumps({"published": str(lab), "uncertainty": record}, indent=2,
                              default=str))
        return
    click.echo(f"calibrated {record['calibrated_from']} on {record['n_calibration']} points: "
               f"scale {record['calibration_scale']:.4g}, coverage 1σ "
               f"{record['coverage_1sigma']:.1%} 2σ {record['coverage_2sigma']:.1%}, "
               f"k {record['vouch_k']:.3g}; published {lab}")


@click.command("demo")
@click.option("--registry", "registry_url", default=None, help="Registry (default: ZOO_HOME).")
@click.option("--json", "as_json", is_flag=True, help="Also print the measured figures as JSON.")
def demo_cmd(registry_url: str | None, as_json: bool) -> None:
    """What the zoo is for, in under a minute: fetch a pretrained amplitude by label, compare
    it with the exact code on fresh points, export it to ONNX, train and publish your own."""
    from rich.console import Console

    from zoo.cli.demo import run

    console = Console()
    figures = run(console if console.is_terminal else Console(width=110), registry_url)
    if as_json:
        click.echo(json.dumps(figures, indent=2, default=str))


def register_jobs(cli: click.Group) -> None:
    for cmd in (generate_cmd, train_cmd, evaluate_cmd, calibrate_cmd, demo_cmd):
        cli.add_command(cmd)

