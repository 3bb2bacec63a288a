"""The artifact store and registry of amplitude-zoo (imported as ``zoo.registry``)."""
