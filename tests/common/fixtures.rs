//! Shared fixtures: small sources built from SQL that several suites use.

use super::env::Env;
use std::path::PathBuf;

/// A small source with a table, an index, a view and a trigger, and rows.
pub const ORDERS_SQL: &str = "
    PRAGMA user_version = 7;
    CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id), total REAL);
    CREATE INDEX orders_customer ON orders(customer);
    CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
    CREATE TRIGGER orders_audit AFTER INSERT ON orders BEGIN SELECT 1; END;
    INSERT INTO customers VALUES (1, 'ada'), (2, 'bob');
    INSERT INTO orders VALUES (1, 1, 50.0), (2, 2, 150.0);
";

impl Env {
    /// `acme/orders` imported from `orders.db` (made from [`ORDERS_SQL`]);
    /// returns the file.
    pub fn with_orders(&self) -> PathBuf {
        let src = self.db("orders.db", ORDERS_SQL);
        self.run(&["db", "import", "acme/orders", src.to_str().unwrap()]).ok();
        src
    }
}
