"""The 837P writer: every file it renders passes pyx12, and impossible claims are refused."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.billing.tests.x12_validation import assert_valid_837p, x12_errors
from casework.billing.x12 import (
    Address,
    BillingProvider,
    Claim,
    ClaimFile,
    ClaimFileError,
    Envelope,
    PayerParty,
    Receiver,
    RenderingProvider,
    ServiceLine,
    Submitter,
    Subscriber,
    render_837p,
)

PACIFIC = datetime.timezone(datetime.timedelta(hours=-8), "PST")
CREATED = datetime.datetime(2025, 3, 4, 9, 5, tzinfo=PACIFIC)
AGENCY_NPI = "1234567893"
CLINICIAN_NPI = "1245319599"
DIAGNOSES = (
    "F32.9",
    "F41.1",
    "F43.10",
    "F10.20",
    "F20.9",
    "F31.9",
    "F33.1",
    "Z59.00",
    "F90.0",
    "F11.20",
    "F84.0",
    "F60.3",
    "F40.10",
    "F42.2",
)


def envelope(**changes: Any) -> Envelope:
    base = Envelope(
        sender_id="CASEWORK01",
        receiver_id="WAHCA",
        interchange_control_number=42,
        group_control_number=7,
        created_at=CREATED,
        usage="T",
    )
    return dataclasses.replace(base, **changes)


def billing_provider(**changes: Any) -> BillingProvider:
    base = BillingProvider(
        name="Cascade Community Counseling",
        npi=AGENCY_NPI,
        tax_id="91-1234567",
        address=Address("400 Capitol Way S", "Olympia", "WA", "98501-1234", line2="Suite 200"),
        taxonomy_code="261QM0801X",
    )
    return dataclasses.replace(base, **changes)


def subscriber(member_id: str = "WA100200300", **changes: Any) -> Subscriber:
    base = Subscriber(
        member_id=member_id,
        last_name="Rivera",
        first_name="Ana",
        birth_date=datetime.date(1984, 6, 30),
        sex="F",
        address=Address("12 Elm St", "Tacoma", "WA", "98402"),
    )
    return dataclasses.replace(base, **changes)


def line(**changes: Any) -> ServiceLine:
    base = ServiceLine(
        procedure_code="T1016",
        modifiers=("HF",),
        charge=Decimal("45.00"),
        units=4,
        service_date=datetime.date(2025, 2, 3),
        diagnosis_pointers=(1,),
    )
    return dataclasses.replace(base, **changes)


def claim(pcn: str = "CW-1001", **changes: Any) -> Claim:
    base = Claim(
        patient_control_number=pcn,
        place_of_service="12",
        diagnosis_codes=("F32.9",),
        subscriber=subscriber(),
        lines=(line(),),
    )
    return dataclasses.replace(base, **changes)


def claim_file(*claims: Claim, **changes: Any) -> ClaimFile:
    base = ClaimFile(
        envelope=envelope(),
        submitter=Submitter(
            "Cascade Community Counseling", "CW0001", "Billing Office", "3605551212"
        ),
        receiver=Receiver("Washington Health Care Authority", "77045"),
        billing_provider=billing_provider(),
        payer=PayerParty("Apple Health Managed Care", "WAMCD"),
        claims=claims or (claim(),),
    )
    return dataclasses.replace(base, **changes)


def realistic_file() -> ClaimFile:
    """Two members, several claims: modifiers, many diagnoses, a replacement and a void."""
    ana = subscriber("WA100200300", last_name="Nguyễn", first_name="Ana")
    jose = subscriber(
        "WA999888777",
        last_name="García",
        first_name="José",
        sex="M",
        birth_date=datetime.date(1971, 12, 1),
        address=None,
        group_number="GRP-77",
    )
    clinician = RenderingProvider("O'Brien", "Siobhán", CLINICIAN_NPI)
    return claim_file(
        claim(
            "CW-1001",
            subscriber=ana,
            diagnosis_codes=("F32.9", "F41.1", "F43.10", "Z59.00", "F10.20"),
            rendering_provider=clinician,
            prior_authorization="PA12345",
            lines=(
                line(diagnosis_pointers=(1, 2), line_control_number="L1001-1"),
                line(
                    procedure_code="H0004",
                    modifiers=("HF", "HQ", "GT", "95"),
                    charge=Decimal("120.50"),
                    units=2,
                    diagnosis_pointers=(3, 4, 5, 1),
                    place_of_service="02",
                ),
                line(procedure_code="H0031", modifiers=(), charge=Decimal("0.01"), units=1),
            ),
        ),
        claim(
            "CW-1002",
            subscriber=jose,
            diagnosis_codes=("F20.9", "F11.20"),
            lines=(line(procedure_code="H2015", diagnosis_pointers=(2, 1), units=96),),
        ),
        claim(
            "CW-0990R",
            subscriber=ana,
            frequency="7",
            original_reference="2025031200012",
            lines=(line(charge=Decimal("90"), units=8, place_of_service="12"),),
        ),
        claim(
            "CW-0950V",
            subscriber=jose,
            frequency="8",
            original_reference="2025020100077",
            diagnosis_codes=("F31.9",),
            lines=(line(charge=Decimal("33.3")),),
        ),
    )


def segments(text: str) -> list[list[str]]:
    return [segment.split("*") for segment in text.split("~\n") if segment]


def find(text: str, segment_id: str) -> list[list[str]]:
    return [segment for segment in segments(text) if segment[0] == segment_id]


# --- the validator helper cannot pass a bad file ---------------------------------------------


def test_validator_reports_a_claim_without_diagnoses() -> None:
    text = render_837p(claim_file())
    broken = "".join(f"{s}~\n" for s in text.split("~\n") if s and not s.startswith("HI*"))
    errors = x12_errors(broken)
    assert any("Health Care Diagnosis Code" in error and "missing" in error for error in errors)
    with pytest.raises(AssertionError, match="Health Care Diagnosis Code"):
        assert_valid_837p(broken)


def test_validator_reports_a_broken_segment() -> None:
    text = render_837p(claim_file())
    broken = text.replace("*Y*A*Y*Y~", "*Y*Q*Y*Y~")  # CLM07 assignment code Q does not exist
    assert any("CLM07" in error for error in x12_errors(broken))


def test_validator_reports_a_wrong_segment_count() -> None:
    text = render_837p(claim_file())
    se = find(text, "SE")[0]
    broken = text.replace(f"SE*{se[1]}*", f"SE*{int(se[1]) + 1}*")
    assert any("SE count" in error for error in x12_errors(broken))


def test_validator_reports_errors_even_when_logging_is_silenced() -> None:
    text = render_837p(claim_file())
    broken = "".join(f"{s}~\n" for s in text.split("~\n") if s and not s.startswith("HI*"))
    logging.disable(logging.CRITICAL)
    try:
        assert any("Health Care Diagnosis Code" in error for error in x12_errors(broken))
    finally:
        logging.disable(logging.NOTSET)


def test_validator_reports_text_that_is_not_x12() -> None:
    assert x12_errors("hello, world~") != []


# --- a realistic file --------------------------------------------------------------------------


def test_realistic_file_validates_with_zero_pyx12_errors() -> None:
    assert_valid_837p(render_837p(realistic_file()))


def test_file_without_line_breaks_also_validates() -> None:
    text = render_837p(realistic_file(), line_breaks=False)
    assert "\n" not in text
    assert_valid_837p(text)


def test_claims_of_one_member_share_one_subscriber_loop_in_first_seen_order() -> None:
    text = render_837p(realistic_file())
    hls = find(text, "HL")
    assert hls == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "22", "0"],
        ["HL", "3", "1", "22", "0"],
    ]
    members = [segment[9] for segment in find(text, "NM1") if segment[1] == "IL"]
    assert members == ["WA100200300", "WA999888777"]
    order = [s[1] for s in segments(text) if s[0] == "CLM" or (s[0] == "NM1" and s[1] == "IL")]
    assert order == ["IL", "CW-1001", "CW-0990R", "IL", "CW-1002", "CW-0950V"]


def test_every_subscriber_carries_sbr_and_the_payer() -> None:
    text = render_837p(realistic_file())
    assert find(text, "SBR") == [
        ["SBR", "P", "18", "", "", "", "", "", "", "MC"],
        ["SBR", "P", "18", "GRP-77", "", "", "", "", "", "MC"],
    ]
    assert len([s for s in find(text, "NM1") if s[1] == "PR"]) == 2


def test_se_counts_the_segments_from_st_to_se() -> None:
    text = render_837p(realistic_file())
    listed = segments(text)
    st_index = next(i for i, s in enumerate(listed) if s[0] == "ST")
    se_index = next(i for i, s in enumerate(listed) if s[0] == "SE")
    assert listed[se_index][1] == str(se_index - st_index + 1)


def test_interchange_control_numbers_are_nine_digits_and_match() -> None:
    text = render_837p(claim_file(envelope=envelope(interchange_control_number=4321)))
    isa, iea = find(text, "ISA")[0], find(text, "IEA")[0]
    assert isa[13] == "000004321"
    assert iea == ["IEA", "1", "000004321"]


def test_group_control_numbers_match() -> None:
    text = render_837p(claim_file(envelope=envelope(group_control_number=123456789)))
    assert find(text, "GS")[0][6] == "123456789"
    assert find(text, "GE")[0] == ["GE", "1", "123456789"]


def test_transaction_control_numbers_are_padded_and_match() -> None:
    text = render_837p(claim_file(transaction_control_number=17))
    assert find(text, "ST")[0] == ["ST", "837", "0017", "005010X222A1"]
    assert find(text, "SE")[0][2] == "0017"
    assert find(text, "BHT")[0][3] == "0017"  # the batch reference defaults to it


def test_isa_is_fixed_width_with_padded_ids() -> None:
    text = render_837p(claim_file())
    isa = text.split("~")[0]
    assert len(isa) + 1 == 106
    assert isa.split("*")[6] == "CASEWORK01     "
    assert isa.split("*")[8] == "WAHCA          "
    assert isa.endswith("*00501*000000042*0*T*:")


def test_dates_and_times_are_in_the_creation_time_zone() -> None:
    text = render_837p(claim_file())
    isa, gs, bht = find(text, "ISA")[0], find(text, "GS")[0], find(text, "BHT")[0]
    assert (isa[9], isa[10]) == ("250304", "0905")
    assert (gs[4], gs[5]) == ("20250304", "0905")
    assert (bht[4], bht[5]) == ("20250304", "0905")


def test_money_is_written_without_trailing_zeros() -> None:
    lines = (
        line(charge=Decimal("45.00")),
        line(charge=Decimal("120.50")),
        line(charge=Decimal("0.01")),
        line(charge=Decimal("9999.99")),
    )
    text = render_837p(claim_file(claim(lines=lines)))
    assert [s[2] for s in find(text, "SV1")] == ["45", "120.5", "0.01", "9999.99"]
    assert find(text, "CLM")[0][2] == "10165.5"
    assert_valid_837p(text)


def test_claim_total_is_summed_in_exact_cents() -> None:
    lines = tuple(line(charge=Decimal("0.10")) for _ in range(50))
    text = render_837p(claim_file(claim(lines=lines)))
    assert find(text, "CLM")[0][2] == "5"


def test_diagnoses_fill_one_hi_segment_principal_first() -> None:
    codes = DIAGNOSES[:12]
    text = render_837p(claim_file(claim(diagnosis_codes=codes)))
    (hi,) = find(text, "HI")
    assert hi[1] == "ABK:F329"
    assert hi[2:] == [f"ABF:{code.replace('.', '')}" for code in codes[1:]]
    assert_valid_837p(text)


def test_service_line_carries_modifiers_units_and_pointers() -> None:
    text = render_837p(realistic_file())
    sv1 = find(text, "SV1")[1]
    assert sv1 == ["SV1", "HC:H0004:HF:HQ:GT:95", "120.5", "UN", "2", "02", "", "3:4:5:1"]
    assert find(text, "SV1")[2] == ["SV1", "HC:H0031", "0.01", "UN", "1", "", "", "1"]


def test_line_place_of_service_is_written_only_when_it_differs() -> None:
    lines = (line(place_of_service="12"), line(place_of_service="53"), line())
    text = render_837p(claim_file(claim(lines=lines)))
    assert [s[5] for s in find(text, "SV1")] == ["", "53", ""]


def test_claim_segments_follow_the_guide() -> None:
    text = render_837p(realistic_file())
    assert find(text, "CLM")[0] == [
        "CLM",
        "CW-1001",
        "165.51",
        "",
        "",
        "12:B:1",
        "Y",
        "A",
        "Y",
        "Y",
    ]
    assert ["REF", "G1", "PA12345"] in find(text, "REF")
    assert ["REF", "6R", "L1001-1"] in find(text, "REF")
    assert ["DTP", "472", "D8", "20250203"] in find(text, "DTP")
    assert ["NM1", "82", "1", "O'BRIEN", "SIOBHAN", "", "", "", "XX", CLINICIAN_NPI] in find(
        text, "NM1"
    )


def test_replacement_and_void_carry_the_payer_claim_number() -> None:
    text = render_837p(realistic_file())
    clms = {s[1]: s for s in find(text, "CLM")}
    assert clms["CW-0990R"][5] == "12:B:7"
    assert clms["CW-0950V"][5] == "12:B:8"
    refs = [s for s in find(text, "REF") if s[1] == "F8"]
    assert refs == [["REF", "F8", "2025031200012"], ["REF", "F8", "2025020100077"]]


def test_billing_provider_loop() -> None:
    text = render_837p(realistic_file())
    listed = segments(text)
    start = listed.index(["HL", "1", "", "20", "1"])
    assert listed[start + 1 : start + 6] == [
        ["PRV", "BI", "PXC", "261QM0801X"],
        ["NM1", "85", "2", "CASCADE COMMUNITY COUNSELING", "", "", "", "", "XX", AGENCY_NPI],
        ["N3", "400 CAPITOL WAY S", "SUITE 200"],
        ["N4", "OLYMPIA", "WA", "985011234"],
        ["REF", "EI", "911234567"],
    ]


def test_subscriber_with_a_five_digit_zip_is_fine() -> None:
    text = render_837p(realistic_file())
    assert ["N4", "TACOMA", "WA", "98402"] in find(text, "N4")
    assert ["DMG", "D8", "19840630", "F"] in find(text, "DMG")


# --- text is made safe for X12 -----------------------------------------------------------------


def test_delimiters_inside_names_cannot_break_the_file() -> None:
    member = subscriber(last_name="Smith*Jones~HL", first_name="A:n^a")
    text = render_837p(
        claim_file(
            claim(subscriber=member),
            billing_provider=billing_provider(name="Care ~ Co * Inc: ^North^"),
        )
    )
    assert ["NM1", "IL", "1", "SMITH JONES HL", "A N A", "", "", "", "MI", "WA100200300"] in find(
        text, "NM1"
    )
    assert find(text, "NM1")[2][3] == "CARE CO INC NORTH"
    assert len(find(text, "HL")) == 2
    assert_valid_837p(text)


def test_unicode_names_are_transliterated_to_the_basic_character_set() -> None:
    text = render_837p(realistic_file())
    assert text.isascii()
    names = [(s[3], s[4]) for s in find(text, "NM1") if s[1] == "IL"]
    assert names == [("NGUYEN", "ANA"), ("GARCIA", "JOSE")]


def test_long_names_are_cut_to_the_element_length() -> None:
    member = subscriber(last_name="Q" * 80, first_name="Z" * 50)
    text = render_837p(claim_file(claim(subscriber=member)))
    il = next(s for s in find(text, "NM1") if s[1] == "IL")
    assert (len(il[3]), len(il[4])) == (60, 35)
    assert_valid_837p(text)


# --- impossible input is refused with a message naming the field ----------------------------

REFUSED = [
    ("no claims", lambda: claim_file(claims=()), "at least one claim"),
    ("no lines", lambda: claim_file(claim(lines=())), "at least one service line"),
    ("51 lines", lambda: claim_file(claim(lines=(line(),) * 51)), "at most 50"),
    ("no diagnoses", lambda: claim_file(claim(diagnosis_codes=())), "at least one diagnosis"),
    ("13 diagnoses", lambda: claim_file(claim(diagnosis_codes=DIAGNOSES[:13])), "at most 12"),
    (
        "repeated diagnosis",
        lambda: claim_file(claim(diagnosis_codes=("F32.9", "F329"))),
        "twice",
    ),
    ("bad diagnosis", lambda: claim_file(claim(diagnosis_codes=("32.9",))), "ICD-10-CM"),
    (
        "pointer beyond diagnoses",
        lambda: claim_file(claim(lines=(line(diagnosis_pointers=(2,)),))),
        "points outside",
    ),
    (
        "pointer zero",
        lambda: claim_file(claim(lines=(line(diagnosis_pointers=(0,)),))),
        "points outside",
    ),
    (
        "five pointers",
        lambda: claim_file(
            claim(diagnosis_codes=DIAGNOSES[:5], lines=(line(diagnosis_pointers=(1, 2, 3, 4, 5)),))
        ),
        "diagnosis_pointers",
    ),
    ("no pointers", lambda: claim_file(claim(lines=(line(diagnosis_pointers=()),))), "1 to 4"),
    (
        "replacement without reference",
        lambda: claim_file(claim(frequency="7")),
        "original_reference",
    ),
    ("void without reference", lambda: claim_file(claim(frequency="8")), "original_reference"),
    ("unknown frequency", lambda: claim_file(claim(frequency="2")), "frequency"),
    (
        "empty last name",
        lambda: claim_file(claim(subscriber=subscriber(last_name=" "))),
        "last_name",
    ),
    (
        "name of delimiters only",
        lambda: claim_file(claim(subscriber=subscriber(first_name="*~:^"))),
        "first_name",
    ),
    (
        "empty billing provider name",
        lambda: claim_file(billing_provider=billing_provider(name="")),
        "billing_provider.name",
    ),
    (
        "short NPI",
        lambda: claim_file(billing_provider=billing_provider(npi="123456789")),
        "billing_provider.npi",
    ),
    (
        "rendering NPI with letters",
        lambda: claim_file(claim(rendering_provider=RenderingProvider("Lee", "Kim", "12345678AB"))),
        "rendering_provider.npi",
    ),
    (
        "five-digit billing provider ZIP",
        lambda: claim_file(
            billing_provider=billing_provider(
                address=Address("1 Main St", "Olympia", "WA", "98501")
            )
        ),
        "billing_provider.address.postal_code",
    ),
    (
        "short tax id",
        lambda: claim_file(billing_provider=billing_provider(tax_id="12-345")),
        "tax_id",
    ),
    (
        "naive creation time",
        lambda: claim_file(envelope=envelope(created_at=CREATED.replace(tzinfo=None))),
        "timezone",
    ),
    (
        "control number too big",
        lambda: claim_file(envelope=envelope(interchange_control_number=1_000_000_000)),
        "interchange_control_number",
    ),
    ("zero charge", lambda: claim_file(claim(lines=(line(charge=Decimal("0")),))), "above zero"),
    (
        "fraction of a cent",
        lambda: claim_file(claim(lines=(line(charge=Decimal("1.005")),))),
        "fractions of a cent",
    ),
    ("zero units", lambda: claim_file(claim(lines=(line(units=0),))), "units"),
    (
        "five modifiers",
        lambda: claim_file(claim(lines=(line(modifiers=("HF", "HQ", "GT", "95", "U1")),))),
        "modifiers",
    ),
    ("bad modifier", lambda: claim_file(claim(lines=(line(modifiers=("H*",)),))), "modifiers"),
    (
        "unknown place of service",
        lambda: claim_file(claim(place_of_service="1A")),
        "place_of_service",
    ),
    (
        "delimiter in a member id",
        lambda: claim_file(claim(subscriber=subscriber("WA*123"))),
        "member_id",
    ),
    ("delimiter in a claim number", lambda: claim_file(claim("CW~1")), "patient_control_number"),
    (
        "same member, different details",
        lambda: claim_file(claim("A1"), claim("A2", subscriber=subscriber(first_name="Anna"))),
        "different subscriber details",
    ),
    ("bad sex", lambda: claim_file(claim(subscriber=subscriber(sex="X"))), "sex"),
]


@pytest.mark.parametrize(
    ("build", "message"), [(b, m) for _, b, m in REFUSED], ids=[i for i, _, _ in REFUSED]
)
def test_impossible_input_is_refused(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        render_837p(build())
    assert isinstance(raised.value, ClaimFileError)


# --- any claim file the writer accepts is a valid 837P ----------------------------------------

NAME_CHARACTERS = st.characters(
    categories=("L", "M", "Zs", "Nd"), include_characters="*~:^'-.,&@#\\/\t"
)
NAMES = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(("Al", "Bo", "Jo", "Li", "Ng", "Zo")),
    st.text(NAME_CHARACTERS, max_size=70),
)
CODES = ("T1016", "H0004", "H0031", "H2015", "H0036", "90837", "90791", "99213")
MODIFIERS = ("HF", "HE", "HQ", "GT", "95", "U1", "UA", "HN", "HO", "TG")
PLACES = ("11", "12", "53", "02", "10", "99")
CHARGES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)


@st.composite
def service_lines(draw: st.DrawFn, diagnosis_count: int) -> ServiceLine:
    return ServiceLine(
        procedure_code=draw(st.sampled_from(CODES)),
        modifiers=tuple(draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True))),
        charge=draw(CHARGES),
        units=draw(st.integers(1, 96)),
        service_date=draw(st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 12, 31))),
        diagnosis_pointers=tuple(
            draw(
                st.lists(
                    st.integers(1, diagnosis_count),
                    min_size=1,
                    max_size=min(4, diagnosis_count),
                    unique=True,
                )
            )
        ),
        line_control_number=draw(st.sampled_from(("", "LN-1", "0001"))),
        place_of_service=draw(st.sampled_from(("", *PLACES))),
    )


@st.composite
def claims_for(draw: st.DrawFn, member: Subscriber, prefix: str) -> list[Claim]:
    claims = []
    for number in range(draw(st.integers(1, 4))):
        diagnoses = tuple(
            draw(st.lists(st.sampled_from(DIAGNOSES[:12]), min_size=1, max_size=12, unique=True))
        )
        frequency = draw(st.sampled_from(("1", "7", "8")))
        clinician = draw(
            st.one_of(st.none(), st.builds(RenderingProvider, NAMES, NAMES, st.just(CLINICIAN_NPI)))
        )
        claims.append(
            Claim(
                patient_control_number=f"{prefix}-{number}",
                place_of_service=draw(st.sampled_from(PLACES)),
                diagnosis_codes=diagnoses,
                subscriber=member,
                lines=tuple(draw(st.lists(service_lines(len(diagnoses)), min_size=1, max_size=6))),
                frequency=frequency,
                original_reference="" if frequency == "1" else f"PAYER{number:06d}",
                rendering_provider=clinician,
                prior_authorization=draw(st.sampled_from(("", "PA-9"))),
            )
        )
    return claims


@st.composite
def claim_files(draw: st.DrawFn) -> ClaimFile:
    claims: list[Claim] = []
    for number in range(draw(st.integers(1, 5))):
        member = Subscriber(
            member_id=f"M{number:08d}",
            last_name=draw(NAMES),
            first_name=draw(NAMES),
            birth_date=draw(st.dates(datetime.date(1920, 1, 1), datetime.date(2024, 12, 31))),
            sex=draw(st.sampled_from(("F", "M", "U"))),
            address=draw(
                st.one_of(
                    st.none(),
                    st.builds(
                        Address,
                        NAMES,
                        NAMES,
                        st.just("WA"),
                        st.sampled_from(("98501", "98501-0001")),
                    ),
                )
            ),
            claim_filing_indicator=draw(st.sampled_from(("MC", "MB", "CI", "11"))),
        )
        claims += draw(claims_for(member, f"C{number}"))
    return claim_file(
        *draw(st.permutations(claims)),
        billing_provider=billing_provider(name=draw(NAMES)),
        transaction_control_number=draw(st.integers(1, 999_999_999)),
        envelope=envelope(
            interchange_control_number=draw(st.integers(1, 999_999_999)),
            group_control_number=draw(st.integers(1, 999_999_999)),
        ),
    )


@settings(
    max_examples=25,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(claim_files())
def test_every_rendered_claim_file_validates(generated: ClaimFile) -> None:
    text = render_837p(generated)
    assert text.isascii()
    assert_valid_837p(text)


def test_a_member_with_more_than_100_claims_gets_another_subscriber_loop() -> None:
    text = render_837p(claim_file(*(claim(f"CW-{n}") for n in range(150))))
    assert x12_errors(text) == []
    assert len(find(text, "SBR")) == 2 and len(find(text, "CLM")) == 150
