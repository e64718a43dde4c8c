"""Sensitive fields are encrypted at rest with FIELD_ENCRYPTION_KEY, and keys rotate."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import text

from app.core import crypto
from tests.factories import make_client


def test_tax_id_is_not_stored_in_clear(app, db):
    company = make_client(tax_id="12-3456789")
    raw = db.session.execute(text("SELECT tax_id FROM clients WHERE id = :i"), {"i": company.id}).scalar()
    assert "3456789" not in raw
    db.session.expire_all()
    assert db.session.get(type(company), company.id).tax_id == "12-3456789"


def test_key_rotation_keeps_old_values_readable(app, db):
    old_key = app.config["FIELD_ENCRYPTION_KEY"]
    company = make_client(tax_id="98-7654321")
    new_key = Fernet.generate_key().decode()
    app.config["FIELD_ENCRYPTION_KEY"] = f"{new_key},{old_key}"
    try:
        result = app.test_cli_runner().invoke(args=["rotate-encryption-key"])
        assert result.exit_code == 0, result.output
        raw = db.session.execute(text("SELECT tax_id FROM clients WHERE id = :i"), {"i": company.id}).scalar()
        assert Fernet(new_key.encode()).decrypt(raw.encode()).decode() == "98-7654321"
        app.config["FIELD_ENCRYPTION_KEY"] = new_key  # the old key can now be dropped
        db.session.expire_all()
        assert db.session.get(type(company), company.id).tax_id == "98-7654321"
    finally:
        app.config["FIELD_ENCRYPTION_KEY"] = old_key
    assert crypto.decrypt(crypto.encrypt("x")) == "x"
