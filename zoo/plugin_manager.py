"""Plugin discovery and the registries of regressors, transforms, processes, sources, exporters.

Plugins are modules named by entry points of the group ``zoo`` (built-in ones included:
see ``[project.entry-points.zoo]`` in pyproject.toml). They are loaded lazily, once, on
the first lookup. ``ZOO_PLUGINS`` restricts which entry points load: a comma-separated
list of entry-point names (``ZOO_PLUGINS=skdnn,transforms``); an empty value loads none.
A plugin that fails to import, or whose hooks do not match the specification, raises a
:class:`~zoo.errors.PluginLoadError` / :class:`~zoo.errors.PluginSpecError` naming it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from zoo import hookspecs
from zoo.errors import PluginLoadError, PluginSpecError, UnknownPluginError

GROUP = "zoo"
ENV_VAR = "ZOO_PLUGINS"
KINDS = ("regressors", "transforms", "processes", "sources", "exporters")


@dataclass
class PluginInfo:
    """An entry point that was loaded, and what it registered."""

    name: str
    module: str
    distribution: str
    version: str
    registered: dict[str, list[str]] = field(default_factory=dict)


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.pm: pluggy.PluginManager | None = None
        self.infos: dict[str, PluginInfo] = {}
        self.tables: dict[str, dict[str, Any]] = {}
        self.owners: dict[tuple[str, str], str] = {}


_state = _State()


def _selected(eps: list[EntryPoint]) -> list[EntryPoint]:
    wanted = os.environ.get(ENV_VAR)
    if wanted is None:
        return eps
    names = {w.strip() for w in wanted.split(",") if w.strip()}
    known = {ep.name for ep in eps}
    unknown = names - known
    if unknown:
        raise UnknownPluginError(
            f"{ENV_VAR} names plugin(s) {', '.join(sorted(unknown))} that are not installed; "
            f"installed entry points: {', '.join(sorted(known)) or '(none)'}"
        )
    return [ep for ep in eps if ep.name in names]


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loading the entry points on first use (idempotent)."""
    with _state.lock:
        if _state.pm is None:
            pm = pluggy.PluginManager(GROUP)
            pm.add_hookspecs(hookspecs)
            eps = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
            infos = {}
            for ep in _selected(list(eps)):
                try:
                    plugin = ep.load()
                except Exception as exc:  # noqa: BLE001 - any import failure names the plugin
                    raise PluginLoadError(
                        f"plugin {ep.name!r} ({ep.value}) failed to import: "
                        f"{type(exc).__name__}: {exc}. Fix or uninstall it, or exclude it "
                        f"with {ENV_VAR}=<comma-separated plugins to load>"
                    ) from exc
                if pm.is_registered(plugin):
                    continue
                try:
                    pm.register(plugin, name=ep.name)
                except pluggy.PluginValidationError as exc:
                    raise PluginSpecError(
                        f"plugin {ep.name!r} ({ep.value}) violates the hook specification: {exc}. "
                        "See zoo/hookspecs.py for the hooks and their arguments"
                    ) from exc
                dist = getattr(ep, "dist", None)
                infos[ep.name] = PluginInfo(
                    ep.name,
                    ep.value,
                    dist.name if dist else "?",
                    dist.version if dist else "?",
                )
            try:
                pm.check_pending()
            except pluggy.PluginValidationError as exc:
                raise PluginSpecError(
                    f"a plugin implements an unknown hook: {exc}. Hooks are listed in zoo/hookspecs.py"
                ) from exc
            _state.pm, _state.infos = pm, infos
        return _state.pm


def _collect(kind: str) -> dict[str, Any]:
    """Call ``zoo_register_<kind>`` on every plugin and build the name -> object table."""
    with _state.lock:
        if kind in _state.tables:
            return _state.tables[kind]
        pm = get_plugin_manager()
        table: dict[str, Any] = {}
        for info in _state.infos.values():
            info.registered.pop(kind, None)
        hook = getattr(pm.hook, f"zoo_register_{kind}")
        for impl in hook.get_hookimpls():
            plugin_name = impl.plugin_name

            def register(*args: Any, _plugin: str = plugin_name) -> None:
                name, obj = _register_args(kind, args, _plugin)
                key = (kind, name)
                if name in table:
                    raise PluginLoadError(
                        f"{kind[:-1]} {name!r} is registered twice: by plugin "
                        f"{_state.owners[key]!r} and by plugin {_plugin!r}; uninstall one or "
                        f"exclude it with {ENV_VAR}"
                    )
                table[name] = obj
                _state.owners[key] = _plugin
                info = _state.infos.get(_plugin)
                if info is not None:
                    info.registered.setdefault(kind, []).append(name)

            try:
                impl.function(register)
            except (PluginLoadError, PluginSpecError):
                raise
            except Exception as exc:  # noqa: BLE001
                raise PluginLoadError(
                    f"plugin {plugin_name!r} failed in zoo_register_{kind}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        _state.tables[kind] = table
        return table


def _register_args(kind: str, args: tuple, plugin: str) -> tuple[str, Any]:
    if kind == "processes":
        if len(args) != 1:
            raise PluginSpecError(
                f"plugin {plugin!r}: register(process) takes one Process instance, got {len(args)} args"
            )
        proc = args[0]
        from zoo.process import Process

        if not isinstance(proc, Process):
            raise PluginSpecError(
                f"plugin {plugin!r} registered {proc!r}, which is not a zoo.process.Process instance"
            )
        return f"{proc.name}/{proc.dimension}d", proc
    if len(args) != 2 or not isinstance(args[0], str):
        raise PluginSpecError(f"plugin {plugin!r}: register(name, obj) expects a name and an object")
    name, obj = args
    base = {"regressors": "zoo.regressor.Regressor", "transforms": "zoo.transform.Transform"}.get(kind)
    if base is not None:
        from zoo.regressor import Regressor
        from zoo.transform import Transform

        cls = Regressor if kind == "regressors" else Transform
        if not (isinstance(obj, type) and issubclass(obj, cls)):
            raise PluginSpecError(
                f"plugin {plugin!r} registered {kind[:-1]} {name!r} as {obj!r}, which is not a "
                f"subclass of {base}"
            )
    elif not callable(obj):
        raise PluginSpecError(f"plugin {plugin!r} registered {kind[:-1]} {name!r} as a non-callable")
    return name, obj


def table(kind: str) -> dict[str, Any]:
    """All registered objects of one kind: ``regressors``, ``transforms``, ``processes``, ..."""
    if kind not in KINDS:
        raise ValueError(f"unknown plugin kind {kind!r}; one of {KINDS}")
    return dict(_collect(kind))


def get(kind: str, name: str) -> Any:
    """Look up one registered object, or raise :class:`UnknownPluginError` listing the choices."""
    objs = _collect(kind)
    try:
        return objs[name]
    except KeyError:
        hint = f"; is it excluded by {ENV_VAR}={os.environ[ENV_VAR]!r}?" if ENV_VAR in os.environ else ""
        raise UnknownPluginError(
            f"no {kind[:-1]} named {name!r}; available: {', '.join(sorted(objs)) or '(none)'}. "
            f"Install the plugin that provides it (pip install ...) and check `zoo plugins`{hint}"
        ) from None


def plugins() -> list[PluginInfo]:
    """Loaded plugins with what each registered (collects every kind)."""
    for kind in KINDS:
        _collect(kind)
    return [_state.infos[k] for k in sorted(_state.infos)]


def owner(kind: str, name: str) -> PluginInfo | None:
    _collect(kind)
    plugin = _state.owners.get((kind, name))
    return _state.infos.get(plugin) if plugin else None


def add_commands(cli: Any) -> None:
    get_plugin_manager().hook.zoo_register_commands(cli=cli)


def register(plugin: Any, name: str) -> None:
    """Register a plugin object directly (tests, notebooks); entry points load first."""
    with _state.lock:
        pm = get_plugin_manager()
        try:
            pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginSpecError(f"plugin {name!r} violates the hook specification: {exc}") from exc
        _state.infos[name] = PluginInfo(name, getattr(plugin, "__name__", repr(plugin)), "(direct)", "-")
        _state.tables = {}


def unregister(name: str) -> None:
    with _state.lock:
        pm = get_plugin_manager()
        pm.unregister(name=name)
        _state.infos.pop(name, None)
        _state.tables = {}


def reset() -> None:
    """Forget loaded plugins (tests; a changed ``ZOO_PLUGINS``)."""
    with _state.lock:
        _state.pm = None
        _state.infos = {}
        _state.tables = {}
        _state.owners = {}

