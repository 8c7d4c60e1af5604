//! Settings, from flags or the environment, under the names django-storages users know.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "s3file-signer",
    version,
    about = "Signs direct browser-to-S3 uploads and finalizes them",
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the sign and finalize endpoints (the default).
    Serve(Settings),
    /// Check the configuration.
    Check {
        /// Fail on settings unfit for production (such as the embedded dev store), like
        /// Django's `manage.py check --deploy`.
        #[arg(long)]
        deploy: bool,
        /// With --deploy: skip the checks that ask the bucket (its CORS configuration).
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Abort multipart uploads under S3FILE_UPLOAD_PATH that were started long ago and never
    /// finished (run it daily, or use a bucket lifecycle rule where the store has them).
    Sweep {
        /// Age in hours from which an unfinished upload is abandoned.
        #[arg(long, default_value_t = 24)]
        older_than_hours: u64,
        #[command(flatten)]
        settings: Settings,
    },
}

impl Cli {
    /// Parses `argv`, with the settings file (if one is named) between flags and environment.
    pub fn parse_with_file(argv: Vec<String>) -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let first = Cli::try_parse_from(&argv)?;
        let path = match &first.command {
            Some(Command::Serve(settings))
            | Some(Command::Check { settings, .. })
            | Some(Command::Sweep { settings, .. }) => settings.config.clone(),
            None => first.settings.config.clone(),
        };
        let Some(path) = path else { return Ok(first) };
        let file_args = crate::config_file::file_args(&path).map_err(|error| {
            Cli::command().error(clap::error::ErrorKind::InvalidValue, format!("{error:#}"))
        })?;
        let matches =
            Cli::command().try_get_matches_from(crate::config_file::with_file_args(&argv, file_args))?;
        Cli::from_arg_matches(&matches)
    }

    /// What to do; without a subcommand, serve with the settings given.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.settings))
    }
}

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

    /// Canned ACL of stored objects unless object_parameters sets ACL (AWS_DEFAULT_ACL).
    #[arg(long, env = "AWS_DEFAULT_ACL")]
    pub default_acl: Option<String>,

    /// Whether download URLs are presigned (AWS_QUERYSTRING_AUTH); false gives plain URLs for
    /// public buckets.
    #[arg(long, env = "AWS_QUERYSTRING_AUTH", default_value = "true", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub querystring_auth: bool,

    /// Domain that serves the bucket's objects, such as a CDN, without scheme or trailing
    /// slash (AWS_S3_CUSTOM_DOMAIN). Download URLs use it, unsigned.
    #[arg(long, env = "AWS_S3_CUSTOM_DOMAIN")]
    pub custom_domain: Option<String>,

    /// Scheme of custom-domain URLs, `https:` or `http:` (AWS_S3_URL_PROTOCOL).
    #[arg(long, env = "AWS_S3_URL_PROTOCOL", default_value = "https:")]
    pub url_protocol: String,

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

/// How browsers upload files that are not multipart uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UploadMethod {
    Post,
    Put,
}

/// A comma-separated list of secrets; an empty value is no secret at all, so that
/// `S3FILE_FALLBACK_SECRET_KEYS=""` (and `fallback_secret_keys = []` in the settings file) can
/// switch the fallbacks off. Empty items elsewhere are kept for `Settings::errors` to refuse.
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

    /// `errors` as one error, for the commands that refuse to start on any of them.
    pub fn validate(&self) -> anyhow::Result<()> {
        let errors = self.errors();
        if !errors.is_empty() {
            anyhow::bail!("invalid settings:\n  {}", errors.join("\n  "));
        }
        Ok(())
    }

    /// Problems that make the settings unusable at all.
    pub fn errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        match (&self.bucket_name, self.dev) {
            (None, false) => errors.push(
                "set AWS_STORAGE_BUCKET_NAME (the bucket uploads go to), or pass --dev (S3FILE_DEV=true) \
                 for the embedded development store"
                    .to_owned(),
            ),
            (Some(_), true) => errors.push(
                "S3FILE_DEV (--dev) and AWS_STORAGE_BUCKET_NAME exclude each other: dev mode stores \
                 uploads in the embedded store, not in a bucket; unset one"
                    .to_owned(),
            ),
            (None, true) if !cfg!(feature = "dev-store") => errors.push(NO_DEV_STORE.to_owned()),
            _ => {}
        }
        errors.extend(self.secret_errors());
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            errors.push(format!("S3FILE_MAX_CONNECTIONS must be between 1 and {MAX_CONNECTIONS}"));
        }
        if self.header_timeout == 0 || self.body_timeout == 0 {
            errors.push("S3FILE_HEADER_TIMEOUT and S3FILE_BODY_TIMEOUT must be at least 1 second".to_owned());
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            errors.push("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither".to_owned());
        }
        if self.s3_access_key_id.is_some() != self.s3_secret_access_key.is_some() {
            errors.push("set both AWS_S3_ACCESS_KEY_ID and AWS_S3_SECRET_ACCESS_KEY, or neither".to_owned());
        }
        if self.session_profile.is_some() && self.s3_access_key_id.is_some() {
            errors.push(
                "AWS_S3_SESSION_PROFILE and AWS_S3_ACCESS_KEY_ID/AWS_S3_SECRET_ACCESS_KEY exclude each other; set one"
                    .to_owned(),
            );
        }
        for (name, url) in [
            ("AWS_S3_ENDPOINT_URL", &self.endpoint_url),
            ("S3FILE_PUBLIC_ENDPOINT_URL", &self.public_endpoint_url),
        ] {
            if let Some(url) = url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    errors.push(format!("{name} must start with http:// or https://, got {url:?}"));
                }
            }
        }
        if let Some(domain) = &self.custom_domain {
            if domain.ends_with('/') || domain.contains("://") || domain.is_empty() {
                errors.push(format!(
                    "AWS_S3_CUSTOM_DOMAIN must be a bare domain such as cdn.example.com (no scheme, no trailing /), got {domain:?}"
                ));
            }
        }
        if !matches!(self.url_protocol.as_str(), "https:" | "http:") {
            errors.push(format!("AWS_S3_URL_PROTOCOL must be https: or http:, got {:?}", self.url_protocol));
        }
        if !matches!(self.signature_version.as_str(), "s3v4" | "v4") {
            errors.push(format!(
                "AWS_S3_SIGNATURE_VERSION {:?} is not supported: S3 POST policies here are SigV4 (s3v4)",
                self.signature_version
            ));
        }
        if let Err(error) = crate::object_parameters::ObjectParameters::parse(
            self.object_parameters.as_deref(),
            self.default_acl.as_deref(),
        ) {
            errors.push(error);
        }
        if let Err(problems) = self.field_rules() {
            errors.extend(problems);
        }
        if let Err(error) = crate::transport::parse_verify(self.verify.as_deref()) {
            errors.push(error);
        }
        if let Err(error) = crate::transport::proxy_for(self.proxies.as_deref(), self.endpoint_scheme()) {
            errors.push(error);
        }
        if let Some(upstream) = &self.upstream {
            if !upstream.starts_with("http://") {
                errors.push(format!(
                    "S3FILE_UPSTREAM must be a plain http:// URL of an application next to the signer, got {upstream:?}"
                ));
            }
            if self.www.is_some() {
                errors.push(
                    "S3FILE_UPSTREAM and S3FILE_WWW exclude each other: both would answer `/`".to_owned(),
                );
            }
            if self.secret_key.is_none() {
                errors.push("S3FILE_UPSTREAM needs S3FILE_SECRET_KEY: the application verifies forwarded forms with it".to_owned());
            }
        }
        if self.querystring_expire == 0 || self.querystring_expire > 7 * 24 * 3600 {
            errors.push(
                "AWS_QUERYSTRING_EXPIRE must be between 1 second and 7 days (SigV4's limit)".to_owned(),
            );
        }
        if self.upload_path.trim_matches('/').is_empty() {
            errors.push("S3FILE_UPLOAD_PATH must name a folder, such as tmp/s3file".to_owned());
        }
        if self.upload_expire == 0 || self.signature_expire < self.upload_expire {
            errors.push(
                "S3FILE_SIGNATURE_EXPIRE must be at least S3FILE_UPLOAD_EXPIRE, and both above zero"
                    .to_owned(),
            );
        }
        use crate::part_plan::{MAX_OBJECT_SIZE, MAX_PART_SIZE, MIN_PART_SIZE};
        if self.max_file_size > MAX_OBJECT_SIZE {
            errors.push("S3FILE_MAX_FILE_SIZE may be at most 5 TiB, S3's largest object".to_owned());
        }
        if self.multipart_threshold > MAX_PART_SIZE {
            errors.push(
                "S3FILE_MULTIPART_THRESHOLD may be at most 5 GiB, the largest single upload".to_owned(),
            );
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.multipart_part_size) {
            errors.push(
                "S3FILE_MULTIPART_PART_SIZE must be between 5 MiB and 5 GiB, S3's part sizes".to_owned(),
            );
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.multipart_copy_threshold) {
            errors.push("S3FILE_MULTIPART_COPY_THRESHOLD must be between 5 MiB and 5 GiB".to_owned());
        }
        errors
    }

    /// The secrets' problems. A folder signature or multipart ticket is only as strong as the
    /// weakest secret that verifies it, so a fallback secret is held to the same rule; only a
    /// secret nobody gave may be made up, in dev mode, where a random one is strong.
    fn secret_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let advice = "use at least 32 random bytes, such as the output of `openssl rand -hex 32`";
        match &self.secret_key {
            None if !self.is_dev_mode() => errors
                .push(format!("set S3FILE_SECRET_KEY (the same random value on every replica); {advice}")),
            None => {}
            Some(secret) if secret.is_empty() => errors.push(format!("S3FILE_SECRET_KEY is empty; {advice}")),
            Some(secret) if secret.len() < MIN_SECRET_LEN => {
                errors.push(format!("S3FILE_SECRET_KEY is shorter than {MIN_SECRET_LEN} bytes; {advice}"))
            }
            Some(_) => {}
        }
        let count = self.fallback_secret_keys.len();
        for (index, secret) in self.fallback_secret_keys.iter().enumerate() {
            let which = format!("secret {} of {count} in S3FILE_FALLBACK_SECRET_KEYS", index + 1);
            if secret.is_empty() {
                errors.push(format!(
                    "{which} is empty (a stray comma?); leave S3FILE_FALLBACK_SECRET_KEYS empty for none"
                ));
            } else if secret.len() < MIN_SECRET_LEN {
                errors.push(format!("{which} is shorter than {MIN_SECRET_LEN} bytes; {advice}"));
            }
        }
        errors
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
            if self.secret_key.is_none() {
                warnings.push(
                    "S3FILE_SECRET_KEY is not set: a random one is made at each start, so uploads \
                     signed before a restart fail to finalize"
                        .to_owned(),
                );
            }
        }
        if self.file_overwrite {
            warnings.push(
                "AWS_S3_FILE_OVERWRITE is on: final keys are not unique per upload, so one user's upload \
                 can replace another's"
                    .to_owned(),
            );
        }
        let endpoints = [&self.endpoint_url, &self.public_endpoint_url];
        if self.use_ssl
            && endpoints.iter().any(|url| url.as_deref().is_some_and(|url| url.starts_with("http://")))
        {
            warnings.push(
                "an S3 endpoint uses plain http:// while AWS_S3_USE_SSL is true; use https:// in production"
                    .to_owned(),
            );
        }
        warnings
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Settings {
        let mut argv = vec!["s3file-signer"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().settings
    }

    #[test]
    fn dev_mode_fails_the_deploy_check() {
        let settings = parse(&["--dev", "--secret-key", &"x".repeat(40)]);
        assert!(settings.is_dev_mode());
        assert!(settings.errors().is_empty());
        assert_eq!(settings.deploy_warnings().len(), 1);
        assert!(settings.deploy_warnings()[0].contains("dev store"));
    }

    #[test]
    fn a_sound_production_configuration_passes() {
        let settings = parse(&["--bucket-name", "b", "--secret-key", &"x".repeat(40)]);
        assert_eq!(settings.errors(), Vec::<String>::new());
        assert_eq!(settings.deploy_warnings(), Vec::<String>::new());
    }

    #[test]
    fn production_needs_a_strong_secret() {
        let settings = parse(&["--bucket-name", "b"]);
        assert!(settings.errors().iter().any(|e| e.contains("S3FILE_SECRET_KEY")));
        let weak = parse(&["--bucket-name", "b", "--secret-key", "short"]);
        assert!(weak.errors().iter().any(|e| e.contains("shorter")));
    }

    #[test]
    fn half_a_key_pair_is_an_error() {
        let settings = parse(&["--bucket-name", "b", "--secret-key", "s", "--access-key-id", "AKID"]);
        assert!(settings.errors().iter().any(|e| e.contains("AWS_SECRET_ACCESS_KEY")));
    }

    #[test]
    fn invalid_combinations_fail_with_the_setting_named() {
        let cases: [(&[&str], &str); 6] = [
            (
                &["--session-profile", "p", "--s3-access-key-id", "a", "--s3-secret-access-key", "s"],
                "AWS_S3_SESSION_PROFILE",
            ),
            (&["--custom-domain", "cdn.example.com/"], "AWS_S3_CUSTOM_DOMAIN"),
            (&["--custom-domain", "https://cdn.example.com"], "AWS_S3_CUSTOM_DOMAIN"),
            (&["--signature-version", "s3"], "AWS_S3_SIGNATURE_VERSION"),
            (&["--object-parameters", "{\"Bogus\": 1}"], "AWS_S3_OBJECT_PARAMETERS"),
            (&["--url-protocol", "ftp:"], "AWS_S3_URL_PROTOCOL"),
        ];
        for (args, setting) in cases {
            let errors = parse(args).errors();
            assert!(errors.iter().any(|e| e.contains(setting)), "{args:?}: {errors:?}");
        }
    }

    #[test]
    fn s3_specific_keys_win() {
        let settings = parse(&[
            "--access-key-id",
            "general",
            "--secret-access-key",
            "g",
            "--s3-access-key-id",
            "specific",
            "--s3-secret-access-key",
            "s",
        ]);
        assert_eq!(settings.explicit_keys(), Some(("specific", "s")));
        assert_eq!(
            parse(&["--access-key-id", "a", "--secret-access-key", "b"]).explicit_keys(),
            Some(("a", "b"))
        );
    }

    #[test]
    fn plain_http_with_use_ssl_is_a_deploy_warning() {
        let settings = parse(&[
            "--bucket-name",
            "b",
            "--secret-key",
            &"x".repeat(40),
            "--endpoint-url",
            "http://s3.internal",
        ]);
        assert!(settings.deploy_warnings().iter().any(|w| w.contains("http://")));
        let off = parse(&[
            "--bucket-name",
            "b",
            "--secret-key",
            &"x".repeat(40),
            "--endpoint-url",
            "http://s3.internal",
            "--use-ssl",
            "false",
        ]);
        assert!(off.deploy_warnings().is_empty());
    }

    #[test]
    fn booleans_read_like_django_settings() {
        assert!(!parse(&["--file-overwrite", "False"]).file_overwrite);
        assert!(parse(&["--file-overwrite", "true"]).file_overwrite);
        // Off unless asked for: with it on, one upload can replace another's object.
        assert!(!parse(&[]).file_overwrite);
    }

    #[test]
    fn overwriting_is_a_deploy_warning() {
        let strong = "x".repeat(40);
        let on = parse(&["--bucket-name", "b", "--secret-key", &strong, "--file-overwrite", "true"]);
        let warnings = on.deploy_warnings();
        assert!(warnings.iter().any(|w| w.contains("AWS_S3_FILE_OVERWRITE")), "{warnings:?}");
        let off = parse(&["--bucket-name", "b", "--secret-key", &strong]);
        assert_eq!(off.deploy_warnings(), Vec::<String>::new());
    }

    /// Settings from a TOML file, placed as `Cli::parse_with_file` places them.
    fn parse_toml(toml: &str, args: &[&str]) -> Settings {
        let mut argv = vec!["s3file-signer".to_owned()];
        argv.extend(args.iter().map(|arg| arg.to_string()));
        let file_args = crate::config_file::args_from_toml(toml).unwrap();
        Cli::try_parse_from(crate::config_file::with_file_args(&argv, file_args)).unwrap().settings
    }

    #[test]
    fn without_a_bucket_dev_mode_must_be_asked_for() {
        let strong = "x".repeat(40);
        let neither = parse(&["--secret-key", &strong]);
        assert!(!neither.is_dev_mode());
        let errors = neither.errors();
        assert!(
            errors.iter().any(|e| e.contains("AWS_STORAGE_BUCKET_NAME") && e.contains("--dev")),
            "{errors:?}"
        );
        for dev in [
            parse(&["--dev", "--secret-key", &strong]),
            parse(&["--dev", "true", "--secret-key", &strong]),
            parse(&["--dev=yes", "--secret-key", &strong]),
            parse_toml("dev = true", &["--secret-key", &strong]),
        ] {
            assert!(dev.is_dev_mode());
            assert_eq!(dev.errors(), Vec::<String>::new());
        }
        assert!(!parse(&["--dev", "false", "--bucket-name", "b"]).is_dev_mode());
        // A flag wins over the file.
        assert!(!parse_toml("dev = true", &["--dev", "false"]).is_dev_mode());
    }

    #[test]
    fn dev_mode_and_a_bucket_exclude_each_other() {
        let settings = parse(&["--dev", "--bucket-name", "b", "--secret-key", &"x".repeat(40)]);
        let errors = settings.errors();
        assert!(
            errors.iter().any(|e| e.contains("S3FILE_DEV") && e.contains("AWS_STORAGE_BUCKET_NAME")),
            "{errors:?}"
        );
    }

    #[test]
    fn weak_or_empty_secrets_are_errors_in_every_mode() {
        let strong = "x".repeat(MIN_SECRET_LEN);
        let weak = "x".repeat(MIN_SECRET_LEN - 1);
        for mode in [&["--dev"][..], &["--bucket-name", "b"]] {
            for secret in ["", weak.as_str(), "changeme"] {
                let mut args = mode.to_vec();
                args.extend(["--secret-key", secret]);
                let errors = parse(&args).errors();
                assert!(errors.iter().any(|e| e.contains("S3FILE_SECRET_KEY")), "{args:?}: {errors:?}");
            }
            for fallbacks in
                [weak.clone(), format!("{strong},"), format!("{strong},,{strong}"), format!("{strong},short")]
            {
                let mut args = mode.to_vec();
                args.extend(["--secret-key", &strong, "--fallback-secret-keys", &fallbacks]);
                let errors = parse(&args).errors();
                assert!(
                    errors.iter().any(|e| e.contains("S3FILE_FALLBACK_SECRET_KEYS")),
                    "{args:?}: {errors:?}"
                );
            }
            let mut args = mode.to_vec();
            args.extend(["--secret-key", &strong]);
            assert_eq!(parse(&args).errors(), Vec::<String>::new(), "{args:?}");
        }
        // Dev mode may go without a secret: it makes a strong random one.
        assert_eq!(parse(&["--dev"]).errors(), Vec::<String>::new());
        let from_file = parse_toml(&format!("bucket_name = \"b\"\nsecret_key = \"{weak}\""), &[]);
        assert!(from_file.errors().iter().any(|e| e.contains("S3FILE_SECRET_KEY")));
        let fallback_from_file = parse_toml(
            &format!("bucket_name = \"b\"\nsecret_key = \"{strong}\"\nfallback_secret_keys = [\"{strong}\", \"old\"]"),
            &[],
        );
        assert!(fallback_from_file.errors().iter().any(|e| e.contains("S3FILE_FALLBACK_SECRET_KEYS")));
    }

    #[test]
    fn an_empty_fallback_list_means_no_fallback_secrets() {
        let strong = "x".repeat(MIN_SECRET_LEN);
        let flag = parse(&["--bucket-name", "b", "--secret-key", &strong, "--fallback-secret-keys", ""]);
        assert_eq!(flag.fallback_secret_keys, Vec::<String>::new());
        assert_eq!(flag.errors(), Vec::<String>::new());
        let file = parse_toml(
            &format!("bucket_name = \"b\"\nsecret_key = \"{strong}\"\nfallback_secret_keys = []"),
            &[],
        );
        assert_eq!(file.fallback_secret_keys, Vec::<String>::new());
        assert_eq!(file.errors(), Vec::<String>::new());
        let old = "o".repeat(MIN_SECRET_LEN);
        let two = parse(&["--secret-key", &strong, "--fallback-secret-keys", &format!("{old},{strong}")]);
        assert_eq!(two.fallback_secret_keys, [old, strong]);
    }
}

/// The URL browsers POST uploads to, for a real S3 endpoint.
pub fn s3_post_url(
    endpoint_url: Option<&str>,
    bucket: &str,
    region: &str,
    style: AddressingStyle,
    use_ssl: bool,
) -> String {
    let scheme = if use_ssl { "https" } else { "http" };
    match (endpoint_url.map(|url| url.trim_end_matches('/')), style) {
        (Some(endpoint), AddressingStyle::Path) => format!("{endpoint}/{bucket}"),
        (Some(endpoint), AddressingStyle::Virtual) => match endpoint.split_once("://") {
            Some((scheme, host)) => format!("{scheme}://{bucket}.{host}"),
            None => format!("{endpoint}/{bucket}"),
        },
        (None, AddressingStyle::Path) => format!("{scheme}://s3.{region}.amazonaws.com/{bucket}"),
        (None, AddressingStyle::Virtual) => format!("{scheme}://{bucket}.s3.{region}.amazonaws.com"),
    }
}

impl Settings {
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

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn post_urls_follow_the_addressing_style() {
        use AddressingStyle::*;
        assert_eq!(
            s3_post_url(None, "b", "eu-west-1", Virtual, true),
            "https://b.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(s3_post_url(None, "b", "eu-west-1", Path, true), "https://s3.eu-west-1.amazonaws.com/b");
        assert_eq!(s3_post_url(None, "b", "eu-west-1", Path, false), "http://s3.eu-west-1.amazonaws.com/b");
        assert_eq!(
            s3_post_url(Some("http://127.0.0.1:8333/"), "b", "us-east-1", Path, true),
            "http://127.0.0.1:8333/b"
        );
        assert_eq!(
            s3_post_url(Some("https://minio.example"), "b", "us-east-1", Virtual, true),
            "https://b.minio.example"
        );
    }
}

#[cfg(test)]
mod command_tests {
    use super::*;

    #[test]
    fn a_settings_file_sits_between_flags_and_environment() {
        let dir = std::env::temp_dir().join(format!("s3file-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s3file.toml");
        std::fs::write(&path, "location = \"from-file\"\nupload_path = \"file/tmp\"\n").unwrap();
        let argv = |extra: &[&str]| {
            let mut argv =
                vec!["s3file-signer".to_owned(), "--config".to_owned(), path.display().to_string()];
            argv.extend(extra.iter().map(|item| item.to_string()));
            argv
        };
        let settings = |cli: Cli| match cli.into_command() {
            Command::Serve(settings) => settings,
            Command::Check { settings, .. } | Command::Sweep { settings, .. } => settings,
        };
        let from_file = settings(Cli::parse_with_file(argv(&[])).unwrap());
        assert_eq!(from_file.location, "from-file");
        assert_eq!(from_file.upload_path, "file/tmp");
        let flag_wins = settings(Cli::parse_with_file(argv(&["--location", "from-flag"])).unwrap());
        assert_eq!(flag_wins.location, "from-flag");
        assert_eq!(flag_wins.upload_path, "file/tmp");
        std::fs::write(&path, "bogus_setting = 1\n").unwrap();
        let error = Cli::parse_with_file(argv(&[])).unwrap_err().to_string();
        assert!(error.contains("bogus-setting"), "{error}");
    }

    #[test]
    fn settings_go_before_or_after_the_subcommand() {
        let serve = Cli::try_parse_from(["s3file-signer", "serve", "--www", "www"]).unwrap().into_command();
        assert!(matches!(serve, Command::Serve(settings) if settings.www.is_some()));
        let bare = Cli::try_parse_from(["s3file-signer", "--www", "www"]).unwrap().into_command();
        assert!(matches!(bare, Command::Serve(settings) if settings.www.is_some()));
        let check = Cli::try_parse_from(["s3file-signer", "check", "--deploy", "--bucket-name", "b"])
            .unwrap()
            .into_command();
        assert!(
            matches!(check, Command::Check { deploy: true, offline: false, settings } if settings.bucket_name.as_deref() == Some("b"))
        );
    }
}
