"""The registration form's validators: the values they keep and the pt-BR reasons they give."""

import pytest

from conversation.domain import validation as v
from conversation.domain.places import cities_by_uf, fold, states


def value(result):
    assert isinstance(result, v.Valid), result
    return result.value


def reason(result) -> str:
    assert isinstance(result, v.Invalid), result
    return result.reason


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("maria da silva", "Maria da Silva"),
        ("  JOSÉ   dos Santos ", "JOSÉ dos Santos"),
        ("ana-maria d’ávila", "Ana-maria D’ávila"),
        ("Zé Buriti", "Zé Buriti"),
    ],
)
def test_full_name_is_kept_tidy(typed, kept):
    assert value(v.full_name(typed)) == kept


@pytest.mark.parametrize(
    ("typed", "why"), [("Maria", "sobrenome"), ("Maria 123", "só letras"), ("R2 D2", "só letras")]
)
def test_full_name_problems_are_explained(typed, why):
    assert why in reason(v.full_name(typed))


def test_email_is_normalised_and_never_looked_up():
    assert value(v.email(" Maria.Silva@Exemplo.COM.br ")) == "maria.silva@exemplo.com.br"
    # A domain nobody registered passes: syntax only, no DNS lookup.
    assert (
        value(v.email("ana@dominio-que-nao-existe-xyz123.com.br"))
        == "ana@dominio-que-nao-existe-xyz123.com.br"
    )


@pytest.mark.parametrize(
    "typed", ["maria@", "maria.exemplo.com", "maria@@exemplo.com", "ma ria@exemplo.com", ""]
)
def test_bad_emails_get_a_reason(typed):
    assert "e-mail" in reason(v.email(typed))


@pytest.mark.parametrize("typed", ["529.982.247-25", "52998224725", "529 982 247 25"])
def test_cpf_in_any_punctuation(typed):
    assert value(v.cpf(typed)) == "52998224725"


@pytest.mark.parametrize("same", [str(d) * 11 for d in range(10)])
def test_all_same_digit_cpfs_are_rejected_though_their_check_digits_pass(same):
    assert "não é válido" in reason(v.cpf(same))


def test_cpf_with_wrong_check_digits_or_length():
    assert "dígitos verificadores" in reason(v.cpf("529.982.247-26"))
    assert "11 números" in reason(v.cpf("1234"))


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(64) 99999-0000", "+5564999990000"),
        ("64999990000", "+5564999990000"),
        ("+55 11 98888-7777", "+5511988887777"),
        ("11 3333-4444", "+551133334444"),
    ],
)
def test_phones_become_e164_with_brazil_as_default(typed, e164):
    assert value(v.phone(typed)) == e164


@pytest.mark.parametrize("typed", ["12345", "abc", "(00) 99999-0000"])
def test_bad_phones_get_a_reason(typed):
    assert "telefone" in reason(v.phone(typed))


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("GO", "GO"),
        ("go", "GO"),
        ("Goiás", "GO"),
        ("goias", "GO"),
        ("sao paulo", "SP"),
        ("Distrito Federal", "DF"),
    ],
)
def test_uf_by_code_or_name(typed, code):
    assert value(v.uf(typed)).uf == code


def test_unknown_uf():
    assert "sigla" in reason(v.uf("XX"))


def test_ibge_list_is_complete():
    assert len(states()) == 27
    assert sum(len(c) for c in cities_by_uf().values()) == 5570


@pytest.mark.parametrize(
    ("typed", "uf", "name", "code"),
    [
        ("sao paulo", "SP", "São Paulo", 3550308),
        ("RIO VERDE", "GO", "Rio Verde", 5218805),
        ("goiania", "GO", "Goiânia", 5208707),
        ("Santa Bárbara d'Oeste", "SP", "Santa Bárbara d'Oeste", 3545803),
    ],
)
def test_city_is_matched_within_its_state(typed, uf, name, code):
    found = value(v.city(typed, uf))
    assert (found.name, found.ibge_code) == (name, code)


def test_city_in_the_wrong_state_or_misspelt_gets_suggestions():
    assert "em GO, não em SP" in reason(v.city("Rio Verde", "SP"))
    assert "Goiânia" in reason(v.city("goianai", "GO"))
    assert "Não encontrei" in reason(v.city("Xyzzyville", "GO"))


def test_fold():
    assert fold("  São-Paulo ") == "sao paulo"
