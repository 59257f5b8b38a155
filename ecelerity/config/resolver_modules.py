"""Module stanzas as the resolver hands them out: ModuleInstance and untyped values.

resolver.Config.modules() and scope_get() use these to type a module's settings:
first by the module's own option specs (ecelerity/modules.py), then by the core
option registry (options such as Debug_Level that any scope may carry), and only
when neither knows the option (modules that accept any option) as raw Python
values. Never loads or starts a module: the daemon does that with ModuleSpec.load.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .tree import DictValue, ListValue, Location, Scalar, Stanza, Value


@dataclass(frozen=True)
class ModuleInstance:
    """A module stanza: ``dkim "signer" { ... }`` -> module "dkim", instance "signer"."""

    module: str
    instance: str | None
    settings: dict[str, Any]  # lowercase option name -> typed (or raw) value
    loc: Location
    stanza: Stanza  # for modules whose stanzas nest further stanzas


def raw_value(value: Value) -> Any:
    """Untyped Python form of a value, for options no registry describes."""
    if isinstance(value, Scalar):
        return value.text
    if isinstance(value, ListValue):
        return [raw_value(item) for item in value.items]
    if isinstance(value, DictValue):
        return {key: raw_value(item) for key, item, _ in value.items}
    raise TypeError(f"not a config value: {value!r}")


def module_option_spec(module: str, key: str):
    """The OptionSpec of option ``key`` (lowercase) in module ``module``, or None."""
    from ..modules import module_spec

    module_def = module_spec(module)
    if module_def is None:
        return None
    spec = module_def.options.get(key)
    if spec is None:
        spec = next((s for name, s in module_def.options.items() if name.lower() == key), None)
    return spec
