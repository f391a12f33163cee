#!/usr/bin/env python3
"""Attacks on swnet's DNS server, for scripts/cni/dns-guard-test (throwaway namespaces only).

hold ADDR SEEN GO REALIP     an upstream on ADDR:53: takes one query, writes "PORT ID" to SEEN,
                             waits for the file GO, then answers with the wrong question and
                             the right id, then correctly with REALIP
ask FROM SERVER NAME         one A query from address FROM; prints the first answer (20 s at most)
forge FROM SERVER PORT ID NAME IP   an answer for NAME with IP, from FROM, to SERVER:PORT
silent ADDR READY            an upstream on ADDR:53 that never answers (touches READY when bound)
flood FROM SERVER N          N queries for distinct names under example.invalid, not waiting
overflow FROM SERVER NAME    keeps the server's table of queries in flight full (new upstream
                             names, faster than they expire) until it answers one with SERVFAIL,
                             then asks NAME (again each second, as a resolver would, since a full
                             socket buffer may drop a datagram); prints "SERVFAIL", the first
                             address, or "timeout" after 60 s
udp FROM SERVER NAME         one A query over UDP: prints "tc=T answers=N"
tcp SERVER NAME              one A query over TCP: prints the number of A answers
"""
import os, random, socket, struct, sys, time


def question(name, qtype=1):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0" + struct.pack(">HH", qtype, 1)


def query(name, qid=None):
    qid = random.randint(0, 65535) if qid is None else qid
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question(name)


def answer(qid, name, ip):
    q = question(name)
    rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton(ip)
    return struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + rr


def first_a(data):
    qd, an = struct.unpack(">HH", data[4:8])
    i = 12
    while data[i]:
        i += 1 + data[i]
    i += 5
    for _ in range(an):
        if data[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while data[i]:
                i += 1 + data[i]
            i += 1
        t, _, _, ln = struct.unpack(">HHIH", data[i:i + 10])
        if t == 1:
            return socket.inet_ntoa(data[i + 10:i + 14])
        i += 10 + ln
    return None


def udp_from(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    return s


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "hold":
        addr, seen, go, real = args
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 53))
        open(seen + ".ready", "w").close()
        data, peer = s.recvfrom(4096)
        qid = struct.unpack(">H", data[:2])[0]
        end = data.index(b"\0", 12) + 5
        name = ".".join(l.decode() for l in iter_labels(data[12:end]))
        with open(seen + ".tmp", "w") as f:
            f.write("%d %d %s\n" % (peer[1], qid, name))
        os.rename(seen + ".tmp", seen)
        deadline = time.time() + 30
        while not os.path.exists(go) and time.time() < deadline:
            time.sleep(0.01)
        s.sendto(answer(qid, "evil.example", "10.66.66.66"), peer)
        s.sendto(answer(qid, name, real), peer)
    elif cmd == "silent":
        addr, ready = args
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 53))
        open(ready, "w").close()
        time.sleep(600)
    elif cmd == "ask":
        frm, server, name = args
        s = udp_from(frm)
        s.settimeout(20)
        s.sendto(query(name), (server, 53))
        try:
            data = s.recv(4096)
            print(first_a(data))
        except socket.timeout:
            print("timeout")
    elif cmd == "forge":
        frm, server, port, qid, name, ip = args
        s = udp_from(frm)
        for _ in range(3):
            s.sendto(answer(int(qid), name, ip), (server, int(port)))
    elif cmd == "flood":
        frm, server, n = args
        s = udp_from(frm)
        for i in range(int(n)):
            try:
                s.sendto(query("q%d.example.invalid" % i), (server, 53))
            except OSError:
                pass
    elif cmd == "overflow":
        frm, server, name = args
        flood = udp_from(frm)
        flood.setblocking(False)
        asker = udp_from(frm)
        asker.settimeout(0.2)
        deadline = time.time() + 60
        sent, full, next_ask = 0, False, 0.0
        while time.time() < deadline:
            for _ in range(200):
                try:
                    flood.sendto(query("f%d.example.invalid" % sent), (server, 53))
                except OSError:
                    pass
                sent += 1
            try:
                while not full:
                    full = flood.recv(4096)[3] & 0xF == 2
            except OSError:
                pass
            if not full:
                continue
            if time.time() >= next_ask:
                asker.sendto(query(name), (server, 53))
                next_ask = time.time() + 1
            try:
                data = asker.recv(4096)
            except socket.timeout:
                continue
            print("SERVFAIL" if data[3] & 0xF == 2 else first_a(data))
            return
        print("timeout")
    elif cmd == "udp":
        frm, server, name = args
        s = udp_from(frm)
        s.settimeout(10)
        s.sendto(query(name), (server, 53))
        data = s.recv(65535)
        print("tc=%d answers=%d" % ((data[2] >> 1) & 1, struct.unpack(">H", data[6:8])[0]))
    elif cmd == "tcp":
        server, name = args
        s = socket.create_connection((server, 53), timeout=10)
        m = query(name)
        s.sendall(struct.pack(">H", len(m)) + m)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
            chunk = s.recv(65535)
            if not chunk:
                break
            buf += chunk
        data = buf[2:]
        print(struct.unpack(">H", data[6:8])[0])


def iter_labels(q):
    i = 0
    while q[i]:
        yield q[i + 1:i + 1 + q[i]]
        i += 1 + q[i]


if __name__ == "__main__":
    main()
