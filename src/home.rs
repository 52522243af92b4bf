//! The home directory and `config.toml`.
//!
//! Home is `--home DIR`, else `$SQLFORK_HOME`, else the platform data
//! directory. It is created with mode 0700 and holds the registry
//! (`registry.sqlite`; `registry.toml` before it, migrated once),
//! `config.toml`, the `databases/` folder of files named by id and the
//! `claims/` folder of build claims.

use crate::error::{ConfigProblem, Error, RemoteUrlProblem};
use anyhow::Context;
use serde::Deserialize;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) const DEFAULT_NAMESPACE: &str = "local";
pub(crate) const DEFAULT_PAGE_ROWS: u64 = 10_000;

/// A resolved home directory.
#[derive(Debug, Clone)]
pub(crate) struct Home {
    root: PathBuf,
}

impl Home {
    /// Resolve the home: an explicit directory, else `$SQLFORK_HOME`, else
    /// the platform data directory.
    pub(crate) fn resolve(explicit: Option<PathBuf>) -> anyhow::Result<Self> {
        let root = match explicit {
            Some(p) => p,
            None => match crate::env::home() {
                Some(p) => PathBuf::from(p),
                None => directories::ProjectDirs::from("", "", "sqlfork")
                    .map(|d| d.data_dir().to_path_buf())
                    .ok_or_else(|| {
                        Error::failed(
                            "could not find a home directory for sqlfork; pass --home DIR or set SQLFORK_HOME",
                        )
                    })?,
            },
        };
        let root = if root.is_absolute() {
            root
        } else {
            std::env::current_dir().context("could not read the current directory")?.join(root)
        };
        Ok(Home { root })
    }

    pub(crate) fn at(root: impl Into<PathBuf>) -> Self {
        Home { root: root.into() }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }
    /// The registry: a SQLite database (see `registry::store`).
    pub(crate) fn registry_path(&self) -> PathBuf {
        self.root.join("registry.sqlite")
    }
    /// The TOML registry of earlier versions, migrated once into
    /// [`Home::registry_path`] and then renamed `registry.toml.migrated`.
    pub(crate) fn legacy_registry_path(&self) -> PathBuf {
        self.root.join("registry.toml")
    }
    pub(crate) fn lock_path(&self) -> PathBuf {
        self.root.join("registry.lock")
    }
    pub(crate) fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    pub(crate) fn databases_dir(&self) -> PathBuf {
        self.root.join("databases")
    }
    /// Build claims (`<id>.lock`, see `claim`): kept apart from `databases/`
    /// so that finding what killed processes left reads only these.
    pub(crate) fn claims_dir(&self) -> PathBuf {
        self.root.join("claims")
    }

    /// Create home (0700) and its databases folder if they are missing.
    pub(crate) fn ensure(&self) -> anyhow::Result<()> {
        for dir in [self.root.clone(), self.databases_dir(), self.claims_dir()] {
            if !dir.is_dir() {
                fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| {
                    Error::failed(format!(
                        "could not create the sqlfork home {}: {e}; pass --home with a writable directory",
                        dir.display()
                    ))
                })?;
                // `recursive` applies the umask; make sure of 0700.
                let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
            }
        }
        Ok(())
    }
}

/// A fresh home in a temporary directory (removed when the guard drops),
/// with its `databases/` folder, for unit tests.
#[cfg(test)]
pub(crate) fn temporary_home() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let home = Home::at(dir.path());
    home.ensure().expect("a writable temporary home");
    (dir, home)
}

/// `config.toml`: what a user sets once. Unknown keys are an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// Namespace for a bare DST when SRC is a path.
    pub default_namespace: Option<String>,
    /// TTL applied to new databases that do not pass `--ttl`.
    pub default_ttl: Option<String>,
    /// Rows per committed page in data copies.
    pub rows_per_page: Option<u64>,
    /// How data forks copy: the fastest method to try first ("clone", the
    /// default, then "file", "pages", "rows").
    pub copy_method: Option<String>,
    /// Mask rules applied to every data fork; relative
    /// to the home directory.
    pub mask: Option<PathBuf>,
    /// `[remotes.NAME]` (SPEC section 15).
    #[serde(default)]
    pub remotes: std::collections::BTreeMap<String, RemoteConfig>,
}

/// One remote in `config.toml`: `[remotes.NAME]` with its URL and options.
/// Never a credential: those stay where the AWS tools keep them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemoteConfig {
    /// `s3://BUCKET[/PREFIX]` or `file:///PATH`.
    pub url: String,
    #[serde(default)]
    pub region: Option<String>,
    /// An S3-compatible service's endpoint (`http://127.0.0.1:8333`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Refuse snapshots that no masked fork made.
    #[serde(default)]
    pub require_masked: bool,
}

/// How a data fork copies the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(rmcp::schemars::JsonSchema), schemars(crate = "rmcp::schemars"))]
#[serde(rename_all = "lowercase")]
pub(crate) enum CopyMethod {
    /// A clone of the source's file (copy-on-write file systems): instant.
    #[default]
    Clone,
    /// The kernel copies the source's file in resumable chunks.
    File,
    /// Page by page from one snapshot (`sqlite_dbpage`): page-exact.
    Pages,
    /// Row by row with keyset pagination, indexes built afterwards.
    Rows,
}

impl CopyMethod {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CopyMethod::Clone => "clone",
            CopyMethod::File => "file",
            CopyMethod::Pages => "pages",
            CopyMethod::Rows => "rows",
        }
    }

    /// This method, if the linked SQLite can do it: the page copy needs the
    /// `sqlite_dbpage` table (see `sqlite_optional`); without it, rows.
    pub(crate) fn available(self) -> CopyMethod {
        match self {
            CopyMethod::Pages if !crate::sqlite_optional::dbpage() => CopyMethod::Rows,
            m => m,
        }
    }
}

impl std::fmt::Display for CopyMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub default_namespace: String,
    pub default_ttl: Option<Duration>,
    pub rows_per_page: u64,
    pub copy_method: CopyMethod,
    /// `mask = "FILE"`: rules every data fork is masked with.
    pub mask: Option<PathBuf>,
    /// The remotes by name (SPEC section 15).
    pub remotes: std::collections::BTreeMap<String, RemoteConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_namespace: DEFAULT_NAMESPACE.into(),
            default_ttl: None,
            rows_per_page: DEFAULT_PAGE_ROWS,
            copy_method: CopyMethod::Clone,
            mask: None,
            remotes: Default::default(),
        }
    }
}

impl Config {
    /// Load and validate `config.toml`; a missing file is the defaults.
    pub(crate) fn load(home: &Home) -> anyhow::Result<Self> {
        let path = home.config_path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(Error::failed(format!("could not read {}: {e}", path.display())).into()),
        };
        let mut cfg = Self::parse(&text).map_err(|e| match e {
            Error::BadConfig { path: None, problem } => Error::BadConfig { path: Some(path.clone()), problem },
            e => e,
        })?;
        cfg.mask = cfg.mask.map(|m| home.root().join(m));
        Ok(cfg)
    }

    pub(crate) fn parse(text: &str) -> Result<Self, Error> {
        let bad = |problem| Error::BadConfig { path: None, problem };
        let file: ConfigFile = toml::from_str(text).map_err(|e| bad(describe_toml_error(text, &e)))?;
        let mut cfg = Config::default();
        if let Some(ns) = file.default_namespace {
            crate::address::check_part("namespace", &ns).map_err(|e| bad(ConfigProblem::DefaultNamespace(e)))?;
            cfg.default_namespace = ns;
        }
        if let Some(ttl) = file.default_ttl {
            cfg.default_ttl = Some(crate::ttl::parse_ttl(&ttl).map_err(|e| match e {
                Error::BadTtl { text, why, .. } => bad(ConfigProblem::DefaultTtl { text, why }),
                e => e,
            })?);
        }
        if let Some(rows) = file.rows_per_page {
            if !(1..=10_000_000).contains(&rows) {
                return Err(bad(ConfigProblem::RowsPerPage { rows }));
            }
            cfg.rows_per_page = rows;
        }
        if let Some(method) = file.copy_method {
            cfg.copy_method = match method.as_str() {
                "clone" => CopyMethod::Clone,
                "file" => CopyMethod::File,
                "pages" => CopyMethod::Pages.available(),
                "rows" => CopyMethod::Rows,
                other => return Err(bad(ConfigProblem::CopyMethod { method: other.to_string() })),
            };
        }
        cfg.mask = file.mask;
        for (name, remote) in file.remotes {
            crate::address::check_part("remote name", &name)
                .map_err(|e| bad(ConfigProblem::RemoteName { name: name.clone(), problem: e }))?;
            parse_remote_url(&remote.url).map(|_| ()).map_err(|e| match e {
                Error::BadRemoteUrl { url, why } => bad(ConfigProblem::RemoteUrl { name: name.clone(), url, why }),
                e => e,
            })?;
            cfg.remotes.insert(name, remote);
        }
        Ok(cfg)
    }
}

/// A TOML error as one line that points at the offending line, so that a
/// wrong value names its key (`invalid type: integer 7, expected a string`
/// alone does not say which setting is wrong).
fn describe_toml_error(text: &str, e: &toml::de::Error) -> ConfigProblem {
    let message = e.message().trim().replace('\n', " ");
    let Some(span) = e.span() else { return ConfigProblem::Toml { line: None, text: None, message } };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).map(str::trim).filter(|l| !l.is_empty()).map(str::to_string);
    ConfigProblem::Toml { line: Some(line_no), text: line, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validates_keys_and_values() {
        let c = Config::parse("default_namespace = \"team\"\ndefault_ttl = \"7d\"\nrows_per_page = 50\n").unwrap();
        assert_eq!(c.default_namespace, "team");
        assert_eq!(c.default_ttl, Some(Duration::from_secs(7 * 86400)));
        assert_eq!(c.rows_per_page, 50);
        let e = Config::parse("colour = true\n").unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        // A value of the wrong type names its key too.
        let e = Config::parse("default_namespace = \"team\"\ndefault_ttl = 7\n").unwrap_err();
        assert!(e.to_string().contains("line 2 (`default_ttl = 7`)"), "{e}");
        assert!(Config::parse("default_ttl = \"5m\"").is_err());
        assert!(Config::parse("default_namespace = \"Bad\"").is_err());
        assert!(Config::parse("rows_per_page = 0").is_err());
    }
}

/// Where a remote keeps its objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RemoteUrl {
    S3 { bucket: String, prefix: String },
    File(std::path::PathBuf),
}

/// Parse `s3://BUCKET[/PREFIX]` or `file:///PATH`.
pub(crate) fn parse_remote_url(url: &str) -> Result<RemoteUrl, Error> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(bad_url(url, RemoteUrlProblem::NoBucket));
        }
        if prefix.split('/').any(|p| p.is_empty() && !prefix.is_empty() || p == "." || p == "..") {
            return Err(bad_url(url, RemoteUrlProblem::BadPrefix));
        }
        return Ok(RemoteUrl::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() });
    }
    if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') || path.split('/').any(|p| p == "..") {
            return Err(bad_url(url, RemoteUrlProblem::NotAbsoluteFile));
        }
        return Ok(RemoteUrl::File(std::path::PathBuf::from(path)));
    }
    Err(bad_url(url, RemoteUrlProblem::UnknownScheme))
}

fn bad_url(url: &str, why: RemoteUrlProblem) -> Error {
    Error::BadRemoteUrl { url: url.to_string(), why }
}
