"""The console for a keyboard and a screen reader (GB/T 37668, WCAG 2.1 AA), in headless Chromium: a
screen is announced by its title and its heading takes focus, the current menu entry is marked, the
filters have names, a dialog is modal for the keyboard too (the page behind is inert, Escape cancels,
focus goes back to what opened it), an action's button keeps focus, field errors are tied to their
fields, the result count is a status, the charts say their figures."""

from __future__ import annotations

import pytest
from console_api import PASSWORD
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

SITE = "全国高校毕业生毕业去向登记与网上签约平台"

NAMELESS_CONTROLS = """
return [...document.querySelectorAll(arguments[0] + ' select, ' + arguments[0] + ' input:not([type=hidden])')]
  .filter((el) => !(el.getAttribute('aria-label') || (el.labels && el.labels.length)))
  .map((el) => el.name);
"""


def active(b):
    return b.driver.execute_script(
        "const a = document.activeElement; return a ? [a.tagName, a.textContent.trim().slice(0, 40), "
        "a.getAttribute('data-reset') || a.name || ''] : null")


@pytest.mark.timeout(300)
def test_the_console_for_a_keyboard_and_a_screen_reader(browser):
    b = browser
    b.login("staff", "demo-gd", PASSWORD)

    # --- a screen: its title, its heading focused, its menu entry current, its filters named -------
    b.open("#/registrations/archive")
    heading = b.css("#view h1").text
    assert b.driver.title == f"{heading} - {SITE}"
    assert active(b)[:2] == ["H1", heading], "the new screen's heading has the focus"
    current = b.all("nav.menu a[aria-current='page']")
    assert len(current) == 1 and current[0].text == heading
    assert b.driver.execute_script(NAMELESS_CONTROLS, "#list-filters") == []
    assert b.all("#view .pager [role='status']"), "the result count is announced"
    b.open("#/stats")
    assert b.driver.execute_script(NAMELESS_CONTROLS, "#stats-filters") == []
    labels = [c.get_attribute("aria-label") for c in b.all("#view svg.chart")]
    assert labels and all("：" in label or "%" in label for label in labels), labels  # figures, not only a title

    # --- a dialog: modal for the keyboard, Escape cancels, focus back on its opener ----------------
    b.open("#/accounts")
    opener = b.all("button[data-reset]")[0]
    username = opener.get_attribute("data-reset")
    opener.click()
    dialog = b.wait(lambda: b.css(".overlay .dialog"), "the password dialog")
    assert dialog.get_attribute("role") == "dialog" and dialog.get_attribute("aria-modal") == "true"
    assert dialog.get_attribute("aria-labelledby") and dialog.get_attribute("aria-describedby")
    assert active(b)[0] == "INPUT", "the dialog's field has the focus"
    assert b.driver.execute_script("return document.getElementById('app').inert") is True
    for _ in range(6):  # Tab goes round the dialog, never to the page behind it
        b.driver.switch_to.active_element.send_keys(Keys.TAB)
        assert b.driver.execute_script("return document.querySelector('.overlay').contains(document.activeElement)")
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: not b.all(".overlay"), "Escape closed the dialog")
    assert b.driver.execute_script("return document.getElementById('app').inert") is False
    assert active(b)[2] == username, "focus is back on the button that opened the dialog"

    # a refused send keeps the keyboard in the dialog, and Escape works from anywhere in it
    opener.click()
    dialog = b.wait(lambda: b.css(".overlay .dialog"), "the password dialog again")
    dialog.find_element("css selector", "input").send_keys("short")
    dialog.find_element("css selector", "button.primary").click()
    b.wait(lambda: b.css(".overlay .dialog-error").text, "the refusal shown in the dialog")
    assert b.driver.execute_script("return document.querySelector('.overlay').contains(document.activeElement)")
    b.driver.execute_script("document.activeElement.blur()")  # as a click on the dialog's text leaves it
    assert active(b)[0] == "BODY"
    ActionChains(b.driver).send_keys(Keys.ESCAPE).perform()
    b.wait(lambda: not b.all(".overlay"), "Escape closed the dialog with focus on the page")

    # --- a field error: marked, described, focused ------------------------------------------------
    b.fill("#create-school-account", {"username": "a11y-errors", "display_name": "无障碍测试",
                                      "password": "A11y-2026-pass", "school_code": "10558"})
    b.driver.execute_script("const s = document.querySelector(\"#create-school-account select[name='hukou']\");"
                            " s.add(new Option('错误的值', 'bogus')); s.value = 'bogus';")
    b.css("#create-school-account button[type=submit]").click()
    b.expect_error("提交的内容有误")
    marked = b.css("#create-school-account select[name='hukou']")
    assert marked.get_attribute("aria-invalid") == "true"
    described = b.driver.execute_script(
        "return document.getElementById(arguments[0].getAttribute('aria-describedby')).textContent", marked)
    assert described, "the reason is the field's description"
    assert active(b)[2] == "hukou", "the first field in error has the focus"
    b.fill("#create-school-account", {"hukou": "none"})
    assert marked.get_attribute("aria-invalid") is None and marked.get_attribute("aria-describedby") is None

    # --- an action keeps the keyboard where it was --------------------------------------------------
    b.open("#/registrations/archive")
    export = b.css("#export")
    b.driver.execute_script("arguments[0].focus()", export)
    export.send_keys(Keys.ENTER)
    b.expect_success("已下载")
    assert b.driver.execute_script("return document.activeElement.id") == "export"

    # the skip link leads to the screen's heading, also once the screen was drawn again
    b.driver.execute_script("const v = document.getElementById('view'); const f = v.cloneNode(true);"
                            " v.replaceWith(f);")  # as ui.redraw swaps in a new <main>
    b.driver.execute_script("document.querySelector('a.skip-link').focus()")  # the first Tab's stop
    b.driver.switch_to.active_element.send_keys(Keys.ENTER)
    assert active(b)[:2] == ["H1", heading]
    assert b.console_errors() == []
