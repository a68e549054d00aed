"""The dialogue as a pure, deterministic state machine: no I/O, no clock, no randomness.

``on_message`` takes the stored session, one inbound message and what an engine understood of it;
``on_answer`` takes the registration service's answer to a ``Query`` the machine asked for. Both
return an ``Outcome``: the new session, the replies, and at most one query for the caller to ask
(the caller feeds the answer back through ``on_answer``). Engines only propose; every value goes
through ``validation`` here before it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from common.contracts import CancelOutcome, MessageKind, RegistrationStatus, RegistrationView, SubmitOutcome
from conversation.domain import answers, prompts
from conversation.domain.form import LABELS, ORDER, RegistrationForm
from conversation.domain.registry_queries import (
    Answer,
    Cancel,
    Cancelled,
    CheckTaken,
    Found,
    Lookup,
    Query,
    Submit,
    Submitted,
    Taken,
    Unavailable,
)
from conversation.domain.replies import YES_NO, Reply
from conversation.domain.session import ChatSession, Step
from conversation.domain.slots import apply_value
from conversation.domain.understanding import (
    EngineContext,
    Expecting,
    FormField,
    Intent,
    Option,
    Understanding,
)
from conversation.knowledge import EventKnowledge

# --- inputs and outputs -------------------------------------------------------------------


@dataclass(frozen=True)
class Inbound:
    """One user message, as the machine needs it (built from ``MessageReceived``)."""

    conversation_key: str
    message_id: str
    at: datetime
    kind: MessageKind
    text: str | None = None
    choice: str | None = None  # the id of a button/list row the user tapped
    display_name: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Policy:
    handoff_for: timedelta = timedelta(hours=2)  # silence after "falar com atendente"
    resume_after: timedelta = timedelta(minutes=30)  # a form idle this long is "abandoned"


@dataclass(frozen=True)
class Outcome:
    session: ChatSession
    replies: tuple[Reply, ...] = ()
    query: Query | None = None
    handoff_requested: bool = False


_SILENT_KINDS = {MessageKind.REACTION, MessageKind.SYSTEM}
_OPTION_INTENTS = {
    "menu:register": Intent.REGISTER,
    "menu:my_registration": Intent.MY_REGISTRATION,
    "menu:human": Intent.HUMAN,
    "menu:main": Intent.MENU,
    "yes": Intent.YES,
    "no": Intent.NO,
    "confirm:yes": Intent.YES,
    "resume:continue": Intent.YES,
    "resume:restart": Intent.RESTART,
    "cancel": Intent.CANCEL,
}
_FORM_STEPS = {Step.CONSENT, Step.FORM, Step.CONFIRM}


def expecting(session: ChatSession | None) -> Expecting:
    if session is None:
        return Expecting.MENU
    match session.step:
        case Step.CONSENT:
            return Expecting.CONSENT
        case Step.FORM if session.form.asking is not None:
            return Expecting(session.form.asking.value)
        case Step.CONFIRM:
            return Expecting.CONFIRM
        case Step.RESUME | Step.CANCEL_REGISTRATION:
            return Expecting.YES_NO
        case _:
            return Expecting.MENU


def context_for(session: ChatSession | None) -> EngineContext:
    if session is None:
        return EngineContext(expecting=Expecting.MENU)
    return EngineContext(
        expecting=expecting(session), options=tuple(session.options), history=tuple(session.history)
    )


class _Turn:
    """Accumulates one outcome; methods read like the dialogue."""

    def __init__(self, session: ChatSession, knowledge: EventKnowledge, policy: Policy, now: datetime):
        self.s = session
        self.k = knowledge
        self.policy = policy
        self.now = now
        self.replies: list[Reply] = []
        self.query: Query | None = None
        self.handoff = False

    # output
    def say(self, reply: Reply | str) -> None:
        self.replies.append(Reply(reply) if isinstance(reply, str) else reply)

    def ask_next(self) -> None:
        """Ask whatever the form needs next (or show the summary)."""
        form = self.s.form
        next_field = form.asking if form.asking and form.value(form.asking) is None else form.next_field()
        if next_field is FormField.CITY and form.pending_city and form.uf is None:
            next_field = FormField.UF
        if next_field is None:
            self.s = self.s.model_copy(update={"step": Step.CONFIRM, "form": form.with_values(asking=None)})
            self.say(prompts.summary(self.s.form, self.k))
            return
        self.s = self.s.model_copy(update={"step": Step.FORM, "form": form.with_values(asking=next_field)})
        self.say(prompts.ask(next_field, self.s.form, self.k, self.s.declared_phone))

    def reprompt(self) -> None:
        match self.s.step:
            case Step.CONSENT:
                self.say(prompts.consent(self.k))
            case Step.FORM:
                self.ask_next()
            case Step.CONFIRM:
                self.say(prompts.summary(self.s.form, self.k))
            case Step.RESUME:
                self.say(prompts.resume(self.s.form))
            case Step.CANCEL_REGISTRATION:
                self.say(Reply(f"Quer mesmo cancelar a inscrição *{self.s.cancelling_code}*?", YES_NO))
            case Step.IDLE:
                self.say(prompts.menu())

    def outcome(self) -> Outcome:
        session = self.s
        offered = next((r.options for r in reversed(self.replies) if r.options), ())
        session = session.model_copy(update={"options": list(offered)})
        for reply in self.replies:
            session = session.remember("bot", reply.text)
        return Outcome(session, tuple(self.replies), self.query, self.handoff)

    # state changes
    def go(self, step: Step, **updates: object) -> None:
        self.s = self.s.model_copy(update={"step": step, **updates})

    def set_form(self, form: RegistrationForm) -> None:
        self.s = self.s.model_copy(update={"form": form})


# --- messages ------------------------------------------------------------------------------


def on_message(
    session: ChatSession | None,
    inbound: Inbound,
    understanding: Understanding,
    knowledge: EventKnowledge,
    policy: Policy = Policy(),
) -> Outcome:
    fresh = session is None or session.message_count == 0
    previous_seen = session.last_seen_at if session is not None else inbound.at
    current = session or ChatSession.start(inbound.conversation_key, inbound.at)
    current = current.record(inbound.message_id, inbound.at, inbound.display_name, inbound.phone)
    if inbound.text:
        current = current.remember("user", inbound.text)
    turn = _Turn(current, knowledge, policy, inbound.at)

    if current.in_handoff(inbound.at):
        return Outcome(current)  # a person is attending: the bot keeps quiet
    if inbound.kind in _SILENT_KINDS:
        return Outcome(current)  # a reaction to our message is not a question
    if not inbound.text and not inbound.choice:
        _unsupported(turn, inbound.kind)
        return turn.outcome()

    u = _with_choice(understanding, inbound.choice)
    if fresh:
        greeted = prompts.greeting(knowledge, inbound.display_name, returning=False)
        if u.intent in {Intent.NONE, Intent.GREETING} and not u.slots and not u.question:
            turn.say(
                prompts.menu(greeted + "\n\nComo posso te ajudar? Escolha uma opção ou escreva sua dúvida.")
            )
            return turn.outcome()
        turn.say(greeted)

    abandoned = inbound.at - previous_seen > policy.resume_after
    if abandoned and current.step in _FORM_STEPS and u.intent not in _GLOBAL and not u.question:
        turn.go(Step.RESUME)
        turn.say(prompts.resume(current.form))
        return turn.outcome()

    if u.intent in _GLOBAL and _global(turn, u):
        return turn.outcome()
    _by_step(turn, u)
    return turn.outcome()


def _with_choice(u: Understanding, choice: str | None) -> Understanding:
    option = choice or u.option
    if option is None:
        return u
    if option.startswith("profile:"):
        return replace(
            u, option=option, slots={**u.slots, FormField.PROFILE: option.removeprefix("profile:")}
        )
    intent = _OPTION_INTENTS.get(option)
    return replace(u, option=option, intent=intent or u.intent)


def _unsupported(turn: _Turn, kind: MessageKind) -> None:
    if kind is MessageKind.AUDIO:
        turn.say(
            "Recebi seu áudio 🎧, mas por enquanto não consigo ouvir áudios. Pode me escrever, por favor?"
        )
    else:
        turn.say("Por enquanto eu só entendo mensagens de texto 🙂. Pode me escrever o que precisa?")
    turn.reprompt()


_GLOBAL = {
    Intent.HUMAN,
    Intent.CANCEL,
    Intent.RESTART,
    Intent.MENU,
    Intent.MY_REGISTRATION,
    Intent.CANCEL_REGISTRATION,
}


def _global(turn: _Turn, u: Understanding) -> bool:
    """Commands that work at any step. Returns False when the step should handle it instead."""
    s = turn.s
    match u.intent:
        case Intent.HUMAN:
            turn.go(s.step, handoff_until=turn.now + turn.policy.handoff_for)
            turn.handoff = True
            turn.say(
                "Certo! Já chamei alguém da equipe 🙋. Enquanto isso eu fico em silêncio por aqui; "
                "a pessoa vai te responder neste mesmo chat."
            )
        case Intent.CANCEL if s.step in _FORM_STEPS or s.step is Step.RESUME:
            turn.go(Step.IDLE, form=RegistrationForm())
            turn.say(
                prompts.menu(
                    "Tudo bem, cancelei o preenchimento e descartei os dados que você tinha enviado."
                )
            )
        case Intent.CANCEL if s.step is Step.CANCEL_REGISTRATION:
            turn.go(Step.IDLE, cancelling_code=None)
            turn.say(prompts.menu("Ok, sua inscrição continua ativa."))
        case Intent.RESTART if s.step in _FORM_STEPS or s.step is Step.RESUME:
            form = RegistrationForm(consent_version=s.form.consent_version, consented_at=s.form.consented_at)
            turn.set_form(form.with_values(started_at=turn.now))
            turn.say("Sem problemas, vamos recomeçar do início.")
            if form.consented_at is None:
                turn.go(Step.CONSENT)
                turn.say(prompts.consent(turn.k))
            else:
                turn.ask_next()
        case Intent.MENU:
            kept = " Sua inscrição em andamento fica guardada." if s.step in _FORM_STEPS else ""
            turn.go(Step.IDLE)
            turn.say(prompts.menu(f"Claro!{kept} Como posso te ajudar?"))
        case Intent.MY_REGISTRATION:
            turn.query = Lookup("show")
        case Intent.CANCEL_REGISTRATION:
            turn.query = Lookup("cancel")
        case _:
            return False
    return True


def _by_step(turn: _Turn, u: Understanding) -> None:
    match turn.s.step:
        case Step.IDLE:
            _idle(turn, u)
        case Step.CONSENT:
            _consent(turn, u)
        case Step.FORM:
            _form(turn, u)
        case Step.CONFIRM:
            _confirm(turn, u)
        case Step.RESUME:
            _resume(turn, u)
        case Step.CANCEL_REGISTRATION:
            _cancel_registration(turn, u)


def _answer_question(turn: _Turn, u: Understanding) -> None:
    turn.say(u.answer if u.answer else prompts.not_known(turn.k))


_TOPICS = {"menu:programme", "menu:venue", "menu:prices", "menu:faq"}


def _topic(turn: _Turn, option: str) -> None:
    k = turn.k
    text = {
        "menu:programme": lambda: answers.programme(k),
        "menu:venue": lambda: answers.venue(k),
        "menu:prices": lambda: answers.prices(k, turn.now.date()),
        "menu:faq": lambda: answers.faq_index(k),
    }[option]()
    turn.say(text)


def _idle(turn: _Turn, u: Understanding) -> None:
    if u.option in _TOPICS:
        _topic(turn, u.option)
        turn.say(prompts.menu("Posso ajudar com mais alguma coisa?"))
    elif u.option == "register:other":
        _start_registration(turn, u, another_person=True)
    elif u.intent is Intent.REGISTER or (u.slots and not u.question):
        _start_registration(turn, u)
    elif u.question or u.intent is Intent.QUESTION:
        _answer_question(turn, u)
    elif u.intent is Intent.THANKS:
        turn.say("Por nada! 😊 Se precisar de algo, é só chamar.")
    elif u.intent is Intent.GREETING:
        turn.say(prompts.menu(prompts.greeting(turn.k, turn.s.display_name, returning=True)))
    else:
        turn.say(
            prompts.menu(
                "Não entendi muito bem 🤔. Escolha uma opção ou escreva sua dúvida com outras palavras."
            )
        )


def _start_registration(turn: _Turn, u: Understanding, *, another_person: bool = False) -> None:
    s = turn.s
    if s.registration_code and not another_person:
        turn.say(
            Reply(
                f"Você já tem uma inscrição por este WhatsApp (código *{s.registration_code}*). "
                "Quer ver seus dados ou inscrever outra pessoa?",
                (
                    Option("menu:my_registration", "Ver minha inscrição"),
                    Option("register:other", "Outra pessoa"),
                ),
            )
        )
        return
    if s.form.consented_at is None:
        # Values sent along with the request wait for the consent answer (dropped on "não").
        form = _silently_apply(s.form, u, turn.k).with_values(started_at=s.form.started_at or turn.now)
        turn.go(Step.CONSENT, form=form)
        turn.say(prompts.consent(turn.k))
        return
    turn.go(Step.FORM)
    if s.form.missing() != list(ORDER):
        turn.say("Vamos continuar sua inscrição de onde parou. 😉")
    if u.slots:
        _apply_slots(turn, u)
    else:
        turn.ask_next()


def _silently_apply(form: RegistrationForm, u: Understanding, k: EventKnowledge) -> RegistrationForm:
    for field_ in ORDER:
        raw = u.slots.get(field_)
        if raw and raw.strip():
            form, _ = apply_value(form, field_, raw.strip(), k)
    return form


def _consent(turn: _Turn, u: Understanding) -> None:
    if u.intent is Intent.YES:
        consent = {"consent_version": turn.k.event.consent_version, "consented_at": turn.now}
        turn.go(Step.FORM, form=turn.s.form.with_values(**consent))
        turn.say("Obrigado! Vamos lá. 📝")
        turn.ask_next()
    elif u.intent is Intent.NO:
        turn.go(Step.IDLE, form=RegistrationForm())
        turn.say(
            prompts.menu(
                "Tudo bem! Sem o seu consentimento eu não faço a inscrição. Posso ajudar com outra coisa?"
            )
        )
    else:
        # Data sent before consenting is not kept (LGPD): answer a question, then ask again.
        if u.question:
            _answer_question(turn, u)
        else:
            turn.say("Preciso que você responda *sim* ou *não* antes de seguirmos.")
        turn.say(prompts.consent(turn.k))


def _form(turn: _Turn, u: Understanding) -> None:
    form = turn.s.form
    asking = form.asking
    if u.intent is Intent.BACK:
        turn.set_form(form.with_values(asking=form.previous(asking), pending_city=None))
        turn.say(prompts.ask(turn.s.form.asking or ORDER[0], turn.s.form, turn.k, turn.s.declared_phone))
        return
    if (
        asking is FormField.PHONE
        and form.phone is None
        and turn.s.declared_phone
        and not form.phone_offer_declined
    ):
        if u.intent is Intent.YES:
            turn.set_form(form.with_values(phone=turn.s.declared_phone))
            turn.ask_next()
            return
        if u.intent is Intent.NO and FormField.PHONE not in u.slots:
            turn.set_form(form.with_values(phone_offer_declined=True))
            turn.ask_next()
            return
    if u.question:
        _answer_question(turn, u)
        if not u.slots:
            turn.say("Voltando à sua inscrição:")
            turn.ask_next()
            return
    if not u.slots:
        turn.say("Não consegui entender. 🤔")
        turn.ask_next()
        return
    _apply_slots(turn, u)


def _confirm(turn: _Turn, u: Understanding) -> None:
    if u.option and u.option.startswith("edit:"):
        field = FormField(u.option.removeprefix("edit:"))
        turn.go(Step.FORM, form=turn.s.form.with_values(asking=field))
        turn.say(prompts.ask(field, turn.s.form, turn.k, turn.s.declared_phone))
    elif u.slots:
        _apply_slots(turn, u)
    elif u.intent is Intent.YES:
        turn.query = Submit(turn.s.form)
    elif u.intent is Intent.BACK:
        turn.go(Step.FORM, form=turn.s.form.with_values(asking=turn.s.form.previous(None)))
        turn.reprompt()
    elif u.intent is Intent.NO or u.option == "confirm:edit":
        turn.say(prompts.which_correction())
    elif u.question:
        _answer_question(turn, u)
        turn.reprompt()
    else:
        turn.say("Para concluir, toque em *Confirmar* — ou me diga o que quer corrigir.")
        turn.reprompt()


def _resume(turn: _Turn, u: Understanding) -> None:
    if u.intent is Intent.YES:
        form = turn.s.form
        if form.consented_at is None:
            turn.go(Step.CONSENT)
            turn.say(prompts.consent(turn.k))
        else:
            turn.go(Step.FORM, form=form.with_values(asking=None))
            turn.ask_next()
    elif u.intent is Intent.NO:
        turn.go(Step.IDLE, form=RegistrationForm())
        turn.say(prompts.menu("Tudo bem, descartei aquela inscrição pela metade."))
    else:
        if u.question:
            _answer_question(turn, u)
        turn.reprompt()


def _cancel_registration(turn: _Turn, u: Understanding) -> None:
    code = turn.s.cancelling_code
    if u.intent is Intent.YES and code:
        turn.query = Cancel(code)
    elif u.intent is Intent.NO:
        turn.go(Step.IDLE, cancelling_code=None)
        turn.say(prompts.menu("Ok, sua inscrição continua ativa. 👍"))
    else:
        turn.reprompt()


# --- slot values: validate, keep, correct ------------------------------------------------


def _apply_slots(turn: _Turn, u: Understanding) -> None:
    """Keep every valid value given (any field: a correction or a head start); re-prompt errors."""
    form = turn.s.form
    errors: list[str] = []
    changed: list[FormField] = []
    for field_ in ORDER:
        raw = u.slots.get(field_)
        if raw is None or not raw.strip():
            continue
        form, error = apply_value(form, field_, raw.strip(), turn.k)
        if error:
            errors.append(error)
        else:
            changed.append(field_)
    asked = form.asking
    corrected = [f for f in changed if f is not asked and turn.s.form.value(f) is not None]
    noted = [f for f in changed if f is not asked and f not in corrected]
    turn.set_form(form.with_values(asking=asked if errors else None))
    if corrected:
        turn.say("Anotado! ✍️ Atualizei: " + ", ".join(LABELS[f] for f in corrected) + ".")
    elif noted and turn.s.step is Step.FORM:
        turn.say("Anotado! ✍️ Já guardei: " + ", ".join(LABELS[f] for f in noted) + ".")
    if FormField.FULL_NAME in changed and turn.s.form.full_name and not corrected:
        turn.say(f"Prazer, {turn.s.form.full_name.split()[0]}! 😊")
    if errors:
        turn.go(Step.FORM)
        turn.say("\n".join(errors))
        failed = next(f for f in ORDER if u.slots.get(f) and f not in changed)
        turn.set_form(turn.s.form.with_values(asking=failed))
        if not errors[-1].endswith("?"):  # a reason that ends in a question already re-asks
            turn.say(prompts.ask(failed, turn.s.form, turn.k, turn.s.declared_phone))
        return
    for checked in (FormField.CPF, FormField.EMAIL):
        value = turn.s.form.value(checked)
        if checked in changed and value:
            turn.query = CheckTaken(checked, value)  # the next prompt waits for the answer
            return
    turn.ask_next()


# --- answers from the registration service ------------------------------------------------


def on_answer(
    session: ChatSession, answer: Answer, knowledge: EventKnowledge, now: datetime, policy: Policy = Policy()
) -> Outcome:
    turn = _Turn(session, knowledge, policy, now)
    match answer:
        case Taken(field=f, taken=True, same_conversation=True):
            turn.go(Step.IDLE, form=RegistrationForm())
            turn.say(
                prompts.menu(
                    f"Esse {LABELS[f]} já está inscrito por este WhatsApp. 🙂 "
                    "Escreva *minha inscrição* para ver seus dados."
                )
            )
        case Taken(field=f, taken=True):
            turn.set_form(turn.s.form.with_values(**{f.value: None}, asking=f))
            turn.go(Step.FORM)
            turn.say(_taken_text(f, knowledge))
            turn.say(prompts.ask(f, turn.s.form, knowledge, turn.s.declared_phone))
        case Taken():
            turn.ask_next()
        case Submitted(outcome=SubmitOutcome.CREATED | SubmitOutcome.ALREADY_REGISTERED, code=code) if code:
            waitlisted = answer.status is RegistrationStatus.WAITLISTED
            # Data minimisation: once registered, the form (with the CPF) leaves the session.
            turn.go(Step.IDLE, form=RegistrationForm(), registration_code=code)
            turn.say(prompts.registered(code, waitlisted, knowledge))
        case Submitted(outcome=SubmitOutcome.CPF_TAKEN | SubmitOutcome.EMAIL_TAKEN):
            f = FormField.CPF if answer.outcome is SubmitOutcome.CPF_TAKEN else FormField.EMAIL
            turn.set_form(turn.s.form.with_values(**{f.value: None}, asking=f))
            turn.go(Step.FORM)
            turn.say(_taken_text(f, knowledge))
            turn.say(prompts.ask(f, turn.s.form, knowledge, turn.s.declared_phone))
        case Submitted():
            turn.say("⚠️ Não consegui concluir a inscrição agora. Toque em *Confirmar* de novo em instantes.")
            turn.reprompt()
        case Found(purpose="show", view=view):
            _show_registration(turn, view)
        case Found(purpose="cancel", view=view):
            _ask_cancel(turn, view)
        case Cancelled(outcome=CancelOutcome.CANCELLED, code=code):
            turn.go(Step.IDLE, cancelling_code=None, registration_code=None)
            turn.say(
                prompts.menu(f"Inscrição *{code}* cancelada. Se mudar de ideia, é só se inscrever de novo.")
            )
        case Cancelled(outcome=CancelOutcome.ALREADY_CANCELLED):
            turn.go(Step.IDLE, cancelling_code=None, registration_code=None)
            turn.say(prompts.menu("Essa inscrição já estava cancelada."))
        case Cancelled():
            turn.go(Step.IDLE, cancelling_code=None)
            turn.say(prompts.menu("Não encontrei essa inscrição para cancelar."))
        case Unavailable(query=query):
            _unavailable(turn, query)
    return turn.outcome()


def _taken_text(f: FormField, k: EventKnowledge) -> str:
    return (
        f"Esse {LABELS[f]} já tem uma inscrição neste evento. Se foi você (talvez por outro número), "
        "não precisa se inscrever de novo — a confirmação foi para o e-mail cadastrado; "
        f"se precisar de ajuda, escreva *atendente*. {answers.contact(k)}\n"
        "Se digitou errado, é só mandar o correto."
    )


def _show_registration(turn: _Turn, view: RegistrationView) -> None:
    if not view.found:
        turn.say(
            Reply(
                "Não encontrei inscrição feita por este WhatsApp. Quer se inscrever agora?",
                (Option("menu:register", "Fazer inscrição"), Option("menu:main", "Menu")),
            )
        )
        return
    status = {
        RegistrationStatus.CONFIRMED: "confirmada ✅",
        RegistrationStatus.WAITLISTED: "na lista de espera 📝",
        RegistrationStatus.CANCELLED: "cancelada",
        RegistrationStatus.ERASED: "excluída",
    }[view.status or RegistrationStatus.CONFIRMED]
    turn.go(
        turn.s.step, registration_code=view.code if view.status is not RegistrationStatus.CANCELLED else None
    )
    turn.say(
        f"Sua inscrição *{view.code}* está {status}.\n"
        f"👤 {view.full_name}\n📧 {view.email}\n🪪 CPF {view.cpf_masked}"
    )
    turn.reprompt()


def _ask_cancel(turn: _Turn, view: RegistrationView) -> None:
    if not view.found or view.status in {RegistrationStatus.CANCELLED, RegistrationStatus.ERASED}:
        turn.say(prompts.menu("Não encontrei inscrição ativa feita por este WhatsApp para cancelar."))
        return
    turn.go(Step.CANCEL_REGISTRATION, cancelling_code=view.code)
    turn.reprompt()


def _unavailable(turn: _Turn, query: Query) -> None:
    if isinstance(query, CheckTaken):
        turn.ask_next()  # the submit checks again; the person need not wait for us
        return
    turn.say(
        "⚠️ Estou com dificuldade para acessar as inscrições agora. "
        "Tente de novo em alguns instantes, por favor."
    )
    if isinstance(query, Submit):
        turn.say(prompts.summary(turn.s.form, turn.k))
