"""Option table: process-wide settings (spool, files, memory, logging, security, debug).

Mostly global-only options; also the contents of the Security and Debug_Flags
stanzas. The config system itself implements Local_Changes_File and
Local_Changes_Only (loader.py), so those are ``implemented=True``. Read by
registry.py only.
"""
from __future__ import annotations

from .options_common import DEBUG_FLAGS, GLOBAL, SECURITY, opt
from .types import (
    BOOLEAN,
    IntegerType,
    COUNT,
    OCTAL_MODE,
    PATH,
    PERCENT,
    SECONDS,
    SIZE,
    STRING,
    STRING_LIST,
)

class WorkerCountType(IntegerType):
    """``worker_processes``: a whole number from 1 to 64, or ``auto`` (one per CPU, read
    when the daemon starts; the parsed value is the string "auto")."""

    name = "worker_count"

    def __init__(self) -> None:
        super().__init__(min_value=1, max_value=64)
        self.doc = "auto, or an integer from 1 to 64"

    def parse(self, value):  # noqa: ANN001 - a config tree Value
        from .tree import Scalar

        if isinstance(value, Scalar) and value.text.strip().lower() == "auto":
            return "auto"
        return super().parse(value)

    def render(self, py_value) -> str:  # noqa: ANN001
        return "auto" if py_value == "auto" else str(int(py_value))


OPTIONS = [
    # --- configuration system ---
    opt("local_changes_file", PATH, "/opt/msys/ecelerity/etc/local_changes.conf", GLOBAL,
        "file loaded last, overriding everything; online changes are written there",
        implemented=True),
    opt("local_changes_only", BOOLEAN, False, GLOBAL,
        "write online changes only to local_changes_file"),
    # --- files and spool ---
    opt("spoolbase", PATH, "/var/spool/ecelerity", GLOBAL, "base directory of the spool",
        dynamic=False, implemented=True),
    opt("spool_mode", OCTAL_MODE, 0o640, GLOBAL, "mode of new spool files", dynamic=False, implemented=True),
    opt("force_fsync", BOOLEAN, False, GLOBAL, "fsync a message before acknowledging it", implemented=True),
    opt("pidfile", PATH, "/var/run/ecelerity.pid", GLOBAL, "PID file path", dynamic=False, implemented=True),
    # --- processes (daemon/supervisor.py) ---
    opt("worker_processes", WorkerCountType(), 1, GLOBAL,
        "symmetric worker processes under one supervisor (1 = a single process; auto = one "
        "per CPU); limits and throttles are shared so configured values hold machine-wide",
        dynamic=False, implemented=True),
    opt("masterdb_file", PATH, "/var/log/ecelerity/ecdb", GLOBAL,
        "statistics permastore path", dynamic=False),
    opt("license", PATH, "/opt/msys/ecelerity/etc", GLOBAL,
        "license location (accepted for compatibility; no license is needed)", dynamic=False),
    opt("trace_smtp_mode", OCTAL_MODE, 0o640, GLOBAL, "mode of SMTP trace files", dynamic=False, implemented=True),
    opt("_unsafe_spool", BOOLEAN, False, GLOBAL, "allow dangerous spool semantics"),
    opt("unlink_on_spool_in_failure", BOOLEAN, True, GLOBAL,
        "remove malformed spool files at spool-in (else quarantine)"),
    opt("disk_queue_drain_rate", COUNT, 100, GLOBAL, "messages spooled in per scheduler pass at start"),
    opt("transfail_drain_rate", COUNT, 100, GLOBAL,
        "transient failures requeued per scheduler pass"),
    opt("soft_bounce_drain_rate", COUNT, 100, GLOBAL, "soft bounces requeued per scheduler pass"),
    opt("use_mmap", BOOLEAN, False, GLOBAL, "mmap spool files when reading them"),
    opt("use_sendfile", BOOLEAN, False, GLOBAL, "use sendfile() when sending mail"),
    # --- memory and caches ---
    opt("growbuf_size", SIZE, 16384, GLOBAL, "size of one element of a growbuf chain"),
    opt("large_message_threshold", SIZE, 131072, GLOBAL, "size above which a message is large"),
    opt("legacy_message_threshold", SIZE, 1048576, GLOBAL,
        "largest message passed to legacy modules"),
    opt("keep_message_dicts_in_memory", BOOLEAN, False, GLOBAL,
        "keep metadata in memory when memory is low", dynamic=False),
    opt("memory_goal", PERCENT, 90, GLOBAL, "physical memory usage goal"),
    opt("memory_hwm", PERCENT, 95, GLOBAL, "physical memory high-water mark"),
    opt("malloc2mmap_threshold", SIZE, 4092, GLOBAL, "allocations above this use mmap"),
    opt("umem_reap_interval", SECONDS, 60, GLOBAL,  # default: inferred
        "how often unused memory is released"),
    opt("mail_queue_check_vm_interval", SECONDS, 60, GLOBAL,
        "how often mail queues are trimmed for memory"),
    opt("initial_hash_buckets", COUNT, 32, GLOBAL, "initial hash table size"),
    opt("match_cache_size", COUNT, 16384, GLOBAL, "entries of the scope-match cache"),
    opt("match_cache_life", SECONDS, 0, GLOBAL, "lifetime of scope-match cache entries (0 = forever)"),
    opt("pcre_cache_size", COUNT, 100, GLOBAL, "compiled-regex cache size", implemented=True),
    opt("pcre_cache_ttl", SECONDS, 300, GLOBAL, "compiled-regex cache TTL", implemented=True),
    opt("siv_throttle_cache_size", COUNT, 1000, GLOBAL, "maximum number of named throttles", implemented=True),
    opt("server_max_file_descriptors", COUNT, 3000000, GLOBAL, "file descriptor limit to request"),
    opt("max_timed_events_per_iter", COUNT, 1024, GLOBAL, "timed events run per scheduler pass"),
    opt("permastore_interval", SECONDS, 300, GLOBAL, "how often statistics are saved"),
    opt("scheduler", STRING, None, GLOBAL, "IO scheduler override", dynamic=False),
    opt("use_iflist_cache", BOOLEAN, False, GLOBAL, "cache the list of network interfaces",
        dynamic=False),
    opt("binding_auto_replumb", BOOLEAN, False, GLOBAL,  # default: inferred
        "re-plumb binding IP addresses that disappear"),
    opt("binding_auto_replumb_interval", SECONDS, 60, GLOBAL,  # default: inferred
        "how often statically plumbed bindings are checked"),
    # --- identity and logging ---
    opt("hostname", STRING, None, GLOBAL, "override the system hostname", implemented=True),
    opt("control_client_timeout", SECONDS, 60, GLOBAL, "network timeout of control clients", implemented=True),
    opt("timestampformat", STRING, "[%a %d %b %Y %H:%M:%S]", GLOBAL,
        "strftime format of stderr log lines"),
    opt("log_hires_timestamp", BOOLEAN, False, GLOBAL, "microsecond log timestamps", implemented=True),
    opt("debug_throttle_max_num_same_message", COUNT, 0, GLOBAL,
        "identical debug messages logged per period (0 = no limit)"),
    opt("debug_throttle_period_secs", SECONDS, 1, GLOBAL, "debug message throttling period"),
    # --- Security { } ---
    opt("user", STRING, "ecuser", SECURITY, "user to run as after start-up", dynamic=False, implemented=True),
    opt("group", STRING, "ecuser", SECURITY, "group to run as after start-up", dynamic=False, implemented=True),
    opt("supplemental_groups", STRING_LIST, None, SECURITY,
        "supplemental groups after start-up", dynamic=False, implemented=True),
    opt("chroot", PATH, None, SECURITY, "chroot directory", dynamic=False),
    opt("capabilities", STRING_LIST, None, SECURITY, "root capabilities to retain", dynamic=False),
    # --- Debug_Flags { } : subsystems logged at each paniclog level ---
    opt("debug", STRING_LIST, None, DEBUG_FLAGS, "subsystems logged at DEBUG", implemented=True),
    opt("info", STRING_LIST, None, DEBUG_FLAGS, "subsystems logged at INFO", implemented=True),
    opt("notice", STRING_LIST, None, DEBUG_FLAGS, "subsystems logged at NOTICE", implemented=True),
    opt("warning", STRING_LIST, None, DEBUG_FLAGS, "subsystems logged at WARNING", implemented=True),
    opt("error", STRING_LIST, ["ALL"], DEBUG_FLAGS, "subsystems logged at ERROR", implemented=True),
    opt("critical", STRING_LIST, ["ALL"], DEBUG_FLAGS, "subsystems logged at CRITICAL", implemented=True),
]
