//! Credentials where the AWS tools keep them.
//!
//! `object_store` takes keys from the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and instance roles, but
//! not from `~/.aws/credentials` and `~/.aws/config`. This reads the
//! profile `AWS_PROFILE` (else `default`) from those two INI files: its
//! keys, region and `endpoint_url`. Nothing read here is ever written to
//! the home or printed.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Keys from a credentials file.
#[derive(Clone, Default)]
pub(crate) struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

/// What the files say for the profile.
#[derive(Debug, Clone, Default)]
pub(crate) struct FromFiles {
    pub credentials: Option<Keys>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// Sections of an INI file: `[name]` → key → value (keys lowercased).
fn parse_ini(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.entry(section.clone()).or_default().insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

fn aws_dir() -> Option<PathBuf> {
    crate::env::user_home().map(|h| PathBuf::from(h).join(".aws"))
}

/// The profile's settings from `~/.aws/credentials` and `~/.aws/config`
/// (or `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`).
pub(crate) fn from_files() -> FromFiles {
    let profile = crate::env::aws("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let read = |var: &str, name: &str| {
        let path = crate::env::aws(var).map(PathBuf::from).or_else(|| aws_dir().map(|d| d.join(name)))?;
        std::fs::read_to_string(path).ok().map(|t| parse_ini(&t))
    };
    let creds = read("AWS_SHARED_CREDENTIALS_FILE", "credentials").unwrap_or_default();
    let config = read("AWS_CONFIG_FILE", "config").unwrap_or_default();
    let config_section = if profile == "default" { "default".to_string() } else { format!("profile {profile}") };
    resolve(creds.get(&profile), config.get(&config_section))
}

fn resolve(creds: Option<&BTreeMap<String, String>>, config: Option<&BTreeMap<String, String>>) -> FromFiles {
    let get = |k: &str| creds.and_then(|c| c.get(k)).or_else(|| config.and_then(|c| c.get(k))).cloned();
    let credentials = match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => {
            Some(Keys { access_key_id: id, secret_access_key: secret, session_token: get("aws_session_token") })
        }
        _ => None,
    };
    FromFiles { credentials, region: get("region"), endpoint: get("endpoint_url") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_profile_from_both_files() {
        let creds = parse_ini(
            "[default]\naws_access_key_id = AK\naws_secret_access_key=SECRET\n# c\n[other]\naws_access_key_id=O\n",
        );
        let config = parse_ini("[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:9000\n");
        let f = resolve(creds.get("default"), config.get("default"));
        let k = f.credentials.unwrap();
        assert_eq!((k.access_key_id.as_str(), k.secret_access_key.as_str()), ("AK", "SECRET"));
        assert_eq!(f.region.as_deref(), Some("eu-west-1"));
        assert_eq!(f.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(!format!("{k:?}").contains("SECRET"), "never printed");
        // A profile with half its keys has none.
        assert!(resolve(creds.get("other"), None).credentials.is_none());
    }
}
