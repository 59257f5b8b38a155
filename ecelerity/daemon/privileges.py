"""Dropping root: the Security scope's ``user``/``group``/``supplemental_groups``.

Who calls it: daemon/main.py (single process) and daemon/workers.py (each worker). Both
call ``resolve_identity`` before anything is bound (a missing user or group is a clean
start-up error, exit 1) and ``drop_privileges`` right after ``App.start()`` returned,
so every listener (ports below 1024 included), the control socket, the spool, the
pidfile and the log files are opened as root, and nothing has been served yet: service
start() methods only spawn their serving greenlets, which first run when the hub gets
control, after the drop.

Rules (Momentum's Security scope):

- Not started as root (euid != 0): nothing to drop, the options are not used.
- ``user`` set in ``Security { }``: that user (name or number); unknown -> StartupError.
  Not set: Momentum's default ``ecuser`` when that user exists, else the daemon stays
  root and says so in the paniclog (refusing would break every root start without an
  ecuser account, tests included).
- ``group`` set: that group; not set: the user's primary group. ``supplemental_groups``
  set: exactly those; not set: none (``setgroups([])``, root's groups are never kept).
- Before the drop, what the daemon created as root becomes the target user's, so it can
  keep writing after it (spool segments, reopened logs, pidfile removal, socket unlink):
  a path given relative in the configuration (the shipped ``var/spool``, ``var/log``,
  ``var/run``) has its top directory under the start directory chowned recursively;
  the spool directory and a worker's run directory are chowned recursively wherever
  they are; any other absolute path (``/var/log/mainlog.ec``) has only its own file
  chowned. Only entries owned by root are changed, symlinks are never followed.
- A Python installation the target user cannot read (one under /root) would make every
  later import fail: then the lazily imported standard modules and all of ecelerity
  are imported before the drop, and the paniclog says so.
- Order of the drop: ``setgroups``, ``setgid``, ``setuid`` (glibc applies them to every
  thread, the threadpool's included); afterwards ``setuid(0)`` must fail, else
  StartupError.

The supervisor of worker_processes > 1 (daemon/supervisor.py) keeps root: it binds no
SMTP socket itself, and a worker it restarts must bind privileged ports again; each
worker drops after its own binds. Never forks, never changes the working directory.
"""
from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass
from typing import Any, Iterable

from .service import StartupError

DEFAULT_USER = "ecuser"
SECURITY_SCOPE = [("security", None)]


@dataclass(frozen=True)
class Identity:
    user: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    def describe(self) -> str:
        extra = f" groups {','.join(map(str, self.groups))}" if self.groups else ""
        return f"user {self.user} (uid {self.uid}, gid {self.gid}{extra})"


def security_option(cfg: Any, option: str) -> Any:
    """The value set in ``Security { }``, or None when the option is not set there."""
    try:
        return cfg.scope_get(SECURITY_SCOPE, option)
    except KeyError:
        return None


def _user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except KeyError:
        raise StartupError(f"Security user '{name}' does not exist on this system") from None


def _gid(name: str, what: str) -> int:
    try:
        return grp.getgrgid(int(name)).gr_gid if name.isdigit() else grp.getgrnam(name).gr_gid
    except KeyError:
        raise StartupError(f"Security {what} '{name}' does not exist on this system") from None


def resolve_identity(cfg: Any, *, euid: int | None = None) -> tuple[Identity | None, str]:
    """(identity to become or None, a note for the paniclog or "").

    ``euid`` defaults to the process's; StartupError when a configured user or group
    does not exist.
    """
    if (os.geteuid() if euid is None else euid) != 0:
        return None, ""
    configured = security_option(cfg, "user")
    if configured is None:
        try:
            entry = pwd.getpwnam(DEFAULT_USER)
        except KeyError:
            return None, (f"running as root: Security user is not set and the default user "
                          f"'{DEFAULT_USER}' does not exist (set Security {{ user = ... }})")
    else:
        entry = _user(str(configured))
    group = security_option(cfg, "group")
    gid = entry.pw_gid if group is None else _gid(str(group), "group")
    extra = security_option(cfg, "supplemental_groups") or []
    groups = tuple(dict.fromkeys(_gid(str(name), "supplemental group") for name in extra))
    return Identity(entry.pw_name, entry.pw_uid, gid, groups), ""


def chown_targets(paths: Iterable[str], trees: Iterable[str], *,
                  start_dir: str | None = None) -> tuple[list[str], list[str]]:
    """(trees to chown recursively, single files) for the daemon's runtime paths.

    ``paths`` as written in the configuration (relative = under ``start_dir``);
    ``trees`` are directories to chown recursively wherever they are.
    """
    start_dir = os.path.abspath(start_dir or os.getcwd())
    recursive: list[str] = [os.path.abspath(tree) for tree in trees]
    single: list[str] = []
    for path in paths:
        if not path:
            continue
        parts = os.path.normpath(path).split(os.sep)
        if not os.path.isabs(path) and parts[0] not in ("..", "."):
            recursive.append(os.path.join(start_dir, parts[0]))
        else:
            single.append(os.path.normpath(os.path.join(start_dir, path)))
    recursive = list(dict.fromkeys(recursive))
    single = [p for p in dict.fromkeys(single) if not any(_within(p, tree) for tree in recursive)]
    return recursive, single


def _within(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree.rstrip(os.sep) + os.sep)


def _chown_one(path: str, uid: int, gid: int) -> int:
    try:
        if os.lstat(path).st_uid != 0:
            return 0
        os.lchown(path, uid, gid)
        return 1
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise StartupError(f"cannot hand '{path}' over to uid {uid}: {exc.strerror or exc}") from None


def hand_over(identity: Identity, trees: Iterable[str], files: Iterable[str]) -> int:
    """chown what root created to ``identity``; returns how many entries changed."""
    changed = 0
    for tree in trees:
        changed += _chown_one(tree, identity.uid, identity.gid)
        if os.path.isdir(tree) and not os.path.islink(tree):
            for top, dirs, names in os.walk(tree, followlinks=False):
                for name in dirs + names:
                    changed += _chown_one(os.path.join(top, name), identity.uid, identity.gid)
    for path in files:
        changed += _chown_one(path, identity.uid, identity.gid)
    return changed


# Modules the standard library and gevent import lazily on the daemon's paths: str hosts
# go through the idna codec in socket.getaddrinfo, gevent pickles a greenlet's traceback.
LAZY_STDLIB = ("encodings.idna", "encodings.punycode", "pickle", "email.parser", "email.policy",
               "email.generator", "email.headerregistry", "email._header_value_parser")


def readable_by(path: str, identity: Identity, need: int = 0o5) -> bool:
    """Whether ``identity`` has ``need`` (rwx bits, default r+x) on ``path`` and can
    reach it (x on every parent); by the mode bits, as root sees them before the drop."""
    groups = {identity.gid, *identity.groups}
    current = os.path.abspath(path)
    while True:
        try:
            st = os.stat(current)
        except OSError:
            return False
        shift = 6 if st.st_uid == identity.uid else 3 if st.st_gid in groups else 0
        if (st.st_mode >> shift) & need != need:
            return False
        parent, need = os.path.dirname(current), 0o1
        if parent == current:
            return True
        current = parent


def preload(identity: Identity) -> str:
    """When ``identity`` cannot read the Python standard library (a Python under /root),
    import now what the daemon would import later: LAZY_STDLIB and every ecelerity
    module. Returns a warning for the paniclog, or ""."""
    import importlib
    import pkgutil

    import ecelerity

    stdlib = os.path.dirname(os.__file__)
    if identity.uid == 0 or readable_by(stdlib, identity):
        return ""
    for name in LAZY_STDLIB:
        importlib.import_module(name)
    for module in pkgutil.walk_packages(ecelerity.__path__, "ecelerity."):
        if not module.name.endswith("__main__"):
            try:
                importlib.import_module(module.name)
            except ImportError:
                pass  # an optional dependency missing: that module cannot work anyway
    return (f"the Python standard library '{stdlib}' is not readable by {identity.user}: "
            f"the daemon's modules were loaded before the drop, others will fail to import; "
            f"install Python where that user can read it")


def drop_privileges(identity: Identity) -> str:
    """preload, setgroups, setgid, setuid; returns preload's warning ("" if none).
    StartupError if a step fails or root could come back."""
    warning = preload(identity)
    try:
        os.setgroups(list(identity.groups))
        os.setgid(identity.gid)
        os.setuid(identity.uid)
    except OSError as exc:
        raise StartupError(f"cannot switch to {identity.describe()}: {exc.strerror or exc}") from None
    if identity.uid != 0:
        try:
            os.setuid(0)
        except OSError:
            return warning
        raise StartupError(f"switched to {identity.describe()} but root privileges came back")


def runtime_paths_of(app: Any, cfg: Any, extra: Iterable[str] = ()) -> list[str]:
    """Files the running daemon writes or unlinks: log files of app.loggers and unix
    listener sockets, plus ``extra`` (pidfile, paniclog...)."""
    from ecelerity.config.scopes import LISTENER_KINDS
    from ecelerity.log.service import writers_of

    found = [str(p) for p in extra if p]
    loggers = getattr(app, "loggers", None)
    for sink in getattr(loggers, "sinks", []) or []:
        found.extend(str(w.path) for w in writers_of(sink) if getattr(w, "path", None))
    for kind in LISTENER_KINDS:
        try:
            specs = cfg.listens(kind)
        except KeyError:
            continue
        found.extend(str(s.path) for s in specs if s.kind == "unix" and s.enabled and s.path)
    return found


def become(identity: Identity | None, app: Any, cfg: Any, *, extra_paths: Iterable[str] = (),
           trees: Iterable[str] = ()) -> str:
    """Hand the runtime files over and drop; returns the paniclog line ("" if no identity).
    ``trees`` (the spool, a worker's run directory) are checked to be reachable after it."""
    if identity is None:
        return ""
    spool_dirs = [os.path.abspath(tree) for tree in trees]
    recursive, single = chown_targets(runtime_paths_of(app, cfg, extra_paths), spool_dirs)
    changed = hand_over(identity, recursive, single)
    warnings = [f"'{tree}' is out of reach of {identity.user} (a parent directory is "
                f"closed to it): writes there will fail (the spool refuses messages)"
                for tree in spool_dirs if not readable_by(tree, identity, 0o7)]
    warnings.append(drop_privileges(identity))
    return "; WARNING: ".join([f"privileges dropped to {identity.describe()}; {changed} files "
                               f"handed over", *filter(None, warnings)])
