import socket, sys, re, time

def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        if isinstance(a, str): a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out

class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX); self.s.connect(path); self.s.settimeout(10); self.buf = b""
    def fill(self):
        d = self.s.recv(65536)
        if not d: raise EOFError
        self.buf += d
    def line(self, pos):
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0: return i
            self.fill()
    def reply_end(self, pos):
        while len(self.buf) <= pos: self.fill()
        t = self.buf[pos:pos+1]; e = self.line(pos); head = self.buf[pos+1:e]; nxt = e + 2
        if t in b"+-:_,#(": return nxt
        if t in b"$=!":
            n = int(head)
            if n < 0: return nxt
            while len(self.buf) < nxt + n + 2: self.fill()
            return nxt + n + 2
        if t in b"*~>%|":
            n = int(head)
            if n < 0: return nxt
            if t in b"%|": n *= 2
            for _ in range(n): nxt = self.reply_end(nxt)
            return nxt
        raise ValueError("bad type %r in %r" % (t, self.buf[pos:pos+50]))
    def read(self):
        end = self.reply_end(0); r = self.buf[:end]; self.buf = self.buf[end:]; return r
    def cmd(self, *args):
        self.s.sendall(enc(args)); return self.read()

def mask(b):
    return re.sub(rb":\d+\r\n", b":N\r\n", b)
def maskids(b):
    return re.sub(rb"\d{13}-\d+", b"ID", b)

def run(redis_path, nymbus_path, cases, resp3):
    r = Conn(redis_path); n = Conn(nymbus_path)
    failures = 0
    if resp3:
        r.cmd("HELLO", "3"); n.cmd("HELLO", "3")
    for case in cases:
        m = None
        if isinstance(case, tuple) and len(case) == 2 and callable(case[1]):
            case, m = case
        a = r.cmd(*case); b = n.cmd(*case)
        if m: a, b = m(a), m(b)
        if a != b:
            failures += 1
            print("MISMATCH resp%d %r\n  redis:  %r\n  nymbus: %r" % (3 if resp3 else 2, case, a, b))
    return failures

def cases(p):
    k = p + "s"; k2 = p + "t"; e = p + "empty"
    c = [
      ("DEL", k, k2, e),
      ("XADD", k, "1-1", "f", "v"),
      ("XADD", k, "1-1", "f", "v"),
      ("XADD", k, "1-0", "f", "v"),
      ("XADD", k, "0-0", "f", "v"),
      ("XADD", k, "1-*", "f", "v2"),
      ("XADD", k, "2-*", "a", "1", "b", "2"),
      ("XADD", k, "5", "x", "y"),
      ("XADD", k, "bogus", "x", "y"),
      ("XADD", k, "6-1", "x"),
      ("XADD", k),
      ("XADD", k, "MAXLEN"),
      ("XADD", k, "MAXLEN", "-1", "*", "a", "b"),
      ("XADD", k, "MAXLEN", "x", "*", "a", "b"),
      ("XADD", k, "MAXLEN", "1", "MINID", "1", "*", "a", "b"),
      ("XADD", k, "LIMIT", "10", "*", "a", "b"),
      ("XADD", k, "MAXLEN", "5", "LIMIT", "10", "*", "a", "b"),
      ("XADD", k, "MAXLEN", "~", "5", "LIMIT", "-1", "*", "a", "b"),
      ("XADD", e, "NOMKSTREAM", "*", "a", "b"),
      ("EXISTS", e, k), ("TYPE", k), ("TYPE", e),
      ("XLEN", k), ("XLEN", e),
      ("XRANGE", k, "-", "+"),
      ("XRANGE", k, "(1-1", "+"),
      ("XRANGE", k, "-", "(5-0"),
      ("XRANGE", k, "1", "2"),
      ("XRANGE", k, "-", "+", "COUNT", "2"),
      ("XRANGE", k, "-", "+", "COUNT", "0"),
      ("XRANGE", k, "-", "+", "COUNT", "-3"),
      ("XRANGE", k, "-", "+", "COUNT"),
      ("XRANGE", k, "-", "+", "FOO", "1"),
      ("XRANGE", k, "(-", "+"),
      ("XRANGE", k, "(18446744073709551615-18446744073709551615", "+"),
      ("XRANGE", k, "-", "(0-0"),
      ("XRANGE", k, "x", "+"),
      ("XRANGE", e, "-", "+"),
      ("XREVRANGE", k, "+", "-"),
      ("XREVRANGE", k, "+", "-", "COUNT", "1"),
      ("XREVRANGE", k, "(5-0", "1-2"),
      ("XDEL", k, "1-2", "9-9"),
      ("XDEL", k, "bad"),
      ("XDEL", e, "bad"),
      ("XLEN", k),
      ("XINFO", "STREAM", k),
      ("XINFO", "STREAM", e),
      ("XINFO", "STREAM", k, "bogus"),
      ("XINFO", "FOO"),
      ("XINFO", "STREAM"),
      ("XINFO", "HELP"),
      ("XTRIM", k, "MAXLEN", "2"),
      ("XTRIM", k),
      ("XTRIM", k, "FOO", "1"),
      ("XTRIM", e, "MAXLEN", "1"),
      ("XTRIM", k, "MINID", "bad"),
      ("XINFO", "STREAM", k),
      ("XGROUP", "CREATE", k, "g1", "0"),
      ("XGROUP", "CREATE", k, "g1", "0"),
      ("XGROUP", "CREATE", e, "g1", "0"),
      ("XGROUP", "CREATE", e, "g1", "$", "MKSTREAM"),
      ("XGROUP", "CREATE", k, "g2", "$", "ENTRIESREAD", "-5"),
      ("XGROUP", "CREATE", k, "g2", "$", "BOGUS"),
      ("XGROUP", "CREATE", k, "g2", "bad"),
      ("XGROUP", "CREATE", k, "g2", "$"),
      ("XGROUP", "CREATE", k),
      ("XGROUP", "FOO", k, "g"),
      ("XGROUP", "HELP"),
      ("XGROUP", "SETID", k, "nog", "0"),
      ("XGROUP", "CREATECONSUMER", k, "g1", "alice"),
      ("XGROUP", "CREATECONSUMER", k, "g1", "alice"),
      ("XINFO", "GROUPS", k),
      ("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", k, ">"),
      ("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", k, ">"),
      ("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", k, ">"),
      ("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", k, "0"),
      ("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", k, "$"),
      ("XREADGROUP", "GROUP", "nog", "bob", "STREAMS", k, ">"),
      ("XREADGROUP", "GROUP", "g1", "bob", "STREAMS", k),
      ("XREADGROUP", "GROUP", "g1", "STREAMS", k, ">"),
      ("XREADGROUP", "COUNT", "1", "STREAMS", k, ">"),
      ("XREAD", "GROUP", "g1", "bob", "STREAMS", k, ">"),
      ("XREAD", "NOACK", "STREAMS", k, "0"),
      ("XREAD", "STREAMS", k, ">"),
      ("XREAD", "STREAMS", k, "0", "extra"),
      ("XREAD", "COUNT", "1", "STREAMS", k, e, "0", "0"),
      ("XREAD", "STREAMS", k, "$"),
      ("XREAD", "STREAMS", e, "0"),
      ("XREAD", "BLOCK", "-1", "STREAMS", k, "0"),
      ("XREAD", "BLOCK", "x", "STREAMS", k, "0"),
      ("XREAD", "COUNT", "x", "STREAMS", k, "0"),
      ("XREAD", "STREAMS", k, "0-0"),
      ("XINFO", "GROUPS", k),
      (("XINFO", "CONSUMERS", k, "g1"), mask),
      ("XINFO", "CONSUMERS", k, "nog"),
      ("XPENDING", k, "g1"),
      ("XPENDING", k, "g2"),
      ("XPENDING", k, "nog"),
      ("XPENDING", k, "g1", "-", "+"),
      (("XPENDING", k, "g1", "-", "+", "10"), mask),
      (("XPENDING", k, "g1", "-", "+", "10", "bob"), mask),
      ("XPENDING", k, "g1", "-", "+", "10", "nobody"),
      ("XPENDING", k, "g1", "IDLE", "100000", "-", "+", "10"),
      ("XPENDING", k, "g1", "IDLE", "x", "-", "+", "10"),
      ("XPENDING", k, "g1", "-", "+", "x"),
      ("XPENDING", k, "g1", "(-", "+", "10"),
      (("XPENDING", k, "g1", "(5-0", "+", "10"), mask),
      ("XCLAIM", k, "g1", "carol", "100000", "5-0"),
      (("XCLAIM", k, "g1", "carol", "0", "5-0"), mask),
      (("XCLAIM", k, "g1", "carol", "0", "5-0", "JUSTID"), mask),
      ("XCLAIM", k, "g1", "carol", "0", "5-0", "BOGUS"),
      ("XCLAIM", k, "g1", "carol", "x", "5-0"),
      ("XCLAIM", k, "nog", "carol", "0", "5-0"),
      ("XCLAIM", k, "g1", "carol", "0", "5-0", "IDLE", "x"),
      (("XCLAIM", k, "g1", "dave", "0", "5-0", "RETRYCOUNT", "7", "JUSTID"), mask),
      (("XPENDING", k, "g1", "-", "+", "10"), mask),
      ("XPENDING", k, "g1"),
      (("XINFO", "STREAM", k, "FULL"), mask),
      (("XINFO", "STREAM", k, "FULL", "COUNT", "1"), mask),
      (("XINFO", "STREAM", k, "FULL", "COUNT", "0"), mask),
      (("XINFO", "STREAM", k, "FULL", "COUNT", "-1"), mask),
      ("XINFO", "STREAM", k, "FULL", "COUNT", "x"),
      ("XINFO", "STREAM", k, "FULL", "COUNT"),
      ("XINFO", "STREAM", k, "FULL", "x", "1"),
      ("XINFO", "STREAM", k, "FULL", "COUNT", "1", "extra"),
      (("XAUTOCLAIM", k, "g1", "erin", "0", "0", "JUSTID"), mask),
      (("XAUTOCLAIM", k, "g1", "erin", "0", "0", "COUNT", "1", "JUSTID"), mask),
      (("XCLAIM", k, "g1", "frank", "0", "5-0", "TIME", "1", "JUSTID"), mask),
      (("XCLAIM", k, "g1", "frank", "0", "5-0", "LASTID", "9-0", "JUSTID"), mask),
      ("XCLAIM", k, "g1", "frank", "0", "5-0", "LASTID", "bad"),
      (("XCLAIM", k, "g1", "frank", "0", "1-1", "FORCE", "JUSTID"), mask),
      (("XCLAIM", k, "g1", "frank", "0", "1-2", "FORCE", "JUSTID"), mask),
      (("XPENDING", k, "g1", "-", "+", "10", "frank"), mask),
      (("XAUTOCLAIM", k, "g1", "erin", "0", "0"), mask),
      (("XAUTOCLAIM", k, "g1", "erin", "0", "0", "COUNT", "1"), mask),
      ("XAUTOCLAIM", k, "g1", "erin", "0", "0", "COUNT", "0"),
      ("XAUTOCLAIM", k, "g1", "erin", "0", "0", "BOGUS"),
      ("XAUTOCLAIM", k, "nog", "erin", "0", "0"),
      ("XAUTOCLAIM", k, "g1", "erin", "x", "0"),
      ("XPENDING", k, "g1"),
      ("XACK", k, "g1", "5-0"),
      ("XACK", k, "g1", "5-0", "bad"),
      ("XACK", k, "nog", "5-0"),
      ("XACK", k, "g1", "2-0", "6-0", "7-0"),
      ("XPENDING", k, "g1"),
      ("XINFO", "GROUPS", k),
      ("XGROUP", "SETID", k, "g1", "0", "ENTRIESREAD", "0"),
      ("XINFO", "GROUPS", k),
      ("XGROUP", "SETID", k, "g1", "$"),
      ("XINFO", "GROUPS", k),
      ("XGROUP", "DELCONSUMER", k, "g1", "bob"),
      ("XGROUP", "DELCONSUMER", k, "g1", "nobody"),
      ("XGROUP", "DESTROY", k, "g2"),
      ("XGROUP", "DESTROY", k, "g2"),
      (("XINFO", "CONSUMERS", k, "g1"), mask),
      ("XGROUP", "CREATECONSUMER", k, "nog", "x"),
      ("XGROUP", "DELCONSUMER", k, "nog", "x"),
      ("XGROUP", "CREATE", p + "nokey", "g", "$"),
      ("XGROUP", "SETID", p + "nokey", "g", "$"),
      ("XGROUP", "CREATE", k, "g3", "$"),
      ("XADD", k, "NOMKSTREAM", "20-1", "n", "1"),
      ("XADD", k, "NOMKSTREAM", "*", "n"),
      ("XREADGROUP", "GROUP", "g3", "nick", "NOACK", "STREAMS", k, ">"),
      ("XPENDING", k, "g3"),
      ("XREADGROUP", "GROUP", "g3", "nick", "STREAMS", k, "0"),
      ("XADD", k, "21-1", "n", "2"),
      ("XREADGROUP", "GROUP", "g3", "nick", "COUNT", "5", "NOACK", "STREAMS", k, ">"),
      ("XINFO", "GROUPS", k),
      ("XREAD", "COUNT", "2", "BLOCK", "100", "STREAMS", k, "0"),
      ("XINFO", "GROUPS", k),
      ("DEL", k2),
    ]
    for i in range(1, 251):
        c.append(("XADD", k2, "%d-1" % i, "field", "value%d" % i))
    c += [
      ("XINFO", "STREAM", k2),
      ("XTRIM", k2, "MAXLEN", "~", "120"),
      ("XINFO", "STREAM", k2),
      ("XTRIM", k2, "MAXLEN", "=", "101"),
      ("XINFO", "STREAM", k2),
      ("XDEL", k2, "160-1", "170-1"),
      ("XINFO", "STREAM", k2),
      ("XGROUP", "CREATE", k2, "g", "0"),
      ("XINFO", "GROUPS", k2),
      ("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", k2, ">"),
      ("XINFO", "GROUPS", k2),
      ("XTRIM", k2, "MINID", "~", "210"),
      ("XTRIM", k2, "MINID", "200"),
      ("XINFO", "STREAM", k2),
      ("XREADGROUP", "GROUP", "g", "c", "STREAMS", k2, "0"),
      (("XPENDING", k2, "g", "-", "+", "10"), mask),
      ("XAUTOCLAIM", k2, "g", "c2", "0", "0", "COUNT", "2"),
      ("XAUTOCLAIM", k2, "g", "c2", "0", "0"),
      ("XPENDING", k2, "g"),
      ("XREADGROUP", "GROUP", "g", "c", "STREAMS", k2, "0"),
      ("XADD", k2, "MAXLEN", "~", "10", "300-1", "a", "b"),
      ("XADD", k2, "MAXLEN", "~", "10", "LIMIT", "1", "301-1", "a", "b"),
      ("XADD", k2, "MINID", "=", "295", "302-1", "a", "b"),
      ("XRANGE", k2, "-", "+"),
      ("XINFO", "STREAM", k2),
      ("XINFO", "GROUPS", k2),
      ("DEL", k2),
    ]
    for i in range(1, 40):
        c.append(("XADD", k2, "%d-%d" % (i, i), "f%d" % (i % 3), "x" * (i * 17)))
    c += [("XINFO", "STREAM", k2), ("XTRIM", k2, "MAXLEN", "~", "10"), ("XINFO", "STREAM", k2),
          ("XINFO", "STREAM", k2, "FULL", "COUNT", "2"), ("XINFO", "STREAM", e, "FULL"),
          ("XRANGE", k2, "-", "+", "COUNT", "3"), ("DEL", k, k2, e, "nokey")]
    c += [("TYPE", k), ("EXISTS", k, k2), ("XLEN", k), ("XRANGE", k, "-", "+")]
    # Plain XADDs (the broker's fast path), ids masked: they come from the clock.
    c += [(("XADD", k, "*", "f", "v"), maskids), (("xadd", k, "*", "f", "v", "g", "w"), maskids), ("XLEN", k),
          ("XADD", k, "*", "f"), (("XRANGE", k, "-", "+"), maskids), ("DEL", k)]
    return c

def wait_blocked(conn, n=1):
    """Waits until the server reports n blocked clients (INFO clients), instead of sleeping."""
    deadline = time.time() + 10
    while time.time() < deadline:
        if b"blocked_clients:%d\r\n" % n in conn.cmd("INFO", "clients"): return
        time.sleep(0.005)
    raise AssertionError("client did not block")

def blocking(redis_path, nymbus_path, resp3):
    """Blocked XREAD / XREADGROUP woken by XADD from another connection, and a timeout."""
    failures = 0
    p = "b3:" if resp3 else "b2:"
    results = []
    for path in (redis_path, nymbus_path):
        a = Conn(path); b = Conn(path)
        if resp3: a.cmd("HELLO", "3")
        out = []
        out.append(b.cmd("DEL", p + "k"))
        out.append(a.cmd("XREAD", "BLOCK", "50", "STREAMS", p + "k", "$"))
        a.s.sendall(enc(["XREAD", "BLOCK", "0", "STREAMS", p + "other", p + "k", "$", "$"]))
        a.s.sendall(enc(["PING"]))
        wait_blocked(b)
        out.append(b.cmd("XADD", p + "k", "10-1", "f", "v"))
        out.append(a.read()); out.append(a.read())
        out.append(b.cmd("XGROUP", "CREATE", p + "k", "g", "$"))
        a.s.sendall(enc(["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "BLOCK", "0", "STREAMS", p + "k", ">"]))
        wait_blocked(b)
        out.append(b.cmd("XADD", p + "k", "11-1", "f", "v"))
        out.append(b.cmd("XADD", p + "k", "12-1", "f", "w"))
        out.append(a.read())
        out.append(b.cmd("XPENDING", p + "k", "g"))
        out.append(a.cmd("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "30", "STREAMS", p + "k", ">"))
        out.append(a.cmd("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "30", "STREAMS", p + "k", ">"))
        a.s.sendall(enc(["XREADGROUP", "GROUP", "g", "c2", "BLOCK", "0", "STREAMS", p + "k", ">"]))
        wait_blocked(b)
        out.append(b.cmd("XGROUP", "DESTROY", p + "k", "g"))
        out.append(a.read())
        out.append(b.cmd("MULTI")); out.append(b.cmd("XREAD", "BLOCK", "0", "STREAMS", p + "k", "$")); out.append(b.cmd("EXEC"))
        results.append(out)
    for i, (x, y) in enumerate(zip(*results)):
        if x != y:
            failures += 1
            print("MISMATCH blocking resp%d step %d\n  redis:  %r\n  nymbus: %r" % (3 if resp3 else 2, i, x, y))
    return failures

if __name__ == "__main__":
    redis_path, nymbus_path = sys.argv[1], sys.argv[2]
    f = run(redis_path, nymbus_path, cases("r2:"), False)
    f += run(redis_path, nymbus_path, cases("r3:"), True)
    f += blocking(redis_path, nymbus_path, False)
    f += blocking(redis_path, nymbus_path, True)
    print("%d mismatches" % f)
    sys.exit(1 if f else 0)
