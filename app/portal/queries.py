"""What the portal shows a client: their projects, the newest photos approved for them and
the latest messages of their projects' threads — a fixed handful of statements whatever
the number of projects (bench: "client portal home")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, true
from sqlalchemy.orm import lazyload, selectinload

from app.core.permissions import require, scope_query
from app.core.roles import CLIENT
from app.extensions import db
from app.projects.models import Project

PHOTOS_PER_PROJECT = 6
MESSAGES = 5
PAY_APPLICATIONS = 5  # the newest certified ones a project's card lists (all: its billing page)


@dataclass
class PortalProject:
    project: Project
    photos: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    owed: Decimal = Decimal("0.00")  # still owed on their sent and overdue invoices
    overdue: bool = False
    to_decide: list = field(default_factory=list)  # change orders waiting for their signature
    pay_applications: list = field(default_factory=list)  # their newest certified ones (PayApplicationRow)
    more_pay_applications: bool = False


@dataclass(frozen=True)
class PayApplicationRow:
    """A certified pay application as the portal lists it: its number, period and the
    payment it certified (G702 line 8) — figures the client's own PDF shows, no costs."""

    id: int
    number: str
    application_no: int
    period_to: date
    current_payment_due: Decimal


def portal_home(user) -> dict:
    """The client's projects (open first, newest first) with their newest approved photos
    and latest messages from the thread with the team."""
    from app.comments.models import Comment
    from app.photos.models import Photo

    require(user, "project.view")
    if user.role != CLIENT:
        return {"projects": []}
    projects = db.session.scalars(
        scope_query(select(Project), user, "project.view", Project)
        .options(lazyload(Project.memberships))  # the card shows no team
        .order_by((Project.status == "closed").asc(), Project.created_at.desc())
        .limit(50)
    ).all()
    cards = {p.id: PortalProject(p) for p in projects}
    if not cards:
        return {"projects": []}
    ids = list(cards)
    # the newest few of each project: a LATERAL per project walks ix_photos_project_created
    # backwards and stops, instead of ranking every photo of the company
    chosen = _newest_photos(user, ids)
    for photo in db.session.scalars(select(Photo).where(Photo.id.in_(chosen)).order_by(Photo.created_at.desc())):
        cards[photo.project_id].photos.append(photo)
    talk = (
        select(Comment)
        .where(Comment.project_id.in_(ids), Comment.for_client.is_(True))
        .options(selectinload(Comment.author))
        .order_by(Comment.created_at.desc())
        .limit(MESSAGES)
    )
    for comment in db.session.scalars(talk):
        cards[comment.project_id].messages.append(comment)
    _money(user, cards, ids)
    return {"projects": list(cards.values())}


def _money(user, cards: dict, ids: list[int]) -> None:
    """What the client owes per project (their issued invoices) and the change orders
    waiting for their signature: one statement each, through the invoices' and change
    orders' own visibility rules."""
    from app.change_orders.models import ChangeOrder
    from app.change_orders.services import visible_change_orders
    from app.invoices.models import OVERDUE, PAYABLE, Invoice
    from app.invoices.services import visible_invoices

    owed = Invoice.total_amount - Invoice.retention_amount - Invoice.amount_paid
    rows = db.session.execute(
        visible_invoices(
            user,
            select(Invoice.project_id, func.sum(owed), func.count().filter(Invoice.status == OVERDUE)),
        )
        .where(Invoice.project_id.in_(ids), Invoice.status.in_(PAYABLE))
        .group_by(Invoice.project_id)
    )
    for project_id, amount, overdue in rows:
        cards[project_id].owed, cards[project_id].overdue = Decimal(amount), bool(overdue)
    waiting = visible_change_orders(user).where(ChangeOrder.project_id.in_(ids), ChangeOrder.status == "pending_client")
    for co in db.session.scalars(waiting.order_by(ChangeOrder.id)):
        cards[co.project_id].to_decide.append(co)
    _pay_applications(user, cards, ids)


def _pay_applications(user, cards: dict, ids: list[int]) -> None:
    """The newest PAY_APPLICATIONS certified pay applications of each project, through the
    pay applications' own visibility (a client: certified ones of their projects): one
    statement, the rows ranked per project."""
    from app.progress_billing.models import CERTIFIED, PayApplication
    from app.progress_billing.services import visible_pay_applications

    rank = func.row_number().over(partition_by=PayApplication.project_id,
                                  order_by=PayApplication.application_no.desc())  # fmt: skip
    ranked = (
        visible_pay_applications(
            user,
            select(
                PayApplication.id,
                PayApplication.project_id,
                PayApplication.number,
                PayApplication.application_no,
                PayApplication.period_to,
                PayApplication.g702_current_payment_due,
                rank.label("rank"),
            ),
        )  # fmt: skip
        .where(PayApplication.project_id.in_(ids), PayApplication.status == CERTIFIED)
        .subquery()
    )
    rows = db.session.execute(
        select(ranked).where(ranked.c.rank <= PAY_APPLICATIONS + 1).order_by(ranked.c.project_id, ranked.c.rank)
    )
    for row in rows:
        card = cards[row.project_id]
        if row.rank > PAY_APPLICATIONS:
            card.more_pay_applications = True
            continue
        card.pay_applications.append(PayApplicationRow(row.id, row.number, row.application_no, row.period_to,
                                                       row.g702_current_payment_due))  # fmt: skip


def _newest_photos(user, ids: list[int]):
    """select Photo.id of the newest PHOTOS_PER_PROJECT photos of each project `user`
    may see. PostgreSQL: a LATERAL per project walks ix_photos_project_created backwards
    and stops, instead of ranking every photo of the company. SQLite (the embedded
    `make run`) has no LATERAL: a window ranks each project's photos there."""
    from app.photos.models import Photo
    from app.photos.queries import visible

    if db.engine.dialect.name != "postgresql":
        ranked = (
            visible(
                user,
                select(
                    Photo.id,
                    func.row_number()
                    .over(partition_by=Photo.project_id, order_by=Photo.created_at.desc())
                    .label("rank"),
                ),
            )
            .where(Photo.project_id.in_(ids))
            .subquery()
        )
        return select(ranked.c.id).where(ranked.c.rank <= PHOTOS_PER_PROJECT)
    each = select(Project.id.label("pid")).where(Project.id.in_(ids)).subquery()
    newest = (
        visible(user, select(Photo.id))
        .where(Photo.project_id == each.c.pid)
        .order_by(Photo.created_at.desc())
        .limit(PHOTOS_PER_PROJECT)
        .lateral()
    )
    return select(newest.c.id).select_from(each).join(newest, true())
