//! The dev store's multipart uploads on disk, under `<root>/<bucket>/.uploads/<upload id>/`:
//! `upload.json` (the key, and what the object will be stored with), and for each part a data
//! file and its record `part-00001.json`, which names the data file. A part arrives in a file of
//! its own and becomes current with one rename of its record, so a part sent again replaces the
//! earlier one atomically.
//!
//! Completing or aborting first renames the upload's directory away (claims it): from then on
//! the upload id names nothing, and parts still arriving for it find no directory to land in.
//! Upload ids are checked to be ours ([`is_upload_id`]) before they become a path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::multipart::{is_upload_id, new_upload_id, StoredPart, UploadChecksum, UploadSummary};
use super::staging::Staged;
use crate::whole_checksum::Crc64Nvme;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadMeta {
    pub key: String,
    pub content_type: String,
    /// Headers the object will be stored with: see [`super::kept_headers`].
    pub headers: Vec<(String, String)>,
    pub initiated_ms: i64,
    #[serde(default)]
    pub checksum: UploadChecksum,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartRecord {
    number: u32,
    etag: String,
    size: u64,
    last_modified_ms: i64,
    /// The part's CRC-64/NVME, which completion joins into the object's.
    #[serde(default)]
    crc64nvme: Option<u64>,
    /// The data file's name, in the upload's directory.
    data: String,
}

const UPLOAD_FILE: &str = "upload.json";

#[derive(Debug, Clone)]
pub struct Uploads {
    dir: PathBuf,
}

/// An upload taken out of the listing to be completed or aborted.
pub struct Claimed {
    dir: PathBuf,
    original: PathBuf,
}

fn not_found(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::NotFound
}

fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// The time an upload begins, in milliseconds: now, or one later than the last upload this
/// process began if the clock has not moved since. Upload ids sort by it, and S3 lists the
/// uploads of one key in the order they began.
pub fn initiation_ms() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now_ms();
    let mut last = LAST.load(Relaxed);
    loop {
        let next = now.max(last.saturating_add(1));
        match LAST.compare_exchange(last, next, Relaxed, Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

impl Uploads {
    pub fn open(bucket_dir: &Path) -> std::io::Result<Uploads> {
        let dir = bucket_dir.join(".uploads");
        std::fs::create_dir_all(&dir)?;
        Ok(Uploads { dir })
    }

    /// The upload's directory, if `id` could be one of ours.
    fn upload_dir(&self, id: &str) -> Option<PathBuf> {
        is_upload_id(id).then(|| self.dir.join(id))
    }

    /// Writes `contents` to `path` through a staged file, so readers see all or nothing.
    async fn write_atomically(&self, path: &Path, contents: &[u8]) -> std::io::Result<()> {
        Staged::write(&self.dir, contents).await?.place(path).await
    }

    /// Starts an upload and returns its id.
    pub async fn create(&self, meta: &UploadMeta) -> std::io::Result<String> {
        let id = new_upload_id(meta.initiated_ms, rand::random());
        let dir = self.dir.join(&id);
        tokio::fs::create_dir(&dir).await?;
        let json = serde_json::to_vec(meta).expect("upload metadata serializes");
        self.write_atomically(&dir.join(UPLOAD_FILE), &json).await?;
        Ok(id)
    }

    /// The upload `id`, if it is in progress.
    pub async fn get(&self, id: &str) -> std::io::Result<Option<UploadMeta>> {
        let Some(dir) = self.upload_dir(id) else { return Ok(None) };
        read_meta(&dir).await
    }

    /// Makes the staged file part `number` of upload `id`, replacing any earlier one. `None`
    /// when the upload is no longer in progress; the staged file is then removed.
    pub async fn put_part(
        &self,
        id: &str,
        number: u32,
        staged: Staged,
        etag: String,
        size: u64,
        crc64nvme: Crc64Nvme,
    ) -> std::io::Result<Option<StoredPart>> {
        let Some(dir) = self.upload_dir(id) else { return Ok(None) };
        let data = format!("part-{number:05}-{}.data", random_hex());
        match staged.place(&dir.join(&data)).await {
            Ok(()) => {}
            Err(error) if not_found(&error) => return Ok(None),
            Err(error) => return Err(error),
        }
        let record =
            PartRecord { number, etag, size, last_modified_ms: now_ms(), crc64nvme: Some(crc64nvme.0), data };
        let json = serde_json::to_vec(&record).expect("part record serializes");
        match self.write_atomically(&dir.join(format!("part-{number:05}.json")), &json).await {
            Ok(()) => Ok(Some(stored(&record))),
            // Claimed meanwhile: the data file went with the directory.
            Err(error) if not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The parts of upload `id` by number, or `None` if it is not in progress.
    pub async fn parts(&self, id: &str) -> std::io::Result<Option<Vec<StoredPart>>> {
        let Some(dir) = self.upload_dir(id) else { return Ok(None) };
        match read_parts(&dir).await {
            Ok(parts) => Ok(Some(parts.into_iter().map(|(part, _)| part).collect())),
            Err(error) if not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Takes upload `id` out of progress to complete or abort it; `None` if it was not in
    /// progress (never started, or already claimed).
    pub async fn claim(&self, id: &str) -> std::io::Result<Option<Claimed>> {
        let Some(original) = self.upload_dir(id) else { return Ok(None) };
        let dir = self.dir.join(format!(".claimed-{id}-{}", random_hex()));
        match tokio::fs::rename(&original, &dir).await {
            Ok(()) => Ok(Some(Claimed { dir, original })),
            Err(error) if not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every upload in progress.
    pub async fn list(&self) -> std::io::Result<Vec<UploadSummary>> {
        let mut uploads = Vec::new();
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            let Some(id) = name.to_str().filter(|name| is_upload_id(name)) else { continue };
            // An upload claimed since the directory was read is simply not listed.
            if let Some(meta) = read_meta(&entry.path()).await? {
                uploads.push(UploadSummary {
                    key: meta.key,
                    upload_id: id.to_owned(),
                    initiated_ms: meta.initiated_ms,
                });
            }
        }
        Ok(uploads)
    }
}

impl Claimed {
    /// The parts, by number, with their data files.
    pub async fn parts(&self) -> std::io::Result<Vec<(StoredPart, PathBuf)>> {
        read_parts(&self.dir).await
    }

    /// Puts the upload back in progress (completing it failed).
    pub async fn release(self) -> std::io::Result<()> {
        tokio::fs::rename(&self.dir, &self.original).await
    }

    /// Deletes the upload and all its parts.
    pub async fn remove(self) -> std::io::Result<()> {
        tokio::fs::remove_dir_all(&self.dir).await
    }
}

async fn read_meta(dir: &Path) -> std::io::Result<Option<UploadMeta>> {
    match tokio::fs::read(dir.join(UPLOAD_FILE)).await {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(error) if not_found(&error) => Ok(None),
        Err(error) => Err(error),
    }
}

fn stored(record: &PartRecord) -> StoredPart {
    StoredPart {
        number: record.number,
        etag: record.etag.clone(),
        size: record.size,
        last_modified_ms: record.last_modified_ms,
        crc64nvme: record.crc64nvme.map(Crc64Nvme),
    }
}

async fn read_parts(dir: &Path) -> std::io::Result<Vec<(StoredPart, PathBuf)>> {
    let mut parts = Vec::new();
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with("part-") && name.ends_with(".json")) {
            continue;
        }
        let bytes = match tokio::fs::read(entry.path()).await {
            Ok(bytes) => bytes,
            Err(error) if not_found(&error) => continue,
            Err(error) => return Err(error),
        };
        let Ok(record) = serde_json::from_slice::<PartRecord>(&bytes) else { continue };
        parts.push((stored(&record), dir.join(&record.data)));
    }
    parts.sort_by_key(|(part, _)| part.number);
    Ok(parts)
}
