#!/usr/bin/env bash
# Replaces the README's speed tables, between the <!-- bench:begin --> and
# <!-- bench:end --> lines, with FILE (the Markdown output of `make bench`
# and `groupvit bench-files`), verbatim: the table is regenerated from a run,
# never edited by hand. Used by `make bench-readme`.
#
# Usage: scripts/readme-bench.sh FILE [README]
set -euo pipefail
file=$1
readme=${2:-README.md}
grep -q '^<!-- bench:begin -->$' "$readme" && grep -q '^<!-- bench:end -->$' "$readme" ||
	{ echo "readme-bench: $readme lacks the <!-- bench:begin --> / <!-- bench:end --> lines" >&2; exit 1; }
tmp=$(mktemp "${readme}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
awk -v file="$file" '
	/^<!-- bench:begin -->$/ { print; while ((getline line < file) > 0) print line; skip = 1; next }
	/^<!-- bench:end -->$/ { skip = 0 }
	!skip { print }
' "$readme" > "$tmp"
mv "$tmp" "$readme"
trap - EXIT
echo "readme-bench: $readme now holds the tables of $file"
