"""The user page in a real browser: the client company is asked for only while the
client role is chosen, and it shows its whole label."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_client_company_appears_only_for_the_client_role(signed_in):
    page = signed_in("admin", live=False)
    page.goto("/admin/users?q=designer")
    page.click("#user-results a")  # the demo designer
    # (the list's role filter is #f-role too: wait for the user page's own form)
    page.wait_for_selector(".role-form #f-role")
    company = page.locator(".role-form .client-only")
    expect(company).to_be_hidden()
    page.select_option(".role-form #f-role", "client")
    expect(company).to_be_visible()
    assert company.locator("label").inner_text() == "Client company"
    page.select_option(".role-form #f-role", "designer")
    expect(company).to_be_hidden()
    # the new-user form behaves the same
    page.goto("/admin/users/new")
    page.wait_for_selector("form.form #f-role")
    expect(page.locator(".client-only")).to_be_hidden()
    page.select_option("#f-role", "client")
    expect(page.locator(".client-only")).to_be_visible()
