#!/usr/bin/env python
"""Product tour: drive `xeno demo` in headless Chromium, screenshot each step, narrate it.

    python scripts/tour.py               # build/tour/NN-*.png, NN-*.wav and xeno-tour.mp4
    python scripts/tour.py --no-video    # screenshots only (needs no espeak-ng or ffmpeg)
    python scripts/tour.py --out DIR     # somewhere else than build/tour

The story is the seed's: push customers and orders, carve "spend > 10000 AND visits <= 3",
see the audience before saving, send "Hi [Name], here's 10% off on your next order!" and
watch the delivery figures. Chromium is Debian's (/usr/bin/chromium, never downloaded);
the voice is espeak-ng and ffmpeg assembles the video. The demo server is stopped on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1440, "height": 900}
RULE = "spend > 10000 AND visits <= 3"
SEGMENT_NAME = "Big spenders, rarely seen"
CAMPAIGN_NAME = "10% off for big spenders"
MESSAGE = "Hi [Name], here's 10% off on your next order!"
WINBACK_RULE = 'inactive_days > 90 AND city = "Pune"'
WINBACK_MESSAGE = 'Hi {{ first_name | default("there") }}, we miss you! Free delivery this week.'
VOICE = ["-v", "en-gb", "-s", "150"]
PAUSE = 0.6  # seconds of silence after each narration
TOOLS = ("espeak-ng", "ffmpeg", "ffprobe")
INSTALL = "apt-get install -y espeak-ng ffmpeg"

# One entry per screenshot, in order: (file stem, narration). The narration is formatted
# with the figures the run found (see `Facts`), so what is said matches what is shown.
STEPS: list[tuple[str, str]] = [
    ("01-signin", (
        "This is Xeno Mini CRM, a small CRM for a brand's marketing team. "
        "Marketers sign in with Google; in demo mode a button signs in a demo user, and "
        "the whole product runs in one process on a laptop."
    )),
    ("02-dashboard", (
        "The dashboard shows the shop at a glance: {customers} customers, {orders} orders "
        "and {revenue_crore} crore rupees of revenue, all pushed in by the shop's systems. "
        "No campaign has been sent yet."
    )),
    ("03-customers-mumbai", (
        "The customers page searches by name, email or city. Here are the customers in "
        "Mumbai, {mumbai} of them, sorted by total spend, highest first. "
        "Spend, visits and the last visit are kept per customer, so sorting is instant."
    )),
    ("04-ingested", (
        "Now the shop pushes data through the API with a token: two customers and six "
        "orders, some orders before their customer, and every order sent twice. "
        "The API only validates and publishes to a stream; a consumer writes each batch "
        "with one bulk statement."
    )),
    ("05-exact-aggregates", (
        "And the figures are exact. Asha Rao has two orders worth {asha_spend} rupees, and "
        "Vikram Shetty four, even though every order arrived twice. Totals are recomputed "
        "from the stored orders, never incremented, so re-sending is always safe."
    )),
    ("06-builder-empty", (
        "On to segments. With no conditions yet, the builder shows the whole audience: "
        "{total} customers. The menus come from the registered fields, so a new field "
        "appears here by itself."
    )),
    ("07-builder-spend", (
        "The first condition: spend greater than ten thousand rupees. "
        "The audience size updates live as the condition is filled in, {spend_count} "
        "customers so far, with a sample of who they are."
    )),
    ("08-builder-live-count", (
        "Add a second condition, visits at most three: big spenders the shop rarely sees. "
        "The live count drops to {rule_count}, before anything is saved. "
        "Each condition shows how many customers it matches on its own and how many are "
        "left after it, so the marketer sees which clause does the narrowing."
    )),
    ("09-rule-text", (
        "The same rule is shown as text, in the rule language: spend greater than ten "
        "thousand and visits at most three. Text and builder stay in step: typing the "
        "text redraws the builder, and a mistake is shown by line and column."
    )),
    ("10-why-in", (
        "Why is a customer in or out? Asha Rao, pushed a moment ago, is in: "
        "each condition carries a green tick. Counts are explainable, "
        "not a black box."
    )),
    ("11-why-out", (
        "Vikram Shetty is out. He spent enough, but his four visits fail the second "
        "condition, which is marked with a cross. This is the question a marketer is "
        "asked most often, answered in one click."
    )),
    ("12-saved", (
        "Saving the segment lands on the campaign history, with the segment's size: "
        "{rule_count} customers. The history already holds a win-back campaign for "
        "{winback_count} lapsed customers in Pune, sent through the API a moment ago."
    )),
    ("13-new-campaign", (
        "The new campaign uses the saved segment and the seed's message: Hi, name, "
        "here's ten percent off on your next order. The preview renders it for a few real "
        "customers, so a broken template is caught before sending."
    )),
    ("14-sending", (
        "Sending freezes the audience: a snapshot of the {rule_count} recipients is "
        "written to the communications log in one statement before the page returns. "
        "A dummy vendor delivers each message and reports back through a signed receipt, "
        "an HMAC the app checks before it counts anything."
    )),
    ("15-campaign-done", (
        "The figures add up while it sends, and the chart follows. Delivery is done: "
        "{sent} sent and {failed} failed, out of {rule_count}. The vendor fails about "
        "one message in ten on purpose, and a repeated receipt never counts twice."
    )),
    ("16-log-failed", (
        "The delivery log, filtered to failed messages, shows exactly who did not get "
        "the offer, with the personalised text each one was sent."
    )),
    ("17-history", (
        "The campaign history lists every campaign, most recent first: ours on top, the "
        "Pune win-back below it. Each shows audience, sent, failed and pending, which "
        "always add up to the audience, and a bar for the delivery split."
    )),
    ("18-dashboard-again", (
        "Back on the dashboard, the campaign sits under recent campaigns with its delivery "
        "bar. That is the whole loop: ingest, segment, explain, send and measure. "
        "Thanks for watching."
    )),
]  # fmt: skip

# The three screenshots committed to docs/screenshots/ (README "Product tour").
DOC_SHOTS = {
    "08-builder-live-count": "segment-builder.png",
    "15-campaign-done": "campaign-detail.png",
    "17-history": "campaign-history.png",
}


# Marks what a step's narration talks about: table cells get a background, the rest an outline.
MARK = """(e, on) => {
  const cells = e.matches("tr, tbody") ? [...e.querySelectorAll("td")] : e.matches("td") ? [e] : [];
  for (const c of cells) c.style.backgroundColor = on ? "#fef3c7" : "";
  if (!cells.length) {
    e.style.outline = on ? "3px solid #f59e0b" : "";
    e.style.outlineOffset = on ? "3px" : "";
  }
}"""


@dataclass
class Facts:
    """Figures read off the running demo, for the narration."""

    values: dict[str, Any] = field(default_factory=dict)

    def narration(self, text: str) -> str:
        class Missing(dict):  # a figure the run did not find is left out, not a crash
            def __missing__(self, key: str) -> str:
                return "the"

        return text.format_map(Missing(self.values))


def spoken_number(text: str) -> int:
    """Digits only, so espeak-ng reads a number, not Indian digit groups."""
    return round(float(text.replace("₹", "").replace(",", "").split()[0]))


def log(message: str) -> None:
    print(f"[tour {time.strftime('%H:%M:%S')}] {message}", flush=True)


def missing_tools(tools: tuple[str, ...] = TOOLS) -> list[str]:
    """The narration and video tools that are not on PATH."""
    return [tool for tool in tools if shutil.which(tool) is None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_env(out: Path) -> dict[str, str]:
    """The caller's environment without XENO_* / Google settings: embedded mode, on a
    database of the tour's own under `out` (never the user's demo)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XENO_", "GOOGLE_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env["XENO_INSTANCE_PATH"] = str(out.resolve() / "instance")
    return env


def xeno_command() -> list[str]:
    exe = shutil.which("xeno")
    return [exe] if exe else [sys.executable, str(ROOT / "cli.py")]


@contextmanager
def demo_server(out: Path, customers: int, orders: int) -> Iterator[str]:
    """Run `xeno demo` on a free port until the block ends; yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = out / "demo.log"
    cmd = xeno_command() + [
        "demo", "--fresh", "--port", str(port), "--customers", str(customers),
        "--orders", str(orders),
    ]  # fmt: skip
    log(f"starting {' '.join(cmd[1:] if len(cmd) == 1 else cmd)} (log: {log_path})")
    with log_path.open("w") as handle:
        proc = subprocess.Popen(
            cmd, cwd=out, env=demo_env(out), stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"xeno demo exited with {proc.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"xeno demo did not answer /healthz; see {log_path}")
                time.sleep(0.5)
            log(f"demo is up on {url}")
            yield url
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop the demo (its own process group, started above) and wait for it."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Api:
    """The demo's JSON API with a token made by `xeno token create` on the demo's database."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.url = url
        env = demo_env(cwd)  # the same SQLite file the tour's `xeno demo` uses
        done = subprocess.run(
            xeno_command() + ["token", "create", "tour"],
            cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        self.token = done.stdout.strip().splitlines()[-1]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + "/api/v1" + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())

    def push(self, kind: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Publish records, then wait until their batch is stored."""
        batch = self.call("POST", f"/{kind}", records)
        deadline = time.monotonic() + 60
        while True:
            status = self.call("GET", f"/batches/{batch['batch_id']}")
            if status["status"] == "done" or time.monotonic() > deadline:
                return status
            time.sleep(0.3)


def _when(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def tour_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two new customers: Asha (2 orders, in the segment), Vikram (4 orders, out)."""
    customers = [
        {"id": "TOUR-1", "name": "Asha Rao", "email": "tour.asha@example.com",
         "phone": "+919812345678", "city": "Mumbai", "signup_at": _when(200)},
        {"id": "TOUR-2", "name": "Vikram Shetty", "email": "tour.vikram@example.com",
         "phone": "+919876543210", "city": "Pune", "signup_at": _when(300)},
    ]  # fmt: skip
    orders = [
        {"id": "TOUR-O1", "customer_id": "TOUR-1", "amount": 6499.00, "ordered_at": _when(40)},
        {"id": "TOUR-O2", "customer_id": "TOUR-1", "amount": 5800.00, "ordered_at": _when(5)},
    ] + [
        {"id": f"TOUR-O{3 + k}", "customer_id": "TOUR-2", "amount": 3600.00 + 250 * k,
         "ordered_at": _when(90 - 20 * k)}
        for k in range(4)
    ]  # fmt: skip
    return customers, orders


class Tour:
    """The browser half: one signed-in tab, one screenshot per step."""

    def __init__(self, page: Any, url: str, out: Path, facts: Facts) -> None:
        self.page, self.url, self.out, self.facts = page, url, out, facts
        self.shots: list[Path] = []
        self.names = [stem for stem, _ in STEPS]

    def shot(self, stem: str, *highlight: str) -> None:
        """Screenshot the viewport as the next step, outlining what the narration names."""
        expected = self.names[len(self.shots)]
        assert stem == expected, f"step {stem} out of order (expected {expected})"
        marked = []
        for selector in highlight:
            marked += self.page.locator(selector).element_handles()
        if marked:
            marked[0].scroll_into_view_if_needed()
        self.page.wait_for_timeout(300)  # let fonts, charts and counters settle
        if stem in DOC_SHOTS:  # the README's copy goes without the tour's markings
            self.page.screenshot(path=str(self.out / "clean" / f"{stem}.png"))
        for handle in marked:
            handle.evaluate(MARK, True)
        path = self.out / f"{stem}.png"
        self.page.screenshot(path=str(path))
        for handle in marked:
            handle.evaluate(MARK, False)
        self.shots.append(path)
        log(f"screenshot {path.name}")

    def goto(self, path: str) -> None:
        self.page.goto(self.url + path)
        self.page.wait_for_load_state("networkidle")

    def text(self, selector: str) -> str:
        return self.page.locator(selector).first.inner_text().strip()

    def number(self, selector: str) -> int:
        """A figure as the voice should read it: "₹2,21,48,802.50" → 22148802."""
        return spoken_number(self.text(selector))

    def run(self, api_for: Any) -> None:
        from playwright.sync_api import expect

        page, facts = self.page, self.facts.values
        # 1-2: sign in, dashboard
        self.goto("/login")
        self.shot("01-signin", "#demo-login")
        page.click("#demo-login")
        page.wait_for_url(self.url + "/")
        for key in ("customers", "orders", "revenue"):
            facts[key] = self.number(f"#figure-{key}")
        facts["revenue_crore"] = f"{facts['revenue'] / 1e7:.1f}"
        self.shot("02-dashboard", ".figures")

        # 3: customers in Mumbai by spend
        self.goto("/customers")
        page.fill("input[name=q]", "Mumbai")
        page.press("input[name=q]", "Enter")
        page.wait_for_url("**/customers?q=Mumbai*")
        page.select_option("select[name=sort]", "spend")  # app.js submits on change
        page.wait_for_url("**sort=spend*")
        page.wait_for_load_state("networkidle")
        facts["mumbai"] = self.number("#result-count")
        self.shot("03-customers-mumbai", "form[role=search]")

        # 4-5: push two customers and their orders through the API (token from the CLI)
        api = api_for()
        customers, orders = tour_records()
        early = [o for o in orders if o["customer_id"] == "TOUR-2"]
        api.push("orders", early)  # Vikram's orders arrive before Vikram does
        api.push("customers", customers)
        stored = api.push("orders", orders)  # everything again: at-least-once, no doubles
        log(f"ingested: {stored}")
        earlier = api.call("POST", "/campaigns", {
            "name": "Pune win-back", "rule": WINBACK_RULE, "message": WINBACK_MESSAGE,
        })  # fmt: skip
        facts["winback_count"] = earlier["audience_size"]
        self.goto("/customers?q=tour&sort=spend&order=desc")
        expect(page.locator("#customers-table tbody tr")).to_have_count(2)
        self.shot("04-ingested", "#customers-table tbody")
        row = page.locator("#customers-table tbody tr", has_text="Asha Rao")
        facts["asha_spend"] = spoken_number(row.locator("td.num").first.inner_text())
        self.shot(
            "05-exact-aggregates",
            "#customers-table tbody td:nth-child(5)", "#customers-table tbody td:nth-child(6)",
        )  # fmt: skip

        # 6-9: the builder, visually then as text
        self.goto("/segments/new")
        page.wait_for_selector("#builder .rb-group")
        facts["total"] = self.text("#audience-count")
        self.shot("06-builder-empty", "#audience-count")
        page.fill("#segment-name", SEGMENT_NAME)
        self._condition("spend", ">", "10000")
        expect(page.locator("#rule")).to_have_value("spend > 10000")
        expect(page.locator("#audience-count")).not_to_have_text(facts["total"])
        expect(page.locator("#audience-sample tbody tr").first).to_be_visible()
        facts["spend_count"] = self.text("#audience-count")
        self.shot("07-builder-spend", "#audience-count", "#builder .rb-condition")
        self._condition("visits", "<=", "3")
        expect(page.locator("#rule")).to_have_value(RULE)
        expect(page.locator("#audience-count")).not_to_have_text(facts["spend_count"])
        expect(page.locator("#builder .rb-condition .rb-count").nth(1)).to_contain_text("left")
        facts["rule_count"] = self.text("#audience-count")
        self.shot("08-builder-live-count", "#audience-count", "#builder .rb-count")
        page.fill("#rule", "")  # type it as text: the builder follows
        page.locator("#rule").type(RULE, delay=15)
        expect(page.locator("#builder .rb-condition")).to_have_count(2)
        expect(page.locator("#audience-count")).to_have_text(facts["rule_count"])
        expect(page.locator("#builder .rb-condition .rb-count").nth(1)).to_contain_text("left")
        self.shot("09-rule-text", "#rule", "#builder .rb-condition")

        # 10-11: why is a customer in or out
        for stem, customer, verdict in (("10-why-in", "TOUR-1", "in"),
                                        ("11-why-out", "TOUR-2", "out")):  # fmt: skip
            page.fill("#why-customer", customer)
            page.click("#why-button")
            expect(page.locator("#why-result")).to_contain_text(f"({customer}) is {verdict}")
            # the conditions and the answer on one screen: zoom out a little
            page.evaluate(
                "() => { document.documentElement.style.zoom = '0.8';"
                " document.querySelector('#why-result').scrollIntoView({block: 'end'});"
                " window.scrollBy(0, 40); }"
            )
            self.shot(stem, "#why-result", "#builder .rb-condition")
            page.evaluate("() => { document.documentElement.style.zoom = ''; }")

        # 12: save → campaign history
        page.click("#save-button")
        page.wait_for_url("**/campaigns?saved=*")
        expect(page.locator("#saved-notice")).to_contain_text(SEGMENT_NAME)
        self.shot("12-saved", "#saved-notice")

        # 13: new campaign from the segment, live preview
        page.locator("#saved-notice a").click()
        page.wait_for_url("**/campaigns/new?segment_id=*")
        page.fill("#campaign-name", CAMPAIGN_NAME)
        page.fill("#message", MESSAGE)
        expect(page.locator("#campaign-audience")).to_have_text(facts["rule_count"])
        expect(page.locator("#message-previews li").first).to_contain_text("10% off")
        self.shot("13-new-campaign", "#message", "#message-previews")

        # 14-16: send, watch it add up, the log filtered to FAILED
        page.click("#send-button")
        page.wait_for_url(re.compile(r"/campaigns/\d+$"))
        page.wait_for_selector("#figure-sent")
        self.shot("14-sending", ".figures")
        expect(page.locator("#campaign-status")).to_have_text("done", timeout=180_000)
        page.wait_for_function(
            "() => window.Chart && Chart.getChart('delivery-chart')"
            " && Chart.getChart('delivery-chart').data.datasets[0].data[2] === 0"
        )
        page.wait_for_timeout(800)  # the chart's animation
        facts["sent"] = self.number("#figure-sent")
        facts["failed"] = self.number("#figure-failed")
        self.shot("15-campaign-done", ".figures", ".chart-card")
        page.select_option("#log-status", "FAILED")
        page.wait_for_url("**status=FAILED*")
        page.wait_for_load_state("networkidle")
        page.locator("#log-table").scroll_into_view_if_needed()
        page.evaluate("() => window.scrollBy(0, -80)")
        self.shot("16-log-failed", "#log-filter")

        # 17-18: history, dashboard (once the win-back campaign has finished too)
        deadline = time.monotonic() + 180
        while api.call("GET", f"/campaigns/{earlier['id']}")["status"] != "done":
            if time.monotonic() > deadline:
                break
            time.sleep(1)
        self.goto("/campaigns")
        expect(page.locator("#campaigns-table tbody tr").first).to_contain_text(CAMPAIGN_NAME)
        self.shot("17-history", "#campaigns-table tbody tr >> nth=0")
        self.goto("/")
        self.shot("18-dashboard-again", ".table tbody tr >> nth=0")

    def _condition(self, field_name: str, op: str, value: str) -> None:
        page = self.page
        head = page.locator("#builder .rb-group-head").first
        head.get_by_role("button", name="+ Condition").click()
        row = page.locator("#builder .rb-condition").last
        row.locator("select.rb-field").select_option(field_name)
        row.locator("select.rb-op").select_option(op)
        row.locator("input.rb-value").type(value, delay=40)


def browse(url: str, out: Path, facts: Facts) -> list[Path]:
    """Run the story in headless Chromium; return the screenshots in order."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda exc: log(f"page error: {exc}"))
            tour = Tour(page, url, out, facts)
            try:
                tour.run(lambda: Api(url, out))
            except Exception:
                page.screenshot(path=str(out / "failed.png"), full_page=True)
                log(f"failed on {page.url}; see {out / 'failed.png'}")
                raise
            return tour.shots
        finally:
            browser.close()


def duration(path: Path) -> float:
    """A media file's length in seconds (ffprobe)."""
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip())


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-v", "error", *args], check=True)


def make_video(shots: list[Path], facts: Facts, out: Path) -> Path:
    """Narrate each screenshot (espeak-ng), show it as long as its narration, concatenate."""
    work = out / "video"
    work.mkdir(exist_ok=True)
    images, sounds = [], []
    for shot, (stem, text) in zip(shots, STEPS, strict=True):
        spoken = facts.narration(text)
        (work / f"{stem}.txt").write_text(spoken + "\n", encoding="utf-8")
        raw = work / f"{stem}.wav"
        subprocess.run(["espeak-ng", *VOICE, "-w", str(raw), spoken], check=True)
        length = round(duration(raw) + PAUSE, 3)
        padded = work / f"{stem}-padded.wav"
        ffmpeg("-i", str(raw), "-af", f"apad=whole_dur={length}", "-ar", "44100", "-ac", "1",
               "-c:a", "pcm_s16le", str(padded))  # fmt: skip
        images.append(f"file '{shot.resolve()}'\nduration {duration(padded):.3f}")
        sounds.append(f"file '{padded.resolve()}'")
    images.append(f"file '{shots[-1].resolve()}'")  # the concat demuxer's last-frame rule
    (work / "images.txt").write_text("\n".join(images) + "\n", encoding="utf-8")
    (work / "sounds.txt").write_text("\n".join(sounds) + "\n", encoding="utf-8")
    narration = work / "narration.wav"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(work / "sounds.txt"), "-c", "copy",
           str(narration))  # fmt: skip
    video = out / "xeno-tour.mp4"
    ffmpeg(
        "-f", "concat", "-safe", "0", "-i", str(work / "images.txt"), "-i", str(narration),
        "-vf", "fps=25,scale=1440:900,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
        "-tune", "stillimage", "-crf", "22", "-c:a", "aac", "-b:a", "128k",
        "-t", f"{duration(narration):.3f}", "-movflags", "+faststart", str(video),
    )  # fmt: skip
    return video


def copy_doc_shots(out: Path, dest: Path) -> list[Path]:
    """The three README screenshots, scaled to 1280 wide."""
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for stem, name in DOC_SHOTS.items():
        target = dest / name
        ffmpeg("-i", str(out / "clean" / f"{stem}.png"), "-vf", "scale=1280:-1", str(target))
        copied.append(target)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "tour")
    parser.add_argument("--no-video", action="store_true", help="screenshots only")
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--orders", type=int, default=12000)
    parser.add_argument(
        "--docs", action="store_true",
        help="also copy the three README screenshots to docs/screenshots/",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"needs Chromium at {CHROMIUM}: apt-get install -y chromium", file=sys.stderr)
        return 2
    needed = () if args.no_video else TOOLS
    missing = missing_tools(needed + (("ffmpeg",) if args.docs else ()))
    if missing:
        print(f"missing {', '.join(missing)}; install with: {INSTALL}", file=sys.stderr)
        return 2
    out = args.out.resolve()
    (out / "clean").mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("[0-9][0-9]-*.png"), *out.glob("clean/*.png"), out / "failed.png"]:
        old.unlink(missing_ok=True)
    started = time.monotonic()
    facts = Facts()
    with demo_server(out, args.customers, args.orders) as url:
        shots = browse(url, out, facts)
    log(f"{len(shots)} screenshots in {out}")
    if args.docs:
        for path in copy_doc_shots(out, ROOT / "docs" / "screenshots"):
            log(f"copied {path.relative_to(ROOT)}")
    if not args.no_video:
        video = make_video(shots, facts, out)
        log(f"video {video} ({duration(video):.1f} s)")
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
