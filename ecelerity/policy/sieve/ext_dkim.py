"""Sieve++ DKIM functions, backed by the opendkim module (ecelerity/dkim/service.py).

  ec_dkim_sign ["hash"]        -> "true": sign this message once policy is done (the
      module's signing hook, last in data_spool: Momentum's advice to sign at final
      validation, so later edits cannot break the signature). The optional hash
      (hash_create/hash_set) overrides the module's settings: base_domain |
      signing_domain, selector, header_canon, body_canon, digest, headerlist,
      identity, keyfile, keybuf. An explicit request ignores sign_condition and
      opendkim_sign.
  ec_dkim_domains              -> the domains of the module's dkim_domain stanzas
  ec_dkim_responsible_domain   -> the Sender: domain, else the From: domain ("" if none)
Registered into registry.py (FUNCTIONS, also usable as commands). Without a loaded
opendkim module each is a runtime error saying so. Never signs inline: no
cryptography runs inside the script.
"""
from __future__ import annotations

from typing import Callable

from .errors import SieveRuntimeError
from .ext_momentum_actions import host_of, value_fn
from .ext_momentum_data import _hash
from .ext_momentum_throttle import as_command
from .runtime import Runtime
from .spec import Args, Spec

ValueFn = Callable[[Runtime], object]


def _service(rt: Runtime, args: Args):
    from ...dkim.service import service_for
    service = service_for(host_of(rt, args).app)
    if service is None:
        raise SieveRuntimeError(f"'{args.name}' needs the opendkim module (an opendkim stanza)",
                                args.loc)
    return service


def _message(rt: Runtime, args: Args):
    message = host_of(rt, args).message
    if message is None or not hasattr(message, "header_block"):
        raise SieveRuntimeError(f"'{args.name}' needs the message (data phases)", args.loc)
    return message


def _sign(args: Args, env) -> ValueFn:
    hash_of = value_fn(env, args.positional[0]) if args.positional else (lambda rt: "")

    def ec_dkim_sign(rt: Runtime) -> str:
        _service(rt, args)
        name = hash_of(rt)
        overrides = dict(_hash(rt, args, name)) if name else {}
        _message(rt, args).__dict__["_opendkim_request"] = overrides
        return "true"
    return ec_dkim_sign


def _domains(args: Args, env) -> ValueFn:
    def ec_dkim_domains(rt: Runtime) -> list[str]:
        return _service(rt, args).domains()
    return ec_dkim_domains


def _responsible(args: Args, env) -> ValueFn:
    def ec_dkim_responsible_domain(rt: Runtime) -> str:
        from ...dkim.signer import responsible_domain
        return responsible_domain(_message(rt, args).header_block)
    return ec_dkim_responsible_domain


FUNCTIONS = {"ec_dkim_sign": Spec(_sign, positional=("tail_value",)),
             "ec_dkim_domains": Spec(_domains),
             "ec_dkim_responsible_domain": Spec(_responsible)}
COMMANDS = {name: as_command(spec) for name, spec in FUNCTIONS.items()}
