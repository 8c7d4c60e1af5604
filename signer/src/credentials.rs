//! One credential cache for the whole process, shared by the S3 client and the POST signer.
//!
//! The provider chain (env, profile, web identity, ECS, EC2 metadata, …) is aws-config's; this
//! module only makes sure it is asked once per credential lifetime, not once per request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use tokio::sync::{Mutex, RwLock};

use crate::sigv4;

/// Credentials closer than this to their expiry are no longer handed out: a request signed
/// with them could reach S3 after they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// Credentials closer than this to their expiry are refreshed in the background, while requests
/// keep using them.
const REFRESH_AHEAD: Duration = Duration::from_secs(10 * 60);

/// What to do with cached credentials at `now`.
#[derive(Debug, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Usable, but a background refresh should start.
    RefreshSoon,
    /// Not usable: fetch before answering.
    Expired,
}

pub fn freshness(expiry: Option<SystemTime>, now: SystemTime) -> Freshness {
    let Some(expiry) = expiry else { return Freshness::Fresh };
    match expiry.duration_since(now) {
        Ok(left) if left > REFRESH_AHEAD => Freshness::Fresh,
        Ok(left) if left > EXPIRY_MARGIN => Freshness::RefreshSoon,
        _ => Freshness::Expired,
    }
}

#[derive(Debug, Clone)]
pub struct CachedCredentials(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    provider: SharedCredentialsProvider,
    current: RwLock<Option<aws_credential_types::Credentials>>,
    /// Held while fetching, so concurrent requests wait for one fetch instead of each starting one.
    fetching: Arc<Mutex<()>>,
}

impl CachedCredentials {
    pub fn new(provider: SharedCredentialsProvider) -> Self {
        CachedCredentials(Arc::new(Inner {
            provider,
            current: RwLock::new(None),
            fetching: Arc::new(Mutex::new(())),
        }))
    }

    /// Cached credentials; a request waits for a fetch only when none are usable.
    pub async fn get(&self) -> Result<aws_credential_types::Credentials, CredentialsError> {
        if let Some((credentials, freshness)) = self.cached().await {
            if freshness == Freshness::RefreshSoon {
                self.refresh_in_background();
            }
            return Ok(credentials);
        }
        let _fetching = self.0.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some((credentials, _)) = self.cached().await {
            return Ok(credentials);
        }
        self.fetch().await
    }

    async fn fetch(&self) -> Result<aws_credential_types::Credentials, CredentialsError> {
        let fresh = self.0.provider.provide_credentials().await?;
        tracing::info!(expiry = ?fresh.expiry(), "AWS credentials resolved");
        *self.0.current.write().await = Some(fresh.clone());
        Ok(fresh)
    }

    /// Starts one refresh unless one is under way; a failure is logged, the cached credentials
    /// stay in use, and the next request tries again.
    fn refresh_in_background(&self) {
        let Ok(fetching) = self.0.fetching.clone().try_lock_owned() else { return };
        let this = self.clone();
        tokio::spawn(async move {
            let _fetching = fetching;
            if let Err(error) = this.fetch().await {
                tracing::warn!(%error, "refreshing AWS credentials failed; the current ones stay in use");
            }
        });
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

    async fn cached(&self) -> Option<(aws_credential_types::Credentials, Freshness)> {
        let current = self.0.current.read().await;
        let credentials = current.as_ref()?;
        match freshness(credentials.expiry(), SystemTime::now()) {
            Freshness::Expired => None,
            usable => Some((credentials.clone(), usable)),
        }
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
    fn freshness_refreshes_ahead_and_never_uses_nearly_expired_credentials() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let in_ = |seconds| Some(now + Duration::from_secs(seconds));
        assert_eq!(freshness(None, now), Freshness::Fresh);
        assert_eq!(freshness(in_(3600), now), Freshness::Fresh);
        assert_eq!(freshness(in_(300), now), Freshness::RefreshSoon);
        assert_eq!(freshness(in_(30), now), Freshness::Expired);
        assert_eq!(freshness(Some(now - Duration::from_secs(1)), now), Freshness::Expired);
    }

    #[derive(Debug)]
    struct CountingProvider {
        fetches: Arc<AtomicUsize>,
        lifetime: Duration,
        delay: Duration,
    }

    impl CountingProvider {
        fn new(fetches: Arc<AtomicUsize>, lifetime: Duration) -> Self {
            CountingProvider { fetches, lifetime, delay: Duration::ZERO }
        }
    }

    impl ProvideCredentials for CountingProvider {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let fetch = self.fetches.fetch_add(1, Ordering::SeqCst);
            let expiry = SystemTime::now() + self.lifetime;
            let delay = self.delay;
            future::ProvideCredentials::new(async move {
                tokio::time::sleep(delay).await;
                Ok(aws_credential_types::Credentials::new(
                    format!("AKID{fetch}"),
                    "secret",
                    None,
                    Some(expiry),
                    "test",
                ))
            })
        }
    }

    #[tokio::test]
    async fn credentials_about_to_expire_are_used_while_a_refresh_runs_behind() {
        let fetches = Arc::new(AtomicUsize::new(0));
        // Five minutes left on each set: inside the refresh window, outside the expiry margin.
        let mut provider = CountingProvider::new(fetches.clone(), Duration::from_secs(300));
        provider.delay = Duration::from_millis(200);
        let cache = CachedCredentials::new(SharedCredentialsProvider::new(provider));
        let first = cache.get().await.unwrap();
        assert_eq!(first.access_key_id(), "AKID0");
        let started = std::time::Instant::now();
        let second = cache.get().await.unwrap();
        assert!(started.elapsed() < Duration::from_millis(100), "the request did not wait for the refresh");
        assert_eq!(second.access_key_id(), "AKID0");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "exactly one background refresh");
        assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID1");
    }

    #[tokio::test]
    async fn many_requests_fetch_credentials_once() {
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut provider = CountingProvider::new(fetches.clone(), Duration::from_secs(3600));
        // Slow, like an instance metadata endpoint: the requests pile up behind one fetch.
        provider.delay = Duration::from_millis(100);
        let cache = CachedCredentials::new(SharedCredentialsProvider::new(provider));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            tasks.push(tokio::spawn(async move { cache.signing_credentials().await.unwrap() }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().access_key_id, "AKID0");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}
