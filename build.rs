//! Compiles the small C shim that binds SQLite's optional snapshot API
//! weakly (see csrc/sqlite_optional.c), so that sqlfork links whether or
//! not the bundled SQLite was built with SQLITE_ENABLE_SNAPSHOT.

fn main() {
    println!("cargo:rerun-if-changed=csrc/sqlite_optional.c");
    cc::Build::new().file("csrc/sqlite_optional.c").warnings(true).compile("sqlfork_sqlite_optional");
}
