#!/bin/sh
# Oracle: dpkg --compare-versions itself, one "a<TAB>b" pair a line on stdin.
tab=$(printf '\t')
while IFS="$tab" read -r a b; do
    if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo -1
    elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo 0
    else echo 1
    fi
done
