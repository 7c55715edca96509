"""cmlcatalog: what the test site does with the catalog files 1C sends it.

A 1C-Bitrix site imports each catalog file (type=catalog&mode=import)
through CIBlockCMLImport (iblock/classes/general/cml2.php); this module
keeps a catalog the same way, following shared/reference/PROTOCOL.md §10,
so that a test fails where a real site would go wrong:

- ImportMetaData looks for a root Каталог, else ПакетПредложений, else
  ИзмененияПакетаПредложений; a file with none of them (the root alone,
  or a Классификатор alone, which Bitrix ignores) changes nothing;
- the catalog is found by the Каталог Ид (offers: ИдКаталога), the
  classifier only through ИдКлассификатора.  Bitrix falls back to a
  FUTURE-1C-CATALOG iblock or creates a new catalog when they are missing
  or unknown; the test site refuses the file instead (failure, with the
  reason), so a package without the identity, or with another one than
  the catalog the site has, is caught.  The first file that carries an
  identity sets the site's catalog up (or --catalog-id names it before);
- СодержитТолькоИзменения="true" (attribute or child element) is
  update-only.  Without it, step 8 (DeactivateElement) deactivates every
  element of the catalog the file did not touch; once a full import has
  set the catalog up, such a file is also logged as "full" in catalog.log
  and counted in the state, so a test that sends a delta can fail on it;
- prices are replaced, not merged: an offer's incoming Цены is its whole
  price list (a price type the site does not know is skipped, as Bitrix
  does, once the site knows price types); stock is Количество or the sum
  of the warehouse stocks;
- a product's Картинка paths are kept with whether each file was uploaded
  in the current exchange (since the last init) and is on the site.

Where it is simpler than Bitrix: groups, properties and requisites are
not kept; elements are found by Ид only; deletion marks deactivate.

Standard library only.
"""

import os
import xml.etree.ElementTree as ET

# The test site's words (Bitrix creates a catalog here instead of refusing).
MSG_NO_IDENT = ("Не найден каталог: в файле {} нет идентификатора каталога ({}). "
                "Bitrix создал бы новый каталог или загрузил бы файл в FUTURE-1C-CATALOG.")
MSG_OTHER_IDENT = ("Файл {} относится к другому каталогу: {} {}, а на сайте каталог {}. "
                   "Bitrix создал бы новый каталог.")
MSG_BAD_XML = "Ошибка разбора XML файла {}: {}"


def local(tag):
    """The local name of an ElementTree tag ({ns}name -> name)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child_text(el, name):
    for c in el:
        if local(c.tag) == name:
            return (c.text or "").strip()
    return None


def children(el, name):
    return [c for c in el if local(c.tag) == name]


# The root's children a catalog file is imported by (Классификатор: only its
# price types are read; Bitrix ignores one without a Каталог beside it).
TOPS = ("Каталог", "ПакетПредложений", "ИзмененияПакетаПредложений", "Классификатор")


def deleted(el):
    """Статус Удален or ПометкаУдаления true, as a child element or an
    attribute (Bitrix reads an element's attributes as its children)."""
    status = child_text(el, "Статус") or el.get("Статус") or ""
    mark = child_text(el, "ПометкаУдаления") or el.get("ПометкаУдаления") or ""
    return status.strip() == "Удален" or mark.strip().lower() == "true"


def number(s):
    try:
        return float((s or "").replace(",", ".").replace(" ", ""))
    except ValueError:
        return None


class Refused(Exception):
    """A file the site answers with failure."""


class Catalog:
    """One catalog (Bitrix: an iblock and its offers iblock)."""

    def __init__(self, catalog_id=None, log=None):
        self.ident = {"catalog_id": catalog_id, "classifier_id": None,
                      "catalog_name": None, "offers_id": None} if catalog_id else None
        self.set_up = False       # a full Каталог was imported
        self.full_seen = set()    # "products", "offers": a full file came
        self.products = {}        # Ид -> {"active", "name", "pictures"}
        self.offers = {}          # Ид -> {"active", "prices", "stock", "stocks"}
        self.price_types = set()
        self.files = []           # one record per imported file
        self.full_after_setup = 0
        self.deactivated = []     # Ид deactivated by step 8, in order
        self.refused = []
        self.log = log            # a file object: catalog.log

    # -- reading ------------------------------------------------------

    def apply_file(self, path, name, uploaded, upload_dir):
        """Import one file; returns the record, raises Refused.  The file is
        read as a stream: one Товар or Предложение in memory at a time."""
        rec = {"file": name, "kind": "none", "products": 0, "offers": 0, "deactivated": 0}
        stack = []
        top = None        # the root's child being read
        head = {}         # its header fields
        done = False      # the one Каталог or ПакетПредложений was imported
        ctx = None        # (kind, full, touched) once the identity is checked
        try:
            for ev, el in ET.iterparse(path, events=("start", "end")):
                tag = local(el.tag)
                if ev == "start":
                    stack.append(tag)
                    if len(stack) == 2:
                        top, head = tag, {"flag": el.get("СодержитТолькоИзменения")}
                    elif (len(stack) == 4 and tag in ("Товар", "Предложение") and
                          ctx is None and not done and top in TOPS):
                        ctx = self.begin(name, top, head, rec)
                    continue
                depth = len(stack)
                stack.pop()
                if depth == 3 and top is not None:
                    if tag == "ТипыЦен":
                        self.read_price_types(el)
                    elif len(el) == 0:
                        head.setdefault(tag, (el.text or "").strip())
                    if tag in ("Товары", "Предложения", "Группы", "Свойства"):
                        el.clear()
                elif depth == 4 and ctx is not None and tag == "Товар" and top == "Каталог":
                    self.product(el, ctx, rec, uploaded, upload_dir)
                    el.clear()
                elif depth == 4 and ctx is not None and tag == "Предложение" and top != "Каталог":
                    self.offer(el, ctx, rec)
                    el.clear()
                elif depth == 2:
                    if top in TOPS and not done and (top != "Классификатор"):
                        if ctx is None:
                            ctx = self.begin(name, top, head, rec)
                        self.end(ctx, rec)
                        ctx, done = None, True
                    top = None
                    el.clear()
        except ET.ParseError as e:
            raise Refused(MSG_BAD_XML.format(name, e)) from None
        except OSError as e:
            raise Refused(MSG_BAD_XML.format(name, e)) from None
        except Refused as e:
            self.refused.append({"file": name, "reason": str(e)})
            self.write_log("refused", name, str(e))
            raise
        self.files.append(rec)
        self.write_log(rec["kind"], name, "products=%d offers=%d deactivated=%d" % (
            rec["products"], rec["offers"], rec["deactivated"]))
        return rec

    def begin(self, name, top, head, rec):
        """The header of a Каталог or ПакетПредложений read: its identity
        checked; (elements, full, touched) for what follows."""
        flag = head.get("flag")
        if flag is None:
            flag = head.get("СодержитТолькоИзменения")
        full = (flag or "").strip().lower() != "true"
        if top == "Каталог":
            self.check_ident(name, head, "Каталог", "Ид")
            rec["kind"] = "full" if full else "update"
            return (self.products, full, set())
        self.check_ident(name, head, top, "ИдКаталога")
        rec["kind"] = "offers-full" if full else "offers-update"
        return (self.offers, full, set())

    def end(self, ctx, rec):
        elements, full, touched = ctx
        if not full:
            return
        self.deactivate(elements, touched, rec)
        kind = "products" if elements is self.products else "offers"
        if kind in self.full_seen:
            self.full_after_setup += 1
            self.write_log("full-after-setup", rec["file"],
                           "a whole %s file after a full import: %d deactivated" % (
                               "Каталог" if kind == "products" else "ПакетПредложений",
                               rec["deactivated"]))
        self.full_seen.add(kind)
        self.set_up = self.set_up or kind == "products"

    def check_ident(self, name, head, what, id_tag):
        cat_id = head.get(id_tag)
        cls_id = head.get("ИдКлассификатора")
        missing = [t for t, v in ((what + "/" + id_tag, cat_id),
                                  (what + "/ИдКлассификатора", cls_id)) if not v]
        if what != "Каталог" and not head.get("Ид"):
            missing.append(what + "/Ид")
        if not head.get("Наименование"):
            missing.append(what + "/Наименование")
        if missing:
            raise Refused(MSG_NO_IDENT.format(name, ", ".join(missing)))
        if self.ident is None:
            self.ident = {"catalog_id": cat_id, "classifier_id": cls_id,
                          "catalog_name": head.get("Наименование") if what == "Каталог"
                          else None,
                          "offers_id": head.get("Ид") if what != "Каталог" else None}
            self.write_log("ident", name, "catalog %s classifier %s" % (cat_id, cls_id))
            return
        for key, v in (("catalog_id", cat_id), ("classifier_id", cls_id)):
            have = self.ident.get(key)
            if have is None:
                self.ident[key] = v
            elif have != v:
                raise Refused(MSG_OTHER_IDENT.format(
                    name, what + "/" + (id_tag if key == "catalog_id" else "ИдКлассификатора"),
                    v, have))
        if what == "Каталог" and self.ident.get("catalog_name") is None:
            self.ident["catalog_name"] = head.get("Наименование")
        if what != "Каталог" and self.ident.get("offers_id") is None:
            self.ident["offers_id"] = head.get("Ид")

    def read_price_types(self, types):
        """A ТипыЦен element: the price types the site knows from now on."""
        for t in children(types, "ТипЦены"):
            tid = child_text(t, "Ид")
            if tid:
                self.price_types.add(tid)

    def product(self, p, ctx, rec, uploaded, upload_dir):
        pid = child_text(p, "Ид")
        if not pid:
            return
        ctx[2].add(pid)
        rec["products"] += 1
        cur = self.products.setdefault(pid, {"active": True, "name": None, "pictures": []})
        if deleted(p):
            cur["active"] = False
            cur["deleted"] = True
            return
        cur["active"] = True
        cur.pop("deleted", None)
        name = child_text(p, "Наименование")
        if name is not None:
            cur["name"] = name
            # a card replaces its pictures, as Bitrix's full update does
            cur["pictures"] = [self.picture((c.text or "").strip(), uploaded, upload_dir)
                               for c in children(p, "Картинка") if (c.text or "").strip()]

    def picture(self, path, uploaded, upload_dir):
        rel = path.replace("\\", "/").lstrip("/")
        on_site = os.path.isfile(os.path.join(upload_dir, *rel.split("/")))
        return {"path": path, "uploaded": rel in uploaded, "on_site": on_site}

    def offer(self, o, ctx, rec):
        oid = child_text(o, "Ид")
        if not oid:
            return
        ctx[2].add(oid)
        rec["offers"] += 1
        cur = self.offers.setdefault(oid, {"active": True, "prices": {}, "stock": None,
                                           "stocks": {}})
        if deleted(o):
            cur["active"] = False
            cur["deleted"] = True
            return
        cur["active"] = True
        cur.pop("deleted", None)
        self.read_prices(o, cur)
        self.read_stock(o, cur)

    def read_prices(self, o, cur):
        lists = children(o, "Цены")
        if not lists:
            return
        prices = {}  # replaced, not merged
        for p in children(lists[0], "Цена"):
            tid = child_text(p, "ИдТипаЦены")
            if not tid or (self.price_types and tid not in self.price_types):
                continue  # Bitrix skips a price type it does not know
            prices[tid] = child_text(p, "ЦенаЗаЕдиницу")
        cur["prices"] = prices

    def read_stock(self, o, cur):
        qty = child_text(o, "Количество")
        stocks = {}
        for s in children(o, "Склад"):
            if s.get("ИдСклада"):
                stocks[s.get("ИдСклада")] = s.get("КоличествоНаСкладе")
        for rests in children(o, "Остатки"):
            for r in children(rests, "Остаток"):
                for s in children(r, "Склад"):
                    sid = child_text(s, "Ид")
                    if sid:
                        stocks[sid] = child_text(s, "Количество")
                q = child_text(r, "Количество")
                if q is not None and qty is None:
                    qty = q
        if qty is None and not stocks:
            return
        cur["stocks"] = stocks
        if qty is None:
            total = sum(number(v) or 0 for v in stocks.values())
            qty = ("%g" % total)
        cur["stock"] = qty

    def deactivate(self, elements, touched, rec):
        """Step 8: every element the full file did not touch."""
        for eid, cur in elements.items():
            if eid not in touched and cur["active"]:
                cur["active"] = False
                self.deactivated.append(eid)
                rec["deactivated"] += 1

    # -- the state ----------------------------------------------------

    def write_log(self, event, name, detail):
        if self.log is not None:
            self.log.write("%s\t%s\t%s\n" % (event, name, detail.replace("\n", " ")))
            self.log.flush()

    def state(self, summary=False):
        s = {"ident": self.ident, "set_up": self.set_up, "files": self.files,
             "full_after_setup": self.full_after_setup,
             "deactivated": len(self.deactivated), "refused": self.refused,
             "products_total": len(self.products), "offers_total": len(self.offers),
             "active_products": sum(1 for p in self.products.values() if p["active"]),
             "active_offers": sum(1 for o in self.offers.values() if o["active"])}
        if not summary:
            s["deactivated_ids"] = self.deactivated
            s["products"] = self.products
            s["offers"] = self.offers
        return s
