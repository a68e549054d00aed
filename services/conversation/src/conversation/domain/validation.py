"""The registration form's answers, checked with well-kept libraries; pure (no I/O).

Each validator takes what the person typed and returns ``Valid`` (the normalised value) or
``Invalid`` with a pt-BR reason that says what is wrong — the re-prompt the dialogue sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from validate_docbr import CPF

from conversation.domain.places import City, State, find_city, find_state, similar_cities, states_with_city

T = TypeVar("T")


@dataclass(frozen=True)
class Valid(Generic[T]):
    value: T


@dataclass(frozen=True)
class Invalid:
    reason: str


Result = Valid[T] | Invalid

_CPF = CPF()
_NAME_PART = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*$")  # letters, with O'Neil / Ana-Maria
_PARTICLES = {"da", "de", "do", "das", "dos", "e"}


def full_name(text: str) -> Result[str]:
    parts = text.split()
    if len(parts) < 2:
        return Invalid("Preciso do seu nome completo, com sobrenome (ex.: Maria da Silva).")
    if not all(_NAME_PART.match(p) for p in parts):
        return Invalid("O nome deve ter só letras — sem números ou símbolos. Pode escrever de novo?")
    name = " ".join(p if p.lower() in _PARTICLES else p[:1].upper() + p[1:] for p in parts)
    if len(name) > 120:
        return Invalid("Esse nome ficou longo demais (máximo de 120 caracteres).")
    return Valid(name)


def email(text: str) -> Result[str]:
    try:
        checked = validate_email(text.strip(), check_deliverability=False)  # no DNS lookups
    except EmailNotValidError:
        return Invalid("Esse e-mail não parece válido. Confere e me manda de novo? (ex.: nome@exemplo.com)")
    return Valid(checked.normalized.lower())


def cpf(text: str) -> Result[str]:
    """Normalised to 11 digits. Check digits and the all-same-digit numbers are rejected."""
    digits = re.sub(r"\D", "", text)
    if len(digits) != 11:
        return Invalid("O CPF tem 11 números. Pode mandar de novo, com ou sem pontos e traço?")
    if not _CPF.validate(digits):
        return Invalid("Esse CPF não é válido (os dígitos verificadores não conferem). Confere para mim?")
    return Valid(digits)


def phone(text: str) -> Result[str]:
    """E.164; Brazilian numbers may come without +55."""
    try:
        number = phonenumbers.parse(text, "BR")
    except phonenumbers.NumberParseException:
        return Invalid("Não consegui entender esse telefone. Manda com DDD, por favor (ex.: 64 99999-0000).")
    if not phonenumbers.is_valid_number(number):
        return Invalid("Esse telefone não parece válido. Confere o DDD e o número?")
    return Valid(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def uf(text: str) -> Result[State]:
    state = find_state(text)
    if state is None:
        return Invalid("Não reconheci o estado. Pode mandar a sigla (ex.: GO) ou o nome (ex.: Goiás)?")
    return Valid(state)


def city(text: str, state_uf: str) -> Result[City]:
    found = find_city(text, state_uf)
    if found is not None:
        return Valid(found)
    elsewhere = states_with_city(text)
    if elsewhere:
        where = ", ".join(elsewhere)
        return Invalid(f"Encontrei “{text.strip()}” em {where}, não em {state_uf}. Qual é o seu estado?")
    suggestions = similar_cities(text, state_uf)
    if suggestions:
        options = " ou ".join(c.name for c in suggestions)
        return Invalid(f"Não achei “{text.strip()}” em {state_uf}. Você quis dizer {options}?")
    return Invalid(f"Não encontrei “{text.strip()}” entre as cidades de {state_uf}. Confere o nome?")


def pretty_phone(e164: str) -> str:
    """'+5564999990000' → '+55 64 99999-0000' (as people read it)."""
    try:
        number = phonenumbers.parse(e164, "BR")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
