"""Oracle (run by Debian's /usr/bin/python3 with python3-rpm): rpm's own EVR comparison."""

import sys

import rpm

for line in sys.stdin:
    a, b = (rpm.ver(s) for s in line.rstrip("\n").split("\t"))
    print((a > b) - (a < b))
