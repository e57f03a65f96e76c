"""Renders documentation pages in Debian's chromium (selenium, chromium-driver) as
gordon-console serves them, and waits for each page's title, drawn by DocC's scripts, with a
deadline: a page shows it only if the console's policy let the scripts run, the base path is
right and the data loaded. Prints one line per page; exit 1 if any page failed.

Usage: docs_render_check.py BASE_URL PATH=TITLE...
"""

import sys

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, pages = sys.argv[1], [argument.split("=", 1) for argument in sys.argv[2:]]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)
failures = 0
try:
    for path, title in pages:
        driver.get(base + path)

        def drawn(d):
            # (DocC breaks long names with <wbr>; the element's text leaves it out.)
            return any(e.text.strip() == title for e in d.find_elements(By.CSS_SELECTOR, ".title span"))
        try:
            WebDriverWait(driver, 60).until(drawn)
            print(f"ok: {path} renders '{title}'", flush=True)
        except TimeoutException:
            failures += 1
            shown = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".title span")]
            print(f"FAIL: {path} does not render '{title}' within 60 s ({len(driver.page_source)} bytes of DOM; titles {shown})", flush=True)
            for entry in driver.get_log("browser"):
                print(f"  browser: {entry.get('message', '')[:300]}", flush=True)
finally:
    driver.quit()
sys.exit(1 if failures else 0)
