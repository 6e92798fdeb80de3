#!/usr/bin/env python3
"""The trace page in headless Chromium: the slider drives what the page shows.

    trace_page_chromium.py TRACE_PAGE_SAMPLE WORKDIR

Writes the sample page (trace_page_sample), then for several slider positions loads
page.html#step=N in headless Chromium, which sets the slider and fires its input handler, and reads
back the DOM after the scripts ran (--dump-dom): the step label, the large current state, which
diagram rows are hidden as "future" and which is "current". Exits 77 (CTest: skipped) naming the
reason when no Chromium is installed."""
import html.parser
import os
import shutil
import subprocess
import sys


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
        if path:
            return path
    return None


class Dom(html.parser.HTMLParser):
    """Rows (phase, step, classes, visible words), the label's text and the words of #now."""

    def __init__(self):
        super().__init__()
        self.rows, self.label, self.now = [], "", []
        self.stack = []  # (tag, attrs) of open elements
        self.in_label = self.in_now = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and "data-phase" in a:
            self.rows.append({"phase": a["data-phase"], "step": int(a["data-step"]),
                              "classes": a.get("class", "").split(), "words": []})
        if tag == "output" and a.get("id") == "step-label":
            self.in_label = True
        if tag == "div" and a.get("id") == "now":
            self.in_now = True
        self.stack.append((tag, a))

    def handle_endtag(self, tag):
        while self.stack:
            t, a = self.stack.pop()
            if t == "output":
                self.in_label = False
            if t == "div" and a.get("id") == "now":
                self.in_now = False
            if t == tag:
                break

    def handle_data(self, data):
        if self.in_label:
            self.label += data
        if not self.stack or self.stack[-1][0] != "span":
            return
        classes = self.stack[-1][1].get("class", "").split()
        if "tok" not in classes:
            return
        if self.in_now:
            self.now.append(data)
        elif any(t == "div" and "data-phase" in a for t, a in self.stack) and "gap" not in classes:
            self.rows[-1]["words"].append(data)


def main():
    sample, work = sys.argv[1], sys.argv[2]
    browser = chromium()
    if not browser:
        print("SKIPPED: no Chromium installed (Debian: apt-get install chromium; scripts/setup-deps --ci installs it)")
        return 77
    os.makedirs(work, exist_ok=True)
    page = os.path.join(work, "trace.html")
    subprocess.run([sample, page], check=True)
    profile = os.path.join(work, "profile")

    def dom(step):
        out = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                              "--virtual-time-budget=2000", "--dump-dom", f"file://{page}#step={step}"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0 or "<body" not in out.stdout:
            raise SystemExit(f"chromium failed ({out.returncode}):\n{out.stderr[-2000:]}")
        d = Dom()
        d.feed(out.stdout)
        return d

    # The sample: 9 words, 2 removed a step down to 3 keywords (3 noising steps), then the oracle's 3
    # denoising steps; the slider runs over 0..6.
    sentence = "a quick brown fox jumps over the lazy dog".split()
    seen = {}
    for step in range(0, 7):
        d = dom(step)
        T = sum(1 for r in d.rows if r["phase"] == "noise") - 1
        S = sum(1 for r in d.rows if r["phase"] == "denoise") - 1
        assert (T, S) == (3, 3), (T, S)
        assert d.label.startswith(f"step {step} of 6"), f"#step={step}: label {d.label!r}"
        current = [r for r in d.rows if "current" in r["classes"]]
        assert len(current) == 1, f"#step={step}: {len(current)} current rows"
        phase, k = ("noise", step) if step <= T else ("denoise", step - T)
        assert (current[0]["phase"], current[0]["step"]) == (phase, k), (step, current[0])
        for r in d.rows:
            future = (r["phase"] == "denoise" or r["step"] > k) if phase == "noise" else \
                     (r["phase"] == "denoise" and r["step"] > k)
            assert ("future" in r["classes"]) == future, (step, r)
        # The large state is the current row's visible words.
        assert d.now == current[0]["words"], (step, d.now, current[0]["words"])
        seen[step] = (d.label, tuple(d.now))
        print(f"#step={step}: {d.label} | {' '.join(d.now)}")
    assert list(seen[0][1]) == sentence and list(seen[6][1]) == sentence
    assert len(seen[3][1]) == 3, seen[3]  # the keywords
    assert len({v[0] for v in seen.values()}) == 7, "every slider position has its own label"
    assert seen[1][1] != seen[0][1] and seen[4][1] != seen[3][1], "moving the slider changes the visible state"
    print("ok: the slider changes the visible step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
