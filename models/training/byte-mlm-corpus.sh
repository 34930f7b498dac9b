#!/usr/bin/env bash
# Builds the training text of models/byte-mlm (models/README.md, "Data and licence") from Debian
# 12 packages: English prose (fortunes, WordNet's glosses and example sentences, the Debian
# Administrator's Handbook, the Debian Reference, definitions of the GCIDE dictionary) and
# technical text (the Python 3.11 documentation sources). Writes plain UTF-8 text files, one
# document per paragraph block, into OUT (default runs/data/byte-mlm); installs the packages
# when they are missing. Deterministic: the same packages give the same files.
# The held-out prose of the quality check (samples/mlm/heldout-prose.txt, the Jargon File) is
# from none of these packages.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/data/byte-mlm}
packages=(fortunes wordnet-base debian-handbook debian-reference-en dict-gcide python3.11-doc)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
export LC_ALL=C
rm -rf "$out"
mkdir -p "$out"/{fortunes,wordnet,handbook,reference,gcide,python}

# HTML to paragraphs: one line per paragraph, tags dropped, the usual entities decoded.
html_text() {
  tr '\n\r\t' '   ' <"$1" |
    sed -e 's/<script[^>]*>[^<]*<\/script>//g' -e 's/<style[^>]*>[^<]*<\/style>//g' \
      -e 's/<\/\(p\|div\|h[1-6]\|li\|pre\|tr\|dt\|dd\|title\)>/\n/g' -e 's/<br *\/\{0,1\}>/\n/g' \
      -e 's/<[^>]*>//g' -e 's/&nbsp;/ /g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' \
      -e "s/&#39;/'/g" -e "s/&apos;/'/g" -e 's/&#8217;/’/g' -e 's/&#8220;/“/g' -e 's/&#8221;/”/g' \
      -e 's/&amp;/\&/g' -e 's/  */ /g' -e 's/^ //' -e 's/ $//' |
    awk 'length($0) >= 40 { print; print "" }'
}

# Fortunes: every collection but ASCII art; '%' lines separate entries; overstriking removed.
for file in /usr/share/games/fortunes/*; do
  name=$(basename "$file")
  [[ -L $file || $name == *.* || $name == ascii-art || $name == art ]] && continue
  sed -e 's/.\x08//g' -e 's/^%$//' "$file" >"$out/fortunes/$name.txt"
done

# WordNet 3.0: each synset's gloss (definition; "example sentences"), one per line, cut into
# files of 4,000 lines.
for pos in noun verb adj adv; do
  grep -v '^  ' "/usr/share/wordnet/data.$pos" | sed -e 's/^[^|]*| //' -e 's/ *$//' |
    split -l 4000 -d -a 3 --additional-suffix=.txt - "$out/wordnet/$pos-"
done

for file in /usr/share/doc/debian-handbook/html/en-US/*.html; do
  html_text "$file" >"$out/handbook/$(basename "$file" .html).txt"
done
for file in /usr/share/debian-reference/*.en.html; do
  html_text "$file" >"$out/reference/$(basename "$file" .en.html).txt"
done

# GCIDE: the entries' text without pronunciations (\...\), source tags ([1913 Webster]) and
# braces; the first 12 MB, in files of 3,000 lines.
head -c 12000000 < <(zcat /usr/share/dictd/gcide.dict.dz) |
  sed -e 's/\\[^\\]*\\//g' -e 's/\[[^]]*\]//g' -e 's/[{}]//g' -e 's/^ *//' -e 's/ *$//' |
  cat -s | split -l 3000 -d -a 3 --additional-suffix=.txt - "$out/gcide/part-"

cp -rL /usr/share/doc/python3.11/html/_sources/. "$out/python/"

find "$out" -type f -empty -delete
echo "byte-mlm-corpus.sh: $(find "$out" -type f | wc -l) files, $(du -sb "$out" | cut -f1) bytes in $out" >&2
