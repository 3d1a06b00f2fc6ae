"""The outbox page: the emails the console transport wrote to its file, for a demo or a development instance.

There is an outbox to read only while PRESERVATION_MAIL_TRANSPORT is console; with SMTP or SES the mail has
left, and the page answers 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template
from flask.typing import ResponseReturnValue

from preservation.adapters.outbox_file import outbox_file, read_outbox
from preservation.web import access
from preservation.web.html import error_page
from preservation.web.page_format import PER_PAGE, page_number

bp = Blueprint("outbox_pages", __name__)
# Admin and counsel only. The bodies carry custodians' personal notice links, each of which acknowledges a hold
# or asks counsel a question in the custodian's name: reading them is acting for someone else, which a viewer
# (who reads the record, never changes it) and an auditor (who checks the audit trail) may not do.
OUTBOX_ROLES = ("admin", "counsel")


def outbox_available() -> bool:
    """Whether this instance's email goes to the console transport's file."""
    return bool(current_app.extensions["preservation"].settings.scheduling.mail_transport == "console")


@bp.get("/outbox")
@access.roles(*OUTBOX_ROLES)
def outbox() -> ResponseReturnValue:
    """The messages the console transport wrote, newest first, paginated, read-only."""
    settings = current_app.extensions["preservation"].settings
    if not outbox_available():
        return error_page(
            404, f"There is no outbox here: email leaves by {settings.scheduling.mail_transport}, not into a file."
        )
    path = outbox_file(settings.instance_path)
    return render_template("outbox/list.html", page=read_outbox(path, page_number(), PER_PAGE), path=path)


@bp.app_context_processor
def _outbox_link() -> dict[str, Any]:
    """Lets the masthead link the outbox for the roles that may read it, while there is one."""
    user = g.get("user")
    return {"outbox_link": bool(user is not None and user.role in OUTBOX_ROLES and outbox_available())}
