"""The rapporteur's capture page in a real Chromium (issue 5): nothing typed is ever lost, whatever
the network or the login does; two rapporteurs in one room see each other's items; a conflicting
edit offers to keep either version or to merge."""
from __future__ import annotations

import re
import secrets
from io import BytesIO

from PIL import Image
from playwright.sync_api import expect

from forum_app.auth import services as auth_services
from forum_app.extensions import db
from forum_app.notes.models import NoteItem, RapporteurAssignment
from forum_app.programme.models import Session
from forum_app.programme.services import get_event
from forum_app.web import asset_url
from tests.browser.conftest import assert_accessible

PASSWORD = "rapporteur-hors-ligne-2019"
KEPT_ON_DEVICE = """async (paths) => {
  for (const path of paths) if (!(await caches.match(path, {ignoreVary: true}))) return false;
  return true;
}"""
SYNC_TIMEOUT_MS = 20_000


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()


def make_rapporteurs(live_server, title_start: str, count: int = 1) -> tuple[str, list[str]]:
    """`count` rapporteur accounts (unique to this test) assigned to the session whose title starts so."""
    uid = secrets.token_hex(4)
    code = live_server.code_of(title_start)
    emails = [f"rapporteur{n}-{uid}@notes.example" for n in range(1, count + 1)]
    with live_server.app.app_context():
        event = get_event(live_server.slug)
        session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
        for email in emails:
            user = auth_services.ensure_user(email, PASSWORD, name="Rapporteur·e", event=event, role="rapporteur")
            db.session.flush()
            db.session.add(RapporteurAssignment(user_id=user.id, session_id=session.id))
        db.session.commit()
        db.session.remove()
    return code, emails


def items_of(live_server, email: str) -> list[NoteItem]:
    """The note items this rapporteur wrote, as the server holds them."""
    with live_server.app.app_context():
        user = auth_services.find_user(email)
        rows = list(db.session.scalars(db.select(NoteItem).filter_by(author_id=user.id).order_by(NoteItem.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


class Capture:
    """One rapporteur's capture page in its own browser context."""

    def __init__(self, context, page, code: str):
        self.context, self.page, self.code = context, page, code
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    @property
    def net(self):
        return self.page.locator("[data-net]")

    @property
    def items(self):
        return self.page.locator("[data-items] > li")

    @property
    def text(self):
        return self.page.locator("[data-text]")

    def item(self, text: str):
        return self.items.filter(has_text=text)

    def kind(self, kind: str) -> None:
        self.page.locator(f'.kind-button[data-kind="{kind}"]').click()

    def add(self, text: str, kind: str = "key_point", who: str | None = None) -> None:
        self.kind(kind)
        if who is not None:
            self.page.get_by_label(who).check()
        self.text.fill(text)
        self.page.get_by_role("button", name="Ajouter", exact=True).click()
        expect(self.text).to_have_value("")
        expect(self.text).to_be_focused()  # ready for the next item
        expect(self.item(text.splitlines()[0][:40])).not_to_have_count(0)  # drawn in the list

    def edit(self, old: str, new: str) -> None:
        self.item(old).get_by_role("button", name="Modifier").click()
        self.page.locator(".item-edit textarea").fill(new)
        self.page.locator(".item-edit").get_by_role("button", name="Enregistrer").click()
        expect(self.page.locator(".item-edit")).to_have_count(0)
        expect(self.item(new.splitlines()[0][:40])).to_have_count(1)

    def expect_pending(self, count: int, timeout: int = 5_000) -> None:
        expect(self.net).to_have_attribute("data-pending", str(count), timeout=timeout)

    def wait_ready(self) -> None:
        expect(self.page.locator("#notes")).to_have_attribute("data-ready", "true")
        expect(self.page.locator("#notes")).to_have_attribute("data-drawn", "true")


def open_capture(new_context, live_server, email: str, code: str, **overrides) -> Capture:
    context = new_context(service_workers="allow", **overrides)
    page = context.new_page()
    log_in(page, email, PASSWORD)
    capture = Capture(context, page, code)
    page.goto(live_server.event_url(f"notes/{code}"))
    capture.wait_ready()
    expect(capture.net).to_have_attribute("data-online", "true")
    return capture


def wait_kept_on_device(capture: Capture, live_server) -> None:
    """The page and the modules it imports are kept by the service worker (asked by sync.js)."""
    with live_server.app.test_request_context():  # the module of this release: /static/r/<digest>/...
        paths = [f"/e/{live_server.slug}/notes/{capture.code}", asset_url("js/notes/store.js"), asset_url("js/net/retry.js")]
    capture.page.wait_for_function(KEPT_ON_DEVICE, arg=paths, timeout=10_000)


# --------------------------------------------------------------------------- nothing lost offline


def test_twenty_items_typed_offline_survive_a_reload_and_reach_the_server_once_each(new_context, live_server, screenshot):
    code, (email,) = make_rapporteurs(live_server, "Atelier 6")
    capture = open_capture(new_context, live_server, email, code)
    wait_kept_on_device(capture, live_server)
    people = capture.page.locator("[data-who]")

    capture.context.set_offline(True)
    expect(capture.net).to_have_attribute("data-online", "false")
    kinds = ["key_point", "proposal", "question", "figure", "key_point"]
    texts = []
    for n in range(1, 21):
        text = f"Élément {n:02d} hors connexion <b>sans balise</b>\nligne 2"
        if n == 7:
            capture.kind("quote")
            speaker_name = capture.page.locator("[data-attribution] .who-name").first.inner_text()
            people.nth(1).check()  # the first of the session's people (0 is "nobody")
            capture.add(text, "quote")
        else:
            capture.add(text, kinds[n % len(kinds)])
        texts.append(text)
        capture.expect_pending(n)  # stored on the device as soon as it shows
    expect(capture.items).to_have_count(20)
    expect(capture.items.first).to_contain_text("Élément 20")  # newest first
    expect(capture.page.locator('[data-items] > li[data-pending="true"]')).to_have_count(20)
    quote = capture.item("Élément 07")
    expect(quote.locator(".item-attribution")).to_contain_text(speaker_name)
    # Markup typed is shown as text.
    expect(capture.item("Élément 01").locator(".item-text")).to_contain_text("<b>sans balise</b>")
    expect(capture.page.locator("[data-items] b")).to_have_count(0)

    capture.text.fill("Brouillon pas encore ajouté")

    # A reload without network: the page comes from the device, the queue from IndexedDB.
    capture.page.reload()
    capture.wait_ready()
    expect(capture.text).to_have_value("Brouillon pas encore ajouté")  # even what was being typed
    expect(capture.page.locator("[data-offline-notice][data-cached]")).to_have_count(1)  # served by the worker
    capture.expect_pending(20)
    expect(capture.net).to_have_attribute("data-online", "false")
    expect(capture.net).to_contain_text("Hors connexion · 20 éléments en attente d'envoi")
    expect(capture.items).to_have_count(20)
    expect(capture.page.locator("[data-items] .mark-pending").first).to_contain_text("en attente")
    screenshot(capture.page, "notes-capture-offline-queue", full_page=False)

    capture.context.set_offline(False)
    capture.expect_pending(0, timeout=SYNC_TIMEOUT_MS)
    expect(capture.net).to_contain_text("En ligne · tout est envoyé")
    expect(capture.page.locator('[data-items] > li[data-pending="true"]')).to_have_count(0)

    stored = items_of(live_server, email)
    assert sorted(item.text for item in stored) == sorted(texts)
    assert len({item.client_id for item in stored}) == 20
    quoted = next(item for item in stored if item.text.startswith("Élément 07"))
    assert (quoted.kind, quoted.attribution_name) == ("quote", speaker_name)
    assert quoted.attribution_person_id is not None
    assert not capture.errors


def test_edits_stars_and_deletions_made_offline_follow_their_items(new_context, live_server):
    code, (email,) = make_rapporteurs(live_server, "Atelier 4")
    capture = open_capture(new_context, live_server, email, code)
    wait_kept_on_device(capture, live_server)
    capture.add("Déjà envoyé avant la coupure.")
    capture.expect_pending(0)

    capture.context.set_offline(True)
    capture.add("Créé hors connexion, puis corrigé.")
    capture.add("Créé hors connexion, puis supprimé.", "question")
    capture.edit("puis corrigé", "Créé hors connexion, corrigé hors connexion.")
    capture.item("puis supprimé").get_by_role("button", name="Supprimer").click()
    expect(capture.item("Élément supprimé")).to_have_count(1)
    star = capture.item("Déjà envoyé").get_by_role("button", name="À retenir pour le rapport")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    capture.edit("Déjà envoyé", "Déjà envoyé avant la coupure, complété hors connexion.")
    capture.expect_pending(3)  # three items have something waiting
    capture.page.reload()
    capture.wait_ready()
    capture.expect_pending(3)
    expect(capture.item("corrigé hors connexion")).to_have_count(1)
    expect(capture.item("Élément supprimé")).to_have_count(1)

    capture.context.set_offline(False)
    capture.expect_pending(0, timeout=SYNC_TIMEOUT_MS)

    stored = {item.text: item for item in items_of(live_server, email)}
    assert set(stored) == {
        "Déjà envoyé avant la coupure, complété hors connexion.",
        "Créé hors connexion, corrigé hors connexion.",
        "Créé hors connexion, puis supprimé.",
    }
    assert stored["Déjà envoyé avant la coupure, complété hors connexion."].highlighted
    assert stored["Déjà envoyé avant la coupure, complété hors connexion."].version == 2
    assert stored["Créé hors connexion, puis supprimé."].deleted_at is not None
    assert stored["Créé hors connexion, corrigé hors connexion."].version == 2
    assert not capture.errors


def test_inline_edit_typed_survives_a_reload_and_is_saved_from_its_version(new_context, live_server):
    code, (email,) = make_rapporteurs(live_server, "Atelier 4")
    capture = open_capture(new_context, live_server, email, code)
    page = capture.page
    capture.add("Point à compléter après la pause.")
    capture.expect_pending(0)

    capture.item("Point à compléter").get_by_role("button", name="Modifier").click()
    page.locator(".item-edit textarea").fill("Point complété : trois communes ont signé la charte.")
    page.reload()
    capture.wait_ready()

    editor = capture.item("Point à compléter").locator(".item-edit")
    expect(editor).to_have_count(1)
    expect(editor.locator("textarea")).to_have_value("Point complété : trois communes ont signé la charte.")
    expect(editor).to_contain_text("version 1")
    editor.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".item-edit")).to_have_count(0)
    capture.expect_pending(0)
    (stored,) = items_of(live_server, email)
    assert (stored.text, stored.version) == ("Point complété : trois communes ont signé la charte.", 2)

    page.reload()  # saved: the draft is gone, no editor comes back
    capture.wait_ready()
    expect(capture.item("trois communes")).to_have_count(1)
    expect(page.locator(".item-edit")).to_have_count(0)
    assert not capture.errors


def test_cancelled_inline_edit_does_not_come_back_after_a_reload(new_context, live_server):
    code, (email,) = make_rapporteurs(live_server, "Atelier 4")
    capture = open_capture(new_context, live_server, email, code)
    page = capture.page
    capture.add("Point laissé tel quel.")
    capture.item("laissé tel quel").get_by_role("button", name="Modifier").click()
    page.locator(".item-edit textarea").fill("Brouillon abandonné.")
    page.locator(".item-edit").get_by_role("button", name="Annuler").click()
    expect(page.locator(".item-edit")).to_have_count(0)
    page.reload()
    capture.wait_ready()
    expect(capture.item("laissé tel quel")).to_have_count(1)
    expect(page.locator(".item-edit")).to_have_count(0)
    assert not capture.errors


def test_reorder_made_offline_counts_as_one_pending_change(new_context, live_server):
    code, (email,) = make_rapporteurs(live_server, "Atelier 4")
    capture = open_capture(new_context, live_server, email, code)
    wait_kept_on_device(capture, live_server)
    capture.add("Premier élément à déplacer.")
    capture.add("Second élément.")
    capture.expect_pending(0)

    capture.context.set_offline(True)
    capture.item("Premier élément").get_by_role("button", name="Monter").click()
    expect(capture.items.nth(0)).to_contain_text("Premier élément")
    capture.expect_pending(1)
    expect(capture.page.locator("[data-net-text]")).to_contain_text("1 élément en attente")

    capture.context.set_offline(False)
    capture.expect_pending(0, timeout=SYNC_TIMEOUT_MS)
    stored = {item.text: item for item in items_of(live_server, email)}
    assert stored["Premier élément à déplacer."].position > stored["Second élément."].position
    assert not capture.errors


# --------------------------------------------------------------------------- conflicts


def test_conflicting_edit_offers_the_choice_and_merging_loses_nothing(new_context, live_server, screenshot):
    code, (first_email, second_email) = make_rapporteurs(live_server, "Atelier 3", count=2)
    one = open_capture(new_context, live_server, first_email, code)
    two = open_capture(new_context, live_server, second_email, code)
    one.add("Les baux précaires freinent l'installation des entreprises.")
    one.expect_pending(0)
    expect(two.item("Les baux précaires")).to_have_count(1, timeout=6_000)

    # Both open the same item, from version 1.
    for capture in (one, two):
        capture.item("Les baux précaires").get_by_role("button", name="Modifier").click()
        expect(capture.page.locator(".item-edit")).to_contain_text("version 1")
    one.page.locator(".item-edit textarea").fill("Les baux précaires freinent l'installation des entreprises en QPV.")
    one.page.locator(".item-edit").get_by_role("button", name="Enregistrer").click()
    one.expect_pending(0)
    expect(one.item("en QPV")).to_have_count(1)

    mine = "Les baux précaires et les loyers trop élevés freinent l'installation."
    two.page.locator(".item-edit textarea").fill(mine)
    two.page.locator(".item-edit").get_by_role("button", name="Enregistrer").click()

    panel = two.page.locator("[data-conflict]")
    expect(panel).to_be_visible(timeout=6_000)
    expect(panel).to_contain_text("Modifié ailleurs pendant votre modification")
    expect(panel.locator(".conflict-mine")).to_contain_text(mine)
    expect(panel.locator(".conflict-theirs")).to_contain_text("en QPV")
    for name in ("Garder ma version", "Garder l'autre version", "Fusionner"):
        expect(panel.get_by_role("button", name=name, exact=True)).to_be_visible()
    two.expect_pending(0)  # the conflict waits for a choice, not in the queue

    panel.get_by_role("button", name="Fusionner", exact=True).click()
    merged = panel.locator("[data-merge-text]")
    expect(merged).to_be_focused()
    prefilled = merged.input_value()
    assert "en QPV" in prefilled and mine in prefilled  # both texts, nothing dropped
    merged.fill(prefilled + "\n(fusion des deux prises de notes)")
    panel.scroll_into_view_if_needed()
    screenshot(two.page, "notes-conflict", full_page=False)
    panel.get_by_role("button", name="Enregistrer la fusion").click()
    expect(two.page.locator("[data-conflict]")).to_have_count(0)
    two.expect_pending(0, timeout=SYNC_TIMEOUT_MS)

    stored = items_of(live_server, first_email)
    assert len(stored) == 1
    assert "en QPV" in stored[0].text and mine in stored[0].text and "(fusion" in stored[0].text
    assert stored[0].version == 3
    # The first rapporteur sees the merged text too (live feed).
    expect(one.item("(fusion des deux")).to_have_count(1, timeout=6_000)
    assert not one.errors and not two.errors


def test_keep_the_other_version_or_mine_in_two_conflicts(new_context, live_server):
    code, (first_email, second_email) = make_rapporteurs(live_server, "Atelier 4", count=2)
    one = open_capture(new_context, live_server, first_email, code)
    two = open_capture(new_context, live_server, second_email, code)
    one.add("Chiffre : 12 % de chômage dans le quartier.", "figure")
    one.add("Proposition : ouvrir une pépinière au pied des tours.", "proposal")
    one.expect_pending(0)
    expect(two.item("pépinière")).to_have_count(1, timeout=6_000)
    for capture in (two, one):  # the second rapporteur opens both items first, from version 1
        capture.item("12 %").get_by_role("button", name="Modifier").click()
        capture.item("pépinière").get_by_role("button", name="Modifier").click()
    one.item("12 %").locator(".item-edit textarea").fill("Chiffre : 21 % de chômage dans le quartier.")
    one.item("12 %").get_by_role("button", name="Enregistrer").click()
    one.item("pépinière").locator(".item-edit textarea").fill("Proposition : ouvrir une pépinière d'entreprises.")
    one.item("pépinière").get_by_role("button", name="Enregistrer").click()
    expect(one.page.locator(".item-edit")).to_have_count(0)
    one.expect_pending(0)
    two.item("12 %").locator(".item-edit textarea").fill("Chiffre : 12 % (à vérifier).")
    two.item("12 %").get_by_role("button", name="Enregistrer").click()
    two.item("pépinière").locator(".item-edit textarea").fill("Proposition : une pépinière et un café associatif.")
    two.item("pépinière").get_by_role("button", name="Enregistrer").click()
    expect(two.page.locator("[data-conflict]")).to_have_count(2, timeout=6_000)

    two.item("(à vérifier)").get_by_role("button", name="Garder l'autre version").click()
    two.item("café associatif").get_by_role("button", name="Garder ma version").click()

    expect(two.page.locator("[data-conflict]")).to_have_count(0)
    expect(two.item("21 %")).to_have_count(1)
    expect(two.item("café associatif")).to_have_count(1)
    two.expect_pending(0, timeout=SYNC_TIMEOUT_MS)
    stored = sorted(item.text for item in items_of(live_server, first_email))
    assert stored == ["Chiffre : 21 % de chômage dans le quartier.", "Proposition : une pépinière et un café associatif."]
    expect(one.item("café associatif")).to_have_count(1, timeout=6_000)  # the other rapporteur sees the choice


# --------------------------------------------------------------------------- live


def test_two_rapporteurs_see_each_others_items_within_five_seconds(new_context, live_server):
    code, (first_email, second_email) = make_rapporteurs(live_server, "Table ronde — Méthodes", count=2)
    one = open_capture(new_context, live_server, first_email, code)
    two = open_capture(new_context, live_server, second_email, code)
    two.text.fill("Je tape pendant que l'autre écrit")
    two.text.focus()

    one.add("Proposition : un guichet unique pour les créateurs.", "proposal")
    expect(two.item("guichet unique")).to_have_count(1, timeout=5_000)
    # What the second rapporteur is typing stays, with the focus.
    expect(two.text).to_have_value("Je tape pendant que l'autre écrit")
    expect(two.text).to_be_focused()

    two.page.get_by_role("button", name="Ajouter", exact=True).click()
    expect(one.item("Je tape pendant")).to_have_count(1, timeout=5_000)
    assert not one.errors and not two.errors


# --------------------------------------------------------------------------- session expiry


def test_expired_session_keeps_the_queue_until_the_rapporteur_logs_in_again(new_context, live_server):
    code, (email,) = make_rapporteurs(live_server, "Accueil des participants")
    capture = open_capture(new_context, live_server, email, code)
    capture.add("Avant l'expiration de la session.")
    capture.expect_pending(0)

    capture.context.clear_cookies()
    capture.add("Écrit après l'expiration : il doit attendre la reconnexion.", "question")

    expect(capture.net).to_have_attribute("data-auth", "true", timeout=6_000)
    expect(capture.net).to_contain_text(
        "Session expirée : reconnectez-vous (vos notes sont gardées sur cet appareil)"
    )
    capture.expect_pending(1)
    login_link = capture.net.get_by_role("link", name="Se reconnecter")
    expect(login_link).to_be_visible()
    expect(login_link).to_have_attribute("target", "_blank")
    assert [item.text for item in items_of(live_server, email)] == ["Avant l'expiration de la session."]

    other = capture.context.new_page()
    log_in(other, email, PASSWORD)

    capture.expect_pending(0, timeout=SYNC_TIMEOUT_MS)  # sent without a reload
    expect(capture.net).to_have_attribute("data-auth", "false")
    texts = sorted(item.text for item in items_of(live_server, email))
    assert texts == ["Avant l'expiration de la session.", "Écrit après l'expiration : il doit attendre la reconnexion."]
    assert not capture.errors


# --------------------------------------------------------------------------- the item's own actions


def test_rapporteur_stars_edits_deletes_restores_and_reorders_items(new_context, live_server, screenshot):
    code, (email,) = make_rapporteurs(live_server, "Présentations d'expériences")
    capture = open_capture(new_context, live_server, email, code)
    page = capture.page
    capture.add("Premier point : la mobilité freine l'accès à l'emploi.")
    capture.kind("quote")
    page.locator("[data-who]").nth(1).check()
    capture.add("« Il faut aller chercher les entreprises une par une. »", "quote")
    page.get_by_label("Quelqu'un de la salle (saisie libre)").check()
    page.get_by_label("Nom", exact=True).fill("Awa Traoré")
    page.get_by_label("Fonction", exact=True).fill("habitante")
    page.get_by_label("Organisation", exact=True).fill("conseil citoyen")
    capture.add("On oublie les jeunes diplômés du quartier.", "quote")
    capture.add("45 % des salariés viennent d'ailleurs.", "figure")
    capture.expect_pending(0)
    expect(capture.item("jeunes diplômés").locator(".item-attribution")).to_have_text("Awa Traoré, habitante, conseil citoyen")
    expect(capture.item("45 %").locator(".item-time")).to_have_text(re.compile(r"^\d{1,2} h \d\d$"))

    star = capture.item("Premier point").get_by_role("button", name="À retenir pour le rapport")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(capture.item("Premier point")).to_contain_text("à retenir")

    capture.edit("45 %", "46 % des salariés viennent d'ailleurs.")

    capture.item("Premier point").get_by_role("button", name="Monter").click()
    expect(capture.items.nth(2)).to_contain_text("Premier point")
    expect(capture.item("Premier point").get_by_role("button", name="Monter")).to_be_focused()

    capture.item("jeunes diplômés").get_by_role("button", name="Supprimer").click()
    deleted = capture.item("Élément supprimé")
    expect(deleted).to_have_count(1)
    undo = deleted.get_by_role("button", name="Annuler la suppression")
    expect(undo).to_be_focused()
    capture.expect_pending(0)
    assert next(i for i in items_of(live_server, email) if "jeunes" in i.text).deleted_at is not None
    undo.click()
    expect(capture.item("jeunes diplômés").get_by_role("button", name="Modifier")).to_be_visible()
    capture.expect_pending(0)

    stored = {item.text: item for item in items_of(live_server, email)}
    assert stored["Premier point : la mobilité freine l'accès à l'emploi."].highlighted
    assert "46 % des salariés viennent d'ailleurs." in stored
    assert stored["On oublie les jeunes diplômés du quartier."].deleted_at is None
    assert stored["On oublie les jeunes diplômés du quartier."].attribution_name == "Awa Traoré"
    order = [item.text[:12] for item in sorted(stored.values(), key=lambda i: -i.position)]
    assert order.index("Premier poin") == 2
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "notes-capture-online", full_page=True)
    assert not capture.errors


def test_text_over_the_limit_is_not_sent_and_stays_in_the_box(new_context, live_server):
    code, (email,) = make_rapporteurs(live_server, "Club dev éco")
    capture = open_capture(new_context, live_server, email, code)
    long_text = "a" * 4_800

    capture.text.fill(long_text)
    expect(capture.page.locator("[data-counter]")).to_have_text("Encore 200 caractères")
    capture.text.fill("a" * 5_003)
    expect(capture.page.locator("[data-counter]")).to_contain_text("3 caractères de trop")
    capture.page.get_by_role("button", name="Ajouter", exact=True).click()

    expect(capture.page.locator("[data-capture-message]")).to_contain_text("Rien n'a été envoyé")
    expect(capture.text).to_have_value("a" * 5_003)
    expect(capture.item("aaaaaaaaaa")).to_have_count(0)
    capture.expect_pending(0)
    assert items_of(live_server, email) == []


def test_item_the_server_refuses_is_kept_to_be_fixed_and_sent_again(new_context, live_server):
    code, (email,) = make_rapporteurs(live_server, "Club dev éco")
    context = new_context(service_workers="block")  # so that the page can be rewritten on its way

    def looser_limit(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace('"text": 5000', '"text": 9000'))

    page = context.new_page()
    log_in(page, email, PASSWORD)
    page.route(f"**/e/{live_server.slug}/notes/{code}", looser_limit)
    capture = Capture(context, page, code)
    page.goto(live_server.event_url(f"notes/{code}"))
    capture.wait_ready()
    too_long = "Un compte rendu trop long. " + "x" * 5_000

    capture.add(too_long)

    item = capture.item("Un compte rendu trop long")
    expect(item.locator(".item-error")).to_contain_text("Refusé par le serveur : Texte : 5 000 caractères au plus", timeout=6_000)
    capture.expect_pending(0)
    item.get_by_role("button", name="Modifier").click()
    expect(page.locator(".item-edit textarea")).to_have_value(too_long)  # nothing lost
    page.locator(".item-edit textarea").fill("Un compte rendu raccourci.")
    page.locator(".item-edit").get_by_role("button", name="Enregistrer").click()
    expect(capture.item("raccourci")).to_have_attribute("data-pending", "false", timeout=SYNC_TIMEOUT_MS)
    capture.expect_pending(0)
    expect(page.locator(".item-error")).to_have_count(0)
    assert [i.text for i in items_of(live_server, email)] == ["Un compte rendu raccourci."]
    assert not capture.errors


# --------------------------------------------------------------------------- photos


def _jpeg(width: int = 2400, height: int = 1600) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_photo_taken_offline_waits_on_the_device_and_is_sent_when_back_online(new_context, live_server):
    code, (email,) = make_rapporteurs(live_server, "Ouverture du forum")
    capture = open_capture(new_context, live_server, email, code)
    page = capture.page
    capture.kind("photo")
    expect(page.get_by_label("Photo (appareil photo ou fichier)")).to_be_focused()

    capture.context.set_offline(True)
    page.get_by_label("Photo (appareil photo ou fichier)").set_input_files(
        {"name": "atelier.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}
    )
    expect(page.locator("[data-photo-preview]")).to_be_visible()
    page.get_by_label("Légende").fill("Les participant·e·s de l'atelier autour de la carte")
    page.get_by_label("Crédit photo").fill("Cités Cap")
    page.get_by_role("button", name="Ajouter", exact=True).click()

    capture.expect_pending(1)
    item = capture.item("autour de la carte")
    expect(item.locator("img")).to_have_attribute("src", re.compile(r"^blob:"))
    expect(item).to_contain_text("Crédit : Cités Cap")
    page.reload()
    capture.wait_ready()
    capture.expect_pending(1)  # the photo itself is kept in IndexedDB
    expect(capture.item("autour de la carte").locator("img")).to_have_attribute("src", re.compile(r"^blob:"))

    capture.context.set_offline(False)
    capture.expect_pending(0, timeout=SYNC_TIMEOUT_MS)
    stored = items_of(live_server, email)
    assert len(stored) == 1
    assert (stored[0].kind, stored[0].text, stored[0].photo_credit) == (
        "photo", "Les participant·e·s de l'atelier autour de la carte", "Cités Cap",
    )
    assert max(stored[0].photo_width, stored[0].photo_height) <= 1600
    expect(capture.item("autour de la carte").locator("img")).to_have_attribute(
        "src", re.compile(r"/notes/photos/[0-9a-f]{32}\.jpg$"), timeout=6_000
    )
    # The photo sent is kept on the device (cache first): it still shows offline after a reload.
    photo_path = f"/e/{live_server.slug}/notes/photos/{stored[0].photo_file}"
    page.wait_for_function(KEPT_ON_DEVICE, arg=[photo_path], timeout=10_000)
    capture.context.set_offline(True)
    page.reload()
    capture.wait_ready()
    image = capture.item("autour de la carte").locator("img")
    expect(image).to_have_attribute("src", re.compile(r"/notes/photos/[0-9a-f]{32}\.jpg$"))
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=10_000)
    assert not capture.errors


# --------------------------------------------------------------------------- laptop and accessibility


def test_capture_on_a_laptop_enter_adds_and_shift_enter_goes_to_the_line(new_context, live_server, screenshot):
    code, (email,) = make_rapporteurs(live_server, "Table ronde — Quel")
    capture = open_capture(
        new_context, live_server, email, code,
        viewport={"width": 1280, "height": 860}, is_mobile=False, has_touch=False, device_scale_factor=1,
    )
    expect(capture.page.locator("[data-keys-hint]")).to_be_visible()
    capture.text.focus()
    capture.text.type("Première ligne")
    capture.text.press("Shift+Enter")
    capture.text.type("deuxième ligne")
    capture.text.press("Enter")

    expect(capture.text).to_have_value("")
    expect(capture.text).to_be_focused()
    expect(capture.items.first.locator(".item-text")).to_have_text("Première ligne\ndeuxième ligne")
    capture.kind("quote")
    capture.page.locator("[data-who]").nth(2).check()
    capture.text.fill("« Le développement économique commence au pied des immeubles. »")
    capture.text.press("Enter")
    capture.add("Comment financer l'immobilier d'entreprise en QPV ?", "question")
    capture.add("Créer un réseau régional des développeurs économiques.", "proposal")
    capture.expect_pending(0)
    capture.kind("quote")
    screenshot(capture.page, "notes-capture-laptop", full_page=False)
    assert len(items_of(live_server, email)) == 4
    assert not capture.errors


def test_capture_page_has_no_serious_accessibility_violation(new_context, live_server, axe):
    code, (email,) = make_rapporteurs(live_server, "Synthèse des rapporteurs")
    capture = open_capture(new_context, live_server, email, code)
    capture.add("Un point clé pour le contrôle d'accessibilité.")
    capture.kind("quote")
    capture.page.get_by_label("Quelqu'un de la salle (saisie libre)").check()
    capture.expect_pending(0)

    assert_accessible(axe, capture.page, "capture page, quote picker open")

    capture.item("contrôle d'accessibilité").get_by_role("button", name="Modifier").click()
    assert_accessible(axe, capture.page, "capture page, inline edit open")


def test_volunteer_cannot_open_the_capture_page(new_context, live_server):
    uid = secrets.token_hex(4)
    email = f"benevole-{uid}@notes.example"
    with live_server.app.app_context():
        auth_services.ensure_user(email, PASSWORD, name="Bénévole", event=get_event(live_server.slug), role="volunteer")
        db.session.remove()
    page = new_context().new_page()
    log_in(page, email, PASSWORD)

    response = page.goto(live_server.event_url(f"notes/{live_server.code_of('Atelier 1')}"))

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
