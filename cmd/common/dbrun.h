/*
 * dbrun.h: how every program opens the database and runs its one
 * transaction (cmlkit-db(5)): --db as an argp child parser, the default
 * path, the messages, the exit statuses. Linked into the programs, never
 * into libcml.
 *
 *     struct db_opts dbo = { 0 };          // an argp child: --db FILE
 *     cml_store *s;
 *     if ((rc = db_open(&dbo, false, &s)) != EXIT_OK) return rc;
 *     if ((rc = db_begin(s, "orders-pull")) != EXIT_OK) goto out;
 *     ... work; on failure: db_rollback(s) ...
 *     rc = db_commit(s, "ok", counts_json);
 *   out:
 *     db_close(s);
 */
#ifndef CMLKIT_DBRUN_H
#define CMLKIT_DBRUN_H

#include <argp.h>
#include <stdbool.h>

#include <cml/store.h>

struct db_opts {
	const char *db; /* --db FILE; NULL: cml_store_default_path() */
	const char *doc; /* --db's line in --help; NULL: "The database (...)" */
	int keep;       /* --keep N, when keep_set (db_ack_argp only) */
	bool keep_set;
};

/* The child parser: --db FILE (an empty name is a usage error). Its input
 * is a struct db_opts *. */
extern const struct argp db_argp;

/* The same with --keep N, for the programs that acknowledge generations
 * (catalog-push, delta-export): how many pruned generations' parts an
 * acknowledgement keeps (cml_store_gen_set_keep; db_open applies it). */
extern const struct argp db_ack_argp;

/* The path a program uses: --db, else $CMLKIT_DB, else "cmlkit.db". */
const char *db_path(const struct db_opts *o);

/* Opens (read_only: an existing database, nothing written), migrates
 * and sets --keep on the handle. Prints the reason and returns the exit status on failure
 * (EXIT_LOCAL; EXIT_OK with *out set on success). */
int db_open(const struct db_opts *o, bool read_only, cml_store **out);

/* Takes the run lock and begins the run; says so on stderr when it had to
 * wait for another run. EXIT_LOCAL on failure, also when another run held
 * the lock past the wait (cmlkit(7)'s table: the run lock is local). */
int db_begin(cml_store *s, const char *program);

/* Commits with the outcome and counts (cml_store_run_commit). On failure
 * prints the reason, rolls back and returns EXIT_LOCAL. */
int db_commit(cml_store *s, const char *outcome, const char *counts_json);

/* Rolls the run back (nothing of it stays); nothing to do when no run
 * is open, so an error path may call it whatever it reached. */
void db_rollback(cml_store *s);

/* Closes; NULL is fine. */
void db_close(cml_store *s);

#endif /* CMLKIT_DBRUN_H */
