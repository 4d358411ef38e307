"""The review list's filters: a GET form, so a filtered list is a link one can share."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional

from portal.catalogue import lazy_gettext as _l
from portal.models import DepositStatus, InvoiceKind, Organization
from portal.review.services import SORTS, Filters


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing

    organization = SelectField(_l("Organization"), choices=[], validate_choice=False)
    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    kind = SelectField(_l("Invoice type"), choices=[], validate_choice=False)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        description=_l("Reference, file name or counterparty."),
    )
    sort = SelectField(_l("Sort by"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Filter"))

    def __init__(self, organizations: list[Organization], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.organization.choices = [("", _l("All organizations"))] + [
            (str(organization.id), organization.name) for organization in organizations
        ]
        self.status.choices = [("", _l("All statuses"))] + [
            (status.value, status.label) for status in DepositStatus
        ]
        self.kind.choices = [("", _l("Purchases and sales"))] + [
            (kind.value, kind.label) for kind in InvoiceKind
        ]
        self.sort.choices = [(key, sort.label) for key, sort in SORTS.items()]

    def filters(self) -> Filters:
        """What was asked; anything malformed is ignored rather than refused."""
        self.validate()
        organization = self.organization.data or ""
        status = self.status.data or ""
        kind = self.kind.data or ""
        return Filters(
            organization_id=int(organization) if organization.isdigit() else None,
            status=DepositStatus(status) if status in {s.value for s in DepositStatus} else None,
            kind=InvoiceKind(kind) if kind in {k.value for k in InvoiceKind} else None,
            date_from=self.date_from.data if not self.date_from.errors else None,
            date_to=self.date_to.data if not self.date_to.errors else None,
            text=(self.q.data or "").strip()[:100] or None,
            sort=self.sort.data if self.sort.data in SORTS else "newest",
        )
