"""The audit trail of SCIM writes cannot be edited or deleted from the console or the Django admin."""

from realms.models import AuditEvent

from ..scim.conftest import okta_user


def test_admin_can_read_but_not_add_change_or_delete_audit_events(admin_client, scim):
    scim.post("/Users", okta_user("trail@example.com"))
    event = AuditEvent.objects.get()
    listing = admin_client.get("/admin/realms/auditevent/")
    assert listing.status_code == 200 and "trail@example.com" in listing.content.decode()
    assert 'value="delete_selected"' not in listing.content.decode()
    assert admin_client.get("/admin/realms/auditevent/add/").status_code == 403
    page = admin_client.get(f"/admin/realms/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    admin_client.post(f"/admin/realms/auditevent/{event.pk}/change/", {"action": "user.deleted"})
    assert admin_client.get(f"/admin/realms/auditevent/{event.pk}/delete/").status_code == 403
    admin_client.post(f"/admin/realms/auditevent/{event.pk}/delete/", {"post": "yes"})
    admin_client.post("/admin/realms/auditevent/", {"action": "delete_selected", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.action == "user.created"
    assert AuditEvent.objects.count() == 1
