"""Language choice and French-first formatting of dates, times and numbers."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale

from forum_app.extensions import babel

LANG_COOKIE = "lang"


def select_locale() -> str:
    if not has_request_context():  # the CLI, mail threads, scripts: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in supported:
        return asked
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in supported:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale() or "fr")


def local_time(moment: datetime, tz_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz_name))


def format_day(day: date | datetime, *, with_year: bool = False, locale: str | None = None) -> str:
    """'jeudi 6 juin' (or 'jeudi 6 juin 2019'); 'Thursday 6 June' in English."""
    locale = locale or current_language()
    pattern = "EEEE d MMMM y" if with_year else "EEEE d MMMM"
    return format_date(day, pattern, locale=locale)


def format_short_day(day: date | datetime, locale: str | None = None) -> str:
    """'jeu. 6 juin' for day tabs."""
    locale = locale or current_language()
    return format_date(day, "EEE d MMM", locale=locale)


def format_clock(moment: datetime, locale: str | None = None) -> str:
    """'14 h 15' / '9 h 30' in French (the French typographic rule); '14:15' in English."""
    locale = locale or current_language()
    if locale.startswith("fr"):
        return f"{moment.hour} h {moment.minute:02d}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def format_duration(minutes: int, locale: str | None = None) -> str:
    locale = locale or current_language()
    hours, mins = divmod(minutes, 60)
    if locale.startswith("fr"):
        if hours and mins:
            return f"{hours} h {mins:02d}"
        return f"{hours} h" if hours else f"{mins} min"
    if hours and mins:
        return f"{hours} h {mins} min"
    return f"{hours} h" if hours else f"{mins} min"


def capitalise_first(text: str) -> str:
    """'jeudi 6 juin' -> 'Jeudi 6 juin' (Jinja's `capitalize` would lower-case 'June' in English)."""
    return text[:1].upper() + text[1:]


def format_number(value: float | int, locale: str | None = None) -> str:
    return format_decimal(value, locale=locale or current_language())


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="../translations")
    app.jinja_env.filters.update(
        day=format_day,
        short_day=format_short_day,
        clock=format_clock,
        duration=format_duration,
        number=format_number,
        capfirst=capitalise_first,
    )

    @app.after_request
    def remember_language(response):
        asked = request.args.get("lang")
        if asked in app.config["LANGUAGES"] and request.cookies.get(LANG_COOKIE) != asked:
            response.set_cookie(
                LANG_COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
            )
        response.vary.add("Cookie")
        return response

    @app.context_processor
    def language_context():
        return {"current_language": current_language()}
