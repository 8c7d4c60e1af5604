//! The application behind the signer in proxy mode (`--upstream URL`), and how long it may
//! take: an application that does not accept a connection within [`CONNECT_TIMEOUT`] or goes
//! silent for [`IDLE_TIMEOUT`] gets the request a 504 (502 when it cannot be reached at all).

use std::time::Duration;

/// How long the application has to accept a connection. It runs next to the signer, where a
/// connection takes milliseconds; longer means it is down or overloaded.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the exchange with the application may stand still: no byte of the request taken,
/// no answer, no byte of the response. A deadline on the whole exchange would cut long uploads
/// streamed through and long downloads that keep moving; this only cuts what has stopped.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Upstream {
    pub base: String,
    pub client: reqwest::Client,
    /// [`IDLE_TIMEOUT`], shorter in tests.
    pub idle_timeout: Duration,
}

impl Upstream {
    pub fn new(base: &str) -> anyhow::Result<Upstream> {
        Upstream::with_timeouts(base, CONNECT_TIMEOUT, IDLE_TIMEOUT)
    }

    pub fn with_timeouts(base: &str, connect: Duration, idle: Duration) -> anyhow::Result<Upstream> {
        // Not reqwest's `read_timeout`: that one starts when the request is sent and keeps
        // running while its body streams, so it would cut a long upload that is still moving.
        // The idle timeout is kept here instead, around the exchange (`send`).
        let client = reqwest::Client::builder()
            // The browser, not the signer, follows the application's redirects.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect)
            .build()?;
        Ok(Upstream { base: base.trim_end_matches('/').to_owned(), client, idle_timeout: idle })
    }
}
