"""Organiser screens for door devices (the rules are in forum_app.devices.services).

- GET  /e/<slug>/admin/devices                    the list and the form to add one
- POST /e/<slug>/admin/devices                    add -> the page showing the token, once
- POST /e/<slug>/admin/devices/<device_id>/revoke the token stops working at once

The token is shown in the answer to the POST that made it (never stored, never put in the session
cookie, `no-store`): reloading that page asks the browser to post again, which makes another device.
Organisers of the event and site admins only.
"""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forum_app.admin.forms import ConfirmForm
from forum_app.devices import services
from forum_app.devices.forms import AddDeviceForm
from forum_app.errors import DomainError
from forum_app.security import event_role_required

bp = Blueprint("devices", __name__, url_prefix="/e/<slug>/admin")

organiser_required = event_role_required("organiser")



def _list_page(form: AddDeviceForm, status: int = 200):
    return (
        render_template(
            "devices/list.html", event=g.event, devices=services.devices(g.event), form=form,
            action_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.get("/devices")
@organiser_required
def devices(slug: str):
    return _list_page(AddDeviceForm(formdata=None))


@bp.post("/devices")
@organiser_required
def add(slug: str):
    form = AddDeviceForm()
    if form.validate_on_submit():
        try:
            added = services.add_device(g.event, form.name.data, current_user)
        except DomainError as error:
            form.name.errors = [*form.name.errors, error.message]
        else:
            return render_template("devices/added.html", event=g.event, device=added.device, secret=added.secret), 201
    return _list_page(form, 422)


@bp.post("/devices/<int:device_id>/revoke")
@organiser_required
def revoke(slug: str, device_id: int):
    if ConfirmForm().validate_on_submit():
        device = services.revoke_device(g.event, device_id, current_user)
        flash(_("« %(name)s » est révoqué : son jeton ne fonctionne plus.", name=device.name), "success")
    return redirect(url_for("devices.devices", slug=slug))
