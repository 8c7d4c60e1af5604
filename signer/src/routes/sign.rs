//! `POST /s3file/sign`: upload instructions for the files of one form field.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::JsonBody;
use crate::config::UploadMethod;
use crate::error::{Error, Result};
use crate::field_rules::{self, Refusal};
use crate::gzip::{ContentEncoding, Gzip};
use crate::keys;
use crate::multipart_ticket::{self, Ticket, WholeChecksum};
use crate::part_plan::{PartPlan, PartsState};
use crate::post_policy::{sign_post, PostPolicy};
use crate::state::{AppState, PostUrl};
use crate::storage::PresignedPut;
use crate::upload_checksum::UploadChecksum;

/// Most files one request may sign; bounds the work a single request can ask for.
pub const MAX_FILES: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    pub field: String,
    pub files: Vec<FileDescription>,
    /// The input's `accept` attribute: files that do not match are refused. It only narrows the
    /// signer's own rule for the field (`S3FILE_FIELDS`, `S3FILE_ACCEPT`).
    #[serde(default)]
    pub accept: String,
    /// A page's own size limit, in bytes; the signer's limit for the field still applies.
    #[serde(default)]
    pub max_size: Option<u64>,
    /// A folder this field signed before, to carry on its unfinished multipart uploads in
    /// (after a reload): its files' keys and upload ids stay valid.
    #[serde(default)]
    pub resume: Option<ResumeFolder>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeFolder {
    pub folder: String,
    pub signature: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDescription {
    pub name: String,
    pub size: u64,
    #[serde(rename = "type", default)]
    pub content_type: String,
    /// The multipart upload this file had in the resumed folder.
    #[serde(rename = "uploadId", default)]
    pub upload_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignResponse {
    pub field: String,
    pub signature: String,
    /// The checksum every upload of the answer carries (PROTOCOL.md, "Upload").
    pub checksum: UploadChecksum,
    pub files: Vec<SignedUpload>,
}

/// One signed file: the name the signer accepted, its key, and how it goes up.
#[derive(Debug, Serialize)]
pub struct SignedUpload {
    pub name: String,
    pub key: String,
    #[serde(flatten)]
    pub upload: Upload,
}

/// How one file goes up (PROTOCOL.md, "Upload"). On the wire its members sit beside
/// `name` and `key`: `url` + `fields`, `put`, or `multipart`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Upload {
    /// A POST policy: `fields` in order, then the checksum's field (if any) and the file, to `url`;
    /// `gzip` when the file may go up gzip-compressed instead (`AWS_IS_GZIPPED`).
    Post {
        url: String,
        fields: Map<String, Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        gzip: Option<GzipPost>,
    },
    /// A presigned PUT, for stores without POST.
    Put { put: PresignedPut },
    /// A multipart upload the browser sends the parts of.
    Multipart { multipart: MultipartStart },
}

/// The fields of the same POST for the file's gzip-compressed bytes, which the browser sends in
/// place of `fields` when they are fewer than the file's (PROTOCOL.md, "Upload").
#[derive(Debug, Serialize)]
pub struct GzipPost {
    pub fields: Map<String, Value>,
}

/// A multipart upload the browser sends the parts of: it asks `/s3file/parts` for part URLs
/// and `/s3file/complete` to finish, showing the ticket each time.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultipartStart {
    pub upload_id: String,
    pub part_size: u64,
    pub part_count: u64,
    pub ticket: String,
    /// Parts S3 already holds (a resumed upload): only the others need sending.
    pub done: Vec<u64>,
}

/// Checks a form field name: the widget sends the input's `name`.
fn validate_field(field: &str) -> Result<()> {
    field_rules::check_field_name(field).map_err(Error::BadRequest)
}

/// The placeholder S3 replaces with the posted file's name in a POST's `key` field.
const FILENAME_PLACEHOLDER: &str = "${filename}";

/// A MIME type as browsers report it; empty (unknown) becomes `application/octet-stream`.
fn content_type(raw: &str) -> Result<String> {
    if raw.is_empty() {
        return Ok("application/octet-stream".to_owned());
    }
    let valid =
        raw.len() <= 255 && raw.contains('/') && raw.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if !valid {
        return Err(Error::BadRequest(format!("{raw:?} is not a media type")));
    }
    Ok(raw.to_owned())
}

pub async fn sign(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SignRequest>,
) -> Result<Json<SignResponse>> {
    validate_field(&request.field)?;
    if request.files.is_empty() {
        return Err(Error::BadRequest("`files` is empty: nothing to sign".into()));
    }
    if request.files.len() > MAX_FILES {
        return Err(Error::PayloadTooLarge(format!(
            "{} files in one request; at most {MAX_FILES} are signed at once",
            request.files.len()
        )));
    }
    let rule = state
        .config
        .rules
        .for_field(&request.field)
        .narrowed(&request.accept, request.max_size)
        .map_err(|why| Error::BadRequest(format!("`accept`: {why}")))?;
    let mut planned = Vec::with_capacity(request.files.len());
    for file in &request.files {
        let name = keys::sanitize_file_name(&file.name)
            .map_err(|error| Error::BadRequest(format!("file {:?}: {error}", file.name)))?;
        if name.contains(FILENAME_PLACEHOLDER) {
            // A POST's key is pinned exactly, and S3 would still replace this in it.
            return Err(Error::BadRequest(format!(
                "{name}: a file name may not contain {FILENAME_PLACEHOLDER}; rename the file"
            )));
        }
        rule.check(&name, &file.content_type, file.size).map_err(|refusal| match refusal {
            Refusal::TooLarge(message) => Error::PayloadTooLarge(message),
            Refusal::NotAccepted(message) => Error::BadRequest(message),
        })?;
        planned.push((name, file.size, content_type(&file.content_type)?));
    }

    let now = OffsetDateTime::now_utc();
    let resumed =
        request.resume.as_ref().and_then(|resume| resumable_folder(&state, &request.field, resume, now));
    let folder = resumed
        .clone()
        .unwrap_or_else(|| keys::join(&[&state.config.uploads.path, &keys::folder_id(rand::random())]));
    let signature = state.folders.sign(&request.field, &folder, now + state.config.uploads.signature_expire);
    let key_prefix = format!("{folder}/");
    let mut files = Vec::with_capacity(planned.len());
    let mut post = None;
    for (file, (name, size, content_type)) in request.files.iter().zip(planned) {
        let key = format!("{key_prefix}{name}");
        let upload = if size > state.config.uploads.multipart_threshold {
            let previous = resumed.as_ref().and(file.upload_id.as_deref());
            let multipart = start_multipart(&state, &key, size, &content_type, previous, now).await?;
            Upload::Multipart { multipart }
        } else if state.config.uploads.method == UploadMethod::Put {
            let expires_in = state.config.uploads.upload_expire;
            Upload::Put { put: state.storage.presign_put(&key, &content_type, size, expires_in).await? }
        } else {
            if post.is_none() {
                post = Some(PostSigning::new(&state, &headers, now).await?);
            }
            post.as_ref().expect("just set").sign(&state, &key, size, &content_type)
        };
        files.push(SignedUpload { name, key, upload });
    }
    state.metrics.signed_files.fetch_add(files.len() as u64, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(field = %request.field, %folder, files = files.len(), resumed = resumed.is_some(), "signed uploads");
    let checksum = state.config.uploads.checksum;
    Ok(Json(SignResponse { field: request.field, signature, checksum, files }))
}

/// The folder to resume in, if its signature still holds for this field; otherwise the
/// browser starts over in a fresh folder.
fn resumable_folder(
    state: &AppState,
    field: &str,
    resume: &ResumeFolder,
    now: OffsetDateTime,
) -> Option<String> {
    let shaped = keys::UploadKey::parse(&state.config.uploads.path, &format!("{}/x", resume.folder)).is_ok();
    match state.folders.verify(&resume.signature, field, &resume.folder, now) {
        Ok(()) if shaped => Some(resume.folder.clone()),
        outcome => {
            tracing::info!(folder = %resume.folder, ?outcome, "not resuming: starting a fresh folder");
            None
        }
    }
}

/// Starts a multipart upload, or carries on `previous` when S3 still has it and its parts fit
/// this file.
async fn start_multipart(
    state: &AppState,
    key: &str,
    size: u64,
    content_type: &str,
    previous: Option<&str>,
    now: OffsetDateTime,
) -> Result<MultipartStart> {
    let plan = PartPlan::new(size, state.config.uploads.part_size).map_err(Error::PayloadTooLarge)?;
    let mut resumed = None;
    if let Some(upload_id) = previous {
        match state.storage.list_parts(key, upload_id).await? {
            Some(parts) => match plan.check(&parts) {
                PartsState::Mismatch(why) => {
                    tracing::info!(%key, %why, "not resuming a multipart upload of another file");
                    state.storage.abort_multipart(key, upload_id).await?;
                }
                PartsState::Missing(_) | PartsState::Complete(_) => {
                    resumed = Some((upload_id.to_owned(), parts.iter().map(|part| part.number).collect()));
                }
            },
            None => tracing::info!(%key, "the multipart upload to resume is gone: starting over"),
        }
    }
    // A resumed upload takes no whole-object checksum: it may have been created without one.
    let (upload_id, done, whole_checksum) = match resumed {
        Some((upload_id, done)) => (upload_id, done, WholeChecksum::None),
        None => {
            let whole_checksum = state.config.uploads.checksum.whole_checksum();
            let upload_id = state.storage.create_multipart(key, content_type, whole_checksum).await?;
            (upload_id, Vec::new(), whole_checksum)
        }
    };
    let ticket = Ticket { key: key.to_owned(), upload_id: upload_id.clone(), plan, whole_checksum };
    let expires_at = now + state.config.uploads.signature_expire;
    Ok(MultipartStart {
        ticket: multipart_ticket::issue(&state.folders, &ticket, expires_at),
        upload_id,
        part_size: plan.part_size,
        part_count: plan.count(),
        done,
    })
}

/// What every POST policy of one request shares.
struct PostSigning {
    credentials: crate::sigv4::Credentials,
    url: String,
    expires_at: OffsetDateTime,
    extra_fields: Vec<(String, String)>,
    now: OffsetDateTime,
}

impl PostSigning {
    async fn new(state: &AppState, headers: &HeaderMap, now: OffsetDateTime) -> Result<PostSigning> {
        Ok(PostSigning {
            credentials: state.credentials.signing_credentials().await?,
            url: match state.post_url {
                PostUrl::Bucket => state.bucket_url.clone(),
                PostUrl::SameHost => same_host_url(headers, state),
            },
            expires_at: now + state.config.uploads.upload_expire,
            extra_fields: state.storage.parameters.upload_fields(),
            now,
        })
    }

    /// The POST policy of exactly this key, type and size, and its gzip sibling if the file
    /// gets one.
    fn sign(&self, state: &AppState, key: &str, size: u64, content_type: &str) -> Upload {
        let policy = PostPolicy {
            bucket: &state.storage.bucket,
            // The exact key: no other name, in this folder or elsewhere, can ride on the policy.
            key,
            content_type,
            // Exactly the announced size: a different file cannot ride on this policy.
            content_length: size..=size,
            expires_at: self.expires_at,
            extra_fields: &self.extra_fields,
            checksum_field: state.config.uploads.checksum.post_field(),
            content_encoding: ContentEncoding::AsIs,
        };
        let signed = |policy: &PostPolicy<'_>| -> Map<String, Value> {
            sign_post(policy, &self.credentials, &state.region, self.now, &state.signing_keys)
                .into_iter()
                .map(|(name, value)| (name, Value::String(value)))
                .collect()
        };
        let gzip =
            gzip_policy(&state.config.gzip, &policy).map(|gzipped| GzipPost { fields: signed(&gzipped) });
        Upload::Post { url: self.url.clone(), fields: signed(&policy), gzip }
    }
}

/// The gzip sibling of a file's POST policy: for a type `AWS_IS_GZIPPED` compresses, and a file
/// that compressed bytes can undercut (2 bytes or more). Only POST policies get one: a presigned
/// PUT binds the exact length, known only once the browser has compressed, and the parts of a
/// multipart upload are planned over the file's size, which its signed ticket fixes.
fn gzip_policy<'a>(gzip: &Gzip, plain: &PostPolicy<'a>) -> Option<PostPolicy<'a>> {
    if gzip.applies_to(plain.content_type) {
        plain.gzipped()
    } else {
        None
    }
}

/// The dev store's bucket on this very server, at whatever host the browser used.
fn same_host_url(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .map(str::to_owned)
        .unwrap_or_else(|| state.config.listen.to_string());
    format!("http://{host}/s3/{}", state.storage.bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_checked() {
        assert!(validate_field("file").is_ok());
        assert!(validate_field("attachments[]").is_ok());
        assert!(validate_field("").is_err());
        assert!(validate_field("a\nb").is_err());
        assert!(validate_field("s3file").is_err());
        assert!(validate_field("file-s3f-signature").is_err());
    }

    #[test]
    fn content_types_are_checked() {
        assert_eq!(content_type("").unwrap(), "application/octet-stream");
        assert_eq!(content_type("text/plain; charset=utf-8").unwrap(), "text/plain; charset=utf-8");
        assert!(content_type("text").is_err());
        assert!(content_type("text/plain\r\nX-Evil: 1").is_err());
    }

    #[test]
    fn each_way_up_sits_beside_name_and_key_on_the_wire() {
        let signed = |upload| {
            let file = SignedUpload { name: "a.txt".into(), key: "tmp/s3file/F/a.txt".into(), upload };
            serde_json::to_value(file).unwrap()
        };
        let fields = Map::from_iter([("key".to_owned(), Value::from("tmp/s3file/F/a.txt"))]);
        assert_eq!(
            signed(Upload::Post { url: "http://s3/bucket".into(), fields, gzip: None }),
            serde_json::json!({"name": "a.txt", "key": "tmp/s3file/F/a.txt", "url": "http://s3/bucket",
                               "fields": {"key": "tmp/s3file/F/a.txt"}}),
        );
        let gzip =
            Some(GzipPost { fields: Map::from_iter([("Content-Encoding".to_owned(), Value::from("gzip"))]) });
        let fields = Map::from_iter([("key".to_owned(), Value::from("tmp/s3file/F/a.txt"))]);
        assert_eq!(
            signed(Upload::Post { url: "http://s3/bucket".into(), fields, gzip }),
            serde_json::json!({"name": "a.txt", "key": "tmp/s3file/F/a.txt", "url": "http://s3/bucket",
                               "fields": {"key": "tmp/s3file/F/a.txt"},
                               "gzip": {"fields": {"Content-Encoding": "gzip"}}}),
        );
        let put = PresignedPut {
            url: "http://s3/put".into(),
            headers: vec![("content-type".into(), "text/plain".into())],
        };
        assert_eq!(
            signed(Upload::Put { put }),
            serde_json::json!({"name": "a.txt", "key": "tmp/s3file/F/a.txt",
                               "put": {"url": "http://s3/put", "headers": [["content-type", "text/plain"]]}}),
        );
        let multipart = MultipartStart {
            upload_id: "U".into(),
            part_size: 5,
            part_count: 2,
            ticket: "T".into(),
            done: vec![1],
        };
        assert_eq!(
            signed(Upload::Multipart { multipart }),
            serde_json::json!({"name": "a.txt", "key": "tmp/s3file/F/a.txt", "multipart":
                               {"uploadId": "U", "partSize": 5, "partCount": 2, "ticket": "T", "done": [1]}}),
        );
    }

    /// Which POST uploads get a gzip sibling: listed types (compared as the policy writes
    /// them) of at least 2 bytes, with gzip on.
    #[test]
    fn listed_types_of_two_bytes_or_more_get_a_gzip_policy() {
        let on = Gzip::from_settings(true, crate::gzip::DEFAULT_TYPES).unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let cases = [
            (&on, "text/css", 100, Some(1..=99)),
            (&on, "text/css; charset=utf-8", 100, Some(1..=99)),
            (&on, "Image/SVG+XML", 2, Some(1..=1)),
            (&on, "application/javascript", 1, None),
            (&on, "text/css", 0, None),
            (&on, "text/plain", 100, None),
            (&on, "application/octet-stream", 100, None),
            (&Gzip::Off, "text/css", 100, None),
        ];
        for (gzip, content_type, size, expected) in cases {
            let plain = PostPolicy {
                bucket: "b",
                key: "tmp/s3file/F/a",
                content_type,
                content_length: size..=size,
                expires_at: now,
                extra_fields: &[],
                checksum_field: None,
                content_encoding: ContentEncoding::AsIs,
            };
            let gzipped = gzip_policy(gzip, &plain);
            assert_eq!(
                gzipped.as_ref().map(|policy| policy.content_length.clone()),
                expected,
                "{content_type} {size}"
            );
            if let Some(gzipped) = gzipped {
                assert_eq!(gzipped.content_encoding, ContentEncoding::Gzip);
                assert_eq!((gzipped.key, gzipped.content_type), (plain.key, plain.content_type));
            }
        }
    }
}
