"""Drafts: invoice files checked and written ahead of the deposit form, so that a form error, a
slow connection or a second file never makes anyone choose a file again."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import BinaryIO

from sqlalchemy import delete, func, select

from portal.catalogue import gettext as _
from portal.config import MAX_FILES
from portal.deposits.files import InspectedFile, InvalidInvoiceFile, inspect_upload
from portal.deposits.photos import join_photos
from portal.deposits.storage import StorageUnavailable, Store
from portal.extensions import db
from portal.models import Deposit, Draft, Organization, User, utcnow

# An unused draft is deleted (with its file) after this; a used one only loses its row, since its
# file is now the deposit's.
DRAFT_LIFETIME = timedelta(hours=24)
# A form posted twice (a second click, a form restored by Back) within this is the same invoice.
RESUBMISSION_WINDOW = timedelta(hours=1)
# Purging waits a little longer than drafts can be used, so no form can adopt one being purged.
PURGE_GRACE = timedelta(minutes=10)
PHOTOS_NAME = "photos.pdf"
# Files one user may leave waiting as drafts (several forms' worth).
MAX_UNUSED_DRAFTS = 4 * MAX_FILES


def stage(
    organization: Organization,
    user: User,
    stream: BinaryIO,
    declared_name: str,
    *,
    store: Store,
    form_key: str | None = None,
) -> Draft:
    """Check the file by its content, write it to storage and record it as a draft; commits.

    Raises InvalidInvoiceFile (nothing is stored) when it cannot be deposited, or when the user
    already has MAX_UNUSED_DRAFTS files waiting.
    """
    if unused_count(user) >= MAX_UNUSED_DRAFTS:
        raise InvalidInvoiceFile(
            _(
                "%(count)s files are already waiting to be sent: send them, or take some out, "
                "before adding more.",
                count=MAX_UNUSED_DRAFTS,
            )
        )
    inspected = inspect_upload(stream, declared_name)
    try:
        storage_key = store.save(stream)
    except StorageUnavailable as error:
        raise InvalidInvoiceFile(
            _(
                "The portal could not store this file just now: its file store does not answer. "
                "Nothing was kept; try again in a moment."
            )
        ) from error
    try:
        return _record(organization, user, inspected, storage_key, form_key)
    except BaseException:
        db.session.rollback()
        store.delete(storage_key)  # no draft names it: nothing may stay behind on disk
        raise


def stage_photos(
    organization: Organization,
    user: User,
    pages: Sequence[BinaryIO],
    names: Sequence[str],
    *,
    store: Store,
    form_key: str | None = None,
) -> Draft:
    """Photos of one invoice's pages, each checked, joined into one PDF draft (one photo alone
    stays the image it is). Raises InvalidInvoiceFile or PhotoJoinError."""
    for page, name in zip(pages, names, strict=True):
        inspect_upload(page, name)
    if len(pages) == 1:
        return stage(organization, user, pages[0], names[0], store=store, form_key=form_key)
    joined = io.BytesIO(join_photos(pages))
    return stage(organization, user, joined, PHOTOS_NAME, store=store, form_key=form_key)


def join_drafts(drafts: Sequence[Draft], *, store: Store) -> Draft:
    """Photo drafts of one invoice joined into one PDF draft, which replaces them; commits."""
    first = drafts[0]
    handles = [store.open(draft.storage_key) for draft in drafts]
    try:
        joined = io.BytesIO(join_photos(handles))
    finally:
        for handle in handles:
            handle.close()
    draft = stage(
        first.organization, first.user, joined, PHOTOS_NAME, store=store, form_key=first.form_key
    )
    discard(drafts, store=store)
    return draft


def stage_copy(deposit: Deposit, user: User, *, store: Store, form_key: str | None) -> Draft:
    """A new draft holding a deposit's own file (to correct and send it again)."""
    with store.open(deposit.storage_key) as stored:
        copy = io.BytesIO(stored.read())
    return stage(
        deposit.organization, user, copy, deposit.file_name, store=store, form_key=form_key
    )


def _record(
    organization: Organization,
    user: User,
    inspected: InspectedFile,
    storage_key: str,
    form_key: str | None,
) -> Draft:
    draft = Draft(
        token=secrets.token_urlsafe(24),
        organization=organization,
        user=user,
        form_key=form_key,
        file_name=inspected.display_name,
        file_size=inspected.size,
        media_type=inspected.media_type,
        sha256=inspected.sha256,
        storage_key=storage_key,
        active_content=inspected.active_content,
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def drafts_named(organization: Organization, user: User, tokens: Iterable[str]) -> list[Draft]:
    """The drafts these tokens name that belong to this user and organization, in the order
    given; a token of anyone else's, or expired, names nothing."""
    wanted = list(dict.fromkeys(token for token in tokens if token))[: MAX_FILES + 1]
    if not wanted:
        return []
    found = db.session.scalars(
        select(Draft).where(
            Draft.token.in_(wanted),
            Draft.user_id == user.id,
            Draft.organization_id == organization.id,
            Draft.created_at > utcnow() - DRAFT_LIFETIME,
        )
    ).all()
    by_token = {draft.token: draft for draft in found}
    return [by_token[token] for token in wanted if token in by_token]


def earlier_deposit_of(draft: Draft) -> Deposit | None:
    """The deposit this same invoice already became from this same form (no-script resubmission:
    the same bytes posted again with the same form key), if any."""
    if draft.used:
        return draft.deposit
    if draft.form_key is None:
        return None
    earlier = db.session.scalars(
        select(Draft).where(
            Draft.user_id == draft.user_id,
            Draft.organization_id == draft.organization_id,
            Draft.form_key == draft.form_key,
            Draft.sha256 == draft.sha256,
            Draft.deposit_id.is_not(None),
            Draft.created_at > utcnow() - RESUBMISSION_WINDOW,
        )
    ).first()
    return earlier.deposit if earlier is not None else None


def discard(drafts: Iterable[Draft], *, store: Store) -> None:
    """Unused drafts deleted with their files; commits."""
    for draft in drafts:
        if draft.used:
            continue
        db.session.delete(draft)
        store.delete(draft.storage_key)
    db.session.commit()


def purge_expired(store: Store, now: datetime | None = None) -> int:
    """Delete drafts past their lifetime, and the files of the unused ones; commits. A draft a
    deposit adopts meanwhile is left alone (each deletion re-checks it is unused). Returns how
    many were deleted."""
    cutoff = (now or utcnow()) - DRAFT_LIFETIME - PURGE_GRACE
    stale = db.session.execute(
        select(Draft.id, Draft.storage_key).where(
            Draft.created_at <= cutoff, Draft.deposit_id.is_(None)
        )
    ).all()
    files = []
    for draft_id, storage_key in stale:
        gone = db.session.execute(
            delete(Draft).where(Draft.id == draft_id, Draft.deposit_id.is_(None))
        )
        if gone.rowcount:
            files.append(storage_key)
    used = db.session.execute(
        delete(Draft).where(Draft.created_at <= cutoff, Draft.deposit_id.is_not(None))
    )
    db.session.commit()
    for storage_key in files:  # only once their rows are gone for good
        store.delete(storage_key)
    return len(files) + (used.rowcount or 0)


def unused_count(user: User) -> int:
    """Drafts of this user waiting to be sent (a quota keeps anyone from filling the disk)."""
    return (
        db.session.scalar(
            select(func.count(Draft.id)).where(
                Draft.user_id == user.id,
                Draft.deposit_id.is_(None),
                Draft.created_at > utcnow() - DRAFT_LIFETIME,
            )
        )
        or 0
    )
