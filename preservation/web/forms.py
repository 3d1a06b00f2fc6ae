"""The forms of the sign-in and account pages; Flask-WTF adds and checks a CSRF token on each."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, InputRequired, Length, NumberRange

from preservation.domain.passwords import MAX_LENGTH as MAX_PASSWORD
from preservation.domain.vocabulary import USER_ROLES

# Longer than any password may be, so the message for a long one is the usual "not right", yet short enough
# that nobody can make the server hash a megabyte.
_MAX_TYPED_PASSWORD = 1024


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=_MAX_TYPED_PASSWORD)])


class SecondFactorForm(FlaskForm):
    """A code from the authenticator app, or one of the recovery codes."""

    code = StringField("Code", validators=[DataRequired(), Length(max=40)])


class PasswordChangeForm(FlaskForm):
    """The current password, and the new one twice."""

    current_password = PasswordField("Current password", validators=[Length(max=_MAX_TYPED_PASSWORD)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    confirm_password = PasswordField(
        "New password again", validators=[DataRequired(), EqualTo("new_password", message="the two do not match")]
    )


class TokenForm(FlaskForm):
    """A new API token: what it is for, and how long it lasts."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    expires_in_days = IntegerField("Expires in (days)", default=90, validators=[InputRequired(), NumberRange(1, 365)])


class RoleForm(FlaskForm):
    """A user's new role."""

    # A plain field checked against the roles: the page draws its own <select> of USER_ROLES.
    role = StringField("Role", validators=[AnyOf(USER_ROLES)])


class ActionForm(FlaskForm):
    """A button that changes something: it carries only the CSRF token."""
