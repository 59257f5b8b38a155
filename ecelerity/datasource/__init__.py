"""Datasources (Momentum's ds_core): named, cached, pooled queries for policy scripts.

``core.py`` holds the registry of configured datasources (``Datasource "name" { uri =
( ... ) }`` stanzas, loaded by modules/datasource.py), their query caches and
connection pools; ``uri.py`` parses driver URIs; ``params.py`` binds ``?``, ``:name``
and ``$name`` placeholders; one ``driver_*.py`` per backend (sqlite, pgsql, mysql, ldap).
Lua (policy/lua/lib_db.py) and Sieve++ (policy/sieve/ext_datasource.py) call
``core.query`` / ``core.execute``. Nothing here ever blocks the hub: driver calls run
in gevent's OS thread pool, and only the calling greenlet waits.
"""
