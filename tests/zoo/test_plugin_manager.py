"""Plugin discovery: entry points, ZOO_PLUGINS, failing and spec-violating plugins."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zoo import plugin_manager
from zoo.errors import PluginLoadError, PluginSpecError, UnknownPluginError

HERE = Path(__file__).resolve().parent
BUILTIN = {"skdnn", "dnn", "xgboost", "catboost", "chebyshev", "pwcheb", "transforms", "qqzz", "sources", "exporters"}


@pytest.fixture(autouse=True)
def _fresh_manager():
    plugin_manager.reset()
    yield
    plugin_manager.reset()


def _fake_distribution(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]):
    """Install a distribution the way pip lays it out: modules + a .dist-info with entry points."""
    for mod, src in modules.items():
        (root / f"{mod}.py").write_text(textwrap.dedent(src))
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    eps = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[zoo]\n{eps}\n")


def test_builtins_are_found_through_entry_points():
    names = {info.name for info in plugin_manager.plugins()}
    assert BUILTIN <= names
    assert {"skdnn", "dnn", "xgboost", "catboost"} <= set(plugin_manager.table("regressors"))
    assert plugin_manager.owner("regressors", "skdnn").distribution == "amplitude-zoo"


def test_loading_is_lazy_and_idempotent(monkeypatch):
    """Entry points load on first use only, once; the register hooks run once per kind;
    table() hands out a copy (mutating it leaves the registry alone)."""
    loads, calls = [], []
    real_entry_points = plugin_manager.entry_points

    def counting_entry_points(**kw):
        loads.append(kw)
        return real_entry_points(**kw)

    monkeypatch.setattr(plugin_manager, "entry_points", counting_entry_points)
    assert plugin_manager._state.pm is None and not loads  # nothing loaded yet
    pm1 = plugin_manager.get_plugin_manager()
    pm2 = plugin_manager.get_plugin_manager()
    assert pm1 is pm2 and len(loads) == 1
    hook = pm1.hook.zoo_register_regressors
    for impl in hook.get_hookimpls():
        real = impl.function

        def counted(register, _real=real, _name=impl.plugin_name):
            calls.append(_name)
            return _real(register)

        monkeypatch.setattr(impl, "function", counted)
    first = plugin_manager.table("regressors")
    assert sorted(calls) == sorted(i.plugin_name for i in hook.get_hookimpls())
    first.pop("skdnn")
    second = plugin_manager.table("regressors")
    assert "skdnn" in second and first is not second
    assert len(calls) == len(hook.get_hookimpls()) and len(loads) == 1  # nothing ran again


def test_env_var_restricts_plugins(monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "xgboost,transforms")
    assert set(plugin_manager.table("regressors")) == {"xgboost"}
    with pytest.raises(UnknownPluginError, match="ZOO_PLUGINS"):
        plugin_manager.get("regressors", "skdnn")


def test_env_var_naming_a_missing_plugin(monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "nope")
    with pytest.raises(UnknownPluginError, match="nope"):
        plugin_manager.get_plugin_manager()


def test_unknown_regressor_lists_choices():
    with pytest.raises(UnknownPluginError, match="available: .*skdnn") as info:
        plugin_manager.get("regressors", "does-not-exist")
    assert isinstance(info.value, KeyError)


def test_plugin_that_fails_to_import_is_named(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "brokenplug", {"broken": "zoo_broken_mod"},
                       {"zoo_broken_mod": "raise RuntimeError('boom at import')\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError, match=r"plugin 'broken'.*boom at import.*ZOO_PLUGINS"):
        plugin_manager.get_plugin_manager()


def test_plugin_violating_the_spec_is_named(tmp_path, monkeypatch):
    src = """
        from zoo.hookspecs import hookimpl

        @hookimpl
        def zoo_register_regressors(register, extra_argument):
            pass
    """
    _fake_distribution(tmp_path, "badspec", {"badspec": "zoo_badspec_mod"}, {"zoo_badspec_mod": src})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginSpecError, match="badspec"):
        plugin_manager.get_plugin_manager()


def test_plugin_with_unknown_hook_is_named(tmp_path, monkeypatch):
    src = """
        from zoo.hookspecs import hookimpl

        @hookimpl
        def zoo_register_spaceships(register):
            pass
    """
    _fake_distribution(tmp_path, "typo", {"typo": "zoo_typo_mod"}, {"zoo_typo_mod": src})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginSpecError, match="zoo_register_spaceships"):
        plugin_manager.get_plugin_manager()


def test_registering_a_non_regressor_is_refused(tmp_path, monkeypatch):
    src = """
        from zoo.hookspecs import hookimpl

        @hookimpl
        def zoo_register_regressors(register):
            register("notaclass", 42)
    """
    _fake_distribution(tmp_path, "wrongtype", {"wrongtype": "zoo_wrongtype_mod"},
                       {"zoo_wrongtype_mod": src})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginSpecError, match="not a subclass of zoo.regressor.Regressor"):
        plugin_manager.table("regressors")


def test_duplicate_names_are_refused(tmp_path, monkeypatch):
    src = """
        from zoo.hookspecs import hookimpl
        from zoo.plugins.regressors.xgb import zoo_register_regressors as _orig

        @hookimpl
        def zoo_register_regressors(register):
            _orig.__wrapped__(register) if hasattr(_orig, "__wrapped__") else _orig(register)
    """
    _fake_distribution(tmp_path, "dupe", {"dupe": "zoo_dupe_mod"}, {"zoo_dupe_mod": src})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError, match="registered twice"):
        plugin_manager.table("regressors")


@pytest.mark.slow
def test_third_party_package_installed_with_pip(tmp_path):
    """pip-install a throwaway plugin package; it trains, publishes, loads and predicts."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(HERE / "thirdparty_plugin")],
        check=True, capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "ZOO_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-m", "zoo.cli", "plugins"], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert "polyfit" in out and "zoo-polyfit-plugin" in out
    script = textwrap.dedent("""
        import numpy as np, zoo
        from zoo.model import Model
        from zoo.transform import Chain
        from zoo import plugin_manager
        cls = plugin_manager.get("regressors", "polyfit")
        x = np.random.default_rng(0).random((500, 3))
        y = 1 + x[:, 0] + x[:, 1] * x[:, 2]
        model = Model("thirdparty/3d/f00/one", cls(degree=2).fit(x, y), Chain([]))
        lab = zoo.publish(model, reference_x=x[:100])
        amp = zoo.load("thirdparty/3d/f00/one@latest")
        xt = np.random.default_rng(1).random((50, 3))
        err = np.max(np.abs(amp.predict(xt) - (1 + xt[:, 0] + xt[:, 1] * xt[:, 2])))
        print(lab, amp.card["regressor"]["distribution"], amp.card["regressor"]["distribution_version"], err)
    """)
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    assert out[0] == "thirdparty/3d/f00/one@1"
    assert out[1:3] == ["zoo-polyfit-plugin", "0.3.1"]
    assert float(out[3]) < 1e-10


def test_plugin_adds_a_cli_command(tmp_path, monkeypatch):
    import click
    from click.testing import CliRunner

    src = """
        import click
        from zoo.hookspecs import hookimpl

        @click.command("hello")
        def hello():
            click.echo("hello from a plugin")

        @hookimpl
        def zoo_register_commands(cli):
            cli.add_command(hello)
    """
    _fake_distribution(tmp_path, "cmdplug", {"cmdplug": "zoo_cmdplug_mod"}, {"zoo_cmdplug_mod": src})
    monkeypatch.syspath_prepend(str(tmp_path))

    @click.group()
    def group():
        pass

    plugin_manager.add_commands(group)
    out = CliRunner().invoke(group, ["hello"])
    assert out.exit_code == 0 and out.output.strip() == "hello from a plugin"
