"""Inbound policy: the validation phases, the validation context, relay control.

phases.py (hook registry and phase runner, fixed hook order), vctx.py (Momentum's
vctx: connection and message context, dispositions, recipient/header/binding
edits), relay.py (may this client relay to that domain). Sieve++ (sieve/) and Lua
(lua/) register hooks here in later issues.
"""
