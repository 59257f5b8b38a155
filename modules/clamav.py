"""The global ``clamav { }`` stanza: Momentum's ClamAV engine module, declared once.

Momentum loads the engine module in the global scope (only ``enabled`` and
``debug_level`` there) and configures each engine inside ``antivirus { clamav
"name" { daemon = ... } }`` (modules/antivirus.py, ecelerity/antivirus/). This
stanza is accepted and type-checked so Momentum configurations validate as they
are; it starts nothing itself (no load function): the clamd connections belong to
the antivirus engines. Importing this file only defines MODULE.
"""
from __future__ import annotations

from ecelerity.modules import ModuleSpec

MODULE = ModuleSpec(
    name="clamav", singleton=True, implemented=True,
    doc="ClamAV engine (configure engines inside antivirus { clamav \"name\" { ... } })",
)
