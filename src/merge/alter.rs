//! What `ALTER TABLE … ADD COLUMN` did to a table: the column definitions
//! the fork's table SQL adds to the base's, when that is all that changed
//! (a table rebuilt any other way is a schema conflict).

/// The column definitions the fork's table SQL adds to the base's, when
/// that is all that changed (what `ALTER TABLE … ADD COLUMN` writes: the
/// base's SQL with `, coldef` inserted).
pub(super) fn added_columns(base: &str, fork: &str) -> Option<Vec<String>> {
    let (b, f) = (base.as_bytes(), fork.as_bytes());
    let mut pre = 0;
    while pre < b.len() && pre < f.len() && b[pre] == f[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < b.len() - pre && suf < f.len() - pre && b[b.len() - 1 - suf] == f[f.len() - 1 - suf] {
        suf += 1;
    }
    if pre + suf != b.len() {
        return None; // the base's text is not all kept
    }
    let mut mid = &fork[pre..fork.len() - suf];
    // The common prefix may have eaten the comma's leading spaces, or the
    // suffix a trailing part of the last definition: move to a comma.
    let mut start = pre;
    while !mid.trim_start().starts_with(',') {
        let c = fork[..start].chars().next_back()?;
        start -= c.len_utf8();
        mid = &fork[start..fork.len() - suf];
        if start + 64 < pre {
            return None;
        }
    }
    let body = mid.trim_start().strip_prefix(',')?;
    let cols = split_top_level(body)?;
    (!cols.is_empty() && cols.iter().all(|c| !c.is_empty())).then_some(cols)
}

/// Split at commas outside parentheses, quotes and brackets.
fn split_top_level(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut cur) = (0i32, None::<char>, String::new());
    for c in s.chars() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q || (q == '[' && c == ']') {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' | '[' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '(' => {
                    depth += 1;
                    cur.push(c);
                }
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return None;
                    }
                    cur.push(c);
                }
                ',' if depth == 0 => out.push(std::mem::take(&mut cur).trim().to_string()),
                _ => cur.push(c),
            },
        }
    }
    if depth != 0 || quote.is_some() {
        return None;
    }
    out.push(cur.trim().to_string());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn added_columns_are_found_in_the_sql_alter_table_writes() {
        assert_eq!(
            added_columns("CREATE TABLE t(a, b)", "CREATE TABLE t(a, b, c TEXT DEFAULT 'x,y')"),
            Some(vec!["c TEXT DEFAULT 'x,y'".to_string()])
        );
        assert_eq!(
            added_columns("CREATE TABLE t(a INT, b INT)", "CREATE TABLE t(a INT, b INT, c INT, d REAL CHECK (d > 0))"),
            Some(vec!["c INT".to_string(), "d REAL CHECK (d > 0)".to_string()])
        );
        assert_eq!(added_columns("CREATE TABLE t(a, b)", "CREATE TABLE t(a, c)"), None);
        assert_eq!(added_columns("CREATE TABLE t(a, b)", "CREATE TABLE t(b, a)"), None);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(a INTEGER PRIMARY KEY, b) ; ALTER TABLE t ADD COLUMN c TEXT NOT NULL DEFAULT 'q'; ALTER TABLE t ADD COLUMN d")
            .unwrap();
        let sql: String = conn.query_row("SELECT sql FROM sqlite_master", [], |r| r.get(0)).unwrap();
        assert_eq!(
            added_columns("CREATE TABLE t(a INTEGER PRIMARY KEY, b)", &sql),
            Some(vec!["c TEXT NOT NULL DEFAULT 'q'".to_string(), "d".to_string()])
        );
    }
}
