"""Staff audit log: who changed what, when, readable by the event's organisers."""
