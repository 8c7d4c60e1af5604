//! Gzip for the no-JavaScript fallback (`AWS_IS_GZIPPED`): the signer compresses a spooled file
//! of a listed type, as the widget compresses in the browser, and the file goes up compressed
//! only when that made it smaller.
//!
//! Streaming, in a blocking thread: memory stays at the encoder's window and a buffer whatever
//! the file's size, and the compressed copy, a private temporary file of its own, is given up as
//! soon as it reaches the file's size, so it never takes more disk than the file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use flate2::write::GzEncoder;
use flate2::Compression;
use tempfile::TempPath;

/// A spooled file gzip-compressed: `size` bytes in a private (0600) temporary file, removed
/// when this is dropped.
pub(super) struct Compressed {
    pub file: TempPath,
    pub size: u64,
}

/// The `size` bytes at `path` gzip-compressed, if that makes them fewer; `None` otherwise.
pub(super) async fn compress_if_smaller(path: &Path, size: u64) -> anyhow::Result<Option<Compressed>> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || compress(&path, size)).await.context("the gzip task")?
}

fn compress(path: &Path, size: u64) -> anyhow::Result<Option<Compressed>> {
    let temp = tempfile::Builder::new().prefix("s3file-gzip-").tempfile().context("a file to gzip into")?;
    let (file, temp_path) = temp.into_parts();
    let mut source = File::open(path).context("open the spooled file")?;
    let below = Below { inner: BufWriter::new(file), written: 0, limit: size };
    let mut encoder = GzEncoder::new(below, Compression::default());
    let written = io::copy(&mut source, &mut encoder)
        .and_then(|_| encoder.try_finish())
        .and_then(|()| encoder.get_mut().inner.flush())
        .map(|()| encoder.get_ref().written);
    match written {
        Ok(size) => Ok(Some(Compressed { file: temp_path, size })),
        Err(error) if error.get_ref().is_some_and(|inner| inner.is::<NotSmaller>()) => Ok(None),
        Err(error) => Err(anyhow::Error::new(error).context("gzip the spooled file")),
    }
}

/// A writer that refuses to hold `limit` bytes or more: compressed bytes that many are no gain.
struct Below<W> {
    inner: W,
    written: u64,
    limit: u64,
}

/// Why [`Below`] refused a write.
#[derive(Debug)]
struct NotSmaller;

impl std::fmt::Display for NotSmaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the compressed file is not smaller than the file")
    }
}

impl std::error::Error for NotSmaller {}

impl<W: Write> Write for Below<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written.saturating_add(buf.len() as u64) >= self.limit {
            return Err(io::Error::other(NotSmaller));
        }
        let written = self.inner.write(buf)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn spooled(bytes: &[u8]) -> TempPath {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file.into_temp_path()
    }

    fn gunzip(path: &Path) -> Vec<u8> {
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(File::open(path).unwrap()).read_to_end(&mut bytes).unwrap();
        bytes
    }

    #[tokio::test]
    async fn text_is_compressed_and_comes_back_whole() {
        let text = b"body { color: red; }\n".repeat(10_000);
        let path = spooled(&text);
        let compressed = compress_if_smaller(&path, text.len() as u64).await.unwrap().unwrap();
        assert!(compressed.size < text.len() as u64 / 10, "{} bytes", compressed.size);
        assert_eq!(std::fs::metadata(&compressed.file).unwrap().len(), compressed.size);
        assert_eq!(gunzip(&compressed.file), text);
    }

    /// Bytes that do not compress, and files too small for gzip's own header and trailer.
    #[tokio::test]
    async fn what_compression_does_not_shrink_is_left_alone() {
        use sha2::Digest;
        let noise: Vec<u8> = (0..3000u32).flat_map(|n| sha2::Sha256::digest(n.to_be_bytes())).collect();
        for bytes in [&noise[..], b"a{}", b"", b"x"] {
            let path = spooled(bytes);
            let compressed = compress_if_smaller(&path, bytes.len() as u64).await.unwrap();
            assert!(compressed.is_none(), "{} bytes", bytes.len());
        }
    }

    #[test]
    fn the_writer_refuses_to_reach_its_limit() {
        let mut below = Below { inner: Vec::new(), written: 0, limit: 4 };
        below.write_all(b"abc").unwrap();
        let refused = below.write_all(b"d").unwrap_err();
        assert!(refused.get_ref().unwrap().is::<NotSmaller>());
        assert_eq!(below.inner, b"abc");
    }
}
