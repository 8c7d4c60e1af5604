//! The dev store's files: one data file and one metadata file per object.
//!
//! An object lives at `<root>/<bucket>/<sha256 of its key>`, so a key such as `../../etc/passwd`
//! is just another hash: no key can name a path outside the root.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::staging::Staged;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub key: String,
    pub content_type: String,
    pub size: u64,
    /// S3's ETag, unquoted: the hex MD5 of the bytes, or for an object completed from parts
    /// `<hex MD5 of the parts' MD5s>-<number of parts>`.
    pub etag: String,
    /// Headers the object was stored with and returns on GET: see [`kept_headers`].
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The whole-object CRC-64/NVME (base64) of an object completed from an upload created
    /// with it, which HEAD and GET give with `x-amz-checksum-mode: ENABLED`; a copy keeps it.
    #[serde(default)]
    pub crc64nvme: Option<String>,
}

/// The request headers (or POST form fields) S3 keeps with an object, lower-cased.
pub fn kept_headers<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    const KEPT: [&str; 5] =
        ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];
    pairs
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .filter(|(name, _)| KEPT.contains(&name.as_str()) || name.starts_with("x-amz-meta-"))
        .map(|(name, value)| (name, value.to_owned()))
        .collect()
}

/// What a copy is stored with (CopyObject's `x-amz-metadata-directive`).
#[derive(Debug, Clone)]
pub enum MetadataDirective {
    /// The source's type and headers (`COPY`, S3's default).
    Copy,
    /// The type and headers of the copy request alone (`REPLACE`): what it leaves out, the copy
    /// does not have.
    Replace { content_type: String, headers: Vec<(String, String)> },
}

#[derive(Debug, Clone)]
pub struct Objects {
    dir: PathBuf,
}

impl Objects {
    pub fn open(root: &Path, bucket: &str) -> std::io::Result<Objects> {
        let dir = root.join(bucket);
        std::fs::create_dir_all(&dir)?;
        Ok(Objects { dir })
    }

    fn data_path(&self, key: &str) -> PathBuf {
        self.dir.join(hex::encode(Sha256::digest(key.as_bytes())))
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.data_path(key).with_extension("json")
    }

    /// A new file inside the store for data being received; [`Objects::commit`] moves it in.
    pub fn stage(&self) -> std::io::Result<(Staged, tokio::fs::File)> {
        Staged::create(&self.dir)
    }

    /// Makes the staged file the object `key`, replacing any previous one.
    pub async fn commit(&self, staged: Staged, meta: Meta) -> std::io::Result<Meta> {
        let key = meta.key.as_str();
        staged.place(&self.data_path(key)).await?;
        let meta_json = serde_json::to_vec(&meta).expect("metadata serializes");
        Staged::write(&self.dir, &meta_json).await?.place(&self.meta_path(key)).await?;
        Ok(meta)
    }

    pub async fn meta(&self, key: &str) -> std::io::Result<Option<Meta>> {
        match tokio::fs::read(self.meta_path(key)).await {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    pub fn data(&self, key: &str) -> PathBuf {
        self.data_path(key)
    }

    pub async fn copy(
        &self,
        from: &str,
        to: &str,
        directive: MetadataDirective,
    ) -> std::io::Result<Option<Meta>> {
        let Some(source) = self.meta(from).await? else { return Ok(None) };
        let source = match directive {
            MetadataDirective::Copy => source,
            MetadataDirective::Replace { content_type, headers } => Meta { content_type, headers, ..source },
        };
        // Through a staged file of our own rather than a file system copy, which would carry
        // the source's mode over.
        let (staged, mut target) = self.stage()?;
        let mut data = tokio::fs::File::open(self.data_path(from)).await?;
        tokio::io::copy(&mut data, &mut target).await?;
        target.flush().await?;
        self.commit(staged, Meta { key: to.to_owned(), ..source }).await.map(Some)
    }

    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        for path in [self.meta_path(key), self.data_path(key)] {
            match tokio::fs::remove_file(path).await {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}
