"""Data safety: backups and restores (`flask backup`, `flask restore`) and the purge of an event's
personal data once it is no longer needed (`flask purge-personal-data`)."""
