"""The daemon process: command line, start-up checks, pidfile, signals, services, reload.

main.py (the ``ecelerity`` command) -> app.py (App: current Config, services,
reload, shutdown) with pidfile.py, signals.py and service.py (the contract every
service keeps). Mail handling lives elsewhere; this package only runs it.
"""
