"""q qbar -> Z Z -> 4 leptons (Dixon-Kunszt-Signer amplitudes): process plugin.

Registers the process at three dimensions: 8D (lepton momenta), 4D (production with
off-shell bosons) and 2D (on-shell bosons), all named ``qqbar-zz-4l``.
"""

from zoo.hookspecs import hookimpl


@hookimpl
def zoo_register_processes(register):
    from zoo.plugins.processes.qqzz.process import QQZZ8D
    from zoo.plugins.processes.qqzz.production import QQZZ2D, QQZZ4D

    register(QQZZ8D())
    register(QQZZ4D())
    register(QQZZ2D())


@hookimpl
def zoo_register_regressors(register):
    from zoo.plugins.processes.qqzz.factorised import FactorisedLoopRegressor

    register(FactorisedLoopRegressor.name, FactorisedLoopRegressor)
