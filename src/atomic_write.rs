//! Replacing a file so that a reader, a crash, a full disk or Ctrl-C never sees half of it.
//!
//! The new content goes to a temporary file in the same directory (so the rename stays on one
//! file system), gets the original's permission bits and (where allowed) owner, is flushed to disk, and is
//! renamed over the original; then the directory is flushed too (best effort: not every file
//! system can), so the rename itself survives a power loss. If anything fails before the
//! rename, the temporary file is removed and the original is untouched.
//!
//! Before writing, [`write()`] refuses what a careful person would not overwrite: a read-only
//! file, a file this user may not write, a file that changed since it was read (an editor saved
//! it during the run), and a file that lies, through a symbolic link, outside the paths the run
//! was given ([`WriteScope`]). A symbolic link inside them is written through: its target gets
//! the new content and the link stays a link.
//!
//! Every write holds a shared lock from creating its temporary file until the rename;
//! [`pause_writes`] takes it exclusively, so a process that must exit at once (a second Ctrl-C)
//! can wait for the write in progress and never leave a temporary file behind.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockWriteGuard};

/// Held shared by every write in progress, exclusively by [`pause_writes`].
static WRITES: RwLock<()> = RwLock::new(());

/// Waits until no write is in progress and keeps new ones from starting while the guard lives.
pub fn pause_writes() -> RwLockWriteGuard<'static, ()> {
    WRITES.write().unwrap_or_else(PoisonError::into_inner)
}

/// Why a file was not replaced. The original is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the file is read-only")]
    ReadOnly,
    #[error("permission denied: this user may not write the file")]
    PermissionDenied,
    #[error("the file changed since hardport read it (edited during the run?); run hardport again")]
    Changed,
    #[error(
        "it leads, through a symbolic link, to {}, outside the paths being migrated; migrate that file itself to change it",
        target.display()
    )]
    OutsideScope { target: PathBuf },
    #[error("{action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: io::Error,
    },
}

/// The directories a run may write in: the directories it was given, and the directory of each
/// file it was given, all with their symbolic links resolved.
///
/// The walk itself never follows a link, so a path it finds leads outside only when a link is
/// named on the command line or a file is swapped for one during the run; either way the write
/// is refused rather than landing somewhere nobody asked to migrate.
#[derive(Debug, Clone, Default)]
pub struct WriteScope {
    roots: Vec<PathBuf>,
}

impl WriteScope {
    /// The scope of a run over `paths` (files or directories). A path that cannot be resolved
    /// adds nothing: nothing is found under it either.
    pub fn of(paths: &[PathBuf]) -> WriteScope {
        let roots = paths
            .iter()
            .filter_map(|path| {
                let dir = if path.is_dir() {
                    path.as_path()
                } else {
                    match path.parent() {
                        Some(parent) if !parent.as_os_str().is_empty() => parent,
                        _ => Path::new("."),
                    }
                };
                std::fs::canonicalize(dir).ok()
            })
            .collect();
        WriteScope { roots }
    }

    /// Whether the resolved path `target` lies under one of the roots.
    fn contains(&self, target: &Path) -> bool {
        self.roots.iter().any(|root| target.starts_with(root))
    }
}

/// Atomically replace the contents of the existing file at `path` with `contents`, keeping its
/// permissions and owner, provided it still holds `expected` and lies within `scope`.
pub fn write(
    path: &Path,
    expected: &[u8],
    contents: &[u8],
    scope: &WriteScope,
) -> Result<(), WriteError> {
    let io = |action| move |source| WriteError::Io { action, source };
    let target = std::fs::canonicalize(path).map_err(io("resolving the path"))?;
    if !scope.contains(&target) {
        return Err(WriteError::OutsideScope { target });
    }
    let metadata = std::fs::metadata(&target).map_err(io("reading the file's metadata"))?;
    if metadata.permissions().readonly() {
        return Err(WriteError::ReadOnly);
    }
    // Opening for writing (without truncating) asks the operating system the question the
    // rename would not: may this user change this file?
    std::fs::OpenOptions::new()
        .write(true)
        .open(&target)
        .map_err(|error| match error.kind() {
            io::ErrorKind::PermissionDenied => WriteError::PermissionDenied,
            _ => WriteError::Io {
                action: "opening the file for writing",
                source: error,
            },
        })?;
    let dir = match target.parent() {
        Some(parent) => parent,
        None => Path::new("."),
    };

    let _writing = WRITES.read().unwrap_or_else(PoisonError::into_inner);
    let current = std::fs::read(&target).map_err(io("reading the file again"))?;
    if current != expected {
        return Err(WriteError::Changed);
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".hardport-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io("creating a temporary file beside it"))?;
    temp.write_all(contents)
        .map_err(io("writing the temporary file"))?;
    keep_owner(temp.as_file(), &metadata);
    temp.as_file()
        .set_permissions(metadata.permissions())
        .map_err(io("setting the file mode"))?;
    temp.as_file()
        .sync_all()
        .map_err(io("flushing the temporary file to disk"))?;
    temp.persist(&target).map_err(|error| WriteError::Io {
        action: "renaming the temporary file over the file",
        source: error.error,
    })?;
    // Best effort: some file systems cannot flush a directory, and the new content is in
    // place either way.
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Give `file` the owner and group of the file it replaces, as far as this user may: the
/// temporary file belongs to whoever runs hardport, and a root run must not hand a user's file
/// to root. Only root may give a file away, so a user who may write someone else's file (a
/// group-writable one) ends up owning the new one, keeping its group if a member of it, as with
/// `sed -i` or a `git checkout`; the write is not refused for that.
#[cfg(unix)]
fn keep_owner(file: &std::fs::File, original: &std::fs::Metadata) {
    use std::os::unix::fs::{MetadataExt, fchown};
    let Ok(new) = file.metadata() else { return };
    let uid = (new.uid() != original.uid()).then_some(original.uid());
    let gid = (new.gid() != original.gid()).then_some(original.gid());
    if (uid.is_some() || gid.is_some()) && fchown(file, uid, gid).is_err() && gid.is_some() {
        let _ = fchown(file, None, gid);
    }
}

#[cfg(not(unix))]
fn keep_owner(_file: &std::fs::File, _original: &std::fs::Metadata) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        names.sort();
        names
    }

    fn scope_of(dir: &Path) -> WriteScope {
        WriteScope::of(&[dir.to_path_buf()])
    }

    #[test]
    fn replaces_contents_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        write(&path, b"old", b"new", &scope_of(dir.path())).expect("atomic write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        assert_eq!(names_in(dir.path()), ["Dockerfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_mode_bits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).expect("chmod");
        write(&path, b"old", b"new", &scope_of(dir.path())).expect("atomic write");
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o750);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_owner_when_root_replaces_another_users_file() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let runner = std::fs::metadata(&path).expect("metadata").uid();
        let other = if runner == 65534 { 65533 } else { 65534 };
        // Only root may give a file away; as anyone else the file stays the runner's and
        // there is nothing to keep.
        if std::os::unix::fs::chown(&path, Some(other), Some(other)).is_err() {
            eprintln!("skipped: not running as root, cannot make a file owned by another user");
            return;
        }
        write(&path, b"old", b"new", &scope_of(dir.path())).expect("atomic write");
        let metadata = std::fs::metadata(&path).expect("metadata");
        assert_eq!((metadata.uid(), metadata.gid()), (other, other));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_inside_the_scope_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("real.Dockerfile");
        let link = dir.path().join("Dockerfile");
        std::fs::write(&target, "old").expect("write");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        write(&link, b"old", b"new", &scope_of(dir.path())).expect("atomic write");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("metadata")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "new");
        assert_eq!(names_in(dir.path()), ["Dockerfile", "real.Dockerfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_leading_outside_the_scope_is_refused_naming_its_target() {
        let outside = tempfile::tempdir().expect("tempdir");
        let repo = tempfile::tempdir().expect("tempdir");
        let target = outside.path().join("Dockerfile");
        let link = repo.path().join("Dockerfile");
        std::fs::write(&target, "old").expect("write");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let error = write(&link, b"old", b"new", &scope_of(repo.path())).expect_err("outside");
        let resolved = std::fs::canonicalize(&target).expect("canonical");
        assert!(
            matches!(&error, WriteError::OutsideScope { target } if *target == resolved),
            "{error:?}"
        );
        assert!(error.to_string().contains(&resolved.display().to_string()));
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "old");
        assert_eq!(names_in(outside.path()), ["Dockerfile"]);
    }

    #[test]
    fn a_file_named_alone_is_in_the_scope_of_its_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let scope = WriteScope::of(std::slice::from_ref(&path));
        write(&path, b"old", b"new", &scope).expect("atomic write");
        let other = tempfile::tempdir().expect("tempdir");
        let elsewhere = other.path().join("Dockerfile");
        std::fs::write(&elsewhere, "old").expect("write");
        assert!(matches!(
            write(&elsewhere, b"old", b"new", &scope),
            Err(WriteError::OutsideScope { .. })
        ));
    }

    #[test]
    fn a_read_only_file_is_refused_and_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let mut permissions = std::fs::metadata(&path).expect("metadata").permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&path, permissions).expect("chmod");
        let error = write(&path, b"old", b"new", &scope_of(dir.path())).expect_err("read-only");
        assert!(matches!(error, WriteError::ReadOnly), "{error:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        assert_eq!(names_in(dir.path()), ["Dockerfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_this_user_may_not_write_is_refused_and_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        // Writable by the group and others, not by its owner (this user): not read-only, yet
        // this user may not write it.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o066)).expect("chmod");
        if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
            eprintln!("skipped: this user bypasses file permissions (root)");
            return;
        }
        let error = write(&path, b"old", b"new", &scope_of(dir.path())).expect_err("denied");
        assert!(matches!(error, WriteError::PermissionDenied), "{error:?}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
    }

    #[test]
    fn a_file_that_changed_since_it_was_read_is_refused_and_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "edited").expect("write");
        let error = write(&path, b"old", b"new", &scope_of(dir.path())).expect_err("changed");
        assert!(matches!(error, WriteError::Changed), "{error:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "edited");
    }

    #[test]
    fn writes_wait_while_paused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let scope = scope_of(dir.path());
        let paused = pause_writes();
        let writer = std::thread::spawn({
            let path = path.clone();
            move || write(&path, b"old", b"new", &scope).map_err(|error| error.to_string())
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        drop(paused);
        writer.join().expect("joins").expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
    }
}
