#!/usr/bin/env python3
"""DNS helpers for the network tests (run inside throwaway namespaces only).

stub ADDR PORT IP       answer every A query with IP (a stand-in upstream resolver)
query SERVER NAME [TYPE] print the answers (A, AAAA, PTR) or the rcode name
flood SERVER NAME N      N queries, local and random, as fast as answers come back
garbage SERVER N         N malformed packets
latency SERVER NAME N    mean and p99 answer time of N sequential queries, in ms
accept PORT              accept one TCP connection, print "PEER-ADDRESS DATA" (60 s at most)
"""
import os, random, socket, struct, sys, time

TYPES = {"A": 1, "PTR": 12, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN"}


def build(name, qtype, qid=None):
    qid = random.randint(0, 65535) if qid is None else qid
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
    return qid, struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", qtype, 1)


def read_name(data, i):
    labels = []
    while True:
        n = data[i]
        if n & 0xC0 == 0xC0:
            ptr = ((n & 0x3F) << 8) | data[i + 1]
            labels.append(read_name(data, ptr)[0])
            return ".".join(labels), i + 2
        if n == 0:
            return ".".join(labels), i + 1
        labels.append(data[i + 1:i + 1 + n].decode())
        i += 1 + n


def ask(server, name, qtype="A", timeout=2.0):
    qid, packet = build(name, TYPES[qtype])
    s = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(packet, (server, 53))
    data, _ = s.recvfrom(4096)
    s.close()
    rcode = data[3] & 0x0F
    an = struct.unpack(">H", data[6:8])[0]
    i = 12
    _, i = read_name(data, i)
    i += 4
    answers = []
    for _ in range(an):
        _, i = read_name(data, i)
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[i:i + 10])
        i += 10
        rdata = data[i:i + rdlen]
        if rtype == 1:
            answers.append(socket.inet_ntop(socket.AF_INET, rdata))
        elif rtype == 28:
            answers.append(socket.inet_ntop(socket.AF_INET6, rdata))
        elif rtype == 12:
            answers.append(read_name(data, i)[0])
        i += rdlen
    return RCODES.get(rcode, str(rcode)), answers


def stub(addr, port, ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    while True:
        data, peer = s.recvfrom(4096)
        if len(data) < 12:
            continue
        answer = data[:2] + b"\x81\x80" + data[4:6] + b"\x00\x01\x00\x00\x00\x00" + data[12:]
        answer += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(ip)
        s.sendto(answer, peer)


def main():
    cmd = sys.argv[1]
    if cmd == "stub":
        stub(*sys.argv[2:5])
    elif cmd == "query":
        server, name = sys.argv[2], sys.argv[3]
        # Like any resolver client: retries after a lost datagram, with a patient timeout (the
        # tests run on loaded machines).
        for attempt in range(3):
            try:
                rcode, answers = ask(server, name, sys.argv[4] if len(sys.argv) > 4 else "A", timeout=2.0)
                break
            except socket.timeout:
                if attempt == 2:
                    print("TIMEOUT")
                    return
        print(" ".join(answers) if rcode == "NOERROR" and answers else rcode)
    elif cmd == "flood":
        server, name, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2.0)
        answered = 0
        deadline = time.time() + 300  # only against a hang: a loaded machine answers slowly
        for k in range(n):
            if time.time() > deadline:
                break
            target = name if k % 2 else "x%d.%s" % (k, name.split(".", 1)[-1])
            _, packet = build(target, 1)
            s.sendto(packet, (server, 53))
            try:
                s.recvfrom(4096)
                answered += 1
            except socket.timeout:
                pass
        print(answered)
    elif cmd == "garbage":
        server, n = sys.argv[2], int(sys.argv[3])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rnd = random.Random(7)
        for k in range(n):
            kind = k % 4
            if kind == 0:
                packet = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 40)))
            elif kind == 1:
                packet = build("a.b", 1)[1][:rnd.randint(1, 15)]
            elif kind == 2:   # a compression pointer loop in the question
                packet = struct.pack(">HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01"
            else:             # a label longer than the packet
                packet = struct.pack(">HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\x3f" + b"a" * 5
            s.sendto(packet, (server, 53))
        print("sent")
    elif cmd == "accept":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(sys.argv[2])))
        s.listen(1)
        s.settimeout(60)
        conn, peer = s.accept()
        conn.settimeout(60)
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
        print(peer[0], data.decode().strip(), flush=True)
    elif cmd == "latency":
        server, name, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            ask(server, name)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print("%.3f %.3f" % (sum(times) / len(times), times[int(len(times) * 0.99) - 1]))


if __name__ == "__main__":
    main()
