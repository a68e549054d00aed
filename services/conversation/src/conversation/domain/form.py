"""The registration form being filled in a conversation: values already validated, in order."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from conversation.domain.understanding import FormField

ORDER: tuple[FormField, ...] = (
    FormField.FULL_NAME,
    FormField.EMAIL,
    FormField.CPF,
    FormField.PHONE,
    FormField.CITY,
    FormField.UF,
    FormField.PROFILE,
)

LABELS: dict[FormField, str] = {
    FormField.FULL_NAME: "nome completo",
    FormField.EMAIL: "e-mail",
    FormField.CPF: "CPF",
    FormField.PHONE: "telefone",
    FormField.CITY: "cidade",
    FormField.UF: "estado (UF)",
    FormField.PROFILE: "perfil",
}


class RegistrationForm(BaseModel):
    model_config = ConfigDict(frozen=True)

    consent_version: str | None = None
    consented_at: datetime | None = None
    full_name: str | None = None
    email: str | None = None
    cpf: str | None = None
    phone: str | None = None
    city: str | None = None
    city_ibge_code: int | None = None
    uf: str | None = None
    profile: str | None = None
    pending_city: str | None = None  # a city name typed before its state was known
    phone_offer_declined: bool = False  # said no to using the number the message came from
    asking: FormField | None = None
    started_at: datetime | None = None

    def value(self, field: FormField) -> str | None:
        value = getattr(self, field.value)
        return None if value is None else str(value)

    def missing(self) -> list[FormField]:
        return [f for f in ORDER if self.value(f) is None]

    def next_field(self) -> FormField | None:
        missing = self.missing()
        return missing[0] if missing else None

    def with_values(self, **values: object) -> RegistrationForm:
        return self.model_copy(update=values)

    def previous(self, field: FormField | None) -> FormField:
        """The step before ``field`` ("voltar"); from the summary, the last field."""
        if field is None:
            return ORDER[-1]
        index = ORDER.index(field)
        return ORDER[max(index - 1, 0)]

    @property
    def complete(self) -> bool:
        return not self.missing() and self.consented_at is not None

    def fingerprint(self) -> str:
        """Identifies the confirmed content (the submit's idempotency key derives from it)."""
        return "|".join(self.value(f) or "" for f in ORDER)
