"""DKIM signing and verification (Momentum's ``opendkim`` module), built on dkimpy.

settings.py reads the ``opendkim "x" { ... dkim_domain "d" { ... } }`` stanza into
typed signing rules; keys.py loads private keys (``%{d}``/``%{s}`` templates);
signer.py signs one message; verifier.py verifies every signature of one message
with key lookups through the daemon's DnsResolver (gevent sockets, never blocking
the hub); stats.py counts what was signed for ``signing_stats``; service.py ties
them to a loaded module (modules/opendkim.py), Lua (policy/lua/lib_dkim.py) and
Sieve++ (policy/sieve/ext_dkim.py). Nothing here hand-rolls DKIM cryptography or
canonicalisation: dkimpy does both.
"""
