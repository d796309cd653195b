"""Code lists shared by every party on the wire: Member States, categories, roles."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class MemberState(StrEnum):
    """Member States and associated states that reach the system through an access point."""

    AT = "AT"
    BE = "BE"
    BG = "BG"
    CY = "CY"
    CZ = "CZ"
    DE = "DE"
    DK = "DK"
    EE = "EE"
    ES = "ES"
    FI = "FI"
    FR = "FR"
    GR = "GR"
    HR = "HR"
    HU = "HU"
    IE = "IE"
    IT = "IT"
    LT = "LT"
    LU = "LU"
    LV = "LV"
    MT = "MT"
    NL = "NL"
    PL = "PL"
    PT = "PT"
    RO = "RO"
    SE = "SE"
    SI = "SI"
    SK = "SK"
    IS = "IS"
    LI = "LI"
    NO = "NO"
    CH = "CH"


class Category(IntEnum):
    """The category digit that follows the Member State code in a reference number."""

    TEMPORARY_PROTECTION = 0  # Art 26
    APPLICANT = 1  # Art 15
    IRREGULAR_CROSSING = 2  # Art 22
    ILLEGAL_STAY = 3  # Art 23
    LAW_ENFORCEMENT = 4
    EUROPOL = 5
    DATA_SUBJECT_ACCESS = 6
    ADMISSION = 7  # Art 18
    NATIONAL_RESETTLEMENT = 8  # Art 20
    SEARCH_AND_RESCUE = 9  # Art 24


class Role(StrEnum):
    """What an access point's key may do."""

    OFFICER = "officer"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    LAW_ENFORCEMENT = "law_enforcement"
    ADMIN = "admin"


class AdmissionDecision(StrEnum):
    """Outcome of an admission (resettlement) procedure, Art 18(2)."""

    ADMITTED = "admitted"
    REFUSED = "refused"


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNSPECIFIED = "X"


class HitResult(StrEnum):
    HIT = "hit"
    NO_HIT = "no_hit"


class Modality(StrEnum):
    FINGERPRINT = "fingerprint"
    FACE = "face"


#: The pseudo Member State of EU-level keys (the central supervisor, EU operators).
EU_LEVEL = "EU"
