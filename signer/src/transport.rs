//! How the signer's S3 client reaches the endpoint: which certificates it trusts
//! (AWS_S3_VERIFY) and which proxy carries its requests (AWS_S3_PROXIES).
//!
//! Both follow botocore, which django-storages hands them to: `verify` is true or the path of a
//! PEM CA bundle that replaces the system's roots; `proxies` maps a URL scheme to a proxy URL,
//! and the entry for the endpoint's scheme is used. Without `proxies`, the standard
//! HTTPS_PROXY / HTTP_PROXY / NO_PROXY variables apply, as in botocore.
//!
//! The parsing is pure and done once by `Config::from_settings`, so a bad value stops the signer at
//! start-up with a message instead of failing the first upload.

use std::path::PathBuf;

use anyhow::Context;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Which certificates the S3 client accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The operating system's roots.
    SystemRoots,
    /// Only the certificates of this PEM bundle.
    Bundle(PathBuf),
}

/// Reads AWS_S3_VERIFY. botocore also takes `False` (no verification at all); the signer
/// refuses it, since it hands out upload rights based on what that connection says.
pub fn parse_verify(value: Option<&str>) -> Result<Trust, String> {
    let Some(value) = value.map(str::trim) else { return Ok(Trust::SystemRoots) };
    match value.to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "on" => Ok(Trust::SystemRoots),
        "false" | "0" | "no" | "off" => {
            Err("AWS_S3_VERIFY=false is not supported: the signer never talks to S3 unverified; \
             give the path of the PEM CA bundle that signed the endpoint's certificate instead"
                .to_owned())
        }
        _ => Ok(Trust::Bundle(PathBuf::from(value))),
    }
}

/// Where the S3 client's requests go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proxy {
    /// HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as the process's environment says.
    FromEnvironment,
    /// This proxy URL, for every request to the endpoint.
    Url(String),
    /// No proxy at all, whatever the environment says (the dev store is this process).
    Direct,
}

/// Picks the proxy for requests to an endpoint of `scheme` (`http` or `https`) from
/// AWS_S3_PROXIES, a JSON object such as `{"https": "http://proxy.internal:3128"}`.
/// Like botocore, only the scheme's entry counts, and a proxy without a scheme is `http://`.
pub fn proxy_for(proxies: Option<&str>, scheme: &str) -> Result<Proxy, String> {
    let Some(proxies) = proxies.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(Proxy::FromEnvironment);
    };
    let invalid = |why: &str| {
        format!("AWS_S3_PROXIES {why}; expected JSON such as {{\"https\": \"http://proxy:3128\"}}")
    };
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(proxies).map_err(|error| invalid(&format!("is not a JSON object ({error})")))?;
    let mut chosen = None;
    for (key, value) in &map {
        let url = value.as_str().ok_or_else(|| invalid(&format!("has a non-string value for {key:?}")))?;
        let url = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
        let parsed: http::Uri =
            url.parse().map_err(|_| invalid(&format!("has an invalid URL for {key:?}")))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
            return Err(invalid(&format!("needs an http:// or https:// proxy URL for {key:?}")));
        }
        if key == scheme {
            chosen = Some(url);
        }
    }
    // An object without an entry for this scheme sends requests directly, as botocore does.
    Ok(chosen.map_or(Proxy::Direct, Proxy::Url))
}

/// The scheme the S3 client uses: the endpoint URL's own, else AWS_S3_USE_SSL's.
pub fn endpoint_scheme(endpoint_url: Option<&str>, use_ssl: bool) -> &'static str {
    match endpoint_url {
        Some(url) if url.starts_with("http://") => "http",
        Some(_) => "https",
        None if use_ssl => "https",
        None => "http",
    }
}

/// The HTTP client for the SDK: rustls with aws-lc, as the SDK's own default, with the trust
/// store and proxy asked for. A bundle is read and checked here, at start-up.
pub fn http_client(trust: &Trust, proxy: &Proxy) -> anyhow::Result<SharedHttpClient> {
    let trust_store = match trust {
        Trust::SystemRoots => TrustStore::default(),
        Trust::Bundle(path) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("read the CA bundle {} (AWS_S3_VERIFY)", path.display()))?;
            check_bundle(&pem)
                .with_context(|| format!("in the CA bundle {} (AWS_S3_VERIFY)", path.display()))?;
            TrustStore::empty().with_pem_certificate(pem)
        }
    };
    let context = TlsContext::builder().with_trust_store(trust_store).build()?;
    let proxy = match proxy {
        Proxy::FromEnvironment => ProxyConfig::from_env(),
        Proxy::Direct => ProxyConfig::disabled(),
        Proxy::Url(url) => ProxyConfig::all(url.as_str()).context("AWS_S3_PROXIES")?,
    };
    let client =
        aws_smithy_http_client::Builder::new().build_with_connector_fn(move |settings, components| {
            let mut connector = aws_smithy_http_client::Connector::builder()
                .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
                .tls_context(context.clone());
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(proxy.clone()));
            connector.build()
        });
    Ok(client)
}

/// A bundle must hold at least one certificate, and every one must be usable as a root: the TLS
/// layer would otherwise panic on the first connection.
fn check_bundle(pem: &[u8]) -> anyhow::Result<()> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| anyhow::anyhow!("not valid PEM: {error}"))?;
    anyhow::ensure!(!certificates.is_empty(), "no certificate (expected PEM `BEGIN CERTIFICATE` blocks)");
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates {
        roots.add(certificate).context("a certificate that cannot be a root")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_is_true_or_a_bundle_never_false() {
        assert_eq!(parse_verify(None), Ok(Trust::SystemRoots));
        assert_eq!(parse_verify(Some("True")), Ok(Trust::SystemRoots));
        assert_eq!(parse_verify(Some("/etc/ssl/ca.pem")), Ok(Trust::Bundle("/etc/ssl/ca.pem".into())));
        for off in ["False", "false", "0", "no"] {
            assert!(parse_verify(Some(off)).unwrap_err().contains("CA bundle"), "{off}");
        }
    }

    #[test]
    fn the_endpoints_scheme_picks_the_proxy() {
        let proxies = r#"{"http": "plain.proxy:3128", "https": "https://tls.proxy:3129"}"#;
        assert_eq!(proxy_for(Some(proxies), "http"), Ok(Proxy::Url("http://plain.proxy:3128".into())));
        assert_eq!(proxy_for(Some(proxies), "https"), Ok(Proxy::Url("https://tls.proxy:3129".into())));
        assert_eq!(proxy_for(Some(r#"{"http": "p:1"}"#), "https"), Ok(Proxy::Direct));
        assert_eq!(proxy_for(None, "https"), Ok(Proxy::FromEnvironment));
        assert_eq!(proxy_for(Some("  "), "https"), Ok(Proxy::FromEnvironment));
    }

    #[test]
    fn malformed_proxies_are_errors() {
        for bad in [
            "http://p:1",
            "[\"p\"]",
            r#"{"https": 3128}"#,
            r#"{"https": "ftp://p:1"}"#,
            r#"{"https": "http://"}"#,
        ] {
            assert!(proxy_for(Some(bad), "https").unwrap_err().contains("AWS_S3_PROXIES"), "{bad}");
        }
    }

    #[test]
    fn scheme_follows_the_endpoint_then_use_ssl() {
        assert_eq!(endpoint_scheme(Some("http://minio:9000"), true), "http");
        assert_eq!(endpoint_scheme(Some("https://minio:9000"), false), "https");
        assert_eq!(endpoint_scheme(None, true), "https");
        assert_eq!(endpoint_scheme(None, false), "http");
    }

    #[test]
    fn bundles_are_checked() {
        let ca = include_bytes!("../tests/fixtures/tls/ca.pem");
        assert!(check_bundle(ca).is_ok());
        assert!(check_bundle(b"").is_err());
        assert!(
            check_bundle(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").is_err()
        );
        let key = include_bytes!("../tests/fixtures/tls/server.key");
        assert!(check_bundle(key).is_err(), "a private key is not a certificate");
    }
}
