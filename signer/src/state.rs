//! Everything the handlers share, built once at start-up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};

#[cfg(feature = "dev-store")]
use crate::config::DEV_BUCKET;
use crate::config::{BucketHost, Config, CredentialSource, Settings, Store, DEFAULT_REGION};
use crate::credentials::CachedCredentials;
#[cfg(feature = "dev-store")]
use crate::dev_store::DevStore;
use crate::folder_token::FolderSigner;
use crate::metrics::Metrics;
use crate::s3_url;
use crate::sigv4::SigningKeyCache;
use crate::storage::Storage;
use crate::transport;
use crate::upstream::Upstream;

#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

pub struct Shared {
    pub config: Config,
    pub storage: Storage,
    pub credentials: CachedCredentials,
    pub signing_keys: SigningKeyCache,
    pub folders: FolderSigner,
    pub region: String,
    /// The bucket's URL as browsers reach it to upload.
    pub bucket_url: String,
    /// The base of plain download URLs: `bucket_url`, or the bucket on `AWS_S3_PUBLIC_DOMAIN`.
    pub download_bucket_url: String,
    /// Where browsers POST their uploads.
    pub post_url: PostUrl,
    #[cfg(feature = "dev-store")]
    pub dev_store: Option<DevStore>,
    /// The application behind the signer, in proxy mode.
    pub upstream: Option<Upstream>,
    pub metrics: Metrics,
}

/// Where browsers POST their uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostUrl {
    /// The bucket's URL, as browsers reach it.
    Bucket,
    /// The dev store, which is this very server: `/s3/<bucket>` on whatever host the browser
    /// used to reach it.
    SameHost,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Checks and parses `settings`, then builds the state as [`AppState::from_config`].
    pub async fn build(settings: Settings, local_addr: SocketAddr) -> anyhow::Result<AppState> {
        AppState::build_with_credentials(settings, local_addr, None).await
    }

    /// As [`AppState::build`], with the AWS credentials coming from `provider` instead of the
    /// settings and the default chain (tests use it to count and delay fetches).
    pub async fn build_with_credentials(
        settings: Settings,
        local_addr: SocketAddr,
        provider: Option<SharedCredentialsProvider>,
    ) -> anyhow::Result<AppState> {
        AppState::from_config(Config::load(&settings)?, local_addr, provider).await
    }

    /// Connects the S3 client (and, in dev mode, opens the store). `local_addr` is where this
    /// process listens, which dev mode needs to reach its own store.
    pub async fn from_config(
        config: Config,
        local_addr: SocketAddr,
        provider: Option<SharedCredentialsProvider>,
    ) -> anyhow::Result<AppState> {
        // Every secret is strong: `Config::from_settings` refuses any shorter than MIN_SECRET_LEN.
        let secret = match &config.secrets.current {
            Some(secret) => secret.clone().into_bytes(),
            None => {
                // Only dev mode gets here: 32 random bytes are as strong as a secret gets.
                tracing::warn!("S3FILE_SECRET_KEY is not set: using a random secret; uploads signed now fail after a restart");
                hex::encode(rand::random::<[u8; 32]>()).into_bytes()
            }
        };
        let mut secrets: Vec<&[u8]> = vec![&secret];
        secrets.extend(config.secrets.fallbacks.iter().map(|s| s.as_bytes()));
        let folders = FolderSigner::new(&secrets);
        let upstream = match &config.front {
            crate::config::Front::Upstream { url, .. } => Some(Upstream::new(url)?),
            _ => None,
        };
        match &config.store {
            Store::S3(_) => build_s3(config, folders, upstream, provider).await,
            Store::Dev { .. } => build_dev(config, local_addr, folders, upstream).await,
        }
    }

    /// The dev store, when this signer is one.
    #[cfg(feature = "dev-store")]
    pub fn dev_store(&self) -> Option<&DevStore> {
        self.dev_store.as_ref()
    }
}

/// `Config::from_settings` refuses `--dev` in a build without the dev store.
#[cfg(not(feature = "dev-store"))]
async fn build_dev(
    _: Config,
    _: SocketAddr,
    _: FolderSigner,
    _: Option<Upstream>,
) -> anyhow::Result<AppState> {
    anyhow::bail!("{}", crate::config::NO_DEV_STORE)
}

fn s3_client_config(
    base: aws_sdk_s3::config::Builder,
    credentials: &CachedCredentials,
    region: &str,
    endpoint_url: Option<&str>,
    path_style: bool,
) -> aws_sdk_s3::Config {
    let mut builder = base
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials.clone())
        .force_path_style(path_style)
        // Checksums on every request by default would make the SDK send aws-chunked bodies,
        // which S3-compatible stores do not all take; S3 verifies what it needs to.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .timeout_config(
            aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .build(),
        );
    if let Some(endpoint) = endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    builder.build()
}

#[cfg(feature = "dev-store")]
async fn build_dev(
    config: Config,
    local_addr: SocketAddr,
    folders: FolderSigner,
    upstream: Option<Upstream>,
) -> anyhow::Result<AppState> {
    let Store::Dev { dir } = &config.store else { unreachable!("called for the dev store") };
    // The store's key pair follows from S3FILE_SECRET_KEY, so several signers sharing a secret
    // and a store directory act as replicas of one service; without a secret, each process
    // has a random pair of its own.
    let secret = match &config.secrets.current {
        Some(key) => {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
            mac.update(b"s3file dev store credentials");
            hex::encode(mac.finalize().into_bytes())
        }
        None => hex::encode(rand::random::<[u8; 20]>()),
    };
    let credentials = crate::sigv4::Credentials::new("S3FILEDEVSTORE", &secret, None);
    let dev_store = DevStore::open(dir, DEV_BUCKET, credentials)
        .with_context(|| format!("open the dev store in {}", dir.display()))?;
    let provider = SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
        "S3FILEDEVSTORE",
        secret,
        None,
        None,
        "dev-store",
    ));
    let credentials = CachedCredentials::new(provider);
    let mut own_addr = local_addr;
    if own_addr.ip().is_unspecified() {
        own_addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let own_origin = format!("http://{own_addr}");
    // This process is the store: proxy variables meant for the outside world must not apply.
    let direct = transport::http_client(&transport::Trust::SystemRoots, &transport::Proxy::Direct)?;
    let client_at = |origin: &str| {
        let client_config = s3_client_config(
            aws_sdk_s3::Config::builder().http_client(direct.clone()),
            &credentials,
            DEFAULT_REGION,
            Some(&s3_url::dev_store_endpoint(origin)),
            true,
        );
        aws_sdk_s3::Client::from_conf(client_config)
    };
    tracing::warn!(dir = %dir.display(), "dev mode: uploads go to the embedded store; never use it in production");
    let client = client_at(&own_origin);
    let (download_origin, download_presigner) = match config.downloads.bucket_host() {
        BucketHost::PublicDomain { origin } => (origin.clone(), client_at(origin)),
        BucketHost::Endpoint => (own_origin.clone(), client.clone()),
    };
    Ok(AppState(Arc::new(Shared {
        storage: Storage {
            presigner: client.clone(),
            download_presigner,
            client,
            bucket: DEV_BUCKET.to_owned(),
            parameters: config.object_parameters.clone(),
            single_copy_limit: config.finals.copy_threshold,
            copy_part_size: config.finals.copy_threshold,
        },
        credentials,
        signing_keys: SigningKeyCache::default(),
        folders,
        region: DEFAULT_REGION.to_owned(),
        bucket_url: s3_url::dev_store_bucket_url(&own_origin, DEV_BUCKET),
        download_bucket_url: s3_url::dev_store_bucket_url(&download_origin, DEV_BUCKET),
        post_url: PostUrl::SameHost,
        dev_store: Some(dev_store),
        upstream,
        metrics: Metrics::default(),
        config,
    })))
}

async fn build_s3(
    config: Config,
    folders: FolderSigner,
    upstream: Option<Upstream>,
    provider: Option<SharedCredentialsProvider>,
) -> anyhow::Result<AppState> {
    let Store::S3(s3) = &config.store else { unreachable!("called for S3") };
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &s3.region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader = match &s3.credentials {
        CredentialSource::Profile(profile) => loader.profile_name(profile),
        CredentialSource::Keys { id, secret, session_token } => loader.credentials_provider(
            aws_credential_types::Credentials::new(id, secret, session_token.clone(), None, "settings"),
        ),
        CredentialSource::DefaultChain => loader,
    };
    let sdk_config = loader.load().await;
    let region =
        sdk_config.region().map(|region| region.to_string()).unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let provider = match provider {
        Some(provider) => provider,
        None => sdk_config.credentials_provider().context(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a role",
        )?,
    };
    let credentials = CachedCredentials::new(provider);
    let path_style = s3.addressing_style == crate::config::AddressingStyle::Path;
    let endpoint =
        s3.endpoint_url.clone().or_else(|| (!s3.use_ssl).then(|| s3_url::aws_http_endpoint(&region)));
    let http_client = transport::http_client(&s3.trust, &s3.proxy)?;
    let client_for = |endpoint: Option<&str>| {
        let client_config = s3_client_config(
            aws_sdk_s3::config::Builder::from(&sdk_config).http_client(http_client.clone()),
            &credentials,
            &region,
            endpoint,
            path_style,
        );
        aws_sdk_s3::Client::from_conf(client_config)
    };
    let client = client_for(endpoint.as_deref());
    let presigner = match &s3.public_endpoint_url {
        Some(public) => client_for(Some(public)),
        None => client.clone(),
    };
    let public_endpoint = s3.public_endpoint_url.as_deref().or(s3.endpoint_url.as_deref());
    let bucket_url =
        s3_url::bucket_url(public_endpoint, &s3.bucket, &region, s3.addressing_style, s3.use_ssl);
    let download_presigner = match config.downloads.bucket_host() {
        BucketHost::PublicDomain { origin } => client_for(Some(origin)),
        BucketHost::Endpoint => presigner.clone(),
    };
    let download_endpoint = s3_url::download_endpoint(config.downloads.bucket_host(), public_endpoint);
    let download_bucket_url =
        s3_url::bucket_url(download_endpoint, &s3.bucket, &region, s3.addressing_style, s3.use_ssl);
    tracing::info!(bucket = %s3.bucket, %region, %bucket_url, "uploads go to S3");
    Ok(AppState(Arc::new(Shared {
        storage: Storage {
            client,
            presigner,
            download_presigner,
            bucket: s3.bucket.clone(),
            parameters: config.object_parameters.clone(),
            single_copy_limit: config.finals.copy_threshold,
            copy_part_size: config.finals.copy_threshold,
        },
        credentials,
        signing_keys: SigningKeyCache::default(),
        folders,
        region,
        bucket_url,
        download_bucket_url,
        post_url: PostUrl::Bucket,
        #[cfg(feature = "dev-store")]
        dev_store: None,
        upstream,
        metrics: Metrics::default(),
        config,
    })))
}
