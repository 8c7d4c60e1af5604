//! Files being written before they take their place in the store.
//!
//! Each is created inside the store's directory (so taking its place is one rename on the same
//! file system), readable by the signer's user alone (mode 0600: it holds someone's upload),
//! and removed when dropped unless it took its place. So every way out of a request, an error,
//! a refusal, or a client that goes away and with it the request's future, leaves nothing
//! behind.

use std::path::Path;

use tempfile::TempPath;

/// A file being written; removed on drop unless [`Staged::place`]d.
#[derive(Debug)]
pub struct Staged {
    path: TempPath,
}

impl Staged {
    /// A new empty file in `dir`, and the file open for writing.
    pub fn create(dir: &Path) -> std::io::Result<(Staged, tokio::fs::File)> {
        // tempfile creates files with mode 0600 and a fresh random name, refusing to open
        // anything that already exists.
        let (file, path) = tempfile::Builder::new().prefix(".incoming-").tempfile_in(dir)?.into_parts();
        Ok((Staged { path }, tokio::fs::File::from_std(file)))
    }

    /// A new file in `dir` holding `contents`.
    pub async fn write(dir: &Path, contents: &[u8]) -> std::io::Result<Staged> {
        use tokio::io::AsyncWriteExt;
        let (staged, mut file) = Staged::create(dir)?;
        file.write_all(contents).await?;
        file.flush().await?;
        Ok(staged)
    }

    /// Moves the file to `target`, replacing what is there; on failure it is removed.
    pub async fn place(self, target: &Path) -> std::io::Result<()> {
        tokio::fs::rename(&self.path, target).await?;
        // Renamed away: there is nothing left for the drop to remove.
        let _ = self.path.keep();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_staged_file_is_private_and_gone_once_dropped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch();
        let staged = Staged::write(dir.path(), b"secret").await.unwrap();
        let [name] = names(dir.path()).try_into().unwrap();
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(staged);
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_placed_file_stays_where_it_was_put() {
        let dir = scratch();
        let staged = Staged::write(dir.path(), b"kept").await.unwrap();
        staged.place(&dir.path().join("object")).await.unwrap();
        assert_eq!(names(dir.path()), ["object"]);
        assert_eq!(std::fs::read(dir.path().join("object")).unwrap(), b"kept");
    }

    #[tokio::test]
    async fn a_file_that_cannot_be_placed_is_removed() {
        let dir = scratch();
        let staged = Staged::write(dir.path(), b"lost").await.unwrap();
        assert!(staged.place(&dir.path().join("missing").join("object")).await.is_err());
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }
}
