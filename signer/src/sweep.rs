//! `s3file-signer sweep`: aborts multipart uploads under the upload folder that browsers
//! started and never finished, so their parts stop being billed. Run it from cron; a bucket
//! lifecycle rule (AbortIncompleteMultipartUpload) does the same where the store has them.

use std::time::{Duration, SystemTime};

use crate::state::AppState;
use crate::storage::PendingUpload;

/// Uploads started before `cutoff`; one without a start time is left alone.
pub fn stale(uploads: Vec<PendingUpload>, cutoff: SystemTime) -> Vec<PendingUpload> {
    uploads.into_iter().filter(|upload| upload.initiated.is_some_and(|at| at < cutoff)).collect()
}

/// Aborts the uploads under the upload folder older than `age`; returns how many, and the
/// first failure if any (the others are still tried).
pub async fn sweep(state: &AppState, age: Duration) -> anyhow::Result<usize> {
    let prefix = format!("{}/", state.config.uploads.path.trim_matches('/'));
    let cutoff = SystemTime::now() - age;
    let uploads = stale(state.storage.pending_uploads(&prefix).await?, cutoff);
    let mut first_error = None;
    let mut aborted = 0;
    for upload in uploads {
        match state.storage.abort_multipart(&upload.key, &upload.upload_id).await {
            Ok(()) => {
                aborted += 1;
                tracing::info!(key = %upload.key, "aborted a stale multipart upload");
            }
            Err(error) => {
                tracing::warn!(key = %upload.key, error = format!("{error:#}"), "could not abort");
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) => Err(error.context(format!("{aborted} aborted before the failure"))),
        None => Ok(aborted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uploads_older_than_the_cutoff_are_stale() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let upload =
            |key: &str, initiated| PendingUpload { key: key.into(), upload_id: "id".into(), initiated };
        let uploads = vec![
            upload("old", Some(now - Duration::from_secs(7200))),
            upload("new", Some(now - Duration::from_secs(60))),
            upload("unknown", None),
        ];
        let stale = stale(uploads, now - Duration::from_secs(3600));
        assert_eq!(stale.iter().map(|u| u.key.as_str()).collect::<Vec<_>>(), ["old"]);
    }
}
