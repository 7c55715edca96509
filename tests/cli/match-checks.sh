#!/bin/bash
# match-checks.sh BINDIR DATA [CORPUS]: cp-match through the program, on
# the fixtures of DATA/match (README there) and, with CORPUS, every real
# order file and both counterparty packages of shared/corpus.
#
# The decision table row by row (each row one order against a fresh
# register: the buyer written out and the decisions file's rule); the
# seed's story; a branch and then its head; a conflict, its review and
# --resolve; --rule and --dry-run against the default; --self with planted
# duplicates, with and without --apply; idempotency (byte-identical
# output, the register unchanged by a second run); bad input changing
# nothing and writing nothing; marketplaces untouched; the 2.05 contact
# names; --ledger over orders-pull's ledger, once.
set -u
bin=$1
data=$2
corpus=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmlkit-match.XXXXXX")
mkdir "$tmp/t"
export TMPDIR=$tmp/t
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
m=$data/match

if ! command -v python3 >/dev/null; then
	echo "python3 is missing: the outputs cannot be parsed"
	exit 77
fi
# the interpreter itself, not a version manager's shim: it runs a few
# hundred times
py=$(python3 -c 'import sys; print(sys.executable)')

ok() { passes=$((passes + 1)); echo "ok: $1"; }
bad() {
	fails=$((fails + 1))
	echo "FAILED: $1"
	echo "    exit $rc"
	sed 's/^/    stderr: /' "$tmp/err" | head -20
	head -c 800 "$tmp/out" | sed 's/^/    stdout: /'
}
expect() { # description, condition (a shell command list, evaluated)
	if eval "$2"; then ok "$1"; else bad "$1"; fi
}

db=$tmp/cmlkit.db
fresh() { rm -f "$db" "$db"-* "$db".*; }
cpm() { # cp-match options: $rc, $tmp/out, $tmp/err
	rm -f "$tmp"/*.idx # what the helpers below read of the last run
	"$bin/cp-match" --db "$db" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	# under the Sanitize build a finding is a failure whatever the status
	if grep -qE "Sanitizer|runtime error:" "$tmp/err"; then bad "sanitizer: cp-match $*"; fi
}
status_is() { [ "$rc" = "$1" ]; }
err_has() { grep -qF -- "$1" "$tmp/err"; }
out_has() { grep -qF -- "$1" "$tmp/out"; }
no_output() { [ ! -s "$tmp/out" ]; }
export_csv() { "$bin/cp-match" --db "$db" --export csv >"$1" 2>"$tmp/export.err"; }

# one order of a document (by Номер) as a document of its own
one() { # FILE NUMBER > document
	"$py" - "$1" "$2" <<'EOF'
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
head = t[:t.index("  <Документ>")]
docs = re.findall(r"  <Документ>.*?</Документ>\n", t, re.S)
want = [d for d in docs if "<Номер>%s</Номер>" % sys.argv[2] in d]
sys.stdout.write(head + "".join(want) + "</КоммерческаяИнформация>\n")
EOF
}

# the buyer of every order of a document: "NUMBER<tab>field=value"
# lines; a representative as "rep=relation|Ид|name|contact values"
buyers_all() { # FILE
	"$py" - "$1" <<'EOF'
import signal, sys, xml.etree.ElementTree as ET
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
def local(e): return e.tag.split("}")[-1]
def kid(e, name):
    for c in e:
        if local(c) == name: return c
    return None
def text(e, name):
    c = kid(e, name)
    return (c.text or "").strip() if c is not None else ""
root = ET.parse(sys.argv[1]).getroot()
for d in root.iter():
    if local(d) != "Документ": continue
    n = text(d, "Номер")
    cps = kid(d, "Контрагенты")
    for c in (cps if cps is not None else []):
        if text(c, "Роль") not in ("Покупатель", ""): continue
        for f, e in (("id", "Ид"), ("name", "Наименование"), ("official", "ОфициальноеНаименование"),
                     ("full", "ПолноеНаименование"), ("inn", "ИНН"), ("kpp", "КПП")):
            print("%s\t%s=%s" % (n, f, text(c, e)))
        own = kid(c, "Контакты")
        for k in (own if own is not None else []):
            print("%s\tcontact=%s" % (n, text(k, "Значение")))
        reps = kid(c, "Представители")
        for r in (reps if reps is not None else []):
            rc = kid(r, "Контрагент")
            rc = rc if rc is not None else r
            vals = [text(k, "Значение") for k in rc.iter() if local(k) == "Контакт"]
            print("%s\trep=%s|%s|%s|%s" % (n, text(rc, "Отношение"), text(rc, "Ид"), text(rc, "Наименование"), " ".join(vals)))
EOF
}
# the buyer of one order: "field=value" lines (of the last run's output
# unless FILE is given)
buyer() { # NUMBER [FILE]
	local f=${2:-$tmp/out}
	[ -f "$f.idx" ] || buyers_all "$f" >"$f.idx" 2>/dev/null
	awk -F '\t' -v n="$1" '$1 == n { print substr($0, length(n) + 2) }' "$f.idx"
}
b_is() { buyer "$1" | grep -qxF -- "$2"; } # NUMBER "field=value"
b_lacks() { ! buyer "$1" | grep -q -- "^$2"; }
# a field of the decision of an order in the decisions file
dec() { # NUMBER FIELD [FILE]
	local f=${3:-$tmp/dec.csv}
	[ -f "$f.idx" ] || "$py" - "$f" >"$f.idx" 2>/dev/null <<'EOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")):
    for k, v in r.items():
        print("%s\t%s\t%s" % (r["order_number"], k, v.replace("\n", " ")))
EOF
	awk -F '\t' -v n="$1" -v k="$2" '$1 == n && $2 == k { print $3 }' "$f.idx"
}
dec_is() { [ "$(dec "$1" "$2")" = "$3" ]; }
# a column of a card in a register CSV (--export csv): every non-empty
# value over the card's rows, one a line
card() { # FILE ID COLUMN
	"$py" - "$1" "$2" "$3" <<'EOF'
import csv, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")):
    if r["id"] == sys.argv[2] and r[sys.argv[3]]:
        print(r[sys.argv[3]])
EOF
}
# the number of cards (distinct id) of a register CSV, or those with an INN
cards() { # FILE [INN]
	"$py" - "$1" "${2:-}" <<'EOF'
import csv, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
ids = {r["id"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline=""))
       if not sys.argv[2] or r["inn"] == sys.argv[2]}
print(len(ids))
EOF
}
# well-formed XML with N Документ
docs() { "$py" - "${1:-$tmp/out}" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(sum(1 for e in root.iter() if e.tag.split("}")[-1] == "Документ"))
EOF
}
# the start of the output, decoded, holds TEXT
head_has() { # ENCODING TEXT
	"$py" -c 'import sys; sys.exit(sys.argv[2] not in open(sys.argv[3], "rb").read(400).decode(sys.argv[1]))' "$1" "$2" "$tmp/out"
}
docs_are() { [ "$(docs 2>/dev/null)" = "$1" ]; }

# ---- the decision table, one order per row against a fresh register ----

row() { # NUMBER [options]: the row's order alone through cp-match
	local n=$1
	shift
	fresh
	one "$m/orders-208.xml" "$n" >"$tmp/in.xml"
	cpm --register "$m/register.xml" --decisions "$tmp/dec.csv" "$@" "$tmp/in.xml"
}

row r01
expect "r01 new: exit 0, rule new, a new card" 'status_is 0 && dec_is r01 rule new && dec_is r01 card_new true'
newid=$(dec r01 card_id)
expect "r01 new: the buyer carries the new card's Ид, not the site's" \
	'[ -n "$newid" ] && b_is r01 "id=$newid" && ! b_is r01 "id=11#novikov#Новиков Николай"'
expect "r01 new: its own contacts kept" 'b_is r01 "contact=novikov@new.example"'
export_csv "$tmp/reg.csv"
expect "r01 new: the card is in the register" 'grep -qF -- "$newid" "$tmp/reg.csv"'

row r02
expect "r02 email (case and blanks): card-ivanov" \
	'status_is 0 && dec_is r02 rule email && b_is r02 "id=card-ivanov"'
expect "r02 email: the card's name and full name" \
	'b_is r02 "name=Иванов Иван" && b_is r02 "full=Иванов Иван Петрович"'
expect "r02 email: no INN invented" 'b_is r02 "inn=" && dec_is r02 inn_filled false'

row r03
expect "r03 email + INN: card-ivanov, its empty INN filled" \
	'status_is 0 && dec_is r03 rule email && dec_is r03 inn_filled true && b_is r03 "inn=500100731209"'
export_csv "$tmp/reg.csv"
expect "r03: the register's card-ivanov has the INN" \
	'[ "$(card "$tmp/reg.csv" card-ivanov inn)" = 500100731209 ]'

row r04
expect "r04 email-other-inn: a new card for the incoming INN, no duplicate" \
	'status_is 0 && dec_is r04 rule email-other-inn && dec_is r04 card_new true && dec_is r04 duplicate false'
expect "r04: the buyer is not card-sidorov, its INN the incoming one" \
	'! b_is r04 "id=card-sidorov" && b_is r04 "inn=781100086042"'

row r05
expect "r05 inn: card-romashka with a new contact person" \
	'status_is 0 && dec_is r05 rule inn && b_is r05 "id=card-romashka" && dec_is r05 person_new true'
expect "r05: official name, INN, KPP from the card" \
	'b_is r05 "official=Общество с ограниченной ответственностью «Ромашка»" && b_is r05 "inn=7707083893" && b_is r05 "kpp=773601001"'
pid=$(dec r05 person_id)
expect "r05: the contact person as Представитель with the buyer's email and phone" \
	'[ -n "$pid" ] && buyer r05 | grep "^rep=" | grep -qF "rep=Контактное лицо|$pid|Кузнецов Кирилл|kuznetsov@romashka.example +7 495 111-22-33"'
expect "r05: one Представитель (the site's gave way)" '[ "$(buyer r05 | grep -c "^rep=")" = 1 ]'
export_csv "$tmp/reg.csv"
expect "seed's story: same INN, a second email: one card, two contact persons" \
	'[ "$(cards "$tmp/reg.csv" 7707083893)" = 1 ] && [ "$(card "$tmp/reg.csv" card-romashka person_name | sort | tr "\n" " ")" = "Кузнецов Кирилл Петров Пётр " ]'
expect "seed's story: the new contact person has the buyer's email" \
	'card "$tmp/reg.csv" card-romashka person_email | grep -qxF kuznetsov@romashka.example'

row r06
expect "r06 email+inn: card-lutik" 'status_is 0 && dec_is r06 rule email+inn && b_is r06 "id=card-lutik"'

row r07 --summary
expect "r07 conflict: booked to the INN's card, a review, exit 1" \
	'status_is 1 && dec_is r07 rule conflict && b_is r07 "id=card-vasilek" && dec_is r07 review true'
expect "r07: --summary counts the review" 'err_has "reviews: 1"'
cpm --review
expect "r07: --review lists it" 'status_is 0 && out_has r07 && out_has card-vasilek && out_has card-lutik'
cpm --review --decisions-format jsonl
expect "r07: --review as JSON Lines" \
	'status_is 0 && "$py" -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(not (len(r)==1 and r[0][\"order_number\"]==\"r07\"))" "$tmp/out"'
cpm --resolve r07 --card no-such-card
expect "--resolve to an unknown card: exit 3" 'status_is 3'
cpm --resolve r99 --card card-lutik
expect "--resolve of an order with no review: exit 3, said which" 'status_is 3 && err_has r99'
cpm --resolve r07 --card card-lutik
expect "--resolve r07 --card card-lutik" 'status_is 0'
cpm --review
expect "--review: nothing open after --resolve" 'status_is 0 && ! out_has r07'
cpm --review --all
expect "--review --all: the settled one" 'status_is 0 && out_has r07'
cpm --decisions "$tmp/dec.csv" "$tmp/in.xml"
expect "the re-run books r07 to the resolved card, exit 0" \
	'status_is 0 && dec_is r07 rule resolved && b_is r07 "id=card-lutik"'

row r08
expect "r08 branch: same INN, new KPP: a new card, not card-romashka" \
	'status_is 0 && dec_is r08 rule branch && dec_is r08 card_new true && ! b_is r08 "id=card-romashka" && b_is r08 "kpp=770501001"'
branch=$(dec r08 card_id)
export_csv "$tmp/reg.csv"
expect "r08: the branch is linked to its head card-romashka" \
	'[ "$(card "$tmp/reg.csv" "$branch" head_id)" = card-romashka ]'
# the same email on the head and the branch, no INN: the head card
# the branch's email on the head too (an order by the head's INN+KPP
# from it: a contact person of the head), then that email alone
one "$m/orders-208.xml" r05 | sed -e 's/kuznetsov@/sever@/' -e 's/<Номер>r05</<Номер>r05h</' >"$tmp/head0.xml"
one "$m/orders-208.xml" r10 | sed -e 's/astra@astra.example/sever@romashka.example/' -e 's/<Номер>r10</<Номер>r08h</' >"$tmp/head.xml"
cpm --decisions "$tmp/dec.csv" "$tmp/head0.xml"
expect "the branch's email from the head's INN+KPP: the head (several:inn+kpp)" \
	'status_is 0 && dec_is r05h rule several:inn+kpp && b_is r05h "id=card-romashka"'
cpm --decisions "$tmp/dec.csv" "$tmp/head.xml"
expect "several cards with the email, no INN: the head card (several:head)" \
	'status_is 0 && dec_is r08h rule several:head && b_is r08h "id=card-romashka"'

row r08 --kpp ignore
expect "r08 --kpp ignore: one card per INN, the person on card-romashka (inn)" \
	'status_is 0 && dec_is r08 rule inn && b_is r08 "id=card-romashka" && dec_is r08 person_new true'

row r09
expect "r09 several:inn+kpp: the card of the KPP" \
	'status_is 0 && dec_is r09 rule several:inn+kpp && b_is r09 "id=card-astra-2"'

row r10
expect "r10 review: exit 1, the buyer as it came" \
	'status_is 1 && dec_is r10 rule review && b_is r10 "id=20#astra#Астра" && dec_is r10 review true'
expect "r10: candidates named" 'dec r10 candidates | grep -q card-astra-1 && dec r10 candidates | grep -q card-astra-2'

row r05 --encoding windows-1251 --schema 2.05
expect "windows-1251 and 2.05 out: the same buyer, the encoding declared" \
	'status_is 0 && b_is r05 "id=card-romashka" && b_is r05 "kpp=773601001" && head_has cp1251 "encoding=\"windows-1251\"" && head_has cp1251 "ВерсияСхемы=\"2.05\""'

row r11
expect "r11 id: the buyer carries card-lutik's Ид" 'status_is 0 && dec_is r11 rule id && b_is r11 "id=card-lutik"'

row r12 --marketplace ozon-buyer
one "$m/orders-208.xml" r12 >"$tmp/r12.xml"
expect "r12 marketplace: skipped, exit 0" 'status_is 0 && dec_is r12 rule marketplace'
expect "r12 marketplace: the buyer untouched" '[ "$(buyer r12)" = "$(buyer r12 "$tmp/r12.xml")" ]'

# ---- the whole document at once, 2.08 and 2.05 ----

fresh
cpm --register "$m/register.xml" --marketplace ozon-buyer --decisions "$tmp/dec.csv" --summary "$m/orders-208.xml"
expect "orders-208: every order out (12), exit 1 (r10's review)" 'status_is 1 && docs_are 12'
expect "orders-208: the decisions file has a row per buyer" \
	'[ "$("$py" -c "import csv,sys; print(len(list(csv.DictReader(open(sys.argv[1], encoding=\"utf-8\")))))" "$tmp/dec.csv")" = 12 ]'
expect "orders-208: the summary's lines" 'err_has "buyers: 12" && err_has "duplicates: 0 (new cards for a buyer whose email or INN an existing card has)"'
cp "$tmp/out" "$tmp/first.xml"
cp "$tmp/dec.csv" "$tmp/first-dec.csv"
export_csv "$tmp/reg1.csv"
fresh
cpm --register "$m/register.xml" --marketplace ozon-buyer --decisions "$tmp/dec.csv" "$m/orders-208.xml"
expect "deterministic: the same input against the same register, byte-identical output and decisions" \
	'cmp -s "$tmp/out" "$tmp/first.xml" && cmp -s "$tmp/dec.csv" "$tmp/first-dec.csv"'
cpm --marketplace ozon-buyer --decisions "$tmp/dec.csv" "$m/orders-208.xml"
cp "$tmp/out" "$tmp/second.xml"
cp "$tmp/dec.csv" "$tmp/second-dec.csv"
export_csv "$tmp/reg2.csv"
expect "idempotent: a second run adds nothing to the register" 'cmp -s "$tmp/reg1.csv" "$tmp/reg2.csv"'
expect "idempotent: the second run creates nothing, finds what the first created" \
	'[ "$(dec r01 card_new)" = false ] && [ "$(dec r01 card_id)" = "$(dec r01 card_id "$tmp/first-dec.csv")" ] && [ "$(dec r05 person_new)" = false ]'
cpm --marketplace ozon-buyer --decisions "$tmp/dec.csv" "$m/orders-208.xml"
expect "idempotent: a third run, byte-identical to the second" \
	'cmp -s "$tmp/out" "$tmp/second.xml" && cmp -s "$tmp/dec.csv" "$tmp/second-dec.csv"'
cpm --marketplace ozon-buyer --decisions "$tmp/dec.jsonl" --decisions-format jsonl "$m/orders-208.xml"
expect "--decisions-format jsonl: one object per buyer" \
	'"$py" -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1], encoding=\"utf-8\")]; sys.exit(not (len(r)==12 and r[4][\"rule\"]==\"email+inn\" and r[0][\"card_new\"] is False))" "$tmp/dec.jsonl"'

fresh
cpm --register "$m/register.xml" --decisions "$tmp/dec.csv" "$m/orders-205.xml"
expect "2.05 names (Почта, ТелефонРабочий): r02 email, r05 inn, r07 conflict" \
	'status_is 1 && dec_is r02 rule email && dec_is r05 rule inn && dec_is r07 rule conflict'
expect "2.05: the output is 2.05 as the input" 'out_has "ВерсияСхемы=\"2.05\""'

# ---- a CSV register: a marketplace and a branch by their columns ----

fresh
cpm --register "$m/register.xml" --register "$m/register-extra.csv" --decisions "$tmp/dec.csv" "$m/orders-208.xml"
expect "register CSV: the marketplace column skips r12 without --marketplace" 'dec_is r12 rule marketplace'
export_csv "$tmp/reg.csv"
expect "register CSV: the branch and its head, two contact persons from two rows" \
	'[ "$(card "$tmp/reg.csv" card-lutik-spb head_id)" = card-lutik ] && [ "$(card "$tmp/reg.csv" card-lutik-spb person_id | sort | tr "\n" " ")" = "person-lvov person-lvova " ]'
one "$m/orders-208.xml" r06 | sed -e 's/info@lutik.example/l.lvova@lutik.example/' -e 's/<КПП>773601001/<КПП>781001001/' >"$tmp/spb.xml"
cpm --decisions "$tmp/dec.csv" "$tmp/spb.xml"
expect "register CSV: a person's second email and the branch's KPP find the branch (email+inn)" \
	'status_is 0 && dec_is r06 rule email+inn && b_is r06 "id=card-lutik-spb" && b_is r06 "kpp=781001001"'
one "$m/orders-208.xml" r06 | sed -e 's/info@lutik.example/new@lutik.example/' -e 's/<КПП>773601001/<КПП>781001001/' >"$tmp/spb.xml"
cpm --decisions "$tmp/dec.csv" "$tmp/spb.xml"
expect "register CSV: a new email with the branch's INN and KPP: the branch (inn), not its head" \
	'status_is 0 && dec_is r06 rule inn && b_is r06 "id=card-lutik-spb"'

# ---- the old rule against the new ----

fresh
"$bin/cp-match" --db "$db" --register "$m/register.xml" --load-only 2>/dev/null
export_csv "$tmp/before.csv"
cpm --rule and --dry-run --summary --decisions "$tmp/and.csv" "$m/orders-208.xml"
and_dups=$(sed -n 's/.*duplicates: \([0-9]*\).*/\1/p' "$tmp/err")
export_csv "$tmp/after.csv"
expect "--rule and --dry-run: duplicates counted (the old rule's)" '[ "${and_dups:-0}" -gt 0 ]'
expect "--rule and --dry-run: the register untouched" 'cmp -s "$tmp/before.csv" "$tmp/after.csv"'
expect "--rule and --dry-run: the decisions written all the same" '[ "$(dec r05 rule "$tmp/and.csv")" = and:new ]'
cpm --dry-run --summary "$m/orders-208.xml"
expect "the default rule makes no duplicates on the same data" 'err_has "duplicates: 0 "'

# ---- --self ----

fresh
"$bin/cp-match" --db "$db" --register "$m/register-dups.xml" --load-only 2>/dev/null
export_csv "$tmp/before.csv"
cpm --self
expect "--self: the plan merges the planted INN+KPP duplicates into card-romashka" \
	'status_is 0 && grep -q "card-romashka,dup-romashka-1,merge" "$tmp/out" && grep -q "card-romashka,dup-romashka-2,merge" "$tmp/out"'
expect "--self: the email link is only proposed" 'grep ",propose,email," "$tmp/out" | grep -q dup-lutik-mail'
export_csv "$tmp/after.csv"
expect "--self without --apply merges nothing" 'cmp -s "$tmp/before.csv" "$tmp/after.csv"'
cpm --self --apply --plan "$tmp/plan.csv"
export_csv "$tmp/after.csv"
expect "--self --apply --plan: the plan in the file, nothing on stdout" \
	'status_is 0 && no_output && grep -q dup-romashka-1 "$tmp/plan.csv"'
expect "--self --apply: the duplicates are gone, the proposal kept" \
	'! grep -q dup-romashka "$tmp/after.csv" && grep -q dup-lutik-mail "$tmp/after.csv"'
one "$m/orders-208.xml" r11 | sed -e 's/card-lutik/dup-romashka-2/' >"$tmp/alias.xml"
cpm --decisions "$tmp/dec.csv" "$tmp/alias.xml"
expect "--self --apply: a merged Ид matches to the survivor" 'b_is r11 "id=card-romashka"'
cpm --self
expect "--self again: nothing left to merge" 'status_is 0 && ! grep -q ",merge," "$tmp/out"'

# ---- bad input ----

fresh
cpm --register "$m/register.xml" --decisions "$tmp/dec.csv" "$m/bad-values.xml"
expect "bad values: exit 1, every order out" 'status_is 1 && docs_are 3'
expect "an invalid INN reported with the order's number" 'err_has "cp-match: order b01: "'
expect "an invalid INN is no key" 'dec_is b01 inn "" && dec_is b01 rule new'
expect "an email that is none reported" 'err_has "cp-match: order b02: "'
expect "a buyer without keys reported, a new card" 'err_has "cp-match: order b03: " && dec_is b03 card_new true'

fresh
"$bin/cp-match" --db "$db" --register "$m/register.xml" --load-only 2>/dev/null
export_csv "$tmp/before.csv"
rm -f "$tmp/dec.csv"
cpm --decisions "$tmp/dec.csv" "$m/bad-broken.xml"
export_csv "$tmp/after.csv"
expect "a broken document: exit 3, stdout empty, file:line" 'status_is 3 && no_output && err_has "bad-broken.xml:"'
expect "a broken document: the register unchanged, no decisions file" \
	'cmp -s "$tmp/before.csv" "$tmp/after.csv" && [ ! -e "$tmp/dec.csv" ] && ! ls -A "$tmp" | grep -q cmlkit-tmp'
cpm --register "$m/bad-register.xml" "$m/orders-208.xml"
export_csv "$tmp/after.csv"
expect "a broken register file: exit 3, stdout empty, file:line" 'status_is 3 && no_output && err_has "bad-register.xml:"'
expect "a broken register file: the register unchanged" 'cmp -s "$tmp/before.csv" "$tmp/after.csv"'
cpm --register "$m/register.xml" "$data/check/good-small.xml"
expect "a catalog refused: exit 3, stdout empty" 'status_is 3 && no_output && err_has "not an orders document"'
cpm --register "$m/register.xml" "$m/no-such-file.xml"
expect "a missing input: an error, stdout empty" '[ "$rc" -ge 3 ] && no_output'
cpm --ledger "$m/orders-208.xml"
expect "usage: --ledger takes no FILE (exit 2)" 'status_is 2'
cpm --self --review
expect "usage: two modes (exit 2)" 'status_is 2'
cpm --card x
expect "usage: --card without --resolve (exit 2)" 'status_is 2'
expect "no temporary file left in TMPDIR" '[ -z "$(ls -A "$tmp/t")" ]'

# ---- counterparty packages pass through, payment documents too ----

fresh
cpm --register "$m/register.xml" "$data/pull/good-210-payments.xml"
expect "2.10 payment and shipment documents pass through" '[ "$rc" -le 1 ] && docs_are 3'

# ---- --export ----

cpm --export xml
expect "--export xml: a counterparty package the register loads again" \
	'status_is 0 && out_has "<Контрагенты" && cp "$tmp/out" "$tmp/reg.xml"'
cpm --export csv
cp "$tmp/out" "$tmp/reg.csv"
rm -f "$tmp/db2"
"$bin/cp-match" --db "$tmp/db2" --register "$tmp/reg.xml" --load-only 2>"$tmp/err"
rc=$?
"$bin/cp-match" --db "$tmp/db2" --export csv >"$tmp/reg2.csv" 2>/dev/null
expect "--export xml loads back into a fresh register as the same register" \
	'status_is 0 && cmp -s "$tmp/reg.csv" "$tmp/reg2.csv"'
rm -f "$tmp/db2"*
"$bin/cp-match" --db "$tmp/db2" --register "$tmp/reg.csv" --load-only 2>"$tmp/err"
rc=$?
"$bin/cp-match" --db "$tmp/db2" --export csv >"$tmp/reg2.csv" 2>/dev/null
expect "--export csv loads back into a fresh register as the same register" \
	'status_is 0 && cmp -s "$tmp/reg.csv" "$tmp/reg2.csv"'

# ---- --ledger over orders-pull's ledger ----

fresh
"$bin/orders-pull" --db "$db" --site shop "$m/orders-208.xml" >/dev/null 2>"$tmp/err"
rc=$?
expect "orders-pull stores the orders" 'status_is 0'
cpm --ledger --register "$m/register.xml" --marketplace ozon-buyer --decisions "$tmp/dec.csv" --date 2026-11-30T00:00:00
expect "--ledger: every order out once, matched" 'status_is 1 && docs_are 12 && dec_is r05 rule inn && dec_is r05 site shop'
cp "$tmp/out" "$tmp/ledger1.xml"
fresh
"$bin/orders-pull" --db "$db" --site shop "$m/orders-208.xml" >/dev/null 2>&1
"$bin/orders-pull" --db "$db" --site other "$data/pull/good-small.xml" >/dev/null 2>&1
"$bin/cp-match" --db "$db" --register "$m/register.xml" --load-only 2>/dev/null
cpm --ledger --site other --dry-run --date 2026-11-30T00:00:00
cp "$tmp/out" "$tmp/other.xml"
expect "--ledger --site other --dry-run: that site's orders only" 'status_is 0 && docs_are 2 && b_is 101 "id=card-ivanov"'
cpm --ledger --site other --date 2026-11-30T00:00:00
expect "--ledger after --dry-run: the same orders again, the same bytes" 'status_is 0 && cmp -s "$tmp/out" "$tmp/other.xml"'
cpm --ledger --site other
expect "--ledger --site other again: nothing" 'status_is 0 && no_output'
cpm --ledger --marketplace ozon-buyer --decisions "$tmp/dec.csv" --date 2026-11-30T00:00:00
expect "--ledger of every site: the shop's 12, booked as before" \
	'status_is 1 && docs_are 12 && cmp -s "$tmp/out" "$tmp/ledger1.xml"'
cpm --ledger --marketplace ozon-buyer
expect "--ledger again: nothing written" '[ "$rc" -le 1 ] && no_output'
# r06 with another status: a new revision of one order
one "$m/orders-208.xml" r06 | sed -e 's/<Значение>N<\/Значение>/<Значение>P<\/Значение>/' >"$tmp/r06.xml"
"$bin/orders-pull" --db "$db" --site shop "$tmp/r06.xml" >/dev/null 2>&1
cpm --ledger --marketplace ozon-buyer
expect "--ledger after a changed order: that order alone" 'status_is 0 && docs_are 1 && b_is r06 "id=card-lutik"'

# ---- the pipe over one database (the man page's cron line) ----
# orders-pull holds the run lock until its output is out; cp-match reads
# its whole input before it takes the lock, so the two never wait for
# each other (before, cp-match took the lock first and both gave up).
fresh
"$bin/cp-match" --db "$db" --register "$m/register.xml" --load-only 2>/dev/null
for i in 1 2 3; do
	timeout 60 sh -c '"$1/orders-pull" --db "$2" --site shop "$3" 2>/dev/null |
		"$1/cp-match" --db "$2" --marketplace ozon-buyer --date 2026-11-30T00:00:00 \
		>"$4" 2>/dev/null; echo $? >"$4.rc"' sh "$bin" "$db" "$m/orders-208.xml" "$tmp/out"
	rc=$(cat "$tmp/out.rc" 2>/dev/null || echo timeout)
	rm -f "$tmp"/*.idx
	if [ "$i" = 1 ]; then
		expect "orders-pull | cp-match over one database: matched, nothing waits" \
			'[ "$rc" = 0 ] || [ "$rc" = 1 ]; [ $? = 0 ] && docs_are 12 && b_is r06 "id=card-lutik"'
	else
		expect "orders-pull | cp-match over one database, run $i: nothing new, nothing written, exit 0" \
			'status_is 0 && no_output'
	fi
done

# ---- the corpus ----

if [ -n "$corpus" ] && [ -d "$corpus" ]; then
	for f in $(grep -l '<Документ' "$corpus"/*.xml); do
		fresh
		n_in=$(docs "$f")
		cpm "$f"
		expect "corpus $(basename "$f"): exit 0 or 1, well-formed, $n_in documents" \
			'[ "$rc" -le 1 ] && docs_are "$n_in"'
	done
	for f in "$corpus"/AlexMobiCraft__FREESPORT-B2B__backend_tests_fixtures_1c-data_contragents_contragents.xml \
		"$corpus"/ArgentCrusade__commerceml__tests_fixtures_contractors-example.xml; do
		fresh
		cpm --register "$f" --load-only --summary
		expect "corpus $(basename "$f") loads (--register --load-only)" 'status_is 0 && err_has "cards read"'
	done
	fresh
	cpm --register "$corpus"/AlexMobiCraft__FREESPORT-B2B__backend_tests_fixtures_1c-data_contragents_contragents.xml --load-only
	export_csv "$tmp/reg.csv"
	expect "FREESPORT's 37 cards in the register" '[ "$(cards "$tmp/reg.csv")" = 37 ]'
else
	echo "skip: no corpus"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
