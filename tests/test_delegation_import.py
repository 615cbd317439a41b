"""Delegation CSV import: the pure reading and checking of rows (no app), then the all-or-nothing
import through the organiser's upload page."""
from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from forum_app.errors import InvalidInput
from forum_app.extensions import db
from forum_app.registration import delegation_import as di
from forum_app.registration import delegation_import_service as import_service
from forum_app.registration import services
from forum_app.registration.models import Delegation, Registration

DEMO = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data"
HDF = (DEMO / "delegation-hauts-de-france.csv").read_bytes()
WITH_ERRORS = (DEMO / "delegation-with-errors.csv").read_bytes()
HEADER = "first_name,last_name,email,organisation,job_title,category,territory,delegation,workshops\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2019, 6, 6, hour, minute, tzinfo=timezone.utc)


def demo_workshops(**people: frozenset[str]) -> dict[str, di.WorkshopSlot]:
    """The demo forum's six workshops: A1-A4 at the same time, then A5-A6."""
    slots = {code: di.WorkshopSlot(code, at(9, 30), at(11), people.get(code, frozenset())) for code in ("A1", "A2", "A3", "A4")}
    slots.update({code: di.WorkshopSlot(code, at(12, 15), at(13, 15), people.get(code, frozenset())) for code in ("A5", "A6")})
    return slots


def check(data: bytes, **kwargs) -> di.Validation:
    kwargs.setdefault("workshops", demo_workshops())
    return di.validate(di.read(data).rows, **kwargs)


def codes(error: di.RowError) -> list[str]:
    return [problem.code for problem in error.problems]


# --- Reading the file ------------------------------------------------------------------------------


def test_read_hauts_de_france_file_gives_twelve_rows_from_line_two():
    parsed = di.read(HDF)

    assert len(parsed.rows) == 12
    assert [row.line for row in parsed.rows][:3] == [2, 3, 4]
    assert parsed.delimiter == ","
    assert parsed.rows[0].values["first_name"] == "Nadia"
    assert parsed.rows[0].values["workshops"] == "A3|A6"


def test_read_keeps_an_unquoted_comma_inside_the_job_title():
    khay = next(row for row in di.read(HDF).rows if row.values["last_name"] == "Khay")

    assert khay.values["job_title"] == "Chef de service « Territoires, cohésion et innovation sociales »"
    assert khay.values["category"] == "collectivité"
    assert khay.values["workshops"] == "A3"
    assert khay.repaired == "job_title"


def test_read_utf8_bom_and_semicolons_like_french_excel():
    data = "\ufeff" + HDF.decode("utf-8").replace(",", ";")

    parsed = di.read(data.encode("utf-8"))

    assert parsed.delimiter == ";"
    assert parsed.columns[0] == "first_name"  # the BOM is not part of the first column's name
    assert len(parsed.rows) == 12
    assert parsed.rows[8].values["first_name"] == "Élodie"


def test_read_windows_1252_file_from_older_excel():
    data = (HEADER.replace(",", ";") + "Élodie;Vandamme;e.v@example.org;Région;Chargée;collectivité;Lille;;A1\n").encode("cp1252")

    parsed = di.read(data)

    assert parsed.encoding == "cp1252"
    assert parsed.rows[0].values["first_name"] == "Élodie"


def test_read_french_column_names():
    data = "Prénom;Nom;Courriel;Structure;Fonction;Catégorie;Territoire;Délégation;Ateliers\nLéa;Tanguy;lea@example.org;Beam;Cheffe;entreprise;Rennes;;A3\n"

    row = di.read(data.encode()).rows[0]

    assert row.values["first_name"] == "Léa" and row.values["last_name"] == "Tanguy"
    assert row.values["email"] == "lea@example.org" and row.values["workshops"] == "A3"


def test_read_line_numbers_count_the_lines_of_a_quoted_multiline_cell():
    data = (HEADER + 'Anne,Leroy,a@example.org,"Ville\nde Roubaix",,,,,\nBruno,Petit,b@example.org,,,,,,\n').encode()

    assert [row.line for row in di.read(data).rows] == [2, 4]


def test_read_skips_blank_lines():
    data = (HEADER + "\nAnne,Leroy,a@example.org,,,,,,\n,,,,,,,,\n\n").encode()

    assert len(di.read(data).rows) == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (PNG, di.NOT_TEXT),
        (b"\x00\x01\x02binary", di.NOT_TEXT),
        (b"", di.EMPTY_FILE),
        (b"  \n ", di.EMPTY_FILE),
        (HEADER.encode(), di.NO_PEOPLE),
        (b"nom,prenom_x\nLeroy,Anne\n", di.MISSING_COLUMNS),
        (b"email,email,first_name,last_name\na@b.fr,a@b.fr,A,B\n", di.DUPLICATE_COLUMNS),
    ],
)
def test_read_refuses_files_it_cannot_use(data, code):
    with pytest.raises(di.ImportFileError) as refused:
        di.read(data)

    assert refused.value.problem.code == code


def test_read_refuses_a_spreadsheet_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")

    with pytest.raises(di.ImportFileError) as refused:
        di.read(buffer.getvalue())

    assert refused.value.problem.code == di.SPREADSHEET


def test_read_refuses_a_file_over_one_megabyte():
    data = (HEADER + "Anne,Leroy,a@example.org,,,,,,\n" * 40_000).encode()
    assert len(data) > 1024 * 1024

    with pytest.raises(di.ImportFileError) as refused:
        di.read(data)

    assert refused.value.problem.code == di.TOO_LARGE


def test_read_refuses_more_than_two_thousand_people():
    data = (HEADER + "".join(f"P,N{i},p{i}@example.org,,,,,,\n" for i in range(2001))).encode()
    assert len(data) < di.MAX_UPLOAD_BYTES

    with pytest.raises(di.ImportFileError) as refused:
        di.read(data)

    assert refused.value.problem.code == di.TOO_MANY_ROWS


# --- Checking the rows -----------------------------------------------------------------------------


def test_validate_errors_file_gives_one_error_per_broken_row():
    validation = check(WITH_ERRORS)

    assert [error.line for error in validation.errors] == [3, 4, 5, 6, 7]
    assert [codes(error) for error in validation.errors] == [
        [di.PERSON],  # missing last name
        [di.PERSON],  # bad email
        [di.DUPLICATE_IN_FILE],  # same email as line 2, other case
        [di.UNKNOWN_WORKSHOP],  # A9
        [di.WORKSHOPS_OVERLAP],  # A1 and A3 at the same time
    ]
    assert validation.errors[0].problems[0].params["field"] == "last_name"
    assert validation.errors[1].problems[0].params["field"] == "email"
    assert validation.errors[2].problems[0].params["other_line"] == 2
    assert not validation.ok


def test_validate_hauts_de_france_accepts_everyone_when_the_overlap_is_the_programmes():
    # Hugo Dumas asks for A1 and A4 (same time): he speaks in one and reports on the other.
    hugo = frozenset({"hugo dumas"})
    validation = check(HDF, workshops=demo_workshops(A1=hugo, A4=hugo))

    assert validation.ok
    assert len(validation.people) == 12
    dumas = next(p for p in validation.people if p.last_name == "Dumas")
    assert dumas.workshop_codes == ("A1", "A4")
    assert dumas.tolerated_overlaps == (("A1", "A4"),)
    assert {note.problem.code for note in validation.notes} == {di.PROGRAMME_OVERLAP, di.REPAIRED_ROW}


def test_validate_refuses_the_same_overlap_for_someone_not_on_the_programme():
    validation = check(HDF)

    assert [error.line for error in validation.errors] == [8]
    assert codes(validation.errors[0]) == [di.WORKSHOPS_OVERLAP]


def test_validate_maps_french_category_labels_to_codes():
    validation = check(HDF, workshops=demo_workshops(A1=frozenset({"hugo dumas"}), A4=frozenset({"hugo dumas"})))

    by_name = {p.last_name: p.category for p in validation.people}
    assert by_name["Benali"] == "centre_ressources"
    assert by_name["Delcourt"] == "collectivite"
    assert by_name["Saddedine"] == "association"
    assert by_name["Dumas"] == "entreprise"  # "bureau d'études"
    assert by_name["Lefebvre"] == "autre"  # "agence d'urbanisme"


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("collectivité", "collectivite"),
        ("COLLECTIVITE", "collectivite"),
        ("Centre de ressources", "centre_ressources"),
        ("centre_ressources", "centre_ressources"),
        ("élu·e", "elu"),
        ("Élue", "elu"),
        ("État", "etat"),
        ("habitant·e", "habitant"),
        ("", "autre"),
        ("fusée", None),
    ],
)
def test_category_code_accepts_labels_with_or_without_accents(label, code):
    assert di.category_code(label) == code


def test_validate_finds_an_address_already_registered_whatever_its_case():
    data = (HEADER + "Anne,Leroy,Anne.Leroy@Example.org,,,,,,\n").encode()

    validation = check(data, known_emails=["anne.leroy@example.org"])

    assert codes(validation.errors[0]) == [di.ALREADY_REGISTERED]


def test_validate_lists_every_problem_of_a_row_in_one_error():
    data = (HEADER + f",,not-an-email,{'x' * 201},,martien,,,A9|S101\n").encode()

    validation = check(data, other_session_codes=["S101"])

    assert len(validation.errors) == 1
    problems = validation.errors[0].problems
    assert {p.code for p in problems} == {di.PERSON, di.UNKNOWN_CATEGORY, di.UNKNOWN_WORKSHOP, di.NOT_A_WORKSHOP}
    assert {p.params["field"] for p in problems if p.code == di.PERSON} == {"first_name", "last_name", "email", "organisation"}


def test_validate_refuses_a_row_with_cells_it_cannot_place():
    data = (HEADER + "Anne,Leroy,a@example.org,Ville,Agent,collectivité,Roubaix,Délégation,A1,surplus,encore\n").encode()

    validation = check(data)

    assert codes(validation.errors[0]) == [di.TOO_MANY_CELLS]


def test_validate_keeps_names_exactly_as_written():
    rows = "Zoë,O'Connor-Lefèvre,z@example.org,,,,,,\n王,小明,w@example.org,,,,,,\nJean-Éric,N’Diaye,j@example.org,,,,,,\n"

    people = check((HEADER + rows).encode()).people

    assert [(p.first_name, p.last_name) for p in people] == [("Zoë", "O'Connor-Lefèvre"), ("王", "小明"), ("Jean-Éric", "N’Diaye")]


# --- The import, through the organiser's page ------------------------------------------------------


@pytest.fixture
def organiser(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    return client


def upload(client, event, data: bytes, filename: str = "delegation.csv", **fields):
    return client.post(
        f"/e/{event.slug}/admin/delegations/import",
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def registrations(event) -> list[Registration]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Registration).filter_by(event_id=event.id).order_by(Registration.id)))


def error_items(response) -> list[str]:
    import re

    html = response.get_data(as_text=True)
    block = html.split('class="error-summary import-errors"', 1)[1].split("</div>", 1)[0]
    return [re.sub(r"\s+", " ", item).strip().replace("&#39;", "'") for item in re.findall(r"<li>(.*?)</li>", block, re.S)]


def test_import_hauts_de_france_registers_twelve_people_with_their_seats(organiser, demo_event):
    response = upload(organiser, demo_event, HDF)

    assert response.status_code == 302
    people = registrations(demo_event)
    assert len(people) == 12
    delegation = db.session.scalar(db.select(Delegation).filter_by(event_id=demo_event.id))
    assert delegation.name == "Délégation Hauts-de-France"
    assert all(p.delegation_id == delegation.id for p in people)
    assert all((p.status, p.source, p.consent_version) == ("confirmed", "import", "delegation") for p in people)
    assert all(p.consent_at is not None for p in people)
    seats = {p.last_name: sorted((s.session.code, s.status) for s in p.seats) for p in people}
    assert seats["Benali"] == [("A3", "confirmed"), ("A6", "confirmed")]
    assert seats["Dumas"] == [("A1", "confirmed"), ("A4", "confirmed")]
    assert sum(len(s) for s in seats.values()) == 17  # every code of the file
    assert response.headers["Location"].endswith(f"/registrations?delegation={delegation.id}")


def test_import_hauts_de_france_says_what_it_did(organiser, demo_event):
    response = upload(organiser, demo_event, HDF)
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)

    assert "12 personnes importées." in page
    assert "Délégation créée : Délégation Hauts-de-France." in page
    assert "Ligne 5 : le séparateur « , » écrit sans guillemets dans « Fonction »" in page
    assert "Ligne 8 : Hugo Dumas a les ateliers A1 et A4" in page


def test_import_errors_file_shows_five_french_errors_and_stores_nothing(organiser, demo_event):
    response = upload(organiser, demo_event, WITH_ERRORS)

    assert response.status_code == 422
    assert "5 lignes du fichier sont à corriger : rien n&#39;a été importé." in response.get_data(as_text=True)
    items = error_items(response)
    assert items == [
        "Ligne 3 : Nom : ce champ est obligatoire.",
        "Ligne 4 : Adresse e-mail : il manque le « @ » (exemple : prenom.nom@exemple.fr).",
        "Ligne 5 : l'adresse A.LEROY@example.org figure déjà ligne 2 du fichier (majuscules et minuscules ne comptent pas).",
        "Ligne 6 : atelier inconnu : A9 (ateliers de l'événement : A1, A2, A3, A4, A5, A6).",
        "Ligne 7 : les ateliers A1 et A3 ont lieu en même temps : n'en gardez qu'un.",
    ]
    assert registrations(demo_event) == []
    assert db.session.scalar(db.select(db.func.count(Delegation.id))) == 0


def test_import_semicolon_file_with_bom_imports_the_same_people(organiser, demo_event):
    data = ("\ufeff" + HDF.decode("utf-8").replace(",", ";")).encode("utf-8")

    response = upload(organiser, demo_event, data)

    assert response.status_code == 302
    assert len(registrations(demo_event)) == 12


def test_import_a_binary_file_gives_a_clear_error(organiser, demo_event):
    response = upload(organiser, demo_event, PNG, filename="photo.csv")

    assert response.status_code == 422
    assert "Ce fichier n&#39;est pas un fichier CSV (texte)" in response.get_data(as_text=True)
    assert registrations(demo_event) == []


def test_import_without_a_file_asks_for_one(organiser, demo_event):
    response = organiser.post(f"/e/{demo_event.slug}/admin/delegations/import", data={}, content_type="multipart/form-data")

    assert response.status_code == 422
    assert "Choisissez le fichier CSV de la délégation." in response.get_data(as_text=True)


def test_import_over_one_megabyte_is_refused_with_a_message(organiser, demo_event):
    data = (HEADER + "Anne,Leroy,a@example.org,,,,,,\n" * 40_000).encode()

    response = upload(organiser, demo_event, data)

    assert response.status_code == 422
    assert "1 Mo au plus" in response.get_data(as_text=True)
    assert registrations(demo_event) == []


def test_import_over_the_request_size_limit_answers_with_the_import_page(app, organiser, demo_event):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    data = (HEADER + "Anne,Leroy,a@example.org,,,,,,\n" * 90_000).encode()

    response = upload(organiser, demo_event, data)

    assert response.status_code == 413
    assert "Le fichier est trop lourd : 1 Mo au plus." in response.get_data(as_text=True)


def test_import_the_same_file_twice_refuses_everyone_already_registered(organiser, demo_event):
    upload(organiser, demo_event, HDF)

    response = upload(organiser, demo_event, HDF)

    assert response.status_code == 422
    items = error_items(response)
    assert len(items) == 12
    assert items[0] == "Ligne 2 : l'adresse n.benali@irev.example est déjà inscrite à cet événement."
    assert len(registrations(demo_event)) == 12


def test_import_into_a_chosen_delegation_puts_everyone_in_it(organiser, demo_event):
    chosen = services.create_delegation(demo_event, "Région Hauts-de-France")

    response = upload(organiser, demo_event, HDF, delegation=str(chosen.id))

    assert response.status_code == 302
    assert {p.delegation_id for p in registrations(demo_event)} == {chosen.id}
    assert db.session.scalar(db.select(db.func.count(Delegation.id))) == 1


def test_import_refused_at_writing_time_leaves_no_delegation_behind(app, demo_event):
    with app.test_request_context():
        checked = import_service.check_file(demo_event, HDF)
        # Between the check and the write, one of them registers on the public form.
        services.register(demo_event, services.RegistrationInput("Nadia", "Benali", "n.benali@irev.example", consent=True))

        with pytest.raises(InvalidInput) as refused:
            import_service.import_delegation(demo_event, checked.validation.people, notify=False)

    assert "Ligne 2" in refused.value.problems[0]
    assert len(registrations(demo_event)) == 1
    assert db.session.scalar(db.select(db.func.count(Delegation.id))) == 0
