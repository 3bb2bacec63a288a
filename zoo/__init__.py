"""amplitude-zoo: high-precision regressors of scattering amplitudes, stored and found by label.

Public API::

    import zoo
    amp = zoo.load("qqbar-zz-4l/8d/f11/LLR@best")   # any helicity of an orbit
    y = amp.predict(x)                               # x: (N, 8) points of [0,1]^8
    y, sigma = amp.predict(x, return_uncertainty=True)   # where the model has one
    y, info = amp.predict(x, rtol=1e-3, return_info=True)  # guarded: exact code elsewhere
    zoo.list("qqbar-zz-4l/8d/*", where=["metrics.test.frac_lt_1pct>=0.99"])
    zoo.publish(model, reference_x=x_test)
"""

from zoo.hookspecs import hookimpl

__version__ = "0.1.0"

_API = {
    "load": "load",
    "list": "list_models",
    "publish": "publish",
    "calibrate": "calibrate",
    "resolve": "resolve",
    "Amplitude": "Amplitude",
    "local_registry": "local_registry",
    "bundled_registry": "bundled_registry",
}


def __getattr__(name: str):
    # the API pulls in numpy and the registry; keep `import zoo` (and plugin modules) cheap
    if name in _API:
        from zoo import api

        return getattr(api, _API[name])
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


__all__ = ["__version__", "hookimpl", *_API]
