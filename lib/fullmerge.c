/*
 * fullmerge.c: a full generation's acknowledgement by what changed only
 * (store_full_merge in store_private.h), for generations.c.
 *
 * A full generation is the whole catalog, and a nightly one differs from
 * the baseline in a few parts in a hundred. Rebuilding the baseline from
 * it (the SQL way in generations.c: clear, then insert every part sorted
 * by part and Ид) sorts and writes every part: ~10 s of CPU at a million
 * products. The merge reads the generation and the baseline once each, in
 * storage order, and writes only what differs.
 *
 * Each part becomes a 32-byte entry:
 *
 *  - key: XXH3-128 of the Ид, seeded with the hash of the part's name. A
 *    collision between two of the 8 million keys of a 1M catalog is a
 *    chance of about 1 in 10^25;
 *  - the fingerprint's first 64 bits, compared with the baseline's: a
 *    changed part whose new fingerprint starts like the old one (1 in
 *    2^64) would be missed;
 *  - where its row is: for the generation, its seq (read again for a part
 *    that is written); for the baseline, its name in the chunk's buffer.
 *
 * The generation's entries (~128 MiB at 4M parts) are sorted by key and
 * indexed by the key's top bits (a directory of ~4 entries a slot). The
 * baseline is read in chunks of FM_CHUNK rows, each sorted by key and
 * looked up in order, the entry a few lookups ahead prefetched: memory is
 * touched in address order and its misses overlap. A hash table of the
 * same entries, probed in the baseline's order, missed the cache and the
 * TLB on every probe and cost 4 of the 8 s an acknowledgement took at 1M
 * products.
 *
 * When the baseline is empty, or too much changed (a quarter of the
 * generation), or the entries cannot be had, the SQL way is the better one
 * and the merge leaves it to it, having written nothing.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sqlite3.h>
#include <xxhash.h>

#include "store_private.h"

static const char *const queries[SQ_COUNT] = {
	[SQ_FA_ANY] = "SELECT EXISTS (SELECT 1 FROM baseline)",
	/* two lookups of the gen index: min() and max() each alone in their
	 * SELECT, so neither walks the generation's range */
	[SQ_FA_RANGE] = "SELECT (SELECT min(seq) FROM gen_parts WHERE gen = ?1), "
	                "(SELECT max(seq) FROM gen_parts WHERE gen = ?1)",
	/* by its range of seq, in table order: through the gen index each row
	 * would be a lookup of its own (~19 s of CPU for 4M at 1M products) */
	[SQ_FA_ROWS] = "SELECT seq, part, id, fp, deleted FROM gen_parts "
	               "WHERE seq BETWEEN ?2 AND ?3 AND +gen = ?1",
	[SQ_FA_BASE] = "SELECT part, id, fp FROM baseline",
	[SQ_FA_ROW] = "SELECT part, id, fp, deleted FROM gen_parts WHERE seq = ?1",
	[SQ_FA_PUT] = "INSERT INTO baseline(part, id, fp, gen) VALUES (?1, ?2, ?3, ?4) "
	              "ON CONFLICT(part, id) DO UPDATE SET fp = excluded.fp, gen = excluded.gen",
	[SQ_FA_DEL] = "DELETE FROM baseline WHERE part = ?1 AND id = ?2",
};

static sqlite3_stmt *
query(cml_store *s, enum store_q q, cml_status *st)
{
	return store_query(s, q, queries[q], st);
}

/* Baseline rows sorted and looked up at a time: 4 MiB of entries and
 * ~6 MiB of their names. */
enum { FM_CHUNK = 1 << 17 };

/* Lookups ahead of the one in hand whose entry is prefetched. */
enum { FM_AHEAD = 8 };

struct fm_ent {
	uint64_t hi, lo; /* the key */
	uint64_t fp;     /* the fingerprint's first 64 bits */
	uint32_t at;     /* generation: seq - first; baseline: index in the chunk */
	uint32_t flags;  /* FM_* */
};

enum { FM_DELETED = 1, FM_SEEN = 2, FM_WRITE = 4 };

/* The generation's entries, sorted by key, one of a key; dir[b] is the
 * first whose key's top bits (hi >> shift) are b or more, for
 * b = 0 .. 2^(64 - shift). */
struct fm_gen {
	struct fm_ent *e;
	size_t n;
	uint32_t *dir;
	unsigned shift;
};

/* An allocation of bytes for entries walked end to end: on Linux, in
 * huge pages where the system gives them on request (a 4M-part catalog
 * in 64 pages, not 32768: fewer page faults and TLB misses). */
static void *
alloc_big(size_t bytes)
{
	void *p = cml_malloc(bytes);
#ifdef MADV_HUGEPAGE
	uintptr_t from = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t to = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
	if (p != NULL && to > from)
		(void)madvise((void *)from, to - from, MADV_HUGEPAGE); /* a hint only */
#endif
	return p;
}

/* The seeds of the part names: the rows of a generation alternate
 * between a few names, each hashed once. */
struct fm_keyer {
	uint64_t seed[CML_PART_COUNT];
	size_t len[CML_PART_COUNT];
	int last; /* the part of the previous row, 0 for none */
};

static void
fm_keyer_init(struct fm_keyer *k)
{
	memset(k, 0, sizeof(*k));
	for (int p = 1; p < CML_PART_COUNT; p++) {
		const char *name = cml_part_name((cml_part)p);
		k->len[p] = strlen(name);
		k->seed[p] = XXH3_64bits(name, k->len[p]);
	}
}

static void
fm_key(struct fm_keyer *k, const char *part, size_t plen, const char *id, size_t idlen,
       struct fm_ent *e)
{
	int p = k->last;

	if (p == 0 || plen != k->len[p] || memcmp(part, cml_part_name((cml_part)p), plen) != 0) {
		for (p = CML_PART_COUNT - 1; p > 0; p--)
			if (plen == k->len[p] && memcmp(part, cml_part_name((cml_part)p), plen) == 0)
				break;
		k->last = p;
	}
	/* a name this library does not know has its seed computed each time */
	uint64_t seed = p != 0 ? k->seed[p] : XXH3_64bits(part, plen);
	XXH128_hash_t h = XXH3_128bits_withSeed(id, idlen, seed);
	e->hi = h.high64;
	e->lo = h.low64;
}

static inline bool
key_less(const struct fm_ent *a, uint64_t hi, uint64_t lo)
{
	return a->hi < hi || (a->hi == hi && a->lo < lo);
}

static inline bool
ent_less(const struct fm_ent *a, const struct fm_ent *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi;
	if (a->lo != b->lo)
		return a->lo < b->lo;
	return a->at < b->at;
}

static void
insertion_sort(struct fm_ent *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (!ent_less(&a[i], &a[i - 1]))
			continue;
		struct fm_ent e = a[i];
		size_t j = i;
		do {
			a[j] = a[j - 1];
		} while (--j > 0 && ent_less(&e, &a[j - 1]));
		a[j] = e;
	}
}

/* One stable counting pass by the byte of hi at shift, from src to dst. */
static void
radix_pass(const struct fm_ent *src, struct fm_ent *dst, size_t n, unsigned shift)
{
	size_t at[256] = { 0 };

	for (size_t i = 0; i < n; i++)
		at[(src[i].hi >> shift) & 0xff]++;
	for (size_t b = 0, sum = 0; b < 256; b++) {
		size_t c = at[b];
		at[b] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++)
		dst[at[(src[i].hi >> shift) & 0xff]++] = src[i];
}

/*
 * Sorts by (hi, lo, at). The keys are hashes, spread evenly: one pass in
 * place by hi's top byte (256 buckets of ~16k entries at 4M), then each
 * bucket by the next two bytes through tmp (cache-sized), which leaves
 * runs of equal top 24 bits, a few entries each, for an insertion sort
 * (a part recorded many times over would make its run long: the
 * exporters record each part once, a repeat is the exception).
 * False when tmp (the size of the largest bucket) cannot be had.
 */
static bool
fm_sort(struct fm_ent *a, size_t n)
{
	size_t count[256] = { 0 }, next[256], end[256], most = 0;

	if (n < 256) {
		insertion_sort(a, n);
		return true;
	}
	for (size_t i = 0; i < n; i++)
		count[a[i].hi >> 56]++;
	for (size_t b = 0, sum = 0; b < 256; b++) {
		next[b] = sum;
		sum += count[b];
		end[b] = sum;
		if (count[b] > most)
			most = count[b];
	}
	struct fm_ent *tmp = cml_malloc(most * sizeof(*tmp));
	if (tmp == NULL)
		return false;
	/* in place: each entry is carried to its bucket, taking the one
	 * there along, until the bucket's own entry comes round */
	for (size_t b = 0; b < 256; b++) {
		while (next[b] < end[b]) {
			struct fm_ent e = a[next[b]];
			size_t d = e.hi >> 56;
			while (d != b) {
				struct fm_ent t = a[next[d]];
				a[next[d]++] = e;
				e = t;
				d = e.hi >> 56;
			}
			a[next[b]++] = e;
		}
	}
	for (size_t b = 0, from = 0; b < 256; from = end[b], b++) {
		size_t m = end[b] - from;
		if (m > 64) {
			radix_pass(a + from, tmp, m, 40);
			radix_pass(tmp, a + from, m, 48);
		}
		insertion_sort(a + from, m);
	}
	cml_free(tmp);
	return true;
}

/* Builds the directory: ~4 entries a slot, 2^8 to 2^24 slots. */
static bool
index_gen(struct fm_gen *g)
{
	unsigned bits = 8;

	while (bits < 24 && ((size_t)1 << (bits + 3)) <= g->n)
		bits++;
	g->shift = 64 - bits;
	size_t slots = (size_t)1 << bits, j = 0;
	g->dir = cml_malloc((slots + 1) * sizeof(*g->dir));
	if (g->dir == NULL)
		return false;
	for (size_t b = 0; b <= slots; b++) {
		while (j < g->n && (g->e[j].hi >> g->shift) < b)
			j++;
		g->dir[b] = (uint32_t)j;
	}
	return true;
}

/* The generation's entry of the key, NULL when it has none. */
static struct fm_ent *
gen_find(const struct fm_gen *g, uint64_t hi, uint64_t lo)
{
	size_t b = (size_t)(hi >> g->shift);

	for (uint32_t j = g->dir[b]; j < g->dir[b + 1]; j++) {
		struct fm_ent *e = &g->e[j];
		if (e->hi == hi && e->lo == lo)
			return e;
		if (!key_less(e, hi, lo))
			break;
	}
	return NULL;
}

static void
gen_prefetch(const struct fm_gen *g, uint64_t hi)
{
#if defined(__GNUC__)
	__builtin_prefetch(&g->e[g->dir[hi >> g->shift]]);
#else
	(void)g;
	(void)hi;
#endif
}

/* The generation's entries into g->e (room for every seq from first to
 * last), sorted, the last row of a key kept (as in the SQL way), and
 * indexed; *rows is how many rows it has. */
static cml_status
read_gen(cml_store *s, int64_t gen, int64_t first, int64_t last, struct fm_gen *g,
         int64_t *rows)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_FA_ROWS, &st);
	struct fm_keyer k;
	size_t n = 0;
	int rc;

	if (q == NULL)
		return st;
	fm_keyer_init(&k);
	sqlite3_bind_int64(q, 1, gen);
	sqlite3_bind_int64(q, 2, first);
	sqlite3_bind_int64(q, 3, last);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *part = (const char *)sqlite3_column_text(q, 1);
		const char *id = (const char *)sqlite3_column_text(q, 2);
		const unsigned char *fp = sqlite3_column_blob(q, 3);
		bool deleted = sqlite3_column_int(q, 4) != 0;
		int64_t seq = sqlite3_column_int64(q, 0);

		if (part == NULL || id == NULL) {
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			break;
		}
		if (!deleted && (fp == NULL || sqlite3_column_bytes(q, 3) != 16)) {
			st = store_fail(s, CML_ERR_IO,
			                "generation %" PRId64 ": %s %s: the fingerprint is not 16 "
			                "bytes",
			                gen, part, id);
			break;
		}
		struct fm_ent *e = &g->e[n++];
		fm_key(&k, part, (size_t)sqlite3_column_bytes(q, 1), id,
		       (size_t)sqlite3_column_bytes(q, 2), e);
		e->fp = 0;
		if (!deleted)
			memcpy(&e->fp, fp, sizeof(e->fp)); /* compared for equality only */
		e->at = (uint32_t)(seq - first);
		e->flags = deleted ? FM_DELETED : 0;
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the generation");
	sqlite3_reset(q);
	*rows = (int64_t)n;
	if (st == CML_OK && !fm_sort(g->e, n))
		st = store_fail(s, CML_ERR_NOMEM, "out of memory");
	if (st != CML_OK)
		return st;
	/* of equal keys, sorted by seq, the last */
	struct fm_ent *e = g->e;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept > 0 && e[kept - 1].hi == e[i].hi && e[kept - 1].lo == e[i].lo)
			kept--;
		e[kept++] = e[i];
	}
	g->n = kept;
	if (!index_gen(g))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	return CML_OK;
}

/* A chunk of the baseline: its entries, and each row's "part\0id\0" in
 * names at name_at[entry's at]. */
struct fm_chunk {
	struct fm_ent *e;
	size_t *name_at;
	size_t n;
	cml_buf names;
};

/* Walks the chunk, sorted, against the generation's entries: marks what
 * the baseline has (FM_SEEN) and what changed (FM_WRITE), and collects
 * the parts the generation lacks into gone, counting changes in *changes. */
static cml_status
walk_chunk(cml_store *s, struct fm_chunk *c, const struct fm_gen *g, cml_buf *gone,
           size_t *changes)
{
	if (!fm_sort(c->e, c->n))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < c->n; i++) {
		const struct fm_ent *b = &c->e[i];
		if (i + FM_AHEAD < c->n)
			gen_prefetch(g, c->e[i + FM_AHEAD].hi);
		struct fm_ent *e = gen_find(g, b->hi, b->lo);
		if (e != NULL) {
			e->flags |= FM_SEEN;
			if ((e->flags & FM_DELETED) || e->fp != b->fp) {
				e->flags |= FM_WRITE;
				++*changes;
			}
			continue;
		}
		const char *name = c->names.data + c->name_at[b->at];
		size_t plen = strlen(name), idlen = strlen(name + plen + 1);
		if (!cml_buf_append(gone, name, plen + 1 + idlen + 1))
			return store_fail(s, CML_ERR_NOMEM, "out of memory");
		++*changes;
	}
	c->n = 0;
	cml_buf_clear(&c->names);
	return CML_OK;
}

/* Reads the baseline against the generation's entries, a chunk at a
 * time, up to limit changes in all (*over: more). */
static cml_status
read_base(cml_store *s, const struct fm_gen *g, cml_buf *gone, size_t limit, size_t *changes,
          bool *over)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_FA_BASE, &st);
	struct fm_keyer k;
	struct fm_chunk c = { 0 };
	int rc = SQLITE_DONE;

	if (q == NULL)
		return st;
	fm_keyer_init(&k);
	c.e = alloc_big(FM_CHUNK * sizeof(*c.e));
	c.name_at = cml_malloc(FM_CHUNK * sizeof(*c.name_at));
	if (c.e == NULL || c.name_at == NULL)
		st = store_fail(s, CML_ERR_NOMEM, "out of memory");
	while (st == CML_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *part = (const char *)sqlite3_column_text(q, 0);
		const char *id = (const char *)sqlite3_column_text(q, 1);
		const unsigned char *fp = sqlite3_column_blob(q, 2);
		size_t plen = (size_t)sqlite3_column_bytes(q, 0);
		size_t idlen = (size_t)sqlite3_column_bytes(q, 1);

		if (part == NULL || id == NULL) {
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			break;
		}
		if (fp == NULL || sqlite3_column_bytes(q, 2) != 16)
			continue; /* not a part (NULL only inside an acknowledgement) */
		struct fm_ent *e = &c.e[c.n];
		fm_key(&k, part, plen, id, idlen, e);
		memcpy(&e->fp, fp, sizeof(e->fp));
		e->at = (uint32_t)c.n;
		e->flags = 0;
		c.name_at[c.n++] = c.names.len;
		if (!cml_buf_append(&c.names, part, plen + 1) ||
		    !cml_buf_append(&c.names, id, idlen + 1)) {
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			break;
		}
		if (c.n == FM_CHUNK)
			st = walk_chunk(s, &c, g, gone, changes);
		if (st == CML_OK && *changes > limit) {
			*over = true;
			break;
		}
	}
	if (st == CML_OK && !*over && rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the baseline");
	sqlite3_reset(q);
	if (st == CML_OK && !*over && c.n > 0)
		st = walk_chunk(s, &c, g, gone, changes);
	if (st == CML_OK && *changes > limit)
		*over = true;
	cml_free(c.e);
	cml_free(c.name_at);
	cml_buf_free(&c.names);
	return st;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Writes the changes: deletes what is gone, then each part to write in
 * the order it was recorded. */
static cml_status
write_changes(cml_store *s, int64_t gen, int64_t first, const cml_buf *gone,
              const uint32_t *offs, size_t n_offs)
{
	cml_status st = CML_OK;
	sqlite3_stmt *q, *w;

	for (size_t at = 0; st == CML_OK && at < gone->len;) {
		const char *part = gone->data + at;
		const char *id = part + strlen(part) + 1;
		at = (size_t)(id - gone->data) + strlen(id) + 1;
		if ((q = query(s, SQ_FA_DEL, &st)) == NULL)
			break;
		sqlite3_bind_text(q, 1, part, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
		st = store_step_done(s, q, "cannot delete from the baseline");
	}
	for (size_t i = 0; st == CML_OK && i < n_offs; i++) {
		if ((q = query(s, SQ_FA_ROW, &st)) == NULL)
			break;
		sqlite3_bind_int64(q, 1, first + offs[i]);
		if (sqlite3_step(q) != SQLITE_ROW) {
			st = store_db_fail(s, "cannot read the generation");
			sqlite3_reset(q);
			break;
		}
		bool deleted = sqlite3_column_int(q, 3) != 0;
		if ((w = query(s, deleted ? SQ_FA_DEL : SQ_FA_PUT, &st)) == NULL) {
			sqlite3_reset(q);
			break;
		}
		/* the row's values stay valid until q is reset */
		sqlite3_bind_value(w, 1, sqlite3_column_value(q, 0));
		sqlite3_bind_value(w, 2, sqlite3_column_value(q, 1));
		if (!deleted) {
			sqlite3_bind_value(w, 3, sqlite3_column_value(q, 2));
			sqlite3_bind_int64(w, 4, gen);
		}
		st = store_step_done(s, w, "cannot update the baseline");
		sqlite3_reset(q);
	}
	return st;
}

/* The generation's seq range: *last < *first when it has no row. */
static cml_status
gen_range(cml_store *s, int64_t gen, int64_t *first, int64_t *last)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_FA_RANGE, &st);

	*first = 0;
	*last = -1;
	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, gen);
	if (sqlite3_step(q) != SQLITE_ROW)
		st = store_db_fail(s, "cannot read the generation");
	else if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
		*first = sqlite3_column_int64(q, 0);
		*last = sqlite3_column_int64(q, 1);
	}
	sqlite3_reset(q);
	return st;
}

cml_status
store_full_merge(cml_store *s, int64_t gen, bool *done, int64_t *parts)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_FA_ANY, &st);
	int64_t first = 0, last = 0;
	bool any = false;

	*done = false;
	*parts = -1;
	if (q == NULL)
		return st;
	if (sqlite3_step(q) == SQLITE_ROW)
		any = sqlite3_column_int(q, 0) != 0;
	else
		st = store_db_fail(s, "cannot read the baseline");
	sqlite3_reset(q);
	if (st != CML_OK || !any || (st = gen_range(s, gen, &first, &last)) != CML_OK)
		return st;
	if (last < first || last - first >= (int64_t)UINT32_MAX ||
	    (uint64_t)(last - first) >= SIZE_MAX / 2 / sizeof(struct fm_ent))
		return CML_OK;

	struct fm_gen g = { .e = alloc_big(((size_t)(last - first) + 1) * sizeof(*g.e)) };
	if (g.e == NULL)
		return CML_OK; /* the SQL way needs no entries */
	cml_buf gone = { 0 };
	uint32_t *offs = NULL;
	size_t changes = 0, n_offs = 0;
	int64_t rows = 0;
	bool over = false;

	st = read_gen(s, gen, first, last, &g, &rows);
	size_t limit = (size_t)rows / 4 + 16;
	if (st == CML_OK)
		st = read_base(s, &g, &gone, limit, &changes, &over);
	/* the parts the baseline lacks are new */
	for (size_t i = 0; st == CML_OK && !over && i < g.n; i++)
		if ((g.e[i].flags & (FM_SEEN | FM_DELETED)) == 0) {
			g.e[i].flags |= FM_WRITE;
			over = ++changes > limit;
		}
	if (st == CML_OK && !over && changes > 0 &&
	    (offs = cml_malloc(changes * sizeof(*offs))) == NULL)
		st = store_fail(s, CML_ERR_NOMEM, "out of memory");
	for (size_t i = 0; st == CML_OK && !over && i < g.n; i++)
		if (g.e[i].flags & FM_WRITE)
			offs[n_offs++] = g.e[i].at;
	cml_free(g.e);
	cml_free(g.dir);
	if (st == CML_OK && !over) {
		if (n_offs > 1)
			qsort(offs, n_offs, sizeof(*offs), cmp_u32);
		st = write_changes(s, gen, first, &gone, offs, n_offs);
		*done = st == CML_OK;
		*parts = rows;
	}
	cml_free(offs);
	cml_buf_free(&gone);
	return st;
}
