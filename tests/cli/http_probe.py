# SPDX-License-Identifier: Apache-2.0
"""One HTTP request, exactly as written (no redirects followed, the path sent byte for byte,
no normalisation), for the CLI tests of `arca serve`. Prints one JSON object:
{"status", "headers" (names lowercased), "length", "sha256", "text" (the body when it is
under 64 KiB and UTF-8), "json" (the body parsed, when it is JSON)}.

    python3 http_probe.py METHOD URL [-H 'Name: value']... [--data BODY] [--out FILE]

URL's path and query go on the request line untouched, so '..', '%2e%2e' or '%00' reach
the server as given. --out writes the body to FILE."""
import argparse
import hashlib
import http.client
import json
import sys
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("method")
    ap.add_argument("url")
    ap.add_argument("-H", dest="headers", action="append", default=[])
    ap.add_argument("--data")
    ap.add_argument("--out")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    target = a.url[a.url.index(u.netloc) + len(u.netloc):] or "/"
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest(a.method, target, skip_accept_encoding=True)
    body = a.data.encode() if a.data is not None else None
    for h in a.headers:
        name, _, value = h.partition(":")
        conn.putheader(name.strip(), value.strip())
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    if a.out:
        with open(a.out, "wb") as f:
            f.write(data)
    out = {"status": resp.status, "headers": {k.lower(): v for k, v in resp.getheaders()},
           "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if len(data) < 65536:
        try:
            out["text"] = data.decode("utf-8")
            out["json"] = json.loads(out["text"])
        except ValueError:
            pass
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
