"""Notice templates: Jinja in a sandbox, checked when saved, versioned, and rendered to plain text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import func, select

from preservation.domain.errors import FieldError
from preservation.models import Custodian, DataSource, Matter, NoticeTemplate, Obligation, PreservationOrder
from preservation.services import audit
from preservation.services.unit import Unit

DEFAULT_NAMES = {"hold": "hold-notice", "steward": "steward-notice", "release": "release-notice"}

# The wording used until counsel saves their own; saved as version 1 on first use, so it is kept too.
DEFAULT_WORDING: dict[str, tuple[str, str]] = {
    "hold": (
        "Legal hold: {{ matter.caption }}",
        "Dear {{ custodian.name }},\n\n"
        "You hold information relevant to {{ matter.caption }}"
        "{% if matter.docket_number %} ({{ matter.docket_number }}){% endif %}. "
        'Under "{{ order.title }}" you must preserve it: do not delete, alter or discard it, '
        "and suspend any automatic deletion.\n"
        "{% if order.scope %}\nScope: {{ order.scope }}\n{% endif %}"
        "{% if obligations %}\nWhat must be preserved:\n"
        "{% for obligation in obligations %}  - {{ obligation.description }}"
        "{% if obligation.preserve_from %} (from {{ obligation.preserve_from }}){% endif %}\n{% endfor %}{% endif %}"
        "{% if due_date %}\nPlease acknowledge by {{ due_date }}.\n{% endif %}"
        "\nThis hold lasts until you are told in writing that it is released.\n",
    ),
    "steward": (
        "Suspend auto-deletion: {{ source.name }} ({{ matter.caption }})",
        "Dear {{ custodian.name }},\n\n"
        "You run {{ source.name }} ({{ source.location }}). Because of {{ matter.caption }} "
        '("{{ order.title }}"), stop every automatic deletion, rotation or overwrite on this system now'
        "{% if source.natural_retention_days %}: it keeps data for {{ source.natural_retention_days }} days"
        " on its own{% endif %}.\n"
        "{% if due_date %}\nConfirm by {{ due_date }}.\n{% endif %}"
        "\nConfirm once auto-deletion is suspended.\n",
    ),
    "release": (
        "Legal hold released: {{ matter.caption }}",
        "Dear {{ custodian.name }},\n\n"
        'The hold "{{ order.title }}" in {{ matter.caption }} no longer applies to you.\n'
        "{% if remaining %}\nYou are still under these holds; keep preserving for them:\n"
        "{% for hold in remaining %}  - {{ hold.matter }}: {{ hold.order }}\n{% endfor %}"
        "{% else %}\nYou may resume normal handling of this information.\n{% endif %}",
    ),
}


def _environment() -> ImmutableSandboxedEnvironment:
    # Plain text, strict about unknown variables, and with no globals: a template sees only what it is given.
    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    environment.globals.clear()
    return environment


SANDBOX = _environment()


# A template expression can raise more than Jinja's own errors: `{{ 1 / 0 }}`, `{{ order.title + 1 }}`.
RENDER_ERRORS = (TemplateError, ArithmeticError, LookupError, TypeError, ValueError)


def sample_context(kind: str) -> dict[str, Any]:
    """The variables a template of this kind is rendered with, from example records, for the check at save time.

    It is built by `notice_context` itself, so it has exactly the names a notice of the kind gets when issued.
    """
    matter = Matter(caption="Doe v. Example", docket_number="1:26-cv-0001", court="S.D. Cal.")
    example = dt.date(2026, 12, 1)
    order = PreservationOrder(
        matter=matter,
        title="Preservation order",
        kind="court_order",
        scope="video",
        docket_entry="12",
        effective_on=example,
        compliance_due_on=example,
    )
    order.obligations = [
        Obligation(
            description="Camera footage",
            status="open",
            due_on=example,
            preserve_from=dt.date(2026, 9, 1),
            preserve_until=dt.date(2026, 10, 1),
        )
    ]
    custodian = Custodian(name="Ana Example", email="ana@example.org", title="Clerk", department="IT")
    source = DataSource(name="Camera archive", location="s3://archive/", kind="s3", natural_retention_days=30)
    other = PreservationOrder(matter=Matter(caption="Roe v. Example"), title="Hold")
    return notice_context(
        kind,
        order,
        custodian,
        source=source if kind == "steward" else None,
        remaining=[other] if kind == "release" else (),
    )


def render(subject: str, body: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render a template's subject and body; a subject stays on one line."""
    rendered_subject = SANDBOX.from_string(subject).render(context)
    return " ".join(rendered_subject.split())[:500], SANDBOX.from_string(body).render(context)


def _reason(error: Exception) -> str:
    message = error.message if isinstance(error, TemplateError) else str(error)
    return f"{type(error).__name__}: {message}"


def check_template(kind: str, subject: str, body: str) -> None:
    """Refuse a template that does not parse, names an unknown variable, or reaches for Python internals."""
    for field, text in (("subject", subject), ("body", body)):
        try:
            SANDBOX.parse(text)
        except TemplateError as error:
            line = getattr(error, "lineno", None)
            where = f" on line {line}" if line else ""
            raise FieldError(field, f"template syntax error{where}: {error.message}") from error
    try:
        render(subject, body, sample_context(kind))
    except RENDER_ERRORS as error:
        # SecurityError (an unsafe attribute) and UndefinedError (a variable this kind does not get) among them.
        raise FieldError("body", f"template cannot be rendered: {_reason(error)}") from error


def render_notice(template: NoticeTemplate, context: dict[str, Any], custodian: Custodian) -> tuple[str, str]:
    """Render a saved template for one notice; a template that fails on these records is refused with 422.

    The check at save time renders example records; real ones can still fail it (no obligations for
    `obligations[0]`, an empty scope in arithmetic), or a template may predate the check.
    """
    try:
        return render(template.subject, template.body, context)
    except RENDER_ERRORS as error:
        raise FieldError(
            "template_id",
            f"template {template.name!r} version {template.version} cannot be rendered for custodian "
            f"{custodian.id}: {_reason(error)}; nothing was sent. Save a corrected version and issue again.",
        ) from error


def save_template(unit: Unit, name: str, kind: str, subject: str, body: str) -> NoticeTemplate:
    """Save the next version of a named template; earlier versions stay as they were."""
    if kind not in DEFAULT_WORDING:
        raise FieldError("kind", f"kind is one of {', '.join(DEFAULT_WORDING)}")
    if not name.strip():
        raise FieldError("name", "name the template")
    check_template(kind, subject, body)
    latest = unit.session.scalar(select(func.max(NoticeTemplate.version)).where(NoticeTemplate.name == name))
    if latest is not None:
        previous = unit.session.scalar(
            select(NoticeTemplate).where(NoticeTemplate.name == name, NoticeTemplate.version == latest)
        )
        if previous is not None and previous.kind != kind:
            raise FieldError("kind", f"template {name!r} is a {previous.kind} template")
    template = NoticeTemplate(
        name=name,
        version=(latest or 0) + 1,
        kind=kind,
        subject=subject,
        body=body,
        created_at=unit.clock(),
        created_by=unit.actor,
    )
    unit.session.add(template)
    unit.session.flush()
    audit.record(
        unit,
        "notice_template.saved",
        "notice_template",
        template.id,
        matter_id=None,
        details={"name": name, "version": template.version, "kind": kind, "subject": subject, "body": body},
    )
    return template


def latest_template(unit: Unit, kind: str, template_id: int | None = None) -> NoticeTemplate:
    """The template to issue with: the one named by id, else the newest default of the kind (saved if none)."""
    if template_id is not None:
        template: NoticeTemplate = unit.get(NoticeTemplate, template_id)
        if template.kind != kind:
            raise FieldError("template_id", f"template {template_id} is a {template.kind} template, not {kind}")
        return template
    name = DEFAULT_NAMES[kind]
    found = unit.session.scalar(
        select(NoticeTemplate).where(NoticeTemplate.name == name).order_by(NoticeTemplate.version.desc()).limit(1)
    )
    if found is not None:
        return found
    subject, body = DEFAULT_WORDING[kind]
    return save_template(unit, name, kind, subject, body)


def list_templates(unit: Unit) -> list[NoticeTemplate]:
    """Every version of every template, by name then version."""
    return list(unit.session.scalars(select(NoticeTemplate).order_by(NoticeTemplate.name, NoticeTemplate.version)))


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def notice_context(
    kind: str,
    order: PreservationOrder,
    custodian: Custodian,
    *,
    source: DataSource | None = None,
    remaining: Sequence[PreservationOrder] = (),
) -> dict[str, Any]:
    """The variables of a notice of this kind: plain values only, so a template can reach nothing else.

    Every kind gets matter, order, obligations, custodian and due_date; a steward notice also gets
    `source`, a release notice `remaining` (the other orders that still bind the custodian).
    """
    if kind not in DEFAULT_WORDING:
        raise ValueError(f"unknown notice kind {kind!r}")
    if (source is not None) != (kind == "steward"):
        raise ValueError("a steward notice, and only a steward notice, names its data source")
    matter = order.matter
    open_obligations = [o for o in order.obligations if o.status != "released"]
    due_dates = [o.due_on for o in open_obligations if o.due_on is not None]
    due = order.compliance_due_on or (min(due_dates) if due_dates else None)
    context: dict[str, Any] = {
        "matter": {"caption": matter.caption, "docket_number": matter.docket_number, "court": matter.court},
        "order": {
            "title": order.title,
            "kind": order.kind,
            "scope": order.scope,
            "docket_entry": order.docket_entry,
            "effective_on": _date(order.effective_on),
        },
        "obligations": [
            {
                "description": o.description,
                "due_on": _date(o.due_on),
                "preserve_from": _date(o.preserve_from),
                "preserve_until": _date(o.preserve_until),
            }
            for o in open_obligations
        ],
        "custodian": {
            "name": custodian.name,
            "email": custodian.email,
            "title": custodian.title,
            "department": custodian.department,
        },
        "due_date": _date(due),
    }
    if source is not None:
        context["source"] = {
            "name": source.name,
            "location": source.location,
            "kind": source.kind,
            "natural_retention_days": source.natural_retention_days,
        }
    if kind == "release":
        context["remaining"] = [{"matter": other.matter.caption, "order": other.title} for other in remaining]
    return context
