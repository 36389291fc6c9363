"""Oracle (run by Debian's /usr/bin/python3): APT's Debian version comparison, pairs on stdin."""

import sys

import apt_pkg

apt_pkg.init_system()
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    r = apt_pkg.version_compare(a, b)
    print((r > 0) - (r < 0))
