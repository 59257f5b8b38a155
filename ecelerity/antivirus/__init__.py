"""Antivirus scanning with a real clamd: Momentum's ``antivirus`` and ``clamav`` modules.

clamd.py speaks clamd's INSTREAM protocol on gevent sockets; engines.py holds the
configured engines, their scan results (msys.av's EC_AV_* values) and the MIME
walk for per-part scanning; config.py the stanza grammar; verdict.py what a result
does to the validation context; console.py the ``antivirus:<name>`` commands.
Users: modules/antivirus.py, modules/clamav.py, policy/lua/lib_av.py,
policy/sieve/ext_antivirus.py. Nothing here blocks the hub or reads config
around the resolver.
"""
