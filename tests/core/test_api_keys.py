"""API keys in the back office: the secret is shown once, stored hashed, changes are audited."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.messages import get_messages

from omnimall.core import api_keys
from omnimall.core.actors import Actor
from omnimall.core.models import ApiKey, AuditEntry

pytestmark = pytest.mark.django_db


def create_key_in_admin(client, **fields):
    data = {"name": "Shanghai POS", "scopes": ["pos", "catalog:read"], "bound_to": "sh-01"}
    data.update(fields)
    return client.post("/admin/core/apikey/add/", data, follow=True)


def shown_token(response) -> str:
    for message in get_messages(response.wsgi_request):
        text = str(message)
        if "api-key-secret" in text:
            return text.split("<code class='api-key-secret'>")[1].split("</code>")[0]
    return ""


def test_admin_creates_key_and_shows_its_secret_once(admin_client):
    response = create_key_in_admin(admin_client)

    assert response.status_code == 200
    key = ApiKey.objects.get(name="Shanghai POS")
    assert key.scopes == ["pos", "catalog:read"]
    assert key.bound_to == "sh-01"
    token = shown_token(response)
    assert token.startswith(f"{key.prefix}.")
    assert token in response.content.decode()
    assert api_keys.authenticate(token) == key
    assert AuditEntry.objects.filter(action="api_key.created", subject_id=str(key.pk)).exists()


def test_api_key_secret_is_stored_hashed_and_never_shown_again(admin_client):
    token = shown_token(create_key_in_admin(admin_client))
    secret = token.split(".", 1)[1]
    key = ApiKey.objects.get()

    change_page = admin_client.get(f"/admin/core/apikey/{key.pk}/change/").content.decode()
    list_page = admin_client.get("/admin/core/apikey/").content.decode()

    assert key.hashed_secret == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in key.hashed_secret
    assert secret not in change_page
    assert secret not in list_page
    assert key.hashed_secret not in change_page
    assert key.prefix in list_page


def test_admin_refuses_key_without_scopes(admin_client):
    response = create_key_in_admin(admin_client, scopes=[])

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["scopes"]
    assert not ApiKey.objects.exists()


def test_admin_refuses_unknown_scope(admin_client):
    response = create_key_in_admin(admin_client, scopes=["root"])

    assert response.context["adminform"].form.errors["scopes"]
    assert not ApiKey.objects.exists()


def test_scope_change_in_admin_is_audited_with_reason(admin_client):
    key = api_keys.create_api_key(name="WMS", scopes=["wms"], actor=Actor.system()).key

    response = admin_client.post(
        f"/admin/core/apikey/{key.pk}/change/",
        {
            "name": "WMS",
            "scopes": ["wms", "catalog:read"],
            "bound_to": "",
            "is_active": "on",
            "change_reason": "WMS reads the catalog now",
        },
    )

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.scopes == ["wms", "catalog:read"]
    entry = AuditEntry.objects.get(action="api_key.changed")
    assert entry.changes == {"scopes": [["wms"], ["wms", "catalog:read"]]}
    assert entry.reason == "WMS reads the catalog now"


def test_deactivate_action_switches_keys_off_and_audits_each(admin_client):
    keys = [
        api_keys.create_api_key(name=f"POS {n}", scopes=["pos"], actor=Actor.system())
        for n in range(2)
    ]

    response = admin_client.post(
        "/admin/core/apikey/",
        {"action": "deactivate_selected", "_selected_action": [str(k.key.pk) for k in keys]},
    )

    assert response.status_code == 302
    assert not ApiKey.objects.filter(is_active=True).exists()
    assert api_keys.authenticate(keys[0].token) is None
    assert AuditEntry.objects.filter(action="api_key.deactivated").count() == 2


def test_api_keys_cannot_be_deleted_in_admin(admin_client):
    key = api_keys.create_api_key(name="POS", scopes=["pos"], actor=Actor.system()).key

    response = admin_client.post(f"/admin/core/apikey/{key.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_head_of_ecommerce_sees_api_keys_but_cannot_create_or_change_them(client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    key = api_keys.create_api_key(name="POS", scopes=["pos"], actor=Actor.system()).key
    user = get_user_model().objects.create_user("head", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="head of e-commerce"))
    client.force_login(user)

    listing = client.get("/admin/core/apikey/")
    detail = client.get(f"/admin/core/apikey/{key.pk}/change/")
    add = client.get("/admin/core/apikey/add/")
    change = client.post(f"/admin/core/apikey/{key.pk}/change/", {"name": "x", "scopes": ["wms"]})

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert add.status_code == 403
    assert change.status_code == 403
    key.refresh_from_db()
    assert key.scopes == ["pos"]
