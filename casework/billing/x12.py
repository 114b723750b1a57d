"""Write an ASC X12 837P (005010X222A1) professional claim file from plain dataclasses.

The writer knows nothing about Django: billing services turn signed notes and charges into the
dataclasses below and call `render_837p`, which returns the whole interchange as text
(ISA … IEA, one functional group, one transaction set).

Layout of the transaction, per the TR3: 1000A submitter, 1000B receiver, one 2000A billing
provider HL, one 2000B subscriber HL per member (the client is always the subscriber, SBR02=18,
so there is no 2000C), the 2010BB payer under each subscriber, then that member's 2300 claims
with their 2400 service lines.

Input that no payer could accept (no lines, a bad diagnosis pointer, a replacement without the
payer's claim number, a 5-digit billing-provider ZIP…) raises `ClaimFileError`, a `ValueError`
whose message names the offending field. Free text (names, addresses) is transliterated to
ASCII, upper-cased and stripped of X12 delimiters; identifiers and codes are never altered, so
one that contains a delimiter or a non-ASCII character is an error rather than a silent change.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from unidecode import unidecode

VERSION = "005010X222A1"
ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
TERMINATOR = "~"
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_MODIFIERS = 4
MAX_LINES_PER_CLAIM = 50  # 2400 loop repeat
MAX_CLAIMS_PER_SUBSCRIBER = 100  # 2300 loop repeat
FREQUENCIES = frozenset({"1", "7", "8"})  # original, replacement, void
NEEDS_ORIGINAL_REFERENCE = frozenset({"7", "8"})
SEXES = frozenset({"F", "M", "U"})
PAYER_RESPONSIBILITIES = frozenset("ABCDEFGHPSTU")  # SBR01
# SBR09 codes allowed by 005010X222A1 (a closed list in the TR3).
CLAIM_FILING_INDICATORS = frozenset(
    {"11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS"}
    | {"FI", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"}
)

# The X12 basic character set, less the delimiters this writer uses ("*", ":", "~"; "^" is
# not in the basic set). Free text is reduced to these characters.
_NOT_BASIC_TEXT = re.compile(r"""[^A-Z0-9!"&'()+,\-./;?= ]+""")
# Identifiers may use the 5010 extended character set, again less the delimiters.
_NOT_IDENTIFIER = re.compile(r"""[^A-Za-z0-9!"&'()+,\-./;?= %@\[\]_{}\\|<>`#$]""")
_SPACES = re.compile(r" {2,}")


class ClaimFileError(ValueError):
    """Input that cannot become a valid 837P; the message names the field and what to fix."""


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str  # 2 letters
    postal_code: str  # 5 or 9 digits (a hyphen is allowed and stripped)
    line2: str = ""


@dataclass(frozen=True)
class Envelope:
    sender_id: str  # ISA06/GS02 (ISA06 padded to 15)
    receiver_id: str  # ISA08/GS03
    interchange_control_number: int  # ISA13/IEA02, 1..999999999
    group_control_number: int  # GS06/GE02
    created_at: datetime.datetime  # aware; ISA09/ISA10/GS04/GS05/BHT04/BHT05 in this time
    usage: str = "P"  # ISA15: P production, T test
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"


@dataclass(frozen=True)
class Submitter:
    """Loop 1000A: who sends the file (the agency or its clearinghouse)."""

    name: str
    identifier: str  # NM109 (ETIN)
    contact_name: str
    phone: str  # digits


@dataclass(frozen=True)
class Receiver:
    """Loop 1000B: the clearinghouse or payer that receives the file."""

    name: str
    identifier: str


@dataclass(frozen=True)
class BillingProvider:
    """Loop 2000A/2010AA: the agency (an organisation) that bills."""

    name: str
    npi: str  # 10 digits
    tax_id: str  # EIN, 9 digits (a hyphen is allowed and stripped)
    address: Address  # the TR3 requires the 9-digit ZIP here
    taxonomy_code: str = ""  # PRV*BI*PXC when given


@dataclass(frozen=True)
class PayerParty:
    """Loop 2010BB: the payer the claims are for."""

    name: str
    payer_id: str


@dataclass(frozen=True)
class Subscriber:
    """Loop 2000B/2010BA: the client, who is always the subscriber (SBR02=18)."""

    member_id: str
    last_name: str
    first_name: str
    birth_date: datetime.date
    sex: str  # "F", "M" or "U"
    address: Address | None = None
    payer_responsibility: str = "P"  # SBR01: P, S, T…
    claim_filing_indicator: str = "MC"  # SBR09: MC Medicaid, MB Medicare B, CI commercial…
    group_number: str = ""


@dataclass(frozen=True)
class RenderingProvider:
    """Loop 2310B: the clinician (a person) who rendered the services."""

    last_name: str
    first_name: str
    npi: str


@dataclass(frozen=True)
class ServiceLine:
    """Loop 2400: one billed service."""

    procedure_code: str  # HCPCS/CPT, e.g. T1016
    modifiers: tuple[str, ...]  # 0..4
    charge: Decimal  # line charge (rate x units), > 0, whole cents
    units: int  # ≥ 1 (SV103 UN)
    service_date: datetime.date  # DTP*472
    diagnosis_pointers: tuple[int, ...]  # 1..4 pointers, each 1..12 into Claim.diagnosis_codes
    line_control_number: str = ""  # REF*6R when given
    place_of_service: str = ""  # SV105, written only when it differs from the claim's


@dataclass(frozen=True)
class Claim:
    """Loop 2300: one claim; CLM02 is the sum of the line charges."""

    patient_control_number: str  # CLM01, unique per claim in our system
    place_of_service: str  # CLM05-1, e.g. "12"
    diagnosis_codes: tuple[str, ...]  # ICD-10-CM, dots stripped; first ABK, rest ABF; 1..12
    subscriber: Subscriber
    lines: tuple[ServiceLine, ...]  # 1..50
    frequency: str = "1"  # CLM05-3: 1 original, 7 replacement, 8 void
    original_reference: str = ""  # payer claim control number, REF*F8; required for 7 and 8
    rendering_provider: RenderingProvider | None = None
    prior_authorization: str = ""  # REF*G1 when given


@dataclass(frozen=True)
class ClaimFile:
    """One interchange: envelope, parties and the claims, grouped by subscriber when written."""

    envelope: Envelope
    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    payer: PayerParty
    claims: tuple[Claim, ...]
    transaction_control_number: int = 1  # ST02/SE02, zero-padded to at least 4 digits
    batch_reference: str = ""  # BHT03; defaults to the transaction control number


def render_837p(claim_file: ClaimFile, *, line_breaks: bool = True) -> str:
    """Return the 837P interchange for `claim_file`; raise ClaimFileError for impossible input.

    Segments end with "~", followed by a newline unless `line_breaks` is False (for the payers
    whose companion guide wants one unbroken stream).
    """
    envelope = claim_file.envelope
    if not claim_file.claims:
        raise ClaimFileError("claims: a claim file needs at least one claim")
    transaction_number = _control_number(
        claim_file.transaction_control_number, "transaction_control_number", width=4
    )
    body = _transaction_header(claim_file, transaction_number)
    body += _billing_provider(claim_file.billing_provider)
    payer = _payer(claim_file.payer)
    for hl_number, (subscriber, claims) in enumerate(_by_subscriber(claim_file.claims), 2):
        body += _subscriber(subscriber, hl_number)
        body += payer
        for claim in claims:
            _claim(body, claim)
    body.append(_segment("SE", str(len(body) + 1), transaction_number))
    group_number = _control_number(envelope.group_control_number, "group_control_number")
    interchange_number = _control_number(
        envelope.interchange_control_number, "interchange_control_number", width=9
    )
    segments = [
        _isa(envelope, interchange_number),
        _gs(envelope, group_number),
        *body,
        _segment("GE", "1", group_number),
        _segment("IEA", "1", interchange_number),
    ]
    end = TERMINATOR + "\n" if line_breaks else TERMINATOR
    return end.join(segments) + end


# --- envelope and header -------------------------------------------------------------------


def _isa(envelope: Envelope, interchange_number: str) -> str:
    created = _aware(envelope.created_at)
    return _segment(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        _qualifier(envelope.sender_qualifier, "envelope.sender_qualifier"),
        _identifier(envelope.sender_id, "envelope.sender_id", 15, min_len=2).ljust(15),
        _qualifier(envelope.receiver_qualifier, "envelope.receiver_qualifier"),
        _identifier(envelope.receiver_id, "envelope.receiver_id", 15, min_len=2).ljust(15),
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
        REPETITION,
        "00501",
        interchange_number,
        "0",
        _choice(envelope.usage, {"P", "T"}, "envelope.usage"),
        COMPONENT,
    )


def _gs(envelope: Envelope, group_number: str) -> str:
    created = _aware(envelope.created_at)
    return _segment(
        "GS",
        "HC",
        _identifier(envelope.sender_id, "envelope.sender_id", 15, min_len=2),
        _identifier(envelope.receiver_id, "envelope.receiver_id", 15, min_len=2),
        created.strftime("%Y%m%d"),
        created.strftime("%H%M"),
        group_number,
        "X",
        VERSION,
    )


def _transaction_header(claim_file: ClaimFile, transaction_number: str) -> list[str]:
    created = _aware(claim_file.envelope.created_at)
    reference = claim_file.batch_reference or transaction_number
    submitter, receiver = claim_file.submitter, claim_file.receiver
    return [
        _segment("ST", "837", transaction_number, VERSION),
        _segment(
            "BHT",
            "0019",
            "00",
            _identifier(reference, "batch_reference", 50),
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            "CH",
        ),
        _nm1(
            "41",
            _text(submitter.name, "submitter.name", 60),
            "",
            "46",
            _identifier(submitter.identifier, "submitter.identifier", 80, min_len=2),
        ),
        _segment(
            "PER",
            "IC",
            _text(submitter.contact_name, "submitter.contact_name", 60),
            "TE",
            _phone(submitter.phone, "submitter.phone"),
        ),
        _nm1(
            "40",
            _text(receiver.name, "receiver.name", 60),
            "",
            "46",
            _identifier(receiver.identifier, "receiver.identifier", 80, min_len=2),
        ),
    ]


# --- parties -------------------------------------------------------------------------------


def _billing_provider(provider: BillingProvider) -> list[str]:
    segments = [_segment("HL", "1", "", "20", "1")]
    if provider.taxonomy_code:
        segments.append(
            _segment(
                "PRV",
                "BI",
                "PXC",
                _taxonomy(provider.taxonomy_code, "billing_provider.taxonomy_code"),
            )
        )
    segments.append(
        _nm1(
            "85",
            _text(provider.name, "billing_provider.name", 60),
            "",
            "XX",
            _npi(provider.npi, "billing_provider.npi"),
        )
    )
    segments += _address(provider.address, "billing_provider.address", nine_digit_zip=True)
    segments.append(
        _segment("REF", "EI", _digits(provider.tax_id, "billing_provider.tax_id", (9,), "-"))
    )
    return segments


def _payer(payer: PayerParty) -> list[str]:
    return [
        _nm1(
            "PR",
            _text(payer.name, "payer.name", 60),
            "",
            "PI",
            _identifier(payer.payer_id, "payer.payer_id", 80, min_len=2),
        )
    ]


def _by_subscriber(claims: Iterable[Claim]) -> list[tuple[Subscriber, list[Claim]]]:
    """Group claims by member id (at most 100 a group), in the order members and claims appear."""
    groups: dict[str, tuple[Subscriber, list[Claim]]] = {}
    for claim in claims:
        member_id = claim.subscriber.member_id
        group = groups.setdefault(member_id, (claim.subscriber, []))
        if group[0] != claim.subscriber:
            raise ClaimFileError(
                f"claim {claim.patient_control_number!r}: member {member_id!r} appears with "
                "different subscriber details in another claim of this file"
            )
        group[1].append(claim)
    # The 2300 loop repeats at most 100 times under one subscriber: a member with more claims
    # gets another subscriber loop (2000B) for each further hundred.
    return [
        (subscriber, member_claims[start : start + MAX_CLAIMS_PER_SUBSCRIBER])
        for subscriber, member_claims in groups.values()
        for start in range(0, len(member_claims), MAX_CLAIMS_PER_SUBSCRIBER)
    ]


def _subscriber(subscriber: Subscriber, hl_number: int) -> list[str]:
    where = f"subscriber {subscriber.member_id!r}"
    segments = [
        _segment("HL", str(hl_number), "1", "22", "0"),
        _segment(
            "SBR",
            _choice(
                subscriber.payer_responsibility,
                PAYER_RESPONSIBILITIES,
                f"{where} payer_responsibility",
            ),
            "18",
            _identifier(subscriber.group_number, f"{where} group_number", 50, required=False),
            "",
            "",
            "",
            "",
            "",
            _choice(
                subscriber.claim_filing_indicator,
                CLAIM_FILING_INDICATORS,
                f"{where} claim_filing_indicator",
            ),
        ),
        _nm1(
            "IL",
            _text(subscriber.last_name, f"{where} last_name", 60),
            _text(subscriber.first_name, f"{where} first_name", 35),
            "MI",
            _identifier(subscriber.member_id, f"{where} member_id", 80, min_len=2),
        ),
    ]
    if subscriber.address is not None:
        segments += _address(subscriber.address, f"{where} address")
    segments.append(
        _segment(
            "DMG",
            "D8",
            _date(subscriber.birth_date),
            _choice(subscriber.sex, SEXES, f"{where} sex"),
        )
    )
    return segments


def _address(address: Address, where: str, *, nine_digit_zip: bool = False) -> list[str]:
    zip_lengths = (9,) if nine_digit_zip else (5, 9)
    state = address.state.strip().upper()
    if len(state) != 2 or not (state.isascii() and state.isalpha()):
        raise ClaimFileError(f"{where}.state: expected a 2-letter state code, got {state!r}")
    return [
        _segment(
            "N3",
            _text(address.line1, f"{where}.line1", 55),
            _text(address.line2, f"{where}.line2", 55, required=False),
        ),
        _segment(
            "N4",
            _text(address.city, f"{where}.city", 30, min_len=2),
            state,
            _digits(address.postal_code, f"{where}.postal_code", zip_lengths, "- "),
        ),
    ]


# --- claims and lines ----------------------------------------------------------------------


def _claim(out: list[str], claim: Claim) -> None:
    """Append the 2300 loop of `claim`, its 2310B rendering provider and its 2400 lines."""
    pcn = _identifier(claim.patient_control_number, "claim patient_control_number", 38)
    where = f"claim {pcn!r}"
    if not claim.lines:
        raise ClaimFileError(f"{where}: a claim needs at least one service line")
    if len(claim.lines) > MAX_LINES_PER_CLAIM:
        raise ClaimFileError(
            f"{where}: {len(claim.lines)} service lines; at most {MAX_LINES_PER_CLAIM} per claim"
        )
    place = _place_of_service(claim.place_of_service, f"{where} place_of_service")
    frequency = _choice(claim.frequency, FREQUENCIES, f"{where} frequency")
    diagnoses = _diagnoses(claim.diagnosis_codes, where)
    lines = [
        _line(number, line, place, len(diagnoses), f"{where} line {number}")
        for number, line in enumerate(claim.lines, 1)
    ]
    total = sum(cents for cents, _ in lines)
    out.append(
        _segment(
            "CLM",
            pcn,
            _format_cents(total),
            "",
            "",
            f"{place}{COMPONENT}B{COMPONENT}{frequency}",
            "Y",
            "A",
            "Y",
            "Y",
        )
    )
    if claim.prior_authorization:
        out.append(
            _segment(
                "REF", "G1", _identifier(claim.prior_authorization, f"{where} prior_authorization")
            )
        )
    if frequency in NEEDS_ORIGINAL_REFERENCE:
        if not claim.original_reference.strip():
            raise ClaimFileError(
                f"{where}: frequency {frequency} (replacement or void) needs original_reference, "
                "the payer's claim control number"
            )
        out.append(
            _segment(
                "REF", "F8", _identifier(claim.original_reference, f"{where} original_reference")
            )
        )
    out.append(
        _segment(
            "HI",
            *(
                f"{'ABK' if index == 0 else 'ABF'}{COMPONENT}{code}"
                for index, code in enumerate(diagnoses)
            ),
        )
    )
    if claim.rendering_provider is not None:
        out.append(_rendering_provider(claim.rendering_provider, where))
    for _, segments in lines:
        out += segments


def _diagnoses(codes: tuple[str, ...], where: str) -> list[str]:
    if not codes:
        raise ClaimFileError(f"{where}: a claim needs at least one diagnosis code")
    if len(codes) > MAX_DIAGNOSES:
        raise ClaimFileError(
            f"{where}: {len(codes)} diagnosis codes; an 837P carries at most {MAX_DIAGNOSES}"
        )
    cleaned = [_icd10(code, f"{where} diagnosis_codes") for code in codes]
    if len(set(cleaned)) != len(cleaned):
        raise ClaimFileError(f"{where}: diagnosis_codes lists a code twice ({cleaned})")
    return cleaned


def _rendering_provider(provider: RenderingProvider, where: str) -> str:
    return _nm1(
        "82",
        _text(provider.last_name, f"{where} rendering_provider.last_name", 60),
        _text(provider.first_name, f"{where} rendering_provider.first_name", 35),
        "XX",
        _npi(provider.npi, f"{where} rendering_provider.npi"),
    )


def _line(
    number: int, line: ServiceLine, claim_place: str, diagnosis_count: int, where: str
) -> tuple[int, list[str]]:
    """Return the line charge in cents and the segments of one 2400 loop."""
    cents = _cents(line.charge, f"{where} charge")
    if isinstance(line.units, bool) or not isinstance(line.units, int) or line.units < 1:
        raise ClaimFileError(f"{where} units: expected a whole number ≥ 1, got {line.units!r}")
    place = ""
    if line.place_of_service and line.place_of_service != claim_place:
        place = _place_of_service(line.place_of_service, f"{where} place_of_service")
    segments = [
        f"LX{ELEMENT}{number}",
        _segment(
            "SV1",
            _procedure(line.procedure_code, line.modifiers, where),
            _format_cents(cents),
            "UN",
            str(line.units),
            place,
            "",
            _pointers(line.diagnosis_pointers, diagnosis_count, where),
        ),
        f"DTP{ELEMENT}472{ELEMENT}D8{ELEMENT}{_date(line.service_date)}",
    ]
    if line.line_control_number:
        reference = _identifier(line.line_control_number, f"{where} line_control_number", 50)
        segments.append(f"REF{ELEMENT}6R{ELEMENT}{reference}")
    return cents, segments


def _procedure(code: str, modifiers: tuple[str, ...], where: str) -> str:
    parts = ["HC", _code(code, f"{where} procedure_code", 5)]
    if len(modifiers) > MAX_MODIFIERS:
        raise ClaimFileError(f"{where} modifiers: at most {MAX_MODIFIERS}, got {modifiers!r}")
    parts += (_code(modifier, f"{where} modifiers", 2) for modifier in modifiers)
    return COMPONENT.join(parts)


def _pointers(pointers: tuple[int, ...], diagnosis_count: int, where: str) -> str:
    if not 1 <= len(pointers) <= MAX_POINTERS:
        raise ClaimFileError(
            f"{where} diagnosis_pointers: expected 1 to {MAX_POINTERS}, got {pointers!r}"
        )
    if len(set(pointers)) != len(pointers):
        raise ClaimFileError(f"{where} diagnosis_pointers: {pointers!r} repeats a pointer")
    for pointer in pointers:
        if isinstance(pointer, bool) or not isinstance(pointer, int):
            raise ClaimFileError(f"{where} diagnosis_pointers: {pointer!r} is not a number")
        if not 1 <= pointer <= diagnosis_count:
            raise ClaimFileError(
                f"{where} diagnosis_pointers: {pointer} points outside the claim's "
                f"{diagnosis_count} diagnosis code(s)"
            )
    return COMPONENT.join(map(str, pointers))


# --- elements ------------------------------------------------------------------------------


def _segment(segment_id: str, *elements: str) -> str:
    """Join a segment, dropping trailing empty elements (the TR3 forbids trailing separators)."""
    end = len(elements)
    while end and not elements[end - 1]:
        end -= 1
    return ELEMENT.join((segment_id, *elements[:end]))


def _nm1(entity: str, last_or_organisation: str, first: str, qualifier: str, code: str) -> str:
    """NM1 naming a person (NM102=1) when there is a first name, else an organisation (2)."""
    kind = "1" if first else "2"
    return _segment("NM1", entity, kind, last_or_organisation, first, "", "", "", qualifier, code)


def _control_number(value: int, field: str, width: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999_999_999:
        raise ClaimFileError(f"{field}: expected a number from 1 to 999999999, got {value!r}")
    return str(value).zfill(width)


def _aware(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ClaimFileError("envelope.created_at: expected a timezone-aware datetime")
    return moment


@functools.lru_cache(maxsize=4096)
def _date(day: datetime.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _cents(amount: Decimal, field: str) -> int:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ClaimFileError(f"{field}: expected a Decimal amount, got {amount!r}")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ClaimFileError(f"{field}: {amount} has fractions of a cent")
    if cents <= 0:
        raise ClaimFileError(f"{field}: expected an amount above zero, got {amount}")
    return int(cents)


def _format_cents(cents: int) -> str:
    """X12 decimal form: no trailing zeros after the point and no bare point (45, 45.5, 45.25)."""
    whole, fraction = divmod(cents, 100)
    if fraction == 0:
        return str(whole)
    if fraction % 10 == 0:
        return f"{whole}.{fraction // 10}"
    return f"{whole}.{fraction:02d}"


def _text(value: str, field: str, max_len: int, *, required: bool = True, min_len: int = 1) -> str:
    """Free text for X12: ASCII transliteration, upper case, basic character set, no delimiters."""
    text = _clean_text(value, max_len)
    if required and len(text) < min_len:
        raise ClaimFileError(f"{field}: needs at least {min_len} letter(s) or digit(s)")
    return text


@functools.lru_cache(maxsize=8192)
def _clean_text(value: str, max_len: int) -> str:
    text = value if value.isascii() else unidecode(value)
    text = _SPACES.sub(" ", _NOT_BASIC_TEXT.sub(" ", text.upper())).strip()
    return text[:max_len].rstrip()


def _identifier(
    value: str, field: str, max_len: int = 50, *, min_len: int = 1, required: bool = True
) -> str:
    """An identifier is sent as given (trimmed); characters X12 cannot carry are an error."""
    identifier = value.strip()
    if not identifier and not required:
        return ""
    if not min_len <= len(identifier) <= max_len:
        raise ClaimFileError(
            f"{field}: expected {min_len} to {max_len} characters, got {identifier!r}"
        )
    if not identifier.isascii() or _NOT_IDENTIFIER.search(identifier):
        raise ClaimFileError(
            f"{field}: {identifier!r} contains characters an X12 file cannot carry "
            "(delimiters * : ~ ^, or non-ASCII)"
        )
    return identifier


def _code(value: str, field: str, length: int) -> str:
    code = value.strip().upper()
    if len(code) != length or not (code.isascii() and code.isalnum()):
        raise ClaimFileError(f"{field}: expected {length} letters or digits, got {value!r}")
    return code


def _icd10(value: str, field: str) -> str:
    code = value.replace(".", "").strip().upper()
    if not 3 <= len(code) <= 7 or not (code.isascii() and code.isalnum()) or code[0].isdigit():
        raise ClaimFileError(f"{field}: {value!r} is not an ICD-10-CM code")
    return code


def _digits(value: str, field: str, lengths: tuple[int, ...], ignored: str) -> str:
    digits = value.strip()
    for character in ignored:
        digits = digits.replace(character, "")
    if len(digits) not in lengths or not (digits.isascii() and digits.isdigit()):
        expected = " or ".join(map(str, lengths))
        raise ClaimFileError(f"{field}: expected {expected} digits, got {value!r}")
    return digits


def _npi(value: str, field: str) -> str:
    return _digits(value, field, (10,), " ")


def _phone(value: str, field: str) -> str:
    digits = "".join(character for character in value if character.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or not digits.isascii():
        raise ClaimFileError(f"{field}: expected a 10-digit phone number, got {value!r}")
    return digits


def _taxonomy(value: str, field: str) -> str:
    return _code(value, field, 10)


def _place_of_service(value: str, field: str) -> str:
    """Two digits. CMS adds codes over time, so the current list is the payer's to enforce."""
    if len(value) != 2 or not (value.isascii() and value.isdigit()):
        raise ClaimFileError(
            f"{field}: expected a 2-digit CMS place of service code, got {value!r}"
        )
    return value


def _qualifier(value: str, field: str) -> str:
    return _code(value, field, 2)


def _choice(value: str, allowed: Iterable[str], field: str) -> str:
    if value not in allowed:
        raise ClaimFileError(f"{field}: {value!r} is not one of {sorted(allowed)}")
    return value
