"""Exports for organisers: registrations as CSV and XLSX (the list's filters), attendance sheets as PDF."""
from __future__ import annotations

import csv
import io

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook

from forum_app.registration import exports, services


@pytest.fixture
def organiser(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    return client


def person(event, first: str, last: str, **values):
    email = values.pop("email", f"{first}.{last}@example.org".lower().replace(" ", "").replace("'", ""))
    return services.register(event, services.RegistrationInput(first, last, email, consent=True, **values), source="desk").registration


@pytest.fixture
def people(demo_event):
    a1 = next(s for s in demo_event.sessions if s.code == "A1")
    a1.capacity = 2
    return {
        "nadia": person(demo_event, "Nadia", "Bénali", organisation="IREV", job_title="Chargée de mission",
                        category="centre_ressources", territory="Hauts-de-France", workshop_codes=["A1"]),
        "liam": person(demo_event, "Liam", "O'Connor", organisation="=HYPERLINK(\"http://evil.example\",\"clic\")",
                       job_title="+33 6 12 34 56 78", category="entreprise", workshop_codes=["A1"]),
        "wei": person(demo_event, "Wei", "Chen", organisation="@SUM(1+1)", job_title="-2+3", workshop_codes=["A1"]),
        "zoe": person(demo_event, "Zoé", "Martin", organisation="Association Horizon", category="association"),
    }  # fmt: skip


def csv_rows(response) -> list[list[str]]:
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_export_parses_back_with_every_registration(organiser, demo_event, people):
    response = organiser.get(f"/e/{demo_event.slug}/admin/registrations/export.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'attachment; filename="inscriptions-citescap2019.csv"' == response.headers["Content-Disposition"]
    rows = csv_rows(response)
    header, data = rows[0], rows[1:]
    assert header[:4] == ["Nom", "Prénom", "Adresse e-mail", "Organisation"]
    assert [row[0] for row in data] == ["Bénali", "Chen", "Martin", "O'Connor"]
    nadia = data[0]
    assert nadia[header.index("Catégorie")] == "Centre de ressources"
    assert nadia[header.index("Statut")] == "Confirmée"
    assert nadia[header.index("Ateliers (place confirmée)")] == "A1"
    chen = data[1]
    assert chen[header.index("Ateliers (liste d'attente)")] == "A1 (n° 1)"


def test_csv_export_uses_the_list_filters(organiser, demo_event, people):
    services.cancel(people["zoe"])

    rows = csv_rows(organiser.get(f"/e/{demo_event.slug}/admin/registrations/export.csv?status=cancelled"))
    searched = csv_rows(organiser.get(f"/e/{demo_event.slug}/admin/registrations/export.csv?q=benali"))

    assert [row[0] for row in rows[1:]] == ["Martin"]
    assert [row[0] for row in searched[1:]] == ["Bénali"]


def test_csv_export_guards_cells_that_look_like_formulas(organiser, demo_event, people):
    rows = csv_rows(organiser.get(f"/e/{demo_event.slug}/admin/registrations/export.csv"))
    header = rows[0]
    by_name = {row[0]: row for row in rows[1:]}

    assert by_name["O'Connor"][header.index("Organisation")] == "'=HYPERLINK(\"http://evil.example\",\"clic\")"
    assert by_name["O'Connor"][header.index("Fonction")] == "'+33 6 12 34 56 78"
    assert by_name["Chen"][header.index("Organisation")] == "'@SUM(1+1)"
    assert by_name["Chen"][header.index("Fonction")] == "'-2+3"
    assert by_name["Martin"][header.index("Organisation")] == "Association Horizon"


def test_guard_cell_leaves_ordinary_values_alone():
    assert exports.guard_cell("Ville de Brest") == "Ville de Brest"
    assert exports.guard_cell("=1+1") == "'=1+1"
    assert exports.guard_cell("\t=cmd") == "'\t=cmd"
    assert exports.guard_cell(12) == 12


# --- XLSX -----------------------------------------------------------------------------------------


def test_xlsx_export_opens_with_a_bold_header_and_no_formula(organiser, demo_event, people):
    response = organiser.get(f"/e/{demo_event.slug}/admin/registrations/export.xlsx")

    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Nom", "Prénom", "Adresse e-mail"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    organisation = header.index("Organisation")
    assert rows["O'Connor"][organisation] == "'=HYPERLINK(\"http://evil.example\",\"clic\")"
    assert rows["Chen"][organisation] == "'@SUM(1+1)"
    assert rows["Bénali"][header.index("Inscrit·e le")].year >= 2019  # a real date, not text
    assert not [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def test_xlsx_export_uses_the_list_filters(organiser, demo_event, people):
    response = organiser.get(f"/e/{demo_event.slug}/admin/registrations/export.xlsx?category=association")

    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Martin"]


# --- Attendance sheets ------------------------------------------------------------------------------


def pdf_text(data: bytes) -> tuple[str, object]:
    document = pdfium.PdfDocument(data)
    page = document[0]
    image = page.render(scale=1).to_pil()
    return page.get_textpage().get_text_range(), image


def test_attendance_sheet_lists_confirmed_seats_with_a_signature_column(organiser, demo_event, people):
    response = organiser.get(f"/e/{demo_event.slug}/admin/sessions/A1/attendance.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text, image = pdf_text(response.data)
    assert image.size[0] > 500 and image.size[1] > image.size[0]  # A4 portrait
    assert "Feuille d'émargement" in text
    assert "Atelier 1" in text and "Salle Vilaine" in text
    assert "jeudi 6 juin" in text and "11 h 30 – 13 h 00" in text
    assert "Signature" in text
    assert "BÉNALI Nadia" in text and "IREV" in text
    assert "O'CONNOR Liam" in text
    assert "CHEN" not in text  # waiting, no seat
    assert "MARTIN" not in text  # not signed up


def test_attendance_sheet_leaves_out_cancelled_people(organiser, demo_event, people):
    services.cancel(people["nadia"])  # Wei Chen gets the freed seat

    text, _ = pdf_text(organiser.get(f"/e/{demo_event.slug}/admin/sessions/A1/attendance.pdf").data)

    assert "BÉNALI" not in text
    assert "CHEN Wei" in text


def test_attendance_sheet_of_an_unknown_session_is_not_found(organiser, demo_event):
    assert organiser.get(f"/e/{demo_event.slug}/admin/sessions/ZZ9/attendance.pdf").status_code == 404
