//! The signer's configuration, in two forms:
//!
//! - [`Settings`]: what flags, a TOML file and the environment say, under the names
//!   django-storages users know (`settings.rs`, read by `cli.rs`);
//! - [`Config`]: the same, checked and parsed once at start-up ([`Config::from_settings`],
//!   `parse.rs`), and the only form the rest of the signer reads. Each choice is a type: a
//!   store is S3 *or* the dev store, downloads are presigned, plain, on a custom domain *or*
//!   CloudFront-signed, and a value that does not parse (a CloudFront key among them) never
//!   gets this far.

mod cli;
#[cfg(test)]
mod downloads_tests;
mod parse;
mod settings;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use cli::{Cli, Command};
pub use settings::{
    AddressingStyle, ChecksumSetting, Settings, UploadMethod, DEFAULT_REGION, DEV_BUCKET, MAX_CONNECTIONS,
    MIN_SECRET_LEN, NO_DEV_STORE,
};

use crate::cloudfront_signer::CloudFrontSigner;
use crate::field_rules::FieldRules;
use crate::forwarding::TrustedProxies;
use crate::gzip::Gzip;
use crate::keys::FinalNaming;
use crate::object_parameters::ObjectParameters;
use crate::transport::{Proxy, Trust};
use crate::upload_checksum::UploadChecksum;

/// The signer's settings, checked and parsed.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub store: Store,
    pub secrets: Secrets,
    /// What each field may upload (`S3FILE_ACCEPT`, `S3FILE_FIELDS`, `S3FILE_MAX_FILE_SIZE`),
    /// checked when signing and again when finalizing.
    pub rules: FieldRules,
    pub uploads: Uploads,
    pub finals: Finals,
    pub downloads: Downloads,
    /// What every stored object gets (`AWS_S3_OBJECT_PARAMETERS`, `AWS_DEFAULT_ACL`).
    pub object_parameters: ObjectParameters,
    /// Which files are stored gzip-compressed (`AWS_IS_GZIPPED`, `GZIP_CONTENT_TYPES`).
    pub gzip: Gzip,
    pub limits: Limits,
    pub front: Front,
}

/// Where uploads are stored.
#[derive(Debug, Clone)]
pub enum Store {
    /// A bucket of S3 or an S3-compatible store.
    S3(S3),
    /// The embedded dev store (`--dev`), keeping its objects in `dir`.
    Dev { dir: PathBuf },
}

/// How the signer reaches the bucket, and how browsers do.
#[derive(Debug, Clone)]
pub struct S3 {
    pub bucket: String,
    /// `AWS_S3_REGION_NAME`; otherwise aws-config's chain decides.
    pub region: Option<String>,
    /// Where the signer sends its requests (`AWS_S3_ENDPOINT_URL`); `None` for AWS.
    pub endpoint_url: Option<String>,
    /// The endpoint as browsers reach it, when it differs (`S3FILE_PUBLIC_ENDPOINT_URL`).
    pub public_endpoint_url: Option<String>,
    pub addressing_style: AddressingStyle,
    /// TLS to AWS's endpoints (`AWS_S3_USE_SSL`).
    pub use_ssl: bool,
    pub credentials: CredentialSource,
    pub trust: Trust,
    pub proxy: Proxy,
}

/// Where the AWS credentials come from, in django-storages' order.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// A named profile (`AWS_S3_SESSION_PROFILE`).
    Profile(String),
    /// A key pair given in the settings, the S3-specific names first.
    Keys { id: String, secret: String, session_token: Option<String> },
    /// aws-config's default chain: environment, web identity, ECS, EC2 metadata, profile files.
    DefaultChain,
}

/// The secrets that sign and verify upload folders and multipart tickets: each at least
/// [`MIN_SECRET_LEN`] bytes.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// `S3FILE_SECRET_KEY`; `None` only in dev mode, where a random one is made at start-up.
    pub current: Option<String>,
    /// `S3FILE_FALLBACK_SECRET_KEYS`: former secrets that still verify.
    pub fallbacks: Vec<String>,
}

/// How browsers upload.
#[derive(Debug, Clone)]
pub struct Uploads {
    /// The folder uploads go to before finalize moves them (`S3FILE_UPLOAD_PATH`).
    pub path: String,
    pub method: UploadMethod,
    /// The checksum each upload carries (`S3FILE_CHECKSUM`, `auto` resolved).
    pub checksum: UploadChecksum,
    /// Files larger than this go up in parts.
    pub multipart_threshold: u64,
    pub part_size: u64,
    /// How long a browser has to start its uploads after signing.
    pub upload_expire: Duration,
    /// How long finalize accepts a folder's signature.
    pub signature_expire: Duration,
}

/// Where finalize stores files.
#[derive(Debug, Clone)]
pub struct Finals {
    /// The prefix of every final key (`AWS_LOCATION`).
    pub location: String,
    pub naming: FinalNaming,
    /// Objects larger than this are copied in parts of this size.
    pub copy_threshold: u64,
}

/// The URLs finalize gives for stored files, by django-storages' rules: a custom domain first,
/// then S3's own URLs, on the public domain if there is one.
#[derive(Debug, Clone, PartialEq)]
pub enum Downloads {
    /// Unsigned URLs on a domain that serves the bucket (`AWS_S3_CUSTOM_DOMAIN`), with
    /// `protocol` (`https:` or `http:`).
    CustomDomain { protocol: String, domain: String },
    /// CloudFront signed URLs on the distribution's domain (`AWS_S3_CUSTOM_DOMAIN` with
    /// `AWS_CLOUDFRONT_KEY` and `AWS_CLOUDFRONT_KEY_ID`), valid this long
    /// (`AWS_QUERYSTRING_EXPIRE`).
    CloudFront { protocol: String, domain: String, signer: Box<CloudFrontSigner>, expire: Duration },
    /// Plain URLs of a public bucket (`AWS_QUERYSTRING_AUTH=false`).
    Public { host: BucketHost },
    /// Presigned URLs, valid this long (`AWS_QUERYSTRING_EXPIRE`).
    Presigned { host: BucketHost, expire: Duration },
}

/// Where S3's own download URLs point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketHost {
    /// Where browsers upload: `S3FILE_PUBLIC_ENDPOINT_URL`, else `AWS_S3_ENDPOINT_URL`, else
    /// AWS's endpoint (the dev store: the signer itself).
    Endpoint,
    /// `AWS_S3_PUBLIC_DOMAIN` with `AWS_S3_URL_PROTOCOL`, such as `https://files.example.com`,
    /// in place of the endpoint's scheme and host; presigned URLs are signed for it.
    PublicDomain { origin: String },
}

/// What one connection, and all of them together, may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

/// What answers the requests that are not the signer's own.
#[derive(Debug, Clone)]
pub enum Front {
    /// Nothing: a 404.
    Nothing,
    /// Static files from this folder (`S3FILE_WWW`).
    Www(PathBuf),
    /// Proxy mode: the application at `url` (`S3FILE_UPSTREAM`), told who the client is unless
    /// a `trusted` proxy in front already did.
    Upstream { url: String, trusted: TrustedProxies },
}

impl Downloads {
    /// Where S3's own download URLs point; on a custom domain, nowhere in the bucket.
    pub fn bucket_host(&self) -> &BucketHost {
        match self {
            Downloads::Public { host } | Downloads::Presigned { host, .. } => host,
            Downloads::CustomDomain { .. } | Downloads::CloudFront { .. } => &BucketHost::Endpoint,
        }
    }
}

impl Config {
    /// Whether the embedded dev store takes the uploads.
    pub fn is_dev_mode(&self) -> bool {
        matches!(self.store, Store::Dev { .. })
    }

    /// Problems that are fine on a laptop and wrong in production.
    pub fn deploy_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.is_dev_mode() {
            warnings.push(
                "S3FILE_DEV is on: the embedded dev store would be used; it is for development only, \
                 set AWS_STORAGE_BUCKET_NAME instead"
                    .to_owned(),
            );
            if self.secrets.current.is_none() {
                warnings.push(
                    "S3FILE_SECRET_KEY is not set: a random one is made at each start, so uploads \
                     signed before a restart fail to finalize"
                        .to_owned(),
                );
            }
        }
        if self.finals.naming == FinalNaming::Overwrite {
            warnings.push(
                "AWS_S3_FILE_OVERWRITE is on: final keys are not unique per upload, so one user's upload \
                 can replace another's"
                    .to_owned(),
            );
        }
        if self.uploads.checksum == UploadChecksum::Off {
            warnings.push(
                "S3FILE_CHECKSUM is off: uploads carry no checksum, so bytes changed on their way to \
                 the store are kept as they arrive"
                    .to_owned(),
            );
        }
        if let Downloads::CloudFront { signer, .. } = &self.downloads {
            // Start-up read the key; signing with it is what proves it usable.
            if let Err(problem) = signer.self_check() {
                warnings.push(format!("{problem}: download URLs cannot be signed"));
            }
        }
        let plain_http_domain = match &self.downloads {
            Downloads::CustomDomain { protocol, .. } | Downloads::CloudFront { protocol, .. } => {
                protocol == "http:"
            }
            Downloads::Public { host } | Downloads::Presigned { host, .. } => {
                matches!(host, BucketHost::PublicDomain { origin } if origin.starts_with("http:"))
            }
        };
        if plain_http_domain {
            warnings.push(
                "AWS_S3_URL_PROTOCOL is http:, so download URLs on AWS_S3_CUSTOM_DOMAIN or AWS_S3_PUBLIC_DOMAIN \
                 travel unencrypted; use https: in production"
                    .to_owned(),
            );
        }
        if let Store::S3(s3) = &self.store {
            let endpoints = [&s3.endpoint_url, &s3.public_endpoint_url];
            if s3.use_ssl
                && endpoints.iter().any(|url| url.as_deref().is_some_and(|url| url.starts_with("http://")))
            {
                warnings.push(
                    "an S3 endpoint uses plain http:// while AWS_S3_USE_SSL is true; use https:// in production"
                        .to_owned(),
                );
            }
        }
        warnings
    }
}
