from __future__ import annotations

from fastapi import APIRouter, Depends

from payments.api.deps import get_account_service, require_service_token, require_verification_session
from payments.api.schemas import AccountOut, MoneyOut, StatementOut
from payments.services.accounts import AccountService

# Every route here discloses account facts: each needs the conversation's verification session (C2).
router = APIRouter(
    prefix="/api/accounts",
    tags=["accounts"],
    dependencies=[Depends(require_service_token), Depends(require_verification_session)],
)


@router.get(
    "/{account_id}",
    response_model=AccountOut,
    responses={403: {"description": "`verification_required`"}, 404: {"description": "no such account"}},
)
def get_account(account_id: str, service: AccountService = Depends(get_account_service)) -> AccountOut:
    """What the assistant may tell a verified customer, and what makes up the balance."""
    account = service.get(account_id)
    s = account.statement
    return AccountOut(
        id=account.id,
        first_name=account.full_name.split()[0],
        status=account.status.value,
        balance=MoneyOut.of(account.balance),
        past_due=MoneyOut.of(account.past_due),
        minimum_due=MoneyOut.of(account.minimum_due),
        payment_due_date=account.payment_due_date,
        days_past_due=account.days_past_due(service.local_today(account)),
        time_zone=account.time_zone,
        preferred_language=account.preferred_language,
        flags=sorted(f.value for f in account.flags),
        collection_allowed=account.collection_allowed,
        statement=StatementOut(
            previous_balance=MoneyOut.of(s.previous_balance),
            purchases=MoneyOut.of(s.purchases),
            interest=MoneyOut.of(s.interest),
            fees=MoneyOut.of(s.fees),
            payments_and_credits=MoneyOut.of(s.payments_and_credits),
        ),
    )
