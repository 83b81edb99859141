#!/usr/bin/python3
"""takd-usersd on its own channel, as a compromised supervisor would talk
to it (docs/security.md, "Console: who changes the users file").

  usersd_direct.py TAKD_USERSD USERS_FILE GID|-

Starts takd-usersd with one end of a SOCK_SEQPACKET pair at descriptor 3
and sends it IPC_MSG_USER_EDIT frames (ipc/users_msg.h) directly: a wrong
admin password and a user who is not an admin are refused (status 2) and
leave the file byte for byte; a right one adds a user of role user; a
frame with an unknown operation makes it exit 1.  While it runs it is uid
0 with no capability.  Exit 0 when every check holds.
"""
import os
import socket
import struct
import subprocess
import sys

# docs/ipc.md: numbers never change once given.
IPC_MSG_USER_EDIT, IPC_MSG_USER_EDIT_ACK = 33, 34
HDR = "=IIII"		# type, len (header included), gen, src_worker


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def frame(gen, op, admin, admin_pw, user, pw="", groups="", i="", o=""):
    p = struct.pack("=I", op)
    for s in (admin, admin_pw, user, pw, groups, i, o):
        b = s.encode()
        p += struct.pack("=I", len(b)) + b
    return struct.pack(HDR, IPC_MSG_USER_EDIT, 16 + len(p), gen, 0) + p


def answer(sock, gen):
    data = sock.recv(65536)
    t, n, g, _ = struct.unpack_from(HDR, data)
    if t != IPC_MSG_USER_EDIT_ACK or n != len(data) or g != gen:
        fail("answer: type %d len %d/%d gen %d" % (t, n, len(data), g))
    st, ln = struct.unpack_from("=II", data, 16)
    return st, data[24:24 + ln].decode()


def main():
    exe, path, gid = sys.argv[1:4]
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    args = [exe, "-u", path, "-l", "stderr"]
    if gid != "-":
        args += ["-g", gid]
    # In the child, b at descriptor 3 (kept: 3 is in pass_fds).
    p = subprocess.Popen(args, pass_fds=(3, b.fileno()),
                         preexec_fn=lambda: os.dup2(b.fileno(), 3))
    b.close()
    a.settimeout(10)
    try:
        before = open(path, "rb").read()
        for gen, (admin, pw) in enumerate((("alice", "wrong"),
                                           ("bob", "pw-bob"),
                                           ("nobody", "pw-alice")), 1):
            a.send(frame(gen, 1, admin, pw, "eve", "pw-eve", "Blue"))
            st, msg = answer(a, gen)
            if st != 2 or "admin password is wrong" not in msg:
                fail("%s/%s: status %d %r" % (admin, pw, st, msg))
            if open(path, "rb").read() != before:
                fail("a refused request changed the file")
        status = open("/proc/%d/status" % p.pid).read()
        for field, want in (("Uid:", "0"), ("CapEff:", "0000000000000000"),
                            ("CapPrm:", "0000000000000000")):
            line = [x for x in status.splitlines() if x.startswith(field)]
            if not line or line[0].split()[1] != want:
                fail("takd-usersd %s" % line)
        a.send(frame(9, 1, "alice", "pw-alice", "eve", "pw-eve", "Blue"))
        st, msg = answer(a, 9)
        if st != 0 or not any(x.startswith("eve:") and ":user:Blue:" in x
                              for x in open(path).read().splitlines()):
            fail("the admin's request: %d %r" % (st, msg))
        a.send(frame(10, 9, "alice", "pw-alice", "eve"))
        rc = p.wait(timeout=10)
        if rc != 1:
            fail("an unknown operation: exit %d, expected 1" % rc)
    finally:
        if p.poll() is None:
            p.kill()
    print("takd-usersd alone: 3 refusals, file unchanged; uid 0 without "
          "capabilities; the admin's change made; a bad frame: exit 1")


main()
