"""Rapporteurs' photos: resized, turned upright, stripped of every metadata block, stored under a
random name, refused with a message when they are not images, too heavy or decompression bombs,
and served only to the staff who may read the session."""
from __future__ import annotations

import io
import random
import re
import struct
import uuid
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageCms, ImageOps

from forum_app.errors import InvalidInput
from forum_app.extensions import db
from forum_app.notes import domain, photos
from forum_app.notes.models import NoteItem, RapporteurAssignment
from forum_app.programme.models import Session

GPS_IFD = 0x8825
ORIENTATION = 0x0112
RED, BLUE = (220, 20, 20), (20, 20, 220)


# --- real images, made here -------------------------------------------------------------


def _camera_jpeg(width=4000, height=3000, orientation=6) -> bytes:
    """A phone photo as sent: top half red, bottom half blue as stored, an EXIF block with a GPS
    position, the camera and an orientation tag, an XMP packet, a comment, a colour profile and an
    IPTC block."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width, height // 2))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "MarqueSecrete"  # Make
    exif[0x0110] = "TestCam 3000"  # Model
    exif[0x0132] = "2019:06:06 11:45:00"  # DateTime
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}  # Paris
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description photoshop:City="XMP-CITY-MARK"/></rdf:RDF></x:xmpmeta>')
    out = io.BytesIO()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image.save(out, "JPEG", quality=90, exif=exif, xmp=xmp, comment=b"COMMENT-MARK", icc_profile=icc)
    data = out.getvalue()
    iptc = b"\x1c\x02\x74" + struct.pack(">H", 16) + b"IPTC-COPY-MARK!!"
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    app13 = b"Photoshop 3.0\x00" + resource
    return data[:2] + b"\xff\xed" + struct.pack(">H", len(app13) + 2) + app13 + data[2:]


def _png(size=(300, 200), mode="RGBA", colour=(0, 128, 0, 100)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def _encoded(fmt, size=(64, 48), colour=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def _bomb(side=16000) -> bytes:
    """A PNG of a few kilobytes whose header declares side × side pixels."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    return out.getvalue()


# --- the world ----------------------------------------------------------------------------


def _session(event, code):
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


@pytest.fixture
def uploads(app, tmp_path):
    app.config["NOTES_UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def rapporteur(demo_event, make_user):
    user = make_user("rapporteur", demo_event)
    db.session.add(RapporteurAssignment(user_id=user.id, session_id=_session(demo_event, "A1").id))
    db.session.commit()
    return user


@pytest.fixture
def writer(client, login, rapporteur, uploads):
    login(rapporteur)
    return client


def _form(data: bytes, filename="photo.jpg", content_type="image/jpeg", **fields):
    return {"client_id": uuid.uuid4().hex, "captured_at": datetime.now(UTC).isoformat(),
            "caption": "Visite du chantier", "credit": "Camille Martin", "highlighted": "0",
            **fields, "file": (io.BytesIO(data), filename, content_type)}


def _upload(client, event, form, code="A1", **kwargs):
    return client.post(f"/api/v1/e/{event.slug}/s/{code}/photos", data=form, content_type="multipart/form-data",
                       **kwargs)


def _stored(uploads):
    return sorted(p for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else []


def _items():
    return db.session.scalar(db.select(db.func.count(NoteItem.id)))


# --- what is stored -------------------------------------------------------------------------


def test_camera_photo_is_resized_turned_upright_and_stripped_of_metadata(writer, demo_event, uploads):
    response = _upload(writer, demo_event, _form(_camera_jpeg(), caption="Le chantier", highlighted="1"))

    assert response.status_code == 201, response.json
    item = response.json
    assert (item["kind"], item["text"], item["highlighted"]) == ("photo", "Le chantier", True)
    assert (item["photo"]["width"], item["photo"]["height"]) == (1200, 1600)  # portrait: the tag said so
    assert item["photo"]["credit"] == "Camille Martin"
    [path] = _stored(uploads)
    assert path.parent == uploads / str(demo_event.id)
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", path.name)
    assert item["photo"]["url"] == f"/e/{demo_event.slug}/notes/photos/{path.name}"
    raw = path.read_bytes()
    stored = Image.open(path)
    assert stored.format == "JPEG" and stored.size == (1200, 1600) and stored.info.get("progressive")
    # Turned upright: what was the top (red) of the stored picture is now on the right.
    stored = stored.convert("RGB")
    left, right = stored.getpixel((100, 800)), stored.getpixel((1100, 800))
    assert left[2] > 150 > left[0] and right[0] > 150 > right[2]
    # No metadata at all: no EXIF (so no GPS), no XMP, no IPTC, no comment, no colour profile.
    assert len(Image.open(path).getexif()) == 0
    assert not {"exif", "xmp", "photoshop", "comment", "icc_profile"} & set(Image.open(path).info)
    for mark in (b"Exif", b"MarqueSecrete", b"TestCam", b"2019:06:06", b"XMP-CITY-MARK", b"ns.adobe.com",
                 b"IPTC-COPY-MARK", b"Photoshop", b"COMMENT-MARK"):
        assert mark not in raw, mark


def test_camera_photo_really_carried_the_metadata_that_is_stripped():
    sent = Image.open(io.BytesIO(_camera_jpeg(400, 300)))

    assert sent.getexif()[ORIENTATION] == 6
    assert sent.getexif().get_ifd(GPS_IFD)[1] == "N"
    assert "xmp" in sent.info and "photoshop" in sent.info and sent.info["comment"] == b"COMMENT-MARK"
    assert "icc_profile" in sent.info


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_turned_like_pillows_reference(app, orientation):
    quadrants = Image.new("RGB", (80, 40), RED)
    quadrants.paste(BLUE, (40, 0, 80, 20))
    quadrants.paste((20, 200, 20), (0, 20, 40, 40))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    out = io.BytesIO()
    quadrants.save(out, "PNG", exif=exif)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue())))

    image, fmt = photos.process(out.getvalue())

    assert fmt == "JPEG" and image.size == expected.size
    corners = [(5, 5), (image.width - 5, 5), (5, image.height - 5), (image.width - 5, image.height - 5)]
    assert [image.getpixel(c) for c in corners] == [expected.convert("RGB").getpixel(c) for c in corners]


def test_png_with_transparency_stays_a_png_with_its_alpha(writer, demo_event, uploads):
    response = _upload(writer, demo_event, _form(_png((2400, 1200)), "logo.png", "image/png"))

    assert response.status_code == 201, response.json
    assert (response.json["photo"]["width"], response.json["photo"]["height"]) == (1600, 800)
    [path] = _stored(uploads)
    stored = Image.open(path)
    assert path.suffix == ".png" and stored.format == "PNG" and stored.mode == "RGBA"
    red, green, blue, alpha = stored.getpixel((10, 10))
    assert alpha == 100 and red < 3 and abs(green - 128) <= 2 and blue < 3


def test_opaque_png_and_webp_are_stored_as_jpeg(writer, demo_event, uploads):
    png = _upload(writer, demo_event, _form(_png(mode="RGB", colour=(200, 10, 10)), "capture.png", "image/png"))
    webp = _upload(writer, demo_event, _form(_encoded("WEBP"), "photo.webp", "image/webp"))

    assert (png.status_code, webp.status_code) == (201, 201)
    assert [Image.open(p).format for p in _stored(uploads)] == ["JPEG", "JPEG"]
    assert all(p.suffix == ".jpg" for p in _stored(uploads))


def test_small_photo_is_never_enlarged(writer, demo_event):
    response = _upload(writer, demo_event, _form(_encoded("JPEG", (640, 480))))

    assert (response.json["photo"]["width"], response.json["photo"]["height"]) == (640, 480)


# --- what is refused ------------------------------------------------------------------------


def test_text_file_named_like_a_jpeg_is_refused_with_a_message(writer, demo_event, uploads):
    response = _upload(writer, demo_event, _form(b"Ceci n'est pas une photo.\n" * 40, "photo.jpg", "image/jpeg"))

    assert response.status_code == 422
    assert response.json["message"] == "Ce fichier n'est pas une image (JPEG, PNG ou WebP)."
    assert response.json["field"] == "file"
    assert _stored(uploads) == [] and _items() == 0


def test_image_in_another_format_is_refused(writer, demo_event, uploads):
    response = _upload(writer, demo_event, _form(_encoded("GIF"), "anim.gif", "image/gif"))

    assert response.status_code == 422
    assert response.json["message"] == "Ce fichier n'est pas une image (JPEG, PNG ou WebP)."
    assert _stored(uploads) == []


def test_file_just_over_the_size_limit_is_refused_with_413(writer, demo_event, uploads):
    heavy = _encoded("JPEG") + b"\0" * (domain.UPLOAD_MAX_BYTES + 1)

    response = _upload(writer, demo_event, _form(heavy))

    assert response.status_code == 413 and response.is_json
    assert response.json["message"] == "Image trop lourde : 15 Mo au plus."
    assert _stored(uploads) == [] and _items() == 0


def test_body_far_over_the_size_limit_is_refused_before_being_read(writer, demo_event, uploads):
    response = _upload(writer, demo_event, _form(b"\xff\xd8" + b"\0" * (20 * 1024 * 1024)))

    assert response.status_code == 413 and response.is_json
    assert response.json["message"] == "Image trop lourde : 15 Mo au plus."
    assert _stored(uploads) == []


def test_chunked_body_over_the_size_limit_is_refused_with_413(writer, demo_event, uploads):
    body = (b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
            + b"\xff\xd8" + b"\0" * (domain.UPLOAD_MAX_BYTES + 128 * 1024) + b"\r\n--XX--\r\n")

    response = writer.post(f"/api/v1/e/{demo_event.slug}/s/A1/photos", input_stream=io.BytesIO(body),
                           headers={"Content-Type": "multipart/form-data; boundary=XX", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})  # as gunicorn says of chunked bodies

    assert response.status_code == 413
    assert response.json["message"] == "Image trop lourde : 15 Mo au plus."
    assert _stored(uploads) == []


@pytest.mark.parametrize("side", [16000, 8000])  # 256 Mpx (Pillow refuses too), 64 Mpx (Pillow only warns)
def test_decompression_bomb_is_refused_with_a_message(writer, demo_event, uploads, side):
    bomb = _bomb(side)
    assert len(bomb) < 64 * 1024  # small on disk, huge in memory

    response = _upload(writer, demo_event, _form(bomb, "petit.png", "image/png"))

    assert response.status_code == 422
    assert response.json["message"] == "Image trop grande : 50 mégapixels au plus."
    assert _stored(uploads) == [] and _items() == 0


def test_decompression_bomb_is_refused_without_decoding_a_pixel(app):
    bomb = _bomb(8000)
    decoded_before = Image.core.get_stats()["new_count"]  # Pillow counts every image memory it allocates

    with pytest.raises(InvalidInput) as refused:
        photos.process(bomb)

    assert refused.value.message == "Image trop grande : 50 mégapixels au plus."
    assert Image.core.get_stats()["new_count"] == decoded_before


def test_refused_caption_removes_the_stored_file(writer, demo_event, uploads):
    response = _upload(writer, demo_event, _form(_encoded("JPEG"), caption="x" * (domain.CAPTION_MAX + 1)))

    assert response.status_code == 422 and response.json["field"] == "text"
    assert _stored(uploads) == [] and _items() == 0


def test_missing_file_is_refused_with_a_message(writer, demo_event, uploads):
    form = _form(b"")
    del form["file"]

    response = _upload(writer, demo_event, form)

    assert response.status_code == 422 and response.json["field"] == "file"
    assert response.json["message"] == "Aucun fichier reçu : choisissez une photo."


def test_json_body_is_refused_with_415(writer, demo_event):
    response = writer.post(f"/api/v1/e/{demo_event.slug}/s/A1/photos", json={"client_id": uuid.uuid4().hex})

    assert response.status_code == 415 and response.is_json


# --- retries and roles ----------------------------------------------------------------------


def test_replayed_upload_returns_the_same_item_and_keeps_one_file(writer, demo_event, uploads):
    photo = _camera_jpeg(800, 600)
    form = _form(photo)
    first = _upload(writer, demo_event, form)
    form["file"] = (io.BytesIO(photo), "photo.jpg", "image/jpeg")

    again = _upload(writer, demo_event, form)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"] and again.json["photo"] == first.json["photo"]
    assert len(_stored(uploads)) == 1 and _items() == 1


def test_rapporteur_of_another_session_is_refused_and_nothing_is_written(writer, demo_event, uploads):
    response = _upload(writer, demo_event, _form(_camera_jpeg(800, 600)), code="A2")

    assert response.status_code == 403 and response.is_json
    assert _stored(uploads) == [] and _items() == 0


def test_upload_with_csrf_on_needs_the_header_and_takes_a_10_mb_photo(app, demo_event, make_user, uploads):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("organiser", demo_event)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token})
    noise = Image.frombytes("RGB", (1900, 1900), random.Random(6).randbytes(1900 * 1900 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    big = out.getvalue()
    assert 10 * 1024 * 1024 < len(big) < domain.UPLOAD_MAX_BYTES  # over the site's 5 MB form limit

    without = _upload(client, demo_event, _form(_encoded("JPEG")))
    with_header = _upload(client, demo_event, _form(big, "scan.png", "image/png"), headers={"X-CSRFToken": token})

    assert without.status_code == 400 and without.json["code"] == "csrf"
    assert with_header.status_code == 201, with_header.json
    assert (with_header.json["photo"]["width"], with_header.json["photo"]["height"]) == (1600, 1600)


# --- serving ------------------------------------------------------------------------------


@pytest.fixture
def served(writer, demo_event, uploads):
    item = _upload(writer, demo_event, _form(_camera_jpeg(800, 600))).json
    writer.post("/logout")
    return item


def _get(app, user, url, login=True):
    client = app.test_client()
    if user is not None:
        assert client.post("/login", data={"email": user.email, "password": "correct-horse-battery"}).status_code == 302
    return client.get(url)


def test_photo_is_served_to_its_rapporteur_and_the_organisers_with_long_private_caching(
        app, demo_event, make_user, rapporteur, served, uploads):
    for user in (rapporteur, make_user("organiser", demo_event), make_user(None, admin=True)):
        response = _get(app, user, served["photo"]["url"])

        assert response.status_code == 200, user.email
        assert response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data == _stored(uploads)[0].read_bytes()


def test_photo_is_refused_to_everyone_else(app, demo_event, make_user, served):
    elsewhere = make_user("rapporteur", demo_event)
    db.session.add(RapporteurAssignment(user_id=elsewhere.id, session_id=_session(demo_event, "A2").id))
    db.session.commit()

    assert _get(app, elsewhere, served["photo"]["url"]).status_code == 403
    assert _get(app, make_user("volunteer", demo_event), served["photo"]["url"]).status_code == 403
    assert _get(app, make_user(None), served["photo"]["url"]).status_code == 403
    anonymous = _get(app, None, served["photo"]["url"])
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_photo_url_comes_with_the_notes_feed(app, demo_event, rapporteur, served):
    client = app.test_client()
    client.post("/login", data={"email": rapporteur.email, "password": "correct-horse-battery"})

    [item] = client.get(f"/api/v1/e/{demo_event.slug}/s/A1/notes").json["items"]

    assert item["photo"]["url"] == served["photo"]["url"]
    assert client.get(item["photo"]["url"]).status_code == 200


@pytest.mark.parametrize("name", [
    "..%2F..%2Fsecret_key", "..%2Fforum.db", "%2E%2E%2F%2E%2E%2Fsecret_key",
    "0123456789abcdef0123456789abcdef.gif", "0123456789ABCDEF0123456789ABCDEF.jpg", "abc.jpg",
    ".0123456789abcdef0123456789abcdef.jpg.part", "0123456789abcdef0123456789abcdef.jpg",  # well formed, unknown
])
def test_unknown_or_malformed_photo_names_are_not_found(app, demo_event, make_user, served, name):
    organiser = make_user("organiser", demo_event)

    assert _get(app, organiser, f"/e/{demo_event.slug}/notes/photos/{name}").status_code == 404


def test_photo_of_one_event_is_not_found_under_another(app, demo_event, make_user, served):
    from datetime import date

    from forum_app.programme.models import Event

    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.commit()
    name = served["photo"]["url"].rsplit("/", 1)[1]

    assert _get(app, make_user(None, admin=True), f"/e/autre-forum/notes/photos/{name}").status_code == 404
