"""Loads the configured modules (``modules/<name>.py``) and unloads them cleanly.

For every module stanza in the configuration whose ModuleSpec is implemented, has
a ``load`` callable and is not ``Enabled = false``, this service calls
``spec.load(ctx)`` with a ModuleContext. The context is the only door a module has
into the daemon: it registers validation-phase hooks and console commands through
it, and everything it registered is removed when the module is unloaded (at stop,
and on reload, where every module is unloaded and the new configuration's modules
are loaded: Momentum's "module reload"). ``load`` may return an object with
``stop()``; that is called at unload.

Never imports a module by name: only through ecelerity.modules.module_spec.
A module that fails to load is logged to the paniclog with its stanza location and
the daemon keeps running without it (at start-up too: a broken policy module must
not take mail flow down; the validator already refused broken configurations).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ecelerity.modules import ModuleLoadError, module_spec


@dataclass
class ModuleContext:
    """What a module sees of the daemon while it is loaded."""

    app: Any
    instance: Any  # config.resolver_modules.ModuleInstance (module, instance, settings, loc, stanza)
    _hooks: list[Any] = field(default_factory=list)
    _commands: list[str] = field(default_factory=list)
    _stoppers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def config(self) -> Any:
        return self.app.config

    @property
    def settings(self) -> dict[str, Any]:
        return self.instance.settings

    @property
    def label(self) -> str:
        inst = self.instance.instance
        return f"{self.instance.module}:{inst}" if inst else self.instance.module

    def register_hook(self, phase: str, func: Callable[..., Any], *, priority: int,
                      name: str | None = None) -> Any:
        hook = self.app.hooks.register(phase, func, priority=priority, name=name or self.label)
        self._hooks.append(hook)
        return hook

    def register_command(self, name: str, handler: Callable[..., Any], help: str, **kw: Any) -> None:
        self.app.commands.register(name, handler, help, replace=True, **kw)
        self._commands.append(name)

    def on_unload(self, func: Callable[[], None]) -> None:
        self._stoppers.append(func)

    def log(self, text: str) -> None:
        self.app.log(self.label, text)

    def unload(self) -> None:
        for hook in self._hooks:
            self.app.hooks.unregister(hook)
        for name in self._commands:
            self.app.commands.unregister(name)
        for stop in reversed(self._stoppers):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - unloading the others goes on
                self.app.log_exception(self.label, "unload failed", exc)
        self._hooks.clear()
        self._commands.clear()
        self._stoppers.clear()


class ModuleService:
    name = "modules"

    def __init__(self) -> None:
        self.app: Any = None
        self.loaded: list[ModuleContext] = []

    def start(self, app: Any) -> None:
        self.app = app
        self._load_all(app.config)

    def stop(self, deadline: float) -> None:
        self._unload_all()

    def reload(self, old_cfg: Any, new_cfg: Any) -> None:
        self._unload_all()
        self._load_all(new_cfg)

    def _load_all(self, cfg: Any) -> None:
        for instance in cfg.modules():
            try:
                spec = module_spec(instance.module)
            except ModuleLoadError as exc:
                self.app.log("modules", f"{instance.loc}: cannot load module '{instance.module}': {exc}")
                continue
            if spec is None or not spec.implemented or spec.load is None:
                continue
            if instance.settings.get("enabled", True) is False:
                continue
            ctx = ModuleContext(self.app, instance)
            try:
                handle = spec.load(ctx)
            except Exception as exc:  # noqa: BLE001 - a broken module must not stop the daemon
                ctx.unload()
                self.app.log_exception(ctx.label, f"{instance.loc}: module failed to load", exc)
                continue
            if handle is not None and callable(getattr(handle, "stop", None)):
                ctx.on_unload(handle.stop)
            self.loaded.append(ctx)
            ctx.log("loaded")

    def _unload_all(self) -> None:
        while self.loaded:
            self.loaded.pop().unload()
