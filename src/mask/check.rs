//! `--mask-check`: columns that look personal and have no rule.
//!
//! A column is flagged by its name (email, phone, name, address, birth
//! date, IP, token, password, …) or by a sample of its values (up to 200
//! non-NULL values: e-mail addresses, phone numbers, IP addresses,
//! capitalised two-word names, dates in a column named like a birth date,
//! long random-looking tokens, password hashes). A column with any rule,
//! `keep` included, is not flagged: `keep` is how a rules file says "looked
//! at, not personal".

use crate::schema::{quote_ident, SourceSchema};
use rusqlite::Connection;
use serde::Serialize;

/// One column that looks personal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub table: String,
    pub column: String,
    /// What it looks like: "email", "phone", "name", …
    pub kind: String,
    /// "name" or "content": how it was recognised.
    pub by: String,
}

const SAMPLE: i64 = 200;

/// Columns of the source (read as schema `db` of `conn`) that look personal
/// and that `rules` do not mention.
pub(crate) fn unruled(
    conn: &Connection,
    db: &str,
    schema: &SourceSchema,
    rules: Option<&super::Rules>,
) -> anyhow::Result<Vec<Finding>> {
    let ruled = |t: &str, c: &str| {
        rules.is_some_and(|r| {
            r.tables
                .iter()
                .any(|(rt, cols)| rt.eq_ignore_ascii_case(t) && cols.iter().any(|(rc, _)| rc.eq_ignore_ascii_case(c)))
        })
    };
    let mut out = Vec::new();
    // A full-text table that stores its own content is reported by its own
    // columns, never by its shadow tables' (a rule names the former).
    for t in schema.objects.iter().filter(|o| o.kind == crate::schema::Kind::Table && !o.is_internal()).filter(|o| {
        if o.is_virtual() {
            super::own_content_fts(o).is_some()
        } else {
            super::fts_of_shadow(schema, &o.name).is_none()
        }
    }) {
        for (col, hidden, _, _) in super::columns(conn, db, &t.name)? {
            if hidden != 0 || ruled(&t.name, &col) {
                continue;
            }
            let by_name = kind_by_name(&col);
            let finding = match by_name {
                Some(kind) => Some((kind, "name")),
                None => kind_by_content(conn, db, &t.name, &col)?.map(|k| (k, "content")),
            };
            if let Some((kind, by)) = finding {
                out.push(Finding { table: t.name.clone(), column: col, kind: kind.into(), by: by.into() });
            }
        }
    }
    Ok(out)
}

fn kind_by_name(col: &str) -> Option<&'static str> {
    let c = col.to_ascii_lowercase().replace(['-', ' '], "_");
    let words: Vec<&str> = c.split('_').filter(|w| !w.is_empty()).collect();
    let has = |w: &str| words.contains(&w) || c == w;
    let any = |ws: &[&str]| ws.iter().any(|w| has(w));
    if c.contains("email") || c.contains("e_mail") || any(&["mail"]) {
        Some("email")
    } else if any(&["phone", "mobile", "tel", "telephone", "fax", "msisdn", "cell"]) || c.contains("phone") {
        Some("phone")
    } else if c.contains("password") || c.contains("passwd") || any(&["pwd", "pass", "hash"]) && !has("id") {
        Some("password")
    } else if c.contains("token") || c.contains("secret") || any(&["api_key", "apikey", "key", "session"]) {
        Some("token")
    } else if any(&["ip", "ipv4", "ipv6"]) || c.ends_with("_ip") || c == "ip_address" || c == "remote_addr" {
        Some("ip address")
    } else if c.contains("birth") || any(&["dob", "birthday", "bday"]) {
        Some("birth date")
    } else if c.contains("address") || any(&["street", "postcode", "zip", "zipcode", "postal", "city"]) {
        Some("address")
    } else if any(&["ssn", "nin", "passport", "iban", "card", "cc", "tax"]) {
        Some("identity number")
    } else if any(&["name", "firstname", "lastname", "surname", "fullname", "username"])
        || c.ends_with("name") && !c.ends_with("filename") && !c.ends_with("tablename")
    {
        Some("name")
    } else {
        None
    }
}

fn kind_by_content(conn: &Connection, db: &str, table: &str, col: &str) -> anyhow::Result<Option<&'static str>> {
    let sql = format!(
        "SELECT CAST({c} AS TEXT) FROM {db}.{t} WHERE {c} IS NOT NULL AND typeof({c}) IN ('text', 'integer') LIMIT {SAMPLE}",
        c = quote_ident(col),
        t = quote_ident(table)
    );
    let mut stmt = conn.prepare(&sql)?;
    let values: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    if values.is_empty() {
        return Ok(None);
    }
    let share = |f: &dyn Fn(&str) -> bool| values.iter().filter(|v| f(v)).count() * 10 >= values.len() * 8;
    let tests: [(&'static str, Looks); 6] = [
        ("email", looks_like_email),
        ("ip address", looks_like_ip),
        ("password", looks_like_password_hash),
        ("phone", looks_like_phone),
        ("token", looks_like_token),
        ("name", looks_like_name),
    ];
    Ok(tests.iter().find(|(_, f)| share(f)).map(|(k, _)| *k))
}

/// A test of one sampled value.
type Looks = fn(&str) -> bool;

fn looks_like_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !v.contains(' ')
}

fn looks_like_ip(v: &str) -> bool {
    v.parse::<std::net::IpAddr>().is_ok()
}

fn looks_like_password_hash(v: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$argon2", "$pbkdf2", "$scrypt", "$6$", "$5$", "pbkdf2_sha256$"]
        .iter()
        .any(|p| v.starts_with(p))
}

fn looks_like_phone(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let others_ok = v.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let separated = v.chars().any(|c| " +-().".contains(c));
    others_ok && (7..=15).contains(&digits) && separated && !looks_like_date(v)
}

/// `YYYY-MM-DD` (a date, not a phone number).
fn looks_like_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4].iter().chain(&b[5..7]).chain(&b[8..10]).all(u8::is_ascii_digit)
}

fn looks_like_token(v: &str) -> bool {
    v.len() >= 24
        && !v.contains(' ')
        && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_=+/.".contains(c))
        && v.chars().any(|c| c.is_ascii_digit())
        && v.chars().any(|c| c.is_ascii_alphabetic())
}

fn looks_like_name(v: &str) -> bool {
    let words: Vec<&str> = v.split_whitespace().collect();
    (2..=3).contains(&words.len())
        && words.iter().all(|w| {
            let mut cs = w.chars();
            cs.next().is_some_and(|c| c.is_uppercase()) && cs.all(|c| c.is_lowercase() || c == '-' || c == '\'')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_look_personal() {
        assert_eq!(kind_by_name("email"), Some("email"));
        assert_eq!(kind_by_name("billing_phone"), Some("phone"));
        assert_eq!(kind_by_name("last_name"), Some("name"));
        assert_eq!(kind_by_name("date_of_birth"), Some("birth date"));
        assert_eq!(kind_by_name("last_login_ip"), Some("ip address"));
        assert_eq!(kind_by_name("password_hash"), Some("password"));
        assert_eq!(kind_by_name("total"), None);
        assert_eq!(kind_by_name("filename"), None);
    }

    #[test]
    fn contents_that_look_personal() {
        assert!(looks_like_email("a.b@example.org"));
        assert!(looks_like_phone("+1 (555) 010-9999"));
        assert!(!looks_like_phone("2026-01-01"));
        assert!(looks_like_ip("10.0.0.1"));
        assert!(looks_like_name("Grace Hopper"));
        assert!(!looks_like_name("Widget"));
        assert!(looks_like_token("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
    }
}
