"""The exception hierarchy of amplitude-zoo.

Every error the zoo raises derives from :class:`ZooError`; each subclass also inherits
the builtin it resembles, so ``except KeyError`` keeps working for callers that do not
know the zoo. Messages say what went wrong *and* how to fix it.
"""

from __future__ import annotations


class ZooError(Exception):
    """Root of every error raised by amplitude-zoo."""

    def __str__(self) -> str:  # KeyError would otherwise print the repr of its argument
        return str(self.args[0]) if self.args else self.__class__.__name__


class LabelSyntaxError(ZooError, ValueError):
    """A label string does not follow the grammar (see :mod:`zoo.labels`)."""


class UnknownLabelError(ZooError, KeyError):
    """No stored function (or process helicity/term) answers to this label."""


class UnknownVersionError(UnknownLabelError):
    """The label exists but the requested version or alias does not."""


class UnknownPluginError(ZooError, KeyError):
    """No plugin of that kind and name is registered."""


class PluginLoadError(ZooError, ImportError):
    """A plugin failed to import or to register through its hooks."""


class PluginSpecError(ZooError, TypeError):
    """A plugin implements a hook that does not match the hook specification."""


class InputError(ZooError, ValueError):
    """Bad input points: wrong shape or dimension, NaN/inf, or outside the unit hypercube."""


class ConfigError(ZooError, ValueError):
    """A configuration file or option is invalid."""


class UnsupportedModelError(ConfigError):
    """A regressor, transform or coordinate map has no ONNX form, or no fast path of the
    kind asked for (its plugin does not implement that part of the contract)."""


class NoUncertaintyError(UnsupportedModelError):
    """A model has no calibrated per-point uncertainty (its regressor has none, or the
    artifact was never calibrated): ``return_uncertainty`` and guarded prediction refuse."""


class ExactUnavailableError(UnsupportedModelError):
    """A guarded prediction needs the process's exact function of the label, and no
    installed process plugin provides it."""


class ArtifactError(ZooError, OSError):
    """An artifact is unreadable, incomplete or malformed."""


class IntegrityError(ArtifactError):
    """A file of an artifact does not match the size or sha256 in its manifest."""


class ArtifactNotFoundError(ArtifactError, FileNotFoundError):
    """An artifact directory or one of its files is missing."""


class IncompleteArtifactError(IntegrityError, ArtifactNotFoundError):
    """A file listed in an artifact's manifest is missing: an integrity failure (exit 4),
    like a hash mismatch, wherever it is found (verify, import, fetch, load)."""


class LimitExceededError(ZooError, ValueError):
    """An input is larger than a configured limit (e.g. ``ZOO_MAX_ARTIFACT_BYTES``)."""


class VersionExistsError(ZooError, FileExistsError):
    """A published version already exists; published versions are immutable."""


class UnsafeBundleError(ZooError, ValueError):
    """A bundle (tar.gz) contains paths escaping the target directory, links or devices."""


class ReadOnlyStoreError(ZooError, PermissionError):
    """A write was attempted on a read-only registry (e.g. an http(s):// remote)."""


class RemoteError(ZooError, ConnectionError):
    """A remote registry could not be reached or answered with an error."""


class VerificationError(ZooError, AssertionError):
    """Re-predicting an artifact's reference points disagrees with the stored predictions."""


class NumericalError(ZooError, ArithmeticError):
    """A numerical evaluation failed its stability test and could not be rescued."""


class NotFittedError(ZooError, RuntimeError):
    """A regressor or transform was used (predict, save, ...) before ``fit`` or ``load``."""


class StoreLockedError(ZooError, TimeoutError):
    """The registry lock could not be acquired in time (another writer holds it)."""
