"""What one simulated person says: a pt-BR conversation as signed Meta webhooks.

Greeting, two questions, the whole registration with one correction (the e-mail, after the CPF),
then "minha inscrição". The lines follow ``tests/e2e/test_conversation_scripts.py``; each step
names a fragment its answer must contain, checked once per run by the calibration user.
"""

from __future__ import annotations

from dataclasses import dataclass

from validate_docbr import CPF

from devkit import samples


@dataclass(frozen=True)
class Step:
    text: str  # a template over Persona's fields; for a tap, the button's title
    expect: str  # a fragment of the bot's answer
    option_id: str | None = None  # set: the user taps this reply button


SCRIPT: tuple[Step, ...] = (
    Step("oi", "Olá"),
    Step("onde vai ser o evento?", ""),
    Step("quanto custa?", ""),
    Step("quero me inscrever", "LGPD"),
    Step("Sim", "nome completo", option_id="yes"),
    Step("{name}", "e-mail"),
    Step("{email}", "CPF"),
    Step("{cpf}", "Posso usar este número"),
    Step("na verdade meu e-mail é {corrected_email}", "Atualizei: e-mail"),
    Step("Sim", "cidade", option_id="yes"),
    Step("rio verde", "perfil"),
    Step("produtor rural", "Rio Verde/GO"),
    Step("Confirmar", "Inscrição confirmada", option_id="confirm:yes"),
    Step("minha inscrição", "confirmada"),
)
CONFIRM_STEP = next(i for i, s in enumerate(SCRIPT) if s.option_id == "confirm:yes")


@dataclass(frozen=True)
class Persona:
    number: int
    wa_id: str
    name: str
    email: str
    corrected_email: str
    cpf: str

    def body(self, step: int, wamid: str) -> bytes:
        """The webhook for ``step`` of the script, as Meta would post it."""
        line = SCRIPT[step]
        if line.option_id is not None:
            return samples.meta_button_reply(line.option_id, line.text, wamid=wamid, wa_id=self.wa_id)
        text = line.text.format(
            name=self.name, email=self.email, corrected_email=self.corrected_email, cpf=self.cpf
        )
        return samples.meta_text(text, wamid=wamid, wa_id=self.wa_id, name=self.name.split()[0])


def personas(count: int, run: str) -> list[Persona]:
    """``count`` people with distinct numbers, e-mails and valid CPFs (``run`` keeps runs apart)."""
    cpfs = CPF().generate_list(count, mask=True)
    return [
        Persona(
            number=n,
            wa_id=f"556491{n:07d}",
            name="Maria da Silva",
            email=f"p{n}.{run}@example.com",
            corrected_email=f"maria{n}.{run}@example.com",
            cpf=cpfs[n],
        )
        for n in range(count)
    ]
