#!/usr/bin/env bash
# Make sure a CJK font is available so Chinese renders in figures and reports.
set -u
has_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null | head -n 1)" ]; }
if has_font; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing a CJK font (fonts-noto-cjk) so Chinese renders in figures ..."
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq fonts-noto-cjk fontconfig; } >/tmp/riskmodel-fonts.log 2>&1 \
    || { echo "WARNING: could not install fonts-noto-cjk (see /tmp/riskmodel-fonts.log)."; }
  rm -rf "${HOME:-/root}/.cache/matplotlib" 2>/dev/null
fi
if ! has_font; then
  cat <<'MSG'
WARNING: no CJK font found. Chinese text in figures will show as empty boxes.
  Debian/Ubuntu: sudo apt-get install fonts-noto-cjk
  Fedora:        sudo dnf install google-noto-sans-cjk-fonts
  macOS/conda:   conda install -c conda-forge font-ttf-noto-cjk  (or set RISKMODEL_CJK_FONT=/path/to/font.otf)
MSG
fi
exit 0
