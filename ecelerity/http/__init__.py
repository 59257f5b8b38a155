"""The HTTP side of the daemon: HTTP_Listener, Lua endpoints (httpsrv) and REST injection.

service.py is the daemon service (one gevent WSGIServer per ``Listen`` of
``HTTP_Listener``); listener.py the server and its per-connection limits; router.py
the WSGI application that dispatches a request; transmissions.py / legacy_inject.py
turn REST bodies into messages and inject.py stores them durably. HTTP parsing is
gevent.pywsgi's: nothing here reads the wire itself.
"""
