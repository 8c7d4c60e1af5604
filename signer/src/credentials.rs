//! One credential cache for the whole process, shared by the S3 client and the POST signer.
//!
//! The provider chain (env, profile, web identity, ECS, EC2 metadata, …) is aws-config's; this
//! module only makes sure it is asked once per credential lifetime, not once per request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use tokio::sync::{Mutex, RwLock};

use crate::sigv4;

/// Credentials closer than this to their expiry are fetched again.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Whether cached credentials with this expiry may still be used at `now`.
pub fn is_fresh(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    match expiry {
        None => true,
        Some(expiry) => expiry.duration_since(now).is_ok_and(|left| left > REFRESH_MARGIN),
    }
}

#[derive(Debug, Clone)]
pub struct CachedCredentials(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    provider: SharedCredentialsProvider,
    current: RwLock<Option<aws_credential_types::Credentials>>,
    /// Held while fetching, so concurrent requests wait for one fetch instead of each starting one.
    fetching: Mutex<()>,
}

impl CachedCredentials {
    pub fn new(provider: SharedCredentialsProvider) -> Self {
        CachedCredentials(Arc::new(Inner { provider, current: RwLock::new(None), fetching: Mutex::new(()) }))
    }

    pub async fn get(
        &self,
    ) -> Result<aws_credential_types::Credentials, aws_credential_types::provider::error::CredentialsError>
    {
        if let Some(credentials) = self.cached().await {
            return Ok(credentials);
        }
        let _fetching = self.0.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(credentials) = self.cached().await {
            return Ok(credentials);
        }
        let fresh = self.0.provider.provide_credentials().await?;
        tracing::info!(expiry = ?fresh.expiry(), "AWS credentials resolved");
        *self.0.current.write().await = Some(fresh.clone());
        Ok(fresh)
    }

    /// The credentials in the signer's own form, for POST policies.
    pub async fn signing_credentials(&self) -> anyhow::Result<sigv4::Credentials> {
        let credentials =
            self.get().await.map_err(|error| anyhow::anyhow!("cannot resolve AWS credentials: {error}"))?;
        Ok(sigv4::Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            credentials.session_token(),
        ))
    }

    async fn cached(&self) -> Option<aws_credential_types::Credentials> {
        let current = self.0.current.read().await;
        current.as_ref().filter(|credentials| is_fresh(credentials.expiry(), SystemTime::now())).cloned()
    }
}

impl ProvideCredentials for CachedCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn freshness_keeps_a_margin_before_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(is_fresh(None, now));
        assert!(is_fresh(Some(now + Duration::from_secs(3600)), now));
        assert!(!is_fresh(Some(now + Duration::from_secs(60)), now));
        assert!(!is_fresh(Some(now - Duration::from_secs(1)), now));
    }

    #[derive(Debug, Default)]
    struct CountingProvider(Arc<AtomicUsize>);

    impl ProvideCredentials for CountingProvider {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.0.fetch_add(1, Ordering::SeqCst);
            let expiry = SystemTime::now() + Duration::from_secs(3600);
            future::ProvideCredentials::ready(Ok(aws_credential_types::Credentials::new(
                "AKID",
                "secret",
                None,
                Some(expiry),
                "test",
            )))
        }
    }

    #[tokio::test]
    async fn many_requests_fetch_credentials_once() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let cache = CachedCredentials::new(SharedCredentialsProvider::new(CountingProvider(fetches.clone())));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            tasks.push(tokio::spawn(async move { cache.signing_credentials().await.unwrap() }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().access_key_id, "AKID");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}
