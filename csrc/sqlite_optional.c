/*
 * SQLite functions sqlfork uses when they are there.
 *
 * The snapshot API (sqlite3_snapshot_get/open/free) exists only in an
 * SQLite built with SQLITE_ENABLE_SNAPSHOT. sqlfork's own builds set that
 * flag (.cargo/config.toml), but a crate that depends on sqlfork builds
 * rusqlite's bundled SQLite without it, and a direct reference from Rust
 * would then fail to link. Here the functions are declared weak: where
 * SQLite has them, these wrappers call them; where it does not, the
 * references resolve to null, sqlfork_snapshot_api() says 0, and sqlfork
 * copies without a pinned snapshot (see src/sqlite_optional.rs).
 */
#include <stddef.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_snapshot sqlite3_snapshot;

extern int sqlite3_snapshot_get(sqlite3 *, const char *, sqlite3_snapshot **) __attribute__((weak));
extern int sqlite3_snapshot_open(sqlite3 *, const char *, sqlite3_snapshot *) __attribute__((weak));
extern void sqlite3_snapshot_free(sqlite3_snapshot *) __attribute__((weak));

/* SQLITE_ERROR */
#define SQLFORK_NO_API 1

int sqlfork_snapshot_api(void) {
    return sqlite3_snapshot_get != NULL && sqlite3_snapshot_open != NULL && sqlite3_snapshot_free != NULL;
}

int sqlfork_snapshot_get(sqlite3 *db, const char *schema, sqlite3_snapshot **out) {
    if (!sqlfork_snapshot_api()) return SQLFORK_NO_API;
    return sqlite3_snapshot_get(db, schema, out);
}

int sqlfork_snapshot_open(sqlite3 *db, const char *schema, sqlite3_snapshot *snap) {
    if (!sqlfork_snapshot_api()) return SQLFORK_NO_API;
    return sqlite3_snapshot_open(db, schema, snap);
}

void sqlfork_snapshot_free(sqlite3_snapshot *snap) {
    if (sqlite3_snapshot_free != NULL) sqlite3_snapshot_free(snap);
}
