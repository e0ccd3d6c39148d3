"""Build payments/domain/us_zones.json: NANP area code → time zones, US ZIP3 prefix → time zones.

Run once by hand when the sources change; the payments service only reads the JSON.

- Area codes come from libphonenumber's time zone map (Apache 2.0, the `phonenumbers` package,
  https://github.com/google/libphonenumber/tree/master/resources/timezones), which maps NANP
  prefixes down to the exchange: an area code gets every zone any of its exchanges is in (850 is
  Tallahassee, New York time, and Pensacola, Chicago time). `phonenumbers` is not a dependency
  of the service; install it in a throwaway environment to run this:
  `python -m venv /tmp/z && /tmp/z/bin/pip install phonenumbers && /tmp/z/bin/python scripts/build_us_zones.py`
- ZIP3 prefixes: USPS's ZIP3 → state assignment (the sectional center facilities, USPS
  Publication 65 / the L002 list) with each state's zone, and the prefixes that straddle a zone
  boundary (western Kentucky and Tennessee, the Florida panhandle, north Idaho, the Dakotas,
  Nebraska, Kansas, Oregon's Malheur county, the Navajo Nation in Arizona, Michigan's Upper
  Peninsula, the Aleutians, American Samoa mail in 967) listed with every zone they touch. A
  prefix listed with two zones only narrows the hours: contact must be convenient in all of them.
  Military prefixes (AA/AE/AP) are left out: they say nothing about where the person is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "payments" / "domain" / "us_zones.json"

ET, CT, MT, AZ, PT = "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles"
AK, ADAK, HI, SAMOA = "America/Anchorage", "America/Adak", "Pacific/Honolulu", "Pacific/Pago_Pago"
PR, VI, GUAM = "America/Puerto_Rico", "America/St_Thomas", "Pacific/Guam"

# (first ZIP3, last ZIP3, zones) by USPS state assignment; later entries override earlier ones.
ZIP3_RANGES: list[tuple[int, int, tuple[str, ...]]] = [
    (5, 5, (ET,)),  # Holtsville NY
    (6, 7, (PR,)),
    (9, 9, (PR,)),
    (8, 8, (VI,)),
    (10, 89, (ET,)),  # New England, New York (100-149 below), New Jersey
    (100, 149, (ET,)),
    (150, 196, (ET,)),
    (197, 199, (ET,)),  # NY, PA, DE
    (200, 219, (ET,)),
    (220, 246, (ET,)),
    (247, 268, (ET,)),  # DC, MD, VA, WV
    (270, 289, (ET,)),
    (290, 299, (ET,)),
    (300, 319, (ET,)),
    (398, 399, (ET,)),  # NC, SC, GA
    (320, 339, (ET,)),
    (341, 349, (ET,)),  # FL (340 is military)
    (324, 325, (CT,)),  # FL panhandle west of the Apalachicola: Panama City, Pensacola
    (350, 369, (CT,)),  # AL
    (370, 372, (CT,)),
    (373, 373, (ET, CT)),
    (374, 374, (ET,)),
    (375, 375, (CT,)),
    (376, 379, (ET,)),
    (380, 385, (CT,)),  # TN: east Eastern, middle and west Central
    (386, 397, (CT,)),  # MS
    (400, 419, (ET,)),
    (420, 424, (CT,)),
    (425, 427, (ET, CT)),  # KY
    (430, 459, (ET,)),  # OH
    (460, 479, (ET,)),
    (463, 464, (CT,)),
    (475, 475, (ET, CT)),
    (476, 477, (CT,)),  # IN
    (480, 497, (ET,)),
    (498, 499, (ET, CT)),  # MI: the Upper Peninsula's west is Central
    (500, 528, (CT,)),
    (530, 549, (CT,)),
    (550, 567, (CT,)),  # IA, WI, MN
    (569, 569, (ET,)),  # DC parcel return
    (570, 574, (CT,)),
    (575, 576, (CT, MT)),
    (577, 577, (MT,)),  # SD
    (580, 585, (CT,)),
    (586, 586, (CT, MT)),
    (587, 587, (CT,)),
    (588, 588, (CT, MT)),  # ND
    (590, 599, (MT,)),  # MT
    (600, 629, (CT,)),
    (630, 658, (CT,)),  # IL, MO
    (660, 679, (CT,)),
    (677, 678, (CT, MT)),  # KS: Sherman, Wallace, Greeley, Hamilton are Mountain
    (680, 690, (CT,)),
    (691, 692, (CT, MT)),
    (693, 693, (MT,)),  # NE
    (700, 714, (CT,)),
    (716, 729, (CT,)),
    (730, 749, (CT,)),  # LA, AR, OK
    (750, 799, (CT,)),
    (798, 799, (MT,)),
    (885, 885, (MT,)),  # TX: El Paso is Mountain
    (800, 816, (MT,)),
    (820, 831, (MT,)),  # CO, WY
    (832, 834, (MT,)),
    (835, 835, (MT, PT)),
    (836, 837, (MT,)),
    (838, 838, (PT,)),  # ID
    (840, 847, (MT,)),  # UT
    (850, 865, (AZ,)),
    (860, 860, (AZ, MT)),
    (865, 865, (AZ, MT)),  # AZ: the Navajo Nation keeps DST
    (870, 884, (MT,)),  # NM
    (889, 898, (PT,)),  # NV
    (900, 961, (PT,)),  # CA
    (967, 967, (HI, SAMOA)),
    (968, 968, (HI,)),
    (969, 969, (GUAM,)),  # HI (96799 is American Samoa), Guam/MP
    (970, 978, (PT,)),
    (979, 979, (PT, MT)),  # OR: Malheur county is Mountain
    (980, 994, (PT,)),  # WA
    (995, 995, (AK, ADAK)),
    (996, 999, (AK,)),  # AK: the Aleutians west of 169°30′ keep Hawaii-Aleutian time
]


def zip3_table() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for first, last, zones in ZIP3_RANGES:
        for prefix in range(first, last + 1):
            table[f"{prefix:03d}"] = list(zones)
    return dict(sorted(table.items()))


def area_code_table() -> dict[str, list[str]]:
    from phonenumbers import tzdata  # type: ignore[import-not-found]  # a build-time tool, in neither environment

    # The map lists only prefixes in service, from the area code ("1850") down to exchanges.
    table: dict[str, set[str]] = {}
    for prefix, zones in tzdata.TIMEZONE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4:
            table.setdefault(prefix[1:4], set()).update(z for z in zones if z != "Etc/Unknown")
    return {area: sorted(zones) for area, zones in sorted(table.items()) if zones}


def main() -> None:
    import phonenumbers  # a build-time tool, not in either environment: pip install phonenumbers

    data: dict[str, Any] = {
        "source": {
            "area_codes": f"libphonenumber time zone map (phonenumbers {phonenumbers.__version__}), NANP prefixes "
            "merged per area code",
            "zip3": "USPS ZIP3 state assignment with each state's zone; prefixes that straddle a zone boundary list "
            "every zone (scripts/build_us_zones.py)",
        },
        "area_codes": area_code_table(),
        "zip3": zip3_table(),
    }
    OUT.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"{OUT}: {len(data['area_codes'])} area codes, {len(data['zip3'])} ZIP3 prefixes")


if __name__ == "__main__":
    main()
