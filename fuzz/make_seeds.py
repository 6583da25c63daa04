#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/<target>/ from the conformance expressions
(tests/data/conformance/reference.jsonl), the case corpus (tests/data/cases/*.toml) and the
fuzz regressions (tests/data/fuzz/*.expr). Re-run after adding cases."""
import glob, hashlib, json, os, struct, tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
exprs = []
with open(os.path.join(ROOT, "tests/data/conformance/reference.jsonl")) as f:
    for line in f:
        if line.strip():
            exprs.append(json.loads(line)["expr"])
for path in sorted(glob.glob(os.path.join(ROOT, "tests/data/cases/*.toml"))):
    with open(path, "rb") as f:
        exprs += [c["expr"] for c in tomllib.load(f).get("case", [])]
for path in sorted(glob.glob(os.path.join(ROOT, "tests/data/fuzz/*.expr"))):
    with open(path) as f:
        exprs.append(f.read().rstrip("\n"))
exprs = sorted(set(exprs))

def write(target, data):
    d = os.path.join(ROOT, "fuzz/seeds", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

for e in exprs:
    b = e.encode()
    write("parse", b)
    write("roundtrip", b)
    # eval: even mode byte, seed byte, five attribute tags choosing short strings/lists,
    # then the expression text.
    for prefix in (b"\x00\x00" + b"\x01\x01" * 5, b"\x00\x07" + b"\x05\x02\x00" * 5):
        write("eval", prefix + b)

formats = ["yyyyMMddHHmmss.fZ", "yyyy-MM-dd", "M/d/yyyy h:mm:ss tt", "dddd, MMMM d, yyyy", "o", "s", "u",
           "HH:mm:ss.fffffff zzz", "'lit'\\y%d", "yyyyMMddHHmmss", "d", "g", "G", "R", "ggg yy", "K"]
texts = ["20210825174118.0Z", "2021-08-25", "8/25/2021 5:41:18 PM", "", " 2021 ", "Wednesday, August 25, 2021"]
for i, fmt in enumerate(formats):
    for t in texts[:3]:
        write("datefmt", struct.pack("<qB", 637655000000000000 + i, i % 64) + fmt.encode() + b"\0" + t.encode() + b"\0AllowWhiteSpaces")
print(len(exprs), "expressions")
