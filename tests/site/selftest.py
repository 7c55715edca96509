#!/usr/bin/env python3
"""selftest.py: drives cmlsite.py the way the cmlkit clients will, and checks it.

Starts several sites (each in its own temporary directory, as a subprocess),
talks to them with urllib and http.client, asserts the answers byte for byte,
the files in received/ and upload/, imports.log and requests.log, then stops
each site with SIGTERM and expects exit status 0.  Exit status: 0 all passed,
1 something failed.  Run by ctest as site.selftest; takes a few seconds.

    python3 tests/site/selftest.py [-v]
"""

import base64
import hashlib
import http.client
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CMLSITE = os.path.join(HERE, "cmlsite.py")
PATH = "/bitrix/admin/1c_exchange.php"
TIMEOUT = 10  # seconds for any one HTTP request
VERBOSE = "-v" in sys.argv[1:]

AUTH_FAIL = "failure\nОшибка авторизации. Неверное имя пользователя или пароль."
SOURCE_FAIL = "failure\nОшибка проверки источника запроса. Обновите модуль обмена."
BAD_NAME = "failure\nНедопустимое имя файла."
UNKNOWN_MODE = "failure\nНеизвестная команда."
CP1251_TYPE = "text/html; charset=windows-1251"
UTF8_TYPE = "text/html; charset=UTF-8"
XML_CP1251 = "application/xml; charset=windows-1251"
XML_UTF8 = "application/xml; charset=UTF-8"
# an empty query answer: the bare root element, Bitrix's attributes, the hour unpadded
EMPTY_ANSWER = re.compile(
    '<\\?xml version="1.0" encoding="windows-1251"\\?>\n<КоммерческаяИнформация '
    'ВерсияСхемы="(2.05|2.09)" ДатаФормирования="\\d{4}-\\d\\d-\\d\\dT([1-9]?\\d):\\d\\d:\\d\\d" '
    'ФорматДаты="ДФ=yyyy-MM-dd; ДЛФ=DT" ФорматВремени="ДФ=ЧЧ:мм:сс; ДЛФ=T" '
    'РазделительДатаВремя="T" ФорматСуммы="ЧЦ=18; ЧДЦ=2; ЧРД=." ФорматКоличества="ЧЦ=18; '
    'ЧДЦ=2; ЧРД=.">\n</КоммерческаяИнформация>\n$')


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def shown(value):
    """Answers are bytes in windows-1251 or UTF-8: show them readably."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, bytes) and len(value) > 200:
        return "<%d bytes, sha256 %s…>" % (len(value), hashlib.sha256(value).hexdigest()[:12])
    if isinstance(value, bytes):
        for codec in ("utf-8", "cp1251"):
            try:
                return repr(value.decode(codec))[:300]
            except UnicodeDecodeError:
                pass
    return repr(value)[:300]


def eq(got, want, what):
    if got != want:
        raise Failed("%s: got %s, want %s" % (what, shown(got), shown(want)))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def lines_of(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f]


def make_zip(entries):
    """A zip (bytes) of (name, data) pairs; data None makes a directory entry."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            if data is None:
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, data)
    return buf.getvalue()


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class Site:
    """One cmlsite.py process; `codec` says how its text answers are encoded."""

    def __init__(self, top, name, *args, codec="cp1251", crlf=False):
        self.dir = os.path.join(top, name)
        os.makedirs(self.dir)
        self.codec = codec
        self.crlf = crlf
        self.proc = subprocess.Popen([sys.executable, CMLSITE, "--dir", self.dir, *args])
        port_file = os.path.join(self.dir, "port")
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise Failed("%s: the site exited with %d" % (name, self.proc.returncode))
            if time.monotonic() > deadline:
                raise Failed("%s: no port file after 10 s" % name)
            time.sleep(0.02)
        self.port = int(read(port_file))
        eq(int(read(os.path.join(self.dir, "pid"))), self.proc.pid, "pid file")

    def stop(self):
        """SIGTERM, then the exit status (killed after 10 s, which fails the test)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failed("the site ignored SIGTERM")
        return self.proc.returncode

    def enc(self, text):
        """The bytes the site sends for a text answer."""
        if self.crlf:
            text = text.replace("\n", "\r\n")
        if self.codec == "bom":
            return b"\xef\xbb\xbf" + text.encode("utf-8")
        return text.encode(self.codec)

    def url(self, params):
        return "http://127.0.0.1:%d%s?%s" % (self.port, PATH, urllib.parse.urlencode(params))

    def request(self, params, body=None, auth=None, cookie=None, method=None, headers=None):
        """One request on a fresh connection (urllib); HTTP errors are replies too."""
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % auth).encode("utf-8")).decode("ascii")
        if cookie:
            headers["Cookie"] = "PHPSESSID=" + cookie
        if body is not None:
            headers["Content-Type"] = "application/octet-stream"
        req = urllib.request.Request(self.url(params), data=body, headers=headers,
                                     method=method or ("POST" if body is not None else "GET"))
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                return Reply(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.headers, e.read())

    def expect(self, reply, text, what, status=200, ctype=None):
        eq(reply.status, status, what + ": HTTP status")
        eq(reply.body, self.enc(text), what)
        if ctype:
            eq(reply.headers.get("Content-Type"), ctype, what + ": Content-Type")

    def control(self, path):
        """A control request (/cmlsite/PATH): the parsed JSON, or the bytes of XML."""
        url = "http://127.0.0.1:%d/cmlsite/%s" % (self.port, path)
        with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
            body = r.read()
            if r.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(body)
            return body

    def dropped(self, params, body=None, cookie=None):
        """True if the site closed the connection without answering."""
        try:
            self.request(params, body=body, cookie=cookie)
        except (OSError, http.client.HTTPException):
            return True
        return False


class Exchange:
    """A client session: checkauth's cookie and sessid go on every later call."""

    def __init__(self, site, type_, auth=("admin", "secret"), **params):
        self.site = site
        self.type = type_
        r = site.request(dict(type=type_, mode="checkauth", **params), auth=auth)
        eq(r.status, 200, "checkauth status")
        body = r.body.decode("utf-8" if site.codec != "cp1251" else "cp1251")
        self.lines = body.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
        eq(self.lines[0], "success", "checkauth answer")
        self.cookie = self.lines[2]
        self.sessid = None
        self.timestamp = None
        for line in self.lines[3:]:
            if line.startswith("sessid="):
                self.sessid = line[len("sessid="):]
            elif line.startswith("timestamp="):
                self.timestamp = line[len("timestamp="):]

    def call(self, mode, body=None, sessid=True, cookie=True, **params):
        q = dict(type=self.type, mode=mode, **params)
        if sessid and self.sessid:
            q["sessid"] = self.sessid
        return self.site.request(q, body=body, cookie=self.cookie if cookie else None)

    def upload(self, name, data, chunk):
        for off in range(0, max(len(data), 1), chunk):
            r = self.call("file", body=data[off:off + chunk], filename=name)
            self.site.expect(r, "success\n", "upload %s at %d" % (name, off))

    def import_answers(self, name, limit=20):
        """The texts of the import loop, up to and including the first non-progress one."""
        out = []
        for _ in range(limit):
            r = self.call("import", filename=name)
            eq(r.status, 200, "import status")
            out.append(r.body)
            if not r.body.startswith(self.site.enc("progress")):
                break
        return out


def test_catalog(top, sites):
    """Catalog upload on a zip=yes site with a password file and file_limit 200000."""
    pw = os.path.join(top, "pw")
    with open(pw, "w", encoding="utf-8") as f:
        f.write("Pa:ss-пароль\n")
    site = Site(top, "catalog", "--no-catalog", "--password-file", pw, "--file-limit", "200000", "--zip", "yes")
    sites.append(site)
    good = ("admin", "Pa:ss-пароль")

    # checkauth: missing, wrong password, wrong user -> Bitrix failure with HTTP 200
    for auth in (None, ("admin", "secret"), ("root", "Pa:ss-пароль")):
        r = site.request(dict(type="catalog", mode="checkauth"), auth=auth)
        site.expect(r, AUTH_FAIL, "checkauth with %r" % (auth,), ctype=CP1251_TYPE)
    x = Exchange(site, "catalog", auth=good)
    eq(len(x.lines), 6, "catalog checkauth: 5 lines and a final newline")
    eq(x.lines[1:2] + x.lines[5:], ["PHPSESSID", ""], "checkauth cookie name, trailing newline")
    check(x.sessid and x.timestamp, "checkauth gives sessid and timestamp")
    check(abs(int(x.timestamp) - time.time()) < 60, "timestamp is now")
    y = Exchange(site, "catalog", auth=good)
    check(y.cookie != x.cookie and y.sessid != x.sessid, "each checkauth opens a new session")

    # the cookie and the sticky sessid
    site.expect(x.call("init", cookie=False), AUTH_FAIL, "init without cookie")
    r = site.request(dict(type="catalog", mode="init", sessid=x.sessid), cookie="nope")
    site.expect(r, AUTH_FAIL, "init with an unknown cookie")
    site.expect(x.call("init", sessid=False), SOURCE_FAIL, "init without sessid")
    r = site.request(dict(type="catalog", mode="init", sessid=y.sessid), cookie=x.cookie)
    site.expect(r, SOURCE_FAIL, "init with another session's sessid")
    r = x.call("init")
    eq(r.body, b"zip=yes\nfile_limit=200000", "init answer")

    # file names and the file limit
    for bad in ("../x.xml", "/abs.xml", "a\\b.xml", "x.php", "X.PHP", "a/../b.xml", "a//b.xml", ""):
        site.expect(x.call("file", body=b"data", filename=bad), BAD_NAME, "file name %r" % bad)
    r = x.call("file", body=b"x" * 200001, filename="import.xml")
    site.expect(r, "failure\nРазмер части файла больше file_limit.", "chunk over file_limit")
    updir = os.path.join(site.dir, "upload", "catalog")
    check(not os.path.exists(os.path.join(updir, "import.xml")), "oversized chunk not stored")

    # 1 MB in chunks of file_limit, then the import loop
    data = random.Random(1).randbytes(1_000_000)
    x.upload("import.xml", data, 200000)
    eq(read(os.path.join(updir, "import.xml")), data, "chunks appended")
    answers = x.import_answers("import.xml")
    eq(answers, [site.enc("progress\nОбработано 1 из 2 шагов."),
                 site.enc("progress\nОбработано 2 из 2 шагов."),
                 site.enc("success\nИмпорт файла import.xml завершен.")], "import loop")
    eq(read(os.path.join(site.dir, "received", "001-import.xml")), data, "received bytes")

    site.expect(x.call("import", filename="nothere.xml"),
                "failure\nФайл для импорта не найден: nothere.xml", "import of a missing file")
    x.upload("empty.xml", b"", 200000)
    site.expect(x.call("import", filename="empty.xml"), "failure\nФайл для импорта пуст.",
                "import of an empty file")
    site.expect(x.call("import", filename="../import.xml"), BAD_NAME, "import of a bad name")
    x.upload("import_files/ab/pic.jpg", b"\xff\xd8jpeg", 200000)
    eq(read(os.path.join(updir, "import_files", "ab", "pic.jpg")), b"\xff\xd8jpeg", "subdirectory")

    # a zip archive uploaded in chunks, unpacked by the first import requests
    offers = random.Random(2).randbytes(300_000)
    pic = random.Random(3).randbytes(5000)
    archive = make_zip([("import_files/", None), ("import_files/cd/", None),
                        ("import_files/cd/x.jpg", pic), ("offers.xml", offers)])
    x.upload("pack.zip", archive, 200000)
    answers = x.import_answers("offers.xml")
    eq(answers, [site.enc("progress\nИдет распаковка архива."),
                 site.enc("progress\nРаспаковка архива завершена."),
                 site.enc("progress\nОбработано 1 из 2 шагов."),
                 site.enc("progress\nОбработано 2 из 2 шагов."),
                 site.enc("success\nИмпорт файла offers.xml завершен.")], "zip import loop")
    eq(read(os.path.join(site.dir, "received", "002-offers.xml")), offers, "received from zip")
    eq(read(os.path.join(updir, "import_files", "cd", "x.jpg")), pic, "picture from zip")

    # a zip with a hostile entry, and a zip that is not one
    x.upload("bad.zip", make_zip([("ok.xml", b"<a/>"), ("../evil.xml", b"<a/>")]), 200000)
    site.expect(x.call("import", filename="ok.xml"), "failure\nОшибка распаковки архива.",
                "zip with ../")
    check(not os.path.exists(os.path.join(site.dir, "upload", "evil.xml")), "nothing outside")
    check(not os.path.exists(os.path.join(updir, "ok.xml")), "nothing unpacked from a bad zip")
    x.upload("junk.zip", b"PK not really", 200000)
    site.expect(x.call("import", filename="ok.xml"), "failure\nОшибка распаковки архива.",
                "broken zip")

    # deactivate needs checkauth's timestamp; complete
    site.expect(x.call("deactivate"), "failure\nНе указан timestamp.", "deactivate, no timestamp")
    site.expect(x.call("deactivate", timestamp="1"), "failure\nНе указан timestamp.",
                "deactivate, wrong timestamp")
    site.expect(x.call("deactivate", timestamp=x.timestamp), "success\nДеактивация выполнена.",
                "deactivate")
    site.expect(x.call("complete"), "success\nОбмен завершен.", "complete")

    # unknown commands
    site.expect(x.call("frobnicate"), UNKNOWN_MODE, "unknown mode")
    r = site.request(dict(type="nonsense", mode="init", sessid=x.sessid), cookie=x.cookie)
    site.expect(r, "failure\nUnknown command type.", "unknown type")
    r = site.request(dict(type="sale", mode="deactivate", sessid=x.sessid), cookie=x.cookie)
    site.expect(r, UNKNOWN_MODE, "deactivate is a catalog mode")

    # the logs
    imports = lines_of(os.path.join(site.dir, "imports.log"))
    eq(imports, [
        ["catalog", "import.xml", "1000000", hashlib.sha256(data).hexdigest(), "001"],
        ["catalog", "offers.xml", "300000", hashlib.sha256(offers).hexdigest(), "002"],
        ["catalog", "(deactivate)", "0", "-", "-"],
        ["catalog", "(complete)", "0", "-", "-"]], "catalog imports.log")
    reqlog = read(os.path.join(site.dir, "requests.log")).decode("utf-8")
    for secret in ("Pa:ss", x.cookie, x.sessid, y.cookie, y.sessid):
        check(secret not in reqlog, "requests.log holds no password, cookie or sessid")
    rows = lines_of(os.path.join(site.dir, "requests.log"))
    eq([len(row) for row in rows], [12] * len(rows), "requests.log: 12 fields a line")
    eq([row[0] for row in rows], [str(i) for i in range(1, len(rows) + 1)], "requests.log seq")
    eq(rows[0][1:], ["GET", "catalog", "checkauth", "-", "0", "none", "none", "none", "200",
                     "failure", "-"], "requests.log: a failed checkauth")
    check(["POST", "catalog", "file", "import.xml", "200000", "none", "ok", "ok", "200",
           "success", "-"] in [row[1:] for row in rows], "requests.log: a chunk")
    check(any(row[7:9] == ["bad", "bad"] for row in rows), "requests.log: an unknown cookie")
    check(any(row[7:9] == ["ok", "bad"] for row in rows), "requests.log: a wrong sessid")
    check(any(row[7:9] == ["ok", "none"] for row in rows), "requests.log: no sessid")

    # an old sale client on a zip=yes site: the archive is unpacked and imported at once
    old = Exchange(site, "sale", auth=good)
    eq(old.call("init").body, b"zip=yes\nfile_limit=200000", "sale init, zip")
    old.upload("orders.zip", make_zip([("a.xml", b"<a/>"), ("b.xml", b"<b/>")]), 200000)
    eq([read(os.path.join(site.dir, "received", n)) for n in ("003-a.xml", "004-b.xml")],
       [b"<a/>", b"<b/>"], "sale zip imported at once")

    # init wipes the uploads
    eq(x.call("init").status, 200, "second init")
    eq(os.listdir(updir), [], "init wiped upload/catalog")


def test_sale(top, sites):
    """Orders on a site with every default: query, success, both kinds of file upload."""
    site = Site(top, "sale")
    sites.append(site)
    x = Exchange(site, "sale", version="2.09")
    eq(len(x.lines), 5, "sale checkauth: 4 lines and a final newline, no timestamp")
    check(x.sessid and x.timestamp is None, "sale checkauth has a sessid, no timestamp")
    eq(x.call("init", version="2.09").body,
       ("zip=no\nfile_limit=204800\nsessid=%s\nversion=2.09" % x.sessid).encode(), "sale init")

    r = x.call("query", version="2.09")
    eq(r.status, 200, "query status")
    check(EMPTY_ANSWER.match(r.body.decode("cp1251")), "a shop without orders: a bare root, "
          "got %s" % shown(r.body))
    eq(r.headers.get("Content-Type"), "application/xml; charset=windows-1251", "query type")
    eq(r.headers.get("Content-Length"), str(len(r.body)), "query length")

    r = site.request(dict(type="sale", mode="success", sessid=x.sessid), cookie="wrong")
    site.expect(r, "error\n", "success with a wrong cookie")
    site.expect(x.call("success", cookie=False), "error\n", "success without a cookie")
    site.expect(x.call("success", sessid=False), SOURCE_FAIL, "success without sessid")
    site.expect(x.call("success"), "success\n", "success")

    # with version at init, mode=file only stores; mode=import follows
    doc = "<?xml version=\"1.0\"?><КоммерческаяИнформация/>".encode("utf-8") * 2000
    x.upload("documents.xml", doc, 204800)
    eq(os.listdir(os.path.join(site.dir, "received")), [], "a versioned sale upload waits")
    eq(x.import_answers("documents.xml")[-1], site.enc("success\n"),
       "sale import: no order documents, no errors (Bitrix: success and its errors)")
    eq(read(os.path.join(site.dir, "received", "001-documents.xml")), doc, "sale received")

    # an old client (no version at init): the upload is imported at once
    old = Exchange(site, "sale")
    eq(old.call("init").body, b"zip=no\nfile_limit=204800", "sale init without version")
    old.upload("orders.xml", b"<orders/>", 204800)
    eq(read(os.path.join(site.dir, "received", "002-orders.xml")), b"<orders/>",
       "old-style sale upload imported at once")
    eq(lines_of(os.path.join(site.dir, "imports.log")), [
        ["sale", "(success)", "0", "-", "-"],
        ["sale", "documents.xml", str(len(doc)), hashlib.sha256(doc).hexdigest(), "001"],
        ["sale", "orders.xml", "9", hashlib.sha256(b"<orders/>").hexdigest(), "002"]],
       "sale imports.log")


def test_keepalive(top, sites):
    """One HTTP/1.1 connection carries a whole exchange, quickly."""
    site = Site(top, "keepalive", "--no-catalog", "--import-steps", "1")
    sites.append(site)
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=TIMEOUT)
    try:
        def call(params, body=None, headers=None):
            conn.request("POST" if body is not None else "GET",
                         PATH + "?" + urllib.parse.urlencode(params), body=body,
                         headers=headers or {})
            r = conn.getresponse()
            check(r.getheader("Content-Length") is not None, "Content-Length always sent")
            return r.read()

        auth = {"Authorization": "Basic " + base64.b64encode(b"admin:secret").decode()}
        answer = call(dict(type="catalog", mode="checkauth"), headers=auth)
        lines = answer.decode("cp1251").split("\n")
        cookie = {"Cookie": "PHPSESSID=" + lines[2]}
        sessid = lines[3][len("sessid="):]
        sock = conn.sock
        q = dict(type="catalog", mode="init", sessid=sessid)
        eq(call(q, headers=cookie), b"zip=no\nfile_limit=204800", "keep-alive init")
        data = random.Random(4).randbytes(204800 * 20 + 17)
        start = time.monotonic()
        for off in range(0, len(data), 204800):
            q = dict(type="catalog", mode="file", filename="big.xml", sessid=sessid)
            eq(call(q, body=data[off:off + 204800], headers=cookie), b"success\n",
               "keep-alive chunk")
        for _ in range(100):  # small requests show any per-request delay (e.g. Nagle)
            q = dict(type="catalog", mode="nothing", sessid=sessid)
            call(q, headers=cookie)
        elapsed = time.monotonic() - start
        q = dict(type="catalog", mode="import", filename="big.xml", sessid=sessid)
        eq(call(q, headers=cookie)[:8], b"progress", "keep-alive import 1")
        eq(call(q, headers=cookie)[:7], b"success", "keep-alive import 2")
        check(conn.sock is sock, "all requests on one connection")
        check(elapsed < 5, "121 requests took %.1f s" % elapsed)
        if VERBOSE:
            print("  keep-alive: 121 requests in %.2f s" % elapsed)

        # appending to an imported file leaves what received/ holds alone
        q = dict(type="catalog", mode="file", filename="big.xml", sessid=sessid)
        eq(call(q, body=b"tail", headers=cookie), b"success\n", "append after import")
    finally:
        conn.close()
    upload = os.path.join(site.dir, "upload", "catalog", "big.xml")
    eq(read(os.path.join(site.dir, "received", "001-big.xml")), data, "keep-alive received")
    eq(read(upload), data + b"tail", "appended after import")


def test_variants(top, sites):
    """A WooCommerce/Shop-Script flavoured site: BOM, CRLF, 401, no sessid, no limit."""
    pw = os.path.join(top, "pw2")
    with open(pw, "w", encoding="utf-8") as f:
        f.write("hunter2\r\n")
    orders = os.path.join(top, "orders.xml")
    orders_bytes = ('\ufeff<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<КоммерческаяИнформация/>\n').encode()
    with open(orders, "wb") as f:
        f.write(orders_bytes)
    site = Site(top, "variants", "--no-catalog", "--user", "exch", "--password-file", pw, "--encoding", "utf-8",
                "--bom", "--crlf", "--auth-401", "--no-sessid", "--no-timestamp",
                "--no-deactivate", "--no-complete", "--file-limit", "0", "--orders", orders,
                "--fault", "failure@import:1", "--failure-text", "Своя ошибка.",
                codec="bom", crlf=True)
    sites.append(site)
    for auth in (None, ("exch", "secret"), ("admin", "hunter2")):
        r = site.request(dict(type="catalog", mode="checkauth"), auth=auth)
        eq(r.status, 401, "401 for %r" % (auth,))
        eq(r.headers.get("WWW-Authenticate"), 'Basic realm="site"', "WWW-Authenticate")
    x = Exchange(site, "catalog", auth=("exch", "hunter2"))
    r = site.request(dict(type="catalog", mode="checkauth"), auth=("exch", "hunter2"))
    check(r.body.startswith(b"\xef\xbb\xbfsuccess\r\nPHPSESSID\r\n") and r.body.endswith(b"\r\n"),
          "BOM and CRLF in checkauth")
    eq(r.body.count(b"\r\n"), 3, "checkauth without sessid and timestamp: 3 lines")
    eq(r.headers.get("Content-Type"), UTF8_TYPE, "UTF-8 content type")
    check(x.sessid is None and x.timestamp is None, "no sessid, no timestamp")

    site.expect(x.call("init"), "zip=no\nfile_limit=0", "init, unlimited")
    big = random.Random(5).randbytes(600_000)
    x.upload("import.xml", big, len(big))  # one piece: file_limit=0 means no limit
    eq(x.import_answers("import.xml"), [site.enc("failure\nСвоя ошибка.")], "failure fault text")
    eq(x.import_answers("import.xml")[-1], site.enc("success\nИмпорт файла import.xml завершен."),
       "import after the fault")
    eq(read(os.path.join(site.dir, "received", "001-import.xml")), big, "variants received")

    # a client that dies in the middle of a chunk (after the site wrote 1 MiB of
    # it): nothing of that chunk is kept
    q = dict(type="catalog", mode="file", filename="import.xml")
    with socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT) as s:
        s.sendall(("POST %s?%s HTTP/1.1\r\nHost: x\r\nCookie: PHPSESSID=%s\r\n"
                   "Content-Length: 3000000\r\n\r\n"
                   % (PATH, urllib.parse.urlencode(q), x.cookie)).encode() + b"x" * 1500000)
        s.shutdown(socket.SHUT_WR)
        eq(s.recv(100), b"", "no answer to a cut chunk")
    eq(read(os.path.join(site.dir, "upload", "catalog", "import.xml")), big,
       "a cut chunk is not appended")
    last = lines_of(os.path.join(site.dir, "requests.log"))[-1]
    eq(last[5:], ["1500000", "none", "ok", "none", "-", "(client closed)", "-"],
       "cut chunk logged")
    site.expect(x.call("deactivate"), UNKNOWN_MODE, "--no-deactivate")
    site.expect(x.call("complete"), UNKNOWN_MODE, "--no-complete")
    s = Exchange(site, "sale", auth=("exch", "hunter2"))
    eq(s.call("query").body, orders_bytes, "--orders bytes")
    site.expect(s.call("success"), "success\n", "sale success")


def test_utf8(top, sites):
    """--encoding utf-8 without BOM, no import steps, and http500 on any mode."""
    site = Site(top, "utf8", "--encoding", "utf-8", "--import-steps", "0",
                "--fault", "http500:1", codec="utf-8")
    sites.append(site)
    r = site.request(dict(type="catalog", mode="checkauth"), auth=("admin", "secret"))
    eq(r.status, 500, "http500 fires on the first request, whatever its mode")
    check(r.body.startswith(b"<!DOCTYPE html>"), "http500 body is HTML")
    site.expect(site.request(dict(type="catalog", mode="checkauth")), AUTH_FAIL,
                "UTF-8 failure", ctype=UTF8_TYPE)
    x = Exchange(site, "catalog")
    eq(x.call("init").status, 200, "init")
    x.upload("import.xml", b"<a/>", 204800)
    site.expect(x.call("import", filename="import.xml"),
                "success\nИмпорт файла import.xml завершен.", "import without steps")


def test_faults(top, sites):
    """Every fault of a cp1251 site, each once, in the order given."""
    site = Site(top, "faults", "--no-catalog", "--slow-seconds", "1", "--import-steps", "1",
                "--fault", "wrong-password:1", "--fault", "error-text:1",
                "--fault", "http500@init:1", "--fault", "drop:1", "--fault", "inline-success:1",
                "--fault", "drop@import:1", "--fault", "failure:1", "--fault", "html:1",
                "--fault", "empty:1", "--fault", "slow:1", "--fault", "endless:3")
    sites.append(site)
    checkauth = dict(type="catalog", mode="checkauth")
    site.expect(site.request(checkauth, auth=("admin", "secret")), AUTH_FAIL, "wrong-password")
    site.expect(site.request(checkauth, auth=("admin", "secret")), "Error: Authentication failed.",
                "error-text")
    x = Exchange(site, "catalog")

    r = x.call("init")
    eq(r.status, 500, "http500@init")
    eq(r.headers.get("Content-Type"), UTF8_TYPE, "http500 content type")
    eq(x.call("init").body, b"zip=no\nfile_limit=204800", "init after http500")

    updir = os.path.join(site.dir, "upload", "catalog")
    one = random.Random(6).randbytes(100_000)
    two = random.Random(7).randbytes(50_000)
    q = dict(type="catalog", mode="file", filename="import.xml", sessid=x.sessid)
    check(site.dropped(q, body=one, cookie=x.cookie), "drop: no answer to the chunk")
    check(not os.path.exists(os.path.join(updir, "import.xml")), "a dropped chunk is not stored")
    site.expect(x.call("file", body=one, filename="import.xml"),
                "successФайл принят с замечаниями.\n", "inline-success")
    site.expect(x.call("file", body=two, filename="import.xml"), "success\n",
                "after inline-success")
    eq(read(os.path.join(updir, "import.xml")), one + two, "chunks after drop and inline-success")

    q = dict(type="catalog", mode="import", filename="import.xml", sessid=x.sessid)
    check(site.dropped(q, cookie=x.cookie), "drop@import: no answer")
    site.expect(x.call("import", filename="import.xml"),
                "failure\nОшибка импорта: не найден классификатор в файле.", "failure fault")
    r = x.call("import", filename="import.xml")
    eq(r.body, ("<!DOCTYPE html>\n<html><head><title>Error</title></head><body><b>Fatal error</b>: "
                "Allowed memory size exhausted in /home/bitrix/www/bitrix/modules/iblock/classes/"
                "general/cml2.php on line 2215</body></html>").encode(), "html fault body")
    eq((r.status, r.headers.get("Content-Type")), (200, UTF8_TYPE), "html fault status and type")
    r = x.call("import", filename="import.xml")
    eq((r.status, r.body, r.headers.get("Content-Length")), (200, b"", "0"), "empty fault")
    start = time.monotonic()
    site.expect(x.call("import", filename="import.xml"), "progress\nОбработано 1 из 1 шагов.",
                "slow fault answers normally")
    check(time.monotonic() - start >= 0.9, "slow fault waits --slow-seconds")
    for n in (1, 2, 3):
        site.expect(x.call("import", filename="import.xml"), "progress\nШаг %d." % n, "endless")
    site.expect(x.call("import", filename="import.xml"),
                "success\nИмпорт файла import.xml завершен.", "import after the faults")
    eq(read(os.path.join(site.dir, "received", "001-import.xml")), one + two, "faults received")

    rows = [row[1:] for row in lines_of(os.path.join(site.dir, "requests.log"))]
    fired = [row[-1] for row in rows if row[-1] != "-"]
    eq(fired, ["wrong-password", "error-text", "http500", "drop", "inline-success", "drop",
               "failure", "html", "empty", "slow", "endless", "endless", "endless"],
       "faults logged in requests.log")
    drops = [row for row in rows if row[-2] == "(dropped)"]
    eq([(row[2], row[4], row[8]) for row in drops], [("file", "50000", "-"), ("import", "0", "-")],
       "dropped requests: half the body read, no status")


def test_client_faults(top, sites):
    """The faults that test what a client shows: redirect, echo-auth, no-cookie, trickle."""
    site = Site(top, "client-faults", "--fault", "redirect:1", "--fault", "echo-auth:1",
                "--fault", "no-cookie:1", "--fault", "trickle:1")
    sites.append(site)
    auth = "Basic " + base64.b64encode(b"admin:secret").decode("ascii")
    q = "%s?type=catalog&mode=checkauth" % PATH
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=TIMEOUT)
    conn.request("GET", q, headers={"Authorization": auth})
    r = conn.getresponse()
    r.read()
    eq((r.status, r.getheader("Location")), (302, "/auth/?login=yes&backurl=%2Fbitrix%2Fadmin%2F"),
       "redirect: a relative login redirect")
    conn.close()
    r = site.request(dict(type="catalog", mode="checkauth"), auth=("admin", "secret"))
    eq(r.status, 200, "echo-auth: status")
    check(("HTTP_AUTHORIZATION: %s" % auth).encode() in r.body and b"PHP_AUTH_PW: secret" in r.body,
          "echo-auth: the page shows the Authorization header and the password")
    site.expect(site.request(dict(type="catalog", mode="checkauth"), auth=("admin", "secret")),
                "success\n", "no-cookie: success alone")
    x = Exchange(site, "catalog")
    site.expect(x.call("init"), "zip=no\nfile_limit=204800", "init after no-cookie")
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=TIMEOUT)
    conn.request("POST", "%s?type=catalog&mode=file&filename=a.xml&sessid=%s" % (PATH, x.sessid),
                 body=b"x" * 1000, headers={"Cookie": "PHPSESSID=" + x.cookie})
    r = conn.getresponse()
    eq((r.status, r.getheader("Content-Length")), (200, "1000000000"), "trickle: an endless answer")
    start = time.monotonic()
    got = r.read(8)
    while time.monotonic() - start < 0.5:
        got += r.read(1)
    eq(got[:8], b"success\n", "trickle: starts as success")
    check(1 <= len(got) - 8 <= 5, "trickle: about a byte each 0.2 s (%d in 0.5 s)" % (len(got) - 8))
    conn.close()
    time.sleep(0.5)  # the site notices the close at its next byte
    rows = [row[1:] for row in lines_of(os.path.join(site.dir, "requests.log"))]
    eq([row[-1] for row in rows if row[-1] != "-"], ["redirect", "echo-auth", "no-cookie", "trickle"],
       "client faults logged")
    eq([row[-2] for row in rows][-1], "(trickled)", "trickle logged")
    check(b"secret" not in read(os.path.join(site.dir, "requests.log")), "no password in the log")


# -- the sale side --------------------------------------------------------

def parse_answer(body):
    """A query answer as an element tree (ElementTree reads windows-1251 too)."""
    try:
        return ET.fromstring(body)
    except ET.ParseError as e:
        raise Failed("the answer is not XML: %s: %s" % (e, shown(body)))


def orders_of(root):
    return [d for d in root.iter("Документ") if d.findtext("ХозОперация") == "Заказ товара"]


def ids_of(body):
    return [d.findtext("Ид") for d in orders_of(parse_answer(body))]


def requisites(el):
    return {r.findtext("Наименование"): r.findtext("Значение")
            for r in el.findall("ЗначенияРеквизитов/ЗначениеРеквизита")}


def kop(text):
    """A decimal amount in kopecks (exact)."""
    whole, _, frac = text.partition(".")
    frac = (frac + "0000")[:4]
    check(frac[2:] == "00", "no fractions of a kopeck: %s" % text)
    return int(whole) * 100 + int(frac[:2])


def check_order(d, ver):
    """One order as Bitrix writes it at schema version ver (PROTOCOL.md §10)."""
    oid = d.findtext("Ид")
    what = "order %s" % oid
    check(oid and oid.isdigit(), what + ": Ид is the site's ID")
    eq(d.findtext("Номер"), "ИМ-" + oid, what + ": Номер is the prefixed account number")
    check(re.match(r"\d{4}-\d\d-\d\d$", d.findtext("Дата") or ""), what + ": Дата")
    check(re.match(r"\d\d:\d\d:\d\d$", d.findtext("Время") or ""), what + ": Время")
    eq((d.findtext("Роль"), d.findtext("Валюта"), d.findtext("Курс")), ("Продавец", "RUB", "1"),
       what + ": role, currency, rate")
    eq(d.find("НомерВерсии") is not None, ver >= 2.1, what + ": НомерВерсии from 2.10 on")
    buyers = d.findall("Контрагенты/Контрагент")
    eq(len(buyers), 1, what + ": one buyer")
    b = buyers[0]
    eq(b.findtext("Роль"), "Покупатель", what + ": buyer role")
    check(len(b.findtext("Ид")) <= 40 and b.findtext("Ид").count("#") == 2,
          what + ": buyer Ид USER_ID#LOGIN#NAME, at most 40 characters")
    types = [c.findtext("Тип") for c in b.findall("Контакты/Контакт")]
    eq(types, ["Почта", "ТелефонРабочий"] if ver <= 2.05 else ["Электронная почта", "Телефон рабочий"],
       what + ": contact types directly under Контрагент, by version")
    check(b.find("Адрес/Представление") is not None, what + ": Адрес under Контрагент")
    if b.find("ИНН") is not None:
        inn = b.findtext("ИНН")
        w = [2, 4, 10, 3, 5, 9, 4, 6, 8]
        eq(int(inn[9]), sum(int(x) * y for x, y in zip(inn, w)) % 11 % 10,
           what + ": ИНН check digit")
        reps = b.findall("Представители/Представитель/Контрагент")
        eq(len(reps), 1, what + ": one representative")
        eq(reps[0].findtext("Отношение"), "Контактное лицо", what + ": the contact person")
        name = reps[0].findtext("Наименование")
        eq(reps[0].findtext("Ид"), hashlib.md5(name.encode()).hexdigest(), what + ": its Ид is md5")
        check(b.find("ЮридическийАдрес") is not None and b.findtext("КПП"),
              what + ": company fields")
    else:
        check(b.findtext("Фамилия") and b.find("АдресРегистрации") is not None,
              what + ": person fields")
    lines = d.findall("Товары/Товар")
    check(3 <= len(lines) <= 12, what + ": about five lines (%d)" % len(lines))
    total = 0
    for line in lines:
        price, count, amount = (line.findtext(t) for t in ("ЦенаЗаЕдиницу", "Количество", "Сумма"))
        eq(kop(amount), round(kop(price) * float(count)), what + ": line sum = price x quantity")
        total += kop(amount)
        eq(line.find("БазоваяЕдиница") is not None, ver <= 2.05, what + ": unit form by version")
    eq(kop(d.findtext("Сумма")), total, what + ": Сумма = the lines")
    delivery = [x for x in lines if x.findtext("Ид") == "ORDER_DELIVERY"]
    check(len(delivery) <= 1, what + ": at most one delivery line")
    req = requisites(d)
    for name in ("Метод оплаты", "Метод оплаты ИД", "Заказ оплачен", "Доставка разрешена", "Отменен",
                 "Финальный статус", "Статус заказа", "Статуса заказа ИД", "Дата изменения статуса",
                 "Сайт", "Способ доставки"):
        check(name in req, what + ": requisite " + name)
    check(re.match(r"\[[NPF]\] ", req["Статус заказа"]), what + ": status [code] name")
    eq(req["Статус заказа"][1], req["Статуса заказа ИД"], what + ": status code")
    eq(req["Финальный статус"], "true" if req["Статуса заказа ИД"] == "F" else "false",
       what + ": final status")
    check(re.match(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d$", req["Дата изменения статуса"]),
          what + ": status date in the site's locale")
    return oid


class SaleClient:
    """A sale exchange: checkauth, init, then query/success with the session."""

    def __init__(self, site, version=None):
        extra = {"version": version} if version else {}
        self.x = Exchange(site, "sale", **extra)
        self.site = site
        eq(self.x.call("init", **extra).status, 200, "sale init")

    def query(self, headers=None):
        q = dict(type="sale", mode="query")
        if self.x.sessid:
            q["sessid"] = self.x.sessid
        return self.site.request(q, cookie=self.x.cookie, headers=headers)

    def success(self):
        return self.x.call("success").body


def test_orders(top, sites):
    """The shop's orders: query holds the unconfirmed ones, success confirms what was sent."""
    site = Site(top, "orders", "--sale-orders", "6", "--sale-seed", "7")
    sites.append(site)
    c = SaleClient(site)
    r = c.query()
    eq((r.status, r.headers.get("Content-Type")), (200, XML_CP1251), "query: windows-1251 XML")
    check(r.body.startswith(b'<?xml version="1.0" encoding="windows-1251"?>\n'), "declaration")
    root = parse_answer(r.body)
    eq(root.get("ВерсияСхемы"), "2.05", "no version at init: 2.05")
    got = [check_order(d, 2.05) for d in orders_of(root)]
    eq(got, ["1001", "1002", "1003", "1004", "1005", "1006"], "every unconfirmed order")
    eq(len(root.findall("Документ")), 6, "2.05: orders only")
    kinds = {d.find("Контрагенты/Контрагент/ИНН") is not None for d in orders_of(root)}
    eq(kinds, {True, False}, "people and companies among the buyers")
    eq(ids_of(c.query().body), got, "without success: the same again")

    # success: another session's cookie gets error, the right one confirms
    other = Exchange(site, "catalog")
    r = site.request(dict(type="sale", mode="success", sessid=other.sessid), cookie=other.cookie)
    site.expect(r, "error\n", "success with another live session's cookie")
    eq(site.control("sale/state")["unconfirmed"], 6, "an error confirms nothing")
    eq(c.success(), b"success\n", "success")
    state = site.control("sale/state")
    eq((state["unconfirmed"], state["total"]), (0, 6), "all confirmed")
    check(EMPTY_ANSWER.match(c.query().body.decode("cp1251")), "nothing left: a bare root")
    eq(c.success(), b"success\n", "success after an empty answer")

    # new and changed orders: in the next answer, a changed one with its new content
    step = site.control("sale/step?new=2&change=2")
    eq((len(step["new"]), len(step["changed"])), (2, 2), "step: 2 new, 2 changed")
    changed = {oid for oid, _ in step["changed"]}
    eq({v for _, v in step["changed"]}, {2}, "a change raises the version")
    r = c.query()
    eq(sorted(ids_of(r.body)), sorted(step["new"] + list(changed)), "new and changed in the answer")
    for d in orders_of(parse_answer(r.body)):
        check_order(d, 2.05)

    # an order that changes between query and success stays unconfirmed
    again = site.control("sale/step?new=1&change=1")
    eq(c.success(), b"success\n", "success")
    left = sorted(o["id"] for o in site.control("sale/state")["orders"] if o["unconfirmed"])
    eq(left, sorted(set(again["new"]) | {oid for oid, _ in again["changed"]}),
       "confirmed: what the query returned, unless it changed since; not what came after")

    # a success after another sale checkauth: error (Bitrix keeps the last one's session)
    c.query()
    d = SaleClient(site)
    eq(c.success(), b"error\n", "success after another client's checkauth")
    eq(site.control("sale/state")["unconfirmed"], len(left), "nothing confirmed by the error")
    eq(d.success(), b"success\n", "a session that never queried")
    eq(site.control("sale/state")["unconfirmed"], len(left), "confirms nothing")

    # a Referer header: Bitrix 12.5 answers an empty result, which confirms nothing
    r = d.query(headers={"Referer": "http://127.0.0.1/bitrix/admin/"})
    check(EMPTY_ANSWER.match(r.body.decode("cp1251")), "Referer: an empty answer")
    eq(d.success(), b"success\n", "success after it")
    eq(site.control("sale/state")["unconfirmed"], len(left), "a Referer's answer confirms nothing")
    eq(sorted(ids_of(d.query().body)), left, "without the Referer: the orders")
    eq(d.success(), b"success\n", "success")
    eq(site.control("sale/state")["unconfirmed"], 0, "all confirmed")

    # the truth: every order, latest content, as the site would send it
    truth = parse_answer(site.control("sale/truth"))
    eq([d.findtext("Ид") for d in orders_of(truth)], ["10%02d" % i for i in range(1, 10)],
       "truth: every order")
    versions = {o["id"]: o["version"] for o in site.control("sale/state")["orders"]}
    truth = parse_answer(site.control("sale/truth?version=2.10&encoding=cp1251"))
    eq({d.findtext("Ид"): int(d.findtext("НомерВерсии")) for d in orders_of(truth)}, versions,
       "truth at 2.10: the latest versions")

    events = [line.split("\t")[0] for line in
              read(os.path.join(site.dir, "sale.log")).decode().splitlines()]
    eq((events.count("error"), events.count("step")), (2, 2), "sale.log: errors and steps")
    eq(events.count("query"), 7, "sale.log: queries")


def test_orders_versions(top, sites):
    """2.10: payments and shipments beside each order (Основание); 3.1: Контейнер."""
    site = Site(top, "orders-versions", "--sale-orders", "3", "--sale-seed", "3")
    sites.append(site)
    site.control("sale/step?change=3")
    c = SaleClient(site, "2.10")
    root = parse_answer(c.query().body)
    eq(root.get("ВерсияСхемы"), "2.10", "the session's version")
    docs = root.findall("Документ")
    eq(len(docs), 9, "three documents an order")
    eq([docs[0].findtext("ХозОперация"), docs[2].findtext("ХозОперация")],
       ["Заказ товара", "Отпуск товара"], "order, payment, shipment")
    check(docs[1].findtext("ХозОперация") in ("Выплата наличных денег", "Эквайринговая операция",
                                              "Выплата безналичных денег"), "a payment")
    for order in orders_of(root):
        check_order(order, 2.1)
        eq(order.findtext("НомерВерсии"), "2", "2.10: the version number")
        mine = [d for d in docs if d.findtext("Основание") == order.findtext("Ид")]
        eq(len(mine), 2, "payment and shipment name the order in Основание")
        for d in mine:
            check(d.findtext("Ид") != order.findtext("Ид"), "a document of its own Ид")
    eq(c.success(), b"success\n", "success")
    eq(site.control("sale/state")["unconfirmed"], 0, "2.10: confirmed")

    site.control("sale/step?new=1")
    c = SaleClient(site, "3.1")
    root = parse_answer(c.query().body)
    eq(root.get("ВерсияСхемы"), "3.1", "3.1")
    boxes = root.findall("Контейнер")
    eq([len(b.findall("Документ")) for b in boxes], [3],
       "3.1: the order and its documents in a Контейнер")
    check_order(boxes[0].find("Документ"), 3.1)


def test_orders_variants(top, sites):
    """WooCommerce (a few per query), Shop-Script (repeats), UTF-8, drift, --orders-once."""
    woo = Site(top, "woo", "--sale-orders", "5", "--sale-limit", "2", "--encoding", "utf-8",
               "--bom", codec="bom")
    sites.append(woo)
    c = SaleClient(woo)
    got = []
    for n in (2, 2, 1, 0):
        r = c.query()
        eq(r.headers.get("Content-Type"), XML_UTF8, "UTF-8 query answer")
        check(r.body.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>'),
              "BOM, then a UTF-8 declaration")
        ids = ids_of(r.body[3:])
        eq(len(ids), n, "--sale-limit 2: at most two a query")
        got += ids
        eq(c.success(), woo.enc("success\n"), "success")
    eq(got, ["1001", "1002", "1003", "1004", "1005"], "each once, in order")

    shop = Site(top, "shopscript", "--sale-orders", "3", "--sale-repeat", "--sale-drift", "1:1:2")
    sites.append(shop)
    c = SaleClient(shop)
    eq(ids_of(c.query().body), ["1001", "1002", "1003"], "first answer")
    state = shop.control("sale/state")
    eq(state["total"], 4, "--sale-drift: a new order after the query")
    eq(sum(o["version"] for o in state["orders"]), 5, "--sale-drift: and a changed one")
    eq(c.success(), b"success\n", "success")
    eq(ids_of(c.query().body), ["1001", "1002", "1003", "1004"], "--sale-repeat: confirmed ones too")
    eq(shop.control("sale/state")["total"], 5, "--sale-drift: second time")
    eq(c.success(), b"success\n", "success")
    c.query()
    eq(shop.control("sale/state")["total"], 5, "--sale-drift 1:1:2: only twice")

    path = os.path.join(top, "answer.xml")
    data = ('<?xml version="1.0" encoding="windows-1251"?>\n<КоммерческаяИнформация '
            'ВерсияСхемы="2.05"><Документ><Ид>1</Ид></Документ></КоммерческаяИнформация>\n'
            ).encode("cp1251")
    with open(path, "wb") as f:
        f.write(data)
    once = Site(top, "once", "--orders", path, "--orders-once")
    sites.append(once)
    c = SaleClient(once)
    eq(c.query().body, data, "--orders: the file")
    d = SaleClient(once)
    eq(d.query().body, data, "--orders: the file, again")
    eq(c.success(), b"error\n", "an old session's success")
    eq(d.query().body, data, "not confirmed by it")
    eq(d.success(), b"success\n", "success")
    check(EMPTY_ANSWER.match(d.query().body.decode("cp1251")), "--orders-once: then empty")


def test_orders_faults(top, sites):
    """Faults of the sale side: HTML, empty, cut answer, error on success, slow (added live)."""
    site = Site(top, "orders-faults", "--sale-orders", "4", "--fault", "html@query:1",
                "--fault", "empty@query:1", "--fault", "drop@query:1", "--fault", "error:1")
    sites.append(site)
    c = SaleClient(site)
    r = c.query()
    eq((r.status, r.headers.get("Content-Type")), (200, UTF8_TYPE), "html@query: an HTML page")
    check(r.body.startswith(b"<!DOCTYPE html>"), "html@query: the PHP error page")
    r = c.query()
    eq((r.status, r.body), (200, b""), "empty@query: an empty body")
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=TIMEOUT)
    conn.request("GET", "%s?type=sale&mode=query&sessid=%s" % (PATH, c.x.sessid),
                 headers={"Cookie": "PHPSESSID=" + c.x.cookie})
    resp = conn.getresponse()
    length = int(resp.getheader("Content-Length"))
    try:
        resp.read()
        raise Failed("drop@query: the whole answer arrived")
    except http.client.IncompleteRead as e:
        eq(len(e.partial), length // 2, "drop@query: half the answer, then the connection closes")
        check(e.partial.startswith(b"<?xml"), "drop@query: the start of the real answer")
    conn.close()
    r = c.query()
    eq(len(ids_of(r.body)), 4, "after the faults: the orders")
    eq(c.success(), b"error\n", "error@success: the site's session changed")
    eq(site.control("sale/state")["unconfirmed"], 4, "error: nothing confirmed")
    c.query()
    eq(c.success(), b"success\n", "then success")
    eq(site.control("sale/state")["unconfirmed"], 0, "confirmed")

    # faults added while the site runs: a slow answer (to kill a client in that window)
    site.control("sale/step?new=1")
    ans = site.control("fault?add=slow@query:1&slow=0.5")
    eq([f["name"] for f in ans["faults"]], ["html", "empty", "drop", "error", "slow"], "added")
    eq(ans["slow_seconds"], 0.5, "slow seconds set")
    start = time.monotonic()
    eq(ids_of(c.query().body), ["1005"], "slow@query answers normally")
    check(time.monotonic() - start >= 0.45, "slow@query waited")
    eq(site.control("fault?clear=1")["faults"], [], "cleared")
    try:
        site.control("fault?add=nosuch")
        raise Failed("a bad fault spec was accepted")
    except urllib.error.HTTPError as e:
        eq(e.code, 400, "a bad fault spec: HTTP 400")
    rows = [row[1:] for row in lines_of(os.path.join(site.dir, "requests.log"))]
    eq([row[-1] for row in rows if row[-1] != "-"], ["html", "empty", "drop", "error", "slow"],
       "faults in requests.log")
    eq([row[-2] for row in rows if row[-1] == "drop"],
       ["(cut) (4 orders)"], "the cut answer logged")
    eq(len(rows), 10, "control requests are not in requests.log")

    # the command-line client of the control requests
    out = subprocess.run([sys.executable, CMLSITE, "--dir", site.dir, "--control", "sale/state"],
                         capture_output=True, check=False)
    eq(out.returncode, 0, "--control: exit 0")
    eq(json.loads(out.stdout)["total"], 5, "--control: the state")
    out = subprocess.run([sys.executable, CMLSITE, "--dir", site.dir, "--control", "nothing"],
                         capture_output=True, check=False)
    eq(out.returncode, 1, "--control of an unknown request: exit 1")


def test_gen_orders(top, sites):
    """bench/gen-orders.py writes the site's own orders (one generator for both)."""
    site = Site(top, "gen", "--sale-orders", "3", "--sale-seed", "7")
    sites.append(site)
    out = os.path.join(top, "gen.xml")
    gen = os.path.join(HERE, "..", "..", "bench", "gen-orders.py")
    for attempt in range(2):
        subprocess.run([sys.executable, gen, "-q", "--orders", "3", "--seed", "7", "--out",
                        out + str(attempt)], check=True)
    eq(read(out + "0"), read(out + "1"), "gen-orders.py: the same bytes again")
    mine = read(out + "0")
    truth = site.control("sale/truth?encoding=cp1251")
    body = lambda b: b[b.index(b"<\xc4\xee\xea\xf3\xec\xe5\xed\xf2>"):]  # from <Документ>
    eq(body(mine), body(truth), "gen-orders.py: the site's orders 1..3 at version 1")
    check(mine.startswith(b'<?xml version="1.0" encoding="windows-1251"?>'), "windows-1251")


# -- 1C's order documents applied by the site (cmlimport.py) ---------------------

FINAL = "Заказ №{} не может быть изменен (находится в финальном статусе, оплачен или разрешена доставка)."


def order_doc(site, oid, reqs, schema="2.05", version=None, drop=0, number=None, xml_id=None,
              number_1c=None, mark=None):
    """A document about order oid as 1C would send it back: the order as the site
    has it (the truth at 2.05), its requisites replaced by reqs, optionally
    НомерВерсии, Номер, Ид, Номер1С set and the first `drop` product lines left out."""
    root = parse_answer(site.control("sale/truth?version=2.05"))
    d = [x for x in orders_of(root) if x.findtext("Ид") == oid][0]
    for tag, value in (("Номер", number), ("Ид", xml_id)):
        if value is not None:
            d.find(tag).text = value
    for tag, value in (("НомерВерсии", version), ("Номер1С", number_1c), ("ПометкаУдаления", mark)):
        if value is not None:
            el = ET.SubElement(d, tag)
            el.text = value
    goods = d.find("Товары")
    for line in [x for x in goods if x.findtext("Ид") != "ORDER_DELIVERY"][:drop]:
        goods.remove(line)
    d.remove(d.find("ЗначенияРеквизитов"))
    rq = ET.SubElement(d, "ЗначенияРеквизитов")
    for name, value in reqs:
        r = ET.SubElement(rq, "ЗначениеРеквизита")
        ET.SubElement(r, "Наименование").text = name
        ET.SubElement(r, "Значение").text = value
    return doc_file([ET.tostring(d, encoding="unicode")], schema)


def doc_file(parts, schema="2.05"):
    text = ('<?xml version="1.0" encoding="windows-1251"?>\n<КоммерческаяИнформация '
            'ВерсияСхемы="%s" ДатаФормирования="2026-11-30T12:00:00">\n%s</КоммерческаяИнформация>\n'
            % (schema, "".join(parts)))
    return text.encode("cp1251")


def shown_orders(site):
    return {o["id"]: o for o in site.control("sale/orders")["orders"]}


def applied(site):
    path = os.path.join(site.dir, "applied.log")
    return lines_of(path) if os.path.exists(path) else []


class OldClient:
    """A client without version= at init: each mode=file is imported at once."""

    def __init__(self, site):
        self.site = site
        self.x = Exchange(site, "sale")
        eq(self.x.call("init").status, 200, "old init")

    def send(self, name, data):
        r = self.x.call("file", body=data, filename=name)
        eq(r.status, 200, "old sale upload status")
        return r.body.decode(self.site.codec)


def test_apply_old(top, sites):
    """An old client's documents, applied at mode=file as Bitrix's oldSaveOrder does."""
    site = Site(top, "apply-old", "--sale-orders", "5", "--sale-seed", "3")
    sites.append(site)
    pull = SaleClient(site)
    eq(len(ids_of(pull.query().body)), 5, "five orders to pull")
    pull.success()
    c = OldClient(site)
    before = shown_orders(site)
    check(not any(o["paid"] or o["allow_delivery"] or o["canceled"] for o in before.values()),
          "generated orders start unpaid")
    n_lines = len(before["1001"]["lines"])

    # paid by the payment date, with its number; the basket kept (all lines sent)
    doc = order_doc(site, "1001", [("Дата оплаты по 1С", "2026-11-25T10:00:00"),
                                   ("Номер оплаты по 1С", "ПКО-77"), ("Проведен", "true")],
                    version="1")
    eq(c.send("o1.xml", doc), "success\n", "a payment document: success")
    o = shown_orders(site)["1001"]
    eq((o["paid"], o["pay_date"], o["pay_number"], o["version_1c"], o["status"]),
       (True, "2026-11-25 10:00:00", "ПКО-77", "1", "N"), "1001 paid as 1C said")
    eq(len(o["lines"]), n_lines, "every line sent: none deleted")
    check(o["updated_1c"], "an order changed by 1C is UPDATED_1C=Y")
    eq(ids_of(pull.query().body), [], "the order 1C changed is not offered again")
    pull.success()

    # shipped by the shipment date (bare ID as Номер): delivery allowed, final status;
    # the order is paid, so the basket step is refused in Bitrix's words, the rest acts
    doc = order_doc(site, "1001", [("Дата отгрузки по 1С", "2026-11-26"),
                                   ("Номер отгрузки по 1С", "РТУ-5"),
                                   ("Статуса заказа ИД", "P")], version="2", number="1001",
                    drop=1)
    eq(c.send("o2.xml", doc), "success\n" + FINAL.format("1001") + "\n",
       "a shipment document for a paid order: success and the refusal on the next line")
    o = shown_orders(site)["1001"]
    eq((o["allow_delivery"], o["delivery_date"], o["delivery_number"], o["status"],
        o["version_1c"], len(o["lines"]), o["paid"]),
       (True, "2026-11-26", "РТУ-5", "F", "1", n_lines, True),
       "1001 shipped, final, the status requisite ignored (off by default), basket kept")

    # a document leaving a line out: the site deletes it (a test catches such a document)
    n2 = len(before["1002"]["lines"])
    eq(c.send("o3.xml", order_doc(site, "1002", [], version="1", drop=1)), "success\n",
       "a document without a line")
    o = shown_orders(site)["1002"]
    eq(len(o["lines"]), n2 - 1, "the line left out is deleted")
    eq([line["id"] for line in o["lines"]],
       [line["id"] for line in before["1002"]["lines"]][1:], "the other lines stay")
    # the same НомерВерсии again: the basket step is skipped
    eq(c.send("o4.xml", order_doc(site, "1002", [], version="1", drop=1)), "success\n",
       "same version again")
    eq(len(shown_orders(site)["1002"]["lines"]), n2 - 1, "same version: nothing deleted")

    # cancelled by Отменен, un-cancelled by a document that does not say so
    eq(c.send("o5.xml", order_doc(site, "1003", [("Отменен", "true")], version="1")),
       "success\n", "cancel")
    eq(shown_orders(site)["1003"]["canceled"], True, "1003 cancelled")
    eq(c.send("o6.xml", order_doc(site, "1003", [("Отменен", "false")], version="2")),
       "success\n", "un-cancel")
    eq(shown_orders(site)["1003"]["canceled"], False, "1003 un-cancelled by Отменен=false")
    eq(c.send("o7.xml", order_doc(site, "1003", [], version="3", mark="true")), "success\n",
       "ПометкаУдаления")
    eq(shown_orders(site)["1003"]["canceled"], True, "1003 cancelled by ПометкаУдаления")

    # found by Номер1С once 1C gave it; an Ид that is only the site's ID finds nothing
    eq(c.send("o8.xml", order_doc(site, "1004", [], version="1", number_1c="УТ-17")),
       "success\n", "Номер1С stored")
    eq(shown_orders(site)["1004"]["id_1c"], "УТ-17", "ID_1C from Номер1С")
    eq(c.send("o9.xml", order_doc(site, "1004", [("Дата оплаты по 1С", "2026-11-27")],
                                  version="2", number="УТ-17", xml_id="x")), "success\n",
       "found by ID_1C")
    eq(shown_orders(site)["1004"]["paid"], True, "1004 found by its 1C number and paid")
    # with 1C's default namespace (CXMLFileStream matches names without it)
    doc = order_doc(site, "1004", [("Дата отгрузки по 1С", "2026-11-29")], version="3")
    doc = doc.replace(' ВерсияСхемы='.encode("cp1251"),
                      ' xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы='.encode("cp1251"), 1)
    eq(c.send("ns.xml", doc), "success\n" + FINAL.format("1004") + "\n", "namespaced document")
    eq(shown_orders(site)["1004"]["delivery_date"], "2026-11-29", "a namespaced document applies")
    untouched = shown_orders(site)["1005"]
    for num, xid in (("ИМ-9999", "9999"), ("", "1005")):
        eq(c.send("u.xml", order_doc(site, "1005", [("Дата оплаты по 1С", "2026-11-28")],
                                     number=num, xml_id=xid)),
           "success\n", "an unknown order: success")
    eq(shown_orders(site)["1005"], untouched, "unknown orders ignored, 1005 untouched")

    log = applied(site)
    eq([(x[0], x[1], x[5]) for x in log[:2]], [("001", "old", "1001"), ("002", "old", "1001")],
       "applied.log: import number, path, order")
    eq((log[0][6], log[0][9]), ("1", "o1.xml"), "applied.log: НомерВерсии, file name")
    check("paid" in log[0][7].split(",") and "pay_number" in log[0][7].split(","),
          "applied.log: what changed: %s" % log[0][7])
    eq(log[1][8], FINAL.format("1001"), "applied.log: the refusal")
    eq(log[2][7].split(",")[0], "lines:+0-1~0", "applied.log: the deleted line")
    eq([x[5] for x in log[-2:]], ["-", "-"], "applied.log: unknown orders")


def test_apply_new(top, sites):
    """A new client (version= at init): mode=file stores, mode=import applies after
    its progress steps; the status requisite with --change-status-from-1c; 2.10 documents."""
    site = Site(top, "apply-new", "--sale-orders", "3", "--sale-seed", "5",
                "--change-status-from-1c")
    sites.append(site)
    x = Exchange(site, "sale", version="2.09")
    eq(x.call("init", version="2.09").status, 200, "init")
    doc = order_doc(site, "1001", [("Статуса заказа ИД", "P"), ("Дата оплаты по 1С", "2026-11-25")],
                    version="1")
    x.upload("d1.xml", doc, 204800)
    eq(shown_orders(site)["1001"]["paid"], False, "mode=file alone applies nothing")
    answers = x.import_answers("d1.xml")
    eq(answers, [site.enc("progress\nОбработано 1 из 2 шагов."),
                 site.enc("progress\nОбработано 2 из 2 шагов."), site.enc("success\n")],
       "import: progress, then success")
    o = shown_orders(site)["1001"]
    eq((o["paid"], o["status"]), (True, "P"), "status from 1C applied with the option")
    # a paid order's document: the refusal follows success at mode=import too
    x.upload("d2.xml", order_doc(site, "1001", [("Отменен", "true")], version="2"), 204800)
    eq(x.import_answers("d2.xml")[-1], site.enc("success\n" + FINAL.format("1001") + "\n"),
       "import answer with the refusal")
    eq(shown_orders(site)["1001"]["canceled"], True, "cancel acts despite the refusal")

    # schema 2.10: order document, then payment and shipment documents by Основание
    base = order_doc(site, "1002", [("Дата оплаты по 1С", "2026-11-25")], schema="2.10",
                     version="1")
    x.upload("d3.xml", base, 204800)
    eq(x.import_answers("d3.xml")[-1], site.enc("success\n"), "2.10 order document")
    o = shown_orders(site)["1002"]
    eq((o["paid"], o["id_1c"], o["version_1c"]), (True, "1002", "1"), "2.10: paid by a 1C payment")
    ship = ("<Документ><Ид>s-1</Ид><Номер>s-1</Номер><Дата1С>2026-11-26</Дата1С>"
            "<ХозОперация>Отпуск товара</ХозОперация><Основание>ИМ-1002</Основание>"
            "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>Отгружен</Наименование>"
            "<Значение>true</Значение></ЗначениеРеквизита></ЗначенияРеквизитов></Документ>")
    pay = ("<Документ><Ид>p-1</Ид><Номер>p-1</Номер><ХозОперация>Выплата наличных денег"
           "</ХозОперация><Основание>1002</Основание><ЗначенияРеквизитов><ЗначениеРеквизита>"
           "<Наименование>Оплачен</Наименование><Значение>true</Значение></ЗначениеРеквизита>"
           "</ЗначенияРеквизитов></Документ>")
    x.upload("d4.xml", doc_file([ship, pay], "2.10"), 204800)
    eq(x.import_answers("d4.xml")[-1], site.enc(
        "success\nДокумент с Ид - p-1. Оплата для заказа №1002 не может быть создана/изменена "
        "т.к. документ основание имеет финальный статус\n"),
       "2.10: shipped, then a payment for a final order refused")
    o = shown_orders(site)["1002"]
    eq((o["deducted"], o["allow_delivery"], o["status"], o["delivery_date"]),
       (True, True, "F", "2026-11-26"), "2.10: the shipment document ships and finalises")


def test_apply_faults(top, sites):
    """Faults at type=sale mode=file and import leave the order as it was; the retry applies."""
    site = Site(top, "apply-faults", "--sale-orders", "2", "--sale-seed", "9")
    sites.append(site)
    doc = order_doc(site, "1001", [("Дата оплаты по 1С", "2026-11-25")], version="1")
    c = OldClient(site)
    for spec in ("failure@file:1", "http500@file:1", "drop@file:1"):
        site.control("fault?add=" + spec)
        if spec.startswith("drop"):
            check(site.dropped(dict(type="sale", mode="file", filename="f.xml", sessid=c.x.sessid),
                               body=doc, cookie=c.x.cookie), "drop@file: no answer")
        else:
            r = c.x.call("file", body=doc, filename="f.xml")
            check(r.status == 500 or r.body.startswith(b"failure"), spec + ": a failure")
        eq(shown_orders(site)["1001"]["paid"], False, spec + ": nothing applied")
        eq(applied(site), [], spec + ": nothing in applied.log")
        c = OldClient(site)  # a new run: init empties the upload
    eq(c.send("f.xml", doc), "success\n", "the retry")
    eq(shown_orders(site)["1001"]["paid"], True, "applied on the retry")
    eq(len(applied(site)), 1, "applied once")

    doc2 = order_doc(site, "1002", [("Дата оплаты по 1С", "2026-11-25")], version="1")
    for spec in ("failure@import:1", "http500@import:1", "drop@import:1"):
        x = Exchange(site, "sale", version="2.09")
        x.call("init", version="2.09")
        x.upload("g.xml", doc2, 204800)
        site.control("fault?add=" + spec)
        if spec.startswith("drop"):
            check(site.dropped(dict(type="sale", mode="import", filename="g.xml",
                                    sessid=x.sessid), cookie=x.cookie), "drop@import: no answer")
        else:
            r = x.call("import", filename="g.xml")
            check(r.status == 500 or r.body.startswith(b"failure"), spec + ": a failure")
        eq(shown_orders(site)["1002"]["paid"], False, spec + ": nothing applied")
    eq(x.import_answers("g.xml")[-1], site.enc("success\n"), "import retried")
    eq(shown_orders(site)["1002"]["paid"], True, "applied on the retry")
    eq(len(applied(site)), 2, "each document applied once")


def test_apply_chunks(top, sites):
    """An old client's file in chunks: Bitrix imports the whole file after every
    chunk, so a document complete in the first chunk is applied again later."""
    site = Site(top, "apply-chunks", "--sale-orders", "2", "--sale-seed", "4",
                "--file-limit", "0")
    sites.append(site)
    one = order_doc(site, "1001", [("Дата оплаты по 1С", "2026-11-25")], version="1")
    two = order_doc(site, "1002", [("Отменен", "true")], version="1")
    start = one.index("<Документ>".encode("cp1251"))
    body = lambda b: b[b.index("<Документ>".encode("cp1251")):b.index(
        "</КоммерческаяИнформация>".encode("cp1251"))]
    data = one[:start] + body(one) + body(two) + "</КоммерческаяИнформация>\n".encode("cp1251")
    cut = len(one[:start] + body(one)) + 40  # the first document and a bit of the second
    c = OldClient(site)
    eq(c.send("c.xml", data[:cut]), "success\n", "first chunk: success")
    o = shown_orders(site)
    eq((o["1001"]["paid"], o["1002"]["canceled"]), (True, False),
       "after the first chunk: the complete document applied, the cut one not")
    eq(c.send("c.xml", data[cut:]), "success\n", "second chunk: success")
    o = shown_orders(site)
    eq((o["1001"]["paid"], o["1002"]["canceled"]), (True, True), "after the second: both")
    eq([x[5] for x in applied(site)], ["1001", "1001", "1002"],
       "the first document applied once per chunk (as Bitrix: one request per file)")



def catalog_file(body, root_attrs='ВерсияСхемы="2.05"'):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация '
            'xmlns="urn:1C.ru:commerceml_2" %s>%s</КоммерческаяИнформация>\n'
            % (root_attrs, body)).encode("utf-8")


CLS = "<Классификатор><Ид>cls-1</Ид><Наименование>Классификатор</Наименование>" \
      "<ТипыЦен><ТипЦены><Ид>retail</Ид><Наименование>Розница</Наименование></ТипЦены>" \
      "<ТипЦены><Ид>opt</Ид><Наименование>Опт</Наименование></ТипЦены></ТипыЦен>" \
      "</Классификатор>"


def catalog(flag, goods, cat_id="cat-1", cls_id="cls-1"):
    attr = ' СодержитТолькоИзменения="%s"' % flag if flag else ""
    head = "".join("<%s>%s</%s>" % (t, v, t) for t, v in (
        ("Ид", cat_id), ("ИдКлассификатора", cls_id), ("Наименование", "Каталог")) if v)
    return "<Каталог%s>%s<Товары>%s</Товары></Каталог>" % (attr, head, goods)


def product(pid, name, pictures=()):
    return "<Товар><Ид>%s</Ид><Наименование>%s</Наименование>%s</Товар>" % (
        pid, name, "".join("<Картинка>%s</Картинка>" % p for p in pictures))


def package(flag, offers, cat_id="cat-1", pkg_id="cat-1#"):
    attr = ' СодержитТолькоИзменения="%s"' % flag if flag else ""
    head = "".join("<%s>%s</%s>" % (t, v, t) for t, v in (
        ("Ид", pkg_id), ("Наименование", "Пакет"), ("ИдКаталога", cat_id),
        ("ИдКлассификатора", "cls-1")) if v)
    return "<ПакетПредложений%s>%s<Предложения>%s</Предложения></ПакетПредложений>" % (
        attr, head, offers)


def offer(oid, prices=None, qty=None):
    body = "<Ид>%s</Ид>" % oid
    if prices is not None:
        body += "<Цены>%s</Цены>" % "".join(
            "<Цена><ИдТипаЦены>%s</ИдТипаЦены><ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу></Цена>" % kv
            for kv in prices)
    if qty is not None:
        body += "<Количество>%s</Количество>" % qty
    return "<Предложение>%s</Предложение>" % body


def test_catalog_model(top, sites):
    """The catalog the site keeps (cmlcatalog.py): identity, the update-only flag,
    step 8, prices replaced, stock, pictures and whether they were uploaded."""
    site = Site(top, "catalog-model", "--import-steps", "0")
    sites.append(site)
    x = Exchange(site, "catalog")
    eq(x.call("init").status, 200, "init")

    def send(name, data, want_ok=True):
        x.upload(name, data, 1 << 20)
        r = x.call("import", filename=name)
        body = r.body.decode("cp1251")
        check(body.startswith("success") == want_ok, "import %s: %s" % (name, body))
        return body

    # no identity: refused, nothing kept, the identity not set
    body = send("bare.xml", catalog_file(catalog("", product("p1", "A"), cat_id="")), False)
    check("Каталог/Ид" in body, "the reason names Каталог/Ид: %s" % body)
    body = send("bare2.xml", catalog_file(package("true", offer("p1", [("retail", "1")]),
                                                  cat_id="")), False)
    check("ИдКаталога" in body, "the reason names ИдКаталога: %s" % body)
    st = site.control("catalog")
    eq((st["ident"], st["products_total"], len(st["refused"])), (None, 0, 2), "refused, no ident")
    # a root alone and a Классификатор alone: success, nothing changes
    send("root.xml", catalog_file(""))
    send("cls.xml", catalog_file(CLS))

    # the full import sets the catalog up; a picture uploaded, one not
    x.upload("import_files/a/p1.jpg", b"jpeg", 1 << 20)
    full = CLS + catalog("false", product("p1", "A", ["import_files/a/p1.jpg"]) +
                         product("p2", "B", ["import_files/b/p2.jpg"]) + product("p3", "C"))
    send("import.xml", catalog_file(full))
    send("offers.xml", catalog_file(package("false", offer("p1", [("retail", "10"), ("opt", "8")], 5)
                                            + offer("p2", [("retail", "20")], 1) +
                                            offer("p3", [("retail", "30")], 0))))
    st = site.control("catalog")
    eq(st["ident"]["catalog_id"], "cat-1", "the first import sets the identity")
    eq((st["set_up"], st["full_after_setup"], st["deactivated"]), (True, 0, 0), "set up")
    eq(st["products"]["p1"]["pictures"],
       [{"path": "import_files/a/p1.jpg", "uploaded": True, "on_site": True}], "p1's picture")
    eq(st["products"]["p2"]["pictures"],
       [{"path": "import_files/b/p2.jpg", "uploaded": False, "on_site": False}], "p2's picture")
    eq(st["offers"]["p1"]["prices"], {"retail": "10", "opt": "8"}, "p1's prices")
    eq(st["offers"]["p1"]["stock"], "5", "p1's stock")

    # another identity: refused
    body = send("other.xml", catalog_file(catalog("true", product("p9", "Z"), cat_id="cat-2")),
                False)
    check("cat-2" in body and "cat-1" in body, "the reason names both catalogs: %s" % body)
    body = send("other2.xml", catalog_file(catalog("true", "", cls_id="cls-2")), False)
    check("ИдКлассификатора" in body, "another classifier is refused: %s" % body)

    # deltas: prices replaced (opt goes), stock, a deletion; nothing deactivated
    send("d1.xml", catalog_file(catalog("true", "")))
    send("d2.xml", catalog_file(package("true", offer("p1", [("retail", "11")]) +
                                        offer("p2", qty=0))))
    send("d3.xml", catalog_file(catalog("true", "<Товар><Ид>p3</Ид><Статус>Удален</Статус></Товар>")))
    # the attribute form the writer uses, on a product the site never had
    send("d3a.xml", catalog_file(catalog("true", '<Товар Статус="Удален"><Ид>p8</Ид></Товар>')))
    eq(site.control("catalog")["products"]["p8"]["active"], False, "Статус as an attribute")
    st = site.control("catalog")
    eq(st["offers"]["p1"]["prices"], {"retail": "11"}, "prices replaced, not merged")
    eq((st["offers"]["p2"]["stock"], st["offers"]["p2"]["prices"]), ("0", {"retail": "20"}),
       "a stock-only change leaves the prices")
    eq((st["products"]["p3"]["active"], st["products"]["p1"]["active"]), (False, True),
       "the deleted product only")
    eq((st["full_after_setup"], st["deactivated"]), (0, 0), "deltas deactivate nothing")
    # an unknown price type is skipped
    send("d4.xml", catalog_file(package("true", offer("p2", [("nope", "5")]))))
    eq(site.control("catalog")["offers"]["p2"]["prices"], {}, "only unknown types: no prices")

    # the regression: a Каталог without the flag after the full import
    x.upload("import_files/a/p1.jpg", b"jpeg2", 1 << 20)
    send("bad.xml", catalog_file(catalog("", product("p1", "A", ["import_files/a/p1.jpg"]))))
    st = site.control("catalog")
    eq((st["full_after_setup"], st["deactivated"], st["deactivated_ids"]), (1, 1, ["p2"]),
       "a whole Каталог after the full import deactivates the rest, and is counted")
    eq(st["products"]["p1"]["pictures"][0]["uploaded"], True, "re-uploaded picture")
    log = lines_of(os.path.join(site.dir, "catalog.log"))
    check(any(r[0] == "full-after-setup" and r[1] == "bad.xml" for r in log),
          "catalog.log names the full file after setup")
    check(sum(1 for r in log if r[0] == "refused") == 4, "catalog.log: the refusals")
    summary = site.control("catalog?summary=1")
    check("products" not in summary and summary["products_total"] == 4, "summary")

    # a new exchange: pictures not uploaded again are not "uploaded"
    eq(x.call("init").status, 200, "init")
    send("d5.xml", catalog_file(catalog("true", product("p1", "A", ["import_files/a/p1.jpg"]))))
    eq(site.control("catalog")["products"]["p1"]["pictures"][0],
       {"path": "import_files/a/p1.jpg", "uploaded": False, "on_site": False},
       "init wiped the uploads")
    eq(site.control("catalog/reset"), {"reset": True}, "reset")
    eq(site.control("catalog")["ident"], None, "reset forgets the identity")

    # --catalog-id: the site knows its catalog before any import
    pinned = Site(top, "catalog-pinned", "--import-steps", "0", "--catalog-id", "cat-9")
    sites.append(pinned)
    y = Exchange(pinned, "catalog")
    eq(y.call("init").status, 200, "init")
    y.upload("import.xml", catalog_file(catalog("false", product("p1", "A"))), 1 << 20)
    body = y.call("import", filename="import.xml").body.decode("cp1251")
    check(body.startswith("failure") and "cat-9" in body, "pinned identity: %s" % body)


TESTS = [test_catalog, test_sale, test_keepalive, test_variants, test_utf8, test_faults,
         test_client_faults, test_orders, test_orders_versions, test_orders_variants,
         test_orders_faults, test_gen_orders, test_apply_old, test_apply_new, test_apply_faults,
         test_apply_chunks, test_catalog_model]


def main():
    failed = 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cmlsite-test.") as top:
        for test in TESTS:
            sites = []
            t0 = time.monotonic()
            try:
                here = os.path.join(top, test.__name__)
                os.makedirs(here)
                try:
                    test(here, sites)
                finally:
                    for site in sites:
                        rc = site.stop()
                        if rc != 0:
                            raise Failed("the site exited with %s after SIGTERM" % rc)
                        check(not os.path.exists(os.path.join(site.dir, "port")),
                              "port file removed on exit")
                print("ok: %s (%.1f s)" % (test.__name__, time.monotonic() - t0))
            except Exception as e:  # report every test, not only the first failure
                failed += 1
                print("FAILED: %s: %s: %s" % (test.__name__, e.__class__.__name__, e))
    print("%d of %d failed, %.1f s" % (failed, len(TESTS), time.monotonic() - start))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
