//! A request body read within an allowance that the request earns as it goes.
//!
//! A parser reading a body buffers what it has not yet made sense of: a multipart parser holds
//! a preamble or a part's headers until their end arrives. Metering the body below the parser
//! bounds all of it at once: a chunk that would take the body past its allowance is refused,
//! so the parser fails instead of holding it. The handler raises the allowance when the
//! request has earned more (a POST whose policy verified may send the file it allows).

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

use axum::body::Body;
use futures_util::StreamExt;

/// How many bytes of one request body may be read; shared with the metered body.
#[derive(Debug, Clone)]
pub struct Allowance(Arc<Counts>);

#[derive(Debug)]
struct Counts {
    read: AtomicU64,
    limit: AtomicU64,
}

impl Allowance {
    pub fn new(limit: u64) -> Allowance {
        Allowance(Arc::new(Counts { read: AtomicU64::new(0), limit: AtomicU64::new(limit) }))
    }

    /// Counts `bytes` more read; false once that goes past the allowance.
    fn take(&self, bytes: usize) -> bool {
        let bytes = bytes as u64;
        let read = self.0.read.fetch_add(bytes, SeqCst).saturating_add(bytes);
        read <= self.0.limit.load(SeqCst)
    }

    /// Whether the body went past its allowance: a parser's failure is then this refusal.
    pub fn exceeded(&self) -> bool {
        self.0.read.load(SeqCst) > self.0.limit.load(SeqCst)
    }

    /// Allows `more` bytes beyond what has been read so far.
    pub fn allow_more(&self, more: u64) {
        self.0.limit.store(self.0.read.load(SeqCst).saturating_add(more), SeqCst);
    }

    /// `body`, failing with the first chunk that goes past the allowance.
    pub fn meter(&self, body: Body) -> Body {
        let allowance = self.clone();
        Body::from_stream(body.into_data_stream().map(move |chunk| {
            let chunk = chunk?;
            if allowance.take(chunk.len()) {
                Ok(chunk)
            } else {
                Err(axum::Error::new(std::io::Error::other("the request body is larger than it may be")))
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(body: Body) -> Result<usize, axum::Error> {
        let mut stream = body.into_data_stream();
        let mut read = 0;
        while let Some(chunk) = stream.next().await {
            read += chunk?.len();
        }
        Ok(read)
    }

    fn chunks(sizes: &[usize]) -> Body {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            sizes.iter().map(|size| Ok(vec![0; *size])).collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    #[tokio::test]
    async fn a_body_within_its_allowance_reads_whole() {
        let allowance = Allowance::new(10);
        assert_eq!(read_all(allowance.meter(chunks(&[4, 6]))).await.unwrap(), 10);
        assert!(!allowance.exceeded());
    }

    #[tokio::test]
    async fn the_chunk_that_goes_past_the_allowance_fails_the_body() {
        let allowance = Allowance::new(10);
        assert!(read_all(allowance.meter(chunks(&[4, 6, 1]))).await.is_err());
        assert!(allowance.exceeded());
    }

    #[tokio::test]
    async fn more_can_be_allowed_from_where_the_body_stands() {
        let allowance = Allowance::new(4);
        let mut stream = allowance.meter(chunks(&[4, 5, 1])).into_data_stream();
        assert_eq!(stream.next().await.unwrap().unwrap().len(), 4);
        allowance.allow_more(5);
        assert_eq!(stream.next().await.unwrap().unwrap().len(), 5);
        assert!(stream.next().await.unwrap().is_err());
        assert!(allowance.exceeded());
    }
}
