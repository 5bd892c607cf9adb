"""Synthetic agency extracts: each agency's imperfect view of a synthetic borough, as import files.

Every agency of a MASH knows a realistic part of the population (health nearly everyone, education
the children, probation a few adults), under its own record ids and free fields, with the faults
real extracts have, and 0–5 information items per record. Files follow the node's import schema:
one kind of row per file, CSV or JSON Lines. All of it is synthetic: drawn from a seed, no person
in it exists. Rows are written as households are generated, so memory stays small.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import random
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Protocol

from node.matching.nhs import nhs_check_digit
from node.synthetic.names import FEMALE_FORENAMES, MALE_FORENAMES, SURNAMES
from node.synthetic.places import get_borough
from node.synthetic.population import (
    CHILD,
    FEMALE,
    Household,
    Person,
    iter_households,
    years_before,
)
from node.synthetic.variants import (
    can_transpose_day_month,
    case_and_format,
    format_date,
    mistype_nhs,
    nickname,
    nicknames_of,
    swap_names,
    transpose_day_month,
    typo,
)

PERSONS = "persons"
ITEMS = "items"
FORMATS = ("csv", "jsonl")
SENSITIVITIES = ("standard", "sensitive", "highly-sensitive")

PERSON_COLUMNS = (
    "record_id",
    "forenames",
    "surname",
    "aliases",
    "date_of_birth",
    "gender",
    "address",
    "postcode",
)
ITEM_COLUMNS = ("item_ref", "record_id", "date", "category", "summary", "detail", "sensitivity")
TRUTH_FILE = "truth.csv"
"""Written only on request: which person each agency record really is, for measuring matching."""
README_FILE = "README.txt"

SUMMARY_LIMIT = 500
ITEM_YEARS = 5

_CODE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


class ExtractError(ValueError):
    """Raised for an invalid request to write extracts (bad agency code, unknown format)."""


@dataclass(frozen=True)
class ExtractFile:
    """One written import file: whose it is, which kind of rows, where, and how many rows."""

    agency: str
    kind: str
    path: Path
    rows: int


# --- agency profiles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemTemplate:
    """One category of information item an agency records, with typical summaries."""

    category: str
    weight: int
    summaries: tuple[str, ...]
    min_age: int = 0
    max_age: int = 120
    sex: str = ""
    sensitivity: tuple[int, int, int] = (92, 7, 1)
    """Relative weights of standard, sensitive and highly-sensitive."""


@dataclass(frozen=True)
class FaultRates:
    """How often an agency's records differ from the truth, per record."""

    typo: float = 0.02
    nickname: float = 0.03
    swapped_names: float = 0.003
    transposed_dob: float = 0.006
    missing_dob: float = 0.015
    missing_postcode: float = 0.02
    missing_gender: float = 0.01
    old_address: float = 0.25
    """Of people who moved, the share this agency still holds at the old address."""
    mistyped_nhs: float = 0.01
    case_format: float = 0.03
    first_forename_only: float = 0.4
    alias: float = 0.02
    duplicate: float = 0.0
    """Share of people the agency has recorded twice, under two record ids."""


Reach = Callable[[Person, Household, int], float]


def _everyone(_: Household) -> float:
    return 1.0


@dataclass(frozen=True)
class AgencyProfile:
    """What one agency knows about a borough's people, and how its extract looks."""

    code: str
    record_id: str
    """Format of a record id, with {n} the agency's number for the person."""
    id_digits: int
    item_ref: str
    """Format of an item reference: {n} a running number; {day}, {month} (JAN…), {year} (two
    digits) the item's date."""
    reach: Reach
    """Probability that the agency knows a person, given the person, household and age."""
    items: tuple[ItemTemplate, ...]
    household_reach: Callable[[Household], float] = _everyone
    fmt: str = "csv"
    nhs_share: float = 0.0
    pnc_share: float = 0.0
    """Share of records aged 10 or over carrying a PNC id (only with the pnc_id free field)."""
    free_fields: tuple[str, ...] = ()
    date_style: str = "iso"
    gender_labels: tuple[str, str] = ("F", "M")
    upper_surname: bool = False
    address_suffix: str = ""
    faults: FaultRates = field(default_factory=FaultRates)
    details: tuple[str, ...] = ()


def _health_reach(person: Person, household: Household, age: int) -> float:
    return 0.93


def _education_reach(person: Person, household: Household, age: int) -> float:
    if 4 <= age <= 17:
        return 0.97
    return 0.5 if age == 18 else 0.0


def _police_reach(person: Person, household: Household, age: int) -> float:
    if age >= 18:
        return (0.05, 0.2, 0.45, 0.75)[household.need]
    if age >= 10:
        return (0.02, 0.08, 0.25, 0.5)[household.need]
    return (0.0, 0.05, 0.2, 0.4)[household.need]


def _csc_household(household: Household) -> float:
    if not household.children:
        return 0.0
    return (0.02, 0.2, 0.6, 0.95)[household.need]


def _csc_reach(person: Person, household: Household, age: int) -> float:
    return 0.98 if person.role == CHILD else 0.85


def _housing_household(household: Household) -> float:
    return {"social-rent": 0.95, "temporary": 1.0, "private-rent": 0.08, "owner": 0.01}[
        household.tenure
    ]


def _housing_reach(person: Person, household: Household, age: int) -> float:
    return 0.95 if age >= 18 else 0.0


def _yot_reach(person: Person, household: Household, age: int) -> float:
    if not 10 <= age <= 17:
        return 0.0
    return (0.002, 0.02, 0.08, 0.2)[household.need]


def _probation_reach(person: Person, household: Household, age: int) -> float:
    if not 18 <= age <= 70:
        return 0.0
    return (0.003, 0.02, 0.08, 0.2)[household.need]


def _asc_reach(person: Person, household: Household, age: int) -> float:
    if age < 18:
        return 0.0
    if person.vulnerable:
        return 0.85
    return 0.15 if age >= 75 else 0.01


def _mental_health_reach(person: Person, household: Household, age: int) -> float:
    if age >= 18:
        return (0.04, 0.1, 0.22, 0.35)[household.need] + (0.15 if person.vulnerable else 0.0)
    if age >= 11:
        return (0.02, 0.06, 0.15, 0.3)[household.need]
    return 0.0


def _generic_reach(person: Person, household: Household, age: int) -> float:
    return (0.05, 0.1, 0.2, 0.3)[household.need]


def _item_table(text: str) -> tuple[ItemTemplate, ...]:
    """Parse item templates written as text, one category a block.

    A block starts "[category] weight key=value..." (keys: ages=MIN-MAX, sex=F|M,
    mix=STANDARD/SENSITIVE/HIGHLY, relative weights of the sensitivity levels); each summary
    starts with "- " and may continue on following lines.
    """
    templates: list[ItemTemplate] = []
    for block in textwrap.dedent(text).strip().split("\n["):
        header, *lines = block.strip().lstrip("[").splitlines()
        category, _, settings = header.partition("]")
        weight, *options = settings.split()
        values = dict(option.split("=", 1) for option in options)
        low, _, high = values.get("ages", "0-120").partition("-")
        mix = tuple(int(part) for part in values.get("mix", "92/7/1").split("/"))
        summaries: list[str] = []
        for line in lines:
            if line.startswith("- "):
                summaries.append(line[2:].strip())
            else:
                summaries[-1] += " " + line.strip()
        templates.append(
            ItemTemplate(
                category=category,
                weight=int(weight),
                summaries=tuple(summaries),
                min_age=int(low),
                max_age=int(high),
                sex=values.get("sex", ""),
                sensitivity=(mix[0], mix[1], mix[2]),
            )
        )
    return tuple(templates)


POLICE_ITEMS = _item_table(
    """
    [domestic incident] 30 mix=70/27/3
    - Domestic incident at the home address: verbal argument between adults, children present in
      the property.
    - DASH risk assessment completed after a domestic incident; assessed as {risk} risk.
    - Neighbour reported shouting and banging at the address; officers attended, no offences
      disclosed.
    - Domestic incident: ex-partner attended the address in breach of a non-molestation order;
      arrested at scene.
    [missing episode] 12 ages=8-17 mix=70/28/2
    - Reported missing from home overnight; found safe after {hours} hours, return home interview
      requested.
    - Missing from care placement; located at a friend's address by officers.
    - Third missing episode in {weeks} weeks; associates with older males not known to the family.
    [arrest] 15 ages=10-120
    - Arrested for possession of cannabis; released under investigation.
    - Arrested for common assault; charged and bailed to the magistrates' court.
    - Arrested on suspicion of shoplifting; dealt with by community resolution.
    - Arrested for possession of a bladed article near a school; remanded.
    [CSE concern] 5 ages=10-17 mix=20/60/20
    - Concern of child sexual exploitation raised by school: seen getting into cars with unknown
      adults.
    - Intelligence suggests the young person is being groomed online; referred to MASH.
    [criminal exploitation concern] 6 ages=12-19 mix=40/55/5
    - Stopped outside London with a large amount of cash; suspected county lines involvement.
    - Found with several mobile phones and drugs wraps; NRM referral considered.
    [child coming to notice] 12 ages=0-17
    - Child coming to notice: found unsupervised in the street late at night.
    - Report created after officers attended the address where the child lives and found the home
      in poor condition.
    [victim of crime] 10
    - Victim of robbery (phone taken) on the way home; no injuries.
    - Victim of assault at a party; declined to support a prosecution.
    - Victim of burglary at the home address; crime reference issued.
    [anti-social behaviour] 6 ages=10-120
    - Named in an anti-social behaviour complaint from residents; warning letter issued.
    [stop and search] 8 ages=12-120
    - Stopped and searched under s23 Misuse of Drugs Act; nothing found.
    - Stopped and searched under s1 PACE; no further action.
    """
)

HEALTH_ITEMS = _item_table(
    """
    [A&E attendance] 25
    - A&E attendance with a minor head injury; discharged home with advice.
    - A&E attendance after a fall at home; x-ray clear.
    - Attended A&E with abdominal pain; discharged.
    - A&E attendance following an assault; injuries treated, police informed.
    [GP registration] 15
    - Registered with the GP practice as a new patient.
    - Removed from the GP list after leaving the area; re-registered at another practice.
    [health visitor contact] 18 ages=0-4
    - Health visitor new birth visit completed; no concerns.
    - Health visitor contact: missed two appointments; family not at home.
    - 12-month development review: speech delay noted, referred to speech and language therapy.
    [CAMHS referral] 8 ages=5-17 mix=30/60/10
    - Referred to CAMHS by GP for low mood and self-harm.
    - CAMHS referral accepted; on the waiting list for {weeks} weeks.
    [was not brought] 8 ages=0-17
    - Was not brought to {count} outpatient appointments.
    - Not brought to dental appointments; untreated tooth decay noted.
    [maternity] 6 ages=16-45 sex=F mix=40/45/15
    - Booked for antenatal care at {weeks} weeks; late booking.
    - Midwife records a disclosure of domestic abuse at routine enquiry.
    [sexual health] 4 ages=14-120 mix=0/40/60
    - Attended the sexual health clinic.
    - Sexual health clinic attendance; safeguarding proforma completed.
    [immunisations] 6 ages=0-17
    - Immunisations incomplete; second MMR dose outstanding.
    [substance misuse] 4 ages=16-120 mix=40/50/10
    - Referred to the drug and alcohol service.
    """
)

MENTAL_HEALTH_ITEMS = _item_table(
    """
    [assessment] 20 ages=18-120 mix=50/45/5
    - Assessed by the community mental health team: low mood and anxiety.
    - Initial assessment: anxiety and panic attacks; placed on the psychology waiting list.
    [crisis] 10 mix=20/60/20
    - Seen by the crisis team after expressing suicidal thoughts; home treatment offered.
    - Detained under s136 Mental Health Act by police; assessed and discharged.
    [CAMHS appointment] 15 ages=0-17 mix=40/50/10
    - CAMHS appointment: engagement poor, did not attend twice.
    - CAMHS: disclosure of self-harm; safety plan agreed with parent.
    [admission] 4 ages=18-120 mix=10/50/40
    - Admitted to an inpatient ward under s2 Mental Health Act.
    [care coordination] 10 ages=18-120 mix=60/35/5
    - Care coordinator allocated; care programme approach review held.
    - Depot medication clinic attended.
    [perinatal referral] 4 ages=16-45 sex=F mix=40/50/10
    - Referred to the perinatal mental health team.
    """
)

EDUCATION_ITEMS = _item_table(
    """
    [attendance concern] 30
    - Attendance {pct}% this term; letters sent to parents.
    - Persistent absence: attendance panel meeting arranged.
    - Not seen in school for {days} days; home visit made by the education welfare officer.
    [exclusion] 8 ages=5-120
    - Suspended for {days} days for a physical assault on another pupil.
    - Permanent exclusion for bringing a knife onto school premises.
    [safeguarding log entry] 20 mix=60/37/3
    - Safeguarding log: pupil arrived hungry and in unwashed uniform.
    - Safeguarding log: pupil disclosed parents arguing at home; DSL informed.
    - Safeguarding log: unexplained bruising to arm noticed in PE; referred to MASH.
    [SEN support] 10
    - On the SEN support register: speech, language and communication needs.
    - EHC plan in place; annual review held.
    [free school meals] 6
    - Eligible for free school meals.
    [elective home education] 2
    - Parent notified the school of elective home education; removed from roll.
    [behaviour] 10
    - Behaviour incident: verbal abuse to staff; detention given.
    """
)

HOUSING_ITEMS = _item_table(
    """
    [rent arrears] 25
    - Rent arrears of £{amount}; notice of seeking possession served.
    - Rent arrears of £{amount}; repayment agreement made.
    [temporary accommodation] 12
    - Placed in temporary accommodation (bed and breakfast) after eviction by a private landlord.
    - Homelessness application accepted; household in temporary accommodation for {weeks} weeks.
    [ASB complaint] 15
    - ASB complaint from neighbours: loud music late at night.
    - Complaint of drug dealing from the property; visited by the housing officer.
    - Tenant reported harassment by a neighbour.
    [home visit] 15
    - Tenancy audit visit: property in poor condition, hoarding noted.
    - Damp and mould reported in the children's bedroom; repairs raised.
    [tenancy] 10
    - Sole tenancy granted.
    - Tenancy succession request received.
    - Property found empty for {weeks} weeks; abandonment procedure started.
    [domestic abuse] 6 mix=30/60/10
    - Tenant disclosed domestic abuse; management transfer requested.
    """
)

YOT_ITEMS = _item_table(
    """
    [court order] 12
    - Referral Order for {count} months made at the youth court.
    - Youth Rehabilitation Order with a supervision requirement.
    [out of court disposal] 12
    - Youth caution for possession of cannabis; YOT assessment completed.
    - Community resolution; YOT prevention programme offered.
    [appointment] 20
    - Missed YOT appointment; warning letter issued.
    - YOT supervision session attended; engaging well.
    [assessment] 8 mix=30/60/10
    - AssetPlus assessment: high risk of serious harm identified.
    [exploitation concern] 6 mix=20/60/20
    - Concerns of criminal exploitation; NRM referral made.
    """
)

PROBATION_ITEMS = _item_table(
    """
    [sentence] 12
    - Community Order with {hours} hours of unpaid work for theft.
    - Released on licence; supervised by probation.
    - Suspended Sentence Order for assault.
    [supervision] 20
    - Attended supervision appointment.
    - Failed to attend appointment; warning issued.
    - Breach proceedings started after {count} missed appointments.
    [risk assessment] 8 mix=40/55/5
    - OASys assessment: medium risk of serious harm to known adults.
    - Referred to a domestic abuse perpetrator programme.
    [MAPPA] 3 mix=0/60/40
    - Managed under MAPPA level 2.
    """
)

ADULT_SOCIAL_CARE_ITEMS = _item_table(
    """
    [Care Act assessment] 15
    - Care Act assessment completed: eligible for support with personal care.
    - Needs assessment: high risk of falls at home.
    [safeguarding enquiry] 8 mix=30/60/10
    - Section 42 safeguarding enquiry: suspected financial abuse by a family member.
    - Safeguarding concern raised by the GP: self-neglect.
    [care package] 12
    - Home care package of {hours} hours a week started.
    - Day centre placement agreed.
    [carer's assessment] 5
    - Carer's assessment offered to a family member.
    [review] 10
    - Annual review held; package unchanged.
    [DoLS] 3 mix=20/60/20
    - Deprivation of Liberty Safeguards authorisation requested.
    """
)

CHILDRENS_SOCIAL_CARE_ITEMS = _item_table(
    """
    [contact] 20
    - Contact received from police after a domestic incident; NFA after MASH screening.
    - Contact from school about neglect; progressed to early help.
    - Contact from health visitor about the home conditions; information gathered.
    [child and family assessment] 15
    - Child and family assessment (s17) completed; child in need plan agreed.
    [strategy discussion] 8 mix=40/55/5
    - Strategy discussion held; section 47 enquiry started.
    [child protection] 6 mix=40/55/5
    - Initial child protection conference: child protection plan under the category of neglect.
    - Child protection plan ended; stepped down to child in need.
    [looked after] 3 ages=0-17 mix=20/60/20
    - Accommodated under section 20 with parental agreement.
    - Care proceedings issued; interim care order granted.
    [early help] 12
    - Early help assessment completed with the family's consent; family support worker allocated.
    [case closure] 8
    - Case closed: needs met through universal services.
    """
)

GENERIC_ITEMS = _item_table(
    """
    [contact] 20
    - Contact recorded with the agency.
    - Service user seen at the office.
    [concern raised] 8
    - Concern raised by a member of staff; manager informed.
    [support plan] 10
    - Support plan agreed and reviewed.
    [case closure] 5
    - Case closed.
    """
)

_DETAILS = (
    "Information shared with the MASH.",
    "No further action at this stage.",
    "Manager informed and decision recorded.",
    "Follow-up booked in {weeks} weeks.",
    "Parent or carer informed.",
    "Advice given and leaflet provided.",
)

_POLICE_FAULTS = FaultRates(
    typo=0.03, nickname=0.05, alias=0.08, first_forename_only=0.5, old_address=0.35, duplicate=0.01
)

PROFILES: dict[str, AgencyProfile] = {
    profile.code: profile
    for profile in (
        AgencyProfile(
            code="police",
            record_id="MPS-{n:07d}",
            id_digits=7,
            item_ref="CAD{n:05d}/{day:02d}{month}{year:02d}",
            reach=_police_reach,
            items=POLICE_ITEMS,
            free_fields=("pnc_id",),
            pnc_share=0.4,
            gender_labels=("Female", "Male"),
            upper_surname=True,
            faults=_POLICE_FAULTS,
            details=("Crime report raised.", "Intelligence report submitted.", "DASH completed."),
        ),
        AgencyProfile(
            code="childrens-social-care",
            record_id="{n:07d}",
            id_digits=7,
            item_ref="CN-{n:07d}",
            reach=_csc_reach,
            household_reach=_csc_household,
            items=CHILDRENS_SOCIAL_CARE_ITEMS,
            nhs_share=0.5,
            free_fields=("open_case", "worker", "team", "since"),
            faults=FaultRates(first_forename_only=0.2),
        ),
        AgencyProfile(
            code="health",
            record_id="HL{n:08d}",
            id_digits=8,
            item_ref="ENC{n:09d}",
            reach=_health_reach,
            items=HEALTH_ITEMS,
            fmt="jsonl",
            nhs_share=0.97,
            free_fields=("gp_practice",),
            faults=FaultRates(typo=0.015, nickname=0.01, old_address=0.4, duplicate=0.005),
        ),
        AgencyProfile(
            code="mental-health",
            record_id="RIO{n:07d}",
            id_digits=7,
            item_ref="MH-{n:07d}",
            reach=_mental_health_reach,
            items=MENTAL_HEALTH_ITEMS,
            fmt="jsonl",
            nhs_share=0.95,
            free_fields=("team",),
            faults=FaultRates(typo=0.015, nickname=0.01),
        ),
        AgencyProfile(
            code="education",
            record_id="EMS{n:06d}",
            id_digits=6,
            item_ref="LOG-{n:06d}",
            reach=_education_reach,
            items=EDUCATION_ITEMS,
            free_fields=("upn", "school", "year_group"),
            date_style="uk",
            faults=FaultRates(nickname=0.04, first_forename_only=0.6, old_address=0.15),
        ),
        AgencyProfile(
            code="housing",
            record_id="HSG{n:06d}",
            id_digits=6,
            item_ref="HSG-EV-{n:06d}",
            reach=_housing_reach,
            household_reach=_housing_household,
            items=HOUSING_ITEMS,
            free_fields=("tenancy_ref", "tenure"),
            date_style="uk",
            gender_labels=("female", "male"),
            faults=FaultRates(missing_dob=0.05, missing_gender=0.05, old_address=0.05),
        ),
        AgencyProfile(
            code="yot",
            record_id="YJ{n:06d}",
            id_digits=6,
            item_ref="YOT-{n:06d}",
            reach=_yot_reach,
            items=YOT_ITEMS,
            free_fields=("pnc_id", "order_type", "open_case", "worker", "since"),
            pnc_share=0.6,
            faults=FaultRates(nickname=0.04, alias=0.04),
        ),
        AgencyProfile(
            code="probation",
            record_id="X{n:06d}",
            id_digits=6,
            item_ref="NDL-{n:08d}",
            reach=_probation_reach,
            items=PROBATION_ITEMS,
            free_fields=("pnc_id", "tier", "open_case", "worker", "since"),
            pnc_share=0.95,
            upper_surname=True,
            faults=FaultRates(nickname=0.04, alias=0.06),
        ),
        AgencyProfile(
            code="adult-social-care",
            record_id="ASC{n:07d}",
            id_digits=7,
            item_ref="ASC-{n:07d}",
            reach=_asc_reach,
            items=ADULT_SOCIAL_CARE_ITEMS,
            nhs_share=0.8,
            free_fields=("primary_support_reason", "consent_to_share"),
            date_style="uk",
            address_suffix=", London",
            faults=FaultRates(missing_postcode=0.01),
        ),
    )
}

AGENCY_CODES: tuple[str, ...] = tuple(PROFILES)
"""The standard agencies, each with its own profile; any other code gets a generic one."""


def profile_for(agency: str) -> AgencyProfile:
    """Return the agency's profile; an unknown but well-formed code gets a generic profile."""
    if agency in PROFILES:
        return PROFILES[agency]
    if not _CODE.fullmatch(agency):
        raise ExtractError(
            f"agency code {agency!r} must be lower case letters, digits and hyphens, "
            "starting with a letter (2-40 characters)"
        )
    prefix = "".join(part[0] for part in agency.split("-") if part).upper()
    return AgencyProfile(
        code=agency,
        record_id=prefix + "-{n:06d}",
        id_digits=6,
        item_ref=prefix + "-N{n:06d}",
        reach=_generic_reach,
        items=GENERIC_ITEMS,
        date_style="mixed",
    )


# --- free fields ---------------------------------------------------------------------------------

_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"
_SCHOOL_WORDS = ("Primary School", "Primary Academy", "Junior School", "C of E Primary School")
_SECONDARY_WORDS = ("Academy", "School", "Community School", "High School")
_TEAMS = ("Assessment", "Child in Need", "Child Protection", "Children Looked After", "Early Help")
_MH_ADULT_TEAMS = ("CMHT North", "CMHT South", "Early Intervention in Psychosis", "Crisis Team")
_WORKER_FORENAMES = ("Amina", "Bethan", "Callum", "Deepa", "Eoin", "Farah", "Grace", "Hamza")
_WORKER_SURNAMES = ("Adeyemi", "Brennan", "Chowdhury", "Delaney", "Evans", "Fofana", "Gill")
_ORDERS = ("Referral Order", "Youth Rehabilitation Order", "Out of court disposal", "Bail support")
_SUPPORT = (
    "Physical support",
    "Learning disability support",
    "Mental health support",
    "Support with memory and cognition",
    "Sensory support",
    "Social support",
)


def upn(la_code: int, school_number: int, year: int, serial: int) -> str:
    """Return a unique pupil number: check letter, LA, school, two-digit year, serial (13)."""
    body = f"{la_code:03d}{school_number:04d}{year % 100:02d}{serial:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, range(2, 14), strict=True))
    return _UPN_LETTERS[total % 23] + body


def pnc_id(year: int, serial: int) -> str:
    """Return a Police National Computer id such as "19/123456A" (year, serial, check letter)."""
    check = _PNC_LETTERS[int(f"{year % 100:02d}{serial:07d}") % 23]
    return f"{year % 100:02d}/{serial}{check}"


def _year_group(age: int) -> str:
    if age <= 4:
        return "Reception"
    return f"Year {min(age - 4, 13)}"


# --- writing -------------------------------------------------------------------------------------


class _Sink(Protocol):
    rows: int

    def write(self, row: Mapping[str, Any]) -> None: ...


class _CsvSink:
    def __init__(self, stream: io.TextIOBase, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.writer = csv.writer(stream)
        self.writer.writerow(self.columns)
        self.rows = 0

    def write(self, row: Mapping[str, Any]) -> None:
        values = []
        for column in self.columns:
            value = row.get(column, "")
            values.append(";".join(value) if isinstance(value, list) else value)
        self.writer.writerow(values)
        self.rows += 1


class _JsonlSink:
    def __init__(self, stream: io.TextIOBase) -> None:
        self.stream = stream
        self.rows = 0

    def write(self, row: Mapping[str, Any]) -> None:
        present = {key: value for key, value in row.items() if value not in ("", [], None)}
        self.stream.write(json.dumps(present, ensure_ascii=False) + "\n")
        self.rows += 1


def _open_sink(stack: ExitStack, path: Path, fmt: str, columns: Sequence[str]) -> _Sink:
    stream = stack.enter_context(path.open("w", encoding="utf-8", newline=""))
    return _CsvSink(stream, columns) if fmt == "csv" else _JsonlSink(stream)


class _Figures(dict[str, str]):
    """Figures for a summary's placeholders ({weeks}, {amount}...), drawn only when used."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        figures: dict[str, Callable[[], object]] = {
            "risk": lambda: rng.choice(("standard", "standard", "medium", "high")),
            "hours": lambda: rng.randint(2, 72),
            "weeks": lambda: rng.randint(2, 16),
            "days": lambda: rng.randint(2, 30),
            "pct": lambda: rng.randint(55, 89),
            "count": lambda: rng.randint(2, 6),
            "amount": lambda: f"{rng.randint(250, 4800):,}",
        }
        value = str(figures[key]())
        self[key] = value
        return value


class _UniqueNumbers:
    """Random numbers of a fixed width, never repeated."""

    def __init__(self, rng: random.Random, digits: int) -> None:
        self.rng = rng
        self.low = 10 ** (digits - 1)
        self.high = 10**digits - 1
        self.used: set[int] = set()

    def next(self) -> int:
        while True:
            number = self.rng.randint(self.low, self.high)
            if number not in self.used:
                self.used.add(number)
                return number


class _AgencyWriter:
    """Decides who one agency knows and writes its persons and items rows."""

    def __init__(
        self,
        profile: AgencyProfile,
        borough: str,
        seed: int,
        as_of: dt.date,
        persons: _Sink,
        items: _Sink,
        truth: _Sink | None,
    ) -> None:
        self.profile = profile
        self.borough = get_borough(borough)
        self.as_of = as_of
        self.rng = random.Random(f"{seed}:{borough}:{profile.code}")
        self.persons = persons
        self.items = items
        self.truth = truth
        self.ids = _UniqueNumbers(self.rng, profile.id_digits)
        self.item_count = 0
        self.household_cache: dict[tuple[str, str], str] = {}
        self.template_cache: dict[tuple[int, str], tuple[list[ItemTemplate], list[int]]] = {}
        self.pnc_serials = _UniqueNumbers(self.rng, 6)
        self.item_start = years_before(as_of, ITEM_YEARS)

    # --- who ------------------------------------------------------------------------------------

    def add(self, household: Household) -> None:
        rng = self.rng
        if rng.random() >= self.profile.household_reach(household):
            return
        for person in household.people:
            age = person.age_on(self.as_of)
            if rng.random() < self.profile.reach(person, household, age):
                self._record(person, household, age)
                if rng.random() < self.profile.faults.duplicate:
                    self._record(person, household, age)

    def _record(self, person: Person, household: Household, age: int) -> None:
        record_id = self.profile.record_id.format(n=self.ids.next())
        row = {"record_id": record_id, **self._person_row(person)}
        row.update(self._free_fields(person, household, age))
        self.persons.write(row)
        if self.truth is not None:
            self.truth.write(
                {
                    "agency": self.profile.code,
                    "record_id": record_id,
                    "person_id": person.person_id,
                    "household_id": household.household_id,
                }
            )
        self._items(record_id, person, household, age)

    # --- how it is recorded ---------------------------------------------------------------------

    def _person_row(self, person: Person) -> dict[str, Any]:
        rng = self.rng
        faults = self.profile.faults
        forenames = person.forenames
        if " " in forenames and rng.random() < faults.first_forename_only:
            forenames = forenames.split(" ", 1)[0]
        surname = person.surname
        if rng.random() < faults.nickname and nicknames_of(forenames.split(" ", 1)[0]):
            forenames = nickname(forenames, rng)
        if rng.random() < faults.typo:
            if rng.random() < 0.5:
                forenames = typo(forenames, rng)
            else:
                surname = typo(surname, rng)
        if rng.random() < faults.swapped_names:
            forenames, surname = swap_names(forenames, surname)
        if self.profile.upper_surname:
            surname = surname.upper()
        if rng.random() < faults.case_format:
            if rng.random() < 0.5:
                forenames = case_and_format(forenames, rng)
            else:
                surname = case_and_format(surname, rng)
        address, postcode = person.address, person.postcode
        if person.previous_address and rng.random() < faults.old_address:
            address, postcode = person.previous_address, person.previous_postcode
        if rng.random() < faults.missing_postcode:
            postcode = ""
        return {
            "forenames": forenames,
            "surname": surname,
            "aliases": self._aliases(person),
            "date_of_birth": self._birth_date(person),
            "gender": self._gender(person),
            "address": address + self.profile.address_suffix,
            "postcode": postcode,
            "nhs_number": self._nhs(person),
        }

    def _birth_date(self, person: Person) -> str:
        rng = self.rng
        faults = self.profile.faults
        if rng.random() < faults.missing_dob:
            return ""
        born = person.date_of_birth
        if rng.random() < faults.transposed_dob and can_transpose_day_month(born):
            born = transpose_day_month(born)
        return self._date(born)

    def _date(self, day: dt.date) -> str:
        style = self.profile.date_style
        if style == "mixed":
            style = "uk" if self.rng.random() < 0.5 else "iso"
        return format_date(day, style)

    def _gender(self, person: Person) -> str:
        if self.rng.random() < self.profile.faults.missing_gender:
            return ""
        female, male = self.profile.gender_labels
        return female if person.sex == FEMALE else male

    def _nhs(self, person: Person) -> str:
        rng = self.rng
        if rng.random() >= self.profile.nhs_share:
            return ""
        if rng.random() < self.profile.faults.mistyped_nhs:
            return mistype_nhs(person.nhs_number, rng)
        return person.nhs_number

    def _aliases(self, person: Person) -> list[str]:
        rng = self.rng
        if rng.random() >= self.profile.faults.alias:
            return []
        first = person.forenames.split(" ", 1)[0]
        options = [f"{first} {typo(person.surname, rng)}"]
        if person.previous_surname:
            options += [f"{first} {person.previous_surname}"] * 3
        if nicknames_of(first):
            options += [f"{nickname(first, rng)} {person.surname}"] * 2
        return [rng.choice(options)]

    # --- free fields ----------------------------------------------------------------------------

    def _shared(self, household: Household, key: str, make: Callable[[], str]) -> str:
        """A value every member of a household shares in this agency (school, tenancy, GP)."""
        cache_key = (household.household_id, key)
        if cache_key not in self.household_cache:
            self.household_cache[cache_key] = make()
        return self.household_cache[cache_key]

    def _free_fields(self, person: Person, household: Household, age: int) -> dict[str, str]:
        rng = self.rng
        fields: dict[str, str] = {}
        wanted = self.profile.free_fields
        if "pnc_id" in wanted:
            has_pnc = age >= 10 and rng.random() < self.profile.pnc_share
            year = self.as_of.year - rng.randint(0, max(0, min(age - 10, 20)))
            fields["pnc_id"] = pnc_id(year, self.pnc_serials.next()) if has_pnc else ""
        if "upn" in wanted:
            fields.update(self._education(person, household, age))
        if "gp_practice" in wanted:
            fields["gp_practice"] = self._shared(household, "gp", self._gp_practice)
        if self.profile.code == "childrens-social-care":
            status = self._shared(
                household, "status", lambda: rng.choice(("open", "open", "closed"))
            )
            fields["open_case"] = "yes" if status == "open" else "no"
            fields["team"] = self._shared(household, "team", lambda: rng.choice(_TEAMS))
        elif "team" in wanted:
            fields["team"] = "CAMHS" if age < 18 else rng.choice(_MH_ADULT_TEAMS)
        if "open_case" in wanted:
            fields.update(self._involvement(person, household, fields.get("open_case")))
        if "tenancy_ref" in wanted:
            fields["tenancy_ref"] = self._shared(
                household, "tenancy", lambda: f"T{rng.randint(10**7, 10**8 - 1)}"
            )
            fields["tenure"] = {"temporary": "temporary accommodation"}.get(
                household.tenure, rng.choice(("secure", "secure", "introductory"))
            )
        if "order_type" in wanted:
            fields["order_type"] = rng.choice(_ORDERS)
        if "tier" in wanted:
            fields["tier"] = f"{rng.choice('ABCD')}{rng.randint(0, 3)}"
        if "primary_support_reason" in wanted:
            fields["primary_support_reason"] = rng.choice(_SUPPORT)
            fields["consent_to_share"] = rng.choices(("yes", "no", "not recorded"), (6, 1, 3))[0]
        return fields

    def _involvement(
        self, person: Person, household: Household, open_case: str | None
    ) -> dict[str, str]:
        """The standard involvement columns: whether the agency has the person open now, the
        allocated worker and since when (the household's worker is shared). Drawn from a
        stream of their own, so that the rest of the extract is the same with or without them."""
        own = random.Random(f"{self.profile.code}:{household.household_id}:{person.person_id}")
        if open_case is None:
            open_case = "yes" if own.random() < 0.6 else "no"
        if open_case != "yes":
            return {"open_case": "no", "worker": "", "since": ""}
        worker = self._shared(
            household,
            "worker",
            lambda: f"{own.choice(_WORKER_FORENAMES)} {own.choice(_WORKER_SURNAMES)}",
        )
        since = self.as_of - dt.timedelta(days=own.randint(14, 700))
        return {"open_case": "yes", "worker": worker, "since": format_date(since, "iso")}

    def _education(self, person: Person, household: Household, age: int) -> dict[str, str]:
        rng = self.rng
        phase = "primary" if age <= 10 else "secondary"
        school = self._shared(household, phase, lambda: self._school(phase))
        school_number = (2000 if phase == "primary" else 4000) + sum(map(ord, school)) % 999
        entry_year = self.as_of.year - max(0, age - 4)
        return {
            "upn": upn(self.borough.la_code, school_number, entry_year, rng.randint(1, 999)),
            "school": school,
            "year_group": _year_group(age),
        }

    def _school(self, phase: str) -> str:
        rng = self.rng
        word = rng.choice(self.borough.streets[:12]).split(" ")[0]
        if phase == "primary":
            return f"{word} {rng.choice(_SCHOOL_WORDS)}"
        return f"{word} {rng.choice(_SECONDARY_WORDS)}"

    def _gp_practice(self) -> str:
        word = self.rng.choice(self.borough.streets).split(" ")[0]
        return f"{word} {self.rng.choice(('Medical Centre', 'Surgery', 'Health Centre'))}"

    # --- items ----------------------------------------------------------------------------------

    def _templates(self, age: int, sex: str) -> tuple[list[ItemTemplate], list[int]]:
        """The agency's item templates that fit a person of this age and sex, with weights."""
        key = (age, sex)
        if key not in self.template_cache:
            fitting = [
                template
                for template in self.profile.items
                if template.min_age <= age <= template.max_age
                and (not template.sex or template.sex == sex)
            ]
            self.template_cache[key] = (fitting, list(accumulate(t.weight for t in fitting)))
        return self.template_cache[key]

    def _items(self, record_id: str, person: Person, household: Household, age: int) -> None:
        rng = self.rng
        weights = ((50, 30, 12, 5, 2, 1), (25, 35, 20, 12, 5, 3), (10, 25, 25, 20, 12, 8))
        count = rng.choices(range(6), weights=weights[min(household.need, 2)])[0]
        if household.need == 3:
            count = min(5, count + 1)
        templates, cum_weights = self._templates(age, person.sex)
        if not templates:
            return
        first_day = max(self.item_start, person.date_of_birth)
        span = (self.as_of - first_day).days
        days = sorted(first_day + dt.timedelta(days=rng.randint(0, span)) for _ in range(count))
        for day in days:
            template = rng.choices(templates, cum_weights=cum_weights)[0]
            self.item_count += 1
            self.items.write(
                {
                    "item_ref": self._item_ref(day),
                    "record_id": record_id,
                    "date": self._date(day),
                    "category": template.category,
                    "summary": self._text(rng.choice(template.summaries))[:SUMMARY_LIMIT],
                    "detail": self._detail(),
                    "sensitivity": rng.choices(SENSITIVITIES, weights=template.sensitivity)[0],
                }
            )

    def _item_ref(self, day: dt.date) -> str:
        return self.profile.item_ref.format(
            n=self.item_count, day=day.day, month=_MONTHS[day.month - 1], year=day.year % 100
        )

    def _text(self, template: str) -> str:
        return template.format_map(_Figures(self.rng)) if "{" in template else template

    def _detail(self) -> str:
        rng = self.rng
        if rng.random() >= 0.35:
            return ""
        pool = self.profile.details + _DETAILS
        return " ".join(self._text(sentence) for sentence in rng.sample(pool, rng.randint(1, 2)))


# --- public API ----------------------------------------------------------------------------------


def _profiles(
    agencies: Sequence[str], fmt_by_agency: Mapping[str, str] | None
) -> dict[str, AgencyProfile]:
    profiles: dict[str, AgencyProfile] = {}
    for agency in agencies:
        if agency in profiles:
            raise ExtractError(f"agency {agency!r} is listed twice")
        profiles[agency] = profile_for(agency)
    for agency, fmt in (fmt_by_agency or {}).items():
        if agency not in profiles:
            raise ExtractError(f"a format is given for {agency!r}, which is not in the agencies")
        if fmt not in FORMATS:
            raise ExtractError(f"unknown format {fmt!r} for {agency!r}: expected csv or jsonl")
    return profiles


def write_extracts(
    borough: str,
    agencies: Sequence[str],
    out_dir: Path,
    households: int = 400,
    seed: int = 1,
    fmt_by_agency: Mapping[str, str] | None = None,
    *,
    as_of: dt.date | None = None,
    truth: bool = False,
    newcomers: Sequence[Household] = (),
) -> list[ExtractFile]:
    """Write a persons file and an items file per agency for a synthetic borough; return them.

    `newcomers` are households that moved in from other boroughs (`population.moved_to`): the
    borough's agencies record them too, after its own households.

    Files are named "<agency>-persons.<csv|jsonl>" and "<agency>-items.<csv|jsonl>"; the format is
    the agency's default (JSON Lines for health and mental health, CSV otherwise) unless
    fmt_by_agency says otherwise. A README.txt saying the data is synthetic is written too, and,
    with truth=True, TRUTH_FILE mapping every record to the synthetic person it describes. Dates
    are reckoned back from as_of (today); the same seed and as_of give byte-identical files.
    """
    profiles = _profiles(agencies, fmt_by_agency)
    as_of = as_of or dt.date.today()
    get_borough(borough)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_readme(out_dir, borough, households, seed, as_of)
    paths: list[tuple[str, str, Path]] = []
    with ExitStack() as stack:
        truth_sink = None
        if truth:
            columns = ("agency", "record_id", "person_id", "household_id")
            truth_sink = _open_sink(stack, out_dir / TRUTH_FILE, "csv", columns)
        writers: list[_AgencyWriter] = []
        sinks: list[tuple[_Sink, _Sink]] = []
        for agency, profile in profiles.items():
            fmt = (fmt_by_agency or {}).get(agency, profile.fmt)
            person_path = out_dir / f"{agency}-{PERSONS}.{fmt}"
            item_path = out_dir / f"{agency}-{ITEMS}.{fmt}"
            columns = PERSON_COLUMNS + (("nhs_number",) if profile.nhs_share else ())
            persons = _open_sink(stack, person_path, fmt, columns + profile.free_fields)
            items = _open_sink(stack, item_path, fmt, ITEM_COLUMNS)
            writers.append(_AgencyWriter(profile, borough, seed, as_of, persons, items, truth_sink))
            sinks.append((persons, items))
            paths += [(agency, PERSONS, person_path), (agency, ITEMS, item_path)]
        own = iter_households(borough, households, random.Random(seed), as_of=as_of)
        for household in itertools.chain(own, newcomers):
            for writer in writers:
                writer.add(household)
    counts = [sink.rows for pair in sinks for sink in pair]
    return [
        ExtractFile(agency, kind, path, rows)
        for (agency, kind, path), rows in zip(paths, counts, strict=True)
    ]


def _write_readme(out_dir: Path, borough: str, households: int, seed: int, as_of: dt.date) -> None:
    (out_dir / README_FILE).write_text(
        "SYNTHETIC DATA - NOT REAL PEOPLE\n\n"
        f"Generated by `mash-node demo-data` for the {get_borough(borough).name} demo: "
        f"{households} made-up households, seed {seed}, dates reckoned back from "
        f"{as_of.isoformat()}.\n"
        "Names come from frequency lists, street names from the borough, postcodes have real "
        "districts and made-up units, NHS numbers pass the check digit but were drawn at random. "
        "Any resemblance to a real person is coincidence.\n"
        "Each agency's file records the people with the faults real extracts have: typos, "
        "nicknames, missing or transposed dates, old addresses, mistyped NHS numbers.\n",
        encoding="utf-8",
    )


# --- bulk rows for benchmarks --------------------------------------------------------------------

_NHS_SPACE = 400_000_000  # nine-digit prefixes starting 4-7
_NHS_STRIDE = 387_420_489  # 3**18: coprime with _NHS_SPACE, so the walk visits each prefix once


def iter_person_rows(
    borough: str, count: int, seed: int, *, as_of: dt.date | None = None
) -> Iterator[dict[str, str]]:
    """Yield count clean persons rows of one agency, distinct people, fast (for benchmarks).

    Rows have the import schema's person columns (record_id, forenames, surname,
    date_of_birth, gender, address, postcode, nhs_number); NHS numbers are valid and unique.
    No households, faults or items: use write_extracts for realistic data.
    """
    place = get_borough(borough)
    rng = random.Random(f"{seed}:{borough}:bulk")
    draw = rng.random
    as_of = as_of or dt.date.today()
    surnames = [name for name, weight in SURNAMES for _ in range(weight)]
    female, male = FEMALE_FORENAMES, MALE_FORENAMES
    streets, districts = place.streets, place.districts
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    newest = as_of.toordinal()
    span = 95 * 365
    walk = rng.randrange(_NHS_SPACE)
    for index in range(count):
        while True:
            walk = (walk + _NHS_STRIDE) % _NHS_SPACE
            first_nine = str(_NHS_SPACE + walk)
            check = nhs_check_digit(first_nine)
            if check is not None:
                break
        is_female = draw() < 0.5
        names = female if is_female else male
        yield {
            "record_id": f"SYN{index + 1:08d}",
            "forenames": names[int(draw() * len(names))],
            "surname": surnames[int(draw() * len(surnames))],
            "date_of_birth": dt.date.fromordinal(newest - int(draw() * span)).isoformat(),
            "gender": "F" if is_female else "M",
            "address": f"{int(draw() * 240) + 1} {streets[int(draw() * len(streets))]}",
            "postcode": (
                f"{districts[int(draw() * len(districts))]} {int(draw() * 9) + 1}"
                f"{letters[int(draw() * 20)]}{letters[int(draw() * 20)]}"
            ),
            "nhs_number": first_nine + str(check),
        }
