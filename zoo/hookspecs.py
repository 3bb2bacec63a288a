"""Hook specifications of amplitude-zoo.

A plugin is a module (or object) named by an entry point of the group ``zoo`` that
implements some of the hooks below, decorated with :data:`zoo.hookimpl`. Built-in and
third-party plugins are found the same way: through that entry-point group. Plugins act
only through the ``register`` callback (or the click group) passed to them; importing a
plugin module must not do any work.

Example third-party plugin::

    # my_zoo_plugin.py, with  [project.entry-points.zoo] myreg = "my_zoo_plugin"
    import zoo

    @zoo.hookimpl
    def zoo_register_regressors(register):
        register("myreg", MyRegressor)      # a zoo.Regressor subclass
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def zoo_register_regressors(register):
    """Register regressor classes.

    Call ``register(name, cls)`` once per regressor; ``cls`` subclasses
    :class:`zoo.regressor.Regressor`. ``name`` is what cards, configs and the CLI use
    (e.g. ``"myreg"``); it must be unique across all plugins.

    Everything regressor-specific comes with the class: besides ``fit``/``predict``/
    ``save``/``load``, its ONNX subgraph (:meth:`~zoo.regressor.Regressor.onnx_nodes`,
    default: refused) and its fast path (:meth:`~zoo.regressor.Regressor.fast_predictor`,
    default: the plain ``predict``). The core never dispatches on ``name``.
    """


@hookspec
def zoo_register_transforms(register):
    """Register transform classes.

    Call ``register(name, cls)`` once per transform; ``cls`` subclasses
    :class:`zoo.transform.Transform` (e.g. ``"f00-normalise"``, ``"log"``). Its ONNX form
    is :meth:`~zoo.transform.Transform.onnx_forward` and
    :meth:`~zoo.transform.Transform.onnx_inverse` (defaults: refused, resp. the identity
    for the identity ``inverse``).
    """


@hookspec
def zoo_register_processes(register):
    """Register physics processes.

    Call ``register(process)`` with a :class:`zoo.process.Process` instance, once per
    (process name, dimension). Processes provide exact function values, the symmetry
    generators used by the label resolver, and the f00 used for normalisation.
    """


@hookspec
def zoo_register_sources(register):
    """Register data-source readers.

    Call ``register(name, reader)`` where ``reader(path, **options)`` returns a
    :class:`zoo.training.data.Dataset` (e.g. ``"paper-csv"``, ``"npz"``, ``"zarr"``). ``reader``
    may expose ``sniff(path) -> bool`` so that ``--data PATH`` finds it automatically.
    """


@hookspec
def zoo_register_exporters(register):
    """Register exporters.

    Call ``register(name, export)`` where ``export(amplitude, path, **options)`` writes
    a stand-alone form of a loaded amplitude (e.g. ``"bundle"``, ``"onnx"``) and returns
    the written path.
    """


@hookspec
def zoo_register_commands(cli):
    """Add commands to the ``zoo`` command line.

    ``cli`` is the top-level :class:`click.Group`; call ``cli.add_command(command)``.
    """
