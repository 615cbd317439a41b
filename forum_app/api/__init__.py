"""The JSON API under /api/v1/e/<slug>/ (staff session + CSRF header)."""
