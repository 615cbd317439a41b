"""gunicorn settings for the benchmarks (bench/harness.py passes `-c bench/gunicorn_bench.py`).

The production settings, ../gunicorn.conf.py, when it exists (workers' class, preloading, hooks,
time-outs, logging), with one change: gunicorn's access log is left to the command line
(`--access-logfile`, `--access-logformat`), where the benchmarks read each request's duration.
The production file's `logconfig_dict` names the "gunicorn.access" logger (off unless
GUNICORN_ACCESS_LOG=1), and gunicorn applies `logconfig_dict` after `--access-logfile`: left as it
is, it would silently empty the benchmarks' access log. Command-line options (`-w`, `-b`) win
over both files.
"""
from pathlib import Path

_PRODUCTION = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
PRODUCTION_SETTINGS = _PRODUCTION.exists()

if PRODUCTION_SETTINGS:
    exec(compile(_PRODUCTION.read_text(), str(_PRODUCTION), "exec"))  # noqa: S102 - our own settings file
    if isinstance(globals().get("logconfig_dict"), dict):
        logconfig_dict = {
            **logconfig_dict,  # noqa: F821
            "loggers": {
                name: value
                for name, value in logconfig_dict.get("loggers", {}).items()  # noqa: F821
                if name != "gunicorn.access"
            },
        }
