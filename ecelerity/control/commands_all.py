"""Every console command group in one call, and the App's stats hook-up.

Who calls it: daemon/app.py -- ``register_console_commands(self.commands)`` next to
``register_core_commands`` in ``App.__init__``, and ``attach_stats(self)`` at the end
of ``App.start()`` (the queue manager exists only once its service started). Tests
call ``register_console_commands`` on a fresh registry. Registers; never runs a command.
"""
from __future__ import annotations

from typing import Any

from .commands_authz import register_authz_commands
from .commands_config import register_config_commands
from .commands_counters import register_counter_commands
from .commands_core import register_core_commands
from .commands_dns import register_dns_commands
from .commands_domain import register_domain_commands
from .commands_policy import register_policy_commands
from .commands_queue import register_queue_view_commands
from .commands_queue_ops import register_queue_op_commands
from .commands_system import register_system_commands
from .commands_tls import register_tls_commands
from .commands_trace import register_trace_commands
from .spool_import import register_spool_import_commands
from .registry import CommandRegistry


def register_console_commands(registry: CommandRegistry) -> None:
    """Add (or replace) the core commands and every group's commands in ``registry``."""
    register_core_commands(registry)
    register_queue_view_commands(registry)
    register_queue_op_commands(registry)
    register_domain_commands(registry)
    register_config_commands(registry)
    register_dns_commands(registry)
    register_system_commands(registry)
    register_authz_commands(registry)
    register_counter_commands(registry)
    register_tls_commands(registry)
    register_trace_commands(registry)
    register_spool_import_commands(registry)
    register_policy_commands(registry)


def attach_stats(app: Any) -> Any:
    """Create ``app.stats`` and register its observer with ``app.queue_manager``."""
    from ecelerity import stats

    return stats.for_app(app)
