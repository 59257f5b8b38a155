"""RFC 5228 actions plus fileinto, reject/ereject (RFC 5429) and :copy (RFC 3894).

Registered into compiler.py through COMMANDS. Builders return ``command(rt)``
closures that record actions on the Runtime (conflicts and limits are enforced
there). Mapping actions to SMTP replies or deliveries is the caller's job: nothing
here sends, delivers or rejects anything itself.
"""
from __future__ import annotations

import re
from typing import Callable

from .errors import SieveCompileError, SieveRuntimeError
from .ext_imap4flags import flags_fn
from .runtime import Action, Runtime, StopScript
from .spec import Args, Spec

CommandFn = Callable[[Runtime], None]
_ADDRESS = re.compile(r"^[^@\s<>()\",;:]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def valid_address(text: str) -> bool:
    return bool(_ADDRESS.match(text.strip()))


def _stop(args: Args, env) -> CommandFn:
    def stop(rt: Runtime) -> None:
        raise StopScript()
    return stop


def _keep(args: Args, env) -> CommandFn:
    flags = flags_fn(args, env)

    def keep(rt: Runtime) -> None:
        rt.add_action(Action("keep", "", flags(rt)))
    return keep


def _discard(args: Args, env) -> CommandFn:
    def discard(rt: Runtime) -> None:
        rt.add_action(Action("discard"))
    return discard


def _fileinto(args: Args, env) -> CommandFn:
    mailbox, flags, copy = env.string(args.positional[0]), flags_fn(args, env), "copy" in args.tags

    def fileinto(rt: Runtime) -> None:
        rt.add_action(Action("fileinto", mailbox(rt), flags(rt)), cancels_implicit_keep=not copy)
    return fileinto


def _redirect(args: Args, env) -> CommandFn:
    target = env.constant(args.positional[0])
    if target is not None and not valid_address(target[0]):
        raise SieveCompileError(f"invalid redirect address {target[0]!r}", args.positional[0].loc)
    address, copy = env.string(args.positional[0]), "copy" in args.tags

    def redirect(rt: Runtime) -> None:
        value = address(rt).strip()
        if not valid_address(value):
            raise SieveRuntimeError(f"invalid redirect address {value!r}", args.loc)
        rt.add_action(Action("redirect", value), cancels_implicit_keep=not copy)
    return redirect


def _rejecter(kind: str) -> Callable[[Args, object], CommandFn]:
    def build(args: Args, env) -> CommandFn:
        reason = env.string(args.positional[0])

        def reject(rt: Runtime) -> None:
            try:
                rt.add_action(Action(kind, reason(rt)))
            except SieveRuntimeError as exc:
                raise SieveRuntimeError(exc.message, args.loc) from None
        return reject
    return build


def _located(build: Callable[[Args, object], CommandFn]) -> Callable[[Args, object], CommandFn]:
    """Give runtime errors raised by the action list the command's location."""
    def wrapped(args: Args, env) -> CommandFn:
        inner = build(args, env)

        def command(rt: Runtime) -> None:
            try:
                inner(rt)
            except SieveRuntimeError as exc:
                if exc.loc is None:
                    raise SieveRuntimeError(exc.message, args.loc) from None
                raise
        return command
    return wrapped


FLAG_TAGS = {"flags": "strings"}
COMMANDS = {
    "stop": Spec(_stop),
    "keep": Spec(_located(_keep), tags=FLAG_TAGS, tag_extensions={"flags": "imap4flags"}),
    "discard": Spec(_located(_discard)),
    "fileinto": Spec(_located(_fileinto), tags={"copy": "", **FLAG_TAGS}, positional=("string",),
                     extension="fileinto", tag_extensions={"copy": "copy", "flags": "imap4flags"}),
    "redirect": Spec(_located(_redirect), tags={"copy": ""}, positional=("string",),
                     tag_extensions={"copy": "copy"}),
    "reject": Spec(_rejecter("reject"), positional=("string",), extension="reject"),
    "ereject": Spec(_rejecter("ereject"), positional=("string",), extension="ereject"),
}
