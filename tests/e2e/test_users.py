"""The user page in a real browser: the client company is asked for only while the
client role is chosen, and it shows its whole label."""

import pytest

pytestmark = pytest.mark.e2e


def test_client_company_appears_only_for_the_client_role(signed_in):
    page = signed_in("admin", live=False)
    page.goto("/admin/users?q=designer")
    page.click("#user-results a")  # the demo designer
    page.wait_for_selector("#f-role")
    company = page.locator(".role-form .client-only")
    assert company.is_hidden()
    page.select_option("#f-role", "client")
    assert company.is_visible()
    assert company.locator("label").inner_text() == "Client company"
    page.select_option("#f-role", "designer")
    assert company.is_hidden()
    # the new-user form behaves the same
    page.goto("/admin/users/new")
    assert page.locator(".client-only").is_hidden()
    page.select_option("#f-role", "client")
    assert page.locator(".client-only").is_visible()
