"""The ``ds_core { }`` stanza: accepted for Momentum compatibility, nothing to configure.

Momentum loads ds_core implicitly when a ``Datasource`` stanza exists, and so do we:
every ``Datasource "name" { }`` (modules/datasource.py) registers into
ecelerity.datasource.core, which is always there. Writing ``ds_core { }`` is
therefore allowed and does nothing. Importing this file only defines MODULE.
"""
from __future__ import annotations

from typing import Any

from ecelerity.modules import ModuleSpec


def load(ctx: Any) -> None:
    return None


MODULE = ModuleSpec(name="ds_core", singleton=True, implemented=True, load=load,
                    doc="datasource query core (implicit: see the Datasource stanza)")
