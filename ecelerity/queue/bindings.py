"""Binding assignment: which binding (source IP, EHLO name, options) a message leaves from.

Who calls it: queue/manager.py when it admits a message (``BindingChooser.choose``)
and queue/admin.py's ``rebind``; the SMTP side may call ``reception_refusal`` after the
set_binding phase (``default_binding = none``). Never touches the spool or the queues
and never raises for a name the configuration lacks (it falls through, as Momentum's
set_binding does for an unknown binding).

Rules, first match wins (momentum-facts.md §5.1 ec_set_binding / ec_set_binding_group):

1. the binding the policy named (``vctx.set_binding``, Sieve ``ec_set_binding``, Lua
   ``msg:binding``), when the configuration has it;
2. the binding_group the policy named: a random member binding, skipping suspended
   ones (an administrator's ``suspend``, or ``suspend_delivery`` for that binding) and
   unplumbed ones (a ``bind_address`` this host cannot bind). When every member is
   suspended or unplumbed a random member is still chosen: the message then waits in
   that binding's queue until it is resumed (or expires), rather than leaving from an
   address outside the group;
3. the implicit ``default`` binding.

``default_binding`` (global): ``normal`` uses the default binding like any other;
``suspended`` holds its queues (nothing leaves from it until the option changes, the
messages wait and expire as usual); ``none``: a message that would fall into it is
refused at reception with a 451 (``reception_refusal``) and, if it reached the queue
anyway (spooled before the change), is held like ``suspended``.
"""
from __future__ import annotations

import random
import socket
from typing import Any, Callable

DEFAULT_BINDING = "default"
NO_BINDING_REPLY = (451, "4.3.0", "[internal] no binding assigned and default_binding is none")


def default_binding_mode(config: Any) -> str:
    """``normal``, ``suspended`` or ``none``."""
    return str(config.get("default_binding") or "normal").lower()


def reception_refusal(config: Any, *, binding: str | None,
                      group: str | None) -> tuple[int, str, str] | None:
    """The 451 for a message that would fall into the default binding while
    ``default_binding = none``; None when it may be accepted."""
    if default_binding_mode(config) != "none":
        return None
    if binding and binding != DEFAULT_BINDING and config.has_binding(binding):
        return None
    if group and group in config.binding_groups() and any(
            name != DEFAULT_BINDING for name in config.bindings_in_group(group)):
        return None
    return NO_BINDING_REPLY


class BindingChooser:
    """Applies the rules of the module docstring; ``rng`` makes group picks testable."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()
        self._plumbed: dict[str, bool] = {}

    def choose(self, config: Any, *, binding: str | None, group: str | None,
               suspended: Callable[[str], bool] = lambda name: False,
               current: str | None = None) -> str:
        """The binding for a message; ``current`` (rebind) is kept when it is still a
        usable member of the group, so re-running the assignment moves only what must."""
        if binding and config.has_binding(binding):
            return binding
        if group and group in config.binding_groups():
            members = config.bindings_in_group(group)
            if members:
                usable = [name for name in members
                          if not suspended(name) and self.plumbed(config, name)]
                if current in usable:
                    return current
                return self.rng.choice(usable or members)
        return DEFAULT_BINDING

    def plumbed(self, config: Any, binding: str) -> bool:
        """Whether ``binding``'s ``bind_address`` is an address of this host (cached)."""
        address = config.get("bind_address", binding=binding)
        if address in (None, "", "*"):
            return True
        address = str(address)
        known = self._plumbed.get(address)
        if known is None:
            known = self._plumbed[address] = _can_bind(address)
        return known

    def forget_plumbing(self) -> None:
        """Re-check addresses (after a reload: interfaces may have been added)."""
        self._plumbed.clear()


def _can_bind(address: str) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True
