"""Searching the hub's subjects, and viewing one, under the firewall and always audited.

Everyone who may search sees which agencies hold records on a subject, as counts; an agency
professional also sees their own agency's records in full. Nobody sees another agency's records.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from node import audit
from node.access import Actor, own_agency, permits, require_manager, require_search
from node.errors import DomainError
from node.involvement import Involvement, household_of, involvement
from node.matching.keys import query_name_form
from node.matching.nhs import NhsNumberError, normalise_nhs_number
from node.matching.normalise import DateError, normalise_postcode, parse_date
from node.store.models import PersonName, PersonRecord
from node.subjects import holdings, live_subject

MAX_SUBJECTS = 50


class SearchError(DomainError):
    """The search cannot run as asked (`field` names the input that is wrong)."""


@dataclass(frozen=True)
class SearchQuery:
    forenames: str = ""
    surname: str = ""
    date_of_birth: str = ""
    postcode: str = ""
    nhs_number: str = ""

    def criteria(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value.strip()}


@dataclass(frozen=True)
class ItemView:
    item_ref: str
    occurred_on: dt.date
    category: str
    summary: str
    detail: str
    sensitivity: str


@dataclass(frozen=True)
class RecordView:
    agency_code: str
    agency_record_id: str
    forenames: str
    surname: str
    aliases: tuple[str, ...]
    date_of_birth: dt.date | None
    gender: str
    address: str
    postcode: str
    nhs_number: str
    extra: dict[str, str]
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class SubjectView:
    subject_id: int
    holdings: dict[str, int]  # agency code -> number of records it holds on this subject
    own_records: tuple[RecordView, ...]
    involvement: tuple[Involvement, ...] = ()  # on the subject's own page: who is involved now


@dataclass(frozen=True)
class SearchResults:
    subjects: tuple[SubjectView, ...]
    truncated: bool


def search(session: Session, actor: Actor, query: SearchQuery, purpose: str) -> SearchResults:
    """Find subjects by name (spelling-tolerant), date of birth, postcode or NHS number."""
    require_search(actor)
    purpose = _require_purpose(purpose)
    statement = _record_filter(query)
    subject_ids: list[int] = []
    for subject_id in session.scalars(statement.limit(5_000)):
        if subject_id not in subject_ids:
            subject_ids.append(subject_id)
        if len(subject_ids) > MAX_SUBJECTS:
            break
    truncated = len(subject_ids) > MAX_SUBJECTS
    views = _views(session, actor, subject_ids[:MAX_SUBJECTS])
    audit.record(
        session,
        actor,
        "search",
        purpose=purpose,
        detail={
            "criteria": query.criteria(),
            "subjects": [view.subject_id for view in views],
            "own_records_shown": sum(len(view.own_records) for view in views),
        },
    )
    return SearchResults(tuple(views), truncated)


def view_subject(session: Session, actor: Actor, subject_id: int, purpose: str) -> SubjectView:
    """One subject: which agencies hold records, and the viewer's own agency's records."""
    require_search(actor)
    purpose = _require_purpose(purpose)
    subject = live_subject(session, subject_id)
    (view,) = _views(session, actor, [subject.id])
    household = household_of(session, subject.id, names=permits(require_manager, actor))
    view = replace(view, involvement=involvement(session, actor, household))
    audit.record(
        session,
        actor,
        "subject.view",
        object_ref=f"subject:{subject.id}",
        purpose=purpose,
        detail={"own_records_shown": len(view.own_records)},
    )
    return view


def _require_purpose(purpose: str) -> str:
    purpose = purpose.strip()
    if not purpose:
        raise SearchError(
            "give the referral reference or the reason for this search", field="purpose"
        )
    return purpose


def _record_filter(query: SearchQuery) -> Select[tuple[int]]:
    statement = select(PersonRecord.subject_id).where(PersonRecord.subject_id.is_not(None))
    given = False
    if query.nhs_number.strip():
        try:
            nhs = normalise_nhs_number(query.nhs_number)
        except NhsNumberError as exc:
            raise SearchError(str(exc), field="nhs_number") from None
        if nhs is None:
            raise SearchError("fails its check digit; check the number", field="nhs_number")
        statement = statement.where(PersonRecord.nhs_number_norm == nhs)
        given = True
    if query.date_of_birth.strip():
        try:
            born = parse_date(query.date_of_birth)
        except DateError as exc:
            raise SearchError(str(exc), field="date_of_birth") from None
        statement = statement.where(PersonRecord.date_of_birth == born)
        given = True
    if query.postcode.strip():
        postcode = normalise_postcode(query.postcode)
        if postcode is None:
            raise SearchError("not a UK postcode", field="postcode")
        statement = statement.where(PersonRecord.postcode_norm == postcode)
        given = True
    if query.surname.strip():
        names = _name_filter(query)
        if given:
            # Another field already narrows the search to a few records: check each one's names
            # through the record index, rather than probing every record whose name sounds alike
            # (a common surname has tens of thousands at a million records).
            statement = statement.where(
                names.where(PersonName.record_id == PersonRecord.id).exists()
            )
        else:
            statement = statement.where(PersonRecord.id.in_(names))
        given = True
    elif query.forenames.strip():
        raise SearchError(
            "a name search needs the surname (forenames alone are too broad)", field="surname"
        )
    if not given:
        raise SearchError("give at least one of: surname, date of birth, postcode, NHS number")
    return statement.order_by(PersonRecord.subject_id)


def _name_filter(query: SearchQuery) -> Select[tuple[int]]:
    """Records with a name (or alias) that sounds like the one asked, either way round."""
    asked = query_name_form(query.forenames, query.surname)
    ways = [(asked.forename_phonetic, asked.surname_phonetic)]
    if asked.forename_phonetic:
        ways.append(
            (asked.surname_phonetic, asked.forename_phonetic)
        )  # forename and surname swapped
    conditions = []
    for forename, surname in ways:
        condition = PersonName.surname_phonetic == surname
        if forename:
            condition = and_(condition, PersonName.forename_phonetic == forename)
        conditions.append(condition)
    return select(PersonName.record_id).where(or_(*conditions))


def _views(session: Session, actor: Actor, subject_ids: list[int]) -> list[SubjectView]:
    if not subject_ids:
        return []
    counts = holdings(session, subject_ids)
    own: dict[int, list[RecordView]] = defaultdict(list)
    agency_code = own_agency(actor)
    if agency_code is not None:
        # Find the subjects' records through the subject index first: filtering on the agency in
        # the same query lets the planner walk the agency's whole (agency, record id) index.
        own_ids = [
            record_id
            for record_id, agency in session.execute(
                select(PersonRecord.id, PersonRecord.agency_code).where(
                    PersonRecord.subject_id.in_(subject_ids)
                )
            )
            if agency == agency_code
        ]
        for record in session.scalars(
            select(PersonRecord)
            .options(selectinload(PersonRecord.items))
            .where(PersonRecord.id.in_(own_ids))
            .order_by(PersonRecord.agency_record_id)
        ):
            assert record.subject_id is not None
            own[record.subject_id].append(_record_view(record))
    return [
        SubjectView(sid, dict(sorted(counts[sid].items())), tuple(own[sid])) for sid in subject_ids
    ]


def _record_view(record: PersonRecord) -> RecordView:
    return RecordView(
        agency_code=record.agency_code,
        agency_record_id=record.agency_record_id,
        forenames=record.forenames,
        surname=record.surname,
        aliases=tuple(record.aliases),
        date_of_birth=record.date_of_birth,
        gender=record.gender,
        address=record.address,
        postcode=record.postcode,
        nhs_number=record.nhs_number,
        extra=dict(record.extra),
        items=tuple(
            ItemView(i.item_ref, i.occurred_on, i.category, i.summary, i.detail, i.sensitivity)
            for i in record.items
        ),
    )
