"""The graduate's and the employer's paths on a phone (375×667, Chrome's device emulation): an
invitation's terms are read before it is accepted (above 接受邀请, and named again in the
confirmation), the page is never wider than the screen, inputs bring up the right keyboard and
are large enough to tap without iOS zooming in, the activation leads to a login with the 考生号
filled in, and 撤回邀请 asks before it ends the invitation."""

from __future__ import annotations

import time
from typing import Any

import pytest
from console_api import api_json, login_token, retry, roster_graduate

from quxiang.common.validators import make_credit_code, make_identity_number

pytestmark = pytest.mark.timeout(300)

EXAM = "2644019900081"
# a long unbroken work place: the kind of text that used to push the page wider than the phone
TERMS = {"position_category": "10", "job_title": "软件工程师", "work_region": "440106",
         "work_place": "广州市天河区" + "Tianhe-Software-Park-Building-A-Floor-12-Room-1203-East",
         "monthly_salary": 9000, "contract_months": 36, "probation_months": 3, "contact_person": "张经理",
         "contact_phone": "13800000000"}
EMPLOYER = {"name": "广州手机测试科技有限公司", "credit_code": make_credit_code("91440106MA59BRWT3"), "nature": "39",
            "industry": "34", "region": "440106", "address": "广州市天河区某路 10 号", "contact_name": "钱经理",
            "contact_phone": "020-87654322", "username": "phone-employer", "password": "Employer-2026-phone"}
GRADUATE_PASSWORD = "Graduate-2026-phone"


def invited_graduate(base: str) -> str:
    """A 中山大学 graduate on the roster, not yet activated, invited by a new employer: its activation code."""
    activation = roster_graduate(base, EXAM, "S81", "手机同学", make_identity_number("44010620030307081"))
    api_json(base, "POST", "/accounts/employers", body=EMPLOYER)
    employer = login_token(base, EMPLOYER["username"], EMPLOYER["password"])
    retry(lambda: api_json(base, "POST", "/signing/invitations", employer,
                           {"exam_number": EXAM, "name": "手机同学", "response_days": 7, "terms": TERMS}),
          "signing knows the graduate and the employer")
    return activation


def phone(b: Any) -> None:
    b.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                             {"width": 375, "height": 667, "deviceScaleFactor": 2, "mobile": True})
    b.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})


def no_sideways_scroll(b: Any, where: str) -> None:
    widths = b.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where}: the page is wider than the phone {widths}"


def test_graduate_and_employer_on_a_phone(browser, artifacts):
    b = browser
    activation = invited_graduate(b.base)
    phone(b)

    # --- the graduate login and the activation: the right keyboards, one 考生号 to type -----------
    b.open("#/login/graduate")
    username = b.css("#login-form [name='username']")
    assert username.get_attribute("inputmode") == "numeric" and username.get_attribute("pattern") == "[0-9]*"
    assert username.value_of_css_property("font-size") == "16px", "iOS zooms into an input under 16 px"
    assert b.css("#login-submit").size["height"] >= 44
    b.open("#/login/staff")
    assert b.css("#login-form [name='username']").get_attribute("inputmode") is None, "staff usernames are not digits"
    b.open("#/activate")
    assert b.css("#activate-form [name='exam_number']").get_attribute("inputmode") == "numeric"
    code = b.css("#activate-form [name='activation_code']")
    assert code.get_attribute("autocapitalize") == "characters" and code.get_attribute("spellcheck") == "false"
    assert "至少 8 位" in b.css("#activate-form").text, "the password rules are shown before they are broken"
    b.fill("#activate-form", {"exam_number": EXAM, "activation_code": activation, "password": GRADUATE_PASSWORD})
    b.css("#activate-form button[type=submit]").click()
    b.wait(lambda: b.driver.current_url.endswith("#/login/graduate"), "on to the graduate login")
    b.ready("#/login/graduate")
    assert "已激活" in b.flash_text()
    assert b.css("#login-form [name='username']").get_attribute("value") == EXAM, "the 考生号 filled in"
    b.css("#login-form [name='password']").send_keys(GRADUATE_PASSWORD)
    b.css("#login-submit").click()
    b.wait(lambda: b.all("#who"), "the graduate logged in")
    b.ready()

    # --- the invitation: its terms first, named again when accepting ------------------------------
    b.open("#/me/agreements")
    no_sideways_scroll(b, "the graduate's agreements")
    card = b.css("article.agreement[data-status='invited']")
    assert "9000" in card.text and "广州市天河区" in card.text, "the terms are shown, not folded away"
    accept = b.button("接受邀请")
    terms_above = b.driver.execute_script("""
        const card = arguments[0], accept = arguments[1];
        const terms = [...card.querySelectorAll('section h2')].find((h) => h.textContent === '岗位与条款');
        return Boolean(terms) && terms.offsetParent !== null
          && Boolean(terms.compareDocumentPosition(accept) & Node.DOCUMENT_POSITION_FOLLOWING)
          && terms.getBoundingClientRect().top < accept.getBoundingClientRect().top;""", card, accept)
    assert terms_above, "岗位与条款 is visible above 接受邀请"
    assert accept.size["height"] >= 44, "a tap target of 44 px"
    b.driver.save_screenshot(str(artifacts / "phone-invitation.png"))  # the first screen of it, as a phone shows it
    # the active menu entry is within the menu strip, however far along it is
    inside = b.driver.execute_script("""
        const nav = document.querySelector('nav.menu'), active = nav.querySelector('.active');
        const n = nav.getBoundingClientRect(), a = active.getBoundingClientRect();
        return a.left >= n.left - 1 && a.right <= n.right + 1;""")
    assert inside, "the active menu entry is scrolled into view"
    accept.click()
    dialog = b.wait(lambda: b.css(".overlay .dialog"), "the accept dialog")
    text = dialog.text
    for term in ("月薪：9000 元", "合同期限：36 个月", "试用期：3 个月", "应约截止"):
        assert term in text, text
    assert "工作地点" in text, text
    no_sideways_scroll(b, "the accept dialog")
    b.driver.save_screenshot(str(artifacts / "phone-accept-dialog.png"))
    b.cancel_dialog()
    assert b.css("article.agreement").get_attribute("data-status") == "invited", "cancelling sends nothing"
    b.open("#/me/archive")
    b.wait(lambda: b.all("#archive-form") or b.all(".status-line"), "the archive registration")
    postcodes = b.all("#archive-form [name='postcode']")
    if postcodes:
        assert postcodes[0].get_attribute("inputmode") == "numeric" and postcodes[0].get_attribute("maxlength") == "6"
        assert b.css("#archive-form [name='phone']").get_attribute("type") == "tel"
    no_sideways_scroll(b, "the archive registration")

    # --- the employer: 撤回邀请 asks first ------------------------------------------------------------
    b.login("employer", EMPLOYER["username"], EMPLOYER["password"])
    b.open("#/employer/invite")
    assert b.css("#invite-form [name='exam_number']").get_attribute("inputmode") == "numeric"
    assert b.css("#invite-form [name='terms.contact_phone']").get_attribute("type") == "tel"
    assert b.css("#invite-form [name='terms.work_region']").get_attribute("inputmode") == "numeric"
    no_sideways_scroll(b, "the employer's invitation form")
    b.open("#/employer/agreements")
    no_sideways_scroll(b, "the employer's agreements")
    b.css("button[data-open]").click()
    withdraw = b.button("撤回邀请")
    withdraw.click()
    assert "撤回" in b.wait(lambda: b.css(".overlay .dialog"), "the withdraw dialog").text
    b.cancel_dialog()
    time.sleep(0.5)
    assert "已撤回" not in b.flash_text()
    assert b.css("article.agreement").get_attribute("data-status") == "invited", "cancelling withdrew nothing"
    b.click("撤回邀请")
    b.confirm_dialog()
    b.expect_success("已撤回签约邀请")
    no_sideways_scroll(b, "the employer's agreements after withdrawing")
    assert b.console_errors() == []
