//! Moving a verified form's files to their final keys: every upload looked up and checked
//! against the field's rules, every destination checked, then every file stored (a failure
//! undoes the copies before it), and only then the uploads deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tempfile::TempPath;
use time::OffsetDateTime;

use super::fallback_gzip;
use super::form::Form;
use super::{refused, Finalized, StoredFile};
use crate::config::Downloads;
use crate::error::{Error, Result};
use crate::field_rules::FieldRules;
use crate::gzip::{ContentEncoding, Gzip};
use crate::keys::{self, FinalNaming, UploadKey};
use crate::s3_url;
use crate::state::AppState;
use crate::storage::ObjectInfo;
use crate::submission;

/// One file of the form on its way to its final key.
struct Move<'a> {
    field: &'a str,
    name: &'a str,
    source: Source<'a>,
    destination: String,
    info: ObjectInfo,
}

enum Source<'a> {
    /// An object the browser uploaded: copied inside S3, then deleted.
    Upload(&'a UploadKey),
    /// A file the browser posted to the signer itself: stored from disk.
    Spooled(&'a Path),
    /// Such a file gzip-compressed by the signer (`AWS_IS_GZIPPED`), from a file of its own.
    Compressed(TempPath),
}

pub(super) async fn finalize_form(state: &AppState, rules: &FieldRules, form: Form) -> Result<Finalized> {
    let file_fields: Vec<&str> = form.spooled.iter().map(|file| file.field.as_str()).collect();
    let submission = submission::check(
        form.fields,
        &file_fields,
        &state.config.uploads.path,
        &state.folders,
        OffsetDateTime::now_utc(),
    )?;
    let naming = state.config.finals.naming;
    let location = &state.config.finals.location;

    // Look every upload up before moving any, so a missing one changes nothing.
    let mut moves = Vec::new();
    for field in &submission.fields {
        for key in &field.keys {
            let info = state.storage.head(key.as_str()).await?.ok_or_else(|| {
                Error::NotFound(format!(
                    "upload {:?} was not found; it may have expired: upload the file again",
                    key.name()
                ))
            })?;
            // What S3 holds must fit the field's rules, whatever the signer signed when.
            rules.for_field(&field.name).check(key.name(), &info.content_type, info.size).map_err(refused)?;
            moves.push(Move {
                field: &field.name,
                name: key.name(),
                source: Source::Upload(key),
                destination: naming.final_key(location, key.folder_id(), key.name()),
                info,
            });
        }
    }
    for file in &form.spooled {
        // A folder id of its own, exactly as a signed upload gets one.
        let folder_id = keys::folder_id(rand::random());
        moves.push(Move {
            field: &file.field,
            name: &file.name,
            source: Source::Spooled(&file.file),
            destination: naming.final_key(location, &folder_id, &file.name),
            info: ObjectInfo {
                size: file.size,
                content_type: file.content_type.clone(),
                content_encoding: ContentEncoding::AsIs,
                crc64nvme: None,
            },
        });
    }
    check_destinations(state, naming, &moves).await?;
    for step in &mut moves {
        compress_spooled(&state.config.gzip, step).await?;
    }

    let mut etags = Vec::with_capacity(moves.len());
    for (done, step) in moves.iter().enumerate() {
        match store(state, step).await {
            Ok(etag) => etags.push(etag),
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "storing a form's file failed");
                undo(state, naming, &moves[..done]).await;
                return Err(Error::StoreFailed(format!(
                    "storing {:?} failed; nothing was stored and the uploads are still in place: submit the form again",
                    step.name
                )));
            }
        }
    }
    // Every file is stored: only now do the uploads go. A delete that fails leaves a stray
    // object in the upload folder, which its lifecycle rule removes.
    for step in &moves {
        if let Source::Upload(key) = step.source {
            if let Err(error) = state.storage.delete(key.as_str()).await {
                tracing::warn!(
                    error = format!("{error:#}"),
                    key = key.as_str(),
                    "could not delete an upload"
                );
            }
        }
    }

    let mut files: BTreeMap<String, Vec<StoredFile>> = BTreeMap::new();
    for (step, etag) in moves.iter().zip(etags) {
        files.entry(step.field.to_owned()).or_default().push(StoredFile {
            name: step.name.to_owned(),
            url: download_url(state, &step.destination).await?,
            key: step.destination.clone(),
            size: step.info.size,
            content_type: step.info.content_type.clone(),
            etag,
            // The upload's: the copy holds the same bytes.
            crc64nvme: step.info.crc64nvme.clone(),
        });
    }
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &submission.passthrough {
        fields.entry(name.clone()).or_default().push(value.clone());
    }
    let count = files.values().map(Vec::len).sum::<usize>();
    state.metrics.finalized_files.fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(files = count, "finalized uploads");
    Ok(Finalized { fields, passthrough: submission.passthrough, files })
}

/// No two files of a form go to one key, and, unless overwriting is on, none goes where an
/// object already is (a key unique per upload exists only if this very form was finalized).
async fn check_destinations(state: &AppState, naming: FinalNaming, moves: &[Move<'_>]) -> Result<()> {
    let mut destinations = BTreeSet::new();
    for step in moves {
        if !destinations.insert(step.destination.as_str()) {
            return Err(Error::BadRequest(format!(
                "two files of this form would be stored as {:?}; give them different names",
                step.destination
            )));
        }
    }
    if naming == FinalNaming::Overwrite {
        return Ok(());
    }
    for step in moves {
        if state.storage.head(&step.destination).await?.is_some() {
            return Err(Error::Conflict(format!(
                "{:?} was stored already: this form was submitted before",
                step.name
            )));
        }
    }
    Ok(())
}

/// A fallback file of a type `AWS_IS_GZIPPED` compresses goes up compressed when that makes it
/// smaller, as the widget would have sent it; finalize then reports the compressed size, the
/// object's, as an upload's.
async fn compress_spooled(gzip: &Gzip, step: &mut Move<'_>) -> Result<()> {
    let Source::Spooled(path) = step.source else { return Ok(()) };
    if !gzip.applies_to(&step.info.content_type) {
        return Ok(());
    }
    if let Some(compressed) = fallback_gzip::compress_if_smaller(path, step.info.size).await? {
        step.info.size = compressed.size;
        step.info.content_encoding = ContentEncoding::Gzip;
        step.source = Source::Compressed(compressed.file);
    }
    Ok(())
}

async fn store(state: &AppState, step: &Move<'_>) -> anyhow::Result<Option<String>> {
    let storage = &state.storage;
    match &step.source {
        Source::Upload(key) => storage.copy_object(key.as_str(), &step.destination, &step.info).await,
        Source::Spooled(path) => storage.put_file(&step.destination, path, &step.info).await,
        Source::Compressed(path) => storage.put_file(&step.destination, path, &step.info).await,
    }
}

/// Removes what a failed form stored. With keys unique per upload these objects are this
/// form's alone; an overwritten object cannot be brought back, so with `file_overwrite` the
/// copies stay.
async fn undo(state: &AppState, naming: FinalNaming, stored: &[Move<'_>]) {
    if naming == FinalNaming::Overwrite {
        return;
    }
    for step in stored {
        if let Err(error) = state.storage.delete(&step.destination).await {
            tracing::warn!(error = format!("{error:#}"), key = step.destination, "could not undo a copy");
        }
    }
}

/// django-storages' rules: a custom domain serves unsigned URLs, or CloudFront signed URLs
/// with a key; otherwise URLs of the bucket (on the public domain, if set) are presigned unless
/// `querystring_auth` is off.
async fn download_url(state: &AppState, key: &str) -> Result<String> {
    Ok(match &state.config.downloads {
        Downloads::CustomDomain { protocol, domain } => s3_url::custom_domain_url(protocol, domain, key),
        Downloads::CloudFront { protocol, domain, signer, expire } => {
            let expires = (OffsetDateTime::now_utc() + *expire).unix_timestamp();
            signer.signed_url(&s3_url::custom_domain_url(protocol, domain, key), expires.max(0) as u64)?
        }
        Downloads::Public { .. } => s3_url::object_url(&state.download_bucket_url, key),
        Downloads::Presigned { expire, .. } => state.storage.presigned_get(key, *expire).await?,
    })
}
