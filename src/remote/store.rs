//! The object store behind a remote, with a blocking face.
//!
//! `object_store` speaks S3 (SigV4, retries with backoff, multipart) and
//! the local file system (`file://`); it is async, so a [`Store`] owns a
//! small tokio runtime and every call here blocks on it. Keys are relative
//! to the remote's prefix. Errors become one sentence naming the remote,
//! never a credential (object_store never puts secrets in its errors; the
//! sentence is cut to its first line besides).

use super::creds;
use crate::error::Error;
use crate::home::RemoteConfig;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// An object's name and size, from a listing.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    /// The key relative to the remote's prefix.
    pub key: String,
    pub size: u64,
    pub modified: std::time::SystemTime,
}

/// A remote's object store.
pub(crate) struct Store {
    /// The remote's name (for messages).
    pub name: String,
    runtime: tokio::runtime::Runtime,
    inner: Arc<dyn ObjectStore>,
    prefix: String,
}

/// Why an object could not be had.
#[derive(Debug)]
pub(crate) enum Fault {
    /// It is not there.
    Missing,
    /// A conditional create found it there.
    Exists,
    /// Anything else (after retries): one sentence.
    Other(String),
}

impl Fault {
    /// The error a caller reports, for the remote `remote`.
    pub(crate) fn into_error(self, remote: &str, what: &str) -> anyhow::Error {
        match self {
            Fault::Missing => Error::RemoteUnavailable { remote: remote.into(), reason: format!("{what} is missing") },
            Fault::Exists => {
                Error::RemoteUnavailable { remote: remote.into(), reason: format!("{what} exists already") }
            }
            Fault::Other(m) => Error::RemoteUnavailable { remote: remote.into(), reason: format!("{what}: {m}") },
        }
        .into()
    }
}

fn fault(e: object_store::Error) -> Fault {
    match e {
        object_store::Error::NotFound { .. } => Fault::Missing,
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => Fault::Exists,
        other => Fault::Other(explain(&other.to_string())),
    }
}

/// An object store error as one sentence a person can act on.
fn explain(text: &str) -> String {
    let has = |s: &str| text.contains(s);
    if has("403 Forbidden") || has("SignatureDoesNotMatch") || has("InvalidAccessKeyId") || has("AccessDenied") {
        "the credentials were refused (403 Forbidden); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials and AWS_PROFILE) and the bucket's permissions".into()
    } else if has("NoSuchBucket") {
        "the bucket does not exist; create it, or fix the remote's URL (`sqlfork remote list`)".into()
    } else if has("401 Unauthorized") {
        "no credentials were accepted (401 Unauthorized); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or ~/.aws/credentials".into()
    } else if has("Connection refused") || has("error sending request") || has("dns error") || has("timed out") {
        format!("could not reach the endpoint ({}); check the remote's endpoint and the network", one_line(text))
    } else {
        one_line(text)
    }
}

/// An error as one short line: the first line, at most 300 characters.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(300).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// How many requests run at once.
pub(crate) const PARALLEL: usize = 4;

impl Store {
    /// Open the remote `name` configured as `cfg`.
    pub(crate) fn open(name: &str, cfg: &RemoteConfig) -> anyhow::Result<Store> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::failed(format!("could not start the remote runtime: {e}")))?;
        let unavailable = |reason: String| Error::RemoteUnavailable { remote: name.into(), reason };
        let (inner, prefix): (Arc<dyn ObjectStore>, String) = match super::parse_url(&cfg.url)? {
            super::Url::File(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| unavailable(format!("could not create the directory {}: {e}", dir.display())))?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| unavailable(one_line(&e.to_string())))?
                    .with_automatic_cleanup(true);
                (Arc::new(fs), String::new())
            }
            super::Url::S3 { bucket, prefix } => {
                let retry = object_store::RetryConfig {
                    backoff: object_store::BackoffConfig {
                        init_backoff: Duration::from_millis(100),
                        max_backoff: Duration::from_secs(5),
                        base: 2.0,
                    },
                    max_retries: 5,
                    retry_timeout: Duration::from_secs(120),
                };
                let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(retry);
                let file = creds::from_files();
                if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                    if let Some(c) = &file.credentials {
                        b = b.with_access_key_id(&c.access_key_id).with_secret_access_key(&c.secret_access_key);
                        if let Some(t) = &c.session_token {
                            b = b.with_token(t);
                        }
                    }
                }
                let region = cfg
                    .region
                    .clone()
                    .or_else(|| std::env::var("AWS_REGION").ok())
                    .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
                    .or(file.region.clone());
                if let Some(r) = region {
                    b = b.with_region(r);
                }
                let endpoint = cfg
                    .endpoint
                    .clone()
                    .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
                    .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
                    .or(file.endpoint.clone());
                if let Some(e) = endpoint {
                    if e.starts_with("http://") {
                        b = b.with_allow_http(true);
                    }
                    b = b.with_endpoint(e);
                }
                let s3 = b.build().map_err(|e| unavailable(one_line(&e.to_string())))?;
                (Arc::new(s3), prefix)
            }
        };
        Ok(Store { name: name.to_string(), runtime, inner, prefix })
    }

    fn key(&self, key: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(key)
        } else {
            Key::from(format!("{}/{key}", self.prefix))
        }
    }

    fn relative(&self, key: &Key) -> String {
        let k = key.as_ref();
        if self.prefix.is_empty() {
            k.to_string()
        } else {
            k.strip_prefix(&format!("{}/", self.prefix)).unwrap_or(k).to_string()
        }
    }

    /// Run a future on the store's runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// A handle to spawn uploads on.
    pub(crate) fn handle(&self) -> tokio::runtime::Handle {
        self.runtime.handle().clone()
    }

    /// Write an object (replacing one of the same name: only ever the same
    /// bytes, as names are their content's hash).
    pub(crate) fn put(&self, key: &str, data: Bytes) -> Result<(), Fault> {
        let (inner, k) = (self.inner.clone(), self.key(key));
        self.block_on(async move { inner.put(&k, PutPayload::from(data)).await }).map(|_| ()).map_err(fault)
    }

    /// A future that writes an object (for uploads in parallel).
    pub(crate) fn put_later(
        &self,
        key: &str,
        data: Bytes,
    ) -> impl std::future::Future<Output = Result<(), Fault>> + Send + 'static {
        let (inner, k) = (self.inner.clone(), self.key(key));
        async move { inner.put(&k, PutPayload::from(data)).await.map(|_| ()).map_err(fault) }
    }

    /// Write an object only if none has its name: of two racing writers
    /// exactly one succeeds, the other gets [`Fault::Exists`].
    pub(crate) fn create(&self, key: &str, data: Bytes) -> Result<(), Fault> {
        let (inner, k) = (self.inner.clone(), self.key(key));
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        self.block_on(async move { inner.put_opts(&k, PutPayload::from(data), opts).await }).map(|_| ()).map_err(fault)
    }

    /// Upload a local file as one object: one request for a small file,
    /// a multipart upload of 16 MiB parts (in parallel) for a large one.
    pub(crate) fn put_file(&self, key: &str, path: &std::path::Path) -> Result<u64, Fault> {
        use std::io::Read;
        const PART: usize = 16 << 20;
        let other = |e: std::io::Error| Fault::Other(format!("could not read {}: {e}", path.display()));
        let mut f = std::fs::File::open(path).map_err(other)?;
        let size = f.metadata().map_err(other)?.len();
        if size <= PART as u64 {
            let mut buf = Vec::with_capacity(size as usize);
            f.read_to_end(&mut buf).map_err(other)?;
            self.put(key, Bytes::from(buf))?;
            return Ok(size);
        }
        let (inner, k) = (self.inner.clone(), self.key(key));
        self.block_on(async move {
            let upload = inner.put_multipart(&k).await.map_err(fault)?;
            let mut w = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).map_err(other)?;
                if n == 0 {
                    break;
                }
                w.wait_for_capacity(2).await.map_err(fault)?;
                w.write(&buf[..n]);
            }
            w.finish().await.map_err(fault)?;
            Ok(size)
        })
    }

    /// Read a whole object, refusing one larger than `limit` bytes (a
    /// remote is untrusted input).
    pub(crate) fn get(&self, key: &str, limit: u64) -> Result<Bytes, Fault> {
        let (inner, k) = (self.inner.clone(), self.key(key));
        self.block_on(async move {
            let r = inner.get(&k).await.map_err(fault)?;
            if r.meta.size > limit {
                return Err(Fault::Other(format!("it is {} bytes, more than the {limit} it may be", r.meta.size)));
            }
            r.bytes().await.map_err(fault)
        })
    }

    /// Stream an object into the file `path` (created or truncated),
    /// refusing one larger than `limit` bytes; returns its size and the
    /// SHA-256 of its bytes. Memory stays at one chunk of the response.
    pub(crate) fn get_to_file(
        &self,
        key: &str,
        limit: u64,
        path: &std::path::Path,
    ) -> Result<(u64, super::format::Hash), Fault> {
        use sha2::Digest;
        use std::io::Write;
        let (inner, k) = (self.inner.clone(), self.key(key));
        let other = |e: std::io::Error| Fault::Other(format!("could not write {}: {e}", path.display()));
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(other)?);
        let (n, hash) = self.block_on(async move {
            let r = inner.get(&k).await.map_err(fault)?;
            if r.meta.size > limit {
                return Err(Fault::Other(format!("it is {} bytes, more than the {limit} it may be", r.meta.size)));
            }
            let mut stream = r.into_stream();
            let (mut n, mut hash) = (0u64, sha2::Sha256::new());
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(fault)?;
                n += chunk.len() as u64;
                if n > limit {
                    return Err(Fault::Other(format!("it is more than the {limit} bytes it may be")));
                }
                hash.update(&chunk);
                out.write_all(&chunk).map_err(other)?;
            }
            out.flush().map_err(other)?;
            Ok((n, hash.finalize().into()))
        })?;
        Ok((n, hash))
    }

    /// Read bytes `range` of an object.
    pub(crate) fn get_range_later(
        &self,
        key: &str,
        range: Range<u64>,
    ) -> impl std::future::Future<Output = Result<Bytes, Fault>> + Send + 'static {
        let (inner, k) = (self.inner.clone(), self.key(key));
        async move { inner.get_range(&k, range).await.map_err(fault) }
    }

    /// An object's size, or [`Fault::Missing`].
    pub(crate) fn head(&self, key: &str) -> Result<Listed, Fault> {
        let (inner, k) = (self.inner.clone(), self.key(key));
        let meta = self.block_on(async move { inner.head(&k).await }).map_err(fault)?;
        Ok(Listed { key: key.to_string(), size: meta.size, modified: meta.last_modified.into() })
    }

    /// Every object under `prefix` (a folder, without its trailing `/`).
    pub(crate) fn list(&self, prefix: &str) -> Result<Vec<Listed>, Fault> {
        let (inner, k) = (self.inner.clone(), self.key(prefix));
        let metas: Vec<object_store::ObjectMeta> =
            self.block_on(async move { inner.list(Some(&k)).try_collect().await }).map_err(fault)?;
        Ok(metas
            .into_iter()
            .map(|m| Listed { key: self.relative(&m.location), size: m.size, modified: m.last_modified.into() })
            .collect())
    }

    /// The folders directly under `prefix`.
    pub(crate) fn folders(&self, prefix: &str) -> Result<Vec<String>, Fault> {
        let (inner, k) = (self.inner.clone(), self.key(prefix));
        let r = self.block_on(async move { inner.list_with_delimiter(Some(&k)).await }).map_err(fault)?;
        Ok(r.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect())
    }

    /// Remove an object (one already gone is fine).
    pub(crate) fn delete(&self, key: &str) -> Result<(), Fault> {
        let (inner, k) = (self.inner.clone(), self.key(key));
        match self.block_on(async move { inner.delete(&k).await }) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(fault(e)),
        }
    }

    /// Remove many objects, several at once.
    pub(crate) fn delete_many(&self, keys: &[String]) -> Result<(), Fault> {
        let inner = self.inner.clone();
        let keys: Vec<Key> = keys.iter().map(|k| self.key(k)).collect();
        self.block_on(async move {
            let results: Vec<Result<(), object_store::Error>> = futures_util::stream::iter(keys)
                .map(|k| {
                    let inner = inner.clone();
                    async move { inner.delete(&k).await }
                })
                .buffer_unordered(PARALLEL * 2)
                .collect()
                .await;
            for r in results {
                match r {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(fault(e)),
                }
            }
            Ok(())
        })
    }
}
