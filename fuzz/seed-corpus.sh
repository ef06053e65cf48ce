#!/bin/sh
# Seeds fuzz/corpus/{envelope,router} from the recorded real app-server traffic
# (crates/codex-client-protocol/tests/fixtures/*.jsonl): every line on its own (envelope), and
# every recording whole plus windows of 20 consecutive lines (router).
set -eu
cd "$(dirname "$0")"
fixtures=../crates/codex-client-protocol/tests/fixtures
mkdir -p corpus/envelope corpus/router
for f in "$fixtures"/*.jsonl; do
    name=$(basename "$f" .jsonl)
    cp "$f" "corpus/router/$name"
    cp "$f" "corpus/envelope/$name"
    n=0
    while IFS= read -r line; do
        n=$((n + 1))
        printf '%s' "$line" > "corpus/envelope/$name-$n"
    done < "$f"
    total=$(wc -l < "$f")
    start=1
    while [ "$start" -le "$total" ]; do
        sed -n "${start},$((start + 19))p" "$f" > "corpus/router/$name-from-$start"
        start=$((start + 10))
    done
done
echo "envelope: $(ls corpus/envelope | wc -l) inputs, router: $(ls corpus/router | wc -l) inputs"
