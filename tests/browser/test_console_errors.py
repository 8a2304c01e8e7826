"""How the console behaves when things go wrong, in headless Chromium: two tabs of one login share
their tokens and survive a refresh (and a logout in one ends the other), a network failure is said
in Chinese and a screen that could not load offers 重新加载, field errors are marked in the form that
was sent (and go when the field is corrected), and a review button that meets a 409 shows the record
as it is now. Also the messages the services and the gateway give that the console shows as they are
(the 413 of the gateway, an unreadable roster CSV)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from console_api import PASSWORD, api_json, login_token, retry, roster_graduate

from quxiang.common.validators import make_credit_code, make_identity_number

REPO = Path(__file__).resolve().parents[2]
HEADER = "考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"
EXAM = "2644019900071"
TERMS = {"position_category": "10", "job_title": "软件工程师", "work_region": "440106", "work_place": "广州市天河区",
         "monthly_salary": 9000, "contract_months": 36, "probation_months": 3, "contact_person": "张经理",
         "contact_phone": "13800000000"}
UNIT = {"name": "广州错误测试科技有限公司", "credit_code": make_credit_code("91440106MA59BRWT2"), "nature": "39",
        "industry": "34", "region": "440106"}


def agreement_in_department_review(base: str) -> str:
    """A 补登 agreement of a new 中山大学 graduate of 计算机学院, waiting for the department."""
    activation = roster_graduate(base, EXAM, "S71", "错同学", make_identity_number("44010620030307001"))
    api_json(base, "POST", "/accounts/graduates/activate",
             body={"exam_number": EXAM, "activation_code": activation, "password": "Graduate-2026-pass"})
    graduate = login_token(base, EXAM, "Graduate-2026-pass")
    agreement = retry(lambda: api_json(base, "POST", "/signing/agreements/supplementary", graduate, {
        "unit": UNIT, "terms": TERMS, "signed_on": "2026-05-20"}), "signing knows the graduate")["id"]
    api_json(base, "POST", f"/signing/agreements/{agreement}/scan", graduate,
             files={"file": ("协议扫描件.pdf", b"%PDF-1.4\n% the signed paper\n%%EOF")})
    return agreement


def offline(b: Any, on: bool) -> None:
    b.driver.execute_cdp_cmd("Network.enable", {})
    b.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


@pytest.mark.timeout(300)
def test_the_console_when_things_go_wrong(browser, tmp_path):
    b = browser
    b.login("staff", "demo-gd", PASSWORD)
    first = b.driver.current_window_handle

    # --- two tabs of one login: a refresh in one is the other's too ------------------------------
    b.driver.switch_to.new_window("tab")
    second = b.driver.current_window_handle
    b.driver.get(f"{b.base}/#/home")
    b.ready("#/home")
    assert b.all("#who"), "the second tab shares the login (localStorage)"
    b.driver.switch_to.window(first)
    # Both tabs' requests meet an expired access token while the refresh lock is held, so both want
    # to refresh at once: the one that gets the lock second must find the new tokens and not present
    # the rotated refresh token again (the server would end every session: refresh_token_reused),
    # even though its copy of localStorage learns of the other tab's refresh only a moment later.
    b.driver.execute_script("""
        navigator.locks.request('qx-refresh', () => new Promise((release) => { window.qxRelease = release; }));
        const s = JSON.parse(localStorage.getItem('qx.session'));
        s.access_token = 'expired'; localStorage.setItem('qx.session', JSON.stringify(s));""")
    b.wait(lambda: b.driver.execute_script("return typeof window.qxRelease === 'function'"), "the test holds the lock")
    call = ("window.qxResult = null; import('/js/api.js').then((m) => m.get('/accounts/me'))"
            ".then((me) => { window.qxResult = me.username; },"
            " (e) => { window.qxResult = 'error ' + (e.code || e); });")
    b.driver.execute_script(call)
    b.driver.switch_to.window(second)
    # the other tab's write reaches this tab's localStorage a moment later: its call must meet it too
    b.wait(lambda: b.driver.execute_script("return JSON.parse(localStorage.getItem('qx.session')).access_token")
           == "expired", "the second tab sees the expired access token")
    b.driver.execute_script(call)
    b.wait(lambda: b.driver.execute_script(
        "return navigator.locks.query().then((s) => s.pending.filter((l) => l.name === 'qx-refresh').length)") == 2,
        "both tabs have had their 401 and wait for the refresh lock")
    b.driver.switch_to.window(first)
    b.driver.execute_script("window.qxRelease()")
    for handle in (first, second):
        b.driver.switch_to.window(handle)
        assert b.wait(lambda: b.driver.execute_script("return window.qxResult"), "the call answered") == "demo-gd"
    assert b.token() != "expired"
    # the session lives on: another refresh works and a screen loads in each tab
    b.driver.execute_script("const s = JSON.parse(localStorage.getItem('qx.session'));"
                            " s.access_token = 'expired'; localStorage.setItem('qx.session', JSON.stringify(s));")
    b.open("#/accounts")
    assert b.all("table.data") and b.token() != "expired"
    b.driver.switch_to.window(first)
    b.open("#/home")
    assert "毕业去向登记与网签" in b.css("table.data").text

    # a logout in one tab ends the other's too
    b.css("#logout").click()
    b.wait(lambda: b.driver.current_url.endswith("#/login/staff"), "the first tab at the staff login")
    b.driver.switch_to.window(second)
    b.wait(lambda: b.driver.current_url.endswith("#/login/staff"), "the second tab at the staff login too")
    assert "其他窗口退出登录" in b.flash_text()
    b.driver.close()
    b.driver.switch_to.window(first)

    # --- an expired login: to the login tab of the role, and back where the user was --------------
    b.login("staff", "demo-gd", PASSWORD)
    b.open("#/accounts")
    b.driver.execute_script("const s = JSON.parse(localStorage.getItem('qx.session'));"
                            " s.access_token = 'expired'; s.refresh_token = 'gone';"
                            " localStorage.setItem('qx.session', JSON.stringify(s));")
    b.driver.execute_script("document.getElementById('view').removeAttribute('data-ready')")
    b.css("#school-accounts-search button[type=submit]").click()
    b.wait(lambda: b.driver.current_url.endswith("#/login/staff"), "the staff login")
    b.ready("#/login/staff")
    assert "登录已超时，请重新登录" in b.flash_text()
    b.fill("#login-form", {"username": "demo-gd", "password": PASSWORD})
    b.css("#login-submit").click()
    b.ready("#/accounts")

    # --- field errors: marked in the form that was sent, gone when corrected ---------------------
    # (each listed account's permission editor has selects of the same names as the new account's)
    assert b.all("form.inline-permissions select[name='hukou']")
    b.fill("#create-school-account", {"username": "scoped-errors", "display_name": "作用域测试",
                                      "password": "Scoped-2026-pass", "school_code": "10558"})
    b.driver.execute_script("const s = document.querySelector(\"#create-school-account select[name='hukou']\");"
                            " s.add(new Option('错误的值', 'bogus')); s.value = 'bogus';")
    b.css("#create-school-account button[type=submit]").click()
    error = b.wait(lambda: b.all("#flash .notice-error") and b.all("#flash .notice-error")[0].text, "the error")
    assert error.startswith("提交的内容有误，请按标出的提示修改"), error
    assert "户口信息" in error and "permissions" not in error, error
    assert b.all("#create-school-account select[name='hukou'].invalid"), "the sent form's field is marked"
    assert not b.all("form.inline-permissions .invalid"), "no other form's field of that name"
    b.fill("#create-school-account", {"hukou": "none"})
    assert not b.all("#create-school-account .invalid") and not b.all("#create-school-account .field-error")

    # --- the network fails: said in Chinese, the form keeps what was typed, 重新加载 ----------------
    b.open("#/settings")  # loaded once: its module is in the page, offline only the API fails
    b.open("#/accounts")
    b.fill("#school-accounts-search", {"q": "网络测试"})
    offline(b, True)
    try:
        b.css("#school-accounts-search button[type=submit]").click()
        text = b.expect_error("网络连接失败")
        assert "Failed to fetch" not in text and "出错了" not in text, text
        assert b.css("#school-accounts-search [name='q']").get_attribute("value") == "网络测试"
        b.open("#/settings")
        assert "网络连接失败" in b.flash_text()
        assert b.all("#reload-screen"), "a screen that could not load offers 重新加载"
    finally:
        offline(b, False)
    b.driver.execute_script("document.getElementById('view').removeAttribute('data-ready')")
    b.css("#reload-screen").click()
    b.ready("#/settings")
    assert b.all("table.modules") and not b.all("#reload-screen")

    # --- a review button meets a 409: the record as it is now ------------------------------------
    agreement = agreement_in_department_review(b.base)
    b.login("staff", "demo-zsu-cs", PASSWORD)
    b.open(f"#/agreements/{agreement}")
    b.button("审核通过")
    # another reviewer of the department approves it meanwhile
    api_json(b.base, "POST", f"/signing/agreements/{agreement}/reviews", login_token(b.base, "demo-zsu-cs"),
             {"decision": "approve"})
    b.click("审核通过")
    text = b.expect_error("已由他人处理")
    assert "页面已显示最新状态" in text, text
    b.wait(lambda: "待学校审核" in b.css(".status-line").text, "the record reloaded as it is now")
    assert not b.all("button[data-decision]"), "no review buttons for a record that is not the department's"
    assert b.console_errors() == []


def test_the_gateway_says_the_upload_limits_in_chinese():
    template = (REPO / "deploy" / "nginx" / "gateway.conf.template").read_text(encoding="utf-8")
    body = re.search(r"location @qx_413 \{.*?return 413 '([^']*)';", template, re.S).group(1)
    problem = json.loads(body.replace("$qx_request_id", "req-1"))
    assert problem["code"] == "payload_too_large"
    assert problem["detail"] == "上传的文件过大：单个文件不超过 10 MB（生源文件不超过 50 MB）"


def test_an_unreadable_roster_csv_is_explained_in_chinese(tmp_path):
    from quxiang.records.adapters import roster_files

    path = tmp_path / "roster.csv"
    path.write_text(HEADER + "2644019900001,\"" + "长" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(roster_files.UnreadableFile) as caught:
        with roster_files.open_cells(path, roster_files.CSV) as (_header, rows):
            list(rows)
    message = str(caught.value)
    wanted = r"CSV 第\d+行格式有误（单元格内容过长或引号未闭合），请用 Excel 另存为 CSV（UTF-8）或 XLSX 后重新导入"
    assert re.fullmatch(wanted, message), message
    assert "field larger" not in message
