"""A phone lent for the morning keeps nothing of the event's people once its user signs out
(static/js/forget-staff-data.js on the sign-in page): the station's kit (names) is erased from
IndexedDB, the scan still waiting to be sent is kept, and it is sent once at the next sign-in."""
from __future__ import annotations

import secrets

from playwright.sync_api import expect

import tests.browser.test_browser_checkin_offline as offline
from tests.browser.conftest import assert_accessible

COUNTS = """async (name) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const count = (store) => new Promise((resolve) => {
    const request = db.transaction(store, 'readonly').objectStore(store).count();
    request.onsuccess = () => resolve(request.result);
  });
  const counts = {kit: await count('kit'), queue: await count('queue')};
  db.close();
  return counts;
}"""


def test_signing_out_erases_the_kit_and_keeps_the_unsent_scan(axe, new_context, live_server):
    uid = secrets.token_hex(4)
    [(registration_id, badge)] = offline.register_people(live_server, [("Lina", f"Prêtée {uid}", "Ville de Brest")], uid)
    [volunteer] = offline.make_volunteers(live_server, uid, 1)
    door = offline.open_station(new_context, live_server, volunteer, "Porte prêtée")
    page = door.page
    database = f"forum-checkin:{live_server.slug}"

    # The server does not hear this scan (Wi-Fi lost on the way): it waits on the phone.
    page.route("**/api/v1/e/*/checkins", lambda route: route.abort())
    door.scan(badge)
    door.expect_pending(1)
    assert page.evaluate(COUNTS, database) == {"kit": 1, "queue": 1}

    page.goto("/admin/")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.locator("html")).to_have_attribute("data-staff-data-forgotten", database)
    assert page.evaluate(COUNTS, database) == {"kit": 0, "queue": 1}
    assert_accessible(axe, page, "the sign-in page after signing out")

    page.unroute("**/api/v1/e/*/checkins")
    offline.log_in(page, volunteer, offline.PASSWORD)
    page.goto(live_server.event_url("checkin"))
    door.expect_pending(0, timeout=15_000)
    expect(page.locator("[data-kit]")).to_contain_text("Liste des inscrit")  # downloaded again
    rows = offline.rows_of(live_server, [registration_id])
    assert [(row.outcome, row.station) for row in rows] == [("checked_in", "Porte prêtée")]
    assert page.errors == []
