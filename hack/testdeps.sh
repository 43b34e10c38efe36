#!/usr/bin/env bash
# Installs what the tests need from Debian besides Go, git and make: tmux
# (the explorer in a real terminal, test/terminal) and bash-completion
# (TestBashCompletion sources cobra's bash script, which uses it, as
# kubectl's does). `make test` runs it first (`make testdeps`), and so does
# .ci/run through it. It checks before it installs: when both are there it
# does nothing, quickly. apt-get runs only for what is missing and only as
# root; otherwise it says which packages to install and fails, before a long
# test run would fail on them.
set -euo pipefail

need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "the tests need Debian's ${need[*]}: install as root (apt-get install ${need[*]}), then run make test again" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the tests need ${need[*]} (Debian's package names) and there is no apt-get here: install them with this system's package manager" >&2
  exit 1
fi
echo "installing the tests' Debian packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
