"""The whole story through the web console in headless Chromium, as its users click through it:
the province switches 户口信息登记 on and sets an agreement type, the school completes its settings
and imports its roster (a bad file first: every row error is shown), an employer invites, the
graduate activates, confirms and accepts, department and school approve, the province sees the
statistics change and the record in the signing list; a read-only school account sees the list
but no approve button, and its direct API call to approve is refused (403). Screenshots of each
main screen are saved under var/artifacts/browser/."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from console_api import PASSWORD, api_json, retry

from quxiang.common.times import latest_deadline
from quxiang.common.validators import make_credit_code, make_identity_number

pytestmark = pytest.mark.timeout(300)

HEADER = "考生号,学号,姓名,性别,身份证号,院系,专业代码,专业名称,学历,生源所在地,毕业年份,手机号,邮箱\n"
EXAM = "2644019900001"
EXAM_2 = "2644019900002"
UNIT = "广州浏览器测试科技有限公司"

# an agreement's terms as typed into the console's forms (the employer's and the graduate's)
TERMS = {"position_category": "10", "job_title": "软件工程师", "work_region": "440106", "work_place": "广州市天河区",
         "monthly_salary": "9000", "contract_months": "36", "probation_months": "3", "contact_person": "张经理",
         "contact_phone": "13800000000"}


def roster(tmp: Path, name: str, rows: list[str]) -> Path:
    path = tmp / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def api_status(base: str, method: str, path: str, token: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(f"{base}/api{path}", data=json.dumps(body).encode(), method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_whole_story_in_the_console(browser, artifacts, tmp_path):
    b = browser
    started = time.monotonic()
    shots: list[Path] = []

    def shot(name: str) -> None:
        shots.append(b.screenshot(artifacts, name))

    # --- the login page and the province ------------------------------------------------------
    b.open("#/login/staff")
    assert [t.text for t in b.all(".tabs a")] == ["学校登录", "毕业生登录", "用人单位登录"]
    b.fill("#login-form", {"username": "demo-gd", "password": "wrong-password"})
    b.css("#login-submit").click()
    assert "用户名或密码错误" in b.expect_error()
    shot("01-login")

    b.login("staff", "demo-gd", PASSWORD)
    assert b.menu() == ["首页", "账号管理", "功能设置", "在线签约管理", "补登管理", "解约管理", "去向登记管理",
                        "档案信息管理", "户口信息管理", "数据统计", "数据同步", "操作指南"]
    assert "功能设置" in b.css(".welcome").text
    shot("02-province-home")
    # an expired or broken access token: the console refreshes it once and goes on
    b.driver.execute_script("const s = JSON.parse(localStorage.getItem('qx.session'));"
                            " s.access_token = 'broken'; localStorage.setItem('qx.session', JSON.stringify(s));")
    b.open("#/home")
    assert "毕业去向登记与网签" in b.css("table.data").text and b.token() != "broken"

    # 功能设置: switching 户口信息登记 on asks first, then cannot be undone
    b.open("#/settings")
    b.css("button[data-enable='hukou']").click()
    assert "不可再关闭" in b.confirm_dialog()
    b.expect_success("户口信息登记")
    b.wait(lambda: not b.all("button[data-enable='hukou']"), "no 开启 button once hukou is on")
    assert b.all("button[data-enable]") == [], "every module is on; none can be switched off"
    # 华南理工大学 on 两方协议
    b.fill("tr:has(button[data-agreement-type='10561'])", {"agreement_type": "two_party"})
    b.css("button[data-agreement-type='10561']").click()
    assert "两方协议" in b.expect_success("华南理工大学")
    shot("03-province-settings")

    # 账号管理: a read-only school account for 中山大学
    b.open("#/accounts")
    assert b.css("form[data-account='demo-scut'] select[name='archive']").get_attribute("value") == "read"
    b.fill("#create-school-account", {"username": "zsu-viewer", "display_name": "中山大学只读账号",
                                      "password": "Viewer-2026-pass", "school_code": "10558",
                                      "employment": "read", "archive": "read", "hukou": "none"})
    b.css("#create-school-account button[type=submit]").click()
    b.expect_success("zsu-viewer")
    b.wait(lambda: b.all("form[data-account='zsu-viewer']"), "the new account listed")
    assert b.css("form[data-account='zsu-viewer'] select[name='employment']").get_attribute("value") == "read"
    assert b.css("#create-school-account select[name='hukou']").get_attribute("value") == "none", "back to the defaults"
    # 修改学校账号信息: the name, found by a search
    b.fill("#school-accounts-search", {"q": "viewer"})
    b.css("#school-accounts-search button[type=submit]").click()
    b.wait(lambda: len(b.all("form[data-account]")) == 1, "the search finds one account")
    b.css("button[data-rename='zsu-viewer']").click()
    dialog = b.wait(lambda: b.css(".overlay .dialog"), "the name dialog")
    field = dialog.find_element("css selector", "input")
    field.clear()
    field.send_keys("中山大学就业中心（只读）")
    dialog.find_element("css selector", "button.primary").click()
    b.expect_success("已修改 zsu-viewer 的名称")
    b.wait(lambda: "中山大学就业中心（只读）" in b.css("table.data").text, "the new name listed")
    shot("04-province-accounts")

    # --- the school: settings and roster ------------------------------------------------------
    b.login("staff", "demo-zsu", PASSWORD)
    assert "生源管理" in b.menu()
    b.open("#/settings")
    b.css("#signing-settings button[type=submit]").click()
    b.expect_success("网签设置已保存")

    def hukou_settings_saved() -> None:
        b.open("#/settings")
        # typed into the date input as the locale shows it; the school reviews hukou itself
        b.fill("#hukou-settings", {"deadline": latest_deadline().strftime("%m%d%Y"), "department_review": False})
        b.css("#hukou-settings button[type=submit]").click()
        b.expect_success("户口信息登记设置已保存", timeout=5)

    retry(hukou_settings_saved, "the province's hukou switch reached records")
    shot("05-school-settings")

    b.open("#/roster")
    identity = make_identity_number("44010620030307001")
    identity_2 = make_identity_number("44010620040408002")
    bad = roster(tmp_path, "bad.csv", [f"{EXAM},S1,李同学,男,{identity},CS,080901,计算机科学与技术,31,440106,2026,,",
                                       f"{EXAM_2},S2,王同学,男,12345,CS,080901,计算机科学与技术,31,440106,2026,,"])
    b.css("#roster-file").send_keys(str(bad))
    b.css("#roster-import button[type=submit]").click()
    error = b.expect_error("未导入任何数据")
    assert "身份证号" in error and "3" in error, error  # the row error table: row 3, column 身份证号
    good = roster(tmp_path, "good.csv", [f"{EXAM},S1,李同学,男,{identity},CS,080901,计算机科学与技术,31,440106,2026,,",
                                         f"{EXAM_2},S2,王同学,女,{identity_2},LAW,030101,法学,31,440106,2026,,"])

    def imported() -> None:
        b.open("#/roster")
        b.css("#roster-file").send_keys(str(good))
        b.css("#roster-import button[type=submit]").click()
        b.expect_success("新增 2 人", timeout=5)

    retry(imported, "the roster imported")
    b.wait(lambda: b.all("#import-summary"), "the import summary")

    def codes_issued() -> str:
        b.css("#issue-codes").click()
        b.expect_success("激活码", timeout=5)
        rows = {r.find_element("css selector", "td").text: r.find_element("css selector", "code").text
                for r in b.all("table.activation-codes tbody tr") if r.find_elements("css selector", "code")}
        assert EXAM in rows and EXAM_2 in rows, rows
        return rows[EXAM], rows[EXAM_2]

    code, code_2 = retry(codes_issued, "the graduates' accounts provisioned from the roster")
    b.open("#/roster")
    graduates = b.css("table.graduates").text
    assert "李同学" in graduates and identity not in graduates and identity[:3] + "*" in graduates
    shot("06-school-roster")

    # 移出生源 (imported by mistake, say) and back: the list moves, and so does the roster count
    row_2 = b.xpath(f"//table[contains(@class,'graduates')]//tr[td[normalize-space()='{EXAM_2}']]")
    row_2.find_element("css selector", "button.withdraw").click()
    b.answer_value("误导入")
    b.expect_success("已将 王同学 移出生源")
    b.wait(lambda: "王同学" not in b.css("table.graduates").text, "王同学 gone from the roster list")
    b.fill("#view form.filters", {"withdrawn": "true"})
    b.css("#view form.filters button[type=submit]").click()
    b.wait(lambda: "误导入" in b.css("table.graduates").text, "the withdrawn list with the reason")
    b.css("table.graduates button.reinstate").click()
    b.confirm_dialog()
    b.expect_success("已恢复 王同学 的生源")
    b.open("#/roster")
    assert "王同学" in b.css("table.graduates").text
    # 王同学 lost the printed code: the school hands out a new one, shown once (the old one is void)
    row_2 = b.xpath(f"//table[contains(@class,'graduates')]//tr[td[normalize-space()='{EXAM_2}']]")
    row_2.find_element("css selector", "button.reissue-code").click()
    b.confirm_dialog()
    b.expect_success("已为 王同学 生成新的激活码")
    reissued = b.css("#reissued-code code").text
    assert len(reissued) == 8 and reissued != code_2, (reissued, code_2)
    code_2 = reissued  # 王同学 activates with it below

    # --- an employer registers and invites -----------------------------------------------------
    b.logout()
    b.open("#/login/employer")
    b.css("#register-link").click()
    b.ready("#/register")
    unit = {"name": UNIT, "credit_code": make_credit_code("91440106MA59BRWT1"), "nature": "39", "industry": "34",
            "region": "440106", "address": "广州市天河区某路 8 号", "contact_name": "赵经理",
            "contact_phone": "020-87654321", "username": "browser-employer", "password": "Employer-2026-pass"}
    wrong = unit["credit_code"][:-1] + ("1" if unit["credit_code"][-1] != "1" else "2")  # a wrong check character
    b.fill("#employer-register", {**unit, "credit_code": wrong})
    b.css("#employer-register button[type=submit]").click()
    assert "统一社会信用代码" in b.expect_error()
    assert b.all("#employer-register .invalid"), "the refused field is marked"
    b.fill("#employer-register", {"credit_code": unit["credit_code"]})
    b.css("#employer-register button[type=submit]").click()
    b.expect_success("注册成功")
    b.login("employer", "browser-employer", "Employer-2026-pass")
    assert b.menu() == ["单位信息", "发起签约邀请", "签约管理", "操作指南"]
    assert UNIT in b.css("dl.facts").text
    b.fill("#employer-edit", {"address": "广州市天河区某路 9 号"})  # the unit moved
    b.css("#employer-edit button[type=submit]").click()
    b.expect_success("单位信息已保存")
    b.wait(lambda: "广州市天河区某路 9 号" in b.css("dl.facts").text, "the unit's new address")

    def invited() -> None:
        b.open("#/employer/invite")
        b.fill("#invite-form", {"exam_number": EXAM, "name": "李同学",
                                **{f"terms.{name}": value for name, value in TERMS.items()}})
        b.css("#invite-form button[type=submit]").click()
        b.expect_success("签约邀请已发出", timeout=5)
        # the form is ready for the next invitation: its defaults are back, not blanks
        assert b.css("#invite-form [name='terms.probation_months']").get_attribute("value") == "0"
        assert b.css("#invite-form [name='response_days']").get_attribute("value") == "7"

    retry(invited, "signing knows the graduate (roster event)")
    shot("07-employer-invite")

    # --- the graduate activates, confirms and accepts -----------------------------------------
    b.logout()
    b.open("#/activate")
    b.fill("#activate-form", {"exam_number": EXAM, "activation_code": code, "password": "Graduate-2026-pass"})
    b.css("#activate-form button").click()
    b.expect_success("已激活")
    b.login("graduate", EXAM, "Graduate-2026-pass")
    assert b.menu() == ["我的信息", "签约邀请与协议", "毕业去向登记", "档案信息登记", "户口信息登记", "操作指南"]
    assert identity in b.css("dl.facts").text, "the graduate sees its own full identity number"
    b.css("#confirm-info").click()
    b.expect_success("已确认")
    shot("08-graduate-info")
    b.open("#/me/agreements")
    # before holding an agreement the graduate may apply for one itself (线下签约) or register a paper one
    assert b.all("#own-agreement-form"), "线下签约与补登 is offered to a graduate without an agreement"
    b.fill("#own-agreement-form", {"unit.name": "某线下单位", "unit.credit_code": "123", "unit.region": "440106",
                                   **{f"terms.{name}": value for name, value in TERMS.items()}})
    b.css("#own-agreement-form button[type=submit]").click()
    assert "统一社会信用代码" in b.expect_error()
    assert b.all("#own-agreement-form [name='unit.credit_code'].invalid"), "the refused field is marked"
    shot("09a-graduate-own-agreement")
    b.click("接受邀请")
    b.confirm_dialog()
    b.expect_success("已接受")
    b.wait(lambda: "待院系审核" in b.css("article.agreement").text, "the agreement waits for the department")
    assert not b.all("#own-agreement-form"), "no second agreement once one is held"
    b.open("#/me/destination")
    assert b.all("#agreement-held"), "a graduate with an agreement is told it registers no other destination"
    assert not b.all("#submit-destination")
    b.open("#/me/agreements")
    shot("09-graduate-agreements")

    # --- department review --------------------------------------------------------------------
    b.login("staff", "demo-zsu-cs", PASSWORD)
    menu = b.menu()
    assert "户口信息管理" in menu and "账号管理" not in menu and "功能设置" not in menu and "数据统计" in menu
    b.open("#/signing/online?status=department_review")
    b.wait(lambda: "李同学" in b.css("table.records").text, "the department's review queue")
    b.follow("table.records a.view-link")
    b.click("审核通过")
    b.expect_success("审核通过")
    b.wait(lambda: "待学校审核" in b.css(".status-line").text, "the agreement waits for the school")
    agreement_url = b.driver.current_url
    agreement_id = agreement_url.rsplit("/", 1)[-1]
    # the department's statistics: its own department only
    b.open("#/stats")
    b.wait(lambda: "计算机学院" in b.css("table.stats-employment").text, "the department's statistics")
    assert "法学院" not in b.css("table.stats-employment").text
    shot("09b-department-stats")

    # --- the read-only school account: the list, no approve button, and a refused API call -----
    b.login("staff", "zsu-viewer", "Viewer-2026-pass")
    assert "在线签约管理" in b.menu() and "户口信息管理" not in b.menu() and "功能设置" not in b.menu()
    b.open("#/signing/online")
    assert "李同学" in b.css("table.records").text
    assert b.all("#export"), "图6: 只读 may download (the guide's 表1)"
    b.open("#/registrations/archive")
    b.wait(lambda: b.all("table.records"), "the archive list")
    assert not b.all("#export"), "图7 exports need 读写 (issue 4): a read-only account is not offered one"
    b.open(f"#/agreements/{agreement_id}")
    assert "待学校审核" in b.css(".status-line").text
    assert "岗位与条款" in b.css("#view").text and "软件工程师" in b.css("#view").text
    assert "[object" not in b.css("#view").text
    assert not b.all("#review-bar") and not b.all("button[data-decision]"), "a read-only account sees no review buttons"
    shot("10-readonly-detail")
    refused = api_status(b.base, "POST", f"/signing/agreements/{agreement_id}/reviews", b.token(),
                         {"decision": "approve"})
    assert refused == 403

    # --- school review: approved, the PDF downloads --------------------------------------------
    b.login("staff", "demo-zsu", PASSWORD)
    b.open(f"#/agreements/{agreement_id}")
    b.click("审核通过")
    b.expect_success("审核通过")
    b.wait(lambda: "签约审核通过" in b.css(".status-line").text, "the agreement approved")
    b.css("#download-pdf").click()
    assert "SHA-256" in b.expect_success("已下载")
    shot("11-school-approved")

    # --- a 补登 agreement: the reviewer downloads the signed paper's scan it reviews ------------------
    api_json(b.base, "POST", "/accounts/graduates/activate",
             body={"exam_number": EXAM_2, "activation_code": code_2, "password": "Graduate-2026-pass2"})
    graduate_2 = api_json(b.base, "POST", "/accounts/auth/login",
                          body={"username": EXAM_2, "password": "Graduate-2026-pass2"})["access_token"]
    paper = retry(lambda: api_json(b.base, "POST", "/signing/agreements/supplementary", graduate_2, {
        "unit": {**{k: unit[k] for k in ("name", "credit_code", "nature", "industry", "region")}},
        "terms": {**TERMS, "monthly_salary": 8000, "contract_months": 36, "probation_months": 3},
        "signed_on": "2026-05-20"}), "signing knows the second graduate")["id"]
    scan = b"%PDF-1.4\n% the signed paper\n%%EOF"
    api_json(b.base, "POST", f"/signing/agreements/{paper}/scan", graduate_2, files={"file": ("协议扫描件.pdf", scan)})
    b.open(f"#/agreements/{paper}")
    b.wait(lambda: b.all("#download-scan"), "the 补登 agreement offers its scan")
    b.css("#download-scan").click()
    assert "协议扫描件.pdf" in b.expect_success("已下载")
    b.wait(lambda: (b.downloads / "协议扫描件.pdf").exists(), "the scan in the downloads folder")
    assert (b.downloads / "协议扫描件.pdf").read_bytes() == scan

    # --- 户口信息登记: the graduate registers, the school reviews it in 户口信息管理 ------------------
    b.login("graduate", EXAM, "Graduate-2026-pass")
    b.open("#/me/hukou")
    b.fill("#hukou-form", {"transfer_type": "not_at_school"})  # 户口不在学校: no address to ask for
    assert not b.css("#hukou-form [name='address']").is_displayed()
    b.fill("#hukou-form", {"transfer_type": "origin", "address": "广州市越秀区某街2号", "postcode": "510000"})
    assert b.css("#hukou-form [name='address']").is_displayed()
    b.css("#submit-hukou").click()
    b.expect_success("已提交")
    b.wait(lambda: "待学校审核" in b.css(".status-line").text, "the hukou registration waits for the school")
    shot("12-graduate-hukou")
    b.login("staff", "demo-zsu", PASSWORD)
    b.open("#/registrations/hukou?status=school_review")
    b.wait(lambda: "李同学" in b.css("table.records").text, "the school's hukou review queue")
    b.follow("table.records a.view-link")
    b.click("审核不通过")
    b.answer_reason("地址不完整，请补充门牌号")
    b.expect_success("审核不通过")
    b.wait(lambda: "学校审核不通过" in b.css(".status-line").text, "the registration rejected")
    assert "地址不完整" in b.css("table.history").text
    shot("13-school-hukou-review")

    # --- the employer downloads and asks for termination --------------------------------------
    b.login("employer", "browser-employer", "Employer-2026-pass")
    b.open("#/employer/agreements")
    b.css(f"button[data-open='{agreement_id}']").click()
    b.wait(lambda: b.all("#download-pdf"), "the approved agreement's PDF button")
    b.css("#download-pdf").click()
    b.expect_success("已下载")
    b.click("申请解约")
    b.answer_reason("岗位调整，协商解约")
    b.expect_success("解约申请已提交")
    b.wait(lambda: "解约申请 待对方确认" in b.css("table.terminations").text, "the termination request listed")
    assert not b.all("button[data-action='申请解约']"), "no second termination while one is under way"
    b.wait(lambda: "解约申请 待对方确认" in b.css("table.employer-agreements").text, "the open request in the list")
    shot("14-employer-agreements")

    # --- the province: statistics changed, the record in the signing list, export -------------
    b.login("staff", "demo-gd", PASSWORD)

    def registered() -> None:
        b.open("#/stats")
        body = b.css("#stats-body")
        assert body.get_attribute("data-registered") == "1" and body.get_attribute("data-total") == "2"

    retry(registered, "the statistics show one of two graduates registered")
    first_row = b.css("table.stats-employment tbody tr:nth-child(2)").text
    assert "中山大学" in first_row
    assert len(b.all("svg.chart")) >= 3
    # the rate's caption counts those placed, the figure the rate is of (one of the two: 50.0%)
    placement = b.css("svg.gauge").find_element("xpath", "..").text
    assert "50.0%" in placement and "已落实 1 / 总人数 2" in placement, placement
    shot("15-province-stats")
    b.open("#/signing/online")
    listed = b.css("table.records").text
    assert "李同学" in listed and "签约审核通过" in listed and UNIT in listed
    # the province narrows to a school, then to one of its departments
    assert not b.css("#list-filters select[name='department']").is_enabled()
    b.fill("#list-filters", {"school": "10558"})
    b.wait(lambda: "计算机学院" in b.css("#list-filters select[name='department']").text, "the school's departments")
    assert identity not in listed
    b.css("#export").click()
    assert ".xlsx" in b.expect_success("已下载")
    shot("16-province-signing-list")
    b.follow("table.records a.view-link")
    history = b.css("table.history").text
    assert "院系审核通过" in history and "学校审核（鉴证）通过" in history
    shot("17-province-agreement-detail")
    b.open("#/sync")
    assert "中山大学" in b.css("table.sync").text
    shot("18-province-sync")
    b.open("#/registrations/hukou")
    assert "学校审核不通过" in b.css("table.records").text
    # a search by identity number: its filters go in a POST body, never in an address servers log
    b.fill("#list-filters", {"q": identity})
    b.css("#list-filters button[type=submit]").click()
    b.wait(lambda: len(b.all("table.records tbody tr")) == 1, "the one graduate with that identity number")
    found = b.css("table.records").text
    assert "李同学" in found and identity not in found
    b.css("#export").click()
    assert ".xlsx" in b.expect_success("已下载")
    shot("19-province-hukou-list")
    # 用人单位账号: the unit forgot its password; the province, having seen its licence, sets a new one
    b.open("#/accounts")
    b.fill("#employer-accounts-search", {"q": "browser-employer"})
    b.css("#employer-accounts-search button[type=submit]").click()
    b.wait(lambda: UNIT in b.css("table.employer-accounts").text, "the unit in the province's list")
    b.css("table.employer-accounts button[data-reset-unit]").click()
    b.answer_value("Handed-0ver-2026")
    b.expect_success(f"已重置 {UNIT} 的密码")
    assert api_status(b.base, "POST", "/accounts/auth/login", "", {"username": "browser-employer",
                                                                   "password": "Handed-0ver-2026"}) == 200

    # --- the graduate agrees to the termination, the school approves it in 解约管理 -------------
    b.login("graduate", EXAM, "Graduate-2026-pass")
    b.open("#/me/agreements")
    # Refusing asks for the reason the API requires; cancelling that dialog sends nothing and
    # claims nothing.
    b.click("不同意解约")
    b.cancel_dialog()
    time.sleep(0.5)
    assert "已不同意解约" not in b.flash_text() and "reason_required" not in b.flash_text()
    assert "解约申请 待对方确认" in b.css("table.terminations").text
    actions = [button.text for button in b.all("article.agreement button[data-action]")]
    assert "申请作废" not in actions and "上传解约函申请解约" not in actions, actions  # a termination is open
    b.click("同意解约")
    assert "不能恢复" in b.confirm_dialog()  # a final step is asked first
    b.expect_success("已同意解约")
    b.login("staff", "demo-zsu", PASSWORD)
    b.open("#/signing/terminations?status=school_review")
    b.wait(lambda: "李同学" in b.css("table.records").text, "the school's termination queue")
    b.follow("table.records a.view-link")
    b.click("审核通过")
    b.expect_success("审核通过")
    b.wait(lambda: "解约审核通过" in b.css(".status-line").text, "the termination approved")
    shot("21-school-termination-approved")
    b.open(f"#/agreements/{agreement_id}")
    assert "已解约" in b.css(".status-line").text

    # --- the graduate changes its password: logged out, and in again with the new one ------------
    b.login("graduate", EXAM, "Graduate-2026-pass")
    b.css("#change-password").click()
    b.ready("#/password")
    b.fill("#password-form", {"current_password": "Graduate-2026-pass", "new_password": "Graduate-2026-new"})
    b.css("#password-form button[type=submit]").click()
    b.wait(lambda: b.driver.current_url.endswith("#/login/graduate"), "logged out to the graduates' login")
    b.login("graduate", EXAM, "Graduate-2026-new")
    assert "签约邀请与协议" in b.menu()
    b.login("staff", "demo-zsu", PASSWORD)

    # a phone-sized window: the same list as cards
    b.driver.set_window_size(390, 844)
    b.open("#/signing/online")
    shot("22-phone-signing-list")
    assert b.console_errors() == []

    downloads = sorted(p.name for p in (artifacts / "downloads").glob("*"))
    assert any(n.endswith(".pdf") for n in downloads) and any(n.endswith(".xlsx") for n in downloads), downloads
    print(f"\nbrowser story in {time.monotonic() - started:.1f}s; screenshots:", *shots, sep="\n  ")
