#!/usr/bin/env python3
"""cmlsite: a local test site speaking the SITE side of the 1C exchange protocol.

It stands in for a 1C-Bitrix shop (/bitrix/admin/1c_exchange.php) in tests and
benchmarks of the cmlkit clients; the behaviour follows
shared/reference/PROTOCOL.md sections 1-4 and 7.  Standard library only.

Usage:
    python3 tests/site/cmlsite.py --dir DIR [options]

The site binds 127.0.0.1 (a free port unless --port), writes DIR/pid, then
DIR/port (the port number and a newline, written atomically: wait for the file
to appear) and serves until SIGTERM or SIGINT, then exits 0.  Any URL path is
accepted; the command is in the query string (type, mode, filename, sessid,
version, timestamp).

What it leaves in DIR:
    upload/<type>/...   the files as uploaded (chunks appended; init wipes it)
    received/NNN-name   each imported file, exactly as it was when imported
    imports.log         type, filename, size, sha256, NNN per import (and
                        "(deactivate)", "(complete)", "(success)" records)
    requests.log        one tab-separated line per request, see tests/README;
                        never the password, the cookie or the sessid value
    sale.log            the sale side's events: what each query returned,
                        what each success confirmed, orders made and changed
    applied.log         one line per order document 1C sent (cmlimport.py):
                        the order found, what changed, НомерВерсии, errors
    catalog.log         one line per catalog file imported (cmlcatalog.py):
                        full/update, refused, full-after-setup

Options (all documented in tests/README):
    --user NAME  --password-file FILE  --port N  --file-limit N  --zip yes|no
    --import-steps N  --no-sessid  --no-timestamp  --no-deactivate
    --no-complete  --orders FILE  --encoding cp1251|utf-8  --bom  --crlf
    --auth-401  --fault NAME[@MODE][:COUNT]  --failure-text TEXT
    --slow-seconds S  --orders-once  --sale-orders N  --sale-seed S
    --sale-limit K  --sale-repeat  --sale-drift NEW:CHANGED[:TIMES]
    --change-status-from-1c  --final-status CODE  --catalog-id ID  --no-catalog

The sale side (type=sale&mode=query/success) keeps a shop's orders
(cmlorders.py): every order not yet confirmed is in the query answer, a
success confirms what that session's last query returned, a changed order
is unconfirmed again.  Tests make orders appear and change, read the
site's truth and add faults through control requests under /cmlsite/
(tests/README, "Control"); `cmlsite.py --dir DIR --control PATH` sends one.

Faults (--fault, repeatable; MODE "any" or "*" means every mode):
    wrong-password@checkauth  failure@import  html@import  empty@import
    http500@any  drop@file  slow@import  endless@import  inline-success@file
    error-text@checkauth  redirect@checkauth  echo-auth@checkauth
    trickle@file  no-cookie@checkauth  error@success
At most one fault fires per request: the first one given that matches the
request's mode and has firings left.

Speed: request bodies are streamed to disk in 1 MiB reads over HTTP/1.1
keep-alive, so a multi-gigabyte upload in 200 KB chunks takes seconds on
loopback.  An imported file is hard-linked into received/ when the file system
allows it (no second copy of a big upload); every later write to an upload
breaks the link first, so received/ keeps the bytes as imported.
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import secrets
import shutil
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import zipfile

import cmlcatalog
import cmlimport
import cmlorders

CHUNK = 1 << 20  # request bodies and files are moved in 1 MiB pieces

# Answer texts, as Bitrix prints them (sale.export.1c / catalog.import.1c lang files).
MSG_AUTH = "Ошибка авторизации. Неверное имя пользователя или пароль."
MSG_SOURCE = "Ошибка проверки источника запроса. Обновите модуль обмена."
MSG_UNKNOWN_MODE = "Неизвестная команда."
MSG_UNKNOWN_TYPE = "Unknown command type."
MSG_BAD_NAME = "Недопустимое имя файла."
MSG_TOO_BIG = "Размер части файла больше file_limit."
MSG_WRITE = "Ошибка записи в файл {}."
MSG_READ = "Ошибка чтения HTTP данных."
MSG_UNZIP = "Ошибка распаковки архива."
MSG_UNZIP_RUNNING = "Идет распаковка архива."
MSG_UNZIP_DONE = "Распаковка архива завершена."
MSG_NOT_FOUND = "Файл для импорта не найден: {}"
MSG_EMPTY = "Файл для импорта пуст."
MSG_STEP = "Обработано {} из {} шагов."
MSG_IMPORTED = "Импорт файла {} завершен."
MSG_NO_TIMESTAMP = "Не указан timestamp."
MSG_DEACTIVATED = "Деактивация выполнена."
MSG_COMPLETE = "Обмен завершен."
MSG_FAILURE_FAULT = "Ошибка импорта: не найден классификатор в файле."
MSG_INLINE = "Файл принят с замечаниями."
MSG_ERROR_TEXT = "Error: Authentication failed."

COOKIE_NAME = "PHPSESSID"
SALE_VERSION = "2.09"  # hard-coded in the Bitrix snapshot the reference describes

HTML_FATAL = ("<!DOCTYPE html>\n<html><head><title>Error</title></head><body><b>Fatal error</b>: "
              "Allowed memory size exhausted in "
              "/home/bitrix/www/bitrix/modules/iblock/classes/general/cml2.php on line 2215"
              "</body></html>").encode("utf-8")
HTML_500 = (b"<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>"
            b"<body><h1>Internal Server Error</h1></body></html>")
HTML_REDIRECT = (b"<!DOCTYPE html>\n<html><head><title>302 Found</title></head>"
                 b"<body><a href=\"/auth/?login=yes\">Login</a></body></html>")
HTML_TYPE = "text/html; charset=UTF-8"
TRICKLE_SECONDS = 600  # how long the trickle fault goes on if the client does not give up
XML_TYPE = "application/xml; charset=windows-1251"
XML_TYPE_UTF8 = "application/xml; charset=UTF-8"
JSON_TYPE = "application/json; charset=UTF-8"
CONTROL_PREFIX = "/cmlsite/"  # control requests of the tests, not the protocol

# fault name -> the mode it applies to unless the spec names one (None = every mode)
FAULT_DEFAULT_MODE = {
    "wrong-password": "checkauth",
    "failure": "import",
    "html": "import",
    "empty": "import",
    "http500": None,
    "drop": "file",
    "slow": "import",
    "endless": "import",
    "inline-success": "file",
    "error-text": "checkauth",
    "redirect": "checkauth",
    "echo-auth": "checkauth",
    "trickle": "file",
    "no-cookie": "checkauth",
    "error": "success",
}

# modes each known type understands; anything else is "Неизвестная команда."
MODES = {
    "catalog": {"checkauth", "init", "file", "import", "deactivate", "complete"},
    "sale": {"checkauth", "init", "file", "import", "query", "success"},
}


class Fault:
    """One --fault NAME[@MODE][:COUNT]; count None = fires every time."""

    def __init__(self, spec):
        rest, _, count = spec.partition(":")
        name, at, mode = rest.partition("@")
        if name not in FAULT_DEFAULT_MODE:
            raise ValueError("unknown fault %r (known: %s)"
                             % (name, ", ".join(sorted(FAULT_DEFAULT_MODE))))
        if at:
            if not mode:
                raise ValueError("empty mode in fault %r" % spec)
            self.mode = None if mode in ("any", "*") else mode
        else:
            self.mode = FAULT_DEFAULT_MODE[name]
        self.count = None
        if count:
            if not count.isdigit() or int(count) < 1:
                raise ValueError("bad count in fault %r" % spec)
            self.count = int(count)
        self.name = name
        self.fired = 0

    def matches(self, mode):
        return (self.count is None or self.fired < self.count) and self.mode in (None, mode)


class Answer:
    """What to send back; `first` is the line written to requests.log."""

    def __init__(self, status=200, body=b"", ctype=None, first="", headers=(), path=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.first = first
        self.headers = list(headers)
        self.path = path  # the body is this file's bytes (sent in CHUNK pieces)

    def length(self):
        return os.path.getsize(self.path) if self.path else len(self.body)


class Dropped(Exception):
    """The connection is to be (or already was) closed without an answer."""

    def __init__(self, note):
        super().__init__(note)
        self.note = note


class Session:
    """What checkauth hands out; keyed by the cookie value."""

    def __init__(self, sessid, timestamp):
        self.id = secrets.token_hex(16)
        self.sessid = sessid  # None under --no-sessid
        self.timestamp = timestamp  # None unless a catalog checkauth printed one
        self.version = None  # the version= of a sale init: file no longer imports at once
        self.last_upload = None
        self.pending_zip = None  # (type, name) of an archive waiting for mode=import
        self.unzipped = False  # archive unpacked, "Распаковка архива завершена." still due
        self.steps = {}  # (type, filename) -> progress answers given so far
        self.queried = False
        self.last_query = []  # [(order, version)] the last query returned
        self.got_file = False  # the last query returned the --orders file
        self.uploaded = set()  # names uploaded (or unpacked) since init


def valid_name(name):
    """A file name the site accepts: relative, no '..', no backslash, no script."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        return False
    if any(part in ("", ".", "..") for part in name.split("/")):
        return False
    return not name.lower().endswith(".php")


def hash_file(path):
    """(size, sha256 hex) of a file, read in CHUNK pieces."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            data = f.read(CHUNK)
            if not data:
                break
            h.update(data)
            size += len(data)
    return size, h.hexdigest()


def unshare(path):
    """Give `path` its own inode if received/ holds a hard link to it."""
    try:
        if os.stat(path).st_nlink <= 1:
            return
    except FileNotFoundError:
        return
    tmp = path + ".cow~"
    shutil.copyfile(path, tmp)
    os.replace(tmp, path)


class UnzipError(Exception):
    pass


def unpack(archive, dest):
    """Unpack a zip into dest; returns the names of the files it held.

    Every entry name is checked before anything is written.  Files are written
    to a temporary name and renamed, so a hard link in received/ is never
    overwritten in place."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            for info in infos:
                name = info.filename[:-1] if info.is_dir() else info.filename
                if not valid_name(name):
                    raise UnzipError(info.filename)
            files = []
            for info in infos:
                target = os.path.join(dest, *info.filename.rstrip("/").split("/"))
                if info.is_dir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                tmp = target + ".unzip~"
                with zf.open(info) as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
                os.replace(tmp, target)
                files.append(info.filename)
            return files
    except UnzipError:
        raise
    except Exception as e:  # any damage to the archive is the site's "unpack error"
        raise UnzipError(str(e)) from e


class Site:
    """The state shared by all connections; every method runs under self.lock."""

    def __init__(self, args, password):
        self.args = args
        self.dir = args.dir
        self.user = args.user.encode("utf-8")
        self.password = password.encode("utf-8")
        self.faults = args.fault
        # the sale side: the shop's orders, which versions 1C confirmed, and
        # the session whose success counts (Bitrix's export_session_id)
        self.shop = cmlorders.Shop(args.sale_seed)
        self.confirmed = {}  # order number k -> the version a success confirmed
        self.export_session = None
        self.file_confirmed = False  # --orders-once: the file was confirmed
        self.rng = random.Random("%d:site" % args.sale_seed)  # which orders change
        self.drift_left = args.sale_drift[2] if args.sale_drift else 0
        self.counts = {"query": 0, "success": 0, "error": 0}
        for _ in range(args.sale_orders):
            self.shop.add()
        self.lock = threading.Lock()
        self.sessions = {}
        self.seq = 0
        self.received = 0
        self.endless_step = 0
        self.requests_log = open(os.path.join(self.dir, "requests.log"), "a", encoding="utf-8")
        self.imports_log = open(os.path.join(self.dir, "imports.log"), "a", encoding="utf-8")
        self.sale_log = open(os.path.join(self.dir, "sale.log"), "a", encoding="utf-8")
        self.applied_log = open(os.path.join(self.dir, "applied.log"), "a", encoding="utf-8")
        self.importer = cmlimport.Importer(self.shop, self.confirmed, args.change_status_from_1c,
                                           args.final_status)
        self.catalog_log = open(os.path.join(self.dir, "catalog.log"), "a", encoding="utf-8")
        self.catalog = self.new_catalog()

    def new_catalog(self):
        """The site's catalog (cmlcatalog.py); None under --no-catalog."""
        if self.args.no_catalog:
            return None
        return cmlcatalog.Catalog(self.args.catalog_id, self.catalog_log)

    # -- answers ---------------------------------------------------------

    def text(self, s, status=200, headers=()):
        """A protocol text answer, encoded per --encoding/--bom/--crlf."""
        first = s.split("\n", 1)[0]
        if self.args.crlf:
            s = s.replace("\n", "\r\n")
        if self.args.bom:
            body = b"\xef\xbb\xbf" + s.encode("utf-8", "replace")
            ctype = "text/html; charset=UTF-8"
        elif self.args.encoding == "utf-8":
            body = s.encode("utf-8", "replace")
            ctype = "text/html; charset=UTF-8"
        else:
            body = s.encode("cp1251", "replace")
            ctype = "text/html; charset=windows-1251"
        return Answer(status, body, ctype, first, headers)

    def failure(self, msg):
        return self.text("failure\n" + msg)

    # -- logs ------------------------------------------------------------

    def log_request(self, fields):
        self.seq += 1
        clean = [str(f).replace("\t", " ").replace("\r", " ").replace("\n", " ") for f in fields]
        self.requests_log.write("%d\t%s\n" % (self.seq, "\t".join(clean)))
        self.requests_log.flush()

    def log_import(self, *fields):
        self.imports_log.write("\t".join(str(f) for f in fields) + "\n")
        self.imports_log.flush()

    def log_sale(self, event, count, items=()):
        self.sale_log.write("%s\t%s\t%s\n" % (event, count, " ".join(items) or "-"))
        self.sale_log.flush()

    # -- faults ----------------------------------------------------------

    def pick_fault(self, mode):
        for f in self.faults:
            if f.matches(mode):
                return f
        return None

    # -- paths -----------------------------------------------------------

    def upload_dir(self, type_):
        return os.path.join(self.dir, "upload", type_)

    def upload_path(self, type_, name):
        return os.path.join(self.upload_dir(type_), *name.split("/"))

    def import_file(self, type_, name, path):
        """Record an import: received/NNN-basename, a line in imports.log."""
        self.received += 1
        nnn = "%03d" % self.received
        dest = os.path.join(self.dir, "received", "%s-%s" % (nnn, os.path.basename(name)))
        if os.path.lexists(dest):  # left by an earlier run in the same DIR
            os.unlink(dest)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copyfile(path, dest)
        size, digest = hash_file(dest)
        self.log_import(type_, name, size, digest, nnn)
        return nnn

    def apply_orders(self, path, nnn, name):
        """Apply the order documents of an imported sale file (cmlimport.py);
        returns the error text Bitrix appends to its answer, each error after
        a newline, and writes one applied.log line per document."""
        errors = []
        for r in self.importer.apply_file(path):
            d = r.doc
            errors += r.errors
            fields = [nnn, r.path, d.xml_id or "-", d.number or "-", d.op or "-",
                      r.order.id if r.order is not None else "-", d.version or "-",
                      ",".join(r.changes) or "-", " | ".join(r.errors) or "-", name]
            clean = [str(f).replace("\t", " ").replace("\n", " ") for f in fields]
            self.applied_log.write("\t".join(clean) + "\n")
        self.applied_log.flush()
        return "".join("\n" + e for e in errors)

    # -- the protocol ----------------------------------------------------

    def check_password(self, creds):
        if creds is None:
            return False
        user, password = creds
        # compare_digest: no timing hint about the password, for form's sake
        return (hmac.compare_digest(user.encode("utf-8"), self.user)
                and hmac.compare_digest(password.encode("utf-8"), self.password))

    def checkauth(self, req, type_, fault):
        ok = self.check_password(req.creds)
        if fault and fault.name == "wrong-password":
            ok = False
        if ok and fault and fault.name == "no-cookie":
            return self.text("success\n")  # a site that lost its PHP session
        if not ok:
            if self.args.auth_401:
                return self.text("failure\n" + MSG_AUTH, status=401,
                                 headers=[("WWW-Authenticate", 'Basic realm="site"')])
            return self.failure(MSG_AUTH)
        sess = Session(None if self.args.no_sessid else secrets.token_hex(16),
                       None if type_ != "catalog" or self.args.no_timestamp else int(time.time()))
        self.sessions[sess.id] = sess
        if type_ == "sale":
            self.export_session = sess  # a later sale checkauth makes this one's success an error
        # Bitrix ends each of these lines with "\n", the last one included
        lines = ["success", COOKIE_NAME, sess.id]
        if sess.sessid:
            lines.append("sessid=" + sess.sessid)
        if sess.timestamp is not None:
            lines.append("timestamp=%d" % sess.timestamp)
        return self.text("\n".join(lines) + "\n")

    def dispatch(self, req, fault):
        """The answer to one request (the body, if any, is read here or drained later)."""
        q = req.query
        type_ = q.get("type")
        mode = q.get("mode")
        if type_ not in MODES:
            return self.failure(MSG_UNKNOWN_TYPE)
        if mode == "checkauth":
            return self.checkauth(req, type_, fault)
        sess = req.session
        if sess is None:
            # sale.export.1c checks the session cookie of mode=success itself
            if type_ == "sale" and mode == "success":
                return self.text("error\n")
            return self.failure(MSG_AUTH)
        if sess.sessid is not None and q.get("sessid") != sess.sessid:
            return self.failure(MSG_SOURCE)
        if mode not in MODES[type_]:
            return self.failure(MSG_UNKNOWN_MODE)
        return getattr(self, "mode_" + mode)(req, sess, type_)

    def mode_init(self, req, sess, type_):
        updir = self.upload_dir(type_)
        shutil.rmtree(updir, ignore_errors=True)
        os.makedirs(updir, exist_ok=True)
        sess.last_upload = None
        sess.pending_zip = None
        sess.unzipped = False
        sess.steps.clear()
        sess.uploaded.clear()
        lines = ["zip=" + ("yes" if self.args.zip == "yes" else "no"),
                 "file_limit=%d" % self.args.file_limit]
        version = req.query.get("version")
        if type_ == "sale" and version:
            sess.version = version
            lines.append("sessid=" + (sess.sessid or req.query.get("sessid", "")))
            lines.append("version=" + SALE_VERSION)
        return self.text("\n".join(lines))  # no trailing newline, as Bitrix

    def mode_file(self, req, sess, type_):
        name = req.query.get("filename", "")
        if not valid_name(name):
            return self.failure(MSG_BAD_NAME)
        limit = self.args.file_limit
        if limit > 0 and req.length > limit:
            return self.failure(MSG_TOO_BIG)  # the body is drained unread
        path = self.upload_path(type_, name)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            unshare(path)
            req.append_body(path)
        except OSError:
            return self.failure(MSG_WRITE.format(name))
        sess.last_upload = name
        sess.uploaded.add(name)
        if self.args.zip == "yes" and name.lower().endswith(".zip"):
            sess.pending_zip = (type_, name)
            sess.unzipped = False
        if type_ == "sale" and not sess.version:
            return self.sale_import_now(sess, name, path)
        return self.text("success\n")

    def sale_import_now(self, sess, name, path):
        """Old sale clients (no version= at init): every upload is imported at once."""
        todo = [name]
        if sess.pending_zip == ("sale", name):
            sess.pending_zip = None
            try:
                todo = unpack(path, self.upload_dir("sale"))
            except UnzipError:
                return self.failure(MSG_UNZIP)
        errors = ""
        for item in todo:
            p = self.upload_path("sale", item)
            if os.path.getsize(p) == 0:
                return self.failure(MSG_EMPTY)
            # the whole file so far, after every chunk, as sale.export.1c does
            errors += self.apply_orders(p, self.import_file("sale", item, p), item)
        return self.text("success" + errors + "\n")

    def mode_import(self, req, sess, type_):
        name = req.query.get("filename", "")
        if not valid_name(name):
            return self.failure(MSG_BAD_NAME)
        if sess.pending_zip and sess.pending_zip[0] == type_:
            if not sess.unzipped:
                archive = self.upload_path(type_, sess.pending_zip[1])
                try:
                    sess.uploaded.update(unpack(archive, self.upload_dir(type_)))
                except UnzipError:
                    sess.pending_zip = None
                    return self.failure(MSG_UNZIP)
                sess.unzipped = True
                return self.text("progress\n" + MSG_UNZIP_RUNNING)
            sess.pending_zip = None
            sess.unzipped = False
            return self.text("progress\n" + MSG_UNZIP_DONE)
        path = self.upload_path(type_, name)
        if not os.path.isfile(path):
            return self.failure(MSG_NOT_FOUND.format(name))
        if os.path.getsize(path) == 0:
            return self.failure(MSG_EMPTY)
        key = (type_, name)
        done = sess.steps.get(key, 0)
        if done < self.args.import_steps:
            sess.steps[key] = done + 1
            return self.text("progress\n" + MSG_STEP.format(done + 1, self.args.import_steps))
        sess.steps.pop(key, None)
        nnn = self.import_file(type_, name, path)
        if type_ == "sale":
            return self.text("success" + self.apply_orders(path, nnn, name) + "\n")
        if self.catalog is not None:
            try:
                self.catalog.apply_file(path, name, sess.uploaded, self.upload_dir(type_))
            except cmlcatalog.Refused as e:
                return self.failure(str(e))
        return self.text("success\n" + MSG_IMPORTED.format(name))

    def mode_deactivate(self, req, sess, type_):
        if self.args.no_deactivate:
            return self.failure(MSG_UNKNOWN_MODE)
        ts = req.query.get("timestamp")
        if sess.timestamp is None or ts != str(sess.timestamp):
            return self.failure(MSG_NO_TIMESTAMP)
        self.log_import("catalog", "(deactivate)", 0, "-", "-")
        return self.text("success\n" + MSG_DEACTIVATED)

    def mode_complete(self, req, sess, type_):
        if self.args.no_complete:
            return self.failure(MSG_UNKNOWN_MODE)
        self.log_import("catalog", "(complete)", 0, "-", "-")
        return self.text("success\n" + MSG_COMPLETE)

    # -- the sale side ----------------------------------------------------

    def unconfirmed(self):
        return [o for o in self.shop.orders if self.confirmed.get(o.k) != o.version]

    def orders_document(self, orders, version, encoding):
        """A query answer (or the truth) holding these orders, as bytes."""
        schema, ver = cmlorders.schema_of(version)
        parts = []
        w = parts.append
        w(cmlorders.header(schema, "UTF-8" if encoding == "utf-8" else "windows-1251",
                           datetime.datetime.now()))
        for o in orders:
            o.documents_xml(w, ver)
        w(cmlorders.FOOTER)
        text = "".join(parts)
        if encoding == "utf-8":
            return text.encode("utf-8")
        return text.encode("cp1251", "xmlcharrefreplace")

    def xml_answer(self, body, first):
        if self.args.encoding == "utf-8" or self.args.bom:
            if self.args.bom:
                body = b"\xef\xbb\xbf" + body
            return Answer(200, body, XML_TYPE_UTF8, first)
        return Answer(200, body, XML_TYPE, first)

    def mode_query(self, req, sess, type_):
        sess.queried = True
        self.counts["query"] += 1
        encoding = "utf-8" if self.args.encoding == "utf-8" or self.args.bom else "cp1251"
        if req.headers.get("Referer") is not None:
            # Bitrix 12.5 returns before the export when it sees a Referer
            sess.last_query = []
            sess.got_file = False
            self.log_sale("query", 0, ["(Referer: empty answer)"])
            body = self.orders_document([], None, encoding)
            return self.xml_answer(body, "(Referer)")
        if self.args.orders:
            sess.last_query = []
            if self.file_confirmed:
                sess.got_file = False
                self.log_sale("query", 0, ["(--orders confirmed: empty answer)"])
                return self.xml_answer(self.orders_document([], None, encoding), "(confirmed)")
            sess.got_file = True
            self.log_sale("query", "file", [os.path.basename(self.args.orders)])
            return Answer(200, b"", XML_TYPE, self.orders_first, path=self.args.orders)
        if self.args.sale_repeat:
            orders = list(self.shop.orders)  # Shop-Script: confirmed ones again
        else:
            orders = self.unconfirmed()
        if self.args.sale_limit:
            orders = orders[:self.args.sale_limit]  # WooCommerce: a handful per query
        sess.last_query = [(o.k, o.version) for o in orders]
        sess.got_file = False
        self.log_sale("query", len(orders), ["%s:%d" % (o.id, o.version) for o in orders])
        body = self.orders_document(orders, sess.version, encoding)
        if self.drift_left:
            self.drift_left -= 1
            new, changed, _ = self.args.sale_drift
            self.step(new, changed)
        return self.xml_answer(body, "(%d orders)" % len(orders))

    def mode_success(self, req, sess, type_):
        if sess is not self.export_session:
            # sale.export.1c: the cookie must be the one the last checkauth gave
            self.counts["error"] += 1
            self.log_sale("error", 0, ["(another session's cookie)"])
            return self.text("error\n")
        self.counts["success"] += 1
        done = []
        for k, version in sess.last_query:
            o = self.shop.orders[k - 1]
            if o.version == version:  # changed since the query: stays unconfirmed
                self.confirmed[k] = version
                done.append("%s:%d" % (o.id, version))
        sess.last_query = []
        if sess.got_file and self.args.orders_once:
            self.file_confirmed = True
            done.append("(--orders file)")
        sess.got_file = False
        self.log_sale("success", len(done), done)
        self.log_import("sale", "(success)", 0, "-", "-")
        return self.text("success\n")

    def step(self, new, changed):
        """new orders appear, `changed` existing ones (picked at random) change."""
        made = [self.shop.add() for _ in range(new)]
        pool = self.shop.orders[:len(self.shop.orders) - len(made)]
        picked = self.rng.sample(pool, min(changed, len(pool)))
        for o in picked:
            o.change()
        self.log_sale("step", "%d+%d" % (len(made), len(picked)),
                      ["new:%s" % o.id for o in made] + ["%s:%d" % (o.id, o.version) for o in picked])
        return {"new": [o.id for o in made], "changed": [[o.id, o.version] for o in picked]}

    # -- control requests (the tests', not the protocol's) -----------------

    def control(self, path, query):
        """(status, body) of a control request; see tests/README, Control."""
        def number(name, default=0):
            v = query.get(name, str(default))
            if not v.isdigit():
                raise ValueError("%s must be a number" % name)
            return int(v)

        if path == "sale/step":
            return 200, self.step(number("new"), number("change"))
        if path == "sale/state":
            unconfirmed = {o.k for o in self.unconfirmed()}
            return 200, {
                "orders": [{"id": o.id, "number": o.number, "version": o.version,
                            "confirmed": self.confirmed.get(o.k, 0),
                            "unconfirmed": o.k in unconfirmed, "sum": cmlorders.money(o.total())}
                           for o in self.shop.orders],
                "total": len(self.shop.orders), "unconfirmed": len(unconfirmed),
                "queries": self.counts["query"], "successes": self.counts["success"],
                "errors": self.counts["error"]}
        if path == "sale/orders":
            return 200, {"orders": [cmlimport.state_of(o, self.confirmed)
                                    for o in self.shop.orders]}
        if path == "sale/truth":
            enc = query.get("encoding", "utf-8")
            if enc not in ("utf-8", "cp1251"):
                raise ValueError("encoding must be utf-8 or cp1251")
            return 200, self.orders_document(self.shop.orders, query.get("version"), enc)
        if path == "catalog":
            if self.catalog is None:
                return 404, {"error": "no catalog (--no-catalog)"}
            return 200, self.catalog.state(summary="summary" in query)
        if path == "catalog/reset":
            self.catalog = self.new_catalog()
            return 200, {"reset": True}
        if path == "fault":
            if "clear" in query:
                self.faults[:] = []
            if "slow" in query:
                try:
                    self.args.slow_seconds = float(query["slow"])
                except ValueError:
                    raise ValueError("slow must be a number of seconds") from None
            if "add" in query:
                self.faults.append(Fault(query["add"]))
            return 200, {"faults": [{"name": f.name, "mode": f.mode or "any", "count": f.count,
                                     "fired": f.fired} for f in self.faults],
                         "slow_seconds": self.args.slow_seconds}
        return 404, {"error": "unknown control request %r" % path}

    def fault_answer(self, fault, req):
        """The answer of a fault that replaces the normal one (None: not such a fault)."""
        name = fault.name
        if name == "redirect":
            # Bitrix's login redirect: relative, as the admin pages send it
            return Answer(302, HTML_REDIRECT, HTML_TYPE, "(redirect)",
                          [("Location", "/auth/?login=yes&backurl=%2Fbitrix%2Fadmin%2F")])
        if name == "echo-auth":
            # a debugging error page that prints the request's headers
            auth = req.headers.get("Authorization") or ""
            page = ("<!DOCTYPE html>\n<html><head><title>Access denied</title></head><body>"
                    "<h1>Access denied</h1><pre>HTTP_AUTHORIZATION: %s\nPHP_AUTH_USER: %s\n"
                    "PHP_AUTH_PW: %s</pre></body></html>"
                    % (auth, req.creds[0] if req.creds else "",
                       req.creds[1] if req.creds else ""))
            return Answer(200, page.encode("utf-8"), HTML_TYPE, "<!DOCTYPE html>")
        if name == "failure":
            return self.failure(self.args.failure_text)
        if name == "html":
            return Answer(200, HTML_FATAL, HTML_TYPE, "<!DOCTYPE html>")
        if name == "empty":
            return Answer(200, b"", self.text("").ctype, "(empty)")
        if name == "http500":
            return Answer(500, HTML_500, HTML_TYPE, "<!DOCTYPE html>")
        if name == "endless":
            self.endless_step += 1
            return self.text("progress\nШаг %d." % self.endless_step)
        if name == "error-text":
            return self.text(MSG_ERROR_TEXT)
        if name == "error":
            # mode=success after another checkauth: Bitrix's "error", nothing confirmed
            self.counts["error"] += 1
            self.log_sale("error", 0, ["(fault)"])
            return self.text("error\n")
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection for a whole upload
    server_version = "cmlsite/1.0"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go in two writes
    timeout = 300  # a stalled or idle connection is closed after this many seconds

    def log_message(self, format, *args):
        pass  # the request line carries the sessid; requests.log is the log

    def do_GET(self):
        self.exchange()

    do_POST = do_GET

    # -- request body ----------------------------------------------------

    def read_some(self, n):
        try:
            data = self.rfile.read(n)
        except (ConnectionError, socket.timeout):
            data = b""
        self.body_read += len(data)
        self.length_left -= len(data)
        if len(data) < n:
            self.close_connection = True
            raise Dropped("(client closed)")
        return data

    def append_body(self, path):
        """Append the whole body to path; a body cut short leaves path as it was."""
        with open(path, "ab") as f:
            start = f.tell()
            try:
                while self.length_left > 0:
                    f.write(self.read_some(min(CHUNK, self.length_left)))
            except BaseException:
                f.truncate(start)
                raise

    def drain(self):
        while self.length_left > 0:
            self.read_some(min(CHUNK, self.length_left))

    # -- one request -----------------------------------------------------

    def parse(self):
        """Query, credentials, cookie and body length of this request."""
        qs = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
        self.query = {k: v[0] for k, v in qs.items()}
        self.body_read = 0
        self.length = 0
        self.length_left = 0
        self.session = None

        self.auth = "none"
        self.creds = None
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            self.auth = "basic"
            try:
                raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
                user, sep, password = raw.partition(":")
                if sep:
                    self.creds = (user, password)
            except (binascii.Error, UnicodeDecodeError):
                pass

        self.cookie = None
        for header in self.headers.get_all("Cookie") or []:
            for item in header.split(";"):
                k, sep, v = item.strip().partition("=")
                if sep and k == COOKIE_NAME and self.cookie is None:
                    self.cookie = v.strip()

    def control(self):
        """A test's control request (never logged in requests.log)."""
        site = self.server.site
        split = urllib.parse.urlsplit(self.path)
        query = {k: v[0] for k, v in
                 urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        try:
            self.drain_unframed()
            with site.lock:
                status, body = site.control(split.path[len(CONTROL_PREFIX):], query)
        except ValueError as e:
            status, body = 400, {"error": str(e)}
        if isinstance(body, bytes):
            ctype = "application/xml; charset=%s" % (
                "windows-1251" if query.get("encoding") == "cp1251" else "UTF-8")
        else:
            body = (json.dumps(body, ensure_ascii=False) + "\n").encode("utf-8")
            ctype = JSON_TYPE
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def drain_unframed(self):
        cl = self.headers.get("Content-Length")
        self.length_left = int(cl) if cl and cl.strip().isdigit() else 0
        self.body_read = 0
        if self.length_left:
            self.drain()

    def exchange(self):
        site = self.server.site
        if self.path.startswith(CONTROL_PREFIX):
            self.control()
            return
        self.parse()
        mode = self.query.get("mode")
        answer = None
        note = None
        fault = None
        cut = False  # drop@query: half the answer, then the connection closes
        try:
            # a body we cannot frame: answer and close the connection
            te = self.headers.get("Transfer-Encoding")
            cl = self.headers.get("Content-Length")
            if te is not None or (cl is None and self.command == "POST" and mode == "file"):
                self.close_connection = True
                with site.lock:
                    answer = site.failure(MSG_READ)
                answer.status = 411
            elif cl is not None and (not cl.strip().isdigit()):
                self.close_connection = True
                with site.lock:
                    answer = site.failure(MSG_READ)
                answer.status = 400
            else:
                self.length = self.length_left = int(cl or 0)

            with site.lock:
                if self.cookie is not None:
                    self.session = site.sessions.get(self.cookie)
                if answer is None:
                    fault = site.pick_fault(mode)
                    if fault and fault.name != "inline-success":
                        fault.fired += 1  # inline-success counts only when it applies

            if answer is None and fault and fault.name == "slow":
                time.sleep(site.args.slow_seconds)  # outside the lock: others go on

            if answer is None and fault and fault.name == "trickle":
                self.drain()  # the whole body, then an answer that never ends
                self.close_connection = True
                raise Dropped("(trickled)")

            if answer is None and fault and fault.name == "drop" and mode == "query":
                cut = True  # answered below, then cut in the middle of the body
                self.close_connection = True
            elif answer is None and fault and fault.name == "drop":
                if self.command == "POST" and self.length > 0:
                    self.read_some(max(1, self.length // 2))
                raise Dropped("(dropped)")

            if answer is None:
                with site.lock:
                    if fault and not cut:
                        answer = site.fault_answer(fault, self)
                    if answer is None:
                        try:
                            answer = site.dispatch(self, fault)
                        except (Dropped, ConnectionError, socket.timeout):
                            raise
                        except Exception:
                            traceback.print_exc()
                            answer = Answer(500, HTML_500, HTML_TYPE, "<!DOCTYPE html>")
                    if (fault and fault.name == "inline-success" and answer.status == 200
                            and answer.first == "success"):
                        fault.fired += 1
                        answer = site.text("success" + MSG_INLINE + "\n")
                    elif fault and fault.name == "inline-success":
                        fault = None  # did not apply: not logged, not counted

            if not self.close_connection:
                self.drain()  # keep-alive: the next request starts after this body
        except Dropped as d:
            note = d.note
            self.close_connection = True
        except (ConnectionError, socket.timeout):
            note = "(client closed)"
            self.close_connection = True

        with site.lock:
            site.log_request([
                self.command, self.query.get("type", "-"), mode or "-",
                self.query.get("filename", "-") or "-", self.body_read, self.auth,
                self.cookie_state(), self.sessid_state(),
                "-" if note else answer.status,
                note or ("(cut) " if cut else "") + (answer.first or "(empty)"),
                fault.name if fault else "-"])

        if note == "(trickled)":
            self.trickle()
            return
        if note is not None:
            # an abrupt end: no answer at all
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(answer.status)
        if answer.ctype:
            self.send_header("Content-Type", answer.ctype)
        length = answer.length()
        self.send_header("Content-Length", str(length))
        for k, v in answer.headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        limit = length // 2 if cut else length
        if answer.path:
            with open(answer.path, "rb") as f:
                while limit > 0:
                    data = f.read(min(CHUNK, limit))
                    if not data:
                        break
                    self.wfile.write(data)
                    limit -= len(data)
        else:
            self.wfile.write(answer.body[:limit])
        if cut:
            self.wfile.flush()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def trickle(self):
        """A status line, then a body a byte at a time that never ends."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", self.server.site.text("").ctype)
            self.send_header("Content-Length", "1000000000")
            self.end_headers()
            self.wfile.write(b"success\n")
            self.wfile.flush()
            deadline = time.monotonic() + TRICKLE_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.2)
                self.wfile.write(b".")
                self.wfile.flush()
        except (ConnectionError, socket.timeout, ssl.SSLError):
            pass
        self.close_connection = True

    def cookie_state(self):
        if self.cookie is None:
            return "none"
        return "ok" if self.session is not None else "bad"

    def sessid_state(self):
        given = self.query.get("sessid")
        if given is None:
            return "none"
        ok = self.session is not None and given == self.session.sessid
        return "ok" if ok else "bad"


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    tls = None  # an ssl.SSLContext under --tls-cert

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is not None:
            # the handshake happens in the request's thread, on first read
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def server_bind(self):
        # HTTPServer.server_bind looks up the host's FQDN, which can hang
        # without DNS; a loopback test site does not need it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, socket.timeout, ssl.SSLError)):
            return  # a client that went away is not the site's problem
        super().handle_error(request, client_address)


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="cmlsite.py",
        description="A local 1C-Bitrix-like exchange site for tests (see tests/README).")
    p.add_argument("--dir", required=True, help="working directory (port, pid, logs, uploads)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--user", default="admin", help="login (default admin)")
    p.add_argument("--password-file", help="the password is its first line (default: secret)")
    p.add_argument("--file-limit", type=int, default=204800,
                   help="file_limit announced and enforced (0: unlimited; default 204800)")
    p.add_argument("--zip", choices=("yes", "no"), default="no", help="zip= announced at init")
    p.add_argument("--import-steps", type=int, default=2,
                   help="progress answers before success per imported file (default 2)")
    p.add_argument("--no-sessid", action="store_true", help="checkauth prints no sessid line")
    p.add_argument("--no-timestamp", action="store_true", help="checkauth prints no timestamp")
    p.add_argument("--no-deactivate", action="store_true", help="mode=deactivate is unknown")
    p.add_argument("--no-complete", action="store_true", help="mode=complete is unknown")
    p.add_argument("--orders", help="file whose bytes type=sale&mode=query returns "
                   "(instead of the shop's orders)")
    p.add_argument("--orders-once", action="store_true",
                   help="after a success for it, --orders is confirmed: later queries are empty")
    p.add_argument("--sale-orders", type=int, default=0,
                   help="orders the shop has at start (default 0)")
    p.add_argument("--sale-seed", type=int, default=1,
                   help="seed of the orders and of which ones change (default 1)")
    p.add_argument("--sale-limit", type=int, default=0,
                   help="at most K orders per query (WooCommerce; default 0: all)")
    p.add_argument("--sale-repeat", action="store_true",
                   help="queries repeat confirmed orders too (Shop-Script)")
    p.add_argument("--sale-drift", metavar="NEW:CHANGED[:TIMES]",
                   help="after each of the first TIMES (default 1) queries, NEW orders "
                   "appear and CHANGED change")
    p.add_argument("--change-status-from-1c", action="store_true",
                   help="apply the requisite Статуса заказа ИД of 1C's order documents "
                   "(Bitrix's CHANGE_STATUS_FROM_1C, off by default)")
    p.add_argument("--final-status", default="F", metavar="CODE",
                   help="status set by a shipment date (FINAL_STATUS_ON_DELIVERY, default F; "
                   "empty: none)")
    p.add_argument("--catalog-id", metavar="ID",
                   help="the Каталог Ид of the site's catalog (default: the first imported "
                   "file that carries one sets it)")
    p.add_argument("--no-catalog", action="store_true",
                   help="keep no catalog: a catalog import only records the file")
    p.add_argument("--control", metavar="PATH",
                   help="send the control request /cmlsite/PATH to the site running in "
                   "--dir, print the answer, exit (0: HTTP 200)")
    p.add_argument("--encoding", choices=("cp1251", "utf-8"), default="cp1251",
                   help="encoding of text answers (default cp1251)")
    p.add_argument("--bom", action="store_true", help="UTF-8 with a BOM before every text answer")
    p.add_argument("--crlf", action="store_true", help="text answers end lines with CRLF")
    p.add_argument("--auth-401", action="store_true", help="a bad login gets HTTP 401")
    p.add_argument("--fault", action="append", default=[], metavar="NAME[@MODE][:COUNT]",
                   help="inject a fault (repeatable; see tests/README)")
    p.add_argument("--failure-text", default=MSG_FAILURE_FAULT,
                   help="second line of the failure fault's answer")
    p.add_argument("--slow-seconds", type=float, default=5.0,
                   help="delay of the slow fault (default 5)")
    p.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (needs --tls-key)")
    p.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    args = p.parse_args(argv)
    for opt in ("file_limit", "import_steps", "slow_seconds", "sale_orders", "sale_limit"):
        if getattr(args, opt) < 0:
            p.error("--%s must not be negative" % opt.replace("_", "-"))
    if not 0 <= args.port <= 65535:
        p.error("--port out of range")
    faults = []
    for spec in args.fault:
        try:
            faults.append(Fault(spec))
        except ValueError as e:
            p.error(str(e))
    args.fault = faults
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    if args.sale_drift is not None:
        parts = args.sale_drift.split(":")
        if not 2 <= len(parts) <= 3 or not all(x.isdigit() for x in parts):
            p.error("--sale-drift wants NEW:CHANGED[:TIMES], numbers")
        args.sale_drift = [int(x) for x in parts] + ([1] if len(parts) == 2 else [])
    return p, args


def control_client(args):
    """--control: one control request to the site running in --dir."""
    try:
        with open(os.path.join(args.dir, "port"), encoding="ascii") as f:
            port = int(f.read())
    except (OSError, ValueError) as e:
        print("cmlsite.py: no running site in %s: %s" % (args.dir, e), file=sys.stderr)
        return 1
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", CONTROL_PREFIX + args.control.lstrip("/"))
        r = conn.getresponse()
        body = r.read()
    except OSError as e:
        print("cmlsite.py: control request failed: %s" % e, file=sys.stderr)
        return 1
    finally:
        conn.close()
    sys.stdout.buffer.write(body)
    return 0 if r.status == 200 else 1


def main(argv=None):
    p, args = parse_args(argv)
    if args.control is not None:
        return control_client(args)
    password = "secret"
    if args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                password = f.readline().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as e:
            p.error("cannot read the password file: %s" % e.__class__.__name__)
    orders_first = ""
    if args.orders:
        # served from the file at each query (a benchmark's may be gigabytes)
        try:
            with open(args.orders, "rb") as f:
                orders_first = f.readline(200).decode("utf-8", "replace")
        except OSError as e:
            p.error("cannot read --orders: %s" % e)
        args.orders = os.path.abspath(args.orders)
        orders_first = orders_first.lstrip("\ufeff").strip()

    os.makedirs(args.dir, exist_ok=True)
    for sub in ("upload", "received"):
        os.makedirs(os.path.join(args.dir, sub), exist_ok=True)
    port_file = os.path.join(args.dir, "port")
    pid_file = os.path.join(args.dir, "pid")
    for stale in (port_file, port_file + ".tmp"):
        if os.path.exists(stale):
            os.unlink(stale)

    server = Server(("127.0.0.1", args.port), Handler)
    server.site = Site(args, password)
    server.site.orders_first = orders_first
    if args.tls_cert:
        try:
            server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server.tls.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as e:
            p.error("cannot use the TLS certificate: %s" % e)

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, which runs in this
        # (the main) thread: call it from another one
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    write_atomically(pid_file, "%d\n" % os.getpid())
    write_atomically(port_file, "%d\n" % server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        for f in (port_file, pid_file):
            try:
                os.unlink(f)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
