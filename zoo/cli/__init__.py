"""The command line (``zoo``): the click group and its commands (:mod:`.commands`), the
long-running jobs (:mod:`.jobs`: generate, train, evaluate), batch prediction (:mod:`.predict`)
and the first-run demo (:mod:`.demo`). Everything here is a thin layer over :mod:`zoo.api`."""

from zoo.cli.commands import ZooGroup, cli, main

__all__ = ["ZooGroup", "cli", "main"]
