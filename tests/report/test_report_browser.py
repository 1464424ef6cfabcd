"""The report page in a real browser: headless Chromium driven by Selenium.

Needs ``apt-get install -y chromium chromium-driver`` and ``pip install selenium``; without them
the tests skip with that reason (CI installs both, so there they run).
"""

import shutil

import numpy as np
import pytest
from PIL import Image

from selfsup.pipeline.report import report
from selfsup.utils.io import save_embeddings

NASTY = "<img src=x onerror=alert(1)>.png"
K = 4

_CHROMIUM = next(
    (
        path
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (path := shutil.which(name))
    ),
    None,
)
_DRIVER = shutil.which("chromedriver")
_MISSING = "chromium not installed: apt-get install -y chromium chromium-driver"

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium not installed: pip install selenium"
)
pytestmark = pytest.mark.skipif(_CHROMIUM is None or _DRIVER is None, reason=_MISSING)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A report on 30 images in three clusters, one of them with a nasty file name."""
    root = tmp_path_factory.mktemp("browser")
    rng = np.random.default_rng(0)
    (root / "data").mkdir()
    names = [f"img_{i:02d}.png" for i in range(29)] + [NASTY]
    for i, name in enumerate(names):
        colour = np.array([(i % 3) * 120, 60, 255 - (i % 3) * 120], dtype=np.uint8)
        pixels = np.broadcast_to(colour, (24, 24, 3)).copy()
        Image.fromarray(pixels).save(root / "data" / name)
    labels = [i % 3 for i in range(len(names))]
    x = (np.eye(3)[labels] * 4 + rng.normal(size=(len(names), 3)) * 0.8).astype(np.float32)
    x = np.concatenate([x, rng.normal(size=(len(names), 3))], 1).astype(np.float32)
    save_embeddings(root / "embeddings.csv", x, labels, names)
    (root / "selected.txt").write_text("img_00.png\nimg_07.png\n")
    result = report(
        root / "embeddings.csv",
        data=root / "data",
        selection=root / "selected.txt",
        out=root / "report.html",
        neighbours=K,
        clusters=3,
    )
    return result.path, x, names


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def loaded(browser, page):
    path, x, names = page
    browser.get(path.as_uri())
    browser.execute_script("return window.selfsupReport.ready")
    browser.get_log("browser")  # drop what an earlier test left
    return browser, x, names


def _move_to_point(driver, index):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, "map")
    x, y = driver.execute_script("return window.selfsupReport.screenPosition(arguments[0])", index)
    assert (
        driver.execute_script(
            "return window.selfsupReport.pointAt(arguments[0], arguments[1])", x, y
        )
        == index
    )
    width, height = canvas.size["width"], canvas.size["height"]
    actions = ActionChains(driver)
    actions.move_to_element_with_offset(
        canvas, int(round(x - width / 2)), int(round(y - height / 2))
    )
    actions.perform()
    return actions


def _severe(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_page_loads_without_errors_and_draws_every_point(browser, page):
    path, _, names = page
    browser.get(path.as_uri())
    assert browser.execute_script("return window.selfsupReport.ready") is True
    assert _severe(browser) == []
    assert browser.execute_script("return window.selfsupReport.pointCount") == len(names)
    count = browser.execute_script("return document.getElementById('map').dataset.pointCount")
    assert count == str(len(names))
    assert browser.execute_script("return window.selfsupReport.thumbnailCount") == len(names)


def test_hover_shows_the_nasty_name_as_text_and_no_alert_fires(loaded):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    driver, _, names = loaded
    _move_to_point(driver, names.index(NASTY))
    tooltip = driver.find_element(By.ID, "tooltip")
    assert tooltip.is_displayed()
    assert driver.find_element(By.ID, "tt-name").text == NASTY
    src = driver.find_element(By.ID, "tt-img").get_attribute("src")
    assert src.startswith("data:image/jpeg;base64,")
    with pytest.raises(NoAlertPresentException):
        _ = driver.switch_to.alert
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert _severe(driver) == []


def test_click_lists_the_cosine_nearest_neighbours(loaded):
    from selenium.webdriver.common.by import By

    driver, x, names = loaded
    query = 7
    _move_to_point(driver, query).click().perform()
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit @ unit[query]
    sims[query] = -np.inf
    expected = [names[j] for j in np.argsort(-sims)[:K]]
    shown = [node.text for node in driver.find_elements(By.CSS_SELECTOR, "#nb-list .name")]
    assert shown == expected
    assert driver.find_element(By.CSS_SELECTOR, "#nb-query .name").text == names[query]
    assert driver.execute_script("return window.selfsupReport.state.focused") == query
    assert _severe(driver) == []


def test_colour_switch_and_screenshot(loaded, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, _, _ = loaded
    Select(driver.find_element(By.ID, "color-by")).select_by_value("selection")
    legend = driver.find_element(By.ID, "legend").text
    assert "selected" in legend and "not selected" in legend
    Select(driver.find_element(By.ID, "color-by")).select_by_value("cluster")
    assert "cluster 2" in driver.find_element(By.ID, "legend").text
    shot = tmp_path / "report.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.std() > 10  # not a blank page
    assert _severe(driver) == []


def test_wheel_zooms_around_the_cursor_and_hit_testing_follows(loaded):
    driver, _, names = loaded
    script = """
        var r = window.selfsupReport, canvas = document.getElementById('map');
        var box = canvas.getBoundingClientRect(), p = r.screenPosition(arguments[0]);
        var q = r.screenPosition(arguments[1]);
        var before = Math.hypot(p[0] - q[0], p[1] - q[1]);
        canvas.dispatchEvent(new WheelEvent('wheel', {clientX: box.left + p[0],
            clientY: box.top + p[1], deltaY: -100, bubbles: true, cancelable: true}));
        var p2 = r.screenPosition(arguments[0]), q2 = r.screenPosition(arguments[1]);
        return [p[0] - p2[0], p[1] - p2[1], Math.hypot(p2[0] - q2[0], p2[1] - q2[1]) / before,
                r.pointAt(p2[0], p2[1])];
    """
    dx, dy, ratio, hit = driver.execute_script(script, 3, 11)
    # the point under the cursor stays put (event coordinates are whole pixels)
    assert abs(dx) < 1 and abs(dy) < 1
    assert ratio == pytest.approx(1.25, rel=1e-3)
    assert hit == 3
    assert _severe(driver) == []
