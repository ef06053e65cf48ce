//! [`Files`]: the app-server machine's file system (`fs/*`) — read, write, list, metadata,
//! create, remove, copy.
//!
//! Paths are the server's, and must be absolute (the server has no base path): a relative one
//! is [`Error::InvalidOptions`] before any request. Contents travel as base64 on the wire and
//! as bytes here. The names follow `std::fs` (`create_dir` / `create_dir_all`, `remove` /
//! `remove_all`).

use super::base64;
use super::codex::Codex;
use crate::error::{Error, Result};
use crate::proto::methods::{
    FsCopy, FsCreateDirectory, FsGetMetadata, FsReadDirectory, FsReadFile, FsRemove, FsWriteFile,
};
use crate::proto::{
    FsCopyParams, FsCreateDirectoryParams, FsGetMetadataParams, FsGetMetadataResponse,
    FsReadDirectoryEntry, FsReadDirectoryParams, FsReadFileParams, FsRemoveParams,
    FsWriteFileParams,
};
use std::path::Path;

/// The file-system calls of a [`Codex`] ([`Codex::files`]), on the app-server's machine. A
/// borrowed handle: copy it freely.
///
/// Every call fails with [`Error::InvalidOptions`] for a relative path (nothing is sent), with
/// [`Error::Rpc`] when the server's file system refuses it (a missing file, a non-empty
/// directory for [`remove`](Self::remove), a missing parent for
/// [`create_dir`](Self::create_dir), no permission), and with [`Error::Closed`] /
/// [`Error::Timeout`] as any request does.
///
/// ```no_run
/// # async fn f(codex: codex_client::Codex) -> Result<(), codex_client::Error> {
/// let files = codex.files();
/// files.create_dir_all("/tmp/work/notes").await?;
/// files.write("/tmp/work/notes/todo.txt", b"ship it\n").await?;
/// files.copy("/tmp/work/notes", "/tmp/work/backup").await?;
/// for entry in files.read_dir("/tmp/work/backup").await? {
///     let meta = files.metadata(format!("/tmp/work/backup/{}", entry.file_name)).await?;
///     println!("{} modified at {} ms", entry.file_name, meta.modified_at_ms);
/// }
/// assert_eq!(files.read("/tmp/work/backup/todo.txt").await?, b"ship it\n");
/// files.remove_all("/tmp/work").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Files<'a> {
    codex: &'a Codex,
}

fn absolute(path: &Path) -> Result<String> {
    if !path.is_absolute() {
        return Err(Error::InvalidOptions(format!(
            "fs paths must be absolute (the server has no base path): {}",
            path.display()
        )));
    }
    Ok(path.to_string_lossy().into_owned())
}

impl<'a> Files<'a> {
    pub(crate) fn new(codex: &'a Codex) -> Self {
        Self { codex }
    }

    /// A file's contents (`fs/readFile`). [`Error::Protocol`] if the server's answer is not
    /// base64.
    pub async fn read(self, path: impl AsRef<Path>) -> Result<Vec<u8>> {
        let params = FsReadFileParams {
            path: absolute(path.as_ref())?,
        };
        let response = self.codex.request::<FsReadFile>(params).await?;
        base64::decode(&response.data_base64)
            .ok_or_else(|| Error::Protocol("fs/readFile answered with invalid base64".to_owned()))
    }

    /// Writes a file (`fs/writeFile`), creating or replacing it; its directory must exist.
    pub async fn write(self, path: impl AsRef<Path>, data: &[u8]) -> Result<()> {
        let params = FsWriteFileParams {
            data_base64: base64::encode(data),
            path: absolute(path.as_ref())?,
        };
        self.codex.request::<FsWriteFile>(params).await?;
        Ok(())
    }

    /// The entries of a directory (`fs/readDirectory`).
    pub async fn read_dir(self, path: impl AsRef<Path>) -> Result<Vec<FsReadDirectoryEntry>> {
        let params = FsReadDirectoryParams {
            path: absolute(path.as_ref())?,
        };
        Ok(self.codex.request::<FsReadDirectory>(params).await?.entries)
    }

    /// A path's metadata (`fs/getMetadata`): file or directory, times.
    pub async fn metadata(self, path: impl AsRef<Path>) -> Result<FsGetMetadataResponse> {
        let params = FsGetMetadataParams {
            path: absolute(path.as_ref())?,
        };
        self.codex.request::<FsGetMetadata>(params).await
    }

    /// Creates one directory (`fs/createDirectory`, `recursive: false`): its parent must exist.
    pub async fn create_dir(self, path: impl AsRef<Path>) -> Result<()> {
        self.create_directory(path.as_ref(), false).await
    }

    /// Creates a directory and every missing parent (`fs/createDirectory`, `recursive: true`).
    pub async fn create_dir_all(self, path: impl AsRef<Path>) -> Result<()> {
        self.create_directory(path.as_ref(), true).await
    }

    async fn create_directory(self, path: &Path, recursive: bool) -> Result<()> {
        let params = FsCreateDirectoryParams {
            path: absolute(path)?,
            recursive: Some(recursive),
        };
        self.codex.request::<FsCreateDirectory>(params).await?;
        Ok(())
    }

    /// Removes a file or an empty directory (`fs/remove`, `recursive: false`). A path that does
    /// not exist is not an error (the server's `force` default).
    pub async fn remove(self, path: impl AsRef<Path>) -> Result<()> {
        self.remove_path(path.as_ref(), false).await
    }

    /// Removes a file, or a directory with everything in it (`fs/remove`, `recursive: true`).
    /// A path that does not exist is not an error.
    pub async fn remove_all(self, path: impl AsRef<Path>) -> Result<()> {
        self.remove_path(path.as_ref(), true).await
    }

    async fn remove_path(self, path: &Path, recursive: bool) -> Result<()> {
        let params = FsRemoveParams {
            force: None,
            path: absolute(path)?,
            recursive: Some(recursive),
        };
        self.codex.request::<FsRemove>(params).await?;
        Ok(())
    }

    /// Copies a file, or a directory with everything in it, to `to` (`fs/copy`; `recursive` is
    /// sent, which the server ignores for a file).
    pub async fn copy(self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<()> {
        let params = FsCopyParams {
            destination_path: absolute(to.as_ref())?,
            recursive: Some(true),
            source_path: absolute(from.as_ref())?,
        };
        self.codex.request::<FsCopy>(params).await?;
        Ok(())
    }
}
