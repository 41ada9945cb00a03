"""The backend registry.

A built-in backend is one module in this package whose class is decorated with
:func:`register_backend`: every module here is imported, so the CLI, ``make
weights``, ``--config gpu``, the README table and the contract test all find it
without a list to update. Other packages add theirs through the
``glyphgen.backends`` entry point group, each entry point naming a
:class:`Backend` subclass::

    [project.entry-points."glyphgen.backends"]
    mymodel = "mypackage.model:MyBackend"
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points

from .. import DEFAULT_BACKEND
from ..errors import GlyphgenError
from .base import Backend, BackendConfig, FewShotTask, FitReport

ENTRY_POINT_GROUP = "glyphgen.backends"
_REGISTRY: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"two backends are named {cls.name!r}: {existing.__module__} and {cls.__module__}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_entry_points() -> None:
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in _REGISTRY:
            continue
        try:
            cls = entry_point.load()
        except Exception as exc:  # a broken plug-in must not take the tool down
            raise GlyphgenError(f"the plug-in backend {entry_point.name!r} ({entry_point.value}) fails to load: {exc}.") from None
        if not (isinstance(cls, type) and issubclass(cls, Backend)):
            raise GlyphgenError(f"the plug-in backend {entry_point.name!r} ({entry_point.value}) is not a Backend class.")
        _REGISTRY.setdefault(entry_point.name, cls)


def available_backends() -> dict[str, type[Backend]]:
    """Every registered backend, built-in and plug-in, by name."""
    _load_entry_points()
    return dict(sorted(_REGISTRY.items()))


def get_backend(name: str) -> type[Backend]:
    backends = available_backends()
    try:
        return backends[name]
    except KeyError:
        raise GlyphgenError(f"--backend {name!r}: no such backend; choose one of: {', '.join(backends)}.") from None


def pretrains(cls: type[Backend]) -> bool:
    """Whether ``glyphgen train`` (and ``make weights``) has something to fit on the corpus for this backend."""
    return cls.pretrain is not Backend.pretrain


def starts_from_shipped_weights(cls: type[Backend]) -> bool:
    """Whether a build with this backend's default settings starts from weights shipped in the package."""
    return cls.ships_weights and getattr(cls.config_class(), "weights", None) == "bundled"


def _import_builtin_backends() -> None:
    """Import every module of this package: the built-in backends register themselves."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_builtin_backends()

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "BackendConfig",
    "FewShotTask",
    "FitReport",
    "available_backends",
    "get_backend",
    "pretrains",
    "register_backend",
    "starts_from_shipped_weights",
]
