#!/usr/bin/env python3
# Runs a command as UID:GID inside a user namespace whose user.max_user_namespaces is 0, so
# that the command cannot create a user namespace of its own, without touching the host's
# sysctls (the limit is per user namespace). Run as root.
# Usage: no-userns.py UID GID COMMAND...
import ctypes, os, sys

CLONE_NEWUSER = 0x10000000
libc = ctypes.CDLL(None, use_errno=True)
uid, gid, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
r, w = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r); os.close(w2)
    if libc.unshare(CLONE_NEWUSER) != 0:
        sys.exit("unshare: " + os.strerror(ctypes.get_errno()))
    os.write(w, b"u"); os.close(w)
    os.read(r2, 1)  # the maps are written
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    os.execvp(argv[0], argv)
os.close(w); os.close(r2)
if os.read(r, 1) != b"u":
    sys.exit("no-userns.py: the child could not unshare")
for name in ("uid_map", "gid_map"):
    with open(f"/proc/{pid}/{name}", "w") as f:
        f.write("0 0 4294967295")
os.write(w2, b"g"); os.close(w2)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
