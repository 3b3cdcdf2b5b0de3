"""A real headless browser for UI tests: Debian's chromium driven by selenium through its own
chromedriver (installed by `infra/local/browser ensure`, which `make test` runs first).

Both paths are given explicitly, so selenium never looks for, or downloads, a driver. Pages are
checked on their visible text (`innerText`), the way a person reads them, after the single-page
app has rendered it; every page is kept as a PNG screenshot."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest


class Browser:
    """One headless chromium window; `open` waits for texts to appear and keeps a screenshot."""

    def __init__(self, screenshots: Path, width: int = 1440, height: int = 1000) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
        if not chromium or not driver:
            pytest.skip("no headless browser: `infra/local/browser ensure` installs Debian's chromium "
                        "and chromium-driver (needs root or sudo)")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        # --no-sandbox: CI runs as root; /dev/shm is small in containers.
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        self.screenshots = screenshots
        screenshots.mkdir(parents=True, exist_ok=True)

    def text(self) -> str:
        return self.driver.execute_script("return document.body ? document.body.innerText : ''")

    def open(self, url: str, name: str, expect: list[str], timeout: float = 30) -> str:
        """Load `url`, wait until every text of `expect` is visible, save `<name>.png`; the page's
        visible text. A page that never shows them fails naming what is missing."""
        self.driver.get(url)
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            missing = [word for word in expect if word not in text]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # charts and images finish drawing after their text
        self.driver.save_screenshot(str(self.screenshots / f"{name}.png"))
        assert not missing, f"{url}: {missing} not visible after {timeout:.0f} s; the page shows:\n{text[:3000]}"
        return text

    def close(self) -> None:
        self.driver.quit()
