//! [`Config::from_settings`]: every setting checked and parsed once, every problem reported at
//! once, each naming the setting at fault.

use std::time::Duration;

use super::settings::{MAX_CONNECTIONS, MIN_SECRET_LEN, NO_DEV_STORE};
use super::{
    BucketHost, ChecksumSetting, Config, CredentialSource, Downloads, Finals, Front, Limits, Secrets,
    Settings, Store, Uploads, S3,
};
use crate::cloudfront_signer::CloudFrontSigner;
use crate::gzip::Gzip;
use crate::keys::FinalNaming;
use crate::object_parameters::ObjectParameters;
use crate::part_plan::{MAX_OBJECT_SIZE, MAX_PART_SIZE, MIN_PART_SIZE};
use crate::transport;
use crate::upload_checksum::UploadChecksum;

impl Config {
    /// The configuration `settings` give, or every reason they cannot serve.
    pub fn from_settings(settings: &Settings) -> Result<Config, Vec<String>> {
        let mut errors = Vec::new();
        let store = store(settings, &mut errors);
        let secrets = secrets(settings, &mut errors);
        let limits = limits(settings, &mut errors);
        let downloads = downloads(settings, &mut errors);
        let front = front(settings, &mut errors);
        let uploads = uploads(settings, &mut errors);
        let finals = finals(settings, &mut errors);
        if !matches!(settings.signature_version.as_str(), "s3v4" | "v4") {
            errors.push(format!(
                "AWS_S3_SIGNATURE_VERSION {:?} is not supported: S3 POST policies here are SigV4 (s3v4)",
                settings.signature_version
            ));
        }
        let object_parameters =
            ObjectParameters::parse(settings.object_parameters.as_deref(), settings.default_acl.as_deref())
                .map_err(|error| errors.push(error))
                .ok();
        if settings.max_file_size > MAX_OBJECT_SIZE {
            errors.push("S3FILE_MAX_FILE_SIZE may be at most 5 TiB, S3's largest object".to_owned());
        }
        let rules = settings.field_rules().map_err(|problems| errors.extend(problems)).ok();
        let gzip = gzip(settings, object_parameters.as_ref(), &mut errors);
        match (store, secrets, limits, downloads, front, uploads, finals, object_parameters, rules, gzip) {
            (
                Some(store),
                Some(secrets),
                Some(limits),
                Some(downloads),
                Some(front),
                Some(uploads),
                Some(finals),
                Some(object_parameters),
                Some(rules),
                Some(gzip),
            ) if errors.is_empty() => Ok(Config {
                listen: settings.listen,
                store,
                secrets,
                rules,
                uploads,
                finals,
                downloads,
                object_parameters,
                gzip,
                limits,
                front,
            }),
            _ => Err(errors),
        }
    }
}

impl Config {
    /// [`Config::from_settings`] for the commands that refuse to start on any error: the errors
    /// as one, a line each.
    pub fn load(settings: &Settings) -> anyhow::Result<Config> {
        Config::from_settings(settings)
            .map_err(|errors| anyhow::anyhow!("invalid settings:\n  {}", errors.join("\n  ")))
    }
}

impl Settings {
    /// Every reason these settings cannot serve; empty when [`Config::from_settings`] takes them.
    pub fn errors(&self) -> Vec<String> {
        Config::from_settings(self).err().unwrap_or_default()
    }
}

/// S3 or the dev store: exactly one must be asked for.
fn store(settings: &Settings, errors: &mut Vec<String>) -> Option<Store> {
    // Checked in dev mode too: a mistake here must not wait for the switch to S3 to show.
    let trust = transport::parse_verify(settings.verify.as_deref()).map_err(|error| errors.push(error)).ok();
    let proxy = transport::proxy_for(settings.proxies.as_deref(), settings.endpoint_scheme())
        .map_err(|error| errors.push(error))
        .ok();
    let credentials = credentials(settings, errors);
    let store = match (&settings.bucket_name, settings.dev) {
        (None, false) => {
            errors.push(
                "set AWS_STORAGE_BUCKET_NAME (the bucket uploads go to), or pass --dev (S3FILE_DEV=true) \
                 for the embedded development store"
                    .to_owned(),
            );
            None
        }
        (Some(_), true) => {
            errors.push(
                "S3FILE_DEV (--dev) and AWS_STORAGE_BUCKET_NAME exclude each other: dev mode stores \
                 uploads in the embedded store, not in a bucket; unset one"
                    .to_owned(),
            );
            None
        }
        (None, true) if !cfg!(feature = "dev-store") => {
            errors.push(NO_DEV_STORE.to_owned());
            None
        }
        (None, true) => Some(Store::Dev { dir: settings.dev_store_dir.clone() }),
        (Some(bucket), false) => Some(Store::S3(S3 {
            bucket: bucket.to_owned(),
            region: settings.region_name.clone(),
            endpoint_url: settings.endpoint_url.clone(),
            public_endpoint_url: settings.public_endpoint_url.clone(),
            addressing_style: settings.effective_addressing_style(),
            use_ssl: settings.use_ssl,
            credentials: credentials?,
            trust: trust?,
            proxy: proxy?,
        })),
    };
    for (name, url) in [
        ("AWS_S3_ENDPOINT_URL", &settings.endpoint_url),
        ("S3FILE_PUBLIC_ENDPOINT_URL", &settings.public_endpoint_url),
    ] {
        if let Some(url) = url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                errors.push(format!("{name} must start with http:// or https://, got {url:?}"));
            }
        }
    }
    store
}

fn credentials(settings: &Settings, errors: &mut Vec<String>) -> Option<CredentialSource> {
    let before = errors.len();
    if settings.access_key_id.is_some() != settings.secret_access_key.is_some() {
        errors.push("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither".to_owned());
    }
    if settings.s3_access_key_id.is_some() != settings.s3_secret_access_key.is_some() {
        errors.push("set both AWS_S3_ACCESS_KEY_ID and AWS_S3_SECRET_ACCESS_KEY, or neither".to_owned());
    }
    if settings.session_profile.is_some() && settings.s3_access_key_id.is_some() {
        errors.push(
            "AWS_S3_SESSION_PROFILE and AWS_S3_ACCESS_KEY_ID/AWS_S3_SECRET_ACCESS_KEY exclude each other; set one"
                .to_owned(),
        );
    }
    if errors.len() > before {
        return None;
    }
    Some(match (&settings.session_profile, settings.explicit_keys()) {
        (Some(profile), _) => CredentialSource::Profile(profile.clone()),
        (None, Some((id, secret))) => CredentialSource::Keys {
            id: id.to_owned(),
            secret: secret.to_owned(),
            session_token: settings.session_token.clone(),
        },
        (None, None) => CredentialSource::DefaultChain,
    })
}

/// A folder signature or multipart ticket is only as strong as the weakest secret that
/// verifies it, so a fallback secret is held to the same rule; only a secret nobody gave may be
/// made up, in dev mode, where a random one is strong.
fn secrets(settings: &Settings, errors: &mut Vec<String>) -> Option<Secrets> {
    let before = errors.len();
    let advice = "use at least 32 random bytes, such as the output of `openssl rand -hex 32`";
    match &settings.secret_key {
        None if !settings.is_dev_mode() => {
            errors.push(format!("set S3FILE_SECRET_KEY (the same random value on every replica); {advice}"))
        }
        None => {}
        Some(secret) if secret.is_empty() => errors.push(format!("S3FILE_SECRET_KEY is empty; {advice}")),
        Some(secret) if secret.len() < MIN_SECRET_LEN => {
            errors.push(format!("S3FILE_SECRET_KEY is shorter than {MIN_SECRET_LEN} bytes; {advice}"))
        }
        Some(_) => {}
    }
    let count = settings.fallback_secret_keys.len();
    for (index, secret) in settings.fallback_secret_keys.iter().enumerate() {
        let which = format!("secret {} of {count} in S3FILE_FALLBACK_SECRET_KEYS", index + 1);
        if secret.is_empty() {
            errors.push(format!(
                "{which} is empty (a stray comma?); leave S3FILE_FALLBACK_SECRET_KEYS empty for none"
            ));
        } else if secret.len() < MIN_SECRET_LEN {
            errors.push(format!("{which} is shorter than {MIN_SECRET_LEN} bytes; {advice}"));
        }
    }
    (errors.len() == before).then(|| Secrets {
        current: settings.secret_key.clone(),
        fallbacks: settings.fallback_secret_keys.clone(),
    })
}

fn limits(settings: &Settings, errors: &mut Vec<String>) -> Option<Limits> {
    let before = errors.len();
    if !(1..=MAX_CONNECTIONS).contains(&settings.max_connections) {
        errors.push(format!("S3FILE_MAX_CONNECTIONS must be between 1 and {MAX_CONNECTIONS}"));
    }
    if settings.header_timeout == 0 || settings.body_timeout == 0 {
        errors.push("S3FILE_HEADER_TIMEOUT and S3FILE_BODY_TIMEOUT must be at least 1 second".to_owned());
    }
    (errors.len() == before).then(|| Limits {
        max_connections: settings.max_connections,
        header_timeout: Duration::from_secs(settings.header_timeout),
        body_timeout: Duration::from_secs(settings.body_timeout),
    })
}

/// django-storages' precedence: `AWS_S3_CUSTOM_DOMAIN` (CloudFront-signed when a key is set),
/// then S3's URLs on `AWS_S3_PUBLIC_DOMAIN`, then on the endpoint; presigned unless
/// `AWS_QUERYSTRING_AUTH` is off.
fn downloads(settings: &Settings, errors: &mut Vec<String>) -> Option<Downloads> {
    let before = errors.len();
    for (name, domain) in
        [("AWS_S3_CUSTOM_DOMAIN", &settings.custom_domain), ("AWS_S3_PUBLIC_DOMAIN", &settings.public_domain)]
    {
        if let Some(domain) = domain {
            if !is_bare_domain(domain) {
                errors.push(format!(
                    "{name} must be a bare domain such as cdn.example.com (no scheme, no trailing /), got {domain:?}"
                ));
            }
        }
    }
    if !matches!(settings.url_protocol.as_str(), "https:" | "http:") {
        errors.push(format!("AWS_S3_URL_PROTOCOL must be https: or http:, got {:?}", settings.url_protocol));
    }
    if settings.querystring_expire == 0 || settings.querystring_expire > 7 * 24 * 3600 {
        errors.push("AWS_QUERYSTRING_EXPIRE must be between 1 second and 7 days (SigV4's limit)".to_owned());
    }
    let cloudfront = cloudfront_signer(settings, errors);
    if errors.len() > before {
        return None;
    }
    let protocol = settings.url_protocol.clone();
    let expire = Duration::from_secs(settings.querystring_expire);
    let host = match &settings.public_domain {
        Some(domain) => BucketHost::PublicDomain { origin: format!("{protocol}//{domain}") },
        None => BucketHost::Endpoint,
    };
    Some(match (&settings.custom_domain, cloudfront, settings.querystring_auth) {
        (Some(domain), Some(signer), _) => {
            Downloads::CloudFront { protocol, domain: domain.clone(), signer: Box::new(signer), expire }
        }
        (Some(domain), None, _) => Downloads::CustomDomain { protocol, domain: domain.clone() },
        (None, _, false) => Downloads::Public { host },
        (None, _, true) => Downloads::Presigned { host, expire },
    })
}

/// A domain as django-storages takes it: a host (and port, or path), without scheme or trailing
/// slash, and nothing that would end a URL's authority or start its query.
fn is_bare_domain(domain: &str) -> bool {
    !domain.is_empty()
        && !domain.ends_with('/')
        && !domain.contains("://")
        && !domain.starts_with('/')
        && !domain.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '@' | '\\'))
}

/// The CloudFront key, read once here: both settings or neither, on a custom domain (the
/// distribution's), with querystring auth on. Decided where django-storages is silent or
/// lenient: a key without a custom domain would sign nothing, and one with querystring auth
/// off would be ignored, so both stop the start-up instead of serving URLs other than meant.
fn cloudfront_signer(settings: &Settings, errors: &mut Vec<String>) -> Option<CloudFrontSigner> {
    let (key, id) = match (&settings.cloudfront_key, &settings.cloudfront_key_id) {
        (None, None) => return None,
        (Some(key), Some(id)) => (key, id),
        _ => {
            errors.push(
                "set both AWS_CLOUDFRONT_KEY and AWS_CLOUDFRONT_KEY_ID (the key's id in CloudFront), or neither"
                    .to_owned(),
            );
            return None;
        }
    };
    if settings.custom_domain.is_none() {
        errors.push(
            "AWS_CLOUDFRONT_KEY signs URLs of a CloudFront distribution: set AWS_S3_CUSTOM_DOMAIN to its domain \
             (such as d111111abcdef8.cloudfront.net)"
                .to_owned(),
        );
    }
    if !settings.querystring_auth {
        errors.push(
            "AWS_CLOUDFRONT_KEY is set but AWS_QUERYSTRING_AUTH is false, which would leave download URLs \
             unsigned: unset the key, or turn AWS_QUERYSTRING_AUTH on"
                .to_owned(),
        );
    }
    CloudFrontSigner::from_pem(id, key).map_err(|error| errors.push(error)).ok()
}

fn front(settings: &Settings, errors: &mut Vec<String>) -> Option<Front> {
    let Some(upstream) = &settings.upstream else {
        return Some(settings.www.clone().map_or(Front::Nothing, Front::Www));
    };
    let before = errors.len();
    if !upstream.starts_with("http://") {
        errors.push(format!(
            "S3FILE_UPSTREAM must be a plain http:// URL of an application next to the signer, got {upstream:?}"
        ));
    }
    if settings.www.is_some() {
        errors.push("S3FILE_UPSTREAM and S3FILE_WWW exclude each other: both would answer `/`".to_owned());
    }
    if settings.secret_key.is_none() {
        errors.push(
            "S3FILE_UPSTREAM needs S3FILE_SECRET_KEY: the application verifies forwarded forms with it"
                .to_owned(),
        );
    }
    (errors.len() == before)
        .then(|| Front::Upstream { url: upstream.clone(), trusted: settings.trusted_proxies.clone() })
}

fn uploads(settings: &Settings, errors: &mut Vec<String>) -> Option<Uploads> {
    let before = errors.len();
    if settings.upload_path.trim_matches('/').is_empty() {
        errors.push("S3FILE_UPLOAD_PATH must name a folder, such as tmp/s3file".to_owned());
    }
    if settings.upload_expire == 0 || settings.signature_expire < settings.upload_expire {
        errors.push(
            "S3FILE_SIGNATURE_EXPIRE must be at least S3FILE_UPLOAD_EXPIRE, and both above zero".to_owned(),
        );
    }
    if settings.multipart_threshold > MAX_PART_SIZE {
        errors.push("S3FILE_MULTIPART_THRESHOLD may be at most 5 GiB, the largest single upload".to_owned());
    }
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&settings.multipart_part_size) {
        errors.push("S3FILE_MULTIPART_PART_SIZE must be between 5 MiB and 5 GiB, S3's part sizes".to_owned());
    }
    (errors.len() == before).then(|| Uploads {
        path: settings.upload_path.clone(),
        method: settings.upload_method,
        checksum: upload_checksum(settings),
        multipart_threshold: settings.multipart_threshold,
        part_size: settings.multipart_part_size,
        upload_expire: Duration::from_secs(settings.upload_expire),
        signature_expire: Duration::from_secs(settings.signature_expire),
    })
}

/// `S3FILE_CHECKSUM`, with `auto` resolved: the dev store verifies what AWS does.
fn upload_checksum(settings: &Settings) -> UploadChecksum {
    match settings.checksum {
        ChecksumSetting::Auto if settings.dev => UploadChecksum::Md5,
        ChecksumSetting::Auto => UploadChecksum::auto(settings.endpoint_url.as_deref()),
        ChecksumSetting::Md5 => UploadChecksum::Md5,
        ChecksumSetting::Crc32 => UploadChecksum::Crc32,
        ChecksumSetting::Off => UploadChecksum::Off,
    }
}

fn finals(settings: &Settings, errors: &mut Vec<String>) -> Option<Finals> {
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&settings.multipart_copy_threshold) {
        errors.push("S3FILE_MULTIPART_COPY_THRESHOLD must be between 5 MiB and 5 GiB".to_owned());
        return None;
    }
    Some(Finals {
        location: settings.location.clone(),
        naming: FinalNaming::from_overwrite(settings.file_overwrite),
        copy_threshold: settings.multipart_copy_threshold,
    })
}

/// `AWS_IS_GZIPPED` and `GZIP_CONTENT_TYPES`. django-storages leaves a file alone when the
/// object parameters already give a `ContentEncoding`; set for every object, that would switch
/// gzip off for all of them without a word, so the two are refused together instead.
fn gzip(
    settings: &Settings,
    parameters: Option<&ObjectParameters>,
    errors: &mut Vec<String>,
) -> Option<Gzip> {
    let gzip = Gzip::from_settings(settings.is_gzipped, &settings.gzip_content_types)
        .map_err(|error| errors.push(error))
        .ok()?;
    if gzip != Gzip::Off && parameters.is_some_and(|parameters| parameters.content_encoding.is_some()) {
        errors.push(
            "AWS_IS_GZIPPED and a ContentEncoding in AWS_S3_OBJECT_PARAMETERS exclude each other: the \
             parameter would leave every file uncompressed; remove one"
                .to_owned(),
        );
        return None;
    }
    Some(gzip)
}
