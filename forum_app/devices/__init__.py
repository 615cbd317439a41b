"""Door devices: per-device bearer tokens for check-in stations that do not log in (a handheld
scanner's app, a kiosk), created and revoked by the event's organisers."""
