"""Built-in transform plugins: f00 normalisation, permutation symmetry, scalers, coordinate maps.

This module only implements hooks; the classes live in the sibling modules and are
imported when the hook runs (importing the plugin does no work).
"""

from __future__ import annotations

from zoo.hookspecs import hookimpl


@hookimpl
def zoo_register_transforms(register):
    from zoo.plugins.transforms.coordinates import AngleCoordinates, SqrtCoordinates
    from zoo.plugins.transforms.normalise import F00Normalise
    from zoo.plugins.transforms.scaling import Asinh, Log, Standardise
    from zoo.plugins.transforms.symmetry import SymmetryTransform

    register("f00-normalise", F00Normalise)
    register("symmetry", SymmetryTransform)
    register("log", Log)
    register("asinh", Asinh)
    register("standardise", Standardise)
    register("sqrt-x", SqrtCoordinates)
    register("angle-x", AngleCoordinates)
