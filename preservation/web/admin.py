"""The admin's page of users: change a role, disable or enable an account."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from preservation.domain.errors import DomainError
from preservation.domain.vocabulary import USER_ROLES
from preservation.models import User
from preservation.services import accounts
from preservation.services.unit import Unit
from preservation.web import access
from preservation.web.forms import ActionForm, RoleForm
from preservation.web.session import unit_of_work

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@access.roles("admin")
def users() -> ResponseReturnValue:
    """Every user, their role, whether they can sign in, and whether they set up an authenticator."""
    return render_template(
        "admin/users.html",
        users=accounts.list_users(unit_of_work()),
        action_form=ActionForm(formdata=None),
        role_form=RoleForm(formdata=None),
        roles=USER_ROLES,
    )


def _change(user_id: int, change: str) -> ResponseReturnValue:
    unit = unit_of_work()
    try:
        message = _apply(unit, unit.get(User, user_id), change)
    except DomainError as error:
        unit.session.rollback()
        flash(error.message, "error")
    else:
        unit.session.commit()
        flash(message, "notice")
    return redirect(url_for("admin.users"), 303)


def _apply(unit: Unit, user: User, change: str) -> str:
    if change == "disable":
        accounts.disable_user(unit, user)
        return f"{user.email} is disabled; their sessions and tokens have ended."
    if change == "enable":
        accounts.enable_user(unit, user)
        return f"{user.email} may sign in again."
    form = RoleForm()
    if not form.validate() or form.role.data is None:
        raise DomainError("choose one of the roles")
    accounts.set_role(unit, user, form.role.data)
    return f"{user.email} is now {user.role}; their sessions and tokens have ended."


@bp.post("/users/<int:user_id>/role")
@access.roles("admin")
def set_role(user_id: int) -> ResponseReturnValue:
    """Give a user another role."""
    return _change(user_id, "role")


@bp.post("/users/<int:user_id>/disable")
@access.roles("admin")
def disable(user_id: int) -> ResponseReturnValue:
    """Disable a user."""
    return _change(user_id, "disable")


@bp.post("/users/<int:user_id>/enable")
@access.roles("admin")
def enable(user_id: int) -> ResponseReturnValue:
    """Enable a disabled user."""
    return _change(user_id, "enable")
