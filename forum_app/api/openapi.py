"""The OpenAPI 3.1 document of the JSON API under `/api/v1`, served at `GET /api/v1/openapi.json`.

Built from the same limits the code enforces (checkin.domain, notes.domain, badges.domain), so a
limit changed there changes the document too. Schemas are components referenced by `$ref`, never
copied. tests/test_openapi.py checks the document against the OpenAPI 3.1 meta-schema, that every
rule of the app under /api/v1 is documented with its methods, and that real answers conform;
tests/test_api_fuzz.py fuzzes the API from it (schemathesis).

Paths are relative to the server URL `/api/v1`. The document is public (it holds no data).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Flask, current_app, request

from forum_app.badges import domain as badge_domain
from forum_app.checkin import domain as checkin_domain
from forum_app.db import MAX_ID
from forum_app.notes import domain as notes_domain

VERSION = "1.0.0"
SERVER = "/api/v1"
CACHE_CONTROL = "public, max-age=300"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _response_ref(status: int | str) -> Schema:
    return {"$ref": f"#/components/responses/{RESPONSES[str(status)][0]}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null (3.1: a type list, or a oneOf around a $ref)."""
    if set(schema) == {"$ref"}:
        return {"oneOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [*(kind if isinstance(kind, list) else [kind]), "null"]}


def obj(properties: dict[str, Schema], *, required: list[str] | tuple[str, ...] = (), description: str = "",
        additional: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    if not additional:
        schema["additionalProperties"] = False
    return schema


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
DATE: Schema = {"type": "string", "format": "date"}
ID: Schema = {"type": "integer", "minimum": 1}
ROW_ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}  # an id the client sends: a row's

# --------------------------------------------------------------------------- schemas


def _schemas() -> dict[str, Schema]:
    client_id = {
        "type": "string",
        "minLength": checkin_domain.CLIENT_ID_MIN,
        "maxLength": checkin_domain.CLIENT_ID_MAX,
        "pattern": "^[A-Za-z0-9_-]+$",
        "description": "Made on the device (a UUID without dashes will do); a retry with the same id gets the "
        "first answer back (200) and records nothing more.",
    }
    device_time = {
        **DATE_TIME,
        "minLength": 10,
        "maxLength": 40,
        "description": "When it happened on the device: ISO 8601 with its UTC offset (2019-06-06T09:12:00+02:00 or ...Z).",
    }
    return {
        "Error": obj(
            {
                "error": {"type": "integer", "description": "The HTTP status, repeated."},
                "message": {"type": "string", "description": "For the person at the station, in their language (French by default)."},
                "code": {
                    "type": "string",
                    "description": "Machine-readable reason of a refusal the application decided: csrf, bad_request "
                    "(unreadable JSON), invalid_input (422), not_found, forbidden, not_assigned, conflict, edit_conflict, "
                    "too_large, rate_limited, busy, invalid_token, wrong_event, device_not_allowed. Absent on plain HTTP errors (401, a role's 403, routing 404, 405, "
                    "413, 415).",
                },
                "field": {"type": "string", "description": "The request field at fault (422 mostly)."},
                "problems": array(STRING, description="Every problem found, one message each."),
                "current": {**ref("NoteItem"), "description": "409 edit_conflict only: the item as stored now."},
            },
            required=["error", "message"],
            description="Every error answer of the API, whatever the status.",
        ),
        "ClientId": client_id,
        "DeviceTime": device_time,
        # ---- check-in
        "CheckinRequest": {
            **obj(
                {
                    "badge": {
                        **nullable({"type": "string", "maxLength": checkin_domain.BADGE_MAX}),
                        "description": "The text read in the QR code (any text: an unreadable one is recorded as an "
                        "`invalid` scan, not refused). Either `badge` or `registration_id`.",
                    },
                    "registration_id": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": badge_domain.LIMITS["registration_id"],
                        "description": "The person found by name at the desk (method `search`), instead of a badge.",
                    },
                    "client_id": ref("ClientId"),
                    "station": {**nullable({"type": "string", "maxLength": checkin_domain.STATION_MAX}),
                                "description": "The station's name (\"porte 1\")."},
                    "scanned_at": ref("DeviceTime"),
                    "session": {**nullable({"type": "string", "maxLength": 16}),
                                "description": "A workshop door: the session's code (A1...). Absent: the venue entrance. "
                                "An unknown code is a 422."},
                    "force": {"type": "boolean", "default": False,
                              "description": "An organiser lets someone in without a seat at a workshop door (403 for others)."},
                },
                required=["client_id", "scanned_at"],
            ),
            "anyOf": [
                {"required": ["badge"], "properties": {"badge": {"type": "string", "pattern": "\\S"}}},
                {"required": ["registration_id"], "properties": {"badge": {"enum": [None, ""]}}},
            ],
        },
        "Workshop": obj(
            {"code": STRING, "title": STRING, "seat": {"type": "string", "enum": ["confirmed", "waitlisted"]},
             "starts_at": DATE_TIME},
            required=["code", "title", "seat", "starts_at"],
        ),
        "Attendee": obj(
            {
                "registration_id": ID,
                "name": STRING,
                "organisation": STRING,
                "job_title": STRING,
                "category": STRING,
                "category_label": STRING,
                "status": STRING,
                "workshops": array(ref("Workshop")),
            },
            required=["registration_id", "name", "organisation", "job_title", "category", "category_label", "status",
                      "workshops"],
        ),
        "CheckinAnswer": obj(
            {
                "outcome": {"type": "string", "enum": list(checkin_domain.OUTCOMES)},
                "attendee": nullable(ref("Attendee")),
                "first_checked_in_at": nullable(DATE_TIME),
                "first_station": nullable(STRING),
                "session": nullable(STRING),
                "station": STRING,
                "method": {"type": "string", "enum": ["badge", "search"]},
                "scanned_at": DATE_TIME,
                "received_at": DATE_TIME,
                "clock_suspect": BOOLEAN,
                "forced": BOOLEAN,
                "checkin_id": ID,
            },
            required=["outcome", "attendee", "first_checked_in_at", "session", "station", "scanned_at", "received_at",
                      "clock_suspect", "checkin_id"],
            description="The door's verdict. A replayed client_id gets the answer stored with the first scan, verbatim.",
        ),
        "UndoAnswer": obj(
            {"id": ID, "outcome": {"type": "string", "enum": list(checkin_domain.COUNTED)},
             "undone_at": nullable(DATE_TIME), "undone_by": nullable(ID)},
            required=["id", "outcome", "undone_at", "undone_by"],
        ),
        "CheckinKit": obj(
            {
                "event": obj({"id": ID, "slug": STRING, "title": STRING, "timezone": STRING},
                             required=["id", "slug", "title", "timezone"]),
                "badge_format": obj(
                    {"prefix": STRING, "version": INTEGER, "encoding": STRING, "payload": STRING, "signature": STRING,
                     "length": INTEGER},
                    required=["prefix", "version", "encoding", "payload", "signature", "length"],
                    description="How a badge's QR text is made (see forum_app/badges/domain.py).",
                ),
                "algorithm": {"type": "string", "enum": ["Ed25519"]},
                "public_keys": array(obj({"key_id": INTEGER, "public_key": {"type": "string", "contentEncoding": "base64"},
                                          "active": BOOLEAN}, required=["key_id", "public_key", "active"])),
                "revoked": array(obj({"registration_id": ID, "serial": INTEGER}, required=["registration_id", "serial"]),
                                 description="Badges of this person with a smaller serial are revoked."),
                "cancelled": array(ID, description="Registrations whose badges are refused."),
                "sessions": array(obj({"code": STRING, "title": STRING, "kind": STRING, "signup_required": BOOLEAN,
                                       "starts_at": DATE_TIME, "ends_at": DATE_TIME},
                                      required=["code", "title", "kind", "signup_required", "starts_at", "ends_at"])),
                "roster": array(obj(
                    {"id": ID, "name": STRING, "first_name": STRING, "last_name": STRING, "organisation": STRING,
                     "job_title": STRING, "category": STRING, "category_label": STRING, "status": STRING,
                     "serial": INTEGER, "workshops": array(obj({"code": STRING, "seat": STRING}, required=["code", "seat"])),
                     "checked_in_at": nullable(DATE_TIME), "checked_in_station": nullable(STRING)},
                    required=["id", "name", "status", "serial", "workshops", "checked_in_at"],
                )),
                "version": {"type": "string", "description": "Changes whenever the kit does: the ETag."},
                "generated_at": DATE_TIME,
            },
            required=["event", "public_keys", "revoked", "cancelled", "sessions", "roster", "version", "generated_at"],
            description="What an offline station needs: keys to verify badges, revoked and cancelled badges, the roster.",
        ),
        "BreakdownRow": obj({"key": STRING, "label": STRING, "registered": INTEGER, "arrived": INTEGER},
                            required=["key", "label", "registered", "arrived"]),
        "Stats": obj(
            {
                "registered": INTEGER,
                "arrived": INTEGER,
                "expected": INTEGER,
                "last_arrival": nullable(DATE_TIME),
                "duplicates": INTEGER,
                "duplicates_from_another_station": INTEGER,
                "refused": {"type": "object", "additionalProperties": INTEGER,
                            "description": "Refused scans per outcome (invalid, revoked...)."},
                "clock_suspect": INTEGER,
                "days": array(DATE),
                "day": nullable(DATE),
                "arrivals_per_10_minutes": array(obj({"start": DATE_TIME, "count": INTEGER}, required=["start", "count"])),
                "by_category": array(ref("BreakdownRow")),
                "by_territory": array(ref("BreakdownRow")),
                "by_delegation": array(ref("BreakdownRow")),
                "sessions": array(obj({"code": STRING, "title": STRING, "capacity": nullable(INTEGER), "confirmed": INTEGER,
                                       "waitlisted": INTEGER, "scanned": INTEGER},
                                      required=["code", "title", "capacity", "confirmed", "waitlisted", "scanned"])),
                "stations": array(obj({"station": STRING, "arrivals": INTEGER, "duplicates": INTEGER},
                                      required=["station", "arrivals", "duplicates"])),
            },
            required=["registered", "arrived", "expected", "last_arrival", "duplicates", "refused", "days", "day",
                      "arrivals_per_10_minutes", "by_category", "by_territory", "by_delegation", "sessions", "stations"],
            description="The arrivals dashboard's figures (no personal data).",
        ),
        # ---- notes
        "Attribution": obj(
            {
                "person_id": {**nullable(ROW_ID), "description": "One of the session's people (their details fill the blanks)."},
                "name": nullable({"type": "string", "maxLength": notes_domain.NAME_MAX}),
                "job_title": nullable({"type": "string", "maxLength": notes_domain.JOB_TITLE_MAX}),
                "organisation": nullable({"type": "string", "maxLength": notes_domain.ORGANISATION_MAX}),
            },
            description="Who said it: a person of the session (person_id) or someone from the floor (a name). "
            "Lengths count after trimming; a job title or organisation needs a name or a person_id.",
        ),
        "NoteKind": {"type": "string", "enum": list(notes_domain.KINDS)},
        "NoteCreate": obj(
            {
                "client_id": ref("ClientId"),
                "kind": {"type": "string", "enum": list(notes_domain.TEXT_KINDS),
                         "description": "`photo` items are made by POST .../photos."},
                "text": {"type": "string", "minLength": 1, "maxLength": notes_domain.TEXT_MAX, "pattern": "\\S",
                         "description": "Stored as typed (markup too), trimmed at both ends; never truncated."},
                "attribution": nullable(ref("Attribution")),
                "captured_at": ref("DeviceTime"),
                "highlighted": {"default": False, "description": "`true` highlights the item; any other value "
                                "leaves it plain (unlike PATCH, which refuses a flag that is not a boolean)."},
            },
            required=["client_id", "kind", "text", "captured_at"],
        ),
        "NoteEdit": obj(
            {
                "version": {**ID, "description": "The version the edit started from. A change of kind, text or "
                            "attribution from an older one is a 409 carrying the current item."},
                "kind": ref("NoteKind"),
                "text": nullable({"type": "string", "maxLength": notes_domain.TEXT_MAX,
                                  "description": f"{notes_domain.CAPTION_MAX} characters at most for a photo's caption."}),
                "attribution": nullable(ref("Attribution")),
                "highlighted": BOOLEAN,
                "deleted": {"type": "boolean", "description": "Soft delete (false restores)."},
                "in_report": {"type": "boolean", "description": "Organisers only (403 otherwise)."},
            },
            required=["version"],
        ),
        "NoteOrder": obj({"ids": array(INTEGER, maxItems=5000, uniqueItems=True,
                                       description="The session's item ids, top first; others keep their order below.")},
                         required=["ids"]),
        "NoteMerge": obj({"into": {**ROW_ID, "description": "The item to keep (same session, not deleted)."}},
                         required=["into"]),
        "PhotoUpload": obj(
            {
                "client_id": ref("ClientId"),
                "captured_at": ref("DeviceTime"),
                "caption": {"type": "string", "maxLength": notes_domain.CAPTION_MAX},
                "credit": {"type": "string", "maxLength": notes_domain.CREDIT_MAX},
                "highlighted": {"type": "string", "enum": ["1", "0", "true", "false", "on", "off", ""]},
                "file": {"type": "string", "contentMediaType": "application/octet-stream",
                         "description": f"A JPEG, PNG or WebP of at most {notes_domain.UPLOAD_MAX_BYTES // (1024 * 1024)} MB "
                         f"and {notes_domain.PIXELS_MAX // 1_000_000} megapixels; stored resized, without metadata."},
            },
            required=["client_id", "captured_at", "file"],
        ),
        "NoteItem": obj(
            {
                "id": ID,
                "client_id": STRING,
                "session": nullable(STRING),
                "kind": ref("NoteKind"),
                "text": STRING,
                "attribution": nullable(obj({"person_id": nullable(ID), "name": STRING, "job_title": STRING,
                                             "organisation": STRING},
                                            required=["person_id", "name", "job_title", "organisation"])),
                "photo": nullable(obj({"url": nullable(STRING), "width": nullable(INTEGER), "height": nullable(INTEGER),
                                       "credit": nullable(STRING)}, required=["url", "width", "height", "credit"])),
                "captured_at": DATE_TIME,
                "updated_at": nullable(DATE_TIME),
                "author_id": nullable(ID),
                "version": ID,
                "position": INTEGER,
                "highlighted": BOOLEAN,
                "in_report": BOOLEAN,
                "deleted": BOOLEAN,
                "merged_into": nullable(ID),
                "seq": INTEGER,
            },
            required=["id", "client_id", "session", "kind", "text", "attribution", "photo", "captured_at", "version",
                      "position", "highlighted", "in_report", "deleted", "merged_into", "seq"],
        ),
        "NoteFeed": obj(
            {
                "session": obj(
                    {"code": STRING, "title": STRING,
                     "people": array(obj({"id": ID, "name": STRING, "job_title": STRING, "organisation": STRING,
                                          "role": STRING}, required=["id", "name", "job_title", "organisation", "role"]))},
                    required=["code", "title", "people"],
                ),
                "items": array(ref("NoteItem")),
                "cursor": {"type": "integer", "minimum": 0, "description": "Ask with ?since=<cursor> next time."},
            },
            required=["session", "items", "cursor"],
        ),
        "NoteList": obj({"items": array(ref("NoteItem"))}, required=["items"]),
    }


# --------------------------------------------------------------------------- responses

# status -> (component name, description); every error answer is an `Error`.
RESPONSES: dict[str, tuple[str, str]] = {
    "304": ("NotModified", "Not modified since the ETag given in If-None-Match (no body)."),
    "400": ("BadRequest", "Unreadable JSON or a body that is not a JSON object (code bad_request), or a missing or "
            "invalid CSRF token (code csrf)."),
    "401": ("Unauthorized", "Not signed in (never a redirect to the login page)."),
    "403": ("Forbidden", "Signed in, but the role at this event (or this session) does not allow it."),
    "404": ("NotFound", "No such event, session, scan or item (or a path parameter of the wrong shape)."),
    "409": ("Conflict", "The state of the resource forbids it."),
    "413": ("PayloadTooLarge", "The body is over the route's limit."),
    "415": ("UnsupportedMediaType", "Not the media type the route reads."),
    "422": ("UnprocessableContent", "A field that cannot be used: `field` names it, `problems` lists every problem."),
    "429": ("TooManyRequests", "Rate limit reached (API_RATE_LIMIT per staff member; code rate_limited): wait "
            "Retry-After seconds and retry."),
    "503": ("ServiceUnavailable", "The database stayed busy too long (code busy): nothing was written; retry after "
            "Retry-After seconds (the offline queues do)."),
}


def _components_responses() -> dict[str, Schema]:
    out: dict[str, Schema] = {}
    for status, (name, description) in RESPONSES.items():
        if status == "304":
            out[name] = {"description": description, "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}}
            continue
        response: Schema = {"description": description, "content": {"application/json": {"schema": ref("Error")}}}
        if status in ("429", "503"):
            response["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": INTEGER}}
        out[name] = response
    return out


def _ok(schema_name: str, description: str, *, etag: bool = False) -> Schema:
    response: Schema = {"description": description,
                        "content": {"application/json": {"schema": ref(schema_name)}}}
    if etag:
        response["headers"] = {"ETag": {"$ref": "#/components/headers/ETag"}}
    return response


def _errors(*statuses: int) -> dict[str, Schema]:
    return {str(status): _response_ref(status) for status in statuses}


def _json_body(schema_name: str) -> Schema:
    return {"required": True, "content": {"application/json": {"schema": ref(schema_name)}}}


# Answers every signed-in route can give before reaching its own logic.
GATE = (401, 403, 404, 429, 503)  # not signed in, role, unknown event, rate limit, database busy
WRITE = (400, 413, 415, 422)  # a JSON body: unreadable / CSRF, too big, not JSON, a field refused

SESSION_ONLY = [{"staffSession": []}]
SESSION_AND_CSRF = [{"staffSession": [], "csrfHeader": []}]
DEVICE = [{"deviceToken": []}]  # the two check-in routes a door device may call (forum_app/devices)


def _operation(operation_id: str, summary: str, tag: str, responses: dict[str, Schema], *,
               write: bool, parameters: list[Schema] | None = None, body: Schema | None = None,
               description: str = "", devices: bool = False) -> Schema:
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "security": (SESSION_AND_CSRF if write else SESSION_ONLY) + (DEVICE if devices else []),
        "responses": dict(sorted(responses.items())),
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    return operation


def _param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def _paths() -> dict[str, Schema]:
    slug, code = _param("slug"), _param("code")
    return {
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {"description": "The OpenAPI 3.1 document of /api/v1.",
                            "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                            "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}}},
                    "304": _response_ref(304),
                    "429": _response_ref(429),
                },
            }
        },
        "/e/{slug}/checkins": {
            "parameters": [slug],
            "post": _operation(
                "checkIn", "Record a scan at a door", "check-in",
                {"201": _ok("CheckinAnswer", "Recorded (refused scans too: see `outcome`)."),
                 "200": _ok("CheckinAnswer", "A replayed client_id: the first answer, nothing recorded."),
                 **_errors(*GATE, *WRITE)},
                write=True, body=_json_body("CheckinRequest"), devices=True,
                description="Volunteers and organisers of the event (site admins too), or a door device of the event "
                "with its bearer token (no CSRF header then). A 403 also answers `force` sent by anyone but an "
                "organiser. Body at most 8 KiB.",
            ),
        },
        "/e/{slug}/checkin-kit": {
            "parameters": [slug],
            "get": _operation(
                "checkinKit", "What an offline station downloads", "check-in",
                {"200": _ok("CheckinKit", "The kit; its ETag is `version`.", etag=True),
                 "304": _response_ref(304), **_errors(*GATE)},
                write=False, parameters=[_param("If-None-Match")], devices=True,
                description="Volunteers and organisers of the event, or a door device of the event (bearer token).",
            ),
        },
        "/e/{slug}/checkins/{checkin_id}/undo": {
            "parameters": [slug, _param("checkin_id")],
            "post": _operation(
                "undoCheckIn", "Take back an arrival", "check-in",
                {"200": _ok("UndoAnswer", "Undone (undoing an undone scan changes nothing)."),
                 **_errors(*GATE, 400, 409)},
                write=True,
                description="Organisers. The person's other counted scans at that door are undone too; a refused "
                "scan has nothing to undo (409). No body is read.",
            ),
        },
        "/e/{slug}/stats": {
            "parameters": [slug],
            "get": _operation(
                "stats", "Arrival figures", "check-in",
                {"200": _ok("Stats", "The figures.", etag=True), "304": _response_ref(304), **_errors(*GATE, 422)},
                write=False, parameters=[_param("day"), _param("If-None-Match")],
                description="Organisers. Arrivals per 10 minutes of one day, breakdowns, per-session attendance.",
            ),
        },
        "/e/{slug}/s/{code}/notes": {
            "parameters": [slug, code],
            "get": _operation(
                "listNotes", "A session's note items (the live feed)", "notes",
                {"200": _ok("NoteFeed", "Items, newest position first.", etag=True), "304": _response_ref(304),
                 **_errors(*GATE, 422)},
                write=False, parameters=[_param("since"), _param("If-None-Match")],
                description="Organisers, and the rapporteurs of this session (403 code not_assigned for others).",
            ),
            "post": _operation(
                "addNote", "Capture an item", "notes",
                {"201": _ok("NoteItem", "Created."),
                 "200": _ok("NoteItem", "A replayed client_id: the item as first created, whatever the body says "
                            "now (even a body that would be refused)."),
                 **_errors(*GATE, *WRITE)},
                write=True, body=_json_body("NoteCreate"),
                description="Organisers, and the rapporteurs of this session. Idempotent by client_id. Body at most 64 KiB.",
            ),
        },
        "/e/{slug}/s/{code}/notes/order": {
            "parameters": [slug, code],
            "post": _operation(
                "reorderNotes", "Put the session's items in an order", "notes",
                {"200": _ok("NoteList", "Every item of the session, in the new order."), **_errors(*GATE, *WRITE)},
                write=True, body=_json_body("NoteOrder"),
                description="An id of another session, or given twice, is a 422.",
            ),
        },
        "/e/{slug}/notes/{item_id}": {
            "parameters": [slug, _param("item_id")],
            "patch": _operation(
                "editNote", "Change an item", "notes",
                {"200": _ok("NoteItem", "The item as stored now."),
                 "409": {"description": "A stale edit of what the item says: `current` is the item as stored "
                         "(code edit_conflict); nothing was written.",
                         "content": {"application/json": {"schema": ref("Error")}}},
                 **_errors(*GATE, *WRITE)},
                write=True, body=_json_body("NoteEdit"),
                description="Flags (highlighted, deleted, in_report) never conflict: the last one wins.",
            ),
        },
        "/e/{slug}/notes/{item_id}/merge": {
            "parameters": [slug, _param("item_id")],
            "post": _operation(
                "mergeNote", "Merge a duplicate into another item", "notes",
                {"200": _ok("NoteItem", "The item kept, with the duplicate's text appended."), **_errors(*GATE, *WRITE)},
                write=True, body=_json_body("NoteMerge"),
                description="Organisers. The duplicate is deleted (restorable) and points to the kept item.",
            ),
        },
        "/e/{slug}/s/{code}/photos": {
            "parameters": [slug, code],
            "post": _operation(
                "addPhoto", "Capture a photo item", "notes",
                {"201": _ok("NoteItem", "Created."),
                 "200": _ok("NoteItem", "A replayed client_id: the item as first created, whatever the form says "
                            "now; the file is not stored."),
                 **_errors(*GATE, 400, 413, 415, 422)},
                write=True,
                body={"required": True, "content": {"multipart/form-data": {"schema": ref("PhotoUpload")}}},
                description="Organisers, and the rapporteurs of this session. The CSRF token may also come as a "
                "`csrf_token` form field.",
            ),
        },
    }


def _parameters() -> dict[str, Schema]:
    return {
        "slug": {"name": "slug", "in": "path", "required": True, "description": "The event (e.g. citescap-2019).",
                 "schema": {"type": "string", "maxLength": 64}},
        "code": {"name": "code", "in": "path", "required": True, "description": "A session's code (A1...).",
                 "schema": {"type": "string", "minLength": 1, "maxLength": 16}},
        "checkin_id": {"name": "checkin_id", "in": "path", "required": True, "description": "A scan (checkin_id of an answer).",
                       "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
        "item_id": {"name": "item_id", "in": "path", "required": True, "description": "A note item.",
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
        "since": {"name": "since", "in": "query", "required": False,
                  "description": "The `cursor` of an earlier answer: only the items changed after it (absent or "
                  "empty: every item).",
                  "schema": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_ID},
                                       {"type": "string", "maxLength": 0}]}},
        "day": {"name": "day", "in": "query", "required": False,
                "description": "YYYY-MM-DD (absent or empty: today, or the last day with arrivals).",
                "schema": {"anyOf": [DATE, {"type": "string", "maxLength": 0}]}},
        "If-None-Match": {"name": "If-None-Match", "in": "header", "required": False,
                          "description": "The ETag of the copy the client holds: 304 when still current.",
                          "schema": STRING},
    }


def build_document() -> dict:
    """The document, as a fresh dict."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "forum_app API",
            "version": VERSION,
            "summary": "Door check-in and rapporteurs' notes of an event-day companion for public-policy forums.",
            "description": (
                "JSON API for door stations and rapporteurs' devices. Staff only: sign in through the `/login` page "
                "(the session cookie), and send the CSRF token of the page (`csrf_token()`, in the station and capture "
                "pages' `data-csrf-token`) in the `X-CSRFToken` header of every POST and PATCH. A door device (a "
                "scanner's own app, a kiosk) may instead send `Authorization: Bearer <token>` to the two routes that "
                "say so (scans and the kit): organisers create and revoke these tokens at /e/<slug>/admin/devices; a "
                "request with a Bearer header is judged on the token alone (401 `invalid_token` when unknown or "
                "revoked, 403 `wrong_event` or `device_not_allowed`) and needs no CSRF header. Every answer is JSON, errors included "
                "(the `Error` schema): 401 when not signed in (never a redirect), 403 for a role that may not, "
                "400 unreadable JSON or CSRF, 413 oversized body, 415 not JSON, 422 a field that cannot be used "
                "(`field` names it; text holding the NUL character U+0000 is one). Messages are in the language "
                "negotiated by Accept-Language (French by default). Unknown query parameters are ignored; of a "
                "repeated one, the first value counts. "
                "Writes are idempotent by the device's `client_id`: a retry gets the first answer (200) instead of 201."
            ),
        },
        "servers": [{"url": SERVER}],
        "tags": [
            {"name": "check-in", "description": "Door stations: scans, the offline kit, arrival figures."},
            {"name": "notes", "description": "Rapporteurs' live notes (key points, quotes, proposals, photos...)."},
            {"name": "meta", "description": "This document."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": _components_responses(),
            "parameters": _parameters(),
            "headers": {"ETag": {"description": "Validator for If-None-Match.", "schema": STRING}},
            "securitySchemes": {
                "staffSession": {
                    "type": "apiKey", "in": "cookie", "name": "session",
                    "description": "The signed session cookie set by POST /login (staff account: volunteer, rapporteur, "
                    "organiser of the event, or site admin).",
                },
                "deviceToken": {
                    "type": "http", "scheme": "bearer",
                    "description": "A door device's token (`fad_` and 43 characters), shown once to the organiser who "
                    "created it at /e/<slug>/admin/devices; never in a URL.",
                },
                "csrfHeader": {
                    "type": "apiKey", "in": "header", "name": "X-CSRFToken",
                    "description": "The CSRF token of the signed-in session (Flask-WTF), on every POST and PATCH; "
                    "400 with code csrf when missing or wrong.",
                },
            },
        },
    }


# --------------------------------------------------------------------------- serving


def _serialised(app: Flask) -> tuple[bytes, str]:
    """The document's bytes and ETag, made once per app (it changes only with the code)."""
    cached = app.extensions.get("forum_openapi")
    if cached is None:
        body = json.dumps(build_document(), ensure_ascii=False, separators=(",", ":")).encode()
        cached = app.extensions["forum_openapi"] = (body, "openapi-" + hashlib.sha1(body).hexdigest()[:20])
    return cached


def openapi_json():
    body, etag = _serialised(current_app)
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def register(bp) -> None:
    """Serve the document at /api/v1/openapi.json, outside the blueprint's /api/v1/e/<slug> prefix but
    under its name (endpoint `api.openapi`), so the API's JSON error handlers answer for it too."""
    bp.record_once(lambda state: state.app.add_url_rule(f"{SERVER}/openapi.json", "api.openapi", openapi_json,
                                                        methods=["GET"]))
