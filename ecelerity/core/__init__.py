"""Core message model: IDs (msgid), the envelope, and the durable spool.

msgid.py      Momentum-form IDs for messages, batches and connections.
envelope.py   Envelope/Recipient: the SMTP envelope and context of one message.
spool.py      Spool: store before 250, read back at start-up, remove when done.
              Helpers: spool_format (records), spool_records (schemas), spool_commit
              (group commit off the hub), spool_in (spool-in and quarantine).
show.py       ec_show: the offline spool viewer.

Nothing here speaks SMTP or reads configuration: callers pass values in.
"""
