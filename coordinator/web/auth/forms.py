"""The sign-in forms: username and password, and a 6-digit code from an authenticator app."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from wtforms import Field, PasswordField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from mash_common.auth.totp import DIGITS, normalise_code


class SignInForm(FlaskForm):
    username = StringField(
        "Username",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your username"), Length(max=80)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password"), Length(max=1024)],
    )


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        widget=GovTextInput(),
        description=f"The {DIGITS}-digit code your authenticator app shows now",
        validators=[InputRequired(f"Enter the {DIGITS}-digit code from your authenticator app")],
    )

    def validate_code(self, field: Field) -> None:
        code = normalise_code(field.data or "")
        if len(code) != DIGITS or not code.isascii() or not code.isdigit():
            raise ValidationError(f"Enter the code as {DIGITS} digits, like 123456")
