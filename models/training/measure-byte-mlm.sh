#!/usr/bin/env bash
# Measures a byte MLM (default models/byte-mlm) as users meet it, through perceiver-mlm's code,
# on the held-out prose samples/mlm/heldout-prose.txt (models/README.md, "Quality"), under the
# three rules of models/README.md: single letters (15 % of the letters), words with their
# leading space (12 % of the words that follow a space), and the training mixture (15 %). Writes
# MODEL/quality.json: the three `perceiver-train eval` lines by rule. One thread, so the numbers
# do not depend on the machine's core count.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-models/byte-mlm}
text=samples/mlm/heldout-prose.txt
eval_rule() { build/apps/perceiver-train eval mlm -t 1 -m "$model" --text "$text" --rule "$1" --fraction "$2"; }
{
  printf '{\n  "text": "%s",\n  "rules": {\n' "$text"
  printf '    "letters": %s,\n' "$(eval_rule letters 0.15)"
  printf '    "space-words": %s,\n' "$(eval_rule space-words 0.12)"
  printf '    "mixture": %s\n' "$(eval_rule mixture 0.15)"
  printf '  }\n}\n'
} >"$model/quality.json.tmp"
mv "$model/quality.json.tmp" "$model/quality.json"
cat "$model/quality.json"
