#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca audit --html: the report is one self-contained page (no script, no external asset)
# that Debian's chromium renders headless. The DOM chromium builds holds the heatmap as
# inline SVG with one cell per layer and tensor kind (plus the aligned column for a
# permuted fork), colored by cosine: green for the same layers, red for the foreign ones of
# a merge. Card text is escaped (a base_model with markup stays text). The screenshot is
# kept under $ARCA_TEST_ARTIFACTS when that is set, for a person to look at.
. "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || fail "chromium is not installed (scripts/setup-debian.sh installs it)"
FORK="$ARCA_SOURCE/tests/fixtures/make_fork.py"
fork() { python3 "$FORK" "$@" >/dev/null || fail "make_fork.py $*"; }
# render PAGE DOM PNG: chromium's serialized DOM and a screenshot
render() {
	local profile="$T/chromium-profile"
	HOME="$T" "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$profile" --dump-dom "file://$1" >"$2" 2>"$T/chromium.err" ||
		fail "chromium could not load $1: $(tail -3 "$T/chromium.err")"
	HOME="$T" "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$profile" --window-size=1100,1000 --screenshot="$3" "file://$1" \
		>/dev/null 2>>"$T/chromium.err" || fail "chromium could not take a screenshot"
	[ -s "$3" ] || fail "no screenshot"
}

B="$T/base"
shape=(--arch llama --layers 4 --hidden 64 --ffn 128 --heads 4 --kv-heads 2 --untied)
make_llm "$B" "${shape[@]}" --seed 11
make_llm "$B-other" "${shape[@]}" --seed 12
fork "$B" "$B-merge" merge --other "$B-other" --layers 2,3 \
	--card 'base_model=acme/<b>bold</b>' --card license=mit
fork "$B" "$B-perm" permute --noise 1e-3
run 0 "$ARCA" init
for m in "" -other -merge -perm; do
	run 0 "$ARCA" add "$B$m" --as "acme/base$m" -q
done

run 0 "$ARCA" audit acme/base-merge --base acme/base --html "$T/merge.html" --json
expect_json 'd["relation"]' "partial merge"
[ -s "$T/merge.html" ] || fail "no report"
grep -qiE '<script|<link|src=|url\(http|@import' "$T/merge.html" && fail "the page is not self-contained"
render "$T/merge.html" "$T/merge.dom" "$T/merge.png"

python3 - "$T/merge.dom" <<'EOF' || fail "the merge report's DOM is not what it should be"
import html.parser, re, sys
class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.bold, self.svgs, self.text = [], 0, 0, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "rect" and a.get("class") == "cell":
            self.cells.append((float(a["y"]), float(a["x"]), a["fill"]))
        if tag == "b":
            self.bold += 1
    def handle_data(self, data):
        self.text.append(data)
p = Page()
p.feed(open(sys.argv[1]).read())
text = "".join(p.text)
assert p.svgs >= 2, "no inline SVG"
assert p.bold == 0, "card markup was not escaped"
assert "acme/<b>bold</b>" in text, "the card's base_model is not shown as text"
assert "partial merge" in text and "DISAGREES" in text
rows = {}
for y, x, fill in p.cells:
    rows.setdefault(y, []).append((x, fill))
assert len(rows) == 4, "want 4 layer rows, got %d" % len(rows)
kinds = {len(v) for v in rows.values()}
assert kinds == {9}, "want 9 tensor kinds per layer, got %s" % kinds
def hue(fill):
    m = re.match(r"hsl\((\d+)", fill)
    return int(m.group(1)) if m else None
layers = [sorted(rows[y]) for y in sorted(rows)]
# layers 0 and 1 are the base's: every cell green (hue 120); layers 2 and 3 came from the
# other model: their matrices red (hue near 0), their norms (all ones) green
for i in (0, 1):
    assert all(hue(f) == 120 for _, f in layers[i]), "layer %d should be all green" % i
for i in (2, 3):
    reds = sum(1 for _, f in layers[i] if hue(f) is not None and hue(f) < 10)
    assert reds == 7, "layer %d should have 7 red matrices, has %d" % (i, reds)
EOF

# a permuted fork: an extra column shows the layers after aligning the hidden units
run 0 "$ARCA" audit acme/base-perm --base acme/base --html "$T/perm.html" -q
render "$T/perm.html" "$T/perm.dom" "$T/perm.png"
python3 - "$T/perm.dom" <<'EOF' || fail "the permuted fork's report is not what it should be"
import re, sys
dom = open(sys.argv[1]).read()
assert "permuted fine-tune" in dom
cells = re.findall(r'<rect class="cell"[^>]*fill="([^"]+)"[^>]*stroke="#333"', dom)
assert len(cells) == 4, "want an aligned cell per layer, got %d" % len(cells)
assert all(c.startswith("hsl(120,") for c in cells), cells
EOF

if [ -n "${ARCA_TEST_ARTIFACTS:-}" ]; then
	mkdir -p "$ARCA_TEST_ARTIFACTS"
	cp "$T/merge.png" "$T/perm.png" "$T/merge.html" "$ARCA_TEST_ARTIFACTS/"
fi

# a report cannot be written where no folder is, and nothing is left behind
run 4 "$ARCA" audit acme/base-merge --base acme/base --html "$T/no/such/dir/r.html" -q
expect_stderr "No such file or directory"
[ ! -e "$T/no" ] || fail "a folder was created"
pass
