"""One raw value for one form field, checked and kept (or refused with the pt-BR reason).

City and UF are read together: a city typed with its state ("Rio Verde/GO"), a city that exists in a
single state (its UF follows), a city in several states (kept until the state is known), a state that
does not have the city typed before (asked again, the city kept).
"""

from __future__ import annotations

from conversation.domain import validation
from conversation.domain.form import RegistrationForm
from conversation.domain.places import fold, split_city_and_state, states_with_city
from conversation.domain.understanding import FormField
from conversation.knowledge import EventKnowledge


def apply_value(
    form: RegistrationForm, field_: FormField, raw: str, k: EventKnowledge
) -> tuple[RegistrationForm, str | None]:
    match field_:
        case FormField.FULL_NAME:
            return _keep(form, validation.full_name(raw), "full_name")
        case FormField.EMAIL:
            return _keep(form, validation.email(raw), "email")
        case FormField.CPF:
            return _keep(form, validation.cpf(raw), "cpf")
        case FormField.PHONE:
            return _keep(form, validation.phone(raw), "phone")
        case FormField.CITY:
            return _city(form, raw)
        case FormField.UF:
            return _uf(form, raw)
        case FormField.PROFILE:
            profile = _profile(raw, k)
            if profile is None:
                return form, "Não reconheci esse perfil. Escolha uma das opções da lista, por favor."
            return form.with_values(profile=profile), None


def _keep(
    form: RegistrationForm, result: validation.Result[str], name: str
) -> tuple[RegistrationForm, str | None]:
    if isinstance(result, validation.Invalid):
        return form, result.reason
    return form.with_values(**{name: result.value}), None


def _city(form: RegistrationForm, raw: str) -> tuple[RegistrationForm, str | None]:
    name, state = split_city_and_state(raw)
    uf = state.uf if state else form.uf
    if uf is None:
        ufs = states_with_city(name)
        if len(ufs) == 1:
            uf = ufs[0]
        elif len(ufs) > 1:
            return form.with_values(pending_city=name, city=None, city_ibge_code=None), None
        else:
            return (
                form,
                f"Não encontrei a cidade “{name}”. Confere o nome? "
                "Se quiser, mande junto a UF (ex.: Rio Verde/GO).",
            )
    result = validation.city(name, uf)
    if isinstance(result, validation.Invalid):
        return form, result.reason
    city = result.value
    return form.with_values(
        city=city.name, city_ibge_code=city.ibge_code, uf=city.uf, pending_city=None
    ), None


def _uf(form: RegistrationForm, raw: str) -> tuple[RegistrationForm, str | None]:
    result = validation.uf(raw)
    if isinstance(result, validation.Invalid):
        return form, result.reason
    state = result.value
    typed_city = form.pending_city or form.city
    if typed_city is None:
        return form.with_values(uf=state.uf), None
    city = validation.city(typed_city, state.uf)
    if isinstance(city, validation.Invalid):
        # Not in that state: ask for the state again, keeping the city typed.
        return form.with_values(uf=None, city=None, city_ibge_code=None, pending_city=typed_city), city.reason
    found = city.value
    return form.with_values(
        uf=state.uf, city=found.name, city_ibge_code=found.ibge_code, pending_city=None
    ), None


def _profile(raw: str, k: EventKnowledge) -> str | None:
    key = fold(raw)
    for p in k.profiles:
        if key in {fold(p.id), fold(p.label)}:
            return p.id
    matches = [p.id for p in k.profiles if key and (key in fold(p.label) or fold(p.id) in key)]
    return matches[0] if len(matches) == 1 else None
