"""q qbar -> Z Z -> 4 leptons (Dixon-Kunszt-Signer amplitudes): process plugin."""

from zoo.hookspecs import hookimpl


@hookimpl
def zoo_register_processes(register):
    from zoo.plugins.processes.qqzz.process import QQZZ8D

    register(QQZZ8D())
