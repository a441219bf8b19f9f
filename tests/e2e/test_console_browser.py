"""The console in a real headless Chromium (Debian's, driven by Selenium through its chromedriver)
against the local stack: a key, the tasks, run now, the run appears; no script error; HTML in a
task's name is shown as text."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import create_key, http

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()),
        reason="needs Debian's chromium and chromium-driver (make install puts them there)",
    ),
]

# The network is closed here: without these Chromium spends its time reaching for Google services.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1100",
)
HOSTILE_NAME = "<img src=x onerror=\"document.title='owned'\"><b>bold</b>"


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="heartbeat-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: Any, condition: Any, timeout: float = 20) -> Any:
    """Until `condition` holds; the page re-renders its tables as answers arrive, so an element
    gone stale in between is just looked up again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        condition
    )


def script_errors(driver: Any) -> list[dict[str, Any]]:
    """Console entries that are script errors: an exception, a CSP refusal, console.error
    (a failed request is a network entry, not one of these)."""
    return [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and entry.get("source") != "network"
    ]


def test_an_operator_enters_a_key_sees_tasks_and_runs_one_now(
    data_dir: Path, start_stack: Any, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    key = create_key(data_dir)
    url = start_stack(data_dir).api_url
    status, created = http(
        "POST",
        f"{url}/v1/tasks",
        key,
        {
            "name": "daily-summary",
            "prompt": "Summarise the day",
            "schedule": "0 18 * * 1-5",
            "timezone": "America/New_York",
        },
    )
    assert status == 201, created
    task_id = created["task"]["id"]
    # A webhook nothing listens at (the local stack allows loopback targets): its deliveries fail.
    status, hook = http(
        "POST", f"{url}/v1/webhooks", key, {"url": "http://127.0.0.1:9/hook", "events": ["run.succeeded"]}
    )
    assert status == 201, hook

    browser.get(f"{url}/console")
    assert browser.find_element(By.ID, "main").is_displayed() is False  # nothing without a key
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()

    row = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-task-id="{task_id}"]'))[0]
    assert row.find_element(By.CSS_SELECTOR, ".task-name").text == "daily-summary"
    wait(browser, lambda d: "Monday to Friday" in row.find_element(By.CSS_SELECTOR, ".schedule-words").text)
    assert "at 18:00, on Monday to Friday (America/New_York)" in row.text
    assert browser.execute_script("return sessionStorage.getItem('heartbeat.key')") == key
    assert browser.execute_script("return localStorage.length") == 0

    row.find_element(By.CSS_SELECTOR, "button.run-now").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#run-rows tr[data-run-id]"))
    wait(browser, lambda d: "ok" in d.find_element(By.CSS_SELECTOR, "#run-rows tr[data-run-id]").text, 30)
    # once the run is final the page stops following it and reloads the tasks
    wait(browser, lambda d: "ok" in d.find_element(By.CSS_SELECTOR, f'tr[data-task-id="{task_id}"]').text)
    run = browser.find_element(By.CSS_SELECTOR, "#run-rows tr[data-run-id]")
    assert (
        "manual" in run.text and "Summarise the day" in run.find_element(By.CSS_SELECTOR, "pre.output").text
    )
    runs = http("GET", f"{url}/v1/tasks/{task_id}/runs", key)[1]["runs"]
    assert run.get_attribute("data-run-id") == runs[0]["id"]
    # the next five fire times, in the viewer's zone and the task's
    assert len(browser.find_elements(By.CSS_SELECTOR, "#next-rows tr")) == 5
    assert "America/New_York" in browser.find_element(By.ID, "zone-task").text
    # the webhook and the run's delivery to it, as GET /v1/webhooks/{id}/deliveries answers it
    webhooks = browser.find_element(By.ID, "webhooks-body")
    assert "http://127.0.0.1:9/hook" in webhooks.text and "run.succeeded" in webhooks.text
    wait(
        browser,
        lambda d: http("GET", f"{url}/v1/webhooks/{hook['webhook']['id']}/deliveries", key)[1]["deliveries"],
    )
    webhooks.find_element(By.CSS_SELECTOR, "button.deliveries").click()
    delivery = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#webhooks-body tr[data-event-id]"))[
        0
    ]
    assert "run.succeeded" in delivery.text

    # usage per day: a bar per day of GET /v1/usage, today's holding the run's tokens
    def today(d: Any) -> str:
        bars = d.find_elements(By.CSS_SELECTOR, "#usage-body svg.chart rect")
        return (
            bars[-1].find_element(By.TAG_NAME, "title").get_attribute("textContent")
            if len(bars) == 30
            else ""
        )

    wait(browser, lambda d: ": 1 run," in today(d))
    assert script_errors(browser) == []


def test_a_task_name_holding_html_is_shown_as_text(data_dir: Path, start_stack: Any, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    key = create_key(data_dir)
    url = start_stack(data_dir).api_url
    status, created = http(
        "POST", f"{url}/v1/tasks", key, {"name": HOSTILE_NAME, "prompt": "p", "schedule": "*/5 * * * *"}
    )
    assert status == 201, created

    browser.get(f"{url}/console")
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
    name = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#task-rows .task-name"))[0]
    assert name.text == HOSTILE_NAME
    assert browser.find_elements(By.CSS_SELECTOR, "#task-rows img, #task-rows b") == []
    assert browser.title == "Heartbeat console"
    assert script_errors(browser) == []


def test_an_unknown_key_shows_the_apis_own_words(data_dir: Path, start_stack: Any, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    url = start_stack(data_dir).api_url
    browser.get(f"{url}/console")
    browser.find_element(By.ID, "key").send_keys("hb_test_not-a-key")
    browser.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
    error = wait(browser, lambda d: d.find_element(By.ID, "error").text)
    assert error == "GET v1/tasks?limit=50: 401 Unauthorized"
