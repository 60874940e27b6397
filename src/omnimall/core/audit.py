"""The audit trail: ``record`` one change, and ``diff`` two snapshots of a model's fields."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from . import sql
from .actors import Actor
from .models import AuditEntry

RECORD_MANY_CHUNK = 500


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | dict | str | int | float | bool) or value is None:
        return value
    return str(value)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Concrete field values of one row, JSON-friendly (FKs by id)."""
    return {
        field.attname: _plain(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every field whose value changed."""
    keys = before.keys() | after.keys()
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(keys)
        if before.get(key) != after.get(key) and key not in {"updated_at", "search_vector"}
    }


def record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one audit entry. Call inside the transaction of the change it describes."""
    entry = _entry(
        actor,
        action,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
        subject_repr=str(subject) if subject is not None else "",
        changes=changes or {},
        reason=reason,
    )
    sql.insert([entry])  # objects.create's INSERT, not compiled each time
    return entry


def record_many(
    *,
    actor: Actor,
    action: str,
    model: type[models.Model],
    subjects: Sequence[tuple[object, str, dict[str, Any]]],
    reason: str = "",
) -> None:
    """Append one entry per changed row of ``model`` — ``(pk, repr, changes)`` each — in one
    INSERT: a machine path's many changes of one kind (a batch upload, a nightly run), so
    they leave the same trail as one made at a time. Inside the change's transaction."""
    if not subjects:
        return
    subject_type = ContentType.objects.get_for_model(model)
    entries = [
        _entry(
            actor,
            action,
            subject_type=subject_type,
            subject_id=str(pk),
            subject_repr=text,
            changes=changes,
            reason=reason,
        )
        for pk, text, changes in subjects
    ]
    for start in range(0, len(entries), RECORD_MANY_CHUNK):  # within SQLite's bound variables
        sql.insert(entries[start : start + RECORD_MANY_CHUNK])


def _entry(
    actor: Actor,
    action: str,
    *,
    subject_type: ContentType | None,
    subject_id: str,
    subject_repr: str,
    changes: dict[str, Any],
    reason: str,
) -> AuditEntry:
    return AuditEntry(
        actor_user_id=actor.id if actor.kind == "user" else None,
        actor_kind=actor.kind,
        actor_label=actor.label[:150],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_repr=subject_repr[:255],
        changes=changes,
        reason=reason,
    )


def save_with_audit(
    *, instance: models.Model, actor: Actor, reason: str = "", action: str | None = None
) -> tuple[bool, dict[str, list[Any]]]:
    """Save one row edited by a person and record before/after; returns (created, changes).

    Call inside the transaction of the change (the caller's service owns it).
    """
    model = type(instance)
    existing = (
        None if instance.pk is None else model._default_manager.filter(pk=instance.pk).first()
    )
    before = {} if existing is None else snapshot(existing)
    instance.save()
    changes = diff(before, snapshot(instance))
    verb = "created" if existing is None else "changed"
    record(
        actor=actor,
        action=action or f"{model._meta.model_name}.{verb}",
        subject=instance,
        changes=changes,
        reason=reason,
    )
    return existing is None, changes


def delete_with_audit(*, instance: models.Model, actor: Actor, reason: str = "") -> None:
    """Delete one row and record what it held. Call inside the transaction of the change."""
    record(
        actor=actor,
        action=f"{instance._meta.model_name}.deleted",
        subject=instance,
        changes={k: [v, None] for k, v in snapshot(instance).items()},
        reason=reason,
    )
    instance.delete()
