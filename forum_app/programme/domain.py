"""Pure programme rules on plain values: no Flask, no database. Tested without an app."""
from __future__ import annotations

# --- Public programme: time slots, now/next, filters (section owned by the public pages) ---

# --- Clashes: one room or one person in two places at once (section owned by the organiser screens) ---
