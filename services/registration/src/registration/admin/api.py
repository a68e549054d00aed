"""The admin API routes (FastAPI). Each needs a bearer token with the right scope; each call is
audited (``registration.admin.audit``). CPFs are masked everywhere but in the ``export`` scope.

No postponed annotations here: FastAPI resolves the local ``Annotated`` aliases at run time.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Security
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement

from common.contracts import CancelOutcome, CancelReply, RegistrationStatus
from registration.admin.exports import ParticipantExport
from registration.admin.queries import ParticipantQueries
from registration.admin.schemas import ParticipantOut, ParticipantPage, PersonalData, Problem, Stats
from registration.admin.tokens import Caller, Scope, TokenStore
from registration.models import Participant
from registration.service import Registrations

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refuse it as bad input, not a 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

bearer = HTTPBearer(auto_error=False, description="A token made by `congress-registration token create`.")

Code = Annotated[str, Path(min_length=1, max_length=32, pattern=NO_NUL, description="Registration code.")]
Text = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]
QueryText = Annotated[
    str | None,
    Query(max_length=200, pattern=NO_NUL, description="Code, name or e-mail (part of), or a whole CPF."),
]
Status = Annotated[RegistrationStatus | None, Query()]
Uf = Annotated[str | None, Query(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")]


def admin_router(
    tokens: TokenStore, queries: ParticipantQueries, export: ParticipantExport, registrations: Registrations
) -> APIRouter:
    router = APIRouter(
        prefix="/admin",
        tags=["admin"],
        responses={
            401: {"model": Problem, "description": "No token, or an unknown or revoked one"},
            403: {"model": Problem, "description": "The token lacks the scope"},
        },
    )

    def caller_with(scope: Scope) -> Callable[..., Awaitable[Caller]]:
        async def authenticate(
            request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
        ) -> Caller:
            if credentials is None:
                raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
            caller = await tokens.caller(credentials.credentials)
            if caller is None:
                raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
            request.state.actor = caller.name  # for the audit record
            if scope not in caller.scopes:
                raise HTTPException(403, f"this token lacks the '{scope}' scope")
            return caller

        return authenticate

    Reader = Annotated[Caller, Depends(caller_with(Scope.READ))]
    Exporter = Annotated[Caller, Depends(caller_with(Scope.EXPORT))]
    Writer = Annotated[Caller, Depends(caller_with(Scope.WRITE))]
    not_found: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such code"}}

    def filters(
        q: QueryText = None, status: Status = None, profile: Text = None, uf: Uf = None
    ) -> list[ColumnElement[bool]]:
        return queries.filters(q, status, profile, uf)

    Filters = Annotated[list[ColumnElement[bool]], Depends(filters)]

    @router.get(
        "/participants", response_model=ParticipantPage, summary="Search participants, a page at a time"
    )
    async def list_participants(
        _: Reader,
        conditions: Filters,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> ParticipantPage:
        return await queries.page(conditions, page, page_size)

    @router.get(
        "/participants/{code}", response_model=ParticipantOut, responses=not_found, summary="One participant"
    )
    async def get_participant(_: Reader, code: Code) -> ParticipantOut:
        found = await queries.by_code(code)
        if found is None:
            raise HTTPException(404, "no such registration")
        return found

    @router.post(
        "/participants/{code}/cancel",
        response_model=CancelReply,
        responses=not_found,
        summary="Cancel a registration (frees the place for the waitlist; emits registration.cancelled)",
    )
    async def cancel_participant(caller: Writer, code: Code) -> CancelReply:
        answer = await registrations.cancel_where((Participant.code == code,), caller.name)
        if answer.outcome is CancelOutcome.NOT_FOUND:
            raise HTTPException(404, "no such registration")
        return answer

    @router.get(
        "/participants/{code}/personal-data",
        response_model=PersonalData,
        responses=not_found,
        summary="LGPD access request: everything stored about one person, full CPF included",
    )
    async def export_personal_data(_: Exporter, code: Code) -> PersonalData:
        found = await queries.personal_data(code)
        if found is None:
            raise HTTPException(404, "no such registration")
        return found

    @router.delete(
        "/participants/{code}/personal-data",
        response_model=ParticipantOut,
        responses=not_found,
        summary="LGPD erasure: anonymise the person, keep the aggregate, emit registration.erased",
    )
    async def erase_personal_data(_: Writer, code: Code) -> ParticipantOut:
        erased = await registrations.erase(code)
        if erased is None:
            raise HTTPException(404, "no such registration, or already erased")
        return queries.participant_out(erased)

    def download(media_type: str, extension: str) -> dict[int | str, dict[str, Any]]:
        return {200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
                      "description": f"Participants as {extension.upper()}, full CPF included"}}  # fmt: skip

    def attachment(extension: str) -> dict[str, str]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return {"Content-Disposition": f'attachment; filename="participantes-{stamp}.{extension}"'}

    @router.get(
        "/exports/participants.csv",
        response_class=StreamingResponse,
        responses=download("text/csv", "csv"),
        summary="Export participants (CSV, streamed), with the same filters as the search",
    )
    async def export_csv(_: Exporter, conditions: Filters) -> StreamingResponse:
        return StreamingResponse(export.csv(conditions), media_type="text/csv", headers=attachment("csv"))

    @router.get(
        "/exports/participants.xlsx",
        response_class=StreamingResponse,
        responses=download(XLSX, "xlsx"),
        summary="Export participants (XLSX), with the same filters as the search",
    )
    async def export_xlsx(_: Exporter, conditions: Filters) -> StreamingResponse:
        return StreamingResponse(export.xlsx(conditions), media_type=XLSX, headers=attachment("xlsx"))

    @router.get("/stats", response_model=Stats, summary="Counts by status, profile, UF, day; the funnel")
    async def stats(_: Reader, event_id: Text = None) -> Stats:
        return await queries.stats(event_id)

    return router
