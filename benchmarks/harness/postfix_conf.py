"""main.cf and master.cf text for a private, loopback-only Postfix used as the competitor.

Who calls it: peers.PostfixPeer. It must never touch the system Postfix (/etc/postfix):
everything lives in the instance's own config_directory and queue_directory, smtpd
listens on 127.0.0.1:PORT only, and nothing is delivered anywhere but the sink given.
"""
from __future__ import annotations

MASTER_CF = """\
127.0.0.1:{port} inet n - n - {smtpd_limit} smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {base}/etc
queue_directory = {base}/queue
data_directory = {base}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = {base}
maillog_file = {base}/maillog
myhostname = postfix.bench.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{sink_port}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
default_process_limit = {process_limit}
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_connection_rate_limit = 0
biff = no
append_dot_mydomain = no
smtputf8_enable = no
{extra}
"""

# accept: every message is put on hold by smtpd (cleanup writes it, fsynced, straight
# into the hold queue; the queue manager never sees it): reception with spooling and
# no delivery, like ecelerity without delivery and aiosmtpd writing files.
ACCEPT_EXTRA = "smtpd_client_restrictions = check_client_access static:HOLD\n"

# Postfix's default import_environment (3.7); the slowdisk scenario appends LD_PRELOAD=...
IMPORT_ENVIRONMENT = ("MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C "
                      "POSTLOG_SERVICE POSTLOG_HOSTNAME")


def main_cf(base: str, *, sink_port: int, sessions: int, extra: str = "") -> str:
    return MAIN_CF.format(base=base, sink_port=sink_port, process_limit=max(100, sessions + 20),
                          extra=extra)


def master_cf(port: int, *, sessions: int) -> str:
    return MASTER_CF.format(port=port, smtpd_limit=max(100, sessions + 10))
