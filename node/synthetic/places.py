"""London's 33 local authorities as synthetic geography: postcode districts, streets and name mix.

Districts are the postcode districts that mostly serve each authority (approximate: real districts
straddle boundaries). Streets mix a few well-known roads of the borough with generated ones, and
generated postcodes have a real district and a made-up unit, so an address is plausible in shape
but not a real household.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

POSTCODE_PATTERN = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][ABD-HJLNP-UW-Z]{2}$")
"""A full UK postcode in its canonical form: outward code, one space, inward code."""

_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in inward codes (no C, I, K, M, O, V)


class UnknownBoroughError(KeyError):
    """Raised when a borough code is not one of London's 33 local authorities."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return (
            f"unknown borough code {self.code!r}: expected one of London's 33 local authorities "
            f"as a slug, e.g. 'hackney', 'tower-hamlets', 'city-of-london'"
        )


@dataclass(frozen=True)
class Borough:
    """One London local authority with the geography the generator needs."""

    code: str
    name: str
    la_code: int
    """The Department for Education local authority number (used in pupil numbers)."""
    districts: tuple[str, ...]
    streets: tuple[str, ...]
    heritage: tuple[tuple[str, float], ...] = ()
    """Multipliers on the London-wide share of name groups, where the borough differs a lot."""


_STREET_WORDS = (
    "Albion Alexandra Victoria Clarence Elm Beech Chestnut Cedar Rosebery Milton Shakespeare "
    "Wordsworth Gladstone Nelson Wellington Cromwell Salisbury Denmark Sandringham Balmoral "
    "Windsor Stanley Grosvenor Lansdowne Malvern Pembroke Richmond Devonshire Hamilton "
    "Marlborough Osborne Ashfield Fairfield Highfield Meadow Orchard Mill Church Park Manor "
    "Grange Hazel Holly Laurel Maple Willow Lime Oak Sycamore Rowan Hawthorn Lorne Cavendish "
    "Stratford Warwick Belgrave Kingsley Tennyson Byron Chaucer Dickens Ruskin Hogarth Kelvin "
    "Falcon Lark Kestrel Heron Thornhill Brookfield Westbourne Eastfield Northcote Southey"
).split()

_STREET_SUFFIXES = (
    "Road Road Road Street Street Avenue Close Gardens Grove Way Lane Crescent Place Terrace "
    "Walk Drive Mews Square Rise Court"
).split()

BLOCK_SUFFIXES = ("House", "Court", "Point", "Tower", "Lodge")
"""Endings of the names of blocks of flats ("Rosebery House")."""


def _generated_streets(code: str, count: int) -> list[str]:
    rng = random.Random(f"streets:{code}")
    streets: list[str] = []
    while len(streets) < count:
        street = f"{rng.choice(_STREET_WORDS)} {rng.choice(_STREET_SUFFIXES)}"
        if street not in streets:
            streets.append(street)
    return streets


def _borough(
    code: str,
    name: str,
    la_code: int,
    districts: str,
    real_streets: str,
    heritage: tuple[tuple[str, float], ...] = (),
) -> Borough:
    known = [street.strip() for street in real_streets.split(",")]
    generated = [street for street in _generated_streets(code, 32) if street not in known]
    return Borough(
        code=code,
        name=name,
        la_code=la_code,
        districts=tuple(districts.split()),
        streets=tuple(known + generated),
        heritage=heritage,
    )


_OUTER_ENGLISH = (("english", 1.6),)

BOROUGHS: dict[str, Borough] = {
    borough.code: borough
    for borough in (
        _borough(
            "barking-and-dagenham",
            "Barking and Dagenham",
            301,
            "IG11 RM6 RM8 RM9 RM10",
            "Ripple Road, Longbridge Road, Heathway, Becontree Avenue, Green Lane, Valence Avenue, "
            "Porters Avenue, Rainham Road South, East Street",
            (("west-african", 2.0), ("eastern-european", 1.5)),
        ),
        _borough(
            "barnet",
            "Barnet",
            302,
            "N2 N3 N11 N12 N14 N20 NW4 NW7 NW9 NW11 EN4 EN5 HA8",
            "Ballards Lane, Regents Park Road, Watling Avenue, Brent Street, Station Road, "
            "Friern Barnet Road, Colney Hatch Lane, Hendon Way, High Road",
            (("eastern-european", 1.5), ("middle-eastern", 1.5)),
        ),
        _borough(
            "bexley",
            "Bexley",
            303,
            "DA1 DA5 DA6 DA7 DA8 DA14 DA15 DA16 DA17 DA18",
            "Broadway, Erith Road, Bexley Road, Pickford Lane, Blackfen Road, Halfway Street, "
            "Bellegrove Road, Mayplace Road East, Crayford Road",
            _OUTER_ENGLISH,
        ),
        _borough(
            "brent",
            "Brent",
            304,
            "NW2 NW6 NW9 NW10 HA0 HA3 HA9",
            "Harlesden Road, Church Road, Ealing Road, High Road Willesden, Chamberlayne Road, "
            "Dudden Hill Lane, Forty Lane, Neasden Lane, Wembley Hill Road",
            (("indian", 3.0), ("pakistani", 1.5), ("caribbean", 1.5), ("somali", 2.0)),
        ),
        _borough(
            "bromley",
            "Bromley",
            305,
            "BR1 BR2 BR3 BR4 BR5 BR6 BR7 SE20",
            "Masons Hill, Widmore Road, Beckenham Road, Croydon Road, Crofton Road, Hayes Lane, "
            "Southborough Lane, Anerley Road, Burnt Ash Lane",
            _OUTER_ENGLISH,
        ),
        _borough(
            "camden",
            "Camden",
            202,
            "NW1 NW3 NW5 NW6 WC1H WC1N WC1X N6",
            "Kentish Town Road, Prince of Wales Road, Malden Road, Agar Grove, Camden Road, "
            "Fortune Green Road, Queens Crescent, Highgate Road, Grafton Road",
            (("bengali", 2.0), ("somali", 2.0)),
        ),
        _borough(
            "city-of-london",
            "City of London",
            201,
            "EC1A EC1M EC2M EC2V EC2Y EC3A EC3M EC3V EC4M EC4N EC4V EC4Y",
            "Golden Lane, Middlesex Street, Fann Street, Aldersgate Street, Petticoat Square, "
            "Bartholomew Close, Beech Street, Moor Lane",
            (("english", 1.3),),
        ),
        _borough(
            "croydon",
            "Croydon",
            306,
            "CR0 CR2 CR5 CR7 CR8 SE25 SE19 SW16",
            "London Road, Thornton Road, Brigstock Road, Whitehorse Road, Selhurst Road, "
            "Lower Addiscombe Road, Shirley Road, Brighton Road, Norbury Avenue",
            (("caribbean", 2.5), ("west-african", 1.5), ("indian", 1.3), ("pakistani", 1.3)),
        ),
        _borough(
            "ealing",
            "Ealing",
            307,
            "W3 W5 W7 W13 UB1 UB2 UB5 UB6",
            "Uxbridge Road, The Broadway, South Road, Northfield Avenue, Greenford Road, "
            "Ruislip Road, Churchfield Road, Gunnersbury Lane, Hanger Lane",
            (("indian", 2.5), ("pakistani", 1.5), ("eastern-european", 2.0), ("somali", 1.5)),
        ),
        _borough(
            "enfield",
            "Enfield",
            308,
            "EN1 EN2 EN3 N9 N13 N14 N18 N21",
            "Hertford Road, Fore Street, Green Lanes, Southbury Road, Bowes Road, Silver Street, "
            "Church Street, Lancaster Road, Bullsmoor Lane",
            (("turkish", 3.0), ("caribbean", 1.5), ("southern-european", 1.5)),
        ),
        _borough(
            "greenwich",
            "Greenwich",
            203,
            "SE2 SE3 SE7 SE9 SE10 SE18 SE28",
            "Woolwich Road, Trafalgar Road, Plumstead High Street, Eltham High Street, "
            "Westcombe Hill, Shooters Hill Road, Powis Street, Abbey Wood Road, Well Hall Road",
            (("west-african", 2.0), ("east-asian", 1.5)),
        ),
        _borough(
            "hackney",
            "Hackney",
            204,
            "E2 E5 E8 E9 N1 N16",
            "Mare Street, Kingsland Road, Dalston Lane, Stoke Newington High Street, "
            "Lower Clapton Road, Amhurst Road, Chatsworth Road, Homerton High Street, "
            "Well Street, Queensbridge Road, Brooke Road, Morning Lane",
            (("turkish", 3.0), ("caribbean", 2.0), ("west-african", 1.5)),
        ),
        _borough(
            "hammersmith-and-fulham",
            "Hammersmith and Fulham",
            205,
            "W6 W12 W14 SW6",
            "Fulham Palace Road, Uxbridge Road, Goldhawk Road, Lillie Road, North End Road, "
            "Askew Road, Munster Road, Wandsworth Bridge Road, Dawes Road",
            (("irish", 1.5), ("eastern-european", 1.5), ("middle-eastern", 1.5)),
        ),
        _borough(
            "haringey",
            "Haringey",
            309,
            "N4 N6 N8 N10 N15 N17 N22",
            "Tottenham High Road, West Green Road, Philip Lane, Lordship Lane, Turnpike Lane, "
            "Green Lanes, Seven Sisters Road, Park Lane, Wightman Road",
            (("turkish", 3.0), ("caribbean", 1.8), ("west-african", 1.8), ("somali", 1.5)),
        ),
        _borough(
            "harrow",
            "Harrow",
            310,
            "HA1 HA2 HA3 HA5 HA7",
            "Station Road, Kenton Road, Headstone Drive, Pinner Road, Alexandra Avenue, "
            "Honeypot Lane, Whitchurch Lane, Northolt Road, Marsh Road",
            (("indian", 3.5), ("pakistani", 1.5), ("eastern-european", 1.5)),
        ),
        _borough(
            "havering",
            "Havering",
            311,
            "RM1 RM2 RM3 RM5 RM7 RM11 RM12 RM13 RM14",
            "South Street, Collier Row Lane, Gubbins Lane, Hornchurch Road, Upminster Road, "
            "Rush Green Road, Gooshays Drive, Straight Road, Mawney Road",
            _OUTER_ENGLISH,
        ),
        _borough(
            "hillingdon",
            "Hillingdon",
            312,
            "UB3 UB4 UB7 UB8 UB9 UB10 HA4 HA6",
            "Long Lane, Field End Road, Coldharbour Lane, Botwell Lane, Kingshill Avenue, "
            "Station Road, Park Road, Swakeleys Road, High Street",
            (("indian", 2.0), ("pakistani", 1.5)),
        ),
        _borough(
            "hounslow",
            "Hounslow",
            313,
            "TW3 TW4 TW5 TW7 TW8 TW13 TW14 W4",
            "Bath Road, Staines Road, Chiswick High Road, Brentford High Street, Lampton Road, "
            "Wellington Road South, Great West Road, Hanworth Road, Beavers Lane",
            (("indian", 2.5), ("pakistani", 1.5), ("eastern-european", 1.8), ("somali", 1.5)),
        ),
        _borough(
            "islington",
            "Islington",
            206,
            "N1 N4 N5 N7 N19 EC1V",
            "Holloway Road, Caledonian Road, Essex Road, Upper Street, Blackstock Road, "
            "Hornsey Road, Seven Sisters Road, Junction Road, St Paul's Road, Packington Street",
            (("irish", 1.8), ("turkish", 1.5), ("somali", 1.5)),
        ),
        _borough(
            "kensington-and-chelsea",
            "Kensington and Chelsea",
            207,
            "SW3 SW5 SW7 SW10 W8 W10 W11",
            "Ladbroke Grove, Golborne Road, Portobello Road, Lancaster Road, King's Road, "
            "Earls Court Road, Cromwell Road, Elgin Crescent, Walmer Road",
            (("middle-eastern", 2.5), ("southern-european", 2.0), ("portuguese", 1.5)),
        ),
        _borough(
            "kingston-upon-thames",
            "Kingston upon Thames",
            314,
            "KT1 KT2 KT3 KT5 KT6 KT9",
            "Cambridge Road, Kingston Road, Ewell Road, Richmond Road, London Road, "
            "Tolworth Broadway, Hook Road, Burlington Road, Malden Road",
            (("english", 1.4), ("east-asian", 2.5)),
        ),
        _borough(
            "lambeth",
            "Lambeth",
            208,
            "SE1 SE11 SE24 SE27 SW2 SW4 SW8 SW9 SW16",
            "Brixton Road, Coldharbour Lane, Acre Lane, Clapham Road, Kennington Lane, "
            "Railton Road, Stockwell Road, Tulse Hill, Norwood Road, Streatham High Road",
            (("caribbean", 2.5), ("west-african", 2.0), ("portuguese", 3.0)),
        ),
        _borough(
            "lewisham",
            "Lewisham",
            209,
            "SE4 SE6 SE8 SE12 SE13 SE14 SE23 SE26",
            "Lewisham Way, Rushey Green, Brockley Road, Evelyn Street, New Cross Road, "
            "Bromley Road, Stanstead Road, Sydenham Road, Lee High Road",
            (("caribbean", 2.5), ("west-african", 2.0)),
        ),
        _borough(
            "merton",
            "Merton",
            315,
            "SW17 SW19 SW20 CR4 SM4",
            "Haydons Road, London Road, Merton High Street, Morden Road, Western Road, "
            "Kingston Road, Streatham Road, Church Road, Grand Drive",
            (("eastern-european", 1.5), ("pakistani", 1.5)),
        ),
        _borough(
            "newham",
            "Newham",
            316,
            "E6 E7 E12 E13 E15 E16 E20",
            "Barking Road, Romford Road, Green Street, High Street North, Plaistow Road, "
            "Katherine Road, Prince Regent Lane, Woodgrange Road, Manor Road",
            (
                ("bengali", 3.0),
                ("pakistani", 2.5),
                ("indian", 2.0),
                ("eastern-european", 1.5),
                ("west-african", 1.5),
            ),
        ),
        _borough(
            "redbridge",
            "Redbridge",
            317,
            "IG1 IG2 IG3 IG4 IG5 IG6 IG8 E11 E18",
            "Ilford Lane, Cranbrook Road, High Road Seven Kings, Eastern Avenue, Green Lane, "
            "Woodford Avenue, Chigwell Road, George Lane, Hainault Street",
            (("pakistani", 3.0), ("indian", 2.0), ("bengali", 1.5)),
        ),
        _borough(
            "richmond-upon-thames",
            "Richmond upon Thames",
            318,
            "TW1 TW2 TW9 TW10 TW11 TW12 SW13 SW14",
            "Sheen Road, Hampton Road, Heath Road, Staines Road, Castelnau, Whitton Road, "
            "Upper Richmond Road West, Stanley Road, Waldegrave Road",
            _OUTER_ENGLISH,
        ),
        _borough(
            "southwark",
            "Southwark",
            210,
            "SE1 SE5 SE15 SE16 SE17 SE21 SE22",
            "Old Kent Road, Walworth Road, Rye Lane, Camberwell Road, Peckham High Street, "
            "Southwark Park Road, Lordship Lane, East Street, Albany Road, Jamaica Road",
            (("west-african", 3.0), ("caribbean", 2.0), ("portuguese", 1.5)),
        ),
        _borough(
            "sutton",
            "Sutton",
            319,
            "SM1 SM2 SM3 SM5 SM6 SM7",
            "Carshalton Road, High Street, Stafford Road, Rose Hill, Green Wrythe Lane, "
            "Stonecot Hill, Cheam Road, Westmead Road, Beddington Lane",
            _OUTER_ENGLISH,
        ),
        _borough(
            "tower-hamlets",
            "Tower Hamlets",
            211,
            "E1 E1W E2 E3 E14",
            "Commercial Road, Whitechapel Road, Mile End Road, Roman Road, Burdett Road, "
            "Cable Street, Brick Lane, East India Dock Road, Bow Road, Manchester Road, "
            "Jubilee Street, Vallance Road",
            (("bengali", 8.0), ("somali", 1.5)),
        ),
        _borough(
            "waltham-forest",
            "Waltham Forest",
            320,
            "E4 E10 E11 E17",
            "Hoe Street, Lea Bridge Road, High Road Leyton, Forest Road, Chingford Mount Road, "
            "Wood Street, Markhouse Road, Church Road, Blackhorse Lane",
            (("pakistani", 3.0), ("eastern-european", 1.8), ("caribbean", 1.3)),
        ),
        _borough(
            "wandsworth",
            "Wandsworth",
            212,
            "SW8 SW11 SW12 SW15 SW17 SW18",
            "Garratt Lane, York Road, Battersea Park Road, Balham High Road, Tooting High Street, "
            "Upper Tooting Road, Putney High Street, Roehampton Lane, St John's Hill",
            (("english", 1.2), ("pakistani", 1.5)),
        ),
        _borough(
            "westminster",
            "Westminster",
            213,
            "W1D W1F W1G W1H W1K W1U W2 W9 NW8 SW1E SW1P SW1V SW1W WC2N",
            "Harrow Road, Edgware Road, Lisson Grove, Church Street, Marylebone Road, "
            "Warwick Avenue, Vauxhall Bridge Road, Lupus Street, Elgin Avenue, Chippenham Road",
            (("middle-eastern", 3.0), ("bengali", 1.5), ("southern-european", 1.5)),
        ),
    )
}

LONDON_DISTRICTS: frozenset[str] = frozenset(
    district for borough in BOROUGHS.values() for district in borough.districts
)
"""Every postcode district of every borough."""


def get_borough(code: str) -> Borough:
    """Return the borough with this slug code, or raise UnknownBoroughError."""
    try:
        return BOROUGHS[code]
    except KeyError:
        raise UnknownBoroughError(code) from None


def postcode_in(borough: str, rng: random.Random) -> str:
    """Return a well-formed postcode in one of the borough's districts, such as "E8 3QW"."""
    district = rng.choice(get_borough(borough).districts)
    return (
        f"{district} {rng.randrange(1, 10)}{rng.choice(_UNIT_LETTERS)}{rng.choice(_UNIT_LETTERS)}"
    )


def postcode_district(postcode: str) -> str:
    """Return the outward code (district) of a postcode written with its space ("E8 3QW" → "E8")."""
    return postcode.split(" ", 1)[0]
