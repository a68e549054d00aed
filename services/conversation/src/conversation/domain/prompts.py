"""The bot's pt-BR lines for each step (copy lives here; decisions live in ``machine``)."""

from __future__ import annotations

from conversation.domain.answers import contact
from conversation.domain.form import LABELS, RegistrationForm
from conversation.domain.greeting import first_name, format_period
from conversation.domain.places import states_with_city
from conversation.domain.replies import NO, YES, YES_NO, Reply
from conversation.domain.understanding import FormField, Option
from conversation.domain.validation import pretty_phone
from conversation.knowledge import EventKnowledge

MENU = (
    Option("menu:programme", "Programação"),
    Option("menu:venue", "Local e datas"),
    Option("menu:prices", "Valores e lotes"),
    Option("menu:register", "Fazer inscrição"),
    Option("menu:faq", "Dúvidas frequentes"),
    Option("menu:my_registration", "Minha inscrição"),
    Option("menu:human", "Falar com a equipe"),
)
CONFIRM = (
    Option("confirm:yes", "Confirmar"),
    Option("confirm:edit", "Corrigir"),
    Option("cancel", "Cancelar"),
)
RESUME = (Option("resume:continue", "Continuar"), Option("resume:restart", "Recomeçar"))
EDIT = tuple(Option(f"edit:{f.value}", LABELS[f].capitalize()) for f in FormField)


def greeting(knowledge: EventKnowledge, display_name: str | None, *, returning: bool) -> str:
    event, venue = knowledge.event, knowledge.venue
    name = first_name(display_name)
    if returning:
        hello = (
            f"Que bom falar com você de novo, {name}! 😊" if name else "Que bom falar com você de novo! 😊"
        )
    else:
        hello = f"Olá, {name}! 👋" if name else "Olá! 👋"
    period = format_period(event.starts_on, event.ends_on)
    return (
        f"{hello} Sou o assistente virtual do *{event.name}*, "
        f"de {period}, em {venue.name} ({venue.city}/{venue.uf})."
    )


def menu(text: str = "Como posso te ajudar? Escolha uma opção ou escreva sua dúvida.") -> Reply:
    return Reply(text, MENU)


def consent(knowledge: EventKnowledge) -> Reply:
    event = knowledge.event
    return Reply(
        "Ótimo! Para a inscrição vou pedir: nome completo, e-mail, CPF, telefone, cidade/UF e perfil. "
        f"Usamos esses dados só para a sua inscrição e credenciamento no {event.short_name}, "
        "conforme a LGPD, e você pode pedir a exclusão quando quiser. "
        "Se não concordar, descarto o que você já tiver enviado.\n\n"
        f"Política de privacidade (versão {event.consent_version}): {event.privacy_policy_url}\n\n"
        "Você concorda com o uso dos seus dados para a inscrição?",
        YES_NO,
    )


def ask(
    field: FormField, form: RegistrationForm, knowledge: EventKnowledge, declared_phone: str | None
) -> Reply:
    current = form.value(field)
    now = f" (atual: {current})" if current and field is not FormField.CPF else ""
    match field:
        case FormField.FULL_NAME:
            return Reply(f"Qual é o seu *nome completo*?{now}")
        case FormField.EMAIL:
            return Reply(f"Qual é o seu *e-mail*? É para lá que vai a confirmação.{now}")
        case FormField.CPF:
            return Reply("Qual é o seu *CPF*? Pode mandar só os números ou com pontos e traço.")
        case FormField.PHONE:
            if declared_phone and not form.phone_offer_declined and form.phone is None:
                return Reply(
                    f"Posso usar este número, *{pretty_phone(declared_phone)}*, "
                    "como seu telefone de contato?",
                    YES_NO,
                )
            return Reply(f"Qual é o seu *telefone* com DDD?{now}")
        case FormField.CITY:
            return Reply(f"Em qual *cidade* você mora?{now}")
        case FormField.UF:
            if form.pending_city:
                ufs = states_with_city(form.pending_city)
                where = ", ".join(ufs[:-1]) + f" e {ufs[-1]}" if len(ufs) > 1 else "mais de um estado"
                return Reply(f"Encontrei “{form.pending_city}” em {where}. Qual é o seu *estado* (UF)?")
            return Reply(f"Qual é o seu *estado* (UF)?{now}")
        case FormField.PROFILE:
            options = tuple(Option(f"profile:{p.id}", p.label) for p in knowledge.profiles)
            return Reply("Para terminar: qual é o seu *perfil*?", options, button="Ver perfis")


def summary(form: RegistrationForm, knowledge: EventKnowledge) -> Reply:
    profiles = {p.id: p.label for p in knowledge.profiles}
    cpf = form.cpf or ""
    lines = [
        "Confira seus dados:",
        f"👤 Nome: {form.full_name}",
        f"📧 E-mail: {form.email}",
        f"🪪 CPF: {cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}",
        f"📱 Telefone: {pretty_phone(form.phone) if form.phone else ''}",
        f"📍 Cidade: {form.city}/{form.uf}",
        f"🏷️ Perfil: {profiles.get(form.profile or '', form.profile)}",
        "",
        "Está tudo certo? Se algo estiver errado, é só me dizer (ex.: *meu e-mail é ...*).",
    ]
    return Reply("\n".join(lines), CONFIRM)


def which_correction() -> Reply:
    return Reply(
        "O que você quer corrigir? Escolha abaixo ou mande direto o dado certo.", EDIT, button="Campos"
    )


def resume(form: RegistrationForm) -> Reply:
    missing = ", ".join(LABELS[f] for f in form.missing()) or "só confirmar"
    return Reply(
        f"Você tinha começado sua inscrição (falta: {missing}). Quer continuar de onde parou ou recomeçar?",
        RESUME,
    )


def not_known(knowledge: EventKnowledge) -> Reply:
    return Reply(
        "Não sei responder isso com certeza, mas posso te passar para a equipe. "
        f"Quer falar com alguém? {contact(knowledge)}",
        (Option("menu:human", "Falar com a equipe"), Option("menu:main", "Menu")),
    )


def registered(code: str, waitlisted: bool, knowledge: EventKnowledge) -> str:
    if waitlisted:
        return (
            f"📝 As vagas estão esgotadas no momento, então você entrou na *lista de espera* "
            f"(código *{code}*). Aviso assim que abrir uma vaga!"
        )
    return (
        f"✅ Inscrição confirmada no {knowledge.event.short_name}! Seu código é *{code}*. "
        "Guarde-o para o credenciamento. Para ver seus dados depois, escreva *minha inscrição*."
    )


CANCEL_CONFIRM = (YES, NO)
