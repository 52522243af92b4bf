//! The baseline `scripts/bench remote` measures sqlfork's push and pull
//! against: the same client (`object_store`'s S3) moving a whole file as
//! one object — a multipart upload of 16 MiB parts, four in flight, and one
//! streamed GET.
//!
//!     s3_baseline put FILE BUCKET KEY
//!     s3_baseline get BUCKET KEY FILE
//!
//! Credentials and the endpoint come from the AWS environment, as for
//! sqlfork.

use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStoreExt, WriteMultipart};
use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store =
        |bucket: &str| AmazonS3Builder::from_env().with_bucket_name(bucket).with_allow_http(true).build().unwrap();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["put", file, bucket, key] => {
            let s = store(bucket);
            let mut f = std::fs::File::open(file).unwrap();
            rt.block_on(async {
                let upload = s.put_multipart(&Path::from(*key)).await.unwrap();
                let mut w = WriteMultipart::new_with_chunk_size(upload, 16 << 20);
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = f.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    w.wait_for_capacity(4).await.unwrap();
                    w.write(&buf[..n]);
                }
                w.finish().await.unwrap();
            });
        }
        ["get", bucket, key, file] => {
            let s = store(bucket);
            let mut out = std::fs::File::create(file).unwrap();
            rt.block_on(async {
                let mut stream = s.get(&Path::from(*key)).await.unwrap().into_stream();
                while let Some(chunk) = stream.next().await {
                    out.write_all(&chunk.unwrap()).unwrap();
                }
            });
            out.sync_all().unwrap();
        }
        _ => {
            eprintln!("usage: s3_baseline put FILE BUCKET KEY | get BUCKET KEY FILE");
            std::process::exit(2);
        }
    }
}
