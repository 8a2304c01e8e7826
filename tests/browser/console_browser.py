"""Headless Chromium driven by Selenium, offline: Debian's chromium and chromedriver, never a
download by Selenium Manager, and small helpers to act as a user of the console."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("QX_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("QX_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--lang=zh-CN")


def chromium_missing() -> str | None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).is_file()]
    return f"{', '.join(missing)} missing (Debian packages chromium and chromium-driver)" if missing else None


class Browser:
    """One Chromium with its own profile and download folder; ``base`` is the console's URL."""

    def __init__(self, base: str, downloads: Path, width: int = 1366, height: int = 900) -> None:
        os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a driver or browser
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.base = base.rstrip("/")
        self.downloads = downloads
        downloads.mkdir(parents=True, exist_ok=True)
        self.profile = tempfile.mkdtemp(prefix="qx-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # --- navigation and waiting ---------------------------------------------------------------

    def wait(self, check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                result = check()
                if result:
                    return result
            except Exception as exc:  # noqa: BLE001 - the page may be re-rendering; retry until the deadline
                last = exc
            time.sleep(0.1)
        raise AssertionError(f"not within {timeout}s: {what}; flash: {self.flash_text()!r}; last error: {last!r}")

    def open(self, route: str) -> None:
        """Go to a route of the app (``#/…``) and wait until its screen has rendered."""
        self.driver.execute_script("const v = document.getElementById('view'); if (v) delete v.dataset.ready")
        if not self.driver.current_url.startswith(self.base):
            self.driver.get(f"{self.base}/{route}")
        else:  # the same hash again fires no hashchange: render it anyway
            self.driver.execute_script(
                "if (window.location.hash === arguments[0]) window.dispatchEvent(new HashChangeEvent('hashchange'));"
                " else window.location.hash = arguments[0];", route)
        self.ready(route)

    def ready(self, route: str | None = None) -> None:
        want = route[1:] if route else None

        def rendered() -> bool:
            value = self.driver.execute_script("const v = document.getElementById('view'); return v && v.dataset.ready")
            return bool(value) and (want is None or value == want)

        self.wait(rendered, f"the screen {route or ''} rendered")
        text = self.driver.execute_script("return document.getElementById('view').innerText")
        assert "[object " not in text and "undefined" not in text, f"a rendering slip on {route}: {text[:300]}"

    def follow(self, selector: str) -> None:
        """Click the link ``selector`` and wait until the screen it leads to has rendered.

        The click only queues the hashchange, so until the app handles it the old screen is
        still marked ready; waiting for the link's own route is what tells the two apart."""
        link = self.css(selector)
        route = link.get_dom_attribute("href")
        assert route and route.startswith("#/"), f"{selector} is not a link within the app: {route!r}"
        link.click()
        self.ready(route)

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def xpath(self, expression: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.XPATH, expression)

    def button(self, text: str, within: str = "") -> Any:
        return self.wait(lambda: self.xpath(f"{within}//button[normalize-space()='{text}']"), f"the button {text}")

    def click(self, text: str, within: str = "") -> None:
        self.button(text, within).click()

    def fill(self, form: str, values: dict[str, str]) -> None:
        from selenium.webdriver.support.ui import Select

        for name, value in values.items():
            element = self.css(f"{form} [name='{name}']")
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            elif element.get_attribute("type") == "checkbox":
                if element.is_selected() != bool(value):
                    element.click()
            else:
                element.clear()
                element.send_keys(value)

    def flash_text(self) -> str:
        try:
            return self.driver.execute_script("const f = document.getElementById('flash'); return f ? f.innerText : ''")
        except Exception:  # noqa: BLE001 - only for error messages
            return ""

    def expect_success(self, contains: str = "", timeout: float = 15.0) -> str:
        def shown() -> str | None:
            notices = self.all("#flash .notice-success")
            return notices[0].text if notices and contains in notices[0].text else None

        text = self.wait(shown, f"a success message containing {contains!r}", timeout)
        self.driver.execute_script("document.getElementById('flash').replaceChildren()")
        return text

    def expect_error(self, contains: str = "", timeout: float = 15.0) -> str:
        def shown() -> str | None:
            notices = self.all("#flash .notice-error")
            return notices[0].text if notices and contains in notices[0].text else None

        text = self.wait(shown, f"an error message containing {contains!r}", timeout)
        self.driver.execute_script("document.getElementById('flash').replaceChildren()")
        return text

    def confirm_dialog(self) -> str:
        dialog = self.wait(lambda: self.css(".overlay .dialog"), "the confirmation dialog")
        text = dialog.text
        dialog.find_element("css selector", "button.primary, button.danger").click()
        return text

    def cancel_dialog(self) -> None:
        dialog = self.wait(lambda: self.css(".overlay .dialog"), "a dialog")
        next(b for b in dialog.find_elements("css selector", "button") if b.text == "取消").click()
        self.wait(lambda: not self.all(".overlay .dialog"), "the dialog closed")

    def answer_value(self, value: str) -> None:
        """Types into a one-value dialog (a new name, a reason on one line) and confirms."""
        dialog = self.wait(lambda: self.css(".overlay .dialog"), "the dialog")
        dialog.find_element("css selector", "input[name='value']").send_keys(value)
        dialog.find_element("css selector", "button.primary").click()

    def answer_reason(self, reason: str) -> None:
        dialog = self.wait(lambda: self.css(".overlay .dialog"), "the reason dialog")
        dialog.find_element("css selector", "textarea").send_keys(reason)
        dialog.find_element("css selector", "button.primary").click()

    # --- users --------------------------------------------------------------------------------

    def login(self, entry: str, username: str, password: str) -> None:
        self.logout()
        self.open(f"#/login/{entry}")
        self.fill("#login-form", {"username": username, "password": password})
        self.css("#login-submit").click()
        self.wait(lambda: self.all("#who"), f"{username} logged in")
        self.ready()

    def logout(self) -> None:
        if self.driver.current_url.startswith(self.base):
            # the session is in localStorage (shared by the tabs); sessionStorage holds the route to return to
            self.driver.execute_script("localStorage.clear(); sessionStorage.clear()")

    def token(self) -> str:
        return self.driver.execute_script("return JSON.parse(localStorage.getItem('qx.session')).access_token")

    def menu(self) -> list[str]:
        return [a.text for a in self.all("nav.menu a")]

    def screenshot(self, folder: Path, name: str) -> Path:
        """The whole page: the window is made as tall as the page for the picture."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        width = self.driver.get_window_size()["width"]
        self.driver.set_window_size(width, 700)
        height = self.driver.execute_script("window.scrollTo(0, 0); return document.documentElement.scrollHeight")
        self.driver.set_window_size(width, min(int(height) + 140, 4000))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(width, 900)
        return path

    def console_errors(self) -> list[str]:
        """The browser console's errors since the last call, except the APIs' refusals the test provoked."""
        return [entry["message"] for entry in self.driver.get_log("browser")
                if entry["level"] == "SEVERE" and "/api/" not in entry["message"]]
