"""Networks that remember how they were built, so saved weights always rebuild their own shape.

A subclass of :class:`ConfiguredModule` records the arguments of its constructor
(the diffusers ``register_to_config`` idea): ``network.architecture`` is a plain,
JSON-ready dict, written beside the weights, and ``type(network)(**architecture)``
builds the same shape again. Nobody keeps a hand-written list of which settings
shape the weights; the constructor is the list.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from torch import nn


class ConfiguredModule(nn.Module):
    architecture: dict[str, Any]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            return
        init = cls.__init__
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self, *args, **kwargs):
            if not hasattr(self, "_recording"):  # the outermost constructor's arguments are the architecture
                bound = signature.bind(self, *args, **kwargs)
                bound.apply_defaults()
                object.__setattr__(self, "_recording", type(self))
                init(self, *args, **kwargs)
                self.architecture = {name: _plain(value) for name, value in list(bound.arguments.items())[1:]}
            else:
                init(self, *args, **kwargs)

        cls.__init__ = recording_init


def _plain(value: Any) -> Any:
    """Tuples as lists (as JSON holds them); anything not JSON-ready is a mistake in the constructor."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a ConfiguredModule's constructor takes plain settings, not {type(value).__name__}")
