//! The dev store's files: one data file and one metadata file per object.
//!
//! An object lives at `<root>/<bucket>/<sha256 of its key>`, so a key such as `../../etc/passwd`
//! is just another hash: no key can name a path outside the root.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub key: String,
    pub content_type: String,
    pub size: u64,
    /// Hex MD5 is what S3 uses for single-part objects; SHA-256 is as good for a local store and
    /// already a dependency, so the ETag here is its first 16 bytes in hex.
    pub etag: String,
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

    /// A fresh path inside the store for data being received; [`Objects::commit`] moves it in.
    pub fn staging_path(&self) -> PathBuf {
        self.dir.join(format!(".incoming-{}", hex::encode(rand::random::<[u8; 12]>())))
    }

    /// Makes the staged file the object `key`, replacing any previous one.
    pub async fn commit(
        &self,
        staged: &Path,
        key: &str,
        content_type: &str,
        size: u64,
        etag: String,
    ) -> std::io::Result<Meta> {
        let meta = Meta { key: key.to_owned(), content_type: content_type.to_owned(), size, etag };
        tokio::fs::rename(staged, self.data_path(key)).await?;
        let meta_json = serde_json::to_vec(&meta).expect("metadata serializes");
        let meta_staged = self.staging_path();
        tokio::fs::write(&meta_staged, meta_json).await?;
        tokio::fs::rename(&meta_staged, self.meta_path(key)).await?;
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

    pub async fn copy(&self, from: &str, to: &str) -> std::io::Result<Option<Meta>> {
        let Some(source) = self.meta(from).await? else { return Ok(None) };
        let staged = self.staging_path();
        tokio::fs::copy(self.data_path(from), &staged).await?;
        self.commit(&staged, to, &source.content_type, source.size, source.etag).await.map(Some)
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
