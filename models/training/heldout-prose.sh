#!/usr/bin/env bash
# Writes samples/mlm/heldout-prose.txt, the held-out English prose on which models/byte-mlm is
# measured (models/README.md, "Quality"): paragraphs of the Jargon File 4.4.7 (public domain;
# Debian 12's jargon-text package), a source none of the training text comes from. One
# paragraph per line, its lines joined with single spaces; cross-reference braces dropped;
# headword lines, paragraphs under 80 or over 1,500 bytes and those under 90 % ASCII letters and
# spaces (tables, code, front matter) left out; every 8th paragraph, at most 1,000.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-samples/mlm/heldout-prose.txt}
source=/usr/share/doc/jargon-text/jargon.txt.gz
if ! [[ -f $source ]]; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends jargon-text >&2
fi
export LC_ALL=C
zcat "$source" | sed -e 's/[{}]//g' |
  awk 'BEGIN { n = 0; kept = 0 }
       function flush() {
         plain = para; letters = gsub(/[A-Za-z ]/, "", plain)
         if (para != "" && para !~ /^:/ && length(para) >= 80 && length(para) <= 1500 && letters >= 0.9 * length(para)) {
           if (n % 8 == 0 && kept < 1000) { print para; kept++ }
           n++
         }
         para = ""
       }
       /^[ \t]*$/ { flush(); next }
       { line = $0; sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line); para = (para == "" ? line : para " " line) }
       END { flush() }' >"$out"
echo "heldout-prose.sh: $(wc -l <"$out") paragraphs, $(wc -c <"$out") bytes in $out" >&2
