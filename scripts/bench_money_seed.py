"""The bench's money (issue 12): invoices with their lines and payments, and change orders
with their lines, written in bulk into an already seeded bench database (bench_common.
prepare_database calls `seed` after `flask seed-demo --scale N`).

At scale N: 100·N invoices (10,000 at 100) with 10·(100·N) lines in all (100,000), about
10 a line on average (3 to 17); 30·N change orders (3,000) with 2–4 lines each.

Realistic and consistent, as the app would have written them:
- statuses: mostly PAID and SENT, some DRAFT, OVERDUE and CANCELLED, matching the dates
  (a SENT invoice is not yet due, an OVERDUE one is; a draft was started lately);
- a project's first invoice is sometimes a deposit (paid, then applied as a credit line on
  its next invoice), a closed project's last one sometimes its final invoice (releasing
  the retention its earlier invoices held: `retention` lines naming them);
- the figures are core.money's: line total = quantity × unit price rounded, subtotal = the
  sum of the rounded lines, tax per rate on the subtotal, total = subtotal + tax,
  retention ≤ total, paid ≤ total − retention (the table's CHECKs hold);
- paid and partly paid invoices have 1–3 payments summing to `amount_paid` (plus the odd
  voided one, not counted);
- issued invoices are numbered INV-YYYY-NNNN per issue year in issue order, change orders
  CO-YYYY-NNNN, continuing `document_counters`, which are moved on to the last number.

Written with SQLAlchemy Core executemany inserts on reflected tables (no ORM objects, no
audit rows: seed data), ids taken up front from the tables' sequences so lines can name
the invoices they credit or release. About 10–15 s at scale 100.
"""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.money import ZERO, Line, line_total, percent_of, round_money, totals  # noqa: E402

INVOICES_PER_SCALE = 100
LINES_PER_INVOICE = 10
CHANGE_ORDERS_PER_SCALE = 30
DEMO_CLIENT_INVOICES = 12  # per project of the demo client's company: its portal list is full
TAX_RATES = (Decimal("8.250"),) * 7 + (ZERO,) * 3
TERMS = (("net_30", 30),) * 5 + (("net_15", 15),) * 2 + (("net_45", 45), ("due_on_receipt", 0), ("net_60", 60))
METHODS = ("check", "check", "ach", "ach", "card", "cash")
WORK = (
    ("Prep and mask, {room}", "hr", (Decimal("55.00"), Decimal("68.00"))),
    ("Patch and sand drywall, {room}", "hr", (Decimal("58.00"), Decimal("72.00"))),
    ("Prime walls, {room}", "sq ft", (Decimal("0.45"), Decimal("0.85"))),
    ("Walls, two coats, {room}", "sq ft", (Decimal("1.10"), Decimal("2.40"))),
    ("Ceilings, {room}", "sq ft", (Decimal("0.95"), Decimal("1.85"))),
    ("Trim and baseboards, {room}", "lin ft", (Decimal("1.25"), Decimal("3.10"))),
    ("Doors, both sides, {room}", "each", (Decimal("65.00"), Decimal("145.00"))),
    ("Cabinet fronts, {room}", "each", (Decimal("38.00"), Decimal("95.00"))),
    ("Paint, premium interior", "gal", (Decimal("42.99"), Decimal("74.99"))),
    ("Primer, stain-blocking", "gal", (Decimal("28.99"), Decimal("46.99"))),
    ("Caulk and filler", "each", (Decimal("6.49"), Decimal("12.99"))),
    ("Deck stain, semi-transparent", "sq ft", (Decimal("1.40"), Decimal("2.90"))),
    ("Siding, {room}", "sq ft", (Decimal("1.60"), Decimal("3.20"))),
    ("Equipment rental, lift", "day", (Decimal("185.00"), Decimal("340.00"))),
    ("Disposal and clean-up", "each", (Decimal("75.00"), Decimal("220.00"))),
)
ROOMS = ("kitchen", "living room", "hallway", "primary bedroom", "bedroom 2", "bathrooms", "stairwell",
         "garage", "porch", "north elevation", "south elevation", "basement")  # fmt: skip
QUANTITY = {"hr": (2, 40, 1), "sq ft": (80, 2400, 1), "lin ft": (40, 600, 1), "each": (1, 24, 1), "gal": (2, 30, 1),
            "day": (1, 6, 1)}  # fmt: skip
CO_TITLES = ("Extra coat on stained walls", "Add closet interiors", "Replace rotten trim", "Stain-block water marks",
             "Paint garage floor", "Add accent wall", "Repair siding boards", "Refinish front door",
             "Skim-coat damaged ceiling", "Caulk and seal windows")  # fmt: skip


def _money(rng, low: Decimal, high: Decimal) -> Decimal:
    return round_money(low + (high - low) * Decimal(rng.randint(0, 1000)) / 1000)


def _work_line(rng, rate: Decimal) -> dict:
    label, unit, (low, high) = rng.choice(WORK)
    q_low, q_high, _ = QUANTITY[unit]
    quantity = Decimal(rng.randint(q_low, q_high))
    if unit == "hr" and rng.random() < 0.3:
        quantity += Decimal("0.5")
    price = _money(rng, low, high)
    return {
        "description": f"{label.format(room=rng.choice(ROOMS))} ({unit})",
        "quantity": quantity,
        "unit_price": price,
        "tax_rate": rate,
        "line_total": line_total(quantity, price),
        "source": "task" if rng.random() < 0.2 else None,
        "source_id": None,
    }


def _split(rng, amount: Decimal, parts: int) -> list[Decimal]:
    """`amount` in `parts` positive cents summing to it exactly."""
    cents = int(amount * 100)
    parts = max(1, min(parts, cents))
    cuts = sorted(rng.sample(range(1, cents), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, cents]
    return [Decimal(bounds[i + 1] - bounds[i]) / 100 for i in range(parts)]


def seed(database_url: str, scale: int) -> dict:
    started = time.perf_counter()
    rng = random.Random(scale * 12)  # noqa: S311 - repeatable bench data
    engine = create_engine(database_url)
    meta = MetaData()
    with engine.begin() as c:
        meta.reflect(
            c,
            only=["invoices", "invoice_lines", "payments", "change_orders", "change_order_lines", "document_counters"],
        )
        t = meta.tables
        if c.scalar(select(func.count()).select_from(t["invoices"])) >= INVOICES_PER_SCALE * scale:
            return {"invoices": "already seeded"}
        today = date.today()
        users = {r.username: r for r in c.execute(text("SELECT id, username, role, client_id FROM users"))}
        admin_id = users["admin"].id
        projects = c.execute(
            text("SELECT id, client_id, status, start_date, budget FROM projects ORDER BY id")
        ).fetchall()
        # the project's PM (creator of its invoices and change orders): a full PM of its team
        pm_of = dict(
            c.execute(
                text(
                    "SELECT DISTINCT ON (m.project_id) m.project_id, m.user_id FROM project_memberships m "
                    "JOIN users u ON u.id = m.user_id WHERE u.role = 'project_manager_full' "
                    "ORDER BY m.project_id, (u.username = 'pm') DESC, m.user_id"
                )
            ).fetchall()
        )
        client_users = defaultdict(list)
        for u in users.values():
            if u.client_id:
                client_users[u.client_id].append(u)
        demo_client = users["client"].client_id if "client" in users else None
        counters = {(r.kind, r.year): r.last_value for r in c.execute(select(t["document_counters"]))}

        # --- plan the invoices: which project, what kind, what status, when --------------
        n_invoices = INVOICES_PER_SCALE * scale
        per_project: dict[int, int] = defaultdict(int)
        for p in projects:
            if p.client_id == demo_client:
                per_project[p.id] = DEMO_CLIENT_INVOICES
        weights = [1 if p.status == "created" else 3 for p in projects]
        for p in rng.choices(projects, weights=weights, k=n_invoices - sum(per_project.values())):
            per_project[p.id] += 1
        by_id = {p.id: p for p in projects}
        invoice_ids = [
            r[0] for r in c.execute(text(f"SELECT nextval('invoices_id_seq') FROM generate_series(1, {n_invoices})"))
        ]
        ids = iter(invoice_ids)
        plans = []  # per project, in issue order
        for project_id, count in per_project.items():
            project = by_id[project_id]
            items = []
            for _ in range(count):
                terms, days = rng.choice(TERMS)
                r = rng.random()
                status = ("CANCELLED" if r < 0.07 else "DRAFT" if r < 0.16 else "OVERDUE" if r < 0.26
                          else "SENT" if r < 0.40 else "PAID")  # fmt: skip
                if status == "DRAFT":
                    issue = today - timedelta(days=rng.randint(0, 20))
                elif status == "SENT":
                    issue = today - timedelta(days=rng.randint(0, days))
                elif status == "OVERDUE":
                    issue = today - timedelta(days=days + rng.randint(1, 90))
                else:
                    issue = today - timedelta(days=rng.randint(days + 5, 720))
                items.append({"terms": terms, "days": days, "status": status, "issue": issue, "type": "standard"})
            items.sort(key=lambda i: (i["issue"], i["status"] == "DRAFT"))
            issued = [i for i in items if i["status"] in ("PAID", "SENT", "OVERDUE")]
            if len(issued) >= 2 and rng.random() < 0.2 and issued[0]["status"] == "PAID":
                issued[0]["type"] = "deposit"
            if project.status == "closed" and len(issued) >= 3 and rng.random() < 0.5:
                issued[-1]["type"] = "final"
            for item in items:
                item["id"] = next(ids)
                item["project"] = project
            plans.append(items)

        # --- lines: 10 a invoice on average, exactly 10·n in all ----------------------------
        flat = [i for items in plans for i in items]
        regular = [i for i in flat if i["type"] != "deposit"]
        budget = LINES_PER_INVOICE * n_invoices - (len(flat) - len(regular))  # a deposit has one line
        counts = [LINES_PER_INVOICE] * len(regular)
        for j in range(0, len(counts) - 1, 2):
            d = rng.randint(-7, 7)
            counts[j] += d
            counts[j + 1] -= d
        for j in rng.choices(range(len(counts)), k=budget - sum(counts)):
            counts[j] += 1  # (credits and releases take the place of work lines below)

        line_rows, payment_rows = [], []
        invoice_rows = []
        issued_all = []
        count_of = {id(i): n for i, n in zip(regular, counts, strict=True)}
        extra_lines = 0
        for items in plans:
            project = items[0]["project"]
            credit_from = None  # a paid deposit waiting to be applied
            held = []  # issued invoices of the project holding retention
            for item in items:
                rate = rng.choice(TAX_RATES)
                lines = []
                if item["type"] == "deposit":
                    price = _money(rng, Decimal("1500"), Decimal("6000"))
                    lines.append({"description": "Deposit: 30 % of the contract, due before work starts",
                                  "quantity": Decimal(1), "unit_price": price, "tax_rate": ZERO,
                                  "line_total": price, "source": None, "source_id": None})  # fmt: skip
                else:
                    wanted = count_of[id(item)]
                    specials = []
                    if credit_from is not None and item["status"] != "CANCELLED":
                        specials.append("deposit")
                    releasing = item["type"] == "final" and held
                    if releasing:
                        specials.extend("retention" for _ in held)
                    normal = max(1, wanted - len(specials))
                    extra_lines += normal + len(specials) - wanted
                    lines = [_work_line(rng, rate) for _ in range(normal)]
                    if "deposit" in specials:
                        base = sum((li["line_total"] for li in lines), ZERO)
                        credit = min(credit_from["paid"], round_money(base / 2))
                        lines.append({"description": f"Deposit applied ({credit_from['number']})",
                                      "quantity": Decimal(1), "unit_price": -credit, "tax_rate": ZERO,
                                      "line_total": -credit, "source": "deposit",
                                      "source_id": credit_from["id"]})  # fmt: skip
                        credit_from = None
                    if releasing:
                        for h in held:
                            lines.append({"description": f"Retention released ({h['number']})",
                                          "quantity": Decimal(1), "unit_price": h["retention"], "tax_rate": ZERO,
                                          "line_total": h["retention"], "source": "retention",
                                          "source_id": h["id"]})  # fmt: skip
                        held = []
                figures = totals([Line(li["quantity"], li["unit_price"], li["tax_rate"]) for li in lines])
                retention = ZERO
                if item["type"] == "standard" and item["status"] != "DRAFT" and rng.random() < 0.15:
                    retention = percent_of(figures.total, Decimal(rng.choice([5, 10])))
                owed = figures.total - retention
                paid = ZERO
                status = item["status"]
                if status == "PAID":
                    paid = owed
                elif status in ("SENT", "OVERDUE") and rng.random() < 0.3:
                    paid = round_money(owed * Decimal(rng.randint(20, 80)) / 100)
                issue = item["issue"]
                due = issue + timedelta(days=item["days"])
                item.update(paid=paid, retention=retention, number=None)
                sent_at = datetime.combine(issue, dtime(15, rng.randint(0, 59)), UTC)
                invoice_rows.append(
                    {
                        "id": item["id"],
                        "number": None,
                        "project_id": project.id,
                        "client_id": project.client_id,
                        "invoice_type": item["type"],
                        "status": status,
                        "issue_date": issue,
                        "due_date": due,
                        "tax_rate": rate,
                        "subtotal": figures.subtotal,
                        "tax_amount": figures.tax_amount,
                        "total_amount": figures.total,
                        "retention_amount": retention,
                        "amount_paid": paid,
                        "payment_terms": item["terms"],
                        "client_message": "Thank you for your business." if rng.random() < 0.5 else "",
                        "internal_notes": "Client asked for a paper copy too." if rng.random() < 0.1 else "",
                        "is_draft_for_review": False,
                        "review_comment": "",
                        "created_by_id": pm_of.get(project.id, admin_id),
                        "sent_at": None if status == "DRAFT" else sent_at,
                        "cancelled_at": sent_at + timedelta(days=2) if status == "CANCELLED" else None,
                        "cancel_reason": "Billed in error; replaced." if status == "CANCELLED" else "",
                        "reminder_stage": _stage(status, due, today),
                        "version": 1,
                        "created_at": sent_at - timedelta(hours=2),
                        "updated_at": sent_at,
                    }
                )
                for position, li in enumerate(lines):
                    line_rows.append({"invoice_id": item["id"], "position": position, **li})
                if status != "DRAFT":
                    issued_all.append(item)
                if paid > 0:
                    parts = 1 if status != "PAID" else rng.choice((1, 1, 1, 1, 2, 2, 2, 3))
                    when = issue
                    recorder = pm_of.get(project.id, admin_id)
                    for amount in _split(rng, paid, parts):
                        when = min(today, when + timedelta(days=rng.randint(1, max(2, item["days"]))))
                        payment_rows.append(_payment(rng, item["id"], amount, when, recorder))
                    if rng.random() < 0.02:  # a mistaken payment, voided (not counted)
                        row = _payment(rng, item["id"], _money(rng, Decimal(50), Decimal(500)), when, recorder)
                        row.update(voided_at=row["created_at"] + timedelta(hours=3), voided_by_id=admin_id,
                                   void_reason="Entered twice")  # fmt: skip
                        payment_rows.append(row)
                if item["type"] == "deposit" and status == "PAID":
                    credit_from = item
                if retention > 0 and status in ("SENT", "OVERDUE", "PAID"):
                    held.append(item)
        # numbers: issued invoices (cancelled ones were issued too) in issue order per year
        issued_all.sort(key=lambda i: (i["issue"], i["id"]))
        last = dict(counters)
        for item in issued_all:
            key = ("invoice", item["issue"].year)
            last[key] = last.get(key, 0) + 1
            item["number"] = f"INV-{key[1]}-{last[key]:04d}"
        number_of = {i["id"]: i["number"] for i in issued_all}
        for row in invoice_rows:
            row["number"] = number_of.get(row["id"])
        for row in line_rows:  # the credit and release lines name the invoice by its number
            if row["source"] in ("deposit", "retention"):
                row["description"] = row["description"].replace("None", number_of.get(row["source_id"]) or "")

        _insert(c, t["invoices"], invoice_rows, 5000)
        _insert(c, t["invoice_lines"], line_rows, 20000)
        _insert(c, t["payments"], payment_rows, 10000)

        change_orders, co_lines = _change_orders(rng, c, t, projects, pm_of, client_users, admin_id, today, last, scale)
        counter_rows = [
            {"kind": kind, "year": year, "last_value": value}
            for (kind, year), value in last.items()
            if counters.get((kind, year)) != value
        ]
        if counter_rows:
            stmt = pg_insert(t["document_counters"])
            c.execute(
                stmt.on_conflict_do_update(
                    index_elements=["kind", "year"], set_={"last_value": stmt.excluded.last_value}
                ),
                counter_rows,
            )
    engine.dispose()
    return {
        "invoices": len(invoice_rows),
        "invoice_lines": len(line_rows),
        "payments": len(payment_rows),
        "change_orders": change_orders,
        "change_order_lines": co_lines,
        "money_seed_s": round(time.perf_counter() - started, 2),
    }


def _insert(c, table, rows: list[dict], chunk: int) -> None:
    """Insert `rows` in chunks, fitted to the table as this database has it: values for
    columns it lacks are dropped, a NOT NULL column it has and the rows do not name (a
    newer migration's) gets its type's blank, and no timestamp is later than now (a
    document of today was not written this evening)."""
    from sqlalchemy import Boolean, Numeric, String
    from sqlalchemy import Integer as Int

    now = datetime.now(UTC)
    names = set(table.c.keys())
    blanks = {}
    for column in table.c:
        if column.nullable or column.server_default is not None or column.computed is not None:
            continue
        if column.primary_key or column.name in rows[0]:
            continue
        kind = column.type
        blanks[column.name] = (
            ""
            if isinstance(kind, String)
            else False
            if isinstance(kind, Boolean)
            else 0
            if isinstance(kind, Int | Numeric)
            else None
        )
    for row in rows:
        for key in [k for k in row if k not in names]:
            del row[key]
        for key, value in row.items():
            if isinstance(value, datetime) and value > now:
                row[key] = now
        row.update(blanks)
    for start in range(0, len(rows), chunk):
        c.execute(table.insert(), rows[start : start + chunk])


def _stage(status: str, due: date, today: date) -> str:
    """The reminder stage the hourly job would have told by now (each is told once)."""
    if status == "OVERDUE":
        late = (today - due).days
        return "overdue_30" if late >= 30 else "overdue_7" if late >= 7 else "due"
    if status == "SENT" and (due - today).days <= 3:
        return "due" if due <= today else "due_soon"
    return ""


def _payment(rng, invoice_id: int, amount: Decimal, when: date, recorder: int) -> dict:
    method = rng.choice(METHODS)
    reference = {"check": f"Check #{rng.randint(1000, 9999)}", "ach": f"ACH {rng.randint(100000, 999999)}",
                 "card": f"Card ending {rng.randint(1000, 9999)}", "cash": ""}[method]  # fmt: skip
    return {
        "invoice_id": invoice_id,
        "amount": amount,
        "payment_date": when,
        "method": method,
        "reference": reference,
        "recorded_by_id": recorder,
        "created_at": datetime.combine(when, dtime(17, 0), UTC),
        "voided_at": None,
        "voided_by_id": None,
        "void_reason": "",
    }


def _change_orders(rng, c, t, projects, pm_of, client_users, admin_id, today, last, scale) -> tuple[int, int]:
    """30·N change orders (3,000 at scale 100) on active and closed projects, 2–4 cost lines
    each priced by core.money (cost = quantity × unit cost rounded, price = cost + markup
    rounded; amount = Σ prices), numbered CO-YYYY-NNNN in creation order."""
    pool = [p for p in projects if p.status in ("active", "closed")] or list(projects)
    n = CHANGE_ORDERS_PER_SCALE * scale
    co_ids = [r[0] for r in c.execute(text(f"SELECT nextval('change_orders_id_seq') FROM generate_series(1, {n})"))]
    created = sorted(today - timedelta(days=rng.randint(0, 500)) for _ in range(n))
    rows, lines = [], []
    statuses = ("approved",) * 10 + ("pending_client",) * 3 + ("draft",) * 3 + ("rejected",) * 2 + (
        "pending_internal_approval",) * 2  # fmt: skip
    for co_id, day in zip(co_ids, created, strict=True):
        project = rng.choice(pool)
        status = rng.choice(statuses)
        key = ("change_order", day.year)
        last[key] = last.get(key, 0) + 1
        at = datetime.combine(day, dtime(14, rng.randint(0, 59)), UTC)
        amount = ZERO
        for position in range(rng.randint(2, 4)):
            kind = rng.choice(("materials", "labor", "labor", "other"))
            quantity = Decimal(rng.randint(1, 40))
            unit_cost = _money(rng, Decimal("12.00"), Decimal("95.00"))
            markup = Decimal(rng.choice((10, 15, 20, 25)))
            cost = line_total(quantity, unit_cost)
            price = cost + percent_of(cost, markup)
            amount += price
            lines.append({"change_order_id": co_id, "position": position, "kind": kind,
                          "description": f"{rng.choice(WORK)[0].format(room=rng.choice(ROOMS))}",
                          "quantity": quantity, "unit_cost": unit_cost, "markup_pct": markup, "cost": cost,
                          "line_total": price})  # fmt: skip
        decided = status in ("approved", "rejected")
        signer = (client_users.get(project.client_id) or [None])[0]
        rows.append(
            {
                "id": co_id,
                "number": f"CO-{day.year}-{last[key]:04d}",
                "project_id": project.id,
                "title": rng.choice(CO_TITLES),
                "description": "Found during prep; agreed on site with the client.",
                "reason": "Hidden damage" if rng.random() < 0.5 else "Client request",
                "schedule_impact_days": rng.choice((0, 0, 1, 2, 3)),
                "status": status,
                "amount": amount,
                "created_by_id": pm_of.get(project.id, admin_id),
                "submitted_at": None if status == "draft" else at + timedelta(hours=1),
                "internal_approved_by_id": None,
                "decided_by_id": (signer.id if signer else admin_id) if decided else None,
                "decided_at": at + timedelta(days=2) if decided else None,
                # (migration 0031 as amended: when it was put to the client; a client's
                # decision needs it; an internal comment for the inside step)
                "put_to_client_at": at + timedelta(hours=1)
                if status in ("pending_client", "approved", "rejected")
                else None,
                "internal_comment": "",
                "signature_name": (signer.username if signer else "Client") if status == "approved" else "",
                "signature_ip": "203.0.113.7" if status == "approved" else "",
                "signature_user_agent": "Mozilla/5.0" if status == "approved" else "",
                "on_behalf_reason": "" if signer or not decided else "Signed on paper on site",
                "decision_comment": "Over budget this month" if status == "rejected" else "",
                "schedule_applied": status == "approved",
                "version": 1,
                "created_at": at,
                "updated_at": at + timedelta(days=2) if decided else at,
            }
        )
    _insert(c, t["change_orders"], rows, 5000)
    _insert(c, t["change_order_lines"], lines, 20000)
    return len(rows), len(lines)
