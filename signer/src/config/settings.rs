//! Settings as flags, a TOML file and the environment give them, under the names
//! django-storages users know; [`Config::from_settings`](super::Config::from_settings) checks
//! and parses them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AddressingStyle {
    Path,
    Virtual,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// TOML file of settings, named as these flags with underscores (S3FILE_CONFIG). Flags win
    /// over the file, the file over the environment.
    #[arg(long, env = "S3FILE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Bucket to upload to (django-storages: AWS_STORAGE_BUCKET_NAME). Required unless --dev.
    #[arg(long, env = "AWS_STORAGE_BUCKET_NAME")]
    pub bucket_name: Option<String>,

    /// Dev mode: uploads go to an embedded, filesystem-backed store served by the signer itself,
    /// for development only; excludes AWS_STORAGE_BUCKET_NAME (S3FILE_DEV). Asked for explicitly
    /// so that a bucket name lost from a deployment stops the signer instead of switching it to
    /// the dev store.
    #[arg(
        long,
        env = "S3FILE_DEV",
        default_value = "false",
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
        action = clap::ArgAction::Set
    )]
    pub dev: bool,

    /// S3 endpoint the signer talks to, e.g. http://127.0.0.1:8333 (AWS_S3_ENDPOINT_URL).
    #[arg(long, env = "AWS_S3_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,

    /// Region used to sign requests (AWS_S3_REGION_NAME).
    #[arg(long, env = "AWS_S3_REGION_NAME")]
    pub region_name: Option<String>,

    /// AWS profile whose credentials to use (AWS_S3_SESSION_PROFILE); excludes explicit keys.
    #[arg(long, env = "AWS_S3_SESSION_PROFILE")]
    pub session_profile: Option<String>,

    /// Access key id for S3 only (AWS_S3_ACCESS_KEY_ID); wins over AWS_ACCESS_KEY_ID.
    #[arg(long, env = "AWS_S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,

    /// Secret access key for S3 only (AWS_S3_SECRET_ACCESS_KEY).
    #[arg(long, env = "AWS_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,

    /// Access key id (AWS_ACCESS_KEY_ID); without it the AWS default credential chain is used.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub access_key_id: Option<String>,

    /// Secret access key (AWS_SECRET_ACCESS_KEY).
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: Option<String>,

    /// Session token for temporary credentials (AWS_SESSION_TOKEN).
    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    pub session_token: Option<String>,

    /// `path` (https://host/bucket/key) or `virtual` (https://bucket.host/key)
    /// (AWS_S3_ADDRESSING_STYLE). Default: virtual on AWS, path with a custom endpoint.
    #[arg(long, env = "AWS_S3_ADDRESSING_STYLE", value_enum, ignore_case = true)]
    pub addressing_style: Option<AddressingStyle>,

    /// Prefix of every finalized key (AWS_LOCATION).
    #[arg(long, env = "AWS_LOCATION", default_value = "")]
    pub location: String,

    /// Whether a finalized file may replace an existing object of the same name
    /// (AWS_S3_FILE_OVERWRITE); when false, every upload gets a final key of its own: nothing
    /// replaces an object another upload stored.
    #[arg(long, env = "AWS_S3_FILE_OVERWRITE", default_value = "false", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub file_overwrite: bool,

    /// Boto3 parameters every stored object gets, as JSON: CacheControl, ContentDisposition,
    /// ContentEncoding, ContentLanguage, Expires, Metadata, StorageClass, ServerSideEncryption,
    /// SSEKMSKeyId, ACL, Tagging (AWS_S3_OBJECT_PARAMETERS).
    #[arg(long, env = "AWS_S3_OBJECT_PARAMETERS")]
    pub object_parameters: Option<String>,

    /// Whether files of the types in GZIP_CONTENT_TYPES are stored gzip-compressed, served with
    /// `Content-Encoding: gzip`, when that makes them smaller (AWS_IS_GZIPPED). Browsers
    /// compress what they upload by POST policy; the signer compresses no-JavaScript uploads.
    #[arg(long, env = "AWS_IS_GZIPPED", default_value = "false", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub is_gzipped: bool,

    /// Media types AWS_IS_GZIPPED compresses, comma-separated, compared without parameters
    /// and case (GZIP_CONTENT_TYPES); in the settings file a list.
    #[arg(long, env = "GZIP_CONTENT_TYPES", default_value = crate::gzip::DEFAULT_TYPES)]
    pub gzip_content_types: String,

    /// Canned ACL of stored objects unless object_parameters sets ACL (AWS_DEFAULT_ACL).
    #[arg(long, env = "AWS_DEFAULT_ACL")]
    pub default_acl: Option<String>,

    /// Whether download URLs are presigned (AWS_QUERYSTRING_AUTH); false gives plain URLs for
    /// public buckets.
    #[arg(long, env = "AWS_QUERYSTRING_AUTH", default_value = "true", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub querystring_auth: bool,

    /// Domain that serves the bucket's objects, such as a CDN, without scheme or trailing
    /// slash (AWS_S3_CUSTOM_DOMAIN). Download URLs use it, unsigned unless AWS_CLOUDFRONT_KEY
    /// signs them.
    #[arg(long, env = "AWS_S3_CUSTOM_DOMAIN")]
    pub custom_domain: Option<String>,

    /// Domain that download URLs of the bucket name in place of the S3 endpoint, when the
    /// signer reaches S3 at an address browsers cannot, without scheme or trailing slash
    /// (AWS_S3_PUBLIC_DOMAIN). Presigned URLs are signed for it; AWS_S3_CUSTOM_DOMAIN wins over
    /// it. Uploads still go to S3FILE_PUBLIC_ENDPOINT_URL (or AWS_S3_ENDPOINT_URL).
    #[arg(long, env = "AWS_S3_PUBLIC_DOMAIN")]
    pub public_domain: Option<String>,

    /// Scheme of custom-domain and public-domain URLs, `https:` or `http:` (AWS_S3_URL_PROTOCOL).
    #[arg(long, env = "AWS_S3_URL_PROTOCOL", default_value = "https:")]
    pub url_protocol: String,

    /// PEM RSA private key, PKCS#1 or PKCS#8, of a CloudFront key pair (AWS_CLOUDFRONT_KEY):
    /// with AWS_CLOUDFRONT_KEY_ID and AWS_S3_CUSTOM_DOMAIN (the distribution's domain), download
    /// URLs are CloudFront signed URLs valid for AWS_QUERYSTRING_EXPIRE seconds. Read once at
    /// start-up; a key that cannot sign stops it.
    // A PEM value starts with "-----": without allow_hyphen_values clap would take it for a flag.
    #[arg(long, env = "AWS_CLOUDFRONT_KEY", hide_env_values = true, allow_hyphen_values = true)]
    pub cloudfront_key: Option<String>,

    /// Id of the CloudFront public key (or key pair) that AWS_CLOUDFRONT_KEY belongs to
    /// (AWS_CLOUDFRONT_KEY_ID), such as K2JCJMDEHXQW5F.
    #[arg(long, env = "AWS_CLOUDFRONT_KEY_ID")]
    pub cloudfront_key_id: Option<String>,

    /// Whether to use TLS to AWS endpoints (AWS_S3_USE_SSL); an explicit endpoint URL's scheme
    /// decides for itself.
    #[arg(long, env = "AWS_S3_USE_SSL", default_value = "true", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub use_ssl: bool,

    /// `true` (the system's roots) or the path of a PEM CA bundle that the S3 endpoint's
    /// certificate must chain to (AWS_S3_VERIFY). `false` is refused: the signer does not talk to
    /// S3 unverified.
    #[arg(long, env = "AWS_S3_VERIFY")]
    pub verify: Option<String>,

    /// Proxies by URL scheme, as JSON, e.g. {"https": "http://proxy.internal:3128"}
    /// (AWS_S3_PROXIES); the entry for the endpoint's scheme carries every request to S3. Unset,
    /// HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply.
    #[arg(long, env = "AWS_S3_PROXIES")]
    pub proxies: Option<String>,

    /// Only `s3v4` is supported (AWS_S3_SIGNATURE_VERSION).
    #[arg(long, env = "AWS_S3_SIGNATURE_VERSION", default_value = "s3v4")]
    pub signature_version: String,

    /// The S3 endpoint as browsers reach it, when it differs from AWS_S3_ENDPOINT_URL (which the
    /// signer itself uses, e.g. inside a private network) (S3FILE_PUBLIC_ENDPOINT_URL).
    #[arg(long, env = "S3FILE_PUBLIC_ENDPOINT_URL")]
    pub public_endpoint_url: Option<String>,

    /// Seconds a download URL of a finalized file stays valid (AWS_QUERYSTRING_EXPIRE).
    #[arg(long, env = "AWS_QUERYSTRING_EXPIRE", default_value_t = 3600)]
    pub querystring_expire: u64,

    /// Folder that browser uploads go to before finalize moves them (S3FILE_UPLOAD_PATH).
    /// Give it a lifecycle rule that expires old objects.
    #[arg(long, env = "S3FILE_UPLOAD_PATH", default_value = "tmp/s3file")]
    pub upload_path: String,

    /// Secret that signs upload folders, at least 32 bytes of random; the same on every replica
    /// (S3FILE_SECRET_KEY). Extra secrets, comma-separated in S3FILE_FALLBACK_SECRET_KEYS, still
    /// verify during a rotation. Only dev mode may go without: it makes a random one.
    #[arg(long, env = "S3FILE_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Former secrets that still verify, comma-separated, each at least 32 bytes; empty means
    /// none (S3FILE_FALLBACK_SECRET_KEYS).
    // One value split here rather than by clap's value_delimiter, which would make an empty
    // value one empty secret; the fully qualified type keeps clap from splitting it again.
    #[arg(
        long,
        env = "S3FILE_FALLBACK_SECRET_KEYS",
        hide_env_values = true,
        default_value = "",
        hide_default_value = true,
        value_parser = parse_secret_list
    )]
    pub fallback_secret_keys: ::std::vec::Vec<String>,

    /// Largest file accepted, in bytes (S3FILE_MAX_FILE_SIZE); at most 5 TiB, S3's largest object.
    #[arg(long, env = "S3FILE_MAX_FILE_SIZE", default_value_t = 5 * 1024 * 1024 * 1024)]
    pub max_file_size: u64,

    /// Types every upload field accepts unless S3FILE_FIELDS says otherwise, as the HTML `accept`
    /// attribute writes them: `image/*,application/pdf,.txt` (S3FILE_ACCEPT). Unset or empty:
    /// any type. A page's own `accept` can only narrow it.
    #[arg(long, env = "S3FILE_ACCEPT")]
    pub accept: Option<String>,

    /// Rules of named upload fields, as JSON, each winning over S3FILE_ACCEPT and
    /// S3FILE_MAX_FILE_SIZE for its field: {"avatar": {"accept": "image/png,image/jpeg",
    /// "max_size": 1048576}} (S3FILE_FIELDS); in the settings file a table,
    /// `[fields.avatar]`. A page can only narrow them.
    #[arg(long, env = "S3FILE_FIELDS")]
    pub fields: Option<String>,

    /// Files larger than this many bytes go up as S3 multipart uploads, their parts in parallel
    /// (S3FILE_MULTIPART_THRESHOLD); at most 5 GiB, the largest single POST or PUT.
    #[arg(long, env = "S3FILE_MULTIPART_THRESHOLD", default_value_t = 64 * 1024 * 1024)]
    pub multipart_threshold: u64,

    /// Bytes per part of a multipart upload (S3FILE_MULTIPART_PART_SIZE), 5 MiB to 5 GiB; larger
    /// for files that would otherwise take more than 10,000 parts.
    #[arg(long, env = "S3FILE_MULTIPART_PART_SIZE", default_value_t = 16 * 1024 * 1024)]
    pub multipart_part_size: u64,

    /// How browsers send files below the multipart threshold (S3FILE_UPLOAD_METHOD): `post`
    /// (a POST policy) or `put` (a presigned PUT, for stores without POST uploads such as
    /// Cloudflare R2).
    #[arg(long, env = "S3FILE_UPLOAD_METHOD", value_enum, default_value_t = UploadMethod::Post)]
    pub upload_method: UploadMethod,

    /// The checksum each upload carries, which the store verifies before it keeps the bytes
    /// (S3FILE_CHECKSUM): `auto` (the one the store is known to verify: `md5` for AWS and the
    /// dev store, `crc32` for other endpoints), `md5` (`Content-MD5` on every upload, POSTs
    /// included), `crc32` (POSTs carry `x-amz-checksum-crc32`, PUTs and parts `Content-MD5`), or
    /// `off`.
    #[arg(long, env = "S3FILE_CHECKSUM", value_enum, default_value_t = ChecksumSetting::Auto)]
    pub checksum: ChecksumSetting,

    /// Finalize copies objects larger than this many bytes in parts of this size
    /// (S3FILE_MULTIPART_COPY_THRESHOLD); at most 5 GiB, the largest single CopyObject.
    #[arg(long, env = "S3FILE_MULTIPART_COPY_THRESHOLD", default_value_t = 5 * 1024 * 1024 * 1024)]
    pub multipart_copy_threshold: u64,

    /// Seconds a browser has to start its uploads after signing (S3FILE_UPLOAD_EXPIRE).
    #[arg(long, env = "S3FILE_UPLOAD_EXPIRE", default_value_t = 3600)]
    pub upload_expire: u64,

    /// Seconds an upload folder's signature is accepted by finalize (S3FILE_SIGNATURE_EXPIRE).
    #[arg(long, env = "S3FILE_SIGNATURE_EXPIRE", default_value_t = 6 * 3600)]
    pub signature_expire: u64,

    /// Address to listen on (S3FILE_LISTEN).
    #[arg(long, env = "S3FILE_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,

    /// Connections served at once (S3FILE_MAX_CONNECTIONS); more wait in the listen queue until
    /// one ends, so a flood of connections costs the signer no memory beyond these.
    #[arg(long, env = "S3FILE_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Seconds a connection has to send a complete request head, and that an idle keep-alive
    /// connection stays open (S3FILE_HEADER_TIMEOUT); then it is closed.
    #[arg(long, env = "S3FILE_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,

    /// Seconds a request body may send nothing while the signer reads it (S3FILE_BODY_TIMEOUT);
    /// then the request fails. Bodies that keep arriving may take as long as they need.
    #[arg(long, env = "S3FILE_BODY_TIMEOUT", default_value_t = 30)]
    pub body_timeout: u64,

    /// Application to forward every other request to, finalizing s3file submissions on the way
    /// (S3FILE_UPSTREAM), e.g. http://127.0.0.1:8080.
    #[arg(long, env = "S3FILE_UPSTREAM")]
    pub upstream: Option<String>,

    /// Proxies in front of the signer whose X-Forwarded-For, -Host and -Proto headers proxy mode
    /// keeps, as IP addresses or CIDR ranges, comma-separated (S3FILE_TRUSTED_PROXIES), e.g.
    /// 10.0.0.0/8. From any other peer the signer sets those headers itself. Default: none.
    #[arg(long, env = "S3FILE_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: crate::forwarding::TrustedProxies,

    /// Directory of static files to serve at `/`, such as the demo site (S3FILE_WWW).
    #[arg(long, env = "S3FILE_WWW")]
    pub www: Option<PathBuf>,

    /// Where the embedded dev store keeps its objects (S3FILE_DEV_STORE_DIR).
    #[arg(long, env = "S3FILE_DEV_STORE_DIR", default_value = ".s3file-dev")]
    pub dev_store_dir: PathBuf,
}

/// `S3FILE_CHECKSUM`: which checksum uploads carry (`upload_checksum::UploadChecksum`), or
/// `auto`, which the store decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChecksumSetting {
    Auto,
    Md5,
    Crc32,
    Off,
}

/// How browsers upload files that are not multipart uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UploadMethod {
    Post,
    Put,
}

/// A comma-separated list of secrets; an empty value is no secret at all, so that
/// `S3FILE_FALLBACK_SECRET_KEYS=""` (and `fallback_secret_keys = []` in the settings file) can
/// switch the fallbacks off. Empty items elsewhere are kept for `Config::from_settings` to refuse.
fn parse_secret_list(value: &str) -> Result<Vec<String>, std::convert::Infallible> {
    Ok(if value.is_empty() { Vec::new() } else { value.split(',').map(str::to_owned).collect() })
}

/// Why `--dev` cannot start a signer built without the `dev-store` feature.
pub const NO_DEV_STORE: &str = "this signer was built without the embedded development store: set \
     AWS_STORAGE_BUCKET_NAME, or build with `--features dev-store` (as `cargo xtask demo` does)";

/// The bucket of the embedded dev store.
pub const DEV_BUCKET: &str = "s3file-dev";
/// The region everything defaults to when nothing says otherwise, as in boto3.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Secrets shorter than this are refused: a folder signature is only as strong as its secret.
pub const MIN_SECRET_LEN: usize = 32;
/// Far above what one process's file descriptors allow, and within what a semaphore counts.
pub const MAX_CONNECTIONS: usize = 1 << 20;

impl Settings {
    /// The upload rules of `S3FILE_ACCEPT`, `S3FILE_FIELDS` and `S3FILE_MAX_FILE_SIZE`; the
    /// errors name the setting at fault.
    pub fn field_rules(&self) -> Result<crate::field_rules::FieldRules, Vec<String>> {
        crate::field_rules::FieldRules::parse(
            self.accept.as_deref(),
            self.fields.as_deref(),
            self.max_file_size,
        )
    }

    /// Whether the embedded dev store takes the uploads: only when asked for (S3FILE_DEV).
    pub fn is_dev_mode(&self) -> bool {
        self.dev
    }

    /// The scheme of the URLs the signer itself sends to S3.
    pub fn endpoint_scheme(&self) -> &'static str {
        crate::transport::endpoint_scheme(self.endpoint_url.as_deref(), self.use_ssl)
    }

    /// The key pair given explicitly, django-storages' S3-specific names first.
    pub fn explicit_keys(&self) -> Option<(&str, &str)> {
        match (
            &self.s3_access_key_id,
            &self.s3_secret_access_key,
            &self.access_key_id,
            &self.secret_access_key,
        ) {
            (Some(id), Some(secret), _, _) | (None, None, Some(id), Some(secret)) => Some((id, secret)),
            _ => None,
        }
    }

    /// Virtual-host style on AWS, path style with a custom endpoint (where buckets rarely have
    /// DNS names), unless AWS_S3_ADDRESSING_STYLE says otherwise.
    pub fn effective_addressing_style(&self) -> AddressingStyle {
        self.addressing_style.unwrap_or(if self.endpoint_url.is_some() {
            AddressingStyle::Path
        } else {
            AddressingStyle::Virtual
        })
    }
}
