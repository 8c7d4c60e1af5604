//! Settings, from flags or the environment, under the names django-storages users know.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "s3file-signer",
    version,
    about = "Signs direct browser-to-S3 uploads and finalizes them",
    args_conflicts_with_subcommands = true
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
        #[command(flatten)]
        settings: Settings,
    },
}

impl Cli {
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
    /// Bucket to upload to (django-storages: AWS_STORAGE_BUCKET_NAME). Without it the signer runs
    /// in dev mode with an embedded, filesystem-backed store.
    #[arg(long, env = "AWS_STORAGE_BUCKET_NAME")]
    pub bucket_name: Option<String>,

    /// S3 endpoint the signer talks to, e.g. http://127.0.0.1:8333 (AWS_S3_ENDPOINT_URL).
    #[arg(long, env = "AWS_S3_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,

    /// Region used to sign requests (AWS_S3_REGION_NAME).
    #[arg(long, env = "AWS_S3_REGION_NAME")]
    pub region_name: Option<String>,

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

    /// Whether a finalized file may replace an existing object of the same name; when false a
    /// random suffix is added instead (AWS_S3_FILE_OVERWRITE).
    #[arg(long, env = "AWS_S3_FILE_OVERWRITE", default_value = "true", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub file_overwrite: bool,

    /// Seconds a download URL of a finalized file stays valid (AWS_QUERYSTRING_EXPIRE).
    #[arg(long, env = "AWS_QUERYSTRING_EXPIRE", default_value_t = 3600)]
    pub querystring_expire: u64,

    /// Folder that browser uploads go to before finalize moves them (S3FILE_UPLOAD_PATH).
    /// Give it a lifecycle rule that expires old objects.
    #[arg(long, env = "S3FILE_UPLOAD_PATH", default_value = "tmp/s3file")]
    pub upload_path: String,

    /// Secret that signs upload folders; the same on every replica (S3FILE_SECRET_KEY). Extra
    /// secrets, comma-separated in S3FILE_FALLBACK_SECRET_KEYS, still verify during a rotation.
    #[arg(long, env = "S3FILE_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Former secrets that still verify, comma-separated (S3FILE_FALLBACK_SECRET_KEYS).
    #[arg(long, env = "S3FILE_FALLBACK_SECRET_KEYS", hide_env_values = true, value_delimiter = ',')]
    pub fallback_secret_keys: Vec<String>,

    /// Largest file accepted, in bytes (S3FILE_MAX_FILE_SIZE). S3 caps a single POST at 5 GiB.
    #[arg(long, env = "S3FILE_MAX_FILE_SIZE", default_value_t = 5 * 1024 * 1024 * 1024)]
    pub max_file_size: u64,

    /// Seconds a browser has to start its uploads after signing (S3FILE_UPLOAD_EXPIRE).
    #[arg(long, env = "S3FILE_UPLOAD_EXPIRE", default_value_t = 3600)]
    pub upload_expire: u64,

    /// Seconds an upload folder's signature is accepted by finalize (S3FILE_SIGNATURE_EXPIRE).
    #[arg(long, env = "S3FILE_SIGNATURE_EXPIRE", default_value_t = 6 * 3600)]
    pub signature_expire: u64,

    /// Address to listen on (S3FILE_LISTEN).
    #[arg(long, env = "S3FILE_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,

    /// Directory of static files to serve at `/`, such as the demo site (S3FILE_WWW).
    #[arg(long, env = "S3FILE_WWW")]
    pub www: Option<PathBuf>,

    /// Where the embedded dev store keeps its objects (S3FILE_DEV_STORE_DIR).
    #[arg(long, env = "S3FILE_DEV_STORE_DIR", default_value = ".s3file-dev")]
    pub dev_store_dir: PathBuf,
}

/// The bucket of the embedded dev store.
pub const DEV_BUCKET: &str = "s3file-dev";
/// The region everything defaults to when nothing says otherwise, as in boto3.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Secrets shorter than this are refused: a folder signature is only as strong as its secret.
pub const MIN_SECRET_LEN: usize = 32;

impl Settings {
    pub fn is_dev_mode(&self) -> bool {
        self.bucket_name.is_none()
    }

    /// Problems that make the settings unusable at all.
    pub fn errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            errors.push("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither".to_owned());
        }
        if let Some(endpoint) = &self.endpoint_url {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                errors.push(format!(
                    "AWS_S3_ENDPOINT_URL must start with http:// or https://, got {endpoint:?}"
                ));
            }
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
        if !self.is_dev_mode() && self.secret_key.is_none() {
            errors.push("set S3FILE_SECRET_KEY (the same random value on every replica)".to_owned());
        }
        errors
    }

    /// Problems that are fine on a laptop and wrong in production.
    pub fn deploy_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.is_dev_mode() {
            warnings.push(
                "no AWS_STORAGE_BUCKET_NAME: the embedded dev store would be used; it is for development only"
                    .to_owned(),
            );
        }
        match &self.secret_key {
            None => warnings.push("S3FILE_SECRET_KEY is not set".to_owned()),
            Some(secret) if secret.len() < MIN_SECRET_LEN => warnings.push(format!(
                "S3FILE_SECRET_KEY is shorter than {MIN_SECRET_LEN} characters; use a long random value"
            )),
            Some(_) => {}
        }
        warnings
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
    fn no_bucket_means_dev_mode_and_fails_the_deploy_check() {
        let settings = parse(&["--secret-key", &"x".repeat(40)]);
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
        assert!(weak.deploy_warnings().iter().any(|e| e.contains("shorter")));
    }

    #[test]
    fn half_a_key_pair_is_an_error() {
        let settings = parse(&["--bucket-name", "b", "--secret-key", "s", "--access-key-id", "AKID"]);
        assert!(settings.errors().iter().any(|e| e.contains("AWS_SECRET_ACCESS_KEY")));
    }

    #[test]
    fn booleans_read_like_django_settings() {
        assert!(!parse(&["--file-overwrite", "False"]).file_overwrite);
        assert!(parse(&["--file-overwrite", "true"]).file_overwrite);
        assert!(parse(&[]).file_overwrite);
    }
}

/// The URL browsers POST uploads to, for a real S3 endpoint.
pub fn s3_post_url(endpoint_url: Option<&str>, bucket: &str, region: &str, style: AddressingStyle) -> String {
    match (endpoint_url.map(|url| url.trim_end_matches('/')), style) {
        (Some(endpoint), AddressingStyle::Path) => format!("{endpoint}/{bucket}"),
        (Some(endpoint), AddressingStyle::Virtual) => match endpoint.split_once("://") {
            Some((scheme, host)) => format!("{scheme}://{bucket}.{host}"),
            None => format!("{endpoint}/{bucket}"),
        },
        (None, AddressingStyle::Path) => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        (None, AddressingStyle::Virtual) => format!("https://{bucket}.s3.{region}.amazonaws.com"),
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
        assert_eq!(s3_post_url(None, "b", "eu-west-1", Virtual), "https://b.s3.eu-west-1.amazonaws.com");
        assert_eq!(s3_post_url(None, "b", "eu-west-1", Path), "https://s3.eu-west-1.amazonaws.com/b");
        assert_eq!(
            s3_post_url(Some("http://127.0.0.1:8333/"), "b", "us-east-1", Path),
            "http://127.0.0.1:8333/b"
        );
        assert_eq!(
            s3_post_url(Some("https://minio.example"), "b", "us-east-1", Virtual),
            "https://b.minio.example"
        );
    }
}

#[cfg(test)]
mod command_tests {
    use super::*;

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
            matches!(check, Command::Check { deploy: true, settings } if settings.bucket_name.as_deref() == Some("b"))
        );
    }
}
