#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca serve under hostile and heavy load, on loopback: a client that sends its request a
# byte at a time, one that asks for a large file and never reads, and one that says nothing,
# while ordinary requests keep being answered; the idle timeout drops the silent ones; then
# 1,000 connections at once, all answered, with the server's memory growing by a bounded
# amount (VmHWM against VmRSS from /proc, a generous bound, no time asserted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve.sh"

make_model "$T/model" --seed 3
head -c $((32 << 20)) /dev/urandom > "$T/model/big.bin"
run 0 "$ARCA" init
run 0 "$ARCA" add "$T/model" --as acme/load -q
big=$(sha256sum "$T/model/big.bin" | cut -d' ' -f1)

start_serve --timeout 2 --threads 2
run 0 python3 - "$URL" "$SERVE_PID" "$big" "$((32 << 20))" <<'PY'
import asyncio, json, resource, socket, sys, time, urllib.parse
url, pid, big, big_size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
u = urllib.parse.urlsplit(url)
host, port = u.hostname, u.port
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def status_kib(field):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit("no %s for pid %d" % (field, pid))

def request(path, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n" % (path, host, port, extra)).encode()

async def fetch(path, extra="", timeout=30):
    """One request on its own connection: (status, body length)."""
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    w.write(request(path, extra + "Connection: close\r\n"))
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), timeout)
    body = await asyncio.wait_for(r.read(), timeout)
    w.close()
    return int(head.split()[1]), len(body)

async def slow_sender():
    """The request a byte at a time (50 ms apart): still answered, and blocks no one."""
    r, w = await asyncio.open_connection(host, port)
    for b in request("/acme/load/resolve/main/config.json", "Connection: close\r\n"):
        w.write(bytes([b]))
        await w.drain()
        await asyncio.sleep(0.05)
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
    w.close()
    return int(head.split()[1])

def never_reader():
    """Asks for 32 MiB and reads nothing: the server must drop it after the timeout."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.sendall(request("/api/storage/" + big))
    return s

def silent():
    s = socket.socket()
    s.connect((host, port))
    return s

def drained(s, limit=60):
    """Reads until the server closes: the byte count (fails if it never does)."""
    s.settimeout(limit)
    n = 0
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return n
        n += len(chunk)

async def main():
    rss_before = status_kib("VmRSS")
    stalled, quiet = never_reader(), silent()
    slow = asyncio.ensure_future(slow_sender())
    # ordinary requests go on meanwhile, one after another
    for i in range(40):
        status, n = await fetch("/acme/load/resolve/main/config.json")
        assert status == 200 and n > 0, (i, status, n)
    assert await slow == 200
    await asyncio.sleep(3)  # past the 2 s idle timeout
    got = drained(stalled)
    assert 0 < got < big_size, "the stalled download was not dropped (%d bytes)" % got
    assert drained(quiet) == 0
    # 1,000 connections open at once, each with a request written as soon as it is open
    # (opening all first and writing after took longer than the 2 s idle timeout under
    # ASan, which rightly dropped the first ones), none read until all are open
    conns = []
    for i in range(1000):
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        path = "/api/storage/" + big if i % 2 else "/acme/load/resolve/main/config.json"
        w.write(request(path, "Range: bytes=%d-%d\r\n" % (i * 1000, i * 1000 + 4095)))
        conns.append((r, w))
    async def answer(r):
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 60)
        length = int([l.split(b":")[1] for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length:")][0])
        body = await asyncio.wait_for(r.readexactly(length), 60)
        return int(head.split()[1]), len(body)
    results = await asyncio.gather(*(answer(r) for r, _ in conns))
    peak = status_kib("VmHWM")
    codes = sorted(set(s for s, _ in results))
    assert codes in ([206], [206, 416]), codes
    assert sum(1 for s, n in results if s == 206 and n == 4096) >= 500, results[:5]
    for _, w in conns:
        w.close()
    grown_mib = (peak - rss_before) / 1024
    # 1,000 connections hold a 32 KiB buffer each at most; 256 MiB is far above that
    assert grown_mib < 256, "the server grew by %.0f MiB" % grown_mib
    status, n = await fetch("/api/models/acme/load")
    assert status == 200, status
    print(json.dumps({"rss_before_kib": rss_before, "peak_kib": peak, "grown_mib": grown_mib}))

asyncio.run(main())
PY
cat "$OUT"
kill -0 "$SERVE_PID" || fail "the server died"
grep -q "\"GET /api/storage/$big HTTP/1.1\" 200 $((32 << 20)) [0-9.]* aborted" "$T/access.log" ||
	fail "the dropped download is not logged as aborted"
[ "$(grep -c ' 206 4096 ' "$T/access.log")" -ge 500 ] || fail "the 1,000 requests are not all logged"
stop_serve
pass
