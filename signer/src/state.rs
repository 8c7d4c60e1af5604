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
use crate::config::{self, Settings, DEFAULT_REGION};
use crate::credentials::CachedCredentials;
#[cfg(feature = "dev-store")]
use crate::dev_store::DevStore;
use crate::field_rules::FieldRules;
use crate::folder_token::FolderSigner;
use crate::metrics::Metrics;
use crate::object_parameters::ObjectParameters;
use crate::sigv4::SigningKeyCache;
use crate::storage::Storage;
use crate::transport;
use crate::upstream::Upstream;

#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

pub struct Shared {
    pub settings: Settings,
    pub storage: Storage,
    pub credentials: CachedCredentials,
    pub signing_keys: SigningKeyCache,
    pub folders: FolderSigner,
    /// What each field may upload (`S3FILE_ACCEPT`, `S3FILE_FIELDS`, `S3FILE_MAX_FILE_SIZE`),
    /// checked when signing and again when finalizing.
    pub rules: FieldRules,
    pub region: String,
    /// The bucket's URL as browsers reach it: the base of plain download URLs.
    pub bucket_url: String,
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
    /// Resolves configuration and connects the S3 client. `local_addr` is where this process
    /// listens, which dev mode needs to reach its own store.
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
        // Refuses, among others, a missing bucket without dev mode and any secret shorter than
        // MIN_SECRET_LEN, so every secret below is strong.
        settings.validate()?;
        let secret = match &settings.secret_key {
            Some(secret) => secret.clone().into_bytes(),
            None => {
                // Only dev mode gets here: 32 random bytes are as strong as a secret gets.
                tracing::warn!("S3FILE_SECRET_KEY is not set: using a random secret; uploads signed now fail after a restart");
                hex::encode(rand::random::<[u8; 32]>()).into_bytes()
            }
        };
        let mut secrets: Vec<&[u8]> = vec![&secret];
        secrets.extend(settings.fallback_secret_keys.iter().map(|s| s.as_bytes()));
        let folders = FolderSigner::new(&secrets);

        if settings.is_dev_mode() {
            build_dev(settings, local_addr, folders).await
        } else {
            build_s3(settings, folders, provider).await
        }
    }
}

/// `Settings::errors` refuses `--dev` in a build without the dev store.
#[cfg(not(feature = "dev-store"))]
async fn build_dev(_: Settings, _: SocketAddr, _: FolderSigner) -> anyhow::Result<AppState> {
    anyhow::bail!("{}", config::NO_DEV_STORE)
}

impl AppState {
    /// The dev store, when this signer is one.
    #[cfg(feature = "dev-store")]
    pub fn dev_store(&self) -> Option<&DevStore> {
        self.dev_store.as_ref()
    }
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
    settings: Settings,
    local_addr: SocketAddr,
    folders: FolderSigner,
) -> anyhow::Result<AppState> {
    // The store's key pair follows from S3FILE_SECRET_KEY, so several signers sharing a secret
    // and a store directory act as replicas of one service; without a secret, each process
    // has a random pair of its own.
    let secret = match &settings.secret_key {
        Some(key) => {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
            mac.update(b"s3file dev store credentials");
            hex::encode(mac.finalize().into_bytes())
        }
        None => hex::encode(rand::random::<[u8; 20]>()),
    };
    let credentials = crate::sigv4::Credentials::new("S3FILEDEVSTORE", &secret, None);
    let parameters =
        ObjectParameters::parse(settings.object_parameters.as_deref(), settings.default_acl.as_deref())
            .map_err(anyhow::Error::msg)?;
    let dev_store = DevStore::open(&settings.dev_store_dir, DEV_BUCKET, credentials)
        .with_context(|| format!("open the dev store in {}", settings.dev_store_dir.display()))?;
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
    // The trailing slash matters: the SDK appends `bucket/key` to the endpoint path as is.
    let endpoint = format!("http://{own_addr}/s3/");
    // This process is the store: proxy variables meant for the outside world must not apply.
    let direct = transport::http_client(&transport::Trust::SystemRoots, &transport::Proxy::Direct)?;
    let config = s3_client_config(
        aws_sdk_s3::Config::builder().http_client(direct),
        &credentials,
        DEFAULT_REGION,
        Some(&endpoint),
        true,
    );
    tracing::warn!(dir = %settings.dev_store_dir.display(), "dev mode: uploads go to the embedded store; never use it in production");
    let client = aws_sdk_s3::Client::from_conf(config);
    Ok(AppState(Arc::new(Shared {
        storage: Storage {
            presigner: client.clone(),
            client,
            bucket: DEV_BUCKET.to_owned(),
            parameters,
            single_copy_limit: settings.multipart_copy_threshold,
            copy_part_size: settings.multipart_copy_threshold,
        },
        credentials,
        signing_keys: SigningKeyCache::default(),
        folders,
        region: DEFAULT_REGION.to_owned(),
        bucket_url: format!("{endpoint}{DEV_BUCKET}"),
        post_url: PostUrl::SameHost,
        dev_store: Some(dev_store),
        upstream: settings.upstream.as_deref().map(Upstream::new).transpose()?,
        metrics: Metrics::default(),
        rules: upload_rules(&settings)?,
        settings,
    })))
}

async fn build_s3(
    settings: Settings,
    folders: FolderSigner,
    provider: Option<SharedCredentialsProvider>,
) -> anyhow::Result<AppState> {
    let bucket = settings.bucket_name.clone().expect("S3 mode has a bucket");
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &settings.region_name {
        loader = loader.region(Region::new(region.clone()));
    }
    // django-storages' order: a session profile, then explicit keys, then the default chain
    // (environment, web identity, ECS, EC2 metadata, profile files).
    if let Some(profile) = &settings.session_profile {
        loader = loader.profile_name(profile);
    } else if let Some((id, secret)) = settings.explicit_keys() {
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            id,
            secret,
            settings.session_token.clone(),
            None,
            "settings",
        ));
    }
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
    let style = settings.effective_addressing_style();
    let path_style = style == config::AddressingStyle::Path;
    let endpoint = settings
        .endpoint_url
        .clone()
        .or_else(|| (!settings.use_ssl).then(|| format!("http://s3.{region}.amazonaws.com")));
    let trust = transport::parse_verify(settings.verify.as_deref()).map_err(anyhow::Error::msg)?;
    let proxy = transport::proxy_for(settings.proxies.as_deref(), settings.endpoint_scheme())
        .map_err(anyhow::Error::msg)?;
    let http_client = transport::http_client(&trust, &proxy)?;
    let client_for = |endpoint: Option<&str>| {
        let config = s3_client_config(
            aws_sdk_s3::config::Builder::from(&sdk_config).http_client(http_client.clone()),
            &credentials,
            &region,
            endpoint,
            path_style,
        );
        aws_sdk_s3::Client::from_conf(config)
    };
    let client = client_for(endpoint.as_deref());
    let presigner = match &settings.public_endpoint_url {
        Some(public) => client_for(Some(public)),
        None => client.clone(),
    };
    let public_endpoint = settings.public_endpoint_url.as_deref().or(settings.endpoint_url.as_deref());
    let bucket_url = config::s3_post_url(public_endpoint, &bucket, &region, style, settings.use_ssl);
    let parameters =
        ObjectParameters::parse(settings.object_parameters.as_deref(), settings.default_acl.as_deref())
            .map_err(anyhow::Error::msg)?;
    tracing::info!(%bucket, %region, %bucket_url, "uploads go to S3");
    Ok(AppState(Arc::new(Shared {
        storage: Storage {
            client,
            presigner,
            bucket,
            parameters,
            single_copy_limit: settings.multipart_copy_threshold,
            copy_part_size: settings.multipart_copy_threshold,
        },
        credentials,
        signing_keys: SigningKeyCache::default(),
        folders,
        region,
        bucket_url,
        post_url: PostUrl::Bucket,
        #[cfg(feature = "dev-store")]
        dev_store: None,
        upstream: settings.upstream.as_deref().map(Upstream::new).transpose()?,
        metrics: Metrics::default(),
        rules: upload_rules(&settings)?,
        settings,
    })))
}

/// The upload rules; `Settings::errors` has refused rules that do not parse already.
fn upload_rules(settings: &Settings) -> anyhow::Result<FieldRules> {
    settings
        .field_rules()
        .map_err(|problems| anyhow::anyhow!("invalid upload rules: {}", problems.join("; ")))
}
