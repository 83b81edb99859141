#!/usr/bin/python3
# memscan.py PID HEX...: whether the memory of process PID holds each byte
# string HEX (also reversed, as OpenSSL's BIGNUM limbs hold a number on a
# little-endian host).  Prints "HEX found" or "HEX absent" per needle; exit
# 0, or 2 when the memory cannot be read.  Root only (/proc/PID/mem).
# Regions over 1 GiB (sanitizer shadow, reserved heaps) are skipped: what
# they hold is mostly never touched.
import sys

LIMIT = 1 << 30
CHUNK = 1 << 22


def regions(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if "r" not in f[1] or hi - lo > LIMIT:
                continue
            if len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]"):
                continue
            yield lo, hi


def main():
    pid = int(sys.argv[1])
    needles = [bytes.fromhex(h) for h in sys.argv[2:]]
    pats = [(n, n[::-1]) for n in needles]
    found = [False] * len(needles)
    longest = max(len(n) for n in needles)
    try:
        mem = open("/proc/%d/mem" % pid, "rb", 0)
    except OSError as e:
        print("cannot open memory: %s" % e)
        return 2
    with mem:
        for lo, hi in regions(pid):
            tail = b""
            off = lo
            while off < hi:
                n = min(CHUNK, hi - off)
                try:
                    mem.seek(off)
                    buf = mem.read(n)
                except OSError:
                    break
                if not buf:
                    break
                data = tail + buf
                for i, (a, b) in enumerate(pats):
                    if not found[i] and (a in data or b in data):
                        found[i] = True
                tail = data[-longest:]
                off += len(buf)
    for h, f in zip(sys.argv[2:], found):
        print("%s %s" % (h, "found" if f else "absent"))
    return 0


sys.exit(main())
