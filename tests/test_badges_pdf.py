"""Badge PDFs as a door volunteer meets them: pages rendered to images, QR codes read back by a real
decoder (zxing-cpp) and verified with the event's public key; names in any script in the text layer."""
from __future__ import annotations

import re
import secrets
from datetime import date

import pypdfium2 as pdfium
import pytest
import zxingcpp

from forum_app.badges import domain, services
from forum_app.badges.models import BadgeKey
from forum_app.extensions import db
from forum_app.programme.models import Event
from forum_app.registration.models import CATEGORIES, Delegation, Registration

MM = 72 / 25.4  # PDF points per millimetre
DPI = 150


def _register(event, first="Élodie", last="Dupont-Moreau", *, status="confirmed", category="collectivite", **fields):
    email = fields.pop("email", f"{secrets.token_hex(4)}@example.org")
    registration = Registration(
        event_id=event.id,
        first_name=first,
        last_name=last,
        email=email,
        email_key=email.lower(),
        organisation=fields.pop("organisation", "Ville de Roubaix"),
        job_title=fields.pop("job_title", "Chargée de mission"),
        category=category,
        status=status,
        access_token=secrets.token_urlsafe(32),
        **fields,
    )
    db.session.add(registration)
    db.session.commit()
    return registration


def _pages(pdf: bytes) -> pdfium.PdfDocument:
    assert pdf.startswith(b"%PDF-")
    return pdfium.PdfDocument(pdf)


def _image(page, dpi: int = DPI):
    return page.render(scale=dpi / 72).to_pil()


def _codes(image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image) if result.format == zxingcpp.BarcodeFormat.QRCode]


def _text(page) -> str:
    """The page's text layer on one line: soft line-break hyphens back, line breaks as spaces."""
    raw = page.get_textpage().get_text_bounded().replace("\x02", "-")
    return re.sub(r"\s+", " ", raw)


def _cell_box(index: int) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) in mm of cell `index` (0-7) of a sheet."""
    row, column = divmod(index, services.SHEET_COLUMNS)
    left = services.SHEET_MARGIN_X + column * services.CELL_W
    top = services.SHEET_MARGIN_Y + row * services.CELL_H
    return left, top, left + services.CELL_W, top + services.CELL_H


def _crop_mm(image, box, dpi: int = DPI):
    scale = dpi / 25.4
    return image.crop(tuple(round(v * scale) for v in box))


def _chars_of(page, needle: str) -> list[tuple[float, float, float, float]]:
    """Boxes (left, top, right, bottom in mm from the top-left corner) of each character of the
    first occurrence of `needle` in the page's text layer."""
    textpage = page.get_textpage()
    text = textpage.get_text_range().replace("\x02", "-")  # same length: indices stay the characters'
    start = text.find(needle)
    assert start >= 0, f"{needle!r} not in the text layer"
    height = page.get_height()
    boxes = []
    for i in range(start, start + len(needle)):
        left, bottom, right, top = textpage.get_charbox(i)
        if right > left:
            boxes.append((left / MM, (height - top) / MM, right / MM, (height - bottom) / MM))
    return boxes


# --- One A6 badge ---


def test_a6_badge_qr_decodes_and_verifies_to_the_person(demo_event):
    person = _register(demo_event)

    pdf = services.badge_pdf(person)

    document = _pages(pdf)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert (round(width / MM), round(height / MM)) == (105, 148)
    codes = _codes(_image(document[0]))
    assert len(codes) == 1
    claims = domain.read_badge(codes[0], services.public_keys(demo_event))
    assert (claims.event_id, claims.registration_id, claims.serial) == (demo_event.id, person.id, 1)
    assert services.verify(demo_event, codes[0]) == ("valid", person)


def test_a6_badge_shows_name_organisation_job_category_and_event(demo_event):
    person = _register(demo_event, "Jean", "N'Diaye", organisation="Entreprise Sàrl", job_title="Gérant", category="entreprise")

    text = _text(_pages(services.badge_pdf(person))[0])

    assert "Jean N'Diaye" in text
    assert "Entreprise Sàrl" in text and "Gérant" in text
    assert "ENTREPRISE" in text  # the category band carries its name, not only a colour
    assert "Cités Cap 2019" in text and "6–7 juin 2019" in text


def test_a6_qr_code_is_at_least_30_mm_wide(demo_event):
    page = _pages(services.badge_pdf(_register(demo_event)))[0]
    image = _image(page, dpi=200).convert("L")
    dark_columns = [x for x in range(image.width) if image.crop((x, round(75 * 200 / 25.4), x + 1, round(130 * 200 / 25.4))).getextrema()[0] < 128]

    assert (dark_columns[-1] - dark_columns[0]) / (200 / 25.4) >= 30


def test_qr_code_uses_alphanumeric_mode_in_a_small_symbol(demo_event):
    import qrcode.util

    text = services.badge_payload(_register(demo_event))
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=0)
    code.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM), optimize=0)
    code.make(fit=True)

    assert len(services.qr_matrix(text)) == 37  # version 5
    assert code.version == 5


# --- A4 sheets ---


def test_a4_sheets_hold_eight_badges_a_page_with_cut_marks(demo_event):
    people = [_register(demo_event, f"Personne{i}", f"Nom{i:02d}", category=CATEGORIES[i % 8]) for i in range(9)]

    document = _pages(services.badge_sheets_pdf(people))

    assert len(document) == 2
    width, height = document[0].get_size()
    assert (round(width / MM), round(height / MM)) == (210, 297)
    first = _image(document[0])
    keys = services.public_keys(demo_event)
    assert sorted(domain.read_badge(code, keys).registration_id for code in _codes(first)) == [p.id for p in people[:8]]
    assert [domain.read_badge(code, keys).registration_id for code in _codes(_image(document[1]))] == [people[8].id]
    # One cell alone: the fourth badge is the fourth person's, and nobody else's.
    cell = _crop_mm(first, _cell_box(3))
    codes = _codes(cell)
    assert len(codes) == 1
    assert services.verify(demo_event, codes[0]) == ("valid", people[3])
    # Cut marks: dark strokes in the margins on the cut lines, white paper just beside them.
    grey = first.convert("L")
    scale = DPI / 25.4
    left, top, right, _bottom = _cell_box(0)
    for x_mm, y_mm in ((left, top - 4), (right, top - 4), (left - 4, top)):
        assert grey.getpixel((round(x_mm * scale), round(y_mm * scale))) < 128, (x_mm, y_mm)
    assert grey.getpixel((round((left + 3) * scale), round((top - 4) * scale))) > 200


def test_sheet_cells_keep_text_inside_their_badge(demo_event):
    long_first, long_last = "Marie-Christine-Alexandrine", "de La Rochefoucauld-Montmorency-Laval"
    people = [
        _register(demo_event, "Jo", "Li"),
        _register(demo_event, long_first, long_last, organisation="Agence nationale de la cohésion des territoires"),
    ]
    page = _pages(services.badge_sheets_pdf(people))[0]

    for index, person in enumerate(people):
        left, top, right, bottom = _cell_box(index)
        qr_left = right - 1.5 - 41
        for box in _chars_of(page, person.last_name.split("-")[-1]):
            assert left < box[0] and box[2] < qr_left + 4.5, box  # left of the QR code (its quiet zone may overlap)
            assert top < box[1] and box[3] < bottom - 11, box  # above the category band


def test_names_in_any_script_render_and_stay_in_the_text_layer(demo_event):
    people = [
        _register(demo_event, "Mohammed", "محمد بن سلمان", category="association"),
        _register(demo_event, "Анна", "Иванова", category="etat"),
        _register(demo_event, "Zoë", "Œuvray-d'Aïcha", category="habitant"),
        _register(demo_event, "Marie-Christine-Alexandrine", "de La Rochefoucauld-Montmorency-Laval", category="elu"),
    ]

    sheet_text = _text(_pages(services.badge_sheets_pdf(people))[0])
    single_text = _text(_pages(services.badge_pdf(people[0]))[0])

    assert "محمد بن سلمان" in sheet_text and "محمد بن سلمان" in single_text
    assert "Анна Иванова" in sheet_text
    assert "Zoë Œuvray-d'Aïcha" in sheet_text
    assert "Marie-Christine-Alexandrine de La Rochefoucauld-Montmorency-Laval" in sheet_text


def test_long_name_on_a6_shrinks_and_stays_above_the_qr_code(demo_event):
    person = _register(demo_event, "Marie-Christine-Alexandrine", "de La Rochefoucauld-Montmorency-Laval")
    short = _register(demo_event, "Jo", "Li")

    long_page = _pages(services.badge_pdf(person))[0]
    short_page = _pages(services.badge_pdf(short))[0]

    long_boxes = _chars_of(long_page, "Laval")
    assert all(8 <= b[0] and b[2] <= 97 and b[3] < 84 for b in long_boxes)
    long_height = long_boxes[0][3] - long_boxes[0][1]
    short_height = _chars_of(short_page, "Li")[0][3] - _chars_of(short_page, "Li")[0][1]
    assert long_height < short_height


def test_sheets_refuse_an_empty_selection(demo_event):
    from forum_app.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.badge_sheets_pdf([])


def test_user_text_cannot_inject_markup_into_the_badge(demo_event):
    person = _register(demo_event, "<b>Eve</b>", '<img src="file:///etc/passwd">', organisation="&amp; Co")

    page = _pages(services.badge_pdf(person))[0]

    text = _text(page).replace(" ", "")  # long words may wrap anywhere
    assert "<b>Eve</b>" in text and '<imgsrc="file:///etc/passwd">' in text and "&amp;Co" in text


# --- Keys, verification, reissue ---


def test_event_key_is_made_once_and_kept(demo_event):
    first = services.event_key(demo_event)
    again = services.event_key(demo_event)

    assert first.id == again.id and first.key_id == 1
    assert len(bytes(first.public_key)) == 32
    assert domain.public_key_for(bytes(first.private_key)) == bytes(first.public_key)


def test_reissued_badge_old_payload_reads_revoked_and_new_valid(demo_event):
    person = _register(demo_event)
    old_code = _codes(_image(_pages(services.badge_pdf(person))[0]))[0]
    services.mark_printed([person])

    services.reissue(person)

    new_code = _codes(_image(_pages(services.badge_pdf(person))[0]))[0]
    assert person.badge_serial == 2 and person.badge_printed_at is None
    assert new_code != old_code
    assert services.verify(demo_event, old_code) == ("revoked", person)
    assert services.verify(demo_event, new_code) == ("valid", person)
    assert services.revoked_serials(demo_event) == {person.id: 2}


def test_badges_printed_with_a_retired_key_still_verify(demo_event):
    person = _register(demo_event)
    old_code = services.badge_payload(person)
    retired = services.event_key(demo_event)
    retired.active = False
    db.session.commit()

    new_key = services.event_key(demo_event)
    new_code = services.badge_payload(person)

    assert new_key.key_id == 2
    assert domain.peek_badge(new_code).key_id == 2
    assert services.verify(demo_event, old_code) == ("valid", person)
    assert services.verify(demo_event, new_code) == ("valid", person)
    assert set(services.public_keys(demo_event)) == {1, 2}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("confirmed", "valid"), ("pending", "not_confirmed"), ("cancelled", "cancelled"), ("rejected", "cancelled")],
)
def test_verify_reports_the_registration_status(demo_event, status, outcome):
    person = _register(demo_event, status=status)

    assert services.verify(demo_event, services.badge_payload(person)) == (outcome, person)


def test_forged_truncated_and_altered_badges_are_invalid(demo_event):
    person = _register(demo_event)
    genuine = services.badge_payload(person)
    claims = domain.peek_badge(genuine)
    forged_claims = domain.BadgeClaims(event_id=claims.event_id, key_id=claims.key_id, registration_id=person.id, serial=claims.serial)
    forged = domain.sign_badge(domain.new_seed(), forged_claims)
    altered = genuine[:40] + ("A" if genuine[40] != "A" else "B") + genuine[41:]

    for text in (forged, genuine[:-5], altered, genuine.lower(), "", "FA:", "x" * 5000):
        assert services.verify(demo_event, text) == ("invalid", None), text


def test_badge_of_another_event_reads_wrong_event(demo_event):
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.commit()
    stranger = _register(other, "Paul", "Autre")
    text = services.badge_payload(stranger)

    assert services.verify(demo_event, text) == ("wrong_event", None)
    assert services.verify(other, text) == ("valid", stranger)


def test_forged_badge_naming_another_event_is_invalid_not_wrong_event(demo_event):
    claims = domain.BadgeClaims(event_id=demo_event.id + 50, key_id=1, registration_id=1, serial=1)

    assert services.verify(demo_event, domain.sign_badge(domain.new_seed(), claims)) == ("invalid", None)


def test_badge_naming_a_registration_of_another_event_is_invalid(demo_event):
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.commit()
    stranger = _register(other, "Paul", "Autre")
    key = services.event_key(demo_event)
    claims = domain.BadgeClaims(event_id=demo_event.id, key_id=key.key_id, registration_id=stranger.id, serial=1)

    assert services.verify(demo_event, domain.sign_badge(bytes(key.private_key), claims)) == ("invalid", None)


# --- Selections and printing ---


def test_selections_pick_the_right_people(demo_event):
    delegation = Delegation(event_id=demo_event.id, name="Hauts-de-France")
    db.session.add(delegation)
    db.session.commit()
    alice = _register(demo_event, "Alice", "Martin", delegation_id=delegation.id)
    bruno = _register(demo_event, "Bruno", "Arnaud")
    _cancelled = _register(demo_event, "Chloé", "Zed", status="cancelled", delegation_id=delegation.id)
    pending = _register(demo_event, "Driss", "Bel", status="pending")

    def pick(raw):
        return services.select_for_printing(demo_event, services.parse_selection(raw))

    assert pick("all") == [bruno, alice]  # by last name
    assert pick(f"delegation:{delegation.id}") == [alice]
    assert pick(f"ids:{alice.id},{pending.id},{_cancelled.id}") == [pending, alice]
    services.mark_printed([bruno])
    assert pick("unprinted") == [alice]
    assert services.print_counts(demo_event) == {"confirmed": 2, "printed": 1, "unprinted": 1}
    assert services.delegation_counts(demo_event) == [(delegation, 1, 1)]


def test_key_rows_are_per_event(demo_event):
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.commit()

    mine, theirs = services.event_key(demo_event), services.event_key(other)

    assert mine.key_id == theirs.key_id == 1
    assert bytes(mine.public_key) != bytes(theirs.public_key)
    assert db.session.scalar(db.select(db.func.count()).select_from(BadgeKey)) == 2


def test_qr_svg_for_pages_has_no_inline_style_and_decodes(demo_event):
    from weasyprint import HTML

    person = _register(demo_event)
    text = services.badge_payload(person)

    svg = str(services.qr_svg(text, label="Code QR du badge d'Élodie"))

    assert "style=" not in svg and "<script" not in svg
    assert 'role="img"' in svg and "aria-label=\"Code QR du badge d&#39;Élodie\"" in svg
    assert 'aria-hidden="true"' in str(services.qr_svg(text))  # unlabelled: its wrapper names it
    page = HTML(string=f'<html><body style="margin:0"><div style="width:60mm;height:60mm">{svg}</div></body></html>').write_pdf()
    assert _codes(_image(_pages(page)[0])) == [text]


def test_qr_png_decodes_to_the_badge_text(demo_event):
    from io import BytesIO

    from PIL import Image

    text = services.badge_payload(_register(demo_event))

    image = Image.open(BytesIO(services.qr_png(text, module_px=6)))

    assert _codes(image.convert("L")) == [text]


def test_badge_of_an_erased_person_reads_cancelled_without_details(demo_event):
    from forum_app.db import utcnow

    person = _register(demo_event)
    text = services.badge_payload(person)
    person.anonymised_at = utcnow()
    person.status = "cancelled"
    db.session.commit()

    assert services.verify(demo_event, text) == ("cancelled", None)
